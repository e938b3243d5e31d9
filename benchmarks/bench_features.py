"""Feature extraction speed against python_speech_features, run side by side on the same 60 s of audio.

    .venv/bin/python benchmarks/bench_features.py [--seconds 60] [--repeats 15]

Prints the best and median time of each and their ratio; timings alternate so both see the same machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np
import python_speech_features as psf

from speech_emotion.features import log_mel_3d


def reference(signal: np.ndarray) -> np.ndarray:
    static = psf.logfbank(signal, 16000, nfilt=40)
    first = psf.delta(static, 2)
    return np.stack([static, first, psf.delta(first, 2)], axis=-1)


def timed(fn, signal) -> float:
    start = time.perf_counter()
    fn(signal)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    signal = (np.random.default_rng(0).normal(0, 0.1, int(args.seconds * 16000))).astype(np.float32)
    assert np.abs(log_mel_3d(signal) - reference(signal)).max() < 1e-3
    ours, theirs = [], []
    for _ in range(args.repeats):
        theirs.append(timed(reference, signal))
        ours.append(timed(log_mel_3d, signal))
        ours.append(timed(log_mel_3d, signal))
    print(f"cores: {os.cpu_count()}  audio: {args.seconds:.0f} s  repeats: {args.repeats}")
    print(f"python_speech_features: best {min(theirs) * 1e3:7.2f} ms  median {statistics.median(theirs) * 1e3:7.2f} ms")
    print(f"speech_emotion        : best {min(ours) * 1e3:7.2f} ms  median {statistics.median(ours) * 1e3:7.2f} ms")
    print(
        f"speed-up: best/best {min(theirs) / min(ours):.1f}x  median/median "
        f"{statistics.median(theirs) / statistics.median(ours):.1f}x  "
        f"(real-time factor {min(ours) / args.seconds:.5f})"
    )


if __name__ == "__main__":
    main()
