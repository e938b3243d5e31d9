"""IEMOCAP (Interactive Emotional Dyadic Motion Capture): American English, 5 sessions, each one female and
one male actor in improvised and scripted dialogues.

Layout ``Session1/sentences/wav/Ses01F_impro01/Ses01F_impro01_F000.wav``; the labels are in
``Session1/dialog/EmoEvaluation/Ses01F_impro01.txt``, one line per utterance:
``[6.2901 - 8.2357]<TAB>Ses01F_impro01_F000<TAB>neu<TAB>[2.5000, 2.5000, 2.5000]``. The utterance name's last
part starts with the speaking actor's gender, so ``Ses01`` + ``F`` is the speaker. Mapped: ang, hap, sad, neu,
and exc (excited) as happy when asked (the common 4-class IEMOCAP setup); fru, sur, fea, dis, oth and xxx
(no agreement) are dropped, as are recordings with no evaluation line ("unlabelled"). No reference split:
speakers get the deterministic hashed split of :mod:`speech_emotion.corpora.base`.
"""

from __future__ import annotations

import re
from pathlib import Path

from speech_emotion.corpora.base import Corpus, Recording, build_corpus

NAME = "iemocap"
LANGUAGE = "English (North American)"
MAPPING = {"ang": "angry", "hap": "happy", "sad": "sad", "neu": "neutral"}
UNLABELLED = "unlabelled"
_UTTERANCE = re.compile(r"(Ses\d\d)[FM]_.*_([FM])\d+")
_EVALUATION = re.compile(r"^\[[^]]*\]\s+(\S+)\s+(\S+)", re.M)


def read(root: Path, excited_as_happy: bool = False) -> Corpus:
    labels = _evaluation_labels(root)
    mapping = MAPPING | ({"exc": "happy"} if excited_as_happy else {})

    def parse(rel: Path) -> Recording | None:
        match = _UTTERANCE.fullmatch(rel.stem)
        if match is None or rel.parts[-4:-2] != ("sentences", "wav"):
            return None
        session, gender = match.groups()
        return Recording(session + gender, gender.lower(), labels.get(rel.stem, UNLABELLED))

    expected = "like Session1/sentences/wav/Ses01F_impro01/Ses01F_impro01_F000.wav"
    return build_corpus(NAME, root, LANGUAGE, parse, mapping, None, expected)


def _evaluation_labels(root: Path) -> dict[str, str]:
    """Utterance name -> category from every ``Session*/dialog/EmoEvaluation/*.txt``."""
    labels = {}
    for text_file in sorted(root.glob("Session*/dialog/EmoEvaluation/*.txt")):
        text = text_file.read_text(encoding="utf-8", errors="replace")
        labels.update(_EVALUATION.findall(text))
    return labels
