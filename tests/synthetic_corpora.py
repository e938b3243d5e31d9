"""Small corpora in the original layouts, written into a temporary folder with short generated audio."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

RATE = 16_000


def write_clip(path: Path, seconds: float = 0.3, seed: int = 0, rate: int = RATE) -> Path:
    """A short clip of tone plus noise (varied by ``seed``) in the format the suffix names."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    audio = 0.3 * np.sin(2 * np.pi * (120 + 40 * (seed % 7)) * t) + rng.normal(0, 0.02, len(t))
    sf.write(path, audio.astype(np.float32), rate)
    return path


IEMOCAP_LINES = {
    # dialog -> [(utterance, category)], two sessions, both actors of each
    "Ses01F_impro01": [("Ses01F_impro01_F000", "neu"), ("Ses01F_impro01_M000", "ang"), ("Ses01F_impro01_F001", "exc")],
    "Ses01M_script01_1": [("Ses01M_script01_1_M000", "sad"), ("Ses01M_script01_1_F000", "fru")],
    "Ses02F_impro02": [("Ses02F_impro02_F000", "hap"), ("Ses02F_impro02_M000", "xxx"), ("Ses02F_impro02_M001", "neu")],
}


def make_iemocap(root: Path) -> Path:
    """Two sessions; one wav has no evaluation line (unlabelled); one file is .flac."""
    seed = 0
    for dialog, lines in IEMOCAP_LINES.items():
        session = f"Session{int(dialog[3:5])}"
        text = "% header line that is not an utterance\n\n"
        for utterance, category in lines:
            text += f"[1.0000 - 2.5000]\t{utterance}\t{category}\t[2.5000, 3.0000, 2.0000]\n"
            text += f"C-E1:\t{category.capitalize()};\t()\n"
            suffix = ".flac" if utterance.endswith("M001") else ".wav"
            write_clip(root / session / "sentences" / "wav" / dialog / f"{utterance}{suffix}", seed=seed)
            seed += 1
        evaluation = root / session / "dialog" / "EmoEvaluation" / f"{dialog}.txt"
        evaluation.parent.mkdir(parents=True, exist_ok=True)
        evaluation.write_text(text)
    write_clip(root / "Session2" / "sentences" / "wav" / "Ses02F_impro02" / "Ses02F_impro02_F009.wav", seed=99)
    return root


CASIA_SPEAKERS = ("liuchanhg", "wangzhe", "zhaoquanyin", "ZhaoZuoxiang")
CASIA_EMOTIONS = ("angry", "fear", "happy", "neutral", "sad", "surprise")


def make_casia(root: Path, per_emotion: int = 2, seconds: float = 0.3) -> Path:
    seed = 0
    for speaker in CASIA_SPEAKERS:
        for emotion in CASIA_EMOTIONS:
            for n in range(per_emotion):
                write_clip(root / speaker / emotion / f"{201 + n}.wav", seconds, seed=seed)
                seed += 1
    return root


def make_urdu(root: Path, speakers_per_emotion: int = 3, seconds: float = 0.3) -> Path:
    """URDU's layout, where each speaker speaks in one emotion only, as most of URDU's speakers do."""
    seed, speaker = 300, 1
    for emotion in ("Angry", "Happy", "Sad", "Neutral"):
        for _ in range(speakers_per_emotion):
            for n in range(2):
                write_clip(root / emotion / f"SM{speaker}_F{n}_{emotion[0]}{n:03d}.wav", seconds, seed=seed)
                seed += 1
            speaker += 1
    return root


def make_folder(root: Path, speakers: tuple[str, ...] = ("alice", "bob", "carol"), seconds: float = 0.3) -> Path:
    """Emotion folders (mixed case, a synonym, an unmapped one) with speaker sub-folders, wav and flac."""
    seed = 100
    for folder in ("Angry", "happiness", "sad", "neutral", "fear"):
        for speaker in speakers:
            for n in range(2):
                suffix = ".flac" if n else ".wav"
                write_clip(root / folder / speaker / f"clip{n}{suffix}", seconds, seed=seed)
                seed += 1
    return root
