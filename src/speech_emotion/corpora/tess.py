"""TESS (Toronto emotional speech set): Canadian English, 2 female speakers, OAF (older, 64) and YAF
(younger, 26), each saying "Say the word ..." with 200 target words in 7 emotions. A test-only corpus: never
train, tune or select a model on it.

Layout ``OAF_angry/OAF_back_angry.wav``: the folder is the speaker and the emotion, the file name the speaker,
the word and the emotion again (angry, disgust, fear, happy, neutral, ps (pleasant surprise), sad; the
original folders of pleasant surprise are ``OAF_Pleasant_surprise`` and ``YAF_pleasant_surprised``). The
speaker is taken from the folder, since one original file, ``OAF_neutral/OA_bite_neutral.wav``, has a short
prefix; a file whose last word is not its folder's emotion does not fit the layout and is ignored. 4-class
mapping, as the reference mapped its unseen corpora: angry, happy, sad, neutral; disgust, fear and pleasant
surprise are dropped. Every speaker is a test speaker (none train or validate), so ``train`` never reads it.
"""

from __future__ import annotations

import re
from pathlib import Path

from speech_emotion.corpora.base import Corpus, Recording, build_corpus

NAME = "tess"
LANGUAGE = "English"
EMOTIONS = {
    "angry": "angry",
    "disgust": "disgust",
    "fear": "fear",
    "happy": "happy",
    "neutral": "neutral",
    "ps": "pleasant_surprise",
    "sad": "sad",
}
FOLDER_EMOTIONS = EMOTIONS | {"pleasant_surprise": "pleasant_surprise", "pleasant_surprised": "pleasant_surprise"}
MAPPING = {"angry": "angry", "happy": "happy", "sad": "sad", "neutral": "neutral"}
SPEAKERS = ("OAF", "YAF")
SPLITS = dict.fromkeys(SPEAKERS, "test")
_FOLDER = re.compile(r"(OAF|YAF)_([A-Za-z_]+)")
_NAME = re.compile(r"[A-Z]+_[A-Za-z]+_([A-Za-z]+)")


def read(root: Path) -> Corpus:
    return build_corpus(NAME, root, LANGUAGE, _parse, MAPPING, SPLITS, "like OAF_angry/OAF_back_angry.wav")


def _parse(rel: Path) -> Recording | None:
    folder = _FOLDER.fullmatch(rel.parent.name)
    name = _NAME.fullmatch(rel.stem)
    if folder is None or name is None:
        return None
    emotion = EMOTIONS.get(name.group(1).lower())
    if emotion is None or emotion != FOLDER_EMOTIONS.get(folder.group(2).lower()):
        return None
    return Recording(folder.group(1), "f", emotion)
