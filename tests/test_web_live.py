"""The dashboard under a real uvicorn server: the server-sent event stream, raw paths no client would
normalise, and a clean stop of ``serve`` while a page is streaming."""

from __future__ import annotations

import http.client
import json
import re
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import httpx
import pytest

from live_server import serving
from monitor_data import SOURCE, fill_known_day, utterance
from speech_emotion.store import NewEvent, Store
from speech_emotion.web import create_app


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("live")
    url = f"sqlite:///{root / 'monitor.db'}"
    store = Store(url)
    fill_known_day(store)
    (root / "reports").mkdir()
    (root / "reports" / "inside.html").write_text("inside")
    (root / "secret.txt").write_text("outside the report folder")
    with serving(create_app(url, reports_dir=root / "reports", poll_interval_s=0.1)) as base:
        yield base, store
    store.close()


def read_events(lines, count: int) -> list[dict]:
    """The next ``count`` server-sent events (comments and keep-alives skipped)."""
    events, current = [], {}
    for line in lines:
        if not line:
            if current:
                events.append(current)
                current = {}
                if len(events) == count:
                    return events
        elif not line.startswith(":"):
            key, _, value = line.partition(": ")
            current[key] = value
    raise AssertionError(f"stream ended after {events}")


def test_stream_sends_new_rows_and_resumes(site):
    base, store = site
    now = datetime.now(UTC).replace(microsecond=0)
    with httpx.stream("GET", f"{base}/api/stream", timeout=10) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = response.iter_lines()
        (ready,) = read_events(lines, 1)
        assert ready["event"] == "ready"
        store.add_utterance(utterance(SOURCE, now, 3, "happy"))
        store.add_event(NewEvent(SOURCE, "alert", "live alert", time=now + timedelta(seconds=3)))
        got = read_events(lines, 2)
    assert [e["event"] for e in got] == ["utterance", "event"]
    said = json.loads(got[0]["data"])
    assert (said["source"], said["label"], said["duration_s"]) == (SOURCE, "happy", 3.0)
    assert json.loads(got[1]["data"])["message"] == "live alert"
    # a browser that reconnects with the last id it saw gets what it missed, and nothing twice
    with httpx.stream("GET", f"{base}/api/stream", headers={"Last-Event-ID": ready["id"]}, timeout=10) as response:
        lines = response.iter_lines()
        again = read_events(lines, 3)
    assert [e["event"] for e in again] == ["ready", "utterance", "event"]
    assert json.loads(again[1]["data"])["id"] == said["id"]


@pytest.mark.parametrize(
    "raw", ["/reports/../secret.txt", "/reports/../../../../etc/passwd", "/reports/./../secret.txt"]
)
def test_raw_dot_segments_cannot_escape(site, raw):
    base, _ = site
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    connection.request("GET", raw)  # sent as is: http.client does not remove dot segments
    response = connection.getresponse()
    body = response.read().decode()
    connection.close()
    assert response.status == 404 and "outside the report folder" not in body and "root:" not in body
    inside = httpx.get(f"{base}/reports/inside.html", timeout=10)
    assert inside.status_code == 200 and inside.text == "inside"


@pytest.mark.parametrize("signals", [1, 2], ids=["ctrl-c", "ctrl-c twice"])
def test_serve_stops_cleanly_with_a_page_streaming(tmp_path, signals):
    """An open dashboard holds a stream open: a stop ends it rather than waiting it out and cancelling it."""
    db = f"sqlite:///{tmp_path / 'monitor.db'}"
    Store(db).close()
    command = [sys.executable, "-m", "speech_emotion", "serve", "--db", db, "--port", "0"]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    try:
        started = process.stderr.readline()
        base = re.search(r"dashboard on (http://\S+?)/?$", started.strip())
        assert base, started + process.stderr.read()
        with httpx.stream("GET", f"{base.group(1)}/api/stream", timeout=30) as response:
            lines = response.iter_lines()
            assert read_events(lines, 1)[0]["event"] == "ready"
            for _ in range(signals):
                process.send_signal(signal.SIGINT)
            assert list(lines) == []  # the server ended the stream: no more events, no broken connection
        assert process.wait(30) == 0
        errors = process.stderr.read()
        assert "dashboard stopped" in errors
        assert "Traceback" not in errors and "timeout graceful shutdown exceeded" not in errors, errors
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.mark.parametrize("resume", ["9" * 30 + ":1", "1:" + "9" * 5000, "-1:3", "abc", "99999999:99999999"])
def test_a_huge_or_bad_last_event_id_resumes_from_the_newest_rows(site, resume):
    """A cursor beyond the database's integers, or ahead of its newest rows, starts at the newest rows: the
    stream stays up and shows what comes next."""
    base, store = site
    with httpx.stream("GET", f"{base}/api/stream", headers={"Last-Event-ID": resume}, timeout=10) as response:
        lines = response.iter_lines()
        (ready,) = read_events(lines, 1)
        newest = json.loads(ready["data"])["cursor"]
        u, e = (int(x) for x in newest.split(":"))
        assert newest == ready["id"] and u <= 10**6 and e <= 10**6
        store.add_utterance(utterance(SOURCE, datetime.now(UTC), 2.0, "happy"))  # a new start: not a duplicate
        (row,) = read_events(lines, 1)
        assert row["event"] == "utterance" and int(row["id"].split(":")[0]) == u + 1
