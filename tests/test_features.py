"""Features equal python_speech_features (the reference's library) on the same samples, within 1e-3."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import python_speech_features as psf

from speech_emotion.audio import load_audio
from speech_emotion.features import log_mel_3d, log_mel_3d_batch, num_frames

TOLERANCE = 1e-3


def reference_features(signal: np.ndarray) -> np.ndarray:
    static = psf.logfbank(signal, 16000, nfilt=40)
    first = psf.delta(static, 2)
    return np.stack([static, first, psf.delta(first, 2)], axis=-1)


def assert_parity(signal: np.ndarray) -> None:
    ours, theirs = log_mel_3d(signal), reference_features(signal)
    assert ours.shape == theirs.shape == (num_frames(len(signal)), 40, 3)
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours, theirs, atol=TOLERANCE, rtol=0)


@pytest.mark.parametrize("n", [1, 200, 399, 400, 401, 559, 560, 561, 16000, 48123])
def test_parity_on_noise_of_every_edge_length(n):
    assert_parity(np.random.default_rng(n).normal(0, 0.1, n).astype(np.float32))


def test_parity_on_band_limited_audio():
    """Upsampled telephone speech leaves the upper bands almost empty: float32 FFTs fail this one."""
    rng = np.random.default_rng(7)
    x = np.repeat(rng.normal(0, 0.2, 8000), 2)  # 8 kHz content repeated: little energy above 4 kHz
    assert_parity(x.astype(np.float32))


def test_parity_on_digital_silence_and_tiny_signals():
    x = np.zeros(16000, np.float32)
    x[5000:5100] = 1e-4
    assert_parity(x)


@pytest.mark.corpora
def test_parity_on_real_speech_from_every_corpus(corpora_dir):
    with open(corpora_dir / "MANIFEST.csv") as f:
        rows = list(csv.DictReader(f))
    picked = {}
    for row in rows:
        picked.setdefault(row["corpus"], []).append(row["path"])
    for paths in picked.values():
        for path in paths[:: max(1, len(paths) // 3)][:3]:
            assert_parity(load_audio(corpora_dir / path))


def test_batch_equals_one_by_one():
    rng = np.random.default_rng(3)
    utterances = [rng.normal(0, 0.1, n).astype(np.float32) for n in (300, 16000, 3210)]
    for batched, single in zip(log_mel_3d_batch(utterances), utterances, strict=True):
        np.testing.assert_array_equal(batched, log_mel_3d(single))
