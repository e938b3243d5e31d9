"""speech-emotion: cross-corpus speech emotion recognition and a 24/7 emotion monitor.

    import speech_emotion
    recognizer = speech_emotion.load()                  # the shipped default; or a name, or a bundle file
    print(recognizer.predict_file("clip.wav").label)    # docs/api.md has the rest

The recogniser is imported on first use (PEP 562), so the parts that never run the model (the simulated
robot, the dashboard, the reports) start without loading PyTorch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from speech_emotion.audio import SAMPLE_RATE, load_audio
from speech_emotion.errors import AudioError, BundleError, SpeechEmotionError

if TYPE_CHECKING:
    from speech_emotion.fusion import FusedRecognizer, load_recognizer
    from speech_emotion.fusion import load_recognizer as load
    from speech_emotion.recognizer import EmotionRecognizer, Prediction

__all__ = [
    "SAMPLE_RATE",
    "AudioError",
    "BundleError",
    "EmotionRecognizer",
    "FusedRecognizer",
    "Prediction",
    "SpeechEmotionError",
    "load",
    "load_audio",
    "load_recognizer",
]


def __getattr__(name: str) -> object:
    if name in ("EmotionRecognizer", "Prediction"):
        from speech_emotion import recognizer

        return getattr(recognizer, name)
    if name in ("FusedRecognizer", "load_recognizer"):  # any bundle, single or fused (the default is fused)
        from speech_emotion import fusion

        return getattr(fusion, name)
    if name == "load":
        from speech_emotion.fusion import load_recognizer

        return load_recognizer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
