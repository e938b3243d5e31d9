"""Utterances with their features, neutral statistics from training speakers, and training windows.

Statistics are fitted on the *training* speakers' neutral speech only, one set per corpus, plus the pooled
``default`` set of all training corpora that the bundle uses for speech from anywhere else. With per-speaker
normalisation each speaker's speech is z-scored with the statistics of all of that speaker's speech instead, as
a monitor can do for a person whose neutral speech it cannot pick out (:func:`speaker_normalization`); the
``hybrid`` mode keeps the corpus's neutral statistics for corpora whose speakers speak in one emotion each
(:func:`one_emotion_corpora`), where a speaker's own statistics would be those of the emotion itself. Windows
are cut from normalised features and zero-padded after normalisation (see :mod:`speech_emotion.windows`); they
are cut when a batch is built, so memory holds each utterance's features once, not every window.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import torch

from speech_emotion.bundle import DEFAULT_STATS
from speech_emotion.corpora.base import Corpus, CorpusError, Utterance
from speech_emotion.normalization import NormStats, fit_group_stats
from speech_emotion.training.cache import FeatureSet
from speech_emotion.training.speed import speaker_at
from speech_emotion.windows import WINDOW_FRAMES, cut_windows, to_model_input, window_starts


@dataclass(frozen=True)
class Example:
    """An utterance and its raw ``(frames, 40, 3)`` features."""

    utterance: Utterance
    features: np.ndarray


def examples_of(utterances: Sequence[Utterance], feature_set: FeatureSet) -> list[Example]:
    """The utterances whose features could be extracted (the unreadable ones are in ``feature_set.unreadable``)."""
    return [Example(u, feature_set.features[u.path]) for u in utterances if u.path in feature_set.features]


def perturbed_examples(utterances: Sequence[Utterance], feature_set: FeatureSet, speed: float) -> list[Example]:
    """The utterances played ``speed`` times as fast (``feature_set`` holds those copies' features), each copy
    spoken by its own pseudo-speaker (:mod:`.speed`)."""
    return [
        Example(replace(e.utterance, speaker=speaker_at(e.utterance.speaker, speed)), e.features)
        for e in examples_of(utterances, feature_set)
    ]


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


def fit_normalization(train: Sequence[Example], corpora: Sequence[Corpus]) -> dict[str, NormStats]:
    """Neutral statistics per training corpus and pooled over all of them (``"default"``)."""
    items = []
    for e in train:
        items.append((e.utterance.corpus, e.utterance.label, e.features))
        items.append((DEFAULT_STATS, e.utterance.label, e.features))
    stats = fit_group_stats(items)
    for corpus in corpora:
        if corpus.name not in stats:
            raise CorpusError(corpus.root, "no readable neutral speech from training speakers to normalise with")
    return stats


class WindowSet:
    """Training windows: ``(utterance, start frame)`` references into normalised features, with class indices and
    corpus indices (into ``corpus_names``, sorted; the corpus adversary's targets).

    ``stats`` normalises the example at the same position.
    """

    def __init__(self, examples: Sequence[Example], stats: Sequence[NormStats], labels: Sequence[str], hop: int | None):
        self.features = [s.apply(e.features) for e, s in zip(examples, stats, strict=True)]
        self.corpus_names = sorted({e.utterance.corpus for e in examples})
        refs, classes, corpora = [], [], []
        for i, (e, feats) in enumerate(zip(examples, self.features, strict=True)):
            starts = window_starts(len(feats), hop)
            refs.extend((i, s) for s in starts)
            classes.extend([labels.index(e.utterance.label)] * len(starts))
            corpora.extend([self.corpus_names.index(e.utterance.corpus)] * len(starts))
        self.refs = np.array(refs, dtype=np.int64).reshape(-1, 2)
        self.classes = np.array(classes, dtype=np.int64)
        self.corpora = np.array(corpora, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.refs)

    def batch(self, indices: np.ndarray) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Model input ``(k, 3, 300, 40)``, class indices ``(k,)`` and corpus indices ``(k,)`` of the given windows."""
        windows = np.concatenate(
            [cut_windows(self.features[u][s : s + WINDOW_FRAMES], hop=None)[0] for u, s in self.refs[indices]]
        )
        return to_model_input(windows), torch.from_numpy(self.classes[indices]), torch.from_numpy(self.corpora[indices])
