"""Command-line options of the commands that train (``train`` and ``loco``): the kept recipe, nothing more."""

from __future__ import annotations

import argparse

import torch

from speech_emotion.cli.arguments import non_negative_float, positive_int
from speech_emotion.preprocessing import STATISTICS
from speech_emotion.training.config import TrainConfig


def add_training_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--config",
        default="reference",
        choices=["reference", "small"],
        help="reference: the published network and recipe; small: a tiny network for quick CPU runs and tests",
    )
    p.add_argument("--device", default="cpu", metavar="cpu|cuda|cuda:N", help="where the model runs")
    p.add_argument("--steps", type=positive_int, default=None, help="training batches in all (preset's default)")
    p.add_argument("--lr", type=float, default=None, help="Adam learning rate (preset's default)")
    p.add_argument("--batch-size", type=positive_int, default=None, help="windows per batch (default 60)")
    p.add_argument("--eval-every", type=positive_int, default=None, help="batches between validations/checkpoints")
    p.add_argument(
        "--hop",
        type=positive_int,
        default=None,
        help="cut training windows every HOP frames (default: the reference's first and last 300 frames)",
    )
    p.add_argument("--bf16", action="store_true", help="bfloat16 autocast for the forward pass")
    p.add_argument(
        "--specaugment",
        action="store_true",
        help="mask 2 time spans (up to 40 frames) and 2 mel-band spans (up to 8 bands) of each training window",
    )
    p.add_argument(
        "--mixup",
        type=non_negative_float,
        default=None,
        metavar="ALPHA",
        help="mix windows within a batch with weights from Beta(ALPHA, ALPHA) (default 0: off; 0.2-0.4 usual)",
    )
    p.add_argument(
        "--average-from",
        type=positive_int,
        default=None,
        metavar="BATCH",
        help="average the weights after this batch and every later one; validate and keep that mean "
        "(stochastic weight averaging; default: off)",
    )
    p.add_argument(
        "--train-normalization",
        default=None,
        choices=STATISTICS,
        help="corpus: each corpus's neutral statistics (reference, default); speaker: each speaker's own speech; "
        "hybrid: each speaker's own, but a corpus whose speakers mostly speak one emotion each keeps its neutral ones",
    )
    p.add_argument("--seed", type=int, default=None, help="random seed (default 0)")
    p.add_argument(
        "--threads",
        type=positive_int,
        default=None,
        help="CPU threads for PyTorch (default: one per core; 1 is faster for the small network on a busy machine)",
    )


def training_config(args: argparse.Namespace) -> TrainConfig:
    """The preset named by ``--config`` with the options given; also applies ``--threads``."""
    if args.threads:
        torch.set_num_threads(args.threads)
    return TrainConfig.named(args.config).with_overrides(
        specaugment=args.specaugment or None,
        mixup=args.mixup,
        average_from=args.average_from,
        normalization=args.train_normalization,
        steps=args.steps,
        learning_rate=args.lr,
        batch_size=args.batch_size,
        eval_every=args.eval_every,
        hop=args.hop,
        seed=args.seed,
        bf16=args.bf16 or None,
    )
