"""Run a command with ``--trim-silence`` cutting files with another VAD padding than the monitor's.

    python scripts/trim_padding.py SECONDS evaluate --model combined4-ua-sad $C --split valid --trim-silence

The monitor's segmenter keeps ``vad.padding_s`` (0.1 s) of audio either side of an utterance's speech, and
``--trim-silence`` cuts files the same way; the shipped models were trained on whole corpus files, silence
and all. This measures what more context around the speech would give: any ``speech-emotion`` command runs
with files cut with SECONDS of padding. The padding is part of the feature cache's key, so each value gets
its own features. docs/MODEL_CARD.md ("Validation speech cut as the monitor cuts it") quotes the figures.
"""

from __future__ import annotations

import sys

from speech_emotion import trimming
from speech_emotion.cli import main, run_reporting_errors
from speech_emotion.errors import SpeechEmotionError


def set_padding(argv: list[str]) -> None:
    """Cut with SECONDS, the first argument, of padding."""
    try:
        seconds = float(argv[1])
    except (IndexError, ValueError):
        raise SpeechEmotionError("usage: trim_padding.py SECONDS COMMAND [OPTIONS...]; SECONDS is a number") from None
    if seconds < 0:
        raise SpeechEmotionError(f"SECONDS: {argv[1]} is negative")
    trimming.TRIM_SETTINGS["padding_s"] = seconds


def run() -> int:
    set_padding(sys.argv)
    return main(sys.argv[2:])


if __name__ == "__main__":
    sys.exit(run_reporting_errors(run))
else:  # a feature worker: spawned, it imports this script again (as __mp_main__) and must cut as its parent
    set_padding(sys.argv)
