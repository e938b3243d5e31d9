"""The command table: each command imports only what it needs, so the training tools run on a machine with
just the training stack (a GPU box) and the robot simulator and dashboard start without PyTorch; and the
developer scripts in scripts/ report bad input in one line, as the commands do."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from speech_emotion.cli import COMMANDS
from synthetic_corpora import make_folder

MONITOR_STACK = ("qi", "sqlalchemy", "fastapi", "matplotlib")
EVERYTHING_HEAVY = ("torch", *MONITOR_STACK)

# Runs the CLI with some packages unimportable, as on a machine where they are not installed.
WITHOUT = """
import sys
blocked = sys.argv[1].split(",")
sys.modules.update(dict.fromkeys(blocked))  # a None entry makes `import name` raise ImportError
from speech_emotion.cli import main
code = main(sys.argv[2:])
assert not any(name in sys.modules and sys.modules[name] is not None for name in blocked)
sys.exit(code)
"""


def run_without(blocked: tuple[str, ...], *argv: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-c", WITHOUT, ",".join(blocked), *argv]
    return subprocess.run(command, capture_output=True, text=True, timeout=300)


def test_the_command_list_needs_none_of_the_heavy_packages():
    done = run_without(EVERYTHING_HEAVY, "--help")
    assert done.returncode == 0, done.stderr
    assert all(name in done.stdout for name in COMMANDS)


@pytest.mark.parametrize(
    "command, blocked",
    [
        ("nao-sim", ("torch", "sqlalchemy", "fastapi", "matplotlib")),
        ("serve", ("torch", "qi")),
        ("report", ("torch", "qi", "fastapi")),
        ("history", ("torch", "qi", "fastapi", "matplotlib")),
        ("predict", MONITOR_STACK),
        ("tune-offset", MONITOR_STACK),
        ("loco", MONITOR_STACK),
    ],
)
def test_each_command_starts_without_the_packages_it_does_not_use(command, blocked):
    done = run_without(blocked, command, "--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"usage: speech-emotion {command}")


def test_training_and_evaluation_run_with_only_the_training_stack(tmp_path):
    corpus = make_folder(tmp_path / "folder", speakers=("alice", "bob", "carol", "dave", "erin"), seconds=0.5)
    common = [f"--corpus=folder={corpus}", f"--cache={tmp_path / 'cache'}", "--workers=1"]
    run = tmp_path / "run"
    train = ["train", *common, "--config=small", "--steps=2", "--eval-every=1", "--batch-size=8", f"--out={run}"]
    done = run_without(MONITOR_STACK, *train, "--threads=1")
    assert done.returncode == 0, done.stderr
    assert "best validation UA" in done.stdout
    done = run_without(MONITOR_STACK, "evaluate", f"--model={run / 'best-ua.pt'}", *common, "--split=valid")
    assert done.returncode == 0, done.stderr
    assert "confusion (rows true, columns predicted)" in done.stdout


def test_an_unknown_command_is_refused_with_the_list_of_commands():
    done = run_without(EVERYTHING_HEAVY, "trian", "--steps=3")
    assert done.returncode == 2
    assert "invalid choice: 'trian'" in done.stderr and "'train'" in done.stderr


SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


@pytest.mark.parametrize(
    "script, argv, message",
    [
        ("ship_models.py", ["{missing}", "--name=test"], "{missing}/best-ua.pt: no such model bundle file"),
        ("make_demo_audio.py", ["--out={missing}/demo.flac"], "espeak-ng: not installed"),
    ],
)
def test_the_developer_scripts_report_bad_input_in_one_line(tmp_path, script, argv, message):
    missing = tmp_path / "missing"
    env = {**os.environ, "PATH": str(tmp_path)}  # no espeak-ng on it
    command = [sys.executable, str(SCRIPTS / script), *(a.format(missing=missing) for a in argv)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 1
    assert done.stderr.startswith(f"error: {message.format(missing=missing)}") and done.stderr.count("\n") == 1
    assert not missing.exists()
