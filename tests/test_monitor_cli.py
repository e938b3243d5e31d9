"""The history command, the monitor command's errors, and clean shutdown of a monitor on SIGTERM/SIGINT."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from sqlalchemy import select

from monitor_helpers import SENTENCES, espeak, lay_out
from speech_emotion.audio import SAMPLE_RATE
from speech_emotion.cli import main
from speech_emotion.cli.history import parse_time
from speech_emotion.monitor.logs import JsonFormatter
from speech_emotion.store import MonitorSession, NewUtterance, Store, shown_url
from speech_emotion.vad import VadConfig

REPO = Path(__file__).resolve().parents[1]
START = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


@pytest.fixture
def db(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'monitor.db'}"
    store = Store(url)
    for i, label in enumerate(["neutral", "sad", "happy"]):
        start = START + timedelta(minutes=10 * i)
        probabilities = {k: (0.7 if k == label else 0.1) for k in ("angry", "happy", "sad", "neutral")}
        store.add_utterance(NewUtterance("nao", start, start + timedelta(seconds=2.5), label, probabilities, "m@1"))
    store.close()
    return url


def test_history_json_lists_every_utterance_with_zoned_times(db, capsys):
    assert main(["history", "--db", db, "--json"]) == 0
    items = json.loads(capsys.readouterr().out)
    assert [i["label"] for i in items] == ["neutral", "sad", "happy"]
    first = items[0]
    assert first["start"] == "2025-03-03T09:00:00+00:00" and first["end"] == "2025-03-03T09:00:02.500000+00:00"
    assert first["source"] == "nao" and first["probabilities"]["neutral"] == 0.7
    assert all(datetime.fromisoformat(i["start"]).tzinfo is not None for i in items)


def test_history_since_until_and_limit(db, capsys):
    assert main(["history", "--db", db, "--json", "--since", "2025-03-03T09:05:00+00:00"]) == 0
    assert [i["label"] for i in json.loads(capsys.readouterr().out)] == ["sad", "happy"]
    assert main(["history", "--db", db, "--json", "--until", "2025-03-03T09:15:00Z", "--limit", "1"]) == 0
    assert [i["label"] for i in json.loads(capsys.readouterr().out)] == ["sad"]


def test_history_table(db, capsys):
    assert main(["history", "--db", db]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("start (") and len(lines) == 4
    local = START.astimezone().strftime("%Y-%m-%d %H:%M:%S")
    assert lines[1].startswith(local) and "neutral" in lines[1] and "0.70" in lines[1] and lines[1].endswith("nao")


@pytest.mark.parametrize(
    "args, message",
    [
        (["--since", "yesterday"], "error: --since 'yesterday': not an ISO 8601 time"),
        (["--until", "2025-13-01"], "error: --until '2025-13-01': not an ISO 8601 time"),
    ],
)
def test_history_bad_times_are_one_line_errors(db, capsys, args, message):
    assert main(["history", "--db", db, *args]) == 1
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1


def test_history_refuses_a_database_that_is_not_there(tmp_path, capsys):
    missing = tmp_path / "typo.db"
    assert main(["history", "--db", f"sqlite:///{missing}"]) == 1
    assert "no such database file" in capsys.readouterr().err and not missing.exists()


def test_ages_are_counted_back_from_now():
    now = datetime(2025, 3, 3, 12, 0, tzinfo=UTC)
    assert parse_time("90m", "--since", now) == now - timedelta(minutes=90)
    assert parse_time("2d", "--since", now) == now - timedelta(days=2)
    assert parse_time("2025-03-03T08:00", "--since").tzinfo is not None  # local time when no zone is given


def test_monitor_reports_a_missing_model_or_bad_config_in_one_line(tmp_path, capsys):
    db = f"sqlite:///{tmp_path / 'm.db'}"
    assert main(["monitor", "--file", "x.flac", "--db", db, "--model", str(tmp_path / "none.pt")]) == 1
    assert "none.pt: no such model bundle file" in capsys.readouterr().err
    bad = tmp_path / "bad.toml"
    bad.write_text("[vad]\nengine = 'fast'\n")
    assert main(["monitor", "--file", "x.flac", "--db", db, "--config", str(bad)]) == 1
    assert capsys.readouterr().err == f"error: {bad}: vad.engine must be one of webrtc, silero, not 'fast'\n"


SERVICE = """
import sys, soundfile as sf
sys.path.insert(0, {tests!r})
from monitor_helpers import ListSource
from speech_emotion.cli.monitor import serve
from speech_emotion.monitor.pipeline import Monitor
from speech_emotion.store import Store
from speech_emotion.recognizer import EmotionRecognizer
import logging
logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
audio, _ = sf.read({audio!r}, dtype="float32")
store = Store({db!r})
monitor = Monitor(ListSource(audio, realtime=True, endless=True), EmotionRecognizer.load({bundle!r}), store)
serve(monitor)
store.close()
"""


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_the_monitor_cleanly(tmp_path, tiny_bundle, signum):
    audio, _ = lay_out([espeak(SENTENCES[1])], [0.3])
    wav, db = tmp_path / "speech.wav", f"sqlite:///{tmp_path / 'monitor.db'}"
    sf.write(wav, audio, SAMPLE_RATE)
    script = SERVICE.format(tests=str(REPO / "tests"), audio=str(wav), db=db, bundle=str(tiny_bundle))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")])}
    process = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script)], stderr=subprocess.PIPE, text=True, env=env
    )
    lines = []
    for line in process.stderr:  # wait for the first stored utterance: the monitor is in full flight
        lines.append(line)
        if " utterance " in f" {line.split(': ', 1)[-1]}":
            break
    assert process.poll() is None, "".join(lines)
    process.send_signal(signum)
    _, rest = process.communicate(timeout=60)
    log = "".join(lines) + rest
    assert process.returncode == 0, log
    assert f"stopping signal={signal.Signals(signum).name}" in log and "monitor stopped" in log
    store = Store(db)
    with store.session() as s:
        [session] = s.scalars(select(MonitorSession)).all()
    assert session.ended_at is not None
    assert [e.kind for e in store.events()] == ["metrics"] and len(store.utterances()) >= 1
    assert np.isfinite(store.events()[0].data["audio_s"])


def test_json_logs_carry_the_event_and_its_fields():
    record = logging.LogRecord("speech_emotion.monitor.pipeline", logging.INFO, __file__, 1, "%s", ("x",), None)
    record.event, record.fields = "utterance", {"source": "nao", "p": 0.81, "label": "sad"}
    line = json.loads(JsonFormatter().format(record))
    assert line["event"] == "utterance" and line["label"] == "sad" and line["p"] == 0.81
    assert line["level"] == "info" and datetime.fromisoformat(line["time"]).tzinfo is not None


@pytest.mark.parametrize("command", ["history", "report", "serve", "calibrate"])
def test_a_database_password_is_never_printed(command, tmp_path, capsys):
    """A PostgreSQL URL that cannot be opened (no server on port 1): the error names the URL, password hidden."""
    url = "postgresql+psycopg://nurse:s3cret-passw0rd@127.0.0.1:1/monitor"
    argv = {
        "calibrate": [str(tmp_path / "x.wav"), "--source=room"],
        "report": ["--date=2026-12-01", "--out", str(tmp_path)],
    }.get(command, [])
    assert main([command, "--db", url, *argv]) != 0
    err = capsys.readouterr().err
    assert "s3cret-passw0rd" not in err and "nurse:***@127.0.0.1:1/monitor" in err and err.count("\n") == 1
    assert shown_url("postgresql://u:p@h/db") == "postgresql://u:***@h/db" and shown_url("not a url") == "not a url"
    assert shown_url("weird://u:p@h:x:y") == "weird://u:***@h:x:y"


@pytest.mark.parametrize(
    "argv",
    [
        ["history", "--since", "0001-01-01T00:00:00+01:00"],
        ["history", "--until", "9999-12-31T23:59:59+00:00"],
        ["history", "--since", "99999999999d"],
        ["report", "--date", "9999-12-31"],
        ["report", "--date", "0001-01-01"],
    ],
)
def test_out_of_range_times_are_one_line_errors(db, tmp_path, capsys, argv):
    assert main([*argv, "--db", db, *(["--out", str(tmp_path)] if argv[0] == "report" else [])]) != 0
    err = capsys.readouterr().err
    assert err.startswith("error: --") and err.count("\n") == 1 and "Traceback" not in err


def test_a_recording_replayed_after_a_touch_or_as_a_copy_stores_nothing_twice(tmp_path, tiny_bundle):
    """Its capture times come from the first time its content was heard, not from its modification time."""
    audio, _ = lay_out([espeak(s) for s in SENTENCES[:2]], [1.0, 1.0])
    recording = tmp_path / "a" / "rec.wav"
    recording.parent.mkdir()
    sf.write(recording, audio, SAMPLE_RATE)
    db = f"sqlite:///{tmp_path / 'monitor.db'}"
    run = ["monitor", "--db", db, "--model", str(tiny_bundle), "--speed", "0"]
    assert main([*run, "--file", str(recording)]) == 0
    first = [(u.start, u.end) for u in Store(db).utterances()]
    assert len(first) >= 2
    os.utime(recording, (recording.stat().st_atime + 3600, recording.stat().st_mtime + 3600))  # touch
    copy = tmp_path / "b" / "rec.wav"
    copy.parent.mkdir()
    copy.write_bytes(recording.read_bytes())
    for replay in (recording, copy):
        assert main([*run, "--file", str(replay)]) == 0
        assert [(u.start, u.end) for u in Store(db).utterances()] == first
    other = tmp_path / "c" / "rec.wav"  # other bytes under the same name: another recording
    other.parent.mkdir()
    sf.write(other, audio[::-1].copy(), SAMPLE_RATE)
    os.utime(other, (0, recording.stat().st_mtime + 7200))
    assert main([*run, "--file", str(other)]) == 0
    assert len(Store(db).utterances()) > len(first)


def test_the_spool_lies_beside_a_sqlite_file_else_in_the_state_folder(tmp_path, monkeypatch):
    from speech_emotion.cli.db_options import default_spool

    assert default_spool(f"sqlite:///{tmp_path / 'monitor.db'}") == tmp_path / "monitor.db.spool.jsonl"
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    spool = default_spool("postgresql+psycopg://nurse:s3cret@db.example/monitor")
    assert spool.parent == tmp_path / "state" / "speech-emotion" and "s3cret" not in str(spool)
    assert spool == default_spool("postgresql+psycopg://nurse:other@db.example/monitor")  # one database, one spool


def test_three_sigkills_during_one_recording_store_every_utterance_exactly_once(tmp_path, tiny_bundle):
    """The real command on a recording played at twice real time, killed with SIGKILL each time it has stored
    two new utterances and started again (a replay from the top, as a restarted service does), three times,
    then run to the end: every utterance of the recording is stored, each once, every session closed."""
    audio, _ = lay_out([espeak(s) for s in SENTENCES + SENTENCES], [1.0] * 8)
    wav, db = tmp_path / "speech.wav", f"sqlite:///{tmp_path / 'monitor.db'}"
    sf.write(wav, audio, SAMPLE_RATE)
    segmenter = VadConfig().segmenter()
    expected = len(segmenter.push(audio, 0.0) + segmenter.flush())
    command = [sys.executable, "-m", "speech_emotion", "monitor", "--file", str(wav), "--db", db]
    command += ["--model", str(tiny_bundle), "--speed", "2"]
    for _ in range(3):
        process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
        stored = 0  # new ones: a replayed utterance already stored is not logged as one
        for line in process.stderr:
            stored += " utterance " in f" {line.split(': ', 1)[-1]}"
            if stored == 2:
                break
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        assert process.returncode == -signal.SIGKILL
    assert expected >= 8 and subprocess.run(command, capture_output=True, timeout=300).returncode == 0
    store = Store(db)
    try:
        starts = [u.start for u in store.utterances()]
        assert len(starts) == expected and len(set(starts)) == expected
        assert all(s.ended_at is not None for s in _sessions(store)) and len(_sessions(store)) == 4
        assert len(store.events(kinds=["downtime"])) == 3
    finally:
        store.close()


def _sessions(store: Store) -> list[MonitorSession]:
    with store.session() as s:
        return list(s.scalars(select(MonitorSession)))
