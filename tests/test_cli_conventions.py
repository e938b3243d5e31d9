"""The command line keeps its conventions: one --db default everywhere and plain paths as SQLite, report's
day and folder by default, history's newest 50, --version."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from importlib import metadata

import pytest

from speech_emotion.cli import build_parser, main
from speech_emotion.cli.db_options import default_db_url
from speech_emotion.reports.timezones import local_zone
from synthetic_corpora import write_clip

DATABASE_COMMANDS = ("monitor", "history", "calibrate", "report", "serve", "simulate-day")


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out == f"speech-emotion {metadata.version('speech-emotion')}\n"


@pytest.mark.parametrize("command", DATABASE_COMMANDS)
def test_every_command_has_the_same_database_default_and_takes_a_plain_path(command, tmp_path):
    parser = build_parser(command)
    required = {"monitor": ["--mic"], "calibrate": ["--source", "x", "f.wav"]}.get(command, [])
    assert parser.parse_args([command, *required]).db == default_db_url()
    args = parser.parse_args([command, *required, "--db", str(tmp_path / "care.db")])
    assert args.db == f"sqlite:///{tmp_path / 'care.db'}"
    assert (
        parser.parse_args([command, *required, "--db", "postgresql+psycopg://u@h/d"]).db == "postgresql+psycopg://u@h/d"
    )


def test_report_writes_yesterday_beside_the_database_by_default(tmp_path, capsys):
    db = tmp_path / "care.db"
    yesterday = datetime.now(local_zone()).date() - timedelta(days=1)
    assert main(["simulate-day", "--db", str(db), "--date", yesterday.isoformat()]) == 0
    assert main(["report", "--db", str(db)]) == 0
    [line] = capsys.readouterr().out.splitlines()[-1:]
    assert line.split("\t")[1] == str(tmp_path / "reports" / yesterday.isoformat() / "simulated-room" / "report.html")


def test_history_shows_the_newest_fifty_unless_told(tmp_path, capsys):
    db = tmp_path / "care.db"
    assert main(["simulate-day", "--db", str(db), "--date", "2026-01-05"]) == 0
    capsys.readouterr()
    assert main(["history", "--db", str(db), "--json"]) == 0
    captured = capsys.readouterr()
    newest = json.loads(captured.out)
    assert len(newest) == 50 and "the newest 50 utterances; --limit N or --all for more" in captured.err
    assert main(["history", "--db", str(db), "--json", "--all"]) == 0
    every = json.loads(capsys.readouterr().out)
    assert len(every) > 50 and every[-50:] == newest
    with pytest.raises(SystemExit):
        main(["history", "--db", str(db), "--all", "--limit", "3"])
    assert "not allowed with argument" in capsys.readouterr().err


def test_predict_jsonl_prints_each_file_as_it_is_done_and_no_bar_off_a_terminal(tiny_bundle, tmp_path, capsys):
    clips = [str(write_clip(tmp_path / f"{n}.wav", 1.0, seed=n)) for n in range(3)]
    assert main(["predict", "--jsonl", "--model", str(tiny_bundle), *clips]) == 0
    captured = capsys.readouterr()
    lines = [json.loads(line) for line in captured.out.splitlines()]
    assert [line["file"] for line in lines] == clips and all("label" in line for line in lines)
    assert "file/s" not in captured.err  # tqdm only on a terminal
    with pytest.raises(SystemExit):
        main(["predict", "--json", "--jsonl", *clips])
    assert "not allowed with argument" in capsys.readouterr().err
