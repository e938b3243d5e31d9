"""What a bundle expects of its input, saved in the bundle: how audio becomes features, which statistics
normalise them, and how windows are cut and pooled.

Every path that feeds a model (``predict``, ``evaluate``, training's validation, the monitor) reads this record
instead of deciding for itself, so each feeds the model as it was trained. The statistics strategies:

``corpus``: each corpus's neutral speech (the reference's way); speech from anywhere else gets the bundle's
pooled ``default`` statistics. ``global``: every utterance the pooled ``default`` statistics, as a lone file
gets them. ``speaker``: each speaker's own speech, all of it (no labels needed; what a monitor
can learn of a person). ``hybrid``: as ``speaker``, but the corpora in ``corpus_statistics``, whose speakers each
speak one emotion (URDU), keep their corpus's neutral statistics, since a speaker's own would erase the emotion.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from speech_emotion.egemaps import EGEMAPS_SETTINGS, egemaps_functionals
from speech_emotion.features import FEATURE_SETTINGS, FRAMES_PER_SECOND, log_mel_3d_batch
from speech_emotion.windows import INFERENCE_HOP, POOLINGS

STATISTICS = ("corpus", "speaker", "hybrid", "global")
PER_SPEAKER = ("speaker", "hybrid")  # the strategies that z-score speakers with their own statistics
FEATURE_KINDS = {"logmel": FEATURE_SETTINGS, "egemaps": EGEMAPS_SETTINGS}
UTTERANCE_SECONDS = 3.0  # what one row of functionals stands for when statistics are weighed in seconds


@dataclass(frozen=True)
class Preprocessing:
    statistics: str = "corpus"
    corpus_statistics: tuple[str, ...] = ()  # hybrid: the corpora normalised with their neutral statistics
    trim: bool = False  # files cut to their speech with the monitor's VAD before features (the reference: whole)
    pooling: str = "max"  # utterance score from window scores (see windows.pool_logits)
    hop: int = INFERENCE_HOP  # frames between the windows scored
    features: dict = field(default_factory=lambda: dict(FEATURE_SETTINGS))

    def __post_init__(self):
        if self.statistics not in STATISTICS:
            raise ValueError(f"statistics must be one of {', '.join(STATISTICS)}, not {self.statistics!r}")
        if self.pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {', '.join(POOLINGS)}, not {self.pooling!r}")
        if self.hop < 1:
            raise ValueError(f"hop must be a positive number of frames, not {self.hop}")
        if self.features not in FEATURE_KINDS.values():
            raise ValueError(f"features {self.features} are not ones this version computes")
        object.__setattr__(self, "corpus_statistics", tuple(self.corpus_statistics))

    @classmethod
    def of_kind(cls, kind: str, **settings) -> Preprocessing:
        """The record for ``logmel`` (the ACRNN's windows) or ``egemaps`` (one row of functionals) features."""
        return cls(features=dict(FEATURE_KINDS[kind]), **settings)

    @property
    def feature_kind(self) -> str:
        return next(kind for kind, settings in FEATURE_KINDS.items() if settings == self.features)

    @property
    def windowed(self) -> bool:
        """Whether the model reads 3 s windows of frames (log-mel), not one row per utterance (functionals)."""
        return self.feature_kind == "logmel"

    @property
    def rows_per_second(self) -> float:
        """Feature rows per second of speech: frames for log-mel, one row an utterance for functionals."""
        return FRAMES_PER_SECOND if self.windowed else 1 / UTTERANCE_SECONDS

    @property
    def adapts_to_speaker(self) -> bool:
        """Whether a monitor should learn the person's statistics (all strategies but ``global``)."""
        return self.statistics != "global"

    @property
    def per_speaker(self) -> bool:
        """Whether the model expects speech z-scored with its speaker's own statistics."""
        return self.statistics in PER_SPEAKER

    def file_features(self, recordings: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Raw ``(frames, 40, 3)`` features of 16 kHz recordings, each cut to its speech first if the model's
        training files were."""
        if self.trim:
            from speech_emotion.trimming import trim_to_speech  # loads the VAD only for the models that need it

            recordings = [trim_to_speech(audio) for audio in recordings]
        if self.windowed:
            return log_mel_3d_batch(recordings)
        return [egemaps_functionals(audio) for audio in recordings]

    def to_dict(self) -> dict:
        return {**asdict(self), "corpus_statistics": list(self.corpus_statistics)}

    @classmethod
    def from_dict(cls, data: dict) -> Preprocessing:
        return cls(**data)

    @classmethod
    def from_metadata(cls, metadata: dict) -> Preprocessing:
        """The record of a bundle saved before bundles carried one, from its training settings."""
        trained = metadata.get("train_config", {})
        return cls(
            statistics=trained.get("normalization", "corpus"),
            corpus_statistics=tuple(metadata.get("corpus_normalized", ())),
            trim=bool(trained.get("trim_silence", False)),
            pooling=trained.get("pooling", "max"),
        )
