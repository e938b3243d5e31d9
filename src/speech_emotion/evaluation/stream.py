"""The ``stream`` protocol: the monitor as deployed, scored on labelled files.

Each speaker's files are laid back to back in a seeded random order, with :data:`PAUSE_S` of quiet room noise
after each, written as one FLAC and played to the real monitor as a recording (``FileSource``): Silero VAD cuts
it, each utterance is recognised with the statistics adapted to the person so far (from the model's pooled
ones, as for a new person), and stored in SQLite. Each file then gets the label of the stored utterance that
overlaps it most, or ``no speech`` when none does (scored as wrong). One stream, and one monitor, per speaker.
"""

from __future__ import annotations

import random
import tempfile
import threading
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import soundfile as sf

from speech_emotion.audio import SAMPLE_RATE, load_audio
from speech_emotion.corpora.base import Unreadable, Utterance
from speech_emotion.errors import AudioError
from speech_emotion.evaluation.protocols import FilePrediction
from speech_emotion.fusion import Recognizer
from speech_emotion.monitor.pipeline import Monitor
from speech_emotion.monitor.sources.file import FileSource
from speech_emotion.recognizer import NO_SPEECH
from speech_emotion.store import NewUtterance, Store

PAUSE_S = 1.0  # after each file
ROOM_RMS = 10 ** (-60 / 20)  # the pauses: white noise at -60 dBFS, a quiet room
T0 = 1_700_000_000.0  # capture time of each stream's first sample


def stream_predictions(
    recognizer: Recognizer, utterances: Sequence[Utterance], seed: int = 0
) -> tuple[list[FilePrediction], list[Unreadable]]:
    """Each readable file's prediction by the monitor that heard its speaker's files as one stream, and the
    files that could not be read (left out of the streams)."""
    speakers = defaultdict(list)
    for u in utterances:
        speakers[u.corpus, u.speaker].append(u)
    predictions, unreadable = [], []
    with tempfile.TemporaryDirectory(prefix="speech-emotion-stream-") as folder:
        for n, ((corpus, speaker), files) in enumerate(sorted(speakers.items())):
            clips, order = [], []
            for u in random.Random(seed).sample(files, len(files)):
                try:
                    clips.append(load_audio(u.path))
                    order.append(u)
                except AudioError as e:
                    unreadable.append(Unreadable(str(u.path), e.reason))
            if not clips:
                continue
            path = Path(folder) / f"stream-{n}.flac"
            spans = _lay_out(clips, path, seed)
            rows = _monitored(path, recognizer, Path(folder) / f"stream-{n}.db")
            for u, span in zip(order, spans, strict=True):
                row = _most_overlapping(rows, span)
                label, probabilities = (NO_SPEECH, None) if row is None else (row.label, row.probabilities)
                predictions.append(FilePrediction(str(u.path), corpus, speaker, u.label, label, probabilities))
    return predictions, unreadable


def _lay_out(clips: list[np.ndarray], path: Path, seed: int) -> list[tuple[float, float]]:
    """Write the clips back to back, each followed by room noise; each clip's (start, end) in seconds."""
    noise = np.random.default_rng(seed)
    pause = round(PAUSE_S * SAMPLE_RATE)
    audio, spans, at = [], [], 0
    for clip in clips:
        audio += [clip, (ROOM_RMS * noise.standard_normal(pause)).astype(np.float32)]
        spans.append((at / SAMPLE_RATE, (at + len(clip)) / SAMPLE_RATE))
        at += len(clip) + pause
    sf.write(path, np.concatenate(audio), SAMPLE_RATE, subtype="PCM_16")
    return spans


def _monitored(path: Path, recognizer: Recognizer, db: Path) -> list[NewUtterance]:
    """The utterances the monitor stores for the recording, read as fast as it can, adapting from scratch."""
    store = Store(f"sqlite:///{db}")
    monitor = Monitor(FileSource(path, speed=0, start=T0, source_id=path.stem), recognizer, store)
    rows: list[NewUtterance] = []
    monitor.listeners.append(rows.append)
    try:
        monitor.run(threading.Event())
    finally:
        store.close()
    return rows


def _most_overlapping(rows: list[NewUtterance], span: tuple[float, float]) -> NewUtterance | None:
    def overlap(row: NewUtterance) -> float:
        return min(span[1], row.end.timestamp() - T0) - max(span[0], row.start.timestamp() - T0)

    best = max(rows, key=overlap, default=None)
    return best if best is not None and overlap(best) > 0 else None
