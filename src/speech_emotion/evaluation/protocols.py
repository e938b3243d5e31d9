"""Which neutral-speech statistics normalise a corpus's speech when a model is scored on it.

``model``: the statistics the bundle stored for that corpus (it was trained on it); any other corpus needs
one of the others, chosen explicitly, because the bundle's ``default`` statistics are not that corpus's.
``target-neutral``: the evaluated corpus's own neutral speech (the reference's cross-corpus protocol).
``target-all``: all of the evaluated corpus's speech (needs no labels).
``speaker``: each speaker's own speech, all of it (needs no labels; what a monitor can do per person).
``person``: as ``speaker``, except in a corpus whose speakers each speak one emotion (URDU), where a person's
own statistics would erase the emotion: there the bundle's statistics of that corpus, or its pooled ones.
``pooled``: the bundle's statistics pooled over its training corpora, what ``predict`` gives a lone file.
The ``target-*``, ``speaker`` and ``person`` statistics come from the utterances being evaluated (the split).
A model whose preprocessing normalises per speaker (``speaker`` or ``hybrid``) expects ``speaker``, and
:func:`default_normalization` says so; a ``hybrid`` model lists the corpora it normalised with their neutral
statistics instead (one-emotion speakers), and ``speaker`` keeps the bundle's statistics for those.

Scoring goes through :meth:`EmotionRecognizer.predict_features`, the path ``predict`` and the monitor use.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass

import torch
from tqdm import tqdm

from speech_emotion.bundle import ModelBundle
from speech_emotion.corpora.base import CorpusError
from speech_emotion.corpora.examples import Example, one_emotion_corpora, speaker_normalization
from speech_emotion.normalization import NormStats, fit_stats
from speech_emotion.recognizer import EmotionRecognizer

PROTOCOLS = ("alone", "person", "stream")  # how people use a model (evaluation/evaluate.py)
NORMALIZATION_MODES = ("model", "target-neutral", "target-all", "speaker", "person", "pooled")
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
    if mode == "person":
        one_emotion = one_emotion_corpora(e.utterance for e in examples) | set(bundle.preprocessing.corpus_statistics)
        if corpus in one_emotion:
            return [bundle.normalization.get(corpus, bundle.stats())] * len(examples)
        return speaker_normalization(examples)
    raise ValueError(f"normalisation must be one of {', '.join(NORMALIZATION_MODES)}, not {mode!r}")


@dataclass(frozen=True)
class FilePrediction:
    """What a protocol made of one labelled file: its label, or ``no speech`` (the monitor found none in it)."""

    path: str
    corpus: str
    speaker: str
    truth: str
    label: str
    probabilities: dict[str, float] | None

    def to_dict(self) -> dict:
        return asdict(self)


def predict_files(
    recognizer: EmotionRecognizer, examples: Sequence[Example], stats: Sequence[NormStats]
) -> list[FilePrediction]:
    """The recogniser's prediction for each example, normalised with the statistics at the same position."""
    calls = tqdm(list(_calls(examples, stats)), desc="recognising", unit="call", disable=not sys.stderr.isatty())
    predictions = (
        p for batch, shared in calls for p in recognizer.predict_features([e.features for e in batch], shared)
    )
    return [
        FilePrediction(
            str(e.utterance.path), e.utterance.corpus, e.utterance.speaker, e.utterance.label, p.label, p.probabilities
        )
        for e, p in zip(examples, predictions, strict=True)
    ]


def predict_labels(recognizer: EmotionRecognizer, examples: Sequence[Example], stats: Sequence[NormStats]) -> list[str]:
    """The recogniser's label for each example, normalised with the statistics at the same position."""
    return [p.label for p in predict_files(recognizer, examples, stats)]


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
