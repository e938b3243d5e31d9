"""EmotionRecognizer: 16 kHz audio in, emotion label, class probabilities and a per-window timeline out.

This is the one recognition path: ``predict``, evaluation, training's validation and the monitor all go through
it, so the monitor runs exactly what evaluation measured. How audio becomes features, and how windows are cut
and pooled, is the bundle's :class:`~speech_emotion.preprocessing.Preprocessing`. A bundle may carry logit
offsets (``tune-offset``): added to every window's logits before pooling, they move the decision toward one
emotion; they are part of the model. So is a temperature (``tune-temperature``), which divides the logits after
them: it calibrates the probabilities and changes no label.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from speech_emotion.bundle import DEFAULT_STATS, ModelBundle, load_bundle
from speech_emotion.errors import BundleError, SpeechEmotionError
from speech_emotion.normalization import NormStats, fit_stats
from speech_emotion.windows import WindowSpan, cut_windows, pool_logits, to_model_input

MAX_WINDOWS_PER_BATCH = 64
LOGIT_OFFSETS = "logit_offsets"  # bundle metadata: label -> the offset added to its logits (labels absent: 0)
NO_SPEECH = "no speech"  # what audio without speech is given, never an emotion
TEMPERATURE = "temperature"  # bundle metadata: what every window's logits are divided by (tune-temperature)


@dataclass(frozen=True)
class WindowScore:
    start_s: float
    end_s: float
    probabilities: dict[str, float]


@dataclass(frozen=True)
class Prediction:
    label: str
    probabilities: dict[str, float]
    windows: list[WindowScore]

    def to_dict(self) -> dict:
        return {
            "label": self.label,
            "probabilities": self.probabilities,
            "windows": [
                {"start_s": round(w.start_s, 3), "end_s": round(w.end_s, 3), "probabilities": w.probabilities}
                for w in self.windows
            ],
        }


class EmotionRecognizer:
    """A loaded model with its normalisation; thread-compatible (one ``predict`` at a time per instance)."""

    def __init__(
        self,
        bundle: ModelBundle,
        device: str = "cpu",
        pooling: str | None = None,
        stats: NormStats | None = None,
    ):
        """``pooling`` overrides the bundle's; ``stats`` replaces its pooled statistics as the default."""
        self.bundle = bundle
        self.preprocessing = bundle.preprocessing
        self.device = resolve_device(device)
        self.pooling = pooling or self.preprocessing.pooling
        self.hop = self.preprocessing.hop
        self.stats = stats or bundle.stats(DEFAULT_STATS)
        self.model = bundle.build_model().to(self.device)
        self.logit_offsets = logit_offsets(bundle)
        self.temperature = float(bundle.metadata.get(TEMPERATURE, 1.0))
        pool_logits(torch.zeros(1, len(bundle.labels)), self.pooling)  # fail now on a bad pooling name

    @classmethod
    def load(cls, name_or_path: str | os.PathLike, **kwargs) -> EmotionRecognizer:
        return cls(load_bundle(name_or_path), **kwargs)

    @property
    def labels(self) -> list[str]:
        return self.bundle.labels

    @property
    def model_id(self) -> str:
        return self.bundle.model_id

    @property
    def parts(self) -> list[EmotionRecognizer]:
        """The models whose features are computed and normalised for it: itself (a fused recogniser has several)."""
        return [self]

    def predict_parts(
        self, features: Sequence[np.ndarray], stats: Sequence[NormStats | None] | None = None
    ) -> Prediction:
        """One utterance from its raw features, as :meth:`FusedRecognizer.predict_parts` takes them."""
        return self.predict_features([features[0]], stats[0] if stats else None)[0]

    def features(self, audio: np.ndarray) -> np.ndarray:
        """Raw ``(frames, 40, 3)`` features of 16 kHz audio, as the bundle's training files were featurised."""
        return self.preprocessing.file_features([audio])[0]

    def predict(self, audio: np.ndarray, stats: NormStats | None = None) -> Prediction:
        """Recognise one 16 kHz mono utterance."""
        return self.predict_batch([audio], stats)[0]

    def predict_batch(self, utterances: Sequence[np.ndarray], stats: NormStats | None = None) -> list[Prediction]:
        """Recognise many utterances; their windows go through the network together."""
        return self.predict_features(self.preprocessing.file_features(utterances), stats)

    def predict_features(self, features: Sequence[np.ndarray], stats: NormStats | None = None) -> list[Prediction]:
        """Recognise utterances given as raw ``(frames, 40, 3)`` features (normalised here)."""
        return [
            self._prediction((logits + self.logit_offsets) / self.temperature, spans)
            for logits, spans in self.network_logits(features, stats)
        ]

    def network_logits(
        self, features: Sequence[np.ndarray], stats: NormStats | None = None
    ) -> list[tuple[torch.Tensor, list[WindowSpan]]]:
        """Each utterance's window logits as the network gives them (before the bundle's offsets), with the spans."""
        stats = stats or self.stats
        if self.preprocessing.windowed:
            cut = [cut_windows(stats.apply(f), self.hop) for f in features]
        else:  # a row of functionals is the utterance as a whole: one "window", with no span in time
            cut = [(stats.apply(f), []) for f in features]
        if not cut:
            return []
        logits = self.window_logits(np.concatenate([windows for windows, _ in cut]))
        bounds = np.cumsum([0] + [len(windows) for windows, _ in cut])
        return [(logits[a:b], spans) for a, b, (_, spans) in zip(bounds[:-1], bounds[1:], cut, strict=True)]

    @torch.inference_mode()
    def window_logits(self, windows: np.ndarray) -> torch.Tensor:
        """Logits ``(k, classes)`` of normalised, padded windows ``(k, frames, 40, 3)`` (or rows of functionals
        ``(k, 88)``), in batches."""
        as_input = to_model_input if self.preprocessing.windowed else torch.from_numpy
        out = [
            self.model(as_input(windows[i : i + MAX_WINDOWS_PER_BATCH]).to(self.device)).float().cpu()
            for i in range(0, len(windows), MAX_WINDOWS_PER_BATCH)
        ]
        return torch.cat(out)

    def _prediction(self, logits: torch.Tensor, spans: list[WindowSpan]) -> Prediction:
        probs = pool_logits(logits, self.pooling)
        window_probs = torch.softmax(logits, dim=-1)
        return Prediction(
            label=self.labels[int(probs.argmax())],
            probabilities=self._named(probs),
            windows=[
                WindowScore(s.start_s, s.end_s, self._named(p))
                for s, p in zip(spans, window_probs[: len(spans)], strict=True)
            ],
        )

    def _named(self, probs: torch.Tensor) -> dict[str, float]:
        return {label: round(float(p), 6) for label, p in zip(self.labels, probs, strict=True)}


def person_stats(features: Sequence[np.ndarray]) -> NormStats:
    """One person's statistics from all of their speech (no labels needed): the ``speaker`` strategy, as the
    per-speaker models were trained. :class:`SpeechEmotionError` when there is too little speech."""
    try:
        return fit_stats(features)
    except ValueError:
        raise SpeechEmotionError("too little speech to estimate a speaker's statistics") from None


def logit_offsets(bundle: ModelBundle) -> torch.Tensor:
    """The bundle's offset for each of its labels, in order; a bundle without offsets has zeros."""
    named = bundle.metadata.get(LOGIT_OFFSETS, {})
    unknown = sorted(set(named) - set(bundle.labels))
    if unknown:
        raise BundleError(bundle.model_id, f"logit offsets for {', '.join(unknown)}, which are not among its labels")
    return torch.tensor([float(named.get(label, 0.0)) for label in bundle.labels])


def resolve_device(name: str) -> torch.device:
    """The torch device for a ``--device`` value, with a one-line error when it cannot be used."""
    if name not in ("cpu", "cuda"):
        raise SpeechEmotionError(f"--device: {name!r} is not cpu or cuda")
    if name == "cuda" and not torch.cuda.is_available():
        raise SpeechEmotionError("--device cuda: no CUDA GPU is available to PyTorch on this machine")
    return torch.device(name)
