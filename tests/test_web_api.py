"""The dashboard's JSON API through the real app (FastAPI TestClient over a real SQLite store)."""

from __future__ import annotations

import argparse
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event as sql_event

from monitor_data import DAY, EXPECTED_HOURS, EXPECTED_TOTALS, OTHER, SOURCE, ZONE, fill_known_day, local
from speech_emotion.cli import main
from speech_emotion.reports import generate_daily_reports
from speech_emotion.store import NewEvent, Store
from speech_emotion.web import create_app
from speech_emotion.web.security import COOKIE, SecurityError, check_bind, safe_report_path

TOKEN = "s3cret-token-for-tests-0123"
LOCAL = "http://127.0.0.1:8000"  # without a token the dashboard answers only to a loopback Host


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("web")
    url = f"sqlite:///{root / 'monitor.db'}"
    store = Store(url)
    fill_known_day(store)
    generate_daily_reports(store, DAY, root / "reports", tz=ZONE)
    store.close()
    (root / "secret.txt").write_text("outside the report folder")
    (root / "reports" / "escape.txt").symlink_to(root / "secret.txt")
    return url, root


@pytest.fixture(scope="module")
def client(data):
    url, root = data
    with TestClient(create_app(url, reports_dir=root / "reports", tz="Europe/Berlin"), base_url=LOCAL) as c:
        yield c


@pytest.fixture(scope="module")
def guarded(data):
    url, root = data
    with TestClient(create_app(url, reports_dir=root / "reports", token=TOKEN, tz="Europe/Berlin")) as c:
        yield c


def test_sources_with_their_latest_utterance(client):
    sources = client.get("/api/sources").json()
    assert [s["id"] for s in sources] == [SOURCE, OTHER]
    last = sources[0]["last_utterance"]
    assert last["start"] == local(DAY, 23, 59, 50).isoformat().replace("+01:00", "Z").replace("T23", "T22")
    assert (last["label"], last["confidence"], last["duration_s"]) == ("neutral", 0.7, 20.0)
    assert [(s["state"], s["state_since"]) for s in sources] == [("never", None)] * 2  # no monitor ran: simulated
    assert [s["name"] for s in sources] == [SOURCE, OTHER]  # no names given: the ids


def test_sources_go_by_the_names_caregivers_give_them(tmp_path):
    from speech_emotion.cli.serve import source_name

    assert source_name("nao://10.0.0.5:9559=Room 12") == ("nao://10.0.0.5:9559", "Room 12")
    assert source_name("a=b=Mrs B's room ") == ("a=b", "Mrs B's room")
    with pytest.raises(argparse.ArgumentTypeError, match="is not ID=NAME"):
        source_name("Room 12")
    url = f"sqlite:///{tmp_path / 'm.db'}"
    store = Store(url)
    store.start_session("nao://10.0.0.5:9559", "m@1")
    store.close()
    app = create_app(url, names={"nao://10.0.0.5:9559": "Room 12"})
    with TestClient(app, base_url=LOCAL) as client:
        assert [s["name"] for s in client.get("/api/sources").json()] == ["Room 12"]


def test_each_sources_state_is_its_monitors_not_the_pages(tmp_path):
    """Listening from a session's start, disconnected from the robot's loss to its return, stopped at the end."""
    store = Store(f"sqlite:///{tmp_path / 'm.db'}")
    try:
        assert store.monitor_state("room") == ("never", None)
        session = store.start_session("room", "model@1")
        state, since = store.monitor_state("room")
        assert state == "listening" and since is not None
        lost = since + timedelta(minutes=5)
        store.add_event(NewEvent("room", "disconnected", "robot gone", time=lost, session_id=session))
        assert store.monitor_state("room") == ("disconnected", lost)
        back = lost + timedelta(minutes=2)
        store.add_event(NewEvent("room", "reconnected", "robot back", time=back, session_id=session))
        assert store.monitor_state("room") == ("listening", back)
        store.end_session(session)
        state, ended = store.monitor_state("room")
        assert state == "stopped" and ended >= since
    finally:
        store.close()


def test_hourly_summary_numbers(client):
    body = client.get("/api/summary/hourly", params={"source": SOURCE, "date": DAY.isoformat()}).json()
    assert body["timezone"] == "Europe/Berlin" and len(body["hours"]) == 24
    got = {k: {label: s for label, s in h["seconds"].items() if s} for k, h in enumerate(body["hours"])}
    assert {k: v for k, v in got.items() if v} == EXPECTED_HOURS
    assert body["totals"] == EXPECTED_TOTALS
    assert [a["message"] for a in body["alerts"]] == ["Mostly sad-sounding speech"]
    assert body["day_start"] == "2026-03-10T00:00:00+01:00"
    in_utc = client.get("/api/summary/hourly", params={"source": SOURCE, "date": DAY.isoformat(), "tz": "UTC"})
    assert in_utc.json()["hours"][9]["seconds"]["sad"] == 55.0  # 10:00 Berlin is 09:00 UTC


def test_utterances_filters_and_order(client):
    since, until = local(DAY, 8, 0).isoformat(), local(DAY, 10, 30).isoformat()
    rows = client.get("/api/utterances", params={"source": SOURCE, "since": since, "until": until}).json()
    assert [r["label"] for r in rows] == ["sad", "sad", "happy", "neutral"]
    oldest = client.get("/api/utterances", params={"since": since, "until": until, "order": "oldest", "limit": 2})
    assert [r["label"] for r in oldest.json()] == ["neutral", "happy"]


def test_events(client):
    alerts = client.get("/api/events", params={"kind": "alert", "since": local(DAY, 0, 0).isoformat()}).json()
    assert [(a["source"], a["message"]) for a in alerts] == [
        (OTHER, "another source's alert"),
        (SOURCE, "Mostly sad-sounding speech"),
    ]
    assert len(client.get("/api/events", params={"source": SOURCE}).json()) == 3


@pytest.mark.parametrize(
    ("path", "params", "status", "field"),
    [
        ("/api/summary/hourly", {"source": SOURCE, "date": "2026-13-01"}, 422, "date"),
        ("/api/summary/hourly", {"source": SOURCE, "date": "yesterday"}, 422, "date"),
        ("/api/summary/hourly", {"date": "2026-03-10"}, 422, "source"),
        ("/api/summary/hourly", {"source": "nobody"}, 404, "source 'nobody' not found"),
        ("/api/summary/hourly", {"source": SOURCE, "tz": "Mars/Olympus"}, 422, "tz Mars/Olympus: unknown time zone"),
        ("/api/utterances", {"limit": 0}, 422, "limit"),
        ("/api/utterances", {"limit": 5001}, 422, "limit"),
        ("/api/utterances", {"limit": "many"}, 422, "limit"),
        ("/api/utterances", {"source": "nobody"}, 404, "known sources: room-1, room-2"),
        ("/api/utterances", {"since": "2026-03-10T08:00:00"}, 422, "since"),  # no UTC offset
        ("/api/utterances", {"since": "2026-03-10T09:00:00Z", "until": "2026-03-10T08:00:00Z"}, 422, "until"),
        ("/api/utterances", {"order": "random"}, 422, "order"),
        ("/api/events", {"limit": 100000}, 422, "limit"),
        ("/api/stream", {"source": "nobody"}, 404, "not found"),
    ],
)
def test_bad_input_is_a_clear_4xx(client, path, params, status, field):
    response = client.get(path, params=params)
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    if isinstance(detail, list):  # pydantic validation: the parameter is named in loc
        assert any(d["loc"][-1] == field for d in detail), detail
    else:
        assert field in detail


def test_openapi_schema_documents_typed_responses(client):
    schema = client.get("/openapi.json").json()
    assert {
        "/api/sources",
        "/api/utterances",
        "/api/summary/hourly",
        "/api/events",
        "/api/reports",
        "/api/stream",
    } <= set(schema["paths"])
    ok = schema["paths"]["/api/summary/hourly"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/HourlySummary"}
    assert "text/event-stream" in schema["paths"]["/api/stream"]["get"]["responses"]["200"]["content"]
    assert client.get("/docs").status_code == client.get("/redoc").status_code == 404  # CDN pages: blank offline


def test_report_archive_and_downloads(client):
    reports = client.get("/api/reports").json()
    assert [(r["date"], r["source"]) for r in reports] == [(DAY.isoformat(), SOURCE), (DAY.isoformat(), OTHER)]
    report = next(r for r in reports if r["source"] == SOURCE)
    page = client.get(report["html_url"])
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    png = next(f for f in report["files"] if f["name"] == "emotions_per_hour.png")
    download = client.get(png["url"], params={"download": 1})
    assert download.content[:8] == b"\x89PNG\r\n\x1a\n" and len(download.content) == png["size_bytes"]
    assert download.headers["content-disposition"].startswith("attachment")


@pytest.mark.parametrize(
    "path",
    [
        "/reports/..%2Fsecret.txt",
        "/reports/%2e%2e/secret.txt",
        "/reports/%2E%2E%2Fsecret.txt",
        "/reports/2026-03-10/..%2F..%2Fsecret.txt",
        "/reports/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/reports/%252e%252e%252fsecret.txt",
        "/reports//etc/passwd",
        "/reports/%2Fetc%2Fpasswd",
        "/reports/..%5Csecret.txt",
        "/reports/escape.txt",  # a symlink inside the folder pointing out of it
        "/reports/secret.txt%00.png",
        "/reports/",
    ],
)
def test_downloads_cannot_escape_the_report_folder(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert "outside the report folder" not in response.text and "root:" not in response.text


def test_safe_report_path(data):
    _, root = data
    reports = root / "reports"
    assert (
        safe_report_path(reports, f"{DAY}/{SOURCE}/report.html") == (reports / f"{DAY}/{SOURCE}/report.html").resolve()
    )
    for bad in [
        "../secret.txt",
        "../../etc/passwd",
        "/etc/passwd",
        "escape.txt",
        f"{DAY}/../../secret.txt",
        "a\x00b",
        "",
    ]:
        assert safe_report_path(reports, bad) is None, bad


def test_token_required_everywhere_when_configured(guarded):
    for path in [
        "/",
        "/api/sources",
        "/api/stream",
        "/openapi.json",
        "/static/dashboard.js",
        f"/reports/{DAY}/index.html",
    ]:
        refused = guarded.get(path)
        assert refused.status_code == 401, path
        assert refused.headers["www-authenticate"] == "Bearer"
    assert guarded.get("/api/sources", headers={"Authorization": "Bearer wrong-token-0123456789"}).status_code == 401
    assert guarded.get("/api/sources", params={"token": TOKEN[:-1]}).status_code == 401
    assert guarded.get("/api/sources", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_query_token_becomes_an_httponly_cookie(data):
    url, root = data
    with TestClient(create_app(url, reports_dir=root / "reports", token=TOKEN)) as browser:
        first = browser.get("/", params={"token": TOKEN})
        assert first.status_code == 200
        assert "HttpOnly" in first.headers["set-cookie"] and "SameSite=Strict" in first.headers["set-cookie"]
        assert browser.cookies.get(COOKIE) == TOKEN
        assert browser.get("/api/info").json()["token_required"] is True  # the cookie alone now suffices


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost", "127.0.0.53"])
def test_loopback_needs_no_token(host):
    check_bind(host, None)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "example.org"])
def test_other_addresses_need_a_token(host):
    with pytest.raises(SecurityError, match=f"^--host {host}: not a loopback address, so a token is required"):
        check_bind(host, None)
    check_bind(host, TOKEN)


def test_weak_tokens_are_refused():
    for weak in ["short", "has spaces in it 0123456789", "semi;colon-0123456789"]:
        with pytest.raises(SecurityError, match=r"^--token: use at least 16 characters"):
            check_bind("0.0.0.0", weak)
    with pytest.raises(SecurityError):
        create_app("sqlite://", token="short")


def test_serve_refuses_a_public_address_without_a_token(data, capsys, monkeypatch):
    monkeypatch.delenv("SPEECH_EMOTION_TOKEN", raising=False)
    assert main(["serve", "--db", data[0], "--host", "0.0.0.0", "--port", "0"]) == 1
    err = capsys.readouterr().err
    assert (
        err
        == "error: --host 0.0.0.0: not a loopback address, so a token is required (--token or $SPEECH_EMOTION_TOKEN)\n"
    )


def test_serve_reports_a_busy_port_in_one_line(data, capsys):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["serve", "--db", data[0], "--port", str(port)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: --port {port}: cannot listen on 127.0.0.1 (") and err.count("\n") == 1


def test_times_round_trip_as_utc(client):
    row = client.get("/api/utterances", params={"source": OTHER}).json()[0]
    assert row["start"] == (local(DAY, 12, 0) - timedelta(hours=1)).replace(tzinfo=None).isoformat() + "Z"


@pytest.mark.parametrize("host", ["127.0.0.1:8000", "localhost", "LOCALHOST:80", "[::1]:8000", "[::1]"])
def test_without_a_token_loopback_names_are_served(client, host):
    assert client.get("/api/info", headers={"host": host}).status_code == 200


@pytest.mark.parametrize("host", ["attacker.example:8000", "evil.example", "127.0.0.1.evil.example", "", "[::2]:80"])
def test_without_a_token_another_host_name_is_refused_against_dns_rebinding(client, host):
    """A page on attacker.example whose name is rebound to 127.0.0.1 still sends Host: attacker.example."""
    for path in ("/", "/api/info", "/api/utterances", "/api/stream"):
        response = client.get(path, headers={"host": host})
        assert response.status_code == 421 and "without a token" in response.json()["detail"]


def test_with_a_token_any_host_name_is_served_to_the_token(guarded):
    response = guarded.get(
        "/api/info", headers={"host": "dashboard.care-home.example", "authorization": f"Bearer {TOKEN}"}
    )
    assert response.status_code == 200


def test_only_files_that_reports_write_are_served(data, client):
    _, root = data
    (root / "reports" / "notes.txt").write_text("private")
    (root / "reports" / "monitor.db").write_text("private")
    assert client.get("/reports/notes.txt").status_code == 404
    assert client.get("/reports/monitor.db").status_code == 404
    served = next(p for p in (root / "reports").rglob("*.html"))
    assert client.get(f"/reports/{served.relative_to(root / 'reports')}").status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/api/utterances?since=0001-01-01T00:00:00%2B01:00",
        "/api/utterances?until=9999-12-31T23:59:59%2B00:00",
        "/api/events?since=0001-01-01T00:00:00%2B01:00",
        f"/api/summary/hourly?source={SOURCE}&date=9999-12-31",
        f"/api/summary/hourly?source={SOURCE}&date=0001-01-01",
    ],
)
def test_out_of_range_times_are_a_422_not_a_crash(client, path):
    response = client.get(path)
    assert response.status_code == 422 and "must lie from 1970-01-01 to 9998-12-31" in response.json()["detail"]


def test_events_are_ordered_and_limited_by_the_database(client):
    """/api/events?limit=1 over half a million events read one row, not all of them (7 s and 1 GB before)."""
    engine = client.app.state.store.engine
    statements = []

    def record(connection, cursor, statement, *rest):
        statements.append(statement)

    sql_event.listen(engine, "before_cursor_execute", record)
    try:
        newest = client.get("/api/events", params={"limit": 1}).json()
        oldest = client.get("/api/events", params={"limit": 1, "order": "oldest"}).json()
    finally:
        sql_event.remove(engine, "before_cursor_execute", record)
    every = client.get("/api/events", params={"limit": 1000}).json()
    assert len(every) > 1 and newest == every[:1] and oldest == every[-1:]
    queries = [q for q in statements if "FROM events" in q]
    assert queries and all("LIMIT" in q and "ORDER BY" in q for q in queries)
