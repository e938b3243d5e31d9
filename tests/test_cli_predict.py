"""``speech-emotion predict`` as a user runs it: a real process, real files, bad files among good ones."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "speech_emotion", *args], capture_output=True, text=True, timeout=120)


def write_clip(path, seconds: float, rate: int = 44100) -> str:
    rng = np.random.default_rng(len(str(path)))
    sf.write(path, rng.normal(0, 0.1, int(seconds * rate)), rate)
    return str(path)


def test_json_output_shape(tiny_bundle, tmp_path):
    a = write_clip(tmp_path / "a.wav", 1.0)
    b = write_clip(tmp_path / "b.flac", 4.0)
    result = run_cli("predict", a, b, "--model", str(tiny_bundle), "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [r["file"] for r in rows] == [a, b]
    for row in rows:
        assert set(row) == {"file", "label", "probabilities", "windows"}
        assert set(row["probabilities"]) == {"angry", "happy", "sad", "neutral"}
        assert row["label"] == max(row["probabilities"], key=row["probabilities"].get)
        assert set(row["windows"][0]) == {"start_s", "end_s", "probabilities"}
    assert rows[1]["windows"][-1]["end_s"] == pytest.approx(4.0, abs=0.02)


def test_bad_files_are_reported_and_good_ones_still_scored(tiny_bundle, tmp_path):
    good = write_clip(tmp_path / "good.wav", 1.5)
    (tmp_path / "text.wav").write_text("hello")
    result = run_cli(
        "predict", str(tmp_path / "missing.wav"), str(tmp_path / "text.wav"), good, "--model", str(tiny_bundle)
    )
    assert result.returncode == 1
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(good + "\t")
    errors = result.stderr.strip().splitlines()
    assert errors == [
        f"error: {tmp_path / 'missing.wav'}: no such file",
        f"error: {tmp_path / 'text.wav'}: not a readable audio file (Format not recognised)",
    ]
    assert "Traceback" not in result.stderr


def test_missing_model_is_one_line(tmp_path):
    clip = write_clip(tmp_path / "a.wav", 0.5)
    result = run_cli("predict", clip, "--model", str(tmp_path / "nomodel.pt"))
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0
    assert "nomodel.pt: no such model bundle file" in result.stderr


def test_debug_shows_traceback(tmp_path):
    clip = write_clip(tmp_path / "a.wav", 0.5)
    result = run_cli("--debug", "predict", clip, "--model", str(tmp_path / "nomodel.pt"))
    assert result.returncode != 0 and "Traceback" in result.stderr
