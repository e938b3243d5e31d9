"""The monitor as deployed, scored on labelled speech: each speaker's files played to it as one live stream.

    python scripts/monitor_replay.py $C --model combined4-ua-sad [--split valid] [--context 0 1] [--orders 3]

For each speaker of the split (without the one-emotion corpora, as in speaker_statistics.py: a person speaks
more than one emotion), the files are laid back to back in a seeded random order and written as one FLAC,
which the real monitor reads as a live recording (``FileSource``): Silero VAD cuts it, each utterance is
recognised with the statistics adapted to the person so far, and stored in SQLite. Each stored utterance
takes the label of the file it overlaps most. Once for each ``vad.context_s`` given, all else the monitor's
defaults. Scored per utterance (UA, sad recall) and per second of speech (each class's share of its speech
seconds heard as itself, what the reports count); docs/monitor.md quotes the figures.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import threading
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from speech_emotion.audio import SAMPLE_RATE, load_audio
from speech_emotion.cli import run_reporting_errors
from speech_emotion.cli.corpus_options import add_corpus_arguments
from speech_emotion.corpora import read_corpora
from speech_emotion.corpora.base import Utterance as LabelledFile
from speech_emotion.corpora.examples import one_emotion_corpora
from speech_emotion.evaluation.metrics import score
from speech_emotion.monitor.pipeline import Monitor
from speech_emotion.monitor.sources.file import FileSource
from speech_emotion.recognizer import EmotionRecognizer
from speech_emotion.store import NewUtterance, Store
from speech_emotion.vad import VadConfig

T0 = 1_700_000_000.0  # capture time of each stream's first sample
ROOM_RMS = 10 ** (-60 / 20)  # the pauses between files: white noise at -60 dBFS, a quiet room


@dataclass(frozen=True)
class Stream:
    """One speaker's files laid back to back: the FLAC, and each file's (start, end, label) in seconds."""

    name: str
    path: Path
    spans: list[tuple[float, float, str]]


def speakers(files: list[LabelledFile]) -> dict[str, list[LabelledFile]]:
    skipped = one_emotion_corpora(files)
    grouped = defaultdict(list)
    for f in files:
        if f.corpus not in skipped:
            grouped[f"{f.corpus} {f.speaker}"].append(f)
    return dict(grouped)


def lay_out(name: str, files: list[LabelledFile], seed: int, folder: Path, pause_s: float) -> Stream:
    rng = random.Random(seed)
    order = rng.sample(files, len(files))
    quiet = np.random.default_rng(seed)
    pause = round(pause_s * SAMPLE_RATE)
    clips = [np.concatenate([load_audio(f.path), ROOM_RMS * quiet.standard_normal(pause, np.float32)]) for f in order]
    ends = np.cumsum([len(c) for c in clips]) / SAMPLE_RATE
    spans = [(end - len(c) / SAMPLE_RATE, end, f.label) for c, end, f in zip(clips, ends, order, strict=True)]
    path = folder / f"{name.replace(' ', '-')}-{seed}.flac"
    sf.write(path, np.concatenate(clips), SAMPLE_RATE, subtype="PCM_16")
    return Stream(name, path, spans)


def monitored(stream: Stream, recognizer: EmotionRecognizer, vad: VadConfig, db: Path) -> list[NewUtterance]:
    """The utterances the monitor stores for ``stream``, read as fast as it can, adapting from scratch."""
    source = FileSource(stream.path, speed=0, start=T0, source_id=f"{stream.path.stem}-{vad.context_s:g}")
    store = Store(f"sqlite:///{db}")
    monitor = Monitor(source, recognizer, store, vad=vad)
    rows: list[NewUtterance] = []
    monitor.listeners.append(rows.append)
    try:
        monitor.run(threading.Event())
    finally:
        store.close()
    return rows


def truth(row: NewUtterance, spans: list[tuple[float, float, str]]) -> str:
    """The label of the file the utterance overlaps most."""
    start, end = row.start.timestamp() - T0, row.end.timestamp() - T0
    return max(spans, key=lambda s: min(end, s[1]) - max(start, s[0]))[2]


def scored(heard: list[tuple[str, str, float]], labels: list[str]) -> str:
    """A table row's figures from (true label, label, seconds) of every stored utterance."""
    by_count = score([t for t, _, _ in heard], [p for _, p, _ in heard], labels)
    seconds, right = defaultdict(float), defaultdict(float)
    for t, p, s in heard:
        seconds[t] += s
        right[t] += s if t == p else 0.0
    by_seconds = {t: right[t] / seconds[t] for t in seconds}
    seconds_ua = sum(by_seconds.values()) / len(by_seconds)
    sad = by_count.per_class["sad"]["recall"]
    return f"{len(heard)} | {by_count.ua:.3f} | {sad:.3f} | {seconds_ua:.3f} | {by_seconds.get('sad', 0.0):.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_corpus_arguments(parser)
    parser.add_argument("--model", default="combined4-ua-sad", help="a bundle name or path")
    parser.add_argument("--split", default="valid")
    parser.add_argument("--context", nargs="+", type=float, default=[0.0, 1.0], help="vad.context_s values to try")
    parser.add_argument("--orders", type=int, default=3, help="seeded random orders of each speaker's files")
    parser.add_argument("--pause", type=float, default=0.0, help="seconds of quiet room noise after each file")
    args = parser.parse_args()
    recognizer = EmotionRecognizer.load(args.model)
    corpora = read_corpora(args.corpora, args.excited_as_happy)
    groups = speakers([u for corpus in corpora for u in corpus.split(args.split)])
    with tempfile.TemporaryDirectory() as folder:
        streams = [
            lay_out(name, files, seed, Path(folder), args.pause)
            for seed in range(args.orders)
            for name, files in groups.items()
        ]
        print(f"{len(groups)} speakers, {args.orders} orders, model {recognizer.model_id}\n")
        print("| vad.context_s | utterances | UA | sad recall | UA by seconds | sad recall by seconds |")
        print("| ---: | ---: | ---: | ---: | ---: | ---: |")
        for context_s in args.context:
            vad = VadConfig(context_s=context_s)
            heard = [
                (truth(row, stream.spans), row.label, (row.end - row.start).total_seconds())
                for stream in streams
                for row in monitored(stream, recognizer, vad, Path(folder) / "monitor.db")
            ]
            print(f"| {context_s:g} | {scored(heard, recognizer.labels)} |", flush=True)


if __name__ == "__main__":
    sys.exit(run_reporting_errors(main))
