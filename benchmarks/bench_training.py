"""Training throughput: windows per second of the real training step (Adam, batch of 60), fp32 and bf16.

    python benchmarks/bench_training.py [--device cpu|cuda] [--steps 3] [--configs reference small] [--threads N]

Batches are random windows: the step's cost does not depend on the data. One warm-up step runs first (it
allocates and picks kernels). Batch assembly (cutting and padding windows from normalised features) is timed
separately: it runs on the CPU for every device.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from speech_emotion.corpora.base import Utterance
from speech_emotion.corpora.examples import Example
from speech_emotion.model import ACRNN, ACRNNConfig, flops_per_window
from speech_emotion.normalization import NormStats
from speech_emotion.training.dataset import WindowSet
from speech_emotion.training.sampler import BalancedSampler
from speech_emotion.training.trainer import train_step

LABELS = ["angry", "happy", "sad", "neutral"]


def step_seconds(config: ACRNNConfig, device: torch.device, bf16: bool, steps: int, batch: int) -> float:
    torch.manual_seed(0)
    model = ACRNN(config).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    x, y = torch.randn(batch, 3, 300, 40), torch.randint(0, 4, (batch,))
    train_step(model, optimizer, x, y, bf16)
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        train_step(model, optimizer, x, y, bf16)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / steps


def assembly_windows_per_second(batch: int, batches: int = 50) -> float:
    """Batches built as the trainer builds them, from 400 utterances of 1-6 s."""
    rng = np.random.default_rng(0)
    examples = [
        Example(
            Utterance(Path(f"{i}.wav"), "bench", "none", "s", None, LABELS[i % 4], LABELS[i % 4], "train"),
            rng.normal(size=(int(rng.integers(100, 600)), 40, 3)).astype(np.float32),
        )
        for i in range(400)
    ]
    stats = NormStats(np.zeros((40, 3), np.float32), np.ones((40, 3), np.float32), 2)
    windows = WindowSet(examples, [stats] * len(examples), LABELS, hop=None)
    sampler = BalancedSampler(windows.classes, 4, batch, seed=0)
    start = time.perf_counter()
    for k in range(batches):
        windows.batch(sampler.batch(k))
    return batch * batches / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--batch", type=int, default=60)
    parser.add_argument("--configs", nargs="+", default=["reference", "small"])
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    name = torch.cuda.get_device_name() if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    print(f"{name}, batch {args.batch}, {args.steps} timed steps after one warm-up")
    print(f"batch assembly: {assembly_windows_per_second(args.batch):.0f} windows/s")
    for config_name in args.configs:
        config = ACRNNConfig.named(config_name)
        for bf16 in (False, True):
            seconds = step_seconds(config, device, bf16, args.steps, args.batch)
            tflops = 3 * flops_per_window(config) * args.batch / seconds / 1e12  # forward + backward ~ 3x forward
            print(
                f"{config_name:<10} {'bf16' if bf16 else 'fp32'}  {seconds * 1e3:9.1f} ms/batch  "
                f"{args.batch / seconds:9.1f} windows/s  ~{tflops:.3f} TFLOP/s"
            )


if __name__ == "__main__":
    main()
