"""Which voice activity detector segments best: webrtcvad against Silero VAD on real and synthetic speech.

    SPEECH_EMOTION_CORPORA=../shared/corpora python benchmarks/bench_vad.py [--files 40] [--seed 0]

Streams are speech files (real corpus recordings, and espeak-ng sentences at several prosodies) laid end to
end with 0.8-2.5 s of silence between them, clean and with pink noise at 20 and 5 dB SNR (a NAO's head fan
is a broadband hum of this kind). The true speech span of each file is where its clean signal is within
40 dB of its loudest 10 ms frame and 12 dB above its noise floor. Every detector runs through the same
``Segmenter`` (hangover 0.3 s, padding 0.1 s, 0.4-10 s utterances), and the script prints, per condition:
the share of files found, how many were split or merged, false utterances per minute, the median and
90th-percentile start and end errors (detected minus true; the 0.1 s padding makes -0.1 s at the start
and +0.1 s at the end ideal; the p90 columns are distances from those ideals), the share of true speech
inside utterances (recall), the share of silence inside them, and the CPU seconds per second of audio.
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from speech_emotion.audio import SAMPLE_RATE, load_audio
from speech_emotion.vad import VadConfig

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from monitor_helpers import speech_span

REPO_ROOT = Path(__file__).resolve().parents[1]
DETECTORS = {
    "webrtc-1": VadConfig(engine="webrtc", aggressiveness=1),
    "webrtc-2": VadConfig(engine="webrtc", aggressiveness=2),
    "webrtc-3": VadConfig(engine="webrtc", aggressiveness=3),
    "silero-0.5": VadConfig(engine="silero", threshold=0.5),
    "silero-0.3": VadConfig(engine="silero", threshold=0.3),
}
ESPEAK_LINES = [
    ("en-us", 150, 50, "Good morning, did you sleep well last night?"),
    ("en-gb", 120, 30, "I would like a cup of tea with my breakfast, please."),
    ("en-us+f3", 175, 70, "The garden looks lovely today, the roses are out."),
    ("en-gb+m3", 100, 20, "I miss my daughter, she has not called for a long time."),
    ("en-us+f2", 200, 80, "That is wonderful news, I am so happy for you!"),
    ("en-gb+m1", 140, 40, "Could you close the window? It is getting cold in here."),
]


@dataclass
class Stream:
    audio: np.ndarray
    spans: list[tuple[float, float]]  # true speech, seconds from the stream's start


def corpus_files(root: Path, count: int, rng: np.random.Generator) -> list[Path]:
    with open(root / "MANIFEST.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    chosen = rng.choice(len(rows), size=min(count, len(rows)), replace=False)
    return [root / rows[i]["path"] for i in sorted(chosen)]


def espeak_clips() -> list[np.ndarray]:
    clips = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, (voice, speed, pitch, text) in enumerate(ESPEAK_LINES):
            wav = Path(tmp) / f"{i}.wav"
            subprocess.run(
                ["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", str(wav), text], check=True
            )
            clips.append(load_audio(wav))
    return clips


def lay_out(clips: list[np.ndarray], rng: np.random.Generator) -> Stream:
    pieces, spans, t = [], [], 0.0
    for clip in clips:
        gap = np.zeros(int(rng.uniform(0.8, 2.5) * SAMPLE_RATE), np.float32)
        pieces += [gap, clip]
        t += len(gap) / SAMPLE_RATE
        s, e = speech_span(clip)
        spans.append((t + s, t + e))
        t += len(clip) / SAMPLE_RATE
    pieces.append(np.zeros(SAMPLE_RATE, np.float32))
    return Stream(np.concatenate(pieces), spans)


def pink_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    spectrum = np.fft.rfft(rng.standard_normal(n))
    spectrum /= np.sqrt(np.maximum(np.arange(len(spectrum)), 1))
    noise = np.fft.irfft(spectrum, n)
    return noise / noise.std()


def with_noise(stream: Stream, snr_db: float | None, rng: np.random.Generator) -> np.ndarray:
    if snr_db is None:
        return stream.audio
    inside = np.zeros(len(stream.audio), bool)
    for s, e in stream.spans:
        inside[int(s * SAMPLE_RATE) : int(e * SAMPLE_RATE)] = True
    speech_power = np.mean(stream.audio[inside].astype(np.float64) ** 2)
    noise = pink_noise(len(stream.audio), rng) * np.sqrt(speech_power / 10 ** (snr_db / 10))
    return np.clip(stream.audio + noise, -1, 1).astype(np.float32)


def segment(audio: np.ndarray, config: VadConfig) -> tuple[list[tuple[float, float]], float]:
    segmenter = config.segmenter()
    cpu = time.process_time()
    found = []
    for i in range(0, len(audio), 2720):  # 170 ms chunks, as a NAO sends them
        found += segmenter.push(audio[i : i + 2720], i / SAMPLE_RATE)
    found += segmenter.flush()
    return [(u.start, u.end) for u in found], (time.process_time() - cpu) / (len(audio) / SAMPLE_RATE)


def score(truth: list[tuple[float, float]], found: list[tuple[float, float]], seconds: float) -> dict:
    def overlaps(a, b):
        return a[0] < b[1] and b[0] < a[1]

    hits = [[f for f in found if overlaps(t, f)] for t in truth]
    onsets = [h[0][0] - t[0] for t, h in zip(truth, hits, strict=True) if h]
    offsets = [h[-1][1] - t[1] for t, h in zip(truth, hits, strict=True) if h]
    grid = np.arange(0, seconds, 0.01)
    true_mask = np.zeros(len(grid), bool)
    found_mask = np.zeros(len(grid), bool)
    for s, e in truth:
        true_mask[(grid >= s) & (grid < e)] = True
    for s, e in found:
        found_mask[(grid >= s) & (grid < e)] = True
    return {
        "found": np.mean([bool(h) for h in hits]),
        "split": sum(len(h) > 1 for h in hits),
        "merged": sum(sum(overlaps(t, f) for t in truth) > 1 for f in found),
        "false_per_min": sum(not any(overlaps(t, f) for t in truth) for f in found) / (seconds / 60),
        "onset_med": np.median(onsets),
        "onset_p90": np.percentile(np.abs(np.array(onsets) + 0.1), 90),
        "offset_med": np.median(offsets),
        "offset_p90": np.percentile(np.abs(np.array(offsets) - 0.1), 90),
        "recall": found_mask[true_mask].mean(),
        "silence_in": found_mask[~true_mask].mean(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=40, help="corpus files in the real-speech stream")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    root = Path(os.environ.get("SPEECH_EMOTION_CORPORA", REPO_ROOT.parent / "shared" / "corpora"))
    streams = {"espeak": lay_out(espeak_clips() * 3, rng)}
    if (root / "MANIFEST.csv").is_file():
        streams["corpus"] = lay_out([load_audio(p) for p in corpus_files(root, args.files, rng)], rng)
    else:
        print(f"no corpora at {root}: synthetic speech only")
    header = (
        f"{'stream':8} {'snr':>5} {'detector':11} {'found':>6} {'split':>5} {'merged':>6} {'false/min':>9} "
        f"{'on_med':>7} {'on_p90':>7} {'off_med':>7} {'off_p90':>7} {'recall':>6} {'sil_in':>6} {'cpu/s':>7}"
    )
    print(header)
    for name, stream in streams.items():
        for snr in (None, 20, 5):
            audio = with_noise(stream, snr, np.random.default_rng(args.seed + 1))
            for label, config in DETECTORS.items():
                found, cpu = segment(audio, config)
                r = score(stream.spans, found, len(audio) / SAMPLE_RATE)
                print(
                    f"{name:8} {'clean' if snr is None else snr:>5} {label:11} {r['found']:6.0%} {r['split']:5d} "
                    f"{r['merged']:6d} {r['false_per_min']:9.2f} {r['onset_med']:+7.2f} {r['onset_p90']:7.2f} "
                    f"{r['offset_med']:+7.2f} {r['offset_p90']:7.2f} {r['recall']:6.1%} {r['silence_in']:6.1%} "
                    f"{cpu:7.4f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
