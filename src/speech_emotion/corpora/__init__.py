"""Readers for emotional-speech corpora in their original layouts, mapped to four classes with speaker splits."""

from speech_emotion.corpora.base import (
    CORPUS_NAMES,
    LABELS,
    SPLITS,
    Corpus,
    CorpusError,
    CorpusSpec,
    Unreadable,
    Utterance,
    parse_corpus_spec,
    read_corpora,
    read_corpus,
)

__all__ = [
    "CORPUS_NAMES",
    "LABELS",
    "SPLITS",
    "Corpus",
    "CorpusError",
    "CorpusSpec",
    "Unreadable",
    "Utterance",
    "parse_corpus_spec",
    "read_corpora",
    "read_corpus",
]
