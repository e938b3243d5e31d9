"""Bad input and bad surroundings: one line naming the file or field and the reason, a non-zero exit, no
traceback, and nothing created or lost on the way."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
import soundfile as sf

from speech_emotion.cli import main
from speech_emotion.store import NewUtterance, Store
from synthetic_corpora import make_casia


def one_line(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


@pytest.fixture
def truncated(tmp_path):
    """A WAV whose header promises 3 s and whose data stops after 1.5 s (a copy cut short)."""
    whole = tmp_path / "whole.wav"
    sf.write(whole, np.zeros(48000, np.float32), 16000, subtype="PCM_16")
    data = whole.read_bytes()
    cut = tmp_path / "cut.wav"
    cut.write_bytes(data[: len(data) // 2])
    return cut


def test_a_truncated_wav_is_named_as_truncated(truncated, tiny_bundle, capsys):
    assert main(["predict", str(truncated), "--model", str(tiny_bundle)]) == 1
    assert (
        one_line(capsys) == f"error: {truncated}: truncated: the header promises 48000 frames, the file holds 23989\n"
    )


def test_the_monitor_refuses_an_unreadable_file_or_an_empty_robot_before_it_starts(
    truncated, tiny_bundle, tmp_path, capsys
):
    db = tmp_path / "monitor.db"
    text = tmp_path / "notes.wav"
    text.write_text("not audio")
    for source in (["--file", str(text)], ["--file", str(truncated)], ["--robot", ""], ["--robot", "  "]):
        assert main(["monitor", *source, "--db", f"sqlite:///{db}", "--model", str(tiny_bundle)]) == 1
        err = one_line(capsys)
        assert (
            err.startswith(f"error: {text}: not a readable audio file") or "truncated" in err or "--robot: empty" in err
        )
    assert not db.exists()


@pytest.mark.parametrize("value", ["nan", "inf", "-1", "0", "ten"])
def test_max_seconds_must_be_a_positive_finite_number(value, tiny_bundle, tmp_path, capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["predict", str(tmp_path / "a.wav"), "--max-seconds", value])
    assert stopped.value.code == 2 and "argument --max-seconds:" in capsys.readouterr().err


def test_evaluate_fails_first_where_its_json_or_cache_cannot_be_made(tiny_bundle, tmp_path, capsys):
    casia = make_casia(tmp_path / "casia", per_emotion=1, seconds=0.5)
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    argv = ["evaluate", f"--model={tiny_bundle}", f"--corpus=casia={casia}", "--split=all", "--workers=1"]
    assert main([*argv, f"--cache={tmp_path / 'cache'}", f"--json={blocker / 'scores.json'}"]) == 1
    assert one_line(capsys).startswith(f"error: --json {blocker / 'scores.json'}: cannot make its folder")
    assert not (tmp_path / "cache").exists()  # refused before any work
    assert main([*argv, f"--cache={blocker / 'cache'}"]) == 1
    assert one_line(capsys).startswith(f"error: {blocker / 'cache'}: cannot keep features here")


def test_evaluate_says_in_its_status_that_it_skipped_files(tiny_bundle, tmp_path, capsys):
    casia = make_casia(tmp_path / "casia", per_emotion=2, seconds=0.5)
    next(casia.rglob("*.wav")).write_text("damaged")
    argv = ["evaluate", f"--model={tiny_bundle}", f"--corpus=casia={casia}", "--split=all", "--workers=1"]
    assert main([*argv, f"--cache={tmp_path / 'cache'}", "--normalization=target-all"]) == 1
    assert "1 unreadable files skipped" in capsys.readouterr().out


@pytest.mark.parametrize("command", ["report", "serve", "history"])
def test_commands_that_read_a_monitors_database_do_not_make_an_empty_one(command, tmp_path, capsys):
    db = tmp_path / "typo.db"
    argv = {"report": ["--date=2026-12-01", f"--out={tmp_path}"], "serve": ["--port=0"]}.get(command, [])
    assert main([command, "--db", f"sqlite:///{db}", *argv]) == 1
    assert one_line(capsys) == f"error: --db sqlite:///{db}: no such database file (has a monitor run with it?)\n"
    assert not db.exists()


def test_output_cut_short_by_its_reader_is_one_line(tmp_path):
    """`speech-emotion history | head -1`: the reader closes the pipe after a line."""
    db = f"sqlite:///{tmp_path / 'monitor.db'}"
    store = Store(db)
    for i in range(3000):
        start = datetime(2026, 12, 1, 8, tzinfo=UTC) + timedelta(seconds=3 * i)
        store.add_utterance(NewUtterance("room", start, start, "sad", {"sad": 1.0}, "m@1"))
    store.close()
    command = [sys.executable, "-m", "speech_emotion", "history", "--all", "--db", db]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
        process.stdout.readline()
        process.stdout.close()  # as head does once it has its line
        err = process.stderr.read()
        process.wait(timeout=60)
    assert process.returncode == 1 and "Traceback" not in err
    assert err == "error: standard output: closed by the reader; the rest was not printed\n"
