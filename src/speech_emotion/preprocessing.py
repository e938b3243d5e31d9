"""What a bundle expects of its input, saved in the bundle: how audio becomes features, which statistics
normalise them, and how windows are cut and pooled.

Every path that feeds a model (``predict``, ``evaluate``, training's validation, the monitor) reads this record
instead of deciding for itself, so each feeds the model as it was trained. The statistics strategies:

``corpus``: each corpus's neutral speech (the reference's way); speech from anywhere else gets the bundle's
pooled ``default`` statistics. ``speaker``: each speaker's own speech, all of it (no labels needed; what a monitor
can learn of a person). ``hybrid``: as ``speaker``, but the corpora in ``corpus_statistics``, whose speakers each
speak one emotion (URDU), keep their corpus's neutral statistics, since a speaker's own would erase the emotion.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from speech_emotion.features import FEATURE_SETTINGS, log_mel_3d_batch
from speech_emotion.windows import INFERENCE_HOP, POOLINGS

STATISTICS = ("corpus", "speaker", "hybrid")
PER_SPEAKER = ("speaker", "hybrid")  # the strategies that z-score speakers with their own statistics


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
        if self.features != FEATURE_SETTINGS:
            raise ValueError(f"features {self.features} are not the ones this version computes ({FEATURE_SETTINGS})")
        object.__setattr__(self, "corpus_statistics", tuple(self.corpus_statistics))

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
        return log_mel_3d_batch(recordings)

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
