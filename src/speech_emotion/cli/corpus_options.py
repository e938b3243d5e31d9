"""Command-line options shared by the commands that read corpora and extract features."""

from __future__ import annotations

import argparse

import torch

from speech_emotion.corpora import CORPUS_NAMES, CorpusError, parse_corpus_spec
from speech_emotion.training.cache import default_cache_dir
from speech_emotion.training.config import (
    LR_SCHEDULES,
    MAX_SPEED,
    MIN_SPEED,
    SPECAUGMENT_MASKS,
    TRAIN_NORMALIZATIONS,
    TrainConfig,
)


def corpus_spec(text: str):
    """argparse type for ``NAME=PATH``; argparse prints the reason and the usage."""
    try:
        return parse_corpus_spec(text)
    except CorpusError as e:
        raise argparse.ArgumentTypeError(e.reason) from e


def add_corpus_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--corpus",
        dest="corpora",
        action="append",
        required=True,
        type=corpus_spec,
        metavar="NAME=PATH",
        help=f"a corpus in its original layout (NAME: {', '.join(CORPUS_NAMES)}); repeat for several",
    )
    p.add_argument(
        "--excited-as-happy", action="store_true", help="IEMOCAP: count 'excited' as happy (common 4-class setup)"
    )


def add_feature_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--cache", default=None, metavar="DIR", help=f"feature cache folder (default {default_cache_dir()})")
    p.add_argument("--workers", type=int, default=None, help="feature extraction processes (default: one per core)")


def add_training_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--config",
        default="reference",
        choices=["reference", "small"],
        help="reference: the published network and recipe; small: a tiny network for quick CPU runs and tests",
    )
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    p.add_argument("--steps", type=positive_int, default=None, help="training batches in all (preset's default)")
    p.add_argument("--lr", type=float, default=None, help="Adam learning rate (preset's default)")
    p.add_argument(
        "--lr-schedule",
        default=None,
        choices=LR_SCHEDULES,
        help="constant (reference, default); cosine: down to zero at the last batch; plateau: lowered when "
        "validation UA stalls",
    )
    p.add_argument(
        "--lr-patience",
        type=non_negative_int,
        default=None,
        help="plateau: validations without a better UA that are borne; the next one lowers the rate (default 4)",
    )
    p.add_argument(
        "--lr-factor", type=fraction, default=None, help="plateau: the rate is multiplied by this (default 0.1)"
    )
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
        help=f"mask {SPECAUGMENT_MASKS} time spans and {SPECAUGMENT_MASKS} mel-band spans of each training window "
        "(same as --time-masks 2 --freq-masks 2)",
    )
    p.add_argument("--time-masks", type=non_negative_int, default=None, help="time masks per training window")
    p.add_argument("--time-mask-frames", type=non_negative_int, default=None, help="longest time mask (default 40)")
    p.add_argument("--freq-masks", type=non_negative_int, default=None, help="mel-band masks per training window")
    p.add_argument("--freq-mask-bands", type=non_negative_int, default=None, help="widest band mask (default 8)")
    p.add_argument(
        "--mixup",
        type=non_negative_float,
        default=None,
        metavar="ALPHA",
        help="mix windows within a batch with weights from Beta(ALPHA, ALPHA) (default 0: off; 0.2-0.4 usual)",
    )
    p.add_argument(
        "--adversary",
        type=non_negative_float,
        default=None,
        metavar="WEIGHT",
        help="domain-adversarial training: a corpus classifier on the network's embedding, its gradient reversed "
        "with a weight rising to WEIGHT (default 0: off; needs two or more corpora)",
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
        "--class-weight",
        type=class_weight,
        action="append",
        default=None,
        metavar="LABEL=WEIGHT",
        help="weigh the emotion loss on LABEL's windows by WEIGHT (others 1; may be repeated; default: all equal), "
        "e.g. sad=2 to trade other recalls for sad's",
    )
    p.add_argument(
        "--speed-perturbation",
        type=speed_factor,
        nargs="+",
        default=None,
        metavar="FACTOR",
        help="also train on every training utterance played FACTOR times as fast, each copy as a speaker of its "
        "own (e.g. 0.9 1.1; default: off)",
    )
    p.add_argument(
        "--train-normalization",
        default=None,
        choices=TRAIN_NORMALIZATIONS,
        help="corpus: each corpus's neutral statistics (reference, default); speaker: each speaker's own speech; "
        "hybrid: each speaker's own, but a corpus whose speakers mostly speak one emotion each keeps its neutral ones",
    )
    p.add_argument(
        "--trim-silence",
        action="store_true",
        help="cut each file to its speech with the monitor's VAD before features, for training and scoring "
        "(the reference kept leading and trailing silence)",
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
    masks = SPECAUGMENT_MASKS if args.specaugment else None  # --time-masks and --freq-masks win over it
    return TrainConfig.named(args.config).with_overrides(
        time_masks=masks if args.time_masks is None else args.time_masks,
        time_mask_frames=args.time_mask_frames,
        freq_masks=masks if args.freq_masks is None else args.freq_masks,
        freq_mask_bands=args.freq_mask_bands,
        mixup=args.mixup,
        adversary_weight=args.adversary,
        average_from=args.average_from,
        class_weights=dict(args.class_weight) if args.class_weight else None,
        speeds=tuple(dict.fromkeys(args.speed_perturbation)) if args.speed_perturbation else None,
        normalization=args.train_normalization,
        trim_silence=args.trim_silence or None,
        steps=args.steps,
        learning_rate=args.lr,
        lr_schedule=args.lr_schedule,
        lr_patience=args.lr_patience,
        lr_factor=args.lr_factor,
        batch_size=args.batch_size,
        eval_every=args.eval_every,
        hop=args.hop,
        seed=args.seed,
        bf16=args.bf16 or None,
    )


def class_weight(text: str) -> tuple[str, float]:
    """``LABEL=WEIGHT`` with a weight above 0."""
    label, sep, weight = text.partition("=")
    if not sep or not label:
        raise argparse.ArgumentTypeError(f"{text!r} is not LABEL=WEIGHT")
    return label, positive_float(weight)


def speed_factor(text: str) -> float:
    """A speed perturbation factor: from MIN_SPEED to MAX_SPEED, and not 1 (the recordings themselves)."""
    value = float(text)
    if not (MIN_SPEED <= value <= MAX_SPEED and value != 1):
        raise argparse.ArgumentTypeError(f"{text} is not a speed from {MIN_SPEED} to {MAX_SPEED} other than 1")
    return value


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive whole number")
    return value


def non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} is negative")
    return value


def non_negative_float(text: str) -> float:
    value = float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"{text} is not a number of zero or more")
    return value


def positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text} is not a number above 0")
    return value


def fraction(text: str) -> float:
    value = float(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"{text} does not lie between 0 and 1")
    return value
