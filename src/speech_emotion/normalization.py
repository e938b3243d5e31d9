"""Z-score normalisation with the statistics of neutral speech.

Emotional speech differs from the same speaker's neutral speech; corpora and languages differ from each
other in level, channel and timbre. Subtracting the mean and dividing by the standard deviation of a
corpus's (or speaker's) *neutral* frames removes the second while keeping the first, which is what lets one
model serve many corpora and languages. Statistics are per mel band and channel, over real frames only:
windows are padded *after* normalisation (see :mod:`speech_emotion.windows`), so padding never enters them.
For eGeMAPS functionals (:mod:`speech_emotion.egemaps`) a "frame" is an utterance's row of 88 values.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass

import numpy as np

STD_EPSILON = 1e-5  # added to the standard deviation, as in the reference


@dataclass(frozen=True)
class NormStats:
    """Mean and standard deviation of a set of frames (``(40, 3)`` for log-mel, ``(88,)`` for functionals), and
    how many frames they came from."""

    mean: np.ndarray
    std: np.ndarray
    frames: int

    def apply(self, features: np.ndarray) -> np.ndarray:
        """Normalise ``(frames, ...)`` features; returns float32."""
        return ((features - self.mean) / (self.std + STD_EPSILON)).astype(np.float32)

    def to_dict(self) -> dict:
        return {"mean": self.mean.tolist(), "std": self.std.tolist(), "frames": int(self.frames)}

    @classmethod
    def from_dict(cls, data: dict) -> NormStats:
        mean = np.asarray(data["mean"], dtype=np.float32)
        std = np.asarray(data["std"], dtype=np.float32)
        if mean.ndim == 0 or mean.shape != std.shape:
            raise ValueError(f"normalisation statistics need a mean and a deviation of one shape, got {mean.shape}")
        return cls(mean=mean, std=std, frames=int(data["frames"]))


class StatsAccumulator:
    """Running sums of frames, in float64, so statistics can be built from a stream and merged."""

    def __init__(self):
        self.total: np.ndarray | float = 0.0  # takes the frames' shape with the first ones added
        self.total_sq: np.ndarray | float = 0.0
        self.frames = 0

    def add(self, features: np.ndarray) -> None:
        """Add the frames of one ``(frames, ...)`` utterance."""
        x = np.asarray(features, dtype=np.float64)
        self.total = self.total + x.sum(axis=0)
        self.total_sq = self.total_sq + np.square(x).sum(axis=0)
        self.frames += len(x)

    def stats(self) -> NormStats:
        if self.frames < 2:
            raise ValueError("at least two frames are needed to estimate normalisation statistics")
        mean = self.total / self.frames
        var = np.maximum(self.total_sq / self.frames - np.square(mean), 0.0)
        return NormStats(mean=mean.astype(np.float32), std=np.sqrt(var).astype(np.float32), frames=self.frames)


def fit_stats(features: Iterable[np.ndarray]) -> NormStats:
    """Statistics of all frames of the given utterances."""
    acc = StatsAccumulator()
    for f in features:
        acc.add(f)
    return acc.stats()


def fit_group_stats(
    items: Iterable[tuple[Hashable, str | None, np.ndarray]], neutral_label: str | None = "neutral"
) -> dict[Hashable, NormStats]:
    """Statistics per group (corpus or speaker) from ``(group, label, features)`` items.

    With ``neutral_label`` set, only utterances with that label count (the reference's neutral statistics);
    with ``None``, every utterance counts (for speech without emotion labels). A group with no usable
    frames is left out, and the caller decides what to fall back to.
    """
    accumulators: dict[Hashable, StatsAccumulator] = {}
    for group, label, features in items:
        if neutral_label is not None and label != neutral_label:
            continue
        accumulators.setdefault(group, StatsAccumulator()).add(features)
    return {group: acc.stats() for group, acc in accumulators.items() if acc.frames >= 2}
