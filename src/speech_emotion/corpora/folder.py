"""A user's own recordings: one sub-folder per emotion, optionally one sub-folder per speaker inside it.

Layout ``angry/clip1.wav`` or ``angry/alice/clip1.wav``. The original label is the folder name in lower
case:
angry/anger/ang, happy/happiness/hap/joy, sad/sadness, neutral/neu/calm; any other folder (e.g. ``fear``)
is counted as dropped. The language is unknown and gender is not recorded. Files in speaker sub-folders are
split by speaker; a file directly in an emotion folder is its own speaker, so such a corpus is split by
utterance and its valid and test figures are *not* speaker-independent. Splits are the deterministic hashed
ones of :mod:`speech_emotion.corpora.base`.
"""

from __future__ import annotations

from pathlib import Path

from speech_emotion.corpora.base import Corpus, Recording, build_corpus

NAME = "folder"
LANGUAGE = "unknown"
SYNONYMS = {
    "angry": ("angry", "anger", "ang"),
    "happy": ("happy", "happiness", "hap", "joy"),
    "sad": ("sad", "sadness"),
    "neutral": ("neutral", "neu", "calm"),
}
MAPPING = {name: label for label, names in SYNONYMS.items() for name in names}


def read(root: Path) -> Corpus:
    return build_corpus(NAME, root, LANGUAGE, _parse, MAPPING, None, "like angry/clip1.wav or angry/alice/clip1.wav")


def _parse(rel: Path) -> Recording | None:
    if len(rel.parts) == 2:
        return Recording(rel.stem, None, rel.parts[0].lower())
    if len(rel.parts) == 3:
        return Recording(rel.parts[1], None, rel.parts[0].lower())
    return None
