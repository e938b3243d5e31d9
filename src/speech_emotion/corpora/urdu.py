"""URDU: Urdu, 400 utterances of unscripted speech from Urdu television talk shows, 4 emotions.

Layout ``Angry/SM2_F10_A032.wav``: the folder is the emotion (Angry, Happy, Neutral, Sad), the name starts
with the speaker, ``SM``/``SF`` (male/female) and a number. The reference trained on all of it, so there is
no reference split: speakers get the deterministic hashed split of :mod:`speech_emotion.corpora.base`.
"""

from __future__ import annotations

import re
from pathlib import Path

from speech_emotion.corpora.base import Corpus, Recording, build_corpus

NAME = "urdu"
LANGUAGE = "Urdu"
MAPPING = {"Angry": "angry", "Happy": "happy", "Sad": "sad", "Neutral": "neutral"}
_NAME = re.compile(r"(S([MF])\d+)_.*")


def read(root: Path) -> Corpus:
    return build_corpus(NAME, root, LANGUAGE, _parse, MAPPING, None, "like Angry/SM2_F10_A032.wav")


def _parse(rel: Path) -> Recording | None:
    match = _NAME.fullmatch(rel.stem)
    if match is None:
        return None
    speaker, gender = match.groups()
    return Recording(speaker, gender.lower(), rel.parent.name)
