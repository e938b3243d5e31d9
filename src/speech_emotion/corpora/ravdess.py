"""RAVDESS (Ryerson Audio-Visual Database of Emotional Speech and Song), speech part: North-American
English, 24 actors (odd numbers male, even female), two sentences, two intensities, two repetitions.

Layout ``Actor_01/03-01-05-01-02-01-01.wav``: seven fields, modality (03 audio-only), vocal channel
(01 speech, 02 song), emotion (01 neutral, 02 calm, 03 happy, 04 sad, 05 angry, 06 fearful, 07 disgust,
08 surprised), intensity, statement, repetition, actor. Only speech files are read (song files are ignored).
Following the reference, calm counts as neutral; fearful, disgust and surprised are dropped. Reference split:
actors 17-20 validate, 21-24 test, 1-16 train.
"""

from __future__ import annotations

import re
from pathlib import Path

from speech_emotion.corpora.base import Corpus, Recording, build_corpus

NAME = "ravdess"
LANGUAGE = "English (North American)"
EMOTIONS = {
    "01": "neutral",
    "02": "calm",
    "03": "happy",
    "04": "sad",
    "05": "angry",
    "06": "fearful",
    "07": "disgust",
    "08": "surprised",
}
MAPPING = {"neutral": "neutral", "calm": "neutral", "happy": "happy", "sad": "sad", "angry": "angry"}
SPLITS = {f"{a:02d}": "valid" for a in range(17, 21)} | {f"{a:02d}": "test" for a in range(21, 25)}
_NAME = re.compile(r"03-01-(0[1-8])-0[12]-0[12]-0[12]-(\d\d)")


def read(root: Path) -> Corpus:
    return build_corpus(NAME, root, LANGUAGE, _parse, MAPPING, SPLITS, "like Actor_01/03-01-05-01-02-01-01.wav")


def _parse(rel: Path) -> Recording | None:
    match = _NAME.fullmatch(rel.stem)
    if match is None:
        return None
    code, actor = match.groups()
    return Recording(actor, "m" if int(actor) % 2 else "f", EMOTIONS[code])
