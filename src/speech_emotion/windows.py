"""Fixed 300-frame (3 s) windows, the ACRNN's input, and pooling of window scores to an utterance score.

Windows are cut from *normalised* features and padded with zeros, which after normalisation is the
neutral-speech mean. The reference padded before normalising, so its padding became a large negative
value that the network saw as loud, odd speech.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from speech_emotion.features import FRAMES_PER_SECOND

WINDOW_FRAMES = 300
INFERENCE_HOP = 100
POOLINGS = ("max", "mean")


@dataclass(frozen=True)
class WindowSpan:
    """Where a window lies in its utterance, in frames: ``[start, start + frames)`` real, the rest padding."""

    start: int
    frames: int

    @property
    def start_s(self) -> float:
        return self.start / FRAMES_PER_SECOND

    @property
    def end_s(self) -> float:
        return (self.start + self.frames) / FRAMES_PER_SECOND


def window_starts(n_frames: int, hop: int | None, size: int = WINDOW_FRAMES) -> list[int]:
    """Start frames of the windows of an utterance.

    ``hop=None`` is the reference's training rule: one window, or the first and the last ``size`` frames.
    With a hop, windows every ``hop`` frames and a last one flush with the end, so every frame is covered.
    """
    if n_frames <= size:
        return [0]
    last = n_frames - size
    if hop is None:
        return [0, last]
    starts = list(range(0, last, hop))
    return [*starts, last]


def cut_windows(
    features: np.ndarray, hop: int | None, size: int = WINDOW_FRAMES
) -> tuple[np.ndarray, list[WindowSpan]]:
    """Windows ``(k, size, 40, 3)`` of normalised ``(frames, 40, 3)`` features, zero-padded, with their spans."""
    spans = [WindowSpan(s, min(size, len(features) - s)) for s in window_starts(len(features), hop, size)]
    windows = np.zeros((len(spans), size, *features.shape[1:]), dtype=np.float32)
    for i, span in enumerate(spans):
        windows[i, : span.frames] = features[span.start : span.start + span.frames]
    return windows, spans


def to_model_input(windows: np.ndarray) -> torch.Tensor:
    """``(k, frames, 40, 3)`` windows as the model's ``(k, 3, frames, 40)`` input."""
    return torch.from_numpy(np.ascontiguousarray(windows.transpose(0, 3, 1, 2)))


def pool_logits(window_logits: torch.Tensor, method: str = "max") -> torch.Tensor:
    """Utterance class probabilities from ``(k, classes)`` window logits.

    ``max``: the reference's rule, softmax of the per-class maximum logit over windows.
    ``mean``: the mean of the windows' probabilities, steadier for long utterances.
    """
    if method == "max":
        return torch.softmax(window_logits.max(dim=0).values, dim=-1)
    if method == "mean":
        return torch.softmax(window_logits, dim=-1).mean(dim=0)
    raise ValueError(f"pooling must be 'max' or 'mean', not {method!r}")
