"""Cut a recording down to its speech, the way the monitor's segmenter cuts live audio.

Acted corpora differ in how much silence surrounds each utterance: about half of RAVDESS's audio is near
silence, almost none of URDU's. A bundle whose :class:`~speech_emotion.preprocessing.Preprocessing` says
``trim`` was trained on files cut with the segmenter's VAD and padding, and every path that reads files for it
cuts them the same way. No shipped bundle trims; docs/experiments.md has what trimming did.
"""

from __future__ import annotations

import functools

import numpy as np
import torch

from speech_emotion.audio import SAMPLE_RATE
from speech_emotion.vad import VadConfig, load_silero_model

# What a trimmed feature cache depends on (part of its key) and what the monitor's default segmenter does.
TRIM_SETTINGS = {"vad": "silero", "threshold": VadConfig.threshold, "padding_s": VadConfig.padding_s}


_silero_model = functools.cache(load_silero_model)  # one per process: get_speech_timestamps resets its state


def speech_bounds(audio: np.ndarray) -> tuple[int, int] | None:
    """First and last sample (exclusive) of the speech in ``audio``, padded as the monitor pads; None if none."""
    from silero_vad import get_speech_timestamps

    spans = get_speech_timestamps(
        torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32)),
        _silero_model(),
        threshold=TRIM_SETTINGS["threshold"],
        sampling_rate=SAMPLE_RATE,
        speech_pad_ms=round(TRIM_SETTINGS["padding_s"] * 1000),
    )
    return (spans[0]["start"], spans[-1]["end"]) if spans else None


def trim_to_speech(audio: np.ndarray) -> np.ndarray:
    """``audio`` from its first speech to its last; all of it where the VAD finds none (a labelled corpus file
    is speech, however quiet, so nothing is dropped)."""
    bounds = speech_bounds(audio)
    return audio if bounds is None else audio[bounds[0] : bounds[1]]
