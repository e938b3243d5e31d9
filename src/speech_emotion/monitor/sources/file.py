"""Recordings played as if they were live: one file, or every audio file of a folder in name order.

Capture times: with ``start`` given, the first file begins at ``start`` and each next file right after the
previous one; without it, each file began at its modification time minus its duration (a recorder writes
until the end, so the modification time marks the end of the recording). Chunk times are that start plus the
offset in the file, so a replay at any speed gives the same timeline. ``speed`` paces the chunks at that many
times real time; 0 (or infinity) delivers them as fast as the consumer takes them.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import soundfile as sf

from speech_emotion.audio import CHUNK_SAMPLES, DEFAULT_MAX_SECONDS, SAMPLE_RATE, file_digest, load_audio, probe_audio
from speech_emotion.errors import AudioError
from speech_emotion.monitor.sources.base import (
    AudioChunk,
    EventKind,
    Source,
    SourceError,
    SourceEvent,
)

AUDIO_SUFFIXES = frozenset("." + name.lower() for name in sf.available_formats()) | {".oga", ".opus"}


class FileSource(Source):
    def __init__(
        self,
        path: str | Path,
        *,
        speed: float = 1.0,
        start: float | None = None,
        chunk_samples: int = CHUNK_SAMPLES,
        max_seconds: float | None = DEFAULT_MAX_SECONDS,
        source_id: str | None = None,
        on_event: Callable[[SourceEvent], None] | None = None,
    ):
        self.path = Path(path)
        if not self.path.exists():
            raise SourceError(self.path, "no such file or folder")
        if speed < 0 or math.isnan(speed):
            raise SourceError("speed", f"must be positive (0 for as fast as possible), not {speed}")
        if chunk_samples < 1:
            raise SourceError("chunk_samples", f"must be at least 1, not {chunk_samples}")
        self.files = audio_files(self.path)
        super().__init__(source_id or f"file:{self.path.name}", on_event)
        self.speed = math.inf if speed == 0 else speed
        self.start = start
        self.chunk_samples = chunk_samples
        self.max_seconds = max_seconds
        # recording_start(digest, proposed): the capture time to give the file with that content, which its
        # modification time proposes; the monitor's gives the one its store gave the same bytes the first time,
        # so a copy or a touch replays as the same recording
        self.recording_start: Callable[[str, float], float] | None = None
        if len(self.files) == 1:  # a lone file that cannot be read is the caller's error, before anything starts
            probe_audio(self.files[0], max_seconds)

    def chunks(self, stop: threading.Event) -> Iterator[AudioChunk]:
        began = time.monotonic()
        played = 0  # samples delivered so far, over all files: the pacing clock
        next_start = self.start
        for path in self.files:
            try:
                audio = load_audio(path, max_seconds=self.max_seconds)
            except AudioError as e:
                if len(self.files) == 1:
                    raise
                self._deliver(self._event(EventKind.BAD_AUDIO, f"skipped {e}"))
                continue
            duration = len(audio) / SAMPLE_RATE
            file_start = next_start if next_start is not None else path.stat().st_mtime - duration
            if next_start is None and self.recording_start is not None:
                file_start = self.recording_start(file_digest(path), file_start)
            for offset in range(0, len(audio), self.chunk_samples):
                samples = audio[offset : offset + self.chunk_samples]
                if stop.wait(max(0.0, began + (played + len(samples)) / (SAMPLE_RATE * self.speed) - time.monotonic())):
                    return
                played += len(samples)
                yield self._delivered(AudioChunk(samples, file_start + offset / SAMPLE_RATE, self.source_id))
            if next_start is not None:
                next_start = file_start + duration


def audio_files(path: Path) -> list[Path]:
    """``path`` itself, or the audio files directly in the folder ``path``, sorted by name."""
    if path.is_file():
        return [path]
    files = sorted(
        p for p in path.iterdir() if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in AUDIO_SUFFIXES
    )
    if not files:
        raise SourceError(path, f"no audio files in this folder (looked for {', '.join(sorted(AUDIO_SUFFIXES))})")
    return files
