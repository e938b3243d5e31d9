"""Test parts for the monitor: speech with known boundaries, an in-test audio source, a recording robot."""

from __future__ import annotations

import io
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pytest
import soundfile as sf

from speech_emotion.audio import SAMPLE_RATE, to_mono_16k
from speech_emotion.monitor.sources.base import Source

T0 = 1_700_000_000.0  # capture time of the first sample of test streams (2023-11-14T22:13:20Z)


@dataclass(frozen=True)
class Chunk:
    """The fields of ``speech_emotion.monitor.sources.base.AudioChunk``."""

    samples: np.ndarray
    start: float
    source_id: str = "test"


class ListSource(Source):
    """A source over audio in memory: chunks of the given sizes (cycled), capture times from ``start``.

    ``replace`` maps chunk numbers to a bad chunk to deliver instead (the audio timeline moves on as if the
    real chunk had come); ``realtime`` paces chunks at real time; ``endless`` repeats the audio forever.
    """

    def __init__(
        self,
        audio: np.ndarray,
        start: float = T0,
        sizes: tuple[int, ...] = (2720,),
        source_id: str = "test",
        replace: dict[int, Chunk] | None = None,
        stop_after: int | None = None,
        realtime: bool = False,
        endless: bool = False,
    ):
        super().__init__(source_id)
        self.audio, self.start, self.sizes = audio, start, sizes
        self.replace = replace or {}
        self.stop_after = stop_after
        self.realtime, self.endless = realtime, endless
        self.delivered = 0

    def chunks(self, stop: threading.Event) -> Iterator[Chunk]:
        offset, began = 0, time.monotonic()
        while not stop.is_set():
            if offset >= len(self.audio) and not self.endless:
                return
            size = self.sizes[self.delivered % len(self.sizes)]
            position = offset % len(self.audio)
            samples = self.audio[position : position + size]
            chunk = self.replace.get(self.delivered, Chunk(samples, self.start + offset / SAMPLE_RATE, self.source_id))
            offset += len(samples)
            self.delivered += 1
            if self.realtime:
                time.sleep(max(0.0, began + offset / SAMPLE_RATE - time.monotonic()))
            yield chunk
            if self.stop_after is not None and self.delivered >= self.stop_after:
                stop.set()


class RecordingRobot:
    """A robot client that records every call; ``fail`` makes it refuse them as the real client does with a
    robot off the network (returns False), ``raise`` makes it raise instead."""

    def __init__(self, fail: str = ""):
        self.calls: list[tuple[str, str]] = []
        self.fail = fail

    def say(self, text: str) -> bool:
        return self._call("say", text)

    def set_led_colour(self, colour: str) -> bool:
        return self._call("set_led_colour", colour)

    def _call(self, name: str, argument: str) -> bool:
        self.calls.append((name, argument))
        if self.fail == "raise":
            raise RuntimeError("robot unreachable")
        return self.fail != "refuse"


def espeak(text: str, voice: str = "en-us", speed: int = 150, pitch: int = 50) -> np.ndarray:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    wav = subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "--stdout", text],
        check=True,
        capture_output=True,
    ).stdout
    samples, rate = sf.read(io.BytesIO(wav), dtype="float32")
    return to_mono_16k(samples, rate)


def speech_span(audio: np.ndarray) -> tuple[float, float]:
    """Start and end (s) of a clean clip's speech: its 10 ms frames (DC removed) within 40 dB of the loudest
    one and 12 dB above the recording's noise floor (the 10th percentile frame)."""
    frames = audio[: len(audio) // 160 * 160].reshape(-1, 160).astype(np.float64)
    level = 10 * np.log10(np.mean((frames - frames.mean()) ** 2, axis=1) + 1e-12)
    loud = np.flatnonzero(level > max(level.max() - 40, np.percentile(level, 10) + 12))
    return loud[0] * 0.01, (loud[-1] + 1) * 0.01


def lay_out(clips: list[np.ndarray], gaps_s: list[float]) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """Clips with silence before each (``gaps_s``) and 1 s after; returns the audio and the true speech spans."""
    pieces, spans, t = [], [], 0.0
    for clip, gap in zip(clips, gaps_s, strict=True):
        pieces += [np.zeros(round(gap * SAMPLE_RATE), np.float32), clip]
        s, e = speech_span(clip)
        spans.append((t + gap + s, t + gap + e))
        t += gap + len(clip) / SAMPLE_RATE
    pieces.append(np.zeros(SAMPLE_RATE, np.float32))
    return np.concatenate(pieces), spans


SENTENCES = [
    "Good morning, did you sleep well?",
    "I would like a cup of tea, please.",
    "The garden looks lovely today.",
    "My daughter is coming to visit this afternoon.",
]
