"""Calibrated probabilities: a temperature that makes "41 % sure" mean right about 41 % of the time.

Temperature scaling (Guo et al., 2017) divides every window's logits by one number ``T`` before pooling: the
label stays the most probable class, only the probabilities spread out (``T > 1``) or sharpen (``T < 1``).
``T`` is chosen on labelled speech, the validation speakers, to minimise the negative log-likelihood of the
true labels; the expected calibration error (ECE) says how far confidence and accuracy still lie apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from speech_emotion.evaluation.metrics import expected_calibration_error
from speech_emotion.windows import POOLINGS

TEMPERATURES = np.geomspace(0.05, 20.0, 241)  # the grid searched: 2.5 % apart


@dataclass(frozen=True)
class TemperatureChoice:
    temperature: float
    nll_before: float  # mean negative log-likelihood of the true label at the model's temperature
    nll_after: float
    ece_before: float
    ece_after: float

    def to_dict(self) -> dict:
        return {k: round(v, 6) for k, v in vars(self).items()}


def choose_temperature(
    logits: Sequence[torch.Tensor], truth: Sequence[int], pooling: str, current: float = 1.0
) -> TemperatureChoice:
    """The temperature of :data:`TEMPERATURES` with the least negative log-likelihood of ``truth`` (class
    indices), given each utterance's window logits (offsets included, not yet divided by any temperature)."""
    if pooling not in POOLINGS:
        raise ValueError(f"pooling must be one of {', '.join(POOLINGS)}, not {pooling!r}")

    windows = torch.cat(list(logits)).double()
    owner = torch.repeat_interleave(torch.arange(len(logits)), torch.tensor([len(w) for w in logits]))
    counts = torch.bincount(owner, minlength=len(logits)).double()[:, None]
    top = torch.stack([w.max(dim=0).values for w in logits]).double()  # max pooling commutes with 1 / t

    def probabilities(t: float) -> np.ndarray:
        """Each utterance's pooled probabilities at temperature ``t``, as windows.pool_logits gives them."""
        if pooling == "max":
            return torch.softmax(top / t, dim=-1).numpy()
        summed = torch.zeros(len(logits), windows.shape[1], dtype=torch.float64)
        return (summed.index_add_(0, owner, torch.softmax(windows / t, dim=-1)) / counts).numpy()

    def nll(p: np.ndarray) -> float:
        return float(-np.mean(np.log(np.maximum(p[np.arange(len(truth)), truth], 1e-12))))

    before = probabilities(current)
    best = min(TEMPERATURES, key=lambda t: nll(probabilities(float(t))))
    after = probabilities(float(best))
    return TemperatureChoice(float(best), nll(before), nll(after), ece(before, truth), ece(after, truth))


def ece(probabilities: np.ndarray, truth: Sequence[int], bins: int = 10) -> float:
    """Expected calibration error: the mean gap between confidence and accuracy over ``bins`` equal-width
    confidence bins, each weighted by its share of the utterances."""
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == np.asarray(truth)
    return expected_calibration_error(confidence, correct, bins)
