"""Utterance-level scores of emotion predictions, computed with scikit-learn.

UA (unweighted accuracy) is the mean of the per-class recalls, so every class counts the same however rare;
WA (weighted accuracy) is plain accuracy. UA and macro F1 average over the classes present in the true
labels: a test set without, say, sad speech has no sad recall to average, and counting it as 0 would
understate the model. Per-class figures are given for every label, with support 0 where it is absent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support, recall_score


@dataclass(frozen=True)
class Scores:
    ua: float
    wa: float
    macro_f1: float
    per_class: dict[str, dict[str, float]]  # label -> precision, recall, f1, support
    confusion: list[list[int]]  # rows true, columns predicted, in ``labels`` order
    labels: list[str]
    n_utterances: int
    ece: float | None = None  # expected calibration error of the predicted labels' probabilities, where known

    def to_dict(self) -> dict:
        return asdict(self)


def score(
    true: Sequence[str],
    predicted: Sequence[str],
    labels: Sequence[str],
    confidence: Sequence[float | None] | None = None,
) -> Scores:
    """Scores of ``predicted`` against ``true`` labels (both label names), over ``labels``; with the probability
    each prediction was given (``confidence``; None where it has none), their expected calibration error."""
    if len(true) != len(predicted):
        raise ValueError(f"{len(true)} true labels but {len(predicted)} predictions")
    if not true:
        raise ValueError("no utterances to score")
    labels = list(labels)
    present = [label for label in labels if label in set(true)]
    precision, recall, f1, support = precision_recall_fscore_support(true, predicted, labels=labels, zero_division=0)
    return Scores(
        ua=float(recall_score(true, predicted, labels=present, average="macro", zero_division=0)),
        wa=float(accuracy_score(true, predicted)),
        macro_f1=float(f1_score(true, predicted, labels=present, average="macro", zero_division=0)),
        per_class={
            label: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(n)}
            for label, p, r, f, n in zip(labels, precision, recall, f1, support, strict=True)
        },
        confusion=confusion_matrix(true, predicted, labels=labels).tolist(),
        labels=labels,
        n_utterances=len(true),
        ece=_ece(true, predicted, confidence),
    )


def _ece(true: Sequence[str], predicted: Sequence[str], confidence: Sequence[float | None] | None) -> float | None:
    known = [
        (t == p, c) for t, p, c in zip(true, predicted, confidence or [None] * len(true), strict=True) if c is not None
    ]
    if not known:
        return None
    correct, confident = zip(*known, strict=True)
    return expected_calibration_error(np.array(confident), np.array(correct))


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray, bins: int = 10) -> float:
    """The mean gap between confidence and accuracy over ``bins`` equal-width confidence bins, each weighted by
    its share of the predictions."""
    confidence, correct = np.asarray(confidence, dtype=float), np.asarray(correct, dtype=float)
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    gap = sum(abs(correct[which == b].mean() - confidence[which == b].mean()) * np.mean(which == b)
              for b in range(bins) if np.any(which == b))  # fmt: skip
    return float(gap)
