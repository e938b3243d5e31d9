"""Normalisation for an unknown speaker: the model's statistics, pulled towards the monitored person's speech.

The recogniser normalises features with neutral-speech statistics of the speaker, which the monitor cannot
have for a new person. It starts from the bundle's ``default`` statistics (``prior_seconds`` of weight, as if
that many frames of the person's speech looked like the training speakers) and adds every frame the
recogniser heard of the person's stored utterances, their context included: the models were trained with
each speaker's statistics over whole files, silence and all, and statistics of the bare speech under a
recogniser that hears the context cost about 0.13 UA in a replay (docs/monitor.md). Older speech fades with
a half-life counted in frames heard, not in clock time, so weeks of silence change nothing and a voice that
changes over months is followed. The person's running sums (not the prior) are what is persisted, so a
restart, or a new model, keeps what was learnt.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from speech_emotion.features import FRAMES_PER_SECOND
from speech_emotion.monitor.logs import log_event
from speech_emotion.normalization import NormStats, StatsAccumulator
from speech_emotion.recognizer import EmotionRecognizer
from speech_emotion.store import Store

FORMAT_VERSION = 1
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AdaptationConfig:
    enabled: bool = True
    prior_seconds: float = 3.0  # weight of the model's statistics, in seconds of speech (docs/monitor.md: why 3)
    half_life_hours: float = 5.0  # hours of *speech* after which a frame counts half
    save_interval_s: float = 60.0

    def __post_init__(self):
        if self.prior_seconds <= 0 or self.half_life_hours <= 0 or self.save_interval_s <= 0:
            raise ValueError("adaptation.prior_seconds, half_life_hours and save_interval_s must be positive")


class SpeakerNormalizer:
    """The person's exponentially forgotten feature sums, combined with a model's statistics on demand.

    Weights count feature rows: log-mel frames, or one row of functionals an utterance (``rows_per_second``,
    the model's :attr:`~speech_emotion.preprocessing.Preprocessing.rows_per_second`).
    """

    def __init__(self, config: AdaptationConfig | None = None, rows_per_second: float = FRAMES_PER_SECOND):
        self.config = config or AdaptationConfig()
        self.rows_per_second = rows_per_second
        self.prior_frames = self.config.prior_seconds * rows_per_second
        self.half_life_frames = self.config.half_life_hours * 3600 * rows_per_second
        self.total: np.ndarray | float = 0.0  # takes the features' shape with the first utterance
        self.total_sq: np.ndarray | float = 0.0
        self.weight = 0.0  # rows of the person's speech, after forgetting
        self.frames_seen = 0  # rows ever added, for the record

    def update(self, features: np.ndarray) -> None:
        """Add one utterance's raw ``(frames, 40, 3)`` features."""
        utterance = StatsAccumulator()
        utterance.add(features)
        keep = 0.5 ** (utterance.frames / self.half_life_frames)
        self.total = self.total * keep + utterance.total
        self.total_sq = self.total_sq * keep + utterance.total_sq
        self.weight = self.weight * keep + utterance.frames
        self.frames_seen += utterance.frames

    def stats(self, prior: NormStats) -> NormStats:
        """The statistics to normalise the next utterance with, given the model's."""
        prior_weight = self.prior_frames
        mean_p = prior.mean.astype(np.float64)
        square_p = np.square(prior.std.astype(np.float64)) + np.square(mean_p)
        weight = prior_weight + self.weight
        mean = (prior_weight * mean_p + self.total) / weight
        var = np.maximum((prior_weight * square_p + self.total_sq) / weight - np.square(mean), 0.0)
        return NormStats(mean=mean.astype(np.float32), std=np.sqrt(var).astype(np.float32), frames=round(weight))

    def to_dict(self) -> dict:
        return {
            "version": FORMAT_VERSION,
            "total": np.asarray(self.total).tolist(),
            "total_sq": np.asarray(self.total_sq).tolist(),
            "weight": self.weight,
            "frames_seen": self.frames_seen,
        }

    def restore(self, data: dict) -> None:
        """Take back what :meth:`to_dict` saved; ``ValueError`` if it is not that."""
        if data.get("version") != FORMAT_VERSION:
            raise ValueError(f"speaker statistics version {data.get('version')!r} is not {FORMAT_VERSION}")
        total = np.asarray(data["total"], dtype=np.float64)
        total_sq = np.asarray(data["total_sq"], dtype=np.float64)
        weight = float(data["weight"])
        if total.shape != total_sq.shape:
            raise ValueError(f"speaker statistics of shapes {total.shape} and {total_sq.shape}")
        if not (np.isfinite(total).all() and np.isfinite(total_sq).all() and np.isfinite(weight) and weight >= 0):
            raise ValueError("speaker statistics hold non-finite or negative values")
        self.total, self.total_sq, self.weight = total, total_sq, weight
        self.frames_seen = int(data.get("frames_seen", 0))

    @property
    def speech_seconds(self) -> float:
        """Seconds of the person's speech the statistics rest on, after forgetting."""
        return self.weight / self.rows_per_second

    def fits(self, prior: NormStats) -> bool:
        """Whether what was learnt is of the features ``prior`` describes (a new kind of model starts anew)."""
        return np.ndim(self.total) == 0 or np.shape(self.total) == prior.mean.shape


class PersonAdaptation:
    """What a monitor learns of one person for a recogniser: a :class:`SpeakerNormalizer` for each kind of
    features that one of its parts reads with speaker statistics (a fused recogniser may have two kinds; parts
    that normalise with global statistics keep the model's). Persisted per source, keyed by feature kind, so
    a new model of the same features keeps what was learnt."""

    def __init__(self, parts: Sequence[EmotionRecognizer], config: AdaptationConfig | None = None):
        self.parts = list(parts)
        self.config = config or AdaptationConfig()
        self.normalizers = {
            part.preprocessing.feature_kind: SpeakerNormalizer(self.config, part.preprocessing.rows_per_second)
            for part in self.parts
            if part.preprocessing.adapts_to_speaker
        }

    @property
    def adapts(self) -> bool:
        return self.config.enabled and bool(self.normalizers)

    def stats(self) -> list[NormStats]:
        """Each part's statistics for the next utterance."""
        return [self._stats(part) for part in self.parts]

    def _stats(self, part: EmotionRecognizer) -> NormStats:
        normalizer = self.normalizers.get(part.preprocessing.feature_kind)
        if not self.adapts or normalizer is None or not part.preprocessing.adapts_to_speaker:
            return part.stats
        return normalizer.stats(part.stats)

    def update(self, features: Sequence[np.ndarray]) -> None:
        """Add one utterance, given as each part's raw features (each kind once)."""
        kinds = {part.preprocessing.feature_kind: f for part, f in zip(self.parts, features, strict=True)}
        for kind, normalizer in self.normalizers.items():
            normalizer.update(kinds[kind])

    @property
    def speech_seconds(self) -> float:
        """Seconds of the person's speech the statistics rest on (the longest-lived kind's)."""
        return max((n.speech_seconds for n in self.normalizers.values()), default=0.0)

    def to_dict(self) -> dict:
        return {"version": 2, "features": {kind: n.to_dict() for kind, n in self.normalizers.items()}}

    def restore(self, saved: dict, source_id: str) -> None:
        """Take back what :meth:`to_dict` saved (or a single normaliser's record, from before fusion), kind by
        kind; a kind that is unreadable or was learnt of other features starts anew, saying why."""
        legacy = saved.get("version") != 2  # one normaliser's record: which kind it was is told by its shape
        records = {kind: saved for kind in self.normalizers} if legacy else saved.get("features", {})
        for kind, normalizer in self.normalizers.items():
            if kind not in records:
                continue
            prior = next(p.stats for p in self.parts if p.preprocessing.feature_kind == kind)
            try:
                normalizer.restore(records[kind])
                if not normalizer.fits(prior):
                    raise ValueError(f"learnt of features shaped {np.shape(normalizer.total)}, not {prior.mean.shape}")
            except (KeyError, TypeError, ValueError, AttributeError) as e:
                log_event(log, logging.WARNING, "speaker statistics unreadable, starting anew", source=source_id,
                          features=kind, error=e)  # fmt: skip
                self.normalizers[kind] = SpeakerNormalizer(self.config, normalizer.rows_per_second)
                continue
            log_event(log, logging.INFO, "speaker statistics restored", source=source_id, features=kind,
                      speech_s=normalizer.speech_seconds)  # fmt: skip


def load_adaptation(
    store: Store, source_id: str, parts: Sequence[EmotionRecognizer], config: AdaptationConfig | None = None
) -> PersonAdaptation:
    """The source's persisted adaptation for a recogniser's parts, or a fresh one when there is none."""
    adaptation = PersonAdaptation(parts, config)
    saved = store.load_speaker_stats(source_id)
    if saved is None:
        log_event(log, logging.INFO, "speaker statistics new", source=source_id)
    elif not isinstance(saved, dict):
        log_event(log, logging.WARNING, "speaker statistics unreadable, starting anew", source=source_id)
    else:
        adaptation.restore(saved, source_id)
    return adaptation


def save_adaptation(store: Store, source_id: str, adaptation: PersonAdaptation) -> None:
    store.save_speaker_stats(source_id, adaptation.to_dict())
