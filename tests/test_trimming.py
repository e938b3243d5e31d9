"""Cutting files to their speech for a bundle whose preprocessing says so: what the VAD keeps, the cache it
fills, and that every command reading files cuts them as the model's training files were cut."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from conftest import make_test_bundle
from monitor_helpers import SENTENCES, espeak, speech_span
from speech_emotion.audio import SAMPLE_RATE
from speech_emotion.cli import main
from speech_emotion.corpora.cache import FeatureCache, settings_key
from speech_emotion.preprocessing import Preprocessing
from speech_emotion.trimming import speech_bounds, trim_to_speech
from synthetic_corpora import make_casia

BEFORE_S, AFTER_S = 1.0, 1.5


def room_noise(seconds: float, seed: int = 0) -> np.ndarray:
    return (0.002 * np.random.default_rng(seed).standard_normal(round(seconds * SAMPLE_RATE))).astype(np.float32)


@pytest.fixture(scope="module")
def speech():
    return espeak(SENTENCES[0])


@pytest.fixture(scope="module")
def padded(speech):
    """The sentence with a quiet room before and after it, as in RAVDESS's files."""
    noisy_speech = speech + room_noise(len(speech) / SAMPLE_RATE, seed=1)
    return np.concatenate([room_noise(BEFORE_S), noisy_speech, room_noise(AFTER_S, seed=2)])


def test_trimming_keeps_the_speech_and_drops_the_silence_around_it(speech, padded):
    start, end = speech_span(speech)
    first, last = speech_bounds(padded)
    assert BEFORE_S + start - 0.25 <= first / SAMPLE_RATE <= BEFORE_S + start + 0.05
    assert BEFORE_S + end - 0.05 <= last / SAMPLE_RATE <= BEFORE_S + end + 0.25
    assert np.array_equal(trim_to_speech(padded), padded[first:last])


def test_a_file_without_speech_is_kept_whole():
    quiet = room_noise(2.0)
    assert speech_bounds(quiet) is None
    assert np.array_equal(trim_to_speech(quiet), quiet)


def test_trimmed_features_have_their_own_cache(padded, tmp_path):
    sf.write(tmp_path / "padded.wav", padded, SAMPLE_RATE)
    path = tmp_path / "padded.wav"
    whole = FeatureCache(tmp_path / "cache", workers=1, progress=False).load([path]).features[path]
    trimmed = FeatureCache(tmp_path / "cache", workers=1, progress=False, trim=True).load([path]).features[path]
    assert len(whole) - len(trimmed) > (BEFORE_S + AFTER_S - 0.6) * 100  # 10 ms frames
    assert settings_key(trim=True) != settings_key()
    assert {p.name for p in (tmp_path / "cache").iterdir()} == {settings_key(), settings_key(trim=True)}


def test_predict_cuts_files_as_the_model_was_trained(padded, tmp_path):
    sf.write(tmp_path / "padded.wav", padded, SAMPLE_RATE)
    whole = make_test_bundle(tmp_path / "whole.pt")
    trimmed = make_test_bundle(tmp_path / "trimmed.pt", preprocessing=Preprocessing(trim=True))

    def last_window_end(bundle):
        cmd = [sys.executable, "-m", "speech_emotion", "predict", str(tmp_path / "padded.wav"), "--model", str(bundle)]
        result = subprocess.run([*cmd, "--json"], capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)[0]["windows"][-1]["end_s"]

    assert last_window_end(whole) == pytest.approx(len(padded) / SAMPLE_RATE, abs=0.02)
    first, last = speech_bounds(padded)
    assert last_window_end(trimmed) == pytest.approx((last - first) / SAMPLE_RATE, abs=0.02)


def test_evaluate_reads_files_as_the_model_was_trained(tmp_path, capsys):
    casia = make_casia(tmp_path / "casia", per_emotion=1, seconds=1.0)
    bundle = make_test_bundle(tmp_path / "trimmed.pt", preprocessing=Preprocessing(trim=True))
    args = ["evaluate", f"--model={bundle}", f"--corpus=casia={casia}", "--split=all", "--workers=1"]
    args += ["--normalization=target-neutral"]
    assert main([*args, f"--cache={tmp_path / 'a'}"]) == 0
    assert [p.name for p in (tmp_path / "a").iterdir()] == [settings_key(trim=True)]
    whole = make_test_bundle(tmp_path / "whole.pt")
    assert main([*args, f"--cache={tmp_path / 'b'}", f"--model={whole}"]) == 0
    assert [p.name for p in (tmp_path / "b").iterdir()] == [settings_key()]
