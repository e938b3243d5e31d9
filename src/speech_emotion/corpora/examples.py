"""Corpus utterances with their features, and the statistics that normalise each, as a bundle's
:class:`~speech_emotion.preprocessing.Preprocessing` says.

Neutral statistics are fitted on the *training* speakers' neutral speech only, one set per corpus, plus the
pooled ``default`` set of all training corpora that a bundle uses for speech from anywhere else
(:func:`fit_normalization`). :func:`statistics_for` is the one place that picks each utterance's statistics, for
training, its validation and ``evaluate`` alike: its corpus's neutral ones, or its speaker's own
(:func:`speaker_normalization`), with ``hybrid`` keeping the corpus's for corpora of one-emotion speakers
(:func:`one_emotion_corpora`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from speech_emotion.bundle import DEFAULT_STATS
from speech_emotion.corpora.base import Corpus, CorpusError, Utterance
from speech_emotion.corpora.cache import FeatureSet
from speech_emotion.normalization import NormStats, fit_group_stats
from speech_emotion.preprocessing import Preprocessing


@dataclass(frozen=True)
class Example:
    """An utterance and its raw ``(frames, 40, 3)`` features."""

    utterance: Utterance
    features: np.ndarray


def examples_of(utterances: Sequence[Utterance], feature_set: FeatureSet) -> list[Example]:
    """The utterances whose features could be extracted (the unreadable ones are in ``feature_set.unreadable``)."""
    return [Example(u, feature_set.features[u.path]) for u in utterances if u.path in feature_set.features]


def statistics_for(
    examples: Sequence[Example], preprocessing: Preprocessing, corpus_stats: Mapping[str, NormStats]
) -> list[NormStats]:
    """Each example's statistics as ``preprocessing`` says: its corpus's (from ``corpus_stats``), the pooled
    ``default`` ones, or its speaker's."""
    if preprocessing.statistics == "global":
        return [corpus_stats[DEFAULT_STATS]] * len(examples)
    if not preprocessing.per_speaker:
        return [corpus_stats[e.utterance.corpus] for e in examples]
    return speaker_normalization(examples, {name: corpus_stats[name] for name in preprocessing.corpus_statistics})


def speaker_normalization(examples: Sequence[Example], kept: Mapping[str, NormStats] | None = None) -> list[NormStats]:
    """For each example, the statistics of all its speaker's examples (no labels used; speakers per corpus).

    The corpora in ``kept`` keep the statistics given there instead (``hybrid``: one-emotion corpora).
    """
    kept = kept or {}
    own = [e for e in examples if e.utterance.corpus not in kept]
    stats = fit_group_stats(
        (((e.utterance.corpus, e.utterance.speaker), None, e.features) for e in own), neutral_label=None
    )
    missing = next((e for e in own if (e.utterance.corpus, e.utterance.speaker) not in stats), None)
    if missing is not None:
        raise CorpusError(
            missing.utterance.path, f"speaker {missing.utterance.speaker} has too little speech to normalise with"
        )
    return [
        kept[e.utterance.corpus] if e.utterance.corpus in kept else stats[e.utterance.corpus, e.utterance.speaker]
        for e in examples
    ]


def one_emotion_corpora(utterances: Iterable[Utterance]) -> set[str]:
    """Corpora where most speakers speak in a single emotion (URDU), so per-speaker statistics would erase it."""
    emotions = defaultdict(set)
    for u in utterances:
        emotions[u.corpus, u.speaker].add(u.label)
    one_emotion = defaultdict(list)
    for (corpus, _), labels in emotions.items():
        one_emotion[corpus].append(len(labels) == 1)
    return {corpus for corpus, flags in one_emotion.items() if 2 * sum(flags) > len(flags)}


def fit_normalization(
    train: Sequence[Example], corpora: Sequence[Corpus], neutral: bool = True
) -> dict[str, NormStats]:
    """Neutral statistics per training corpus and pooled over all of them (``"default"``); of all their speech
    with ``neutral=False``."""
    items = []
    for e in train:
        items.append((e.utterance.corpus, e.utterance.label, e.features))
        items.append((DEFAULT_STATS, e.utterance.label, e.features))
    stats = fit_group_stats(items, neutral_label="neutral" if neutral else None)
    for corpus in corpora:
        if corpus.name not in stats:
            what = "neutral speech" if neutral else "speech"
            raise CorpusError(corpus.root, f"no readable {what} from training speakers to normalise with")
    return stats
