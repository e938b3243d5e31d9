"""Late fusion: several models, each fed as it was trained, heard as one recogniser.

A :class:`~speech_emotion.bundle.FusedBundle` joins models whose strengths differ: the ACRNN reads the spectrum
frame by frame, the eGeMAPS peer a handful of prosodic and voice-quality functionals, and each may normalise
with other statistics. Every part predicts with its own input policy; the fused distribution is the
weighted geometric mean of the parts' distributions, sharpened or softened by the temperature:
``p ∝ exp(Σ wᵢ log pᵢ / T)`` with the weights summing to one. The weights and the temperature are chosen on
validation speakers (``speech-emotion fuse``). The label is the most probable class; nothing is shifted.

Everything that scores speech goes through :meth:`predict_parts` (``predict``, the monitor) or, for files the
parts scored separately, :meth:`fuse` (evaluation), so the two agree to the last digit.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from speech_emotion.bundle import DEFAULT_MODEL, FusedBundle, ModelBundle, load_any_bundle
from speech_emotion.normalization import NormStats
from speech_emotion.recognizer import EmotionRecognizer, Prediction, Recognition

FLOOR = 1e-9  # a part's probability below this counts as this, so that no part can veto a class outright


class FusedRecognizer(Recognition):
    """The parts of a fused bundle, each an :class:`EmotionRecognizer`, and how their probabilities join."""

    def __init__(self, bundle: FusedBundle, device: str = "cpu", pooling: str | None = None):
        self.bundle = bundle
        self.parts = [EmotionRecognizer(part, device=device, pooling=pooling) for part in bundle.parts]
        total = sum(bundle.weights)
        self.weights = [w / total for w in bundle.weights]
        self.temperature = bundle.temperature

    @property
    def labels(self) -> list[str]:
        return self.bundle.labels

    @property
    def model_id(self) -> str:
        return self.bundle.model_id

    def predict_parts(
        self, features: Sequence[np.ndarray], stats: Sequence[NormStats | None] | None = None
    ) -> Prediction:
        """One utterance from each part's raw features, normalised with each part's statistics (its own by
        default)."""
        stats = stats or [None] * len(self.parts)
        return self.fuse(
            [part.predict_features([f], s)[0] for part, f, s in zip(self.parts, features, stats, strict=True)]
        )

    def fuse(self, predictions: Sequence[Prediction]) -> Prediction:
        """The fused prediction from each part's; the timeline is that of the first part that has one."""
        probabilities = self.fused_probabilities([p.probabilities for p in predictions])
        label = max(probabilities, key=probabilities.get)
        windows = next((p.windows for p in predictions if p.windows), [])
        return Prediction(label=label, probabilities=probabilities, windows=windows)

    def fused_probabilities(self, parts: Sequence[dict[str, float]]) -> dict[str, float]:
        logs = [log_probabilities([p[label] for label in self.labels]) for p in parts]
        fused = fuse_log_probabilities(logs, self.weights, self.temperature)
        return {label: round(float(p), 6) for label, p in zip(self.labels, fused, strict=True)}


def log_probabilities(probabilities) -> np.ndarray:
    """``log p``, with probabilities below :data:`FLOOR` counted as it."""
    return np.log(np.maximum(probabilities, FLOOR))


def fuse_log_probabilities(logs: Sequence[np.ndarray], weights: Sequence[float], temperature: float) -> np.ndarray:
    """The fused distribution ``softmax(Σ wᵢ log pᵢ / T)`` over the last axis of each part's log-probabilities
    (one utterance's ``(classes,)``, or many ``(files, classes)``); the one place the fusion is computed."""
    log = sum(w * part for w, part in zip(weights, logs, strict=True)) / temperature
    fused = np.exp(log - log.max(axis=-1, keepdims=True))
    return fused / fused.sum(axis=-1, keepdims=True)


Recognizer = EmotionRecognizer | FusedRecognizer


def load_recognizer(
    name_or_path: str | os.PathLike = DEFAULT_MODEL, device: str = "cpu", pooling: str | None = None
) -> Recognizer:
    """The recogniser of a bundle, single or fused, from a path or a shipped name (the default model unless
    told); ``device``: ``cpu``, ``cuda`` or ``cuda:N``."""
    bundle = load_any_bundle(name_or_path)
    if isinstance(bundle, ModelBundle):
        return EmotionRecognizer(bundle, device=device, pooling=pooling)
    return FusedRecognizer(bundle, device=device, pooling=pooling)
