"""Training windows: cut from normalised features when a batch is built, so memory holds each utterance's
features once, not every window. Windows are zero-padded after normalisation (see :mod:`speech_emotion.windows`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from speech_emotion.corpora.examples import Example
from speech_emotion.normalization import NormStats
from speech_emotion.windows import WINDOW_FRAMES, cut_windows, to_model_input, window_starts


class WindowSet:
    """Training windows: ``(utterance, start frame)`` references into normalised features, with class indices.

    ``stats`` normalises the example at the same position.
    """

    def __init__(self, examples: Sequence[Example], stats: Sequence[NormStats], labels: Sequence[str], hop: int | None):
        self.features = [s.apply(e.features) for e, s in zip(examples, stats, strict=True)]
        refs, classes = [], []
        for i, (e, feats) in enumerate(zip(examples, self.features, strict=True)):
            starts = window_starts(len(feats), hop)
            refs.extend((i, s) for s in starts)
            classes.extend([labels.index(e.utterance.label)] * len(starts))
        self.refs = np.array(refs, dtype=np.int64).reshape(-1, 2)
        self.classes = np.array(classes, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.refs)

    def batch(self, indices: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """Model input ``(k, 3, 300, 40)`` and class indices ``(k,)`` of the given windows."""
        windows = np.concatenate(
            [cut_windows(self.features[u][s : s + WINDOW_FRAMES], hop=None)[0] for u, s in self.refs[indices]]
        )
        return to_model_input(windows), torch.from_numpy(self.classes[indices])
