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
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from speech_emotion.audio import DEFAULT_MAX_SECONDS, SAMPLE_RATE, load_audio, to_mono_16k
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
    """An utterance's label (the most probable class, or :data:`NO_SPEECH` with no probabilities), the
    probability of each class, and each scored window's (the ACRNN's timeline; none for functionals)."""

    label: str
    probabilities: dict[str, float] | None
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


NO_SPEECH_PREDICTION = Prediction(NO_SPEECH, None, [])


class Recognition:
    """What every recogniser, single or fused, offers its users: an array at any rate, a file, one person's
    files together. A subclass has ``parts`` (the models whose features it reads) and ``predict_parts``."""

    parts: list[EmotionRecognizer]

    def predict_parts(self, features: Sequence[np.ndarray], stats: Sequence[NormStats] | None = None) -> Prediction:
        raise NotImplementedError

    def predict(self, audio: np.ndarray, sample_rate: int = SAMPLE_RATE) -> Prediction:
        """Recognise one utterance given as samples, mono or ``(frames, channels)``, at ``sample_rate`` (resampled
        to 16 kHz), with the model's own statistics. The samples are taken as speech (see :meth:`predict_file`)."""
        if isinstance(audio, str | os.PathLike):
            raise TypeError(f"predict takes samples, not the path {str(audio)!r}: use predict_file")
        audio = to_mono_16k(audio, sample_rate)
        return self.predict_parts([part.features(audio) for part in self.parts])

    def predict_file(self, path: str | os.PathLike, max_seconds: float | None = DEFAULT_MAX_SECONDS) -> Prediction:
        """The emotion of an audio file (any format soundfile reads, any rate), as ``speech-emotion predict FILE``
        gives it: ``no speech`` when the voice activity detector finds none. :class:`AudioError` names a file
        that cannot be read."""
        return self.predict_file_features(self.file_features(path, max_seconds))

    def predict_files(
        self,
        paths: Sequence[str | os.PathLike],
        same_speaker: bool = False,
        max_seconds: float | None = DEFAULT_MAX_SECONDS,
    ) -> list[Prediction]:
        """Each file's emotion; with ``same_speaker`` the files are one person's and each part normalises them
        with that person's statistics, from all of them (as ``predict --same-speaker``)."""
        features = [self.file_features(path, max_seconds) for path in paths]
        stats = self.speaker_stats([f for f in features if f is not None]) if same_speaker else None
        return [self.predict_file_features(f, stats) for f in features]

    def file_features(self, path: str | os.PathLike, max_seconds: float | None = DEFAULT_MAX_SECONDS):
        """Each part's raw features of a file, or None when it holds no speech."""
        from speech_emotion.trimming import speech_bounds  # the VAD: only for files

        audio = load_audio(path, max_seconds=max_seconds)
        return None if speech_bounds(audio) is None else [part.features(audio) for part in self.parts]

    def speaker_stats(self, features: Sequence[Sequence[np.ndarray]]) -> list[NormStats]:
        """Each part's statistics of one person, from every utterance's features (as :meth:`file_features`)."""
        return [person_stats([f[i] for f in features]) for i in range(len(self.parts))]

    def predict_file_features(
        self, features: list[np.ndarray] | None, stats: Sequence[NormStats] | None = None
    ) -> Prediction:
        """The prediction for what :meth:`file_features` gave: ``no speech`` for None."""
        return NO_SPEECH_PREDICTION if features is None else self.predict_parts(features, stats)


class EmotionRecognizer(Recognition):
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
    """The torch device for a ``--device`` value (``cpu``, ``cuda`` or ``cuda:N``), with a one-line error when it
    cannot be used."""
    match = re.fullmatch(r"cpu|cuda(?::(\d+))?", name)
    if match is None:
        raise SpeechEmotionError(f"--device: {name!r} is not cpu, cuda or cuda:N")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise SpeechEmotionError(f"--device {name}: no CUDA GPU is available to PyTorch on this machine")
    if match.group(1) is not None and int(match.group(1)) >= torch.cuda.device_count():
        raise SpeechEmotionError(f"--device {name}: this machine has {torch.cuda.device_count()} CUDA GPUs")
    return torch.device(name)
