"""CASIA (Chinese emotional speech corpus of the Institute of Automation, Chinese Academy of Sciences):
Mandarin Chinese, 4 professional speakers (liuchanhg, wangzhe, ZhaoZuoxiang male; zhaoquanyin female),
6 emotions.

Layout ``liuchanhg/angry/201.wav``: speaker folder, emotion folder (angry, fear, happy, neutral, sad,
surprise), then the sentence number. Mapped: angry, happy, sad, neutral; fear and surprise are dropped. No
reference split: speakers get the deterministic hashed split of :mod:`speech_emotion.corpora.base`, which with
four speakers is one test, one valid and two train speakers.
"""

from __future__ import annotations

from pathlib import Path

from speech_emotion.corpora.base import Corpus, Recording, build_corpus

NAME = "casia"
LANGUAGE = "Mandarin Chinese"
EMOTIONS = ("angry", "fear", "happy", "neutral", "sad", "surprise")
MAPPING = {"angry": "angry", "happy": "happy", "sad": "sad", "neutral": "neutral"}
GENDERS = {"liuchanhg": "m", "wangzhe": "m", "zhaoquanyin": "f", "zhaozuoxiang": "m"}


def read(root: Path) -> Corpus:
    return build_corpus(NAME, root, LANGUAGE, _parse, MAPPING, None, "like liuchanhg/angry/201.wav")


def _parse(rel: Path) -> Recording | None:
    if len(rel.parts) < 3 or rel.parts[-2].lower() not in EMOTIONS:
        return None
    speaker, emotion = rel.parts[-3], rel.parts[-2].lower()
    return Recording(speaker, GENDERS.get(speaker.lower()), emotion)
