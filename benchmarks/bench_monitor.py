"""The whole monitor on this machine: real-time factor, latency, real-time streams per machine, memory over hours.

    python benchmarks/bench_monitor.py [--part rtf,latency,streams,memory] [--rtf-minutes 10]
        [--latency-seconds 80] [--streams 1,4,8,16] [--stream-seconds 60] [--memory-hours 3] [--context-s 1]
        [--model combined4-fused]

Every part runs the real pipeline (source -> Silero VAD -> each part's features -> the model -> SQLite ->
reactions) on the bundled demo recording (espeak-ng speech, about 60% of it speech) with the shipped default
model (the fused ACRNN and eGeMAPS SVM; ``--model combined4-ua`` for the ACRNN alone), SQLite in a temporary
folder. ``--context-s`` sets
``vad.context_s`` (default the monitor's): the recogniser hears that much more audio per utterance, and an
utterance waits for it, so ``--context-s 0`` beside the default shows what the context costs.

- rtf: ``--rtf-minutes`` of audio as fast as the monitor takes it; wall and CPU seconds per audio second.
- latency: the demo at real time with capture times from the clock; seconds from the end of each utterance
  to its stored row (the 0.3 s hangover, the context after it, up to one 170 ms chunk, recognition and the
  commit).
- streams: N monitors at once in one process, each on its own real-time stream (one PyTorch thread each);
  a stream keeps up when its latency stays bounded (p90 under 3 s, and no growth from the first half of the
  run to the second).
- memory: ``--memory-hours`` of audio as fast as possible; resident memory every simulated 10 minutes.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import threading
import time
from importlib import resources as package_files
from pathlib import Path

import numpy as np
import torch

from speech_emotion.audio import SAMPLE_RATE, load_audio
from speech_emotion.bundle import DEFAULT_MODEL
from speech_emotion.fusion import load_recognizer
from speech_emotion.monitor.pipeline import Monitor, PipelineConfig
from speech_emotion.monitor.reactions import ReactionConfig, Reactions
from speech_emotion.monitor.sources.base import AudioChunk, Source
from speech_emotion.store import Store
from speech_emotion.vad import VadConfig

CHUNK = 2730  # 170 ms, a NAO buffer


class LoopSource(Source):
    """``seconds`` of ``audio`` (looped, from ``offset``) as 170 ms chunks; ``realtime`` paces them and stamps
    them with the clock, as a live robot does; otherwise as fast as taken, stamped from a fixed origin."""

    def __init__(self, audio: np.ndarray, seconds: float, source_id: str, realtime: bool, offset: int = 0):
        super().__init__(source_id)
        self.audio, self.total = audio, int(seconds * SAMPLE_RATE)
        self.realtime, self.offset = realtime, offset

    def chunks(self, stop: threading.Event):
        origin = time.time() if self.realtime else 1_700_000_000.0
        began = time.monotonic()
        for done in range(0, self.total, CHUNK):
            if stop.is_set():
                return
            position = (self.offset + done) % len(self.audio)
            samples = self.audio[position : position + CHUNK]
            if self.realtime:
                time.sleep(max(0.0, began + (done + len(samples)) / SAMPLE_RATE - time.monotonic()))
            yield AudioChunk(samples, origin + done / SAMPLE_RATE, self.source_id)


def demo_audio() -> np.ndarray:
    with package_files.as_file(package_files.files("speech_emotion") / "data" / "demo.flac") as path:
        return load_audio(path)


class Latency:
    """A listener: seconds from each utterance's end (capture time) to the moment its row is stored."""

    def __init__(self):
        self.values: list[float] = []

    def __call__(self, row) -> None:
        self.values.append(time.time() - row.end.timestamp())


def monitor(source, recognizer, folder: Path, vad: VadConfig, name: str, threads: int = 0) -> tuple[Monitor, Store]:
    store = Store(f"sqlite:///{folder / (name + '.db')}")
    pipeline = PipelineConfig(threads=threads, metrics_interval_s=3600)
    m = Monitor(source, recognizer, store, vad=vad, pipeline=pipeline)
    m.listeners.append(Reactions(ReactionConfig(quiet_hours=()), None, m.record_event, source.source_id))
    return m, store


def part_rtf(audio: np.ndarray, minutes: float, folder: Path, vad: VadConfig, model: str) -> None:
    m, store = monitor(LoopSource(audio, minutes * 60, "rtf", False), load_recognizer(model), folder, vad, "rtf")
    wall, cpu = time.perf_counter(), time.process_time()
    metrics = m.run(threading.Event())
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    speech = sum(r.duration_s for r in store.utterances())
    print(
        f"rtf: {metrics.audio_s / 60:.1f} min of audio, {metrics.stored} utterances, {speech / metrics.audio_s:.0%} "
        f"speech: wall {wall:.1f} s = RTF {wall / metrics.audio_s:.4f}; CPU {cpu / metrics.audio_s:.4f} s per "
        f"audio s; recognition {metrics.inference_s / speech:.4f} s per speech s; "
        f"audio thread waited {metrics.audio_wait_s:.1f} s for the recogniser"
    )
    store.close()


def part_latency(audio: np.ndarray, seconds: float, folder: Path, vad: VadConfig, model: str) -> None:
    m, store = monitor(LoopSource(audio, seconds, "latency", True), load_recognizer(model), folder, vad, "latency")
    latency = Latency()
    m.listeners.append(latency)
    m.run(threading.Event())
    v = np.array(latency.values)
    print(
        f"latency (end of utterance -> stored row), {len(v)} utterances at real time: median {np.median(v):.2f} s, "
        f"p90 {np.percentile(v, 90):.2f} s, max {v.max():.2f} s"
    )
    store.close()


def part_streams(
    audio: np.ndarray, counts: list[int], seconds: float, folder: Path, vad: VadConfig, model: str
) -> None:
    for n in counts:
        rng = np.random.default_rng(n)
        runs = []
        for i in range(n):
            source = LoopSource(audio, seconds, f"stream{i}", True, offset=int(rng.integers(len(audio))))
            m, store = monitor(source, load_recognizer(model), folder, vad, f"streams{n}-{i}", threads=1)
            latency = Latency()
            m.listeners.append(latency)
            runs.append((m, store, latency))
        cpu = time.process_time()
        threads = [threading.Thread(target=m.run, args=(threading.Event(),)) for m, _, _ in runs]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        cpu = (time.process_time() - cpu) / seconds
        values = [np.array(lat.values) for _, _, lat in runs]
        every = np.concatenate(values)
        halves = [np.median(v[len(v) // 2 :]) - np.median(v[: len(v) // 2]) for v in values if len(v) >= 4]
        p90, growth = np.percentile(every, 90), max(halves)
        keeps_up = p90 < 3.0 and growth < 1.0
        print(
            f"streams {n:3d}: latency median {np.median(every):6.2f} s, p90 {p90:6.2f} s, max {every.max():6.2f} s, "
            f"worst growth first->second half {growth:+6.2f} s, CPU {cpu:4.2f} cores: "
            f"{'keeps up' if keeps_up else 'FALLS BEHIND'}",
            flush=True,
        )
        for _, store, _ in runs:
            store.close()


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def part_memory(audio: np.ndarray, hours: float, folder: Path, vad: VadConfig, model: str) -> None:
    m, store = monitor(LoopSource(audio, hours * 3600, "memory", False), load_recognizer(model), folder, vad, "memory")
    samples: list[tuple[float, float]] = []
    done = threading.Event()

    def sample() -> None:
        next_mark = 0.0
        while not done.wait(0.5):
            if m.metrics.audio_s >= next_mark:
                samples.append((m.metrics.audio_s / 3600, rss_mb()))
                next_mark += 600

    sampler = threading.Thread(target=sample)
    sampler.start()
    wall = time.perf_counter()
    metrics = m.run(threading.Event())
    done.set()
    sampler.join()
    samples.append((metrics.audio_s / 3600, rss_mb()))
    hours_done = np.array([h for h, _ in samples])
    mb = np.array([r for _, r in samples])
    later = hours_done >= hours_done[-1] / 2
    slope = np.polyfit(hours_done[later], mb[later], 1)[0] if later.sum() >= 2 else float("nan")
    print(
        f"memory: {metrics.audio_s / 3600:.2f} h of audio in {time.perf_counter() - wall:.0f} s, {metrics.stored} "
        f"utterances; RSS at 10 min {mb[1]:.0f} MB, at the end {mb[-1]:.0f} MB, max {mb.max():.0f} MB "
        f"(peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB); "
        f"slope over the second half {slope:+.1f} MB/h"
    )
    print("memory samples (h, MB): " + ", ".join(f"{h:.2f}:{r:.0f}" for h, r in samples))
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", default="rtf,latency,streams,memory")
    parser.add_argument("--rtf-minutes", type=float, default=10.0)
    parser.add_argument("--latency-seconds", type=float, default=80.0)
    parser.add_argument("--streams", default="1,4,8,16")
    parser.add_argument("--stream-seconds", type=float, default=60.0)
    parser.add_argument("--memory-hours", type=float, default=3.0)
    parser.add_argument("--context-s", type=float, default=VadConfig().context_s)
    parser.add_argument("--model", default=DEFAULT_MODEL, help="bundle or shipped name (default %(default)s)")
    args = parser.parse_args()
    vad = VadConfig(context_s=args.context_s)
    parts = set(args.part.split(","))
    audio = demo_audio()
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads; demo {len(audio) / SAMPLE_RATE:.0f} s; "
        f"vad.context_s {vad.context_s:g}; model {args.model}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if "rtf" in parts:
            part_rtf(audio, args.rtf_minutes, folder, vad, args.model)
        if "latency" in parts:
            part_latency(audio, args.latency_seconds, folder, vad, args.model)
        if "streams" in parts:
            counts = [int(n) for n in args.streams.split(",")]
            part_streams(audio, counts, args.stream_seconds, folder, vad, args.model)
        if "memory" in parts:
            part_memory(audio, args.memory_hours, folder, vad, args.model)


if __name__ == "__main__":
    main()
