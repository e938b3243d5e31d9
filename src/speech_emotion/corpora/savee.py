"""SAVEE (Surrey Audio-Visual Expressed Emotion): British English, 4 male speakers (DC, JE, JK, KL).

Layout ``AudioData/DC/a01.wav``: the folder is the speaker, the file-name prefix the emotion (a anger,
d disgust, f fear, h happiness, n neutral, sa sadness, su surprise), then the sentence number. Mapped: anger,
happiness, sadness, neutral; disgust, fear and surprise are dropped. Reference split: JK validates, KL tests,
DC and JE train.
"""

from __future__ import annotations

import re
from pathlib import Path

from speech_emotion.corpora.base import Corpus, Recording, build_corpus

NAME = "savee"
LANGUAGE = "English (British)"
EMOTIONS = {
    "a": "anger",
    "d": "disgust",
    "f": "fear",
    "h": "happiness",
    "n": "neutral",
    "sa": "sadness",
    "su": "surprise",
}
MAPPING = {"anger": "angry", "happiness": "happy", "sadness": "sad", "neutral": "neutral"}
SPLITS = {"JK": "valid", "KL": "test"}
_NAME = re.compile(r"(sa|su|[adfhn])\d\d")


def read(root: Path) -> Corpus:
    return build_corpus(NAME, root, LANGUAGE, _parse, MAPPING, SPLITS, "like AudioData/DC/a01.wav")


def _parse(rel: Path) -> Recording | None:
    match = _NAME.fullmatch(rel.stem)
    if match is None or len(rel.parts) < 2:
        return None
    return Recording(rel.parent.name, "m", EMOTIONS[match.group(1)])
