"""Augmentation of training batches: SpecAugment-style masking and mixup.

Both act on a batch of normalised windows ``(k, 3, frames, mels)``. A masked region is set to zero, the neutral
mean after normalisation (as padding is), in all three channels: the network sees "nothing unusual here", not
silence. Mixup blends each window with another window of the same batch and the targets in the same proportion.

The random draws of batch ``step`` come from a generator seeded with ``(seed, step, purpose)`` and from nothing
else, like the batches themselves (see :mod:`.sampler`): a resumed run augments exactly as one that never stopped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional

from speech_emotion.training.config import TrainConfig

_TIME_MASKS, _FREQ_MASKS, _MIXUP = 1, 2, 3  # separate random streams per purpose
SPECAUGMENT_MASKS = 2  # time masks and mel-band masks per window
SPECAUGMENT_FRAMES = 40  # longest time mask
SPECAUGMENT_BANDS = 8  # widest mel-band mask


@dataclass(frozen=True)
class Augmentation:
    seed: int
    time_masks: int = 0
    time_mask_frames: int = 0
    freq_masks: int = 0
    freq_mask_bands: int = 0
    mixup: float = 0.0

    @classmethod
    def from_config(cls, config: TrainConfig) -> Augmentation:
        masks = SPECAUGMENT_MASKS if config.specaugment else 0
        return cls(config.seed, masks, SPECAUGMENT_FRAMES, masks, SPECAUGMENT_BANDS, config.mixup)

    @property
    def enabled(self) -> bool:
        return self.masking or self.mixup > 0

    @property
    def masking(self) -> bool:
        return (self.time_masks > 0 and self.time_mask_frames > 0) or (self.freq_masks > 0 and self.freq_mask_bands > 0)

    def __call__(
        self, x: torch.Tensor, y: torch.Tensor, n_classes: int, step: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The batch of ``step`` augmented, and its class indices ``y`` (of ``n_classes``).

        Without mixup the targets come back as they are; with it, as class probabilities blended like the windows.
        """
        if self.masking:
            x = self.mask(x, step)
        if self.mixup > 0:
            return self.mix(x, y, n_classes, step)
        return x, y

    def mask(self, x: torch.Tensor, step: int) -> torch.Tensor:
        """``x`` with ``time_masks`` time spans and ``freq_masks`` mel-band spans of each window set to zero."""
        k, _, frames, bands = x.shape
        keep = _keep(self._rng(step, _TIME_MASKS), k, self.time_masks, self.time_mask_frames, frames)
        keep_bands = _keep(self._rng(step, _FREQ_MASKS), k, self.freq_masks, self.freq_mask_bands, bands)
        keep = keep[:, None, :, None] & keep_bands[:, None, None, :]
        return x * keep.to(x.device, x.dtype)

    def mix(self, x: torch.Tensor, y: torch.Tensor, n_classes: int, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Each window blended with a random partner in the batch, weight ``lam ~ Beta(alpha, alpha)`` on itself,
        and its target with the same weights."""
        rng = self._rng(step, _MIXUP)
        k = len(x)
        lam = torch.from_numpy(rng.beta(self.mixup, self.mixup, size=k).astype(np.float32)).view(-1, 1)
        partner = torch.from_numpy(rng.permutation(k))
        mixed_x = lam.view(-1, 1, 1, 1) * x + (1 - lam.view(-1, 1, 1, 1)) * x[partner]
        one_hot = functional.one_hot(y, n_classes).float()
        return mixed_x, lam * one_hot + (1 - lam) * one_hot[partner]

    def _rng(self, step: int, purpose: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, step, purpose])


def _keep(rng: np.random.Generator, k: int, masks: int, max_width: int, length: int) -> torch.Tensor:
    """``(k, length)`` booleans, False inside ``masks`` random spans of 0..max_width positions per row."""
    keep = torch.ones(k, length, dtype=torch.bool)
    if masks == 0 or max_width == 0:
        return keep
    widths = rng.integers(0, min(max_width, length) + 1, size=(k, masks))
    starts = rng.integers(0, length - widths + 1)
    positions = torch.arange(length)
    starts, ends = torch.from_numpy(starts)[..., None], torch.from_numpy(starts + widths)[..., None]
    inside = (positions >= starts) & (positions < ends)  # (k, masks, length)
    return ~inside.any(dim=1)
