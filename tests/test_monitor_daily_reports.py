"""The monitor's own daily reports: at the configured hour, caught up at a start, never rewritten needlessly,
failures stored as events while the monitor goes on; the ``[reports]`` configuration and ``--reports``."""

from __future__ import annotations

import json
import threading
from datetime import UTC, date, datetime, timedelta
from importlib import resources

import numpy as np
import pytest
import soundfile as sf

from monitor_data import DAY, OTHER, SOURCE, ZONE, fill_known_day, local, utterance
from monitor_helpers import ListSource
from robot_helpers import wait_until
from speech_emotion.audio import SAMPLE_RATE, load_audio
from speech_emotion.cli import main
from speech_emotion.cli.db_options import default_reports_folder
from speech_emotion.monitor.config import ConfigError, load_config
from speech_emotion.monitor.daily_reports import DailyReporter, ReportConfig
from speech_emotion.monitor.pipeline import Monitor
from speech_emotion.recognizer import EmotionRecognizer
from speech_emotion.reports.daily import REPORT_JSON, generate_daily_reports, report_folder
from speech_emotion.store import Store

EXPECTED_TOTALS = {"angry": 12.0, "happy": 5.0, "sad": 90.0, "neutral": 30.0}


class FakeClock:
    """Time that moves only when the reporter waits, by as long as it waits; at ``until`` the wait says stop."""

    def __init__(self, start: datetime, until: datetime | None = None):
        self.now = start.astimezone(UTC)
        self.until = (until or start).astimezone(UTC)

    def __call__(self) -> datetime:
        return self.now

    def wait(self, seconds: float) -> bool:
        self.now = min(self.now + timedelta(seconds=seconds), self.until)
        return self.now >= self.until


@pytest.fixture
def store(tmp_path):
    s = Store(f"sqlite:///{tmp_path / 'monitor.db'}")
    fill_known_day(s)
    yield s
    s.close()


def reporter(store, folder, events, clock, source=SOURCE, **config) -> DailyReporter:
    return DailyReporter(ReportConfig(timezone=ZONE.key, **config), store, source, folder, events.append, clock)


def numbers(folder, day: date, source: str = SOURCE) -> dict:
    return json.loads((report_folder(folder, day, source) / REPORT_JSON).read_text())


def test_yesterdays_report_is_written_when_the_clock_reaches_the_hour(store, tmp_path):
    events, folder = [], tmp_path / "reports"
    clock = FakeClock(local(DAY + timedelta(days=1), 6, 0), until=local(DAY + timedelta(days=2), 8, 0))
    reporter(store, folder, events, clock, at="07:00", catch_up_days=1).run(clock.wait)

    assert [(e.kind, e.source_id, e.data["date"], e.time) for e in events] == [
        ("report", SOURCE, "2026-03-09", local(date(2026, 3, 11), 6, 0)),  # at the start: 7:00 on 10 March had passed
        ("report", SOURCE, "2026-03-10", local(date(2026, 3, 11), 7, 0)),
        ("report", SOURCE, "2026-03-11", local(date(2026, 3, 12), 7, 0)),
    ]
    report = numbers(folder, DAY)
    assert (report["source"], report["date"], report["timezone"]) == (SOURCE, "2026-03-10", "Europe/Berlin")
    assert report["totals"] == EXPECTED_TOTALS
    assert sorted(p.name for p in (folder / "2026-03-10").iterdir()) == ["index.html", SOURCE]  # not the other source


def test_a_start_catches_up_missing_days_and_leaves_finished_reports_alone(store, tmp_path):
    folder = tmp_path / "reports"
    generate_daily_reports(store, DAY, folder, tz=ZONE, sources=[SOURCE])  # written after the day: finished
    finished = report_folder(folder, DAY, SOURCE) / REPORT_JSON
    kept = finished.read_bytes()
    before = DAY - timedelta(days=1)  # written during its own day, by `speech-emotion report`: incomplete
    generate_daily_reports(store, before, folder, tz=ZONE, sources=[SOURCE])
    early = numbers(folder, before) | {"generated_at": local(before, 15, 0).isoformat()}
    (report_folder(folder, before, SOURCE) / REPORT_JSON).write_text(json.dumps(early))

    events = []
    clock = FakeClock(local(date(2026, 3, 13), 9, 0))  # down since before the report of the 10th was due
    reporter(store, folder, events, clock, catch_up_days=4).run(clock.wait)

    assert [(e.kind, e.data["date"]) for e in events] == [
        ("report", "2026-03-09"),
        ("report", "2026-03-11"),
        ("report", "2026-03-12"),
    ]
    assert finished.read_bytes() == kept
    assert numbers(folder, before)["generated_at"] != early["generated_at"]
    assert not (folder / "2026-03-08").exists()  # beyond the four days caught up
    assert not any(numbers(folder, date(2026, 3, 12))["totals"].values())  # a day without speech is reported too


def test_days_before_a_sources_first_utterance_are_not_reported(store, tmp_path):
    events, folder = [], tmp_path / "reports"
    clock = FakeClock(local(date(2026, 3, 12), 8, 0))
    reporter(store, folder, events, clock, source=OTHER).run(clock.wait)
    assert [(e.kind, e.data["date"]) for e in events] == [("report", "2026-03-10"), ("report", "2026-03-11")]
    reporter(store, folder, events, clock, source="room-9").run(clock.wait)  # nothing stored yet
    assert len(events) == 2 and not (folder / "2026-03-09").exists()


def test_a_failed_report_is_an_event_and_the_next_pass_writes_it(store, tmp_path):
    events, folder = [], tmp_path / "reports"
    folder.write_text("a file where the report folder should be")
    daily = reporter(store, folder, events, FakeClock(local(DAY, 0, 0)), catch_up_days=1)
    now = local(DAY + timedelta(days=1), 8, 0)
    daily.write_missing(now)
    [failed] = events
    assert (failed.kind, failed.source_id, failed.data["date"]) == ("report_error", SOURCE, "2026-03-10")
    assert failed.time == now
    assert failed.message.startswith(f"{folder}/2026-03-10") and failed.message.endswith("(Not a directory)")
    assert "\n" not in failed.message

    folder.unlink()
    daily.write_missing(now + timedelta(hours=1))  # the next pass (a restart, or the next day's with catch-up)
    assert [(e.kind, e.data["date"]) for e in events[1:]] == [("report", "2026-03-10")]
    assert numbers(folder, DAY)["totals"] == EXPECTED_TOTALS


def test_a_failing_report_is_stored_in_the_monitors_session_and_the_monitor_goes_on(store, tmp_path, tiny_bundle):
    with resources.as_file(resources.files("speech_emotion") / "data" / "demo.flac") as demo:
        audio = load_audio(demo)[: 20 * SAMPLE_RATE]
    monitor = Monitor(ListSource(audio, source_id=SOURCE, endless=True), EmotionRecognizer.load(tiny_bundle), store)
    stop = threading.Event()
    running = threading.Thread(target=monitor.run, args=(stop,))
    running.start()
    try:
        wait_until(lambda: monitor.session_id is not None, 20, "the monitor session")
        blocked = tmp_path / "reports"
        blocked.write_text("not a folder")
        clock = FakeClock(local(DAY + timedelta(days=1), 8, 0))
        with DailyReporter(ReportConfig(), store, SOURCE, blocked, monitor.record_event, clock):
            wait_until(lambda: store.events(kinds=["report_error"]), 20, "the report_error event")
        stored = monitor.metrics.stored
        wait_until(lambda: monitor.metrics.stored > stored, 20, "an utterance stored after the failure")
        assert running.is_alive()
    finally:
        stop.set()
        running.join()
    [failed] = store.events(kinds=["report_error"])
    assert failed.session_id == monitor.session_id and failed.source_id == SOURCE
    assert "cannot write the report (Not a directory)" in failed.message
    assert [e.kind for e in store.events(source_id=SOURCE, kinds=["metrics"])] == ["metrics"]


def test_the_monitor_command_writes_missing_reports_where_reports_says(tmp_path, tiny_bundle):
    db, wav, out = f"sqlite:///{tmp_path / 'monitor.db'}", tmp_path / "quiet.wav", tmp_path / "out"
    sf.write(wav, np.zeros(SAMPLE_RATE, np.float32), SAMPLE_RATE)
    day = datetime.now(UTC).date() - timedelta(days=2)  # with reports due at 00:00, it and yesterday are due
    store = Store(db)
    store.add_utterance(utterance("file:quiet.wav", datetime.combine(day, datetime.min.time(), UTC), 30, "sad"))
    store.close()
    config = tmp_path / "monitor.toml"
    config.write_text(f'[reports]\nat = "00:00"\ntimezone = "UTC"\nfolder = "{tmp_path / "ignored"}"\n')

    args = ["monitor", "--file", str(wav), "--db", db, "--model", str(tiny_bundle), "--config", str(config)]
    assert main([*args, "--reports", str(out)]) == 0
    totals = numbers(out, day, "file:quiet.wav")["totals"]
    assert totals["sad"] == sum(totals.values()) == 30.0
    assert not (tmp_path / "ignored").exists()
    store = Store(db)
    written = [e.data["date"] for e in store.events(kinds=["report"])]
    assert written == [day.isoformat(), (day + timedelta(days=1)).isoformat()]  # the quiet day after it too
    store.close()


def test_the_default_report_folder_is_beside_the_database_or_in_the_data_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert default_reports_folder(f"sqlite:///{tmp_path / 'db' / 'monitor.db'}") == tmp_path / "db" / "reports"
    assert default_reports_folder("sqlite:///monitor.db").as_posix() == "reports"
    for url in ("sqlite://", "postgresql+psycopg://care@db.example/monitor"):
        assert default_reports_folder(url) == tmp_path / "data" / "speech-emotion" / "reports"


@pytest.mark.parametrize(
    "text, message",
    [
        ("at = '7am'", "reports.at: '7am' is not a time of day HH:MM"),
        ("at = '24:00'", "reports.at: '24:00' is not a time of day HH:MM"),
        ("timezone = 'Mars/Olympus'", "reports.timezone Mars/Olympus: unknown time zone"),
        ("catch_up_days = 0", "reports.catch_up_days must be at least 1, not 0"),
        ("enabled = 'yes'", "reports.enabled: expected true or false, got 'yes'"),
        ("folder = 3", "reports.folder: expected a string, got 3"),
        ("hour = 7", "reports.hour: unknown key"),
    ],
)
def test_report_settings_mistakes_are_one_line_errors(tmp_path, text, message):
    path = tmp_path / "monitor.toml"
    path.write_text(f"[reports]\n{text}\n")
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert str(error.value).startswith(f"{path}: {message}") and "\n" not in str(error.value)


def test_report_settings_are_read():
    config = ReportConfig(at="21:30", timezone="Asia/Tokyo")
    schedule = config.schedule()
    assert (schedule.hour, schedule.minute, schedule.zone.key) == (21, 30, "Asia/Tokyo")
