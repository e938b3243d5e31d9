"""Speed perturbation: copies of the training utterances played faster and slower.

Playing a recording at ``factor`` times its speed shortens it by that factor and moves every frequency,
the voice's pitch and its formants, up by it: a factor of 0.9 or 1.1 sounds like the same sentence from
another speaker (Ko et al., "Audio augmentation for speech recognition", 2015). Each copy counts as a speaker of
its own, ``<speaker>@<factor>x``, so per-speaker statistics are fitted on the copy itself, as they would be on
a new person's speech; per-corpus statistics stay those of the original recordings.
"""

from __future__ import annotations

import numpy as np
import soxr

from speech_emotion.audio import SAMPLE_RATE


def change_speed(audio: np.ndarray, factor: float) -> np.ndarray:
    """16 kHz ``audio`` played ``factor`` times as fast, still at 16 kHz: its samples read as if recorded at
    ``factor`` × 16 kHz, then resampled (soxr)."""
    if factor == 1.0:
        return audio
    return np.ascontiguousarray(soxr.resample(audio, SAMPLE_RATE * factor, SAMPLE_RATE, quality="HQ"), np.float32)


def speaker_at(speaker: str, factor: float) -> str:
    """The pseudo-speaker a copy at ``factor`` belongs to."""
    return f"{speaker}@{factor:g}x"
