"""speech-emotion: cross-corpus speech emotion recognition and a 24/7 emotion monitor."""

from speech_emotion.audio import SAMPLE_RATE, load_audio
from speech_emotion.errors import AudioError, BundleError, SpeechEmotionError
from speech_emotion.recognizer import EmotionRecognizer, Prediction

__all__ = [
    "SAMPLE_RATE",
    "AudioError",
    "BundleError",
    "EmotionRecognizer",
    "Prediction",
    "SpeechEmotionError",
    "load_audio",
]
