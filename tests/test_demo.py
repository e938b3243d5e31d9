"""The README's main job, ``speech-emotion demo``: simulated robot -> monitor -> SQLite -> report -> dashboard."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import datetime

import pytest

from speech_emotion.cli import main
from speech_emotion.store import Store

pytest.importorskip("speech_emotion.robot.simulator", reason="needs the robot side (qi)")


def test_demo_monitors_the_recording_reacts_and_writes_the_report(tmp_path, capsys):
    began = time.time()
    assert main(["demo", "--out", str(tmp_path / "demo"), "--speed", "8", "--no-serve"]) == 0
    out = capsys.readouterr().out

    store = Store(f"sqlite:///{tmp_path / 'demo' / 'monitor.db'}")
    try:
        rows = store.utterances()
    finally:
        store.close()
    # the recording holds 15 sentences; the VAD may split a long one at a pause
    assert 15 <= len(rows) <= 25
    assert {row.source_id for row in rows} == {"demo-nao"}
    # capture times: the recording's 80 s, laid out to end when the streaming ended (not in the future)
    starts = [row.start.timestamp() for row in rows]
    assert starts == sorted(starts)
    assert began - 81 <= starts[0] and rows[-1].end.timestamp() <= time.time()
    assert rows[-1].end.timestamp() - starts[0] > 60
    # one LED change per utterance (no quiet hours in the demo configuration), reported from the robot's calls
    assert f"the robot changed its LEDs {len(rows)} times" in out
    assert out.count("demo-nao") >= len(rows)  # the history table
    day = datetime.now().astimezone().date().isoformat()
    reports = list((tmp_path / "demo" / "reports" / day).glob("*/report.html"))
    assert len(reports) == 1 and "demo-nao" in str(reports[0].parent.name)
    # no raw audio is kept by default
    assert not [p for p in (tmp_path / "demo").rglob("*") if p.suffix in {".wav", ".flac"}]


def test_demo_ends_with_the_dashboard_serving_its_results(tmp_path):
    command = [sys.executable, "-m", "speech_emotion", "demo", "--out", str(tmp_path), "--speed", "16", "--port", "0"]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    try:
        url = _dashboard_url(process)
        with urllib.request.urlopen(f"{url}/api/sources", timeout=10) as response:
            sources = json.load(response)
        with urllib.request.urlopen(f"{url}/api/reports", timeout=10) as response:
            reports = json.load(response)
        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.status == 200
        assert [s["id"] for s in sources] == ["demo-nao"]
        assert len(reports) == 1
        process.send_signal(signal.SIGINT)
        assert process.wait(30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _dashboard_url(process: subprocess.Popen, timeout_s: float = 180) -> str:
    """The address the demo's dashboard logs once it listens (the monitor's log lines come first)."""
    deadline = time.monotonic() + timeout_s
    for line in process.stderr:
        found = re.search(r"dashboard on (http://\S+?)/?$", line.strip())
        if found:
            return found.group(1)
        assert time.monotonic() < deadline, "the demo's dashboard did not start in time"
    raise AssertionError(f"the demo exited with {process.wait()} before serving the dashboard")
