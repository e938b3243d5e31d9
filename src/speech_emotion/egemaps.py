"""eGeMAPS v02 functionals: the 88 handcrafted descriptors of an utterance (Eyben et al., 2016), by openSMILE.

The classic paralinguistics baseline, and the peer every deep model here must beat. One row of 88 values per
utterance, as a ``(1, 88)`` float32 array, so that statistics, caches and recognisers treat an utterance's
functionals as they treat its log-mel frames. openSMILE is loaded on first use.
"""

from __future__ import annotations

import functools

import numpy as np

from speech_emotion.audio import SAMPLE_RATE
from speech_emotion.errors import AudioError

N_FUNCTIONALS = 88
# What the functionals depend on (bundles record it, caches are keyed on it).
EGEMAPS_SETTINGS = {"kind": "egemaps", "set": "eGeMAPSv02", "level": "functionals", "rows": 1, "columns": 88}
MIN_SAMPLES = SAMPLE_RATE // 10  # openSMILE needs some signal; shorter audio is padded with silence


@functools.cache
def _smile():
    import opensmile

    return opensmile.Smile(
        feature_set=opensmile.FeatureSet.eGeMAPSv02, feature_level=opensmile.FeatureLevel.Functionals
    )


def egemaps_functionals(audio: np.ndarray) -> np.ndarray:
    """The ``(1, 88)`` eGeMAPS functionals of 16 kHz mono audio."""
    audio = np.asarray(audio, dtype=np.float32)
    if len(audio) < MIN_SAMPLES:
        audio = np.pad(audio, (0, MIN_SAMPLES - len(audio)))
    row = _smile().process_signal(audio, SAMPLE_RATE).to_numpy(dtype=np.float32)
    if row.shape != (1, N_FUNCTIONALS) or not np.isfinite(row).all():
        raise AudioError("audio", f"openSMILE gave no usable eGeMAPS functionals (shape {row.shape})")
    return row
