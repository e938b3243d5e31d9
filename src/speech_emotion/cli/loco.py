"""``speech-emotion loco``: leave-one-corpus-out training and cross-corpus scores."""

from __future__ import annotations

import argparse

from speech_emotion.cli.corpus_options import add_corpus_arguments, add_feature_arguments, corpus_spec
from speech_emotion.cli.training_options import add_training_arguments, training_config
from speech_emotion.corpora import read_corpora
from speech_emotion.corpora.cache import FeatureCache
from speech_emotion.evaluation.protocols import NORMALIZATION_MODES


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_corpus_arguments(p)
    p.add_argument(
        "--out", required=True, metavar="DIR", help="folds in DIR/without-NAME; the table in DIR/loco.md, DIR/loco.json"
    )
    p.add_argument("--resume", action="store_true", help="continue interrupted folds; finished ones keep their scores")
    p.add_argument(
        "--unseen",
        action="append",
        default=[],
        type=corpus_spec,
        metavar="NAME=PATH",
        help="a test-only corpus (emovo, tess) each fold's best-ua model is also scored on; repeat for several",
    )
    p.add_argument(
        "--normalization",
        default=None,
        choices=[m for m in NORMALIZATION_MODES if m != "model"],
        help="statistics for the held-out corpus (default: its own neutral speech, the reference protocol; "
        "each speaker's own speech with --train-normalization speaker)",
    )
    add_training_arguments(p)
    add_feature_arguments(p)


def run(args: argparse.Namespace) -> int:
    from speech_emotion.training.loco import (  # heavy: only when needed
        default_normalization,
        format_table,
        leave_one_corpus_out,
    )

    corpora = read_corpora(args.corpora, args.excited_as_happy)
    unseen = read_corpora(args.unseen, args.excited_as_happy) if args.unseen else []
    config = training_config(args)
    cache = FeatureCache(args.cache, args.workers)
    normalization = args.normalization or default_normalization(config)
    results = leave_one_corpus_out(
        corpora, config, args.out, cache, args.device, normalization, args.resume, unseen=unseen
    )
    print(format_table(results, normalization))
    if len(results) < len(corpora):
        print("stopped before every fold was done; continue with the same command and --resume")
        return 130
    return 0
