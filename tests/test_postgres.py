"""The store, the monitor, history, report and the dashboard against a real PostgreSQL server (a throwaway
cluster, tests/postgres_server.py), as against SQLite; and a server stopped for 30 s mid-stream, with nothing
lost."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from monitor_data import DAY, EXPECTED_TOTALS, SOURCE, ZONE, fill_known_day
from monitor_helpers import SENTENCES, ListSource, espeak, lay_out
from speech_emotion.cli import main
from speech_emotion.monitor.pipeline import Monitor
from speech_emotion.monitor.reactions import last_alert
from speech_emotion.recognizer import EmotionRecognizer
from speech_emotion.store import NewEvent, NewUtterance, Store
from speech_emotion.vad import VadConfig
from speech_emotion.web import create_app


@pytest.fixture
def store(postgres):
    """An empty database on the cluster for each test."""
    s = Store(postgres.url)
    with s.engine.begin() as connection:
        for table in ("events", "utterances", "recordings", "speaker_stats", "monitor_sessions"):
            connection.exec_driver_sql(f"DELETE FROM {table}")
    yield s
    s.close()


def test_the_store_keeps_its_promises_on_postgresql(store):
    start = datetime(2026, 12, 1, 8, tzinfo=UTC)
    cut = NewUtterance("room", start, start + timedelta(seconds=1), "sad", {"sad": 0.9}, "m@1")
    assert store.add_utterance(cut) and not store.add_utterance(cut)  # once per (source, start)
    whole = NewUtterance("room", start, start + timedelta(seconds=3), "sad", {"sad": 0.9}, "m@1")
    store.add_utterance(whole)  # a replay completes an utterance a stop had cut short
    [row] = store.utterances()
    assert row.end == whole.end and row.start.tzinfo is not None
    for i in range(5):
        store.add_event(NewEvent("room", "alert", f"alert {i}", time=start + timedelta(minutes=i)))
    assert [e.message for e in store.events(limit=2, newest_first=True)] == ["alert 4", "alert 3"]
    assert last_alert(store, "room") == start + timedelta(minutes=4)
    assert store.recording_start("room", "ab" * 32, start) == start
    assert store.recording_start("room", "ab" * 32, start + timedelta(hours=1)) == start
    store.save_speaker_stats("room", {"weight": 1.0})
    assert store.load_speaker_stats("room") == {"weight": 1.0}
    killed = store.start_session("room", "m@1")
    [(session, last_seen)] = store.close_abandoned_sessions("room")
    assert session == killed and last_seen <= datetime.now(UTC) and store.sources() == ["room"]


def test_history_report_and_dashboard_read_postgresql(store, postgres, tmp_path, capsys):
    fill_known_day(store)
    assert main(["history", "--db", postgres.url, "--json", "--since", "2026-03-10T00:00:00+01:00"]) == 0
    assert {row["source"] for row in json.loads(capsys.readouterr().out)} >= {SOURCE}
    assert (
        main(["report", "--db", postgres.url, "--date", DAY.isoformat(), "--tz", str(ZONE), "--out", str(tmp_path)])
        == 0
    )
    report = json.loads((tmp_path / DAY.isoformat() / SOURCE / "report.json").read_text())
    assert report["totals"] == EXPECTED_TOTALS
    with TestClient(create_app(postgres.url, tz=str(ZONE)), base_url="http://127.0.0.1") as client:
        body = client.get("/api/summary/hourly", params={"source": SOURCE, "date": DAY.isoformat()}).json()
        assert body["totals"] == pytest.approx(EXPECTED_TOTALS)


def test_a_server_stopped_for_30_s_mid_stream_loses_nothing(store, postgres, tiny_bundle):
    audio, _ = lay_out([espeak(s) for s in SENTENCES], [2.0] * 4)
    segmenter = VadConfig().segmenter()
    expected = len(segmenter.push(audio, 0.0) + segmenter.flush())
    monitor = Monitor(ListSource(audio, realtime=True), EmotionRecognizer.load(tiny_bundle), store)
    runner = threading.Thread(target=monitor.run, args=(threading.Event(),))
    runner.start()
    time.sleep(3)
    postgres.stop()
    try:
        time.sleep(30)  # the stream goes on; what the monitor hears waits in its queue
    finally:
        postgres.start()
    runner.join(120)
    assert not runner.is_alive()
    stored = store.utterances(source_id="test")
    assert len(stored) == expected and monitor.metrics.stored == expected and monitor.metrics.failed == 0
    assert len({u.start for u in stored}) == expected  # each once
