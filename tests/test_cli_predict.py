"""``speech-emotion predict`` as a user runs it: a real process, real files, bad files among good ones."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf
import soxr

from monitor_helpers import espeak
from speech_emotion.audio import load_audio
from speech_emotion.features import log_mel_3d
from speech_emotion.normalization import fit_stats
from speech_emotion.recognizer import EmotionRecognizer


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "speech_emotion", *args], capture_output=True, text=True, timeout=120)


def write_clip(path, seconds: float, rate: int = 44100) -> str:
    """Synthetic speech (espeak-ng, its pitch varied by the name), repeated or cut to ``seconds`` at ``rate``."""
    speech = espeak("The garden looks lovely today.", pitch=20 + len(str(path)) % 60)
    speech = soxr.resample(speech, 16000, rate) if rate != 16000 else speech
    sf.write(path, np.resize(speech, int(seconds * rate)), rate)
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


# predict with the second file's reading held until a signal file appears: a slow disk or network share
SLOW_READ = """
import pathlib, sys, time
from speech_emotion import recognizer
from speech_emotion.cli import main
real = recognizer.load_audio
def held(path, **options):
    while path.endswith("slow.wav") and not pathlib.Path(path + ".go").exists():
        time.sleep(0.05)
    return real(path, **options)
recognizer.load_audio = held
sys.exit(main(sys.argv[1:]))
"""


def test_each_file_is_printed_before_the_next_is_read(tiny_bundle, tmp_path):
    # a long list over a slow disk or network share: results must not wait for the last file
    first = write_clip(tmp_path / "first.wav", 1.0)
    slow = write_clip(tmp_path / "slow.wav", 1.0)
    cmd = [sys.executable, "-c", SLOW_READ, "predict", first, slow, "--model", str(tiny_bundle)]
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
        try:
            ready, _, _ = select.select([process.stdout], [], [], 120)
            assert ready, "nothing printed while the second file was still unread"
            assert process.stdout.readline().startswith(first + "\t")
        finally:
            (tmp_path / "slow.wav.go").touch()
        rest, _ = process.communicate(timeout=120)
    assert process.returncode == 0 and rest.startswith(slow + "\t")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_pipe_is_refused_in_one_line_without_waiting_for_it(tiny_bundle, tmp_path):
    pipe = tmp_path / "pipe.wav"
    os.mkfifo(pipe)  # reading it would block until something writes to it
    result = run_cli("predict", str(pipe), "--model", str(tiny_bundle))
    assert result.returncode == 1
    assert result.stderr == f"error: {pipe}: not a regular file (a pipe or device cannot be read as audio)\n"


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


def test_same_speaker_normalises_every_file_with_the_statistics_of_them_all(tiny_bundle, tmp_path):
    files = [write_clip(tmp_path / f"{n}.wav", seconds, rate=16000) for n, seconds in enumerate((1.0, 2.5, 1.5))]
    model = ["--model", str(tiny_bundle), "--json"]
    plain = json.loads(run_cli("predict", *files, *model).stdout)
    same = run_cli("predict", *files, *model, "--same-speaker")
    assert same.returncode == 0, same.stderr
    same, stderr = json.loads(same.stdout), same.stderr
    backwards = json.loads(run_cli("predict", *files[::-1], *model, "--same-speaker").stdout)

    # as the recogniser scores them given the three files' statistics; 5 s of speech are few, and it says so
    recognizer = EmotionRecognizer.load(str(tiny_bundle))
    features = [log_mel_3d(load_audio(f)) for f in files]
    for row, f in zip(same, features, strict=True):
        expected = recognizer.predict_features([f], fit_stats(features))[0].probabilities
        assert row["probabilities"] == pytest.approx(expected, abs=1e-5)
    assert "note: --same-speaker: the speaker's statistics come from 5 s of speech" in stderr
    assert same != plain  # synthetic speech is far from the model's statistics
    for row, other in zip(same, backwards[::-1], strict=True):  # the same statistics, in any order
        assert row["probabilities"] == pytest.approx(other["probabilities"], abs=1e-5)


def test_a_file_without_speech_is_no_speech_never_an_emotion(tiny_bundle, tmp_path):
    speech = write_clip(tmp_path / "speech.wav", 1.5)
    silence, noise = str(tmp_path / "silence.wav"), str(tmp_path / "noise.wav")
    sf.write(silence, np.zeros(32000, np.float32), 16000)
    sf.write(noise, np.random.default_rng(0).normal(0, 0.05, 32000).astype(np.float32), 16000)
    result = run_cli("predict", speech, silence, noise, "--model", str(tiny_bundle))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith(speech + "\t") and lines[0].split("\t")[1] in ("angry", "happy", "sad", "neutral")
    assert lines[1:] == [f"{silence}\tno speech", f"{noise}\tno speech"]
    rows = json.loads(run_cli("predict", "--json", silence, "--model", str(tiny_bundle)).stdout)
    assert rows == [{"file": silence, "label": "no speech", "probabilities": None, "windows": []}]
