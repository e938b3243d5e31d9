"""Inference speed of the full-size ACRNN on this CPU: windows per second, real-time factor, share of peak.

    .venv/bin/python benchmarks/bench_inference.py [--batch 8] [--repeats 5]

Single stream: one utterance's windows at a time (batch = windows of ~10 s of speech at the 1 s hop).
fp32 and bf16 (autocast). The peak is the vector units' nominal throughput, cores x FLOPs/cycle x the clock
/proc/cpuinfo reports (AVX-512: 2 FMA units x 16 fp32 lanes x 2 = 64 FLOPs/cycle; AVX2: 32; bf16 twice fp32
where avx512_bf16 exists). Turbo clocks above the nominal one can put a figure over 100%.
"""

from __future__ import annotations

import argparse
import os
import re
import time
from pathlib import Path

import torch

from speech_emotion.model import ACRNN, ACRNNConfig, flops_per_window
from speech_emotion.windows import INFERENCE_HOP


def nominal_peak_gflops() -> tuple[float, float]:
    """fp32 and bf16 peak GFLOP/s from the CPU flags and the clock in /proc/cpuinfo."""
    info = Path("/proc/cpuinfo").read_text()
    flags = set(re.search(r"^flags\s*:(.*)$", info, re.M).group(1).split())
    mhz = float(re.search(r"^cpu MHz\s*:\s*([\d.]+)", info, re.M).group(1))
    per_cycle = 64 if "avx512f" in flags else 32 if {"avx2", "fma"} <= flags else 8
    fp32 = os.cpu_count() * per_cycle * mhz / 1e3
    return fp32, fp32 * (2 if "avx512_bf16" in flags else 1)


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def measure(model: ACRNN, batch: int, repeats: int, bf16: bool) -> float:
    x = torch.randn(batch, 3, 300, 40)

    def run():
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            model(x)

    run()
    return min(_timed(run) for _ in range(repeats)) / batch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=8, help="windows per forward pass")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    config = ACRNNConfig.reference()
    model = ACRNN(config).eval()
    flops = flops_per_window(config)
    peaks = dict(zip(("fp32", "bf16"), nominal_peak_gflops(), strict=True))
    hop_s = INFERENCE_HOP / 100
    print(f"cores: {os.cpu_count()}  torch threads: {torch.get_num_threads()}  batch: {args.batch} windows")
    print(
        f"FLOPs per window: {flops / 1e9:.2f} GFLOP  "
        f"nominal peak: fp32 {peaks['fp32']:.0f}, bf16 {peaks['bf16']:.0f} GFLOP/s"
    )
    for name, bf16 in (("fp32", False), ("bf16", True)):
        per_window = measure(model, args.batch, args.repeats, bf16)
        achieved = flops / per_window / 1e9
        print(
            f"{name}: {1 / per_window:6.1f} windows/s  {per_window * 1e3:7.1f} ms/window  "
            f"real-time factor {per_window / hop_s:.3f} (one window per {hop_s:.0f} s of speech)  "
            f"{achieved:.0f} GFLOP/s = {100 * achieved / peaks[name]:.0f}% of nominal {name} peak"
        )


if __name__ == "__main__":
    main()
