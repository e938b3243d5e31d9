"""Exceptions whose message is one line naming the thing at fault and why.

Commands print ``str(error)`` and exit non-zero; nothing else reaches the user without ``--debug``.
"""

from __future__ import annotations


class SpeechEmotionError(Exception):
    """Base class: a user-facing failure with a one-line message."""


class AudioError(SpeechEmotionError):
    """An audio file (or buffer) that cannot be used: ``"<path>: <reason>"``."""

    def __init__(self, path: object, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class BundleError(SpeechEmotionError):
    """A model bundle that cannot be loaded: ``"<path>: <reason>"``."""

    def __init__(self, path: object, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")
