"""EMOVO (Italian emotional speech database): Italian, 6 actors (f1, f2, f3 female; m1, m2, m3 male),
14 sentences, 7 emotions. A test-only corpus: never train, tune or select a model on it.

Layout ``f1/rab-f1-b1.wav``: the speaker folder, then the emotion prefix (rab anger, gio joy, tri sadness,
neu neutral, pau fear, dis disgust, sor surprise), the speaker and the sentence (b1-b3, d1-d2, l1-l4,
n1-n5). 4-class mapping, as the reference mapped its unseen corpora: rab angry, gio happy, tri sad,
neu neutral; pau, dis and sor are dropped. Every speaker is a test speaker (none train or validate), so
``train`` never reads it; files of any other speaker do not fit the layout and are ignored.
"""

from __future__ import annotations

import re
from pathlib import Path

from speech_emotion.corpora.base import Corpus, Recording, build_corpus

NAME = "emovo"
LANGUAGE = "Italian"
EMOTIONS = {
    "rab": "anger",
    "gio": "joy",
    "tri": "sadness",
    "neu": "neutral",
    "pau": "fear",
    "dis": "disgust",
    "sor": "surprise",
}
MAPPING = {"anger": "angry", "joy": "happy", "sadness": "sad", "neutral": "neutral"}
SPEAKERS = ("f1", "f2", "f3", "m1", "m2", "m3")
SPLITS = dict.fromkeys(SPEAKERS, "test")
_NAME = re.compile(r"(rab|gio|tri|neu|pau|dis|sor)-([fm][123])-[bdln]\d")


def read(root: Path) -> Corpus:
    return build_corpus(NAME, root, LANGUAGE, _parse, MAPPING, SPLITS, "like f1/rab-f1-b1.wav")


def _parse(rel: Path) -> Recording | None:
    match = _NAME.fullmatch(rel.stem)
    if match is None:
        return None
    code, speaker = match.groups()
    return Recording(speaker, speaker[0], EMOTIONS[code])
