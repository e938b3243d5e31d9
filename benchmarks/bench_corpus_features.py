"""Feature extraction throughput over every audio file of the shared corpora: cold (empty cache) and cached.

    python benchmarks/bench_corpus_features.py [--corpora ../shared/corpora] [--workers N]

Cold runs extract every file (decode, resample to 16 kHz, 3-D log-mel, write the cache entry), once inline and
once with a pool of worker processes; the cached run hashes each file and reads its entry back. Figures are
files per second and seconds of audio per second of wall time.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import soundfile as sf

from speech_emotion.corpora.base import audio_files
from speech_emotion.corpora.cache import FeatureCache

SHARED = ("emodb", "savee", "ravdess", "urdu")


def timed_load(cache: FeatureCache, paths: list[Path]) -> tuple[float, int]:
    start = time.perf_counter()
    result = cache.load(paths)
    elapsed = time.perf_counter() - start
    assert not result.unreadable, result.unreadable[:3]
    return elapsed, result.extracted


def main() -> None:
    default_root = os.environ.get("SPEECH_EMOTION_CORPORA", Path(__file__).resolve().parents[2] / "shared" / "corpora")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora", type=Path, default=Path(default_root))
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    args = parser.parse_args()
    paths = [p for name in SHARED for p in audio_files(args.corpora / name)]
    audio_s = sum(sf.info(str(p)).duration for p in paths)
    print(f"{len(paths)} files, {audio_s / 3600:.2f} h of audio, {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as inline_dir, tempfile.TemporaryDirectory() as pool_dir:
        runs = [
            ("cold, inline", FeatureCache(inline_dir, workers=1, progress=False)),
            (f"cold, {args.workers} worker processes", FeatureCache(pool_dir, workers=args.workers, progress=False)),
            ("cached", FeatureCache(pool_dir, workers=args.workers, progress=False)),
        ]
        for name, cache in runs:
            elapsed, extracted = timed_load(cache, paths)
            print(
                f"{name:<28} {elapsed:7.2f} s  {len(paths) / elapsed:8.0f} files/s  "
                f"{audio_s / elapsed:8.0f} s of audio/s  ({extracted} extracted)"
            )


if __name__ == "__main__":
    main()
