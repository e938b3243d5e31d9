"""Cutting files to their speech (``--trim-silence``): what the VAD keeps, the cache it fills, and that every
command reading files cuts them as the model's training files were cut."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from conftest import make_test_bundle
from monitor_helpers import SENTENCES, espeak, speech_span
from speech_emotion import trimming
from speech_emotion.audio import SAMPLE_RATE
from speech_emotion.cli import main
from speech_emotion.corpora import read_corpus
from speech_emotion.features import log_mel_3d
from speech_emotion.training.cache import FeatureCache, settings_key
from speech_emotion.training.config import TrainConfig
from speech_emotion.training.trainer import Trainer, prepare_data
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


def test_trim_padding_script_cuts_with_its_padding_in_every_feature_worker(padded, tiny_bundle, tmp_path, monkeypatch):
    # enough different files for the cache to start its worker processes (POOL_MIN_FILES)
    folder = tmp_path / "folder"
    paths = [folder / e / s / f"clip{n}.wav" for e in ("angry", "sad") for s in ("al", "bo") for n in range(8)]
    clips = [padded + room_noise(len(padded) / SAMPLE_RATE, seed=10 + i) for i in range(len(paths))]
    for path, clip in zip(paths, clips, strict=True):
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(path, clip, SAMPLE_RATE)
    script = Path(__file__).resolve().parents[1] / "scripts" / "trim_padding.py"
    cmd = [sys.executable, str(script), "0.5", "evaluate", f"--model={tiny_bundle}", "--split=all", "--trim-silence"]
    cmd += [f"--corpus=folder={folder}", "--normalization=target-all", "--workers=2", f"--cache={tmp_path / 'cache'}"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr

    # the workers' features, read back under the same settings, are each clip cut with 0.5 s of padding
    monkeypatch.setitem(trimming.TRIM_SETTINGS, "padding_s", 0.5)
    cached = FeatureCache(tmp_path / "cache", workers=1, progress=False, trim=True).load(paths)
    assert cached.extracted == 0
    half_second = [len(log_mel_3d(trim_to_speech(clip.astype(np.float32)))) for clip in clips]
    assert [len(cached.features[p]) for p in paths] == half_second
    monkeypatch.setitem(trimming.TRIM_SETTINGS, "padding_s", 0.1)
    assert half_second[0] - len(log_mel_3d(trim_to_speech(clips[0].astype(np.float32)))) > 70  # 10 ms frames


def test_predict_cuts_files_as_the_model_was_trained(padded, tmp_path):
    sf.write(tmp_path / "padded.wav", padded, SAMPLE_RATE)
    whole = make_test_bundle(tmp_path / "whole.pt")
    trimmed = make_test_bundle(tmp_path / "trimmed.pt", train_config={"trim_silence": True})

    def last_window_end(bundle):
        cmd = [sys.executable, "-m", "speech_emotion", "predict", str(tmp_path / "padded.wav"), "--model", str(bundle)]
        result = subprocess.run([*cmd, "--json"], capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)[0]["windows"][-1]["end_s"]

    assert last_window_end(whole) == pytest.approx(len(padded) / SAMPLE_RATE, abs=0.02)
    first, last = speech_bounds(padded)
    assert last_window_end(trimmed) == pytest.approx((last - first) / SAMPLE_RATE, abs=0.02)


def test_evaluate_reads_files_as_the_model_was_trained_unless_told(tmp_path, capsys):
    casia = make_casia(tmp_path / "casia", per_emotion=1, seconds=1.0)
    bundle = make_test_bundle(tmp_path / "trimmed.pt", train_config={"trim_silence": True})
    args = ["evaluate", f"--model={bundle}", f"--corpus=casia={casia}", "--split=all", "--workers=1"]
    args += ["--normalization=target-neutral"]
    assert main([*args, f"--cache={tmp_path / 'a'}"]) == 0
    assert [p.name for p in (tmp_path / "a").iterdir()] == [settings_key(trim=True)]
    assert main([*args, f"--cache={tmp_path / 'b'}", "--no-trim-silence"]) == 0
    assert [p.name for p in (tmp_path / "b").iterdir()] == [settings_key()]


def test_training_refuses_features_read_otherwise_than_its_settings(tmp_path, restore_threads):
    corpus = read_corpus("casia", make_casia(tmp_path / "casia", per_emotion=1, seconds=1.0))
    data = prepare_data([corpus], FeatureCache(tmp_path / "cache", workers=1, progress=False))
    with pytest.raises(ValueError, match="trim_silence is True, the features were read with trim=False"):
        Trainer(data, TrainConfig.named("small").with_overrides(trim_silence=True), tmp_path / "run")


def test_corpus_silence_script_reports_each_corpus(tmp_path):
    casia = make_casia(tmp_path / "casia", per_emotion=1, seconds=1.0)
    script = Path(__file__).resolve().parents[1] / "scripts" / "corpus_silence.py"
    cmd = [sys.executable, str(script), f"--corpus=casia={casia}", f"--cache={tmp_path / 'cache'}", "--workers=1"]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    row = result.stdout.splitlines()[-1].split(" | ")
    assert row[0] == "| casia" and row[1] == "16" and 0.0 < float(row[2]) <= 1.0
