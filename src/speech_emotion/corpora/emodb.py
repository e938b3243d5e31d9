"""Emo-DB (Berlin Database of Emotional Speech): German, 10 actors (5 female, 5 male), 10 sentences each.

Layout ``wav/03a01Fa.wav``: characters 1-2 are the speaker, 3-5 the sentence, 6 the emotion (W anger,
L boredom, E disgust, A fear, F happiness, T sadness, N neutral), 7 the version. Following the reference,
fear counts as sad and boredom as neutral; disgust is dropped. Reference split: speakers 03 and 10 validate,
12 and 13 test, the rest train.
"""

from __future__ import annotations

import re
from pathlib import Path

from speech_emotion.corpora.base import Corpus, Recording, build_corpus

NAME = "emodb"
LANGUAGE = "German"
EMOTIONS = {"W": "anger", "L": "boredom", "E": "disgust", "A": "fear", "F": "happiness", "T": "sadness", "N": "neutral"}
MAPPING = {
    "anger": "angry",
    "happiness": "happy",
    "sadness": "sad",
    "fear": "sad",
    "neutral": "neutral",
    "boredom": "neutral",
}
SPLITS = {"03": "valid", "10": "valid", "12": "test", "13": "test"}
GENDERS = {"03": "m", "08": "f", "09": "f", "10": "m", "11": "m", "12": "m", "13": "f", "14": "f", "15": "m", "16": "f"}
_NAME = re.compile(r"(\d\d)[a-z]\d\d([WLEAFTN])[a-z]")


def read(root: Path) -> Corpus:
    return build_corpus(NAME, root, LANGUAGE, _parse, MAPPING, SPLITS, "like wav/03a01Fa.wav")


def _parse(rel: Path) -> Recording | None:
    match = _NAME.fullmatch(rel.stem)
    if match is None:
        return None
    speaker, code = match.groups()
    return Recording(speaker, GENDERS.get(speaker), EMOTIONS[code])
