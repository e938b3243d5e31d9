"""The lab scripts of experiments/: they still run on synthetic data and report bad input in one line.

Not part of the product's suite; run with ``.venv/bin/python -m pytest experiments/tests``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from synthetic_corpora import make_folder

EXPERIMENTS = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("script", ["speaker_statistics.py"])
def test_a_missing_corpus_is_one_line(tmp_path, script):
    missing = tmp_path / "missing"
    command = [sys.executable, str(EXPERIMENTS / script), f"--corpus=savee={missing}"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, env=dict(os.environ))
    assert done.returncode == 1
    assert done.stderr == f"error: {missing}: no such directory\n"


def test_speaker_statistics_script_scores_each_source_and_replays_the_monitor(tmp_path, tiny_bundle):
    folder = make_folder(tmp_path / "folder", speakers=("alice", "bob"), seconds=1.0)
    script = EXPERIMENTS / "speaker_statistics.py"
    cmd = [sys.executable, str(script), f"--corpus=folder={folder}", f"--cache={tmp_path / 'cache'}", "--workers=1"]
    cmd += [f"--model={tiny_bundle}", "--split=all", "--files", "3", "--replay-priors", "30", "3", "--comfort"]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    rows = [line.strip("| ").split(" | ") for line in result.stdout.splitlines() if line.startswith("| ")]
    sources = {r[0]: r[1:] for r in rows[2:6]}
    assert list(sources) == [
        "the model's pooled statistics",
        "the utterance alone",
        "3 files of the speaker",
        "all the speaker's files",
    ]
    assert sources["the model's pooled statistics"][0] == "-" and sources["the utterance alone"][0] == "1"
    assert sources["3 files of the speaker"][0] == "3" and sources["all the speaker's files"][0] == "8"
    replays = {r[0]: r[1:] for r in rows[8:10]}
    assert list(replays) == ["30", "3"]
    assert all(0.0 <= float(v) <= 1.0 for r in [*sources.values(), *replays.values()] for v in r[-2:])
    assert rows[10] == ["speaker", *(f"{label} heard as sad" for label in ("angry", "happy", "sad", "neutral"))]
    shares = {r[0]: [float(v) for v in r[1:]] for r in rows[12:]}
    assert list(shares) == ["folder alice", "folder bob", "all"]
    for column in range(4):  # all speakers together: a weighted mean of the two, so between them
        alice, bob, both = (shares[s][column] for s in shares)
        assert min(alice, bob) <= both <= max(alice, bob)
