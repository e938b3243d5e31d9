"""Neutral statistics, padding after normalisation, window cutting and pooling."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from speech_emotion.normalization import STD_EPSILON, NormStats, StatsAccumulator, fit_group_stats, fit_stats
from speech_emotion.windows import WINDOW_FRAMES, cut_windows, pool_logits, window_starts


def feats(n: int, level: float, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(level, 2.0, (n, 40, 3)).astype(np.float32)


def test_stats_equal_numpy_over_all_frames():
    utterances = [feats(120, 1.0, 1), feats(77, 3.0, 2)]
    stats = fit_stats(utterances)
    frames = np.concatenate(utterances).astype(np.float64)
    np.testing.assert_allclose(stats.mean, frames.mean(axis=0), atol=1e-5)
    np.testing.assert_allclose(stats.std, frames.std(axis=0), atol=1e-4)
    assert stats.frames == 197


def test_group_stats_use_only_neutral_speech():
    items = [
        ("emodb", "neutral", feats(50, -5.0)),
        ("emodb", "angry", feats(50, 9.0)),
        ("savee", "neutral", feats(40, 2)),
    ]
    stats = fit_group_stats(items)
    assert set(stats) == {"emodb", "savee"}
    assert abs(float(stats["emodb"].mean.mean()) + 5.0) < 0.2
    assert set(fit_group_stats(items, neutral_label=None)) == {"emodb", "savee"}
    assert abs(float(fit_group_stats(items, neutral_label=None)["emodb"].mean.mean()) - 2.0) < 0.2


def test_group_without_neutral_speech_is_left_out():
    assert fit_group_stats([("urdu", "sad", feats(10, 0))]) == {}


def test_apply_and_round_trip():
    stats = fit_stats([feats(100, 4.0)])
    normed = stats.apply(feats(100, 4.0))
    assert abs(float(normed.mean())) < 0.1 and normed.dtype == np.float32
    again = NormStats.from_dict(stats.to_dict())
    np.testing.assert_array_equal(again.mean, stats.mean)
    assert again.frames == stats.frames


def test_bad_stats_shape_is_refused():
    with pytest.raises(ValueError, match="a mean and a deviation of one shape"):
        NormStats.from_dict({"mean": [0.0], "std": [1.0, 2.0], "frames": 3})


def test_an_accumulator_takes_the_shape_of_its_frames():
    """Log-mel frames (40 x 3) and eGeMAPS rows (88 values an utterance) alike; added piecewise as at once."""
    for first, second in ((feats(30, 1), feats(40, 2)), (np.ones((1, 88)), np.full((3, 88), 2.0))):
        pieces, whole = StatsAccumulator(), StatsAccumulator()
        pieces.add(first)
        pieces.add(second)
        whole.add(np.concatenate([first, second]))
        assert pieces.stats().mean.shape == first.shape[1:] and pieces.stats().frames == len(first) + len(second)
        np.testing.assert_allclose(pieces.stats().std, whole.stats().std, rtol=1e-6)


def test_padding_is_inserted_after_normalisation():
    """Padding must be the normalised zero, i.e. the neutral mean, not a log-energy of 0 turned hugely negative."""
    raw = feats(120, -10.0)
    stats = NormStats(mean=np.full((40, 3), -10.0, np.float32), std=np.full((40, 3), 2.0, np.float32), frames=9)
    windows, spans = cut_windows(stats.apply(raw), hop=None)
    assert windows.shape == (1, WINDOW_FRAMES, 40, 3)
    assert spans[0].frames == 120
    assert np.all(windows[0, 120:] == 0)
    np.testing.assert_allclose(windows[0, :120], (raw + 10) / (2 + STD_EPSILON), atol=1e-5)


@pytest.mark.parametrize(
    ("n", "hop", "expected"),
    [
        (50, None, [0]),
        (300, None, [0]),
        (301, None, [0, 1]),
        (900, None, [0, 600]),
        (300, 100, [0]),
        (550, 100, [0, 100, 200, 250]),
        (600, 100, [0, 100, 200, 300]),
    ],
)
def test_window_starts(n, hop, expected):
    assert window_starts(n, hop) == expected


def test_inference_windows_cover_every_frame_with_timeline():
    windows, spans = cut_windows(feats(550, 0.0), hop=100)
    covered = np.zeros(550, bool)
    for span in spans:
        covered[span.start : span.start + span.frames] = True
    assert covered.all() and len(windows) == 4
    assert spans[-1].end_s == pytest.approx(5.5)


def test_pooling():
    logits = torch.tensor([[5.0, 0.0, 0.0, 0.0], [0.0, 0.0, 6.0, 0.0]])
    maxed = pool_logits(logits, "max")
    assert torch.allclose(maxed, torch.softmax(torch.tensor([5.0, 0.0, 6.0, 0.0]), 0))
    meaned = pool_logits(logits, "mean")
    assert torch.isclose(meaned.sum(), torch.tensor(1.0))
    with pytest.raises(ValueError, match="pooling"):
        pool_logits(logits, "median")
