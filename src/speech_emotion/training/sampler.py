"""Class-balanced batches whose content is a pure function of the seed and the batch number.

Each class's windows are drawn in order from an endless sequence of shuffles (shuffle ``e`` of class ``c``
comes from the seed ``(seed, c, e)``), ``batch_size // classes`` per batch (the first ``batch_size % classes``
classes one more). Because nothing but the batch number changes, resuming a run at batch ``k`` draws exactly
the batches an uninterrupted run would have drawn.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np


class BalancedSampler:
    def __init__(self, labels: np.ndarray, n_classes: int, batch_size: int, seed: int):
        labels = np.asarray(labels)
        self.members = [np.flatnonzero(labels == c) for c in range(n_classes)]
        empty = [c for c, m in enumerate(self.members) if len(m) == 0]
        if empty:
            raise ValueError(f"no training windows of class {empty[0]}")
        if batch_size < n_classes:
            raise ValueError(f"batch size {batch_size} is smaller than the number of classes {n_classes}")
        self.quotas = [batch_size // n_classes + (c < batch_size % n_classes) for c in range(n_classes)]
        self.seed = seed
        self._shuffle = lru_cache(maxsize=4 * n_classes)(self._make_shuffle)

    def batch(self, number: int) -> np.ndarray:
        """Window indices of batch ``number`` (0-based)."""
        return np.concatenate([self._draw(c, number * q, q) for c, q in enumerate(self.quotas)])

    def _draw(self, c: int, first: int, count: int) -> np.ndarray:
        size = len(self.members[c])
        positions = np.arange(first, first + count)
        epochs, offsets = np.divmod(positions, size)
        return np.array([self._shuffle(c, int(e))[o] for e, o in zip(epochs, offsets, strict=True)])

    def _make_shuffle(self, c: int, epoch: int) -> np.ndarray:
        return np.random.default_rng([self.seed, c, epoch]).permutation(self.members[c])
