"""How two models are joined: the weight and the temperature of a fused bundle, chosen on labelled speech.

Each part is scored on the same files under the ``alone`` and ``person`` protocols (as ``evaluate`` scores it);
the weight of the first part is the one of :data:`WEIGHTS` with the best mean UA over the protocols (ties go to
the more even weight), and the temperature then the one of
:data:`~speech_emotion.evaluation.calibration.TEMPERATURES` with the least negative log-likelihood of the true
labels over all those predictions. The label is the most probable class: nothing leans toward one emotion.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from speech_emotion.evaluation.calibration import TEMPERATURES, ece
from speech_emotion.evaluation.evaluate import EvaluationReport
from speech_emotion.evaluation.metrics import score
from speech_emotion.fusion import fuse_log_probabilities, log_probabilities

WEIGHTS = np.round(np.linspace(0.0, 1.0, 21), 2)


@dataclass(frozen=True)
class ProtocolFiles:
    """Both parts' probabilities ``(files, classes)`` for the files they both scored under one protocol."""

    log_first: np.ndarray
    log_second: np.ndarray
    truth: np.ndarray  # class indices

    def fused(self, weight: float, temperature: float = 1.0) -> np.ndarray:
        return fuse_log_probabilities([self.log_first, self.log_second], [weight, 1 - weight], temperature)


@dataclass(frozen=True)
class FusionChoice:
    weight: float  # of the first part; the second has 1 - weight
    temperature: float
    ua: dict[str, list[float]]  # protocol -> UA at each of WEIGHTS (temperature 1: it changes no label)
    nll_before: float  # at temperature 1
    nll_after: float
    ece_before: float
    ece_after: float

    def to_dict(self) -> dict:
        rounded = {k: round(v, 6) for k, v in vars(self).items() if isinstance(v, float)}
        return {**rounded, "weights": WEIGHTS.tolist(), "ua": {k: [round(u, 4) for u in v] for k, v in self.ua.items()}}


def paired_files(first: EvaluationReport, second: EvaluationReport, labels: Sequence[str]) -> ProtocolFiles:
    """The files both reports scored (with probabilities), in the first report's order."""
    theirs = {p.path: p for p in second.predictions if p.probabilities is not None}
    pairs = [(p, theirs[p.path]) for p in first.predictions if p.probabilities is not None and p.path in theirs]
    if not pairs:
        raise ValueError("the two models scored no file in common")

    def log(probabilities: list[dict[str, float]]) -> np.ndarray:
        return log_probabilities([[p[label] for label in labels] for p in probabilities])

    return ProtocolFiles(
        log([a.probabilities for a, _ in pairs]),
        log([b.probabilities for _, b in pairs]),
        np.array([labels.index(a.truth) for a, _ in pairs]),
    )


def choose_fusion(protocols: Mapping[str, ProtocolFiles], labels: Sequence[str]) -> FusionChoice:
    """The weight with the best mean UA over ``protocols``, then the temperature that calibrates it."""
    ua = {name: [_ua(files, files.fused(float(w)), labels) for w in WEIGHTS] for name, files in protocols.items()}
    mean = np.mean(list(ua.values()), axis=0)
    best = max(range(len(WEIGHTS)), key=lambda i: (round(float(mean[i]), 6), -abs(WEIGHTS[i] - 0.5)))
    weight = float(WEIGHTS[best])

    def nll(t: float) -> float:
        return float(np.mean([_nll(f.fused(weight, t), f.truth) for f in protocols.values()]))

    temperature = float(min(TEMPERATURES, key=lambda t: nll(float(t))))
    truth = np.concatenate([f.truth for f in protocols.values()])

    def pooled(t: float) -> np.ndarray:
        return np.concatenate([f.fused(weight, t) for f in protocols.values()])

    return FusionChoice(
        weight, temperature, ua, nll(1.0), nll(temperature), ece(pooled(1.0), truth), ece(pooled(temperature), truth)
    )


def _ua(files: ProtocolFiles, probabilities: np.ndarray, labels: Sequence[str]) -> float:
    return score([labels[i] for i in files.truth], [labels[i] for i in probabilities.argmax(axis=1)], labels).ua


def _nll(probabilities: np.ndarray, truth: np.ndarray) -> float:
    return float(-np.mean(np.log(np.maximum(probabilities[np.arange(len(truth)), truth], 1e-12))))
