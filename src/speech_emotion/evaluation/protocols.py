"""Which neutral-speech statistics normalise a corpus's speech when a model is scored on it.

``model``: the statistics the bundle stored for that corpus (it was trained on it); any other corpus needs
one of the others, chosen explicitly, because the bundle's ``default`` statistics are not that corpus's.
``target-neutral``: the evaluated corpus's own neutral speech (the reference's cross-corpus protocol).
``target-all``: all of the evaluated corpus's speech (needs no labels).
``speaker``: each speaker's own speech, all of it (needs no labels; what a monitor can do per person).
The ``target-*`` and ``speaker`` statistics come from the utterances being evaluated (the chosen split).
A model whose preprocessing normalises per speaker (``speaker`` or ``hybrid``) expects ``speaker``, and
:func:`default_normalization` says so; a ``hybrid`` model lists the corpora it normalised with their neutral
statistics instead (one-emotion speakers), and ``speaker`` keeps the bundle's statistics for those.

Scoring goes through :meth:`EmotionRecognizer.predict_features`, the path ``predict`` and the monitor use.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import torch

from speech_emotion.bundle import ModelBundle
from speech_emotion.corpora.base import CorpusError
from speech_emotion.corpora.examples import Example, speaker_normalization
from speech_emotion.normalization import NormStats, fit_stats
from speech_emotion.recognizer import EmotionRecognizer

NORMALIZATION_MODES = ("model", "target-neutral", "target-all", "speaker", "pooled")
UTTERANCES_PER_CALL = 64  # bounds the windows held at once


def default_normalization(bundle: ModelBundle) -> str:
    """The mode that normalises a corpus the model was trained on as its training speech was normalised."""
    if bundle.preprocessing.statistics == "global":
        return "pooled"
    return "speaker" if bundle.preprocessing.per_speaker else "model"


def corpus_normalization(mode: str, bundle: ModelBundle, corpus: str, examples: Sequence[Example]) -> list[NormStats]:
    """The statistics for each of one corpus's ``examples`` under normalisation ``mode``."""
    if mode == "model":
        return [bundle.stats(corpus)] * len(examples)
    if mode == "target-neutral":
        neutral = [e.features for e in examples if e.utterance.label == "neutral"]
        if sum(len(f) for f in neutral) < 2:
            raise CorpusError(
                corpus, "no neutral speech in the evaluated utterances for --normalization target-neutral"
            )
        return [fit_stats(neutral)] * len(examples)
    if mode == "target-all":
        return [fit_stats(e.features for e in examples)] * len(examples)
    if mode == "pooled":  # what `predict` gives a lone file: nothing known of its corpus or speaker
        return [bundle.stats()] * len(examples)
    if mode == "speaker":
        kept = bundle.preprocessing.corpus_statistics
        return speaker_normalization(examples, {name: bundle.stats(name) for name in kept})
    raise ValueError(f"normalisation must be one of {', '.join(NORMALIZATION_MODES)}, not {mode!r}")


def predict_labels(recognizer: EmotionRecognizer, examples: Sequence[Example], stats: Sequence[NormStats]) -> list[str]:
    """The recogniser's label for each example, normalised with the statistics at the same position."""
    return [
        p.label
        for batch, shared in _calls(examples, stats)
        for p in recognizer.predict_features([e.features for e in batch], shared)
    ]


def network_logits(
    recognizer: EmotionRecognizer, examples: Sequence[Example], stats: Sequence[NormStats]
) -> list[torch.Tensor]:
    """Each example's window logits before the bundle's offsets, normalised as :func:`predict_labels` does."""
    return [
        logits
        for batch, shared in _calls(examples, stats)
        for logits, _ in recognizer.network_logits([e.features for e in batch], shared)
    ]


def _calls(examples: Sequence[Example], stats: Sequence[NormStats]) -> Iterator[tuple[Sequence[Example], NormStats]]:
    """Runs of consecutive examples that share statistics, at most :data:`UTTERANCES_PER_CALL` long."""
    start = 0
    while start < len(examples):
        end = start + 1
        while end < len(examples) and end - start < UTTERANCES_PER_CALL and stats[end] is stats[start]:
            end += 1
        yield examples[start:end], stats[start]
        start = end
