"""``speech-emotion train``: train the ACRNN on corpora and keep the two best models as bundles."""

from __future__ import annotations

import argparse

from speech_emotion.bundle import load_bundle
from speech_emotion.cli.corpus_options import add_corpus_arguments, add_feature_arguments
from speech_emotion.cli.training_options import add_training_arguments, training_config
from speech_emotion.corpora import read_corpora
from speech_emotion.corpora.cache import FeatureCache


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_corpus_arguments(p)
    p.add_argument(
        "--kind",
        default="acrnn",
        choices=["acrnn", "egemaps"],
        help="acrnn: the network on log-mel windows (default); egemaps: the peer, an RBF SVM on each utterance's "
        "eGeMAPS functionals (seconds to train; of the options below it takes --train-normalization, default global)",
    )
    p.add_argument("--out", required=True, metavar="DIR", help="run folder: bundles, checkpoint, metrics")
    p.add_argument("--name", default=None, help="model id prefix of the bundles (default: the --out folder's name)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its checkpoint")
    p.add_argument(
        "--init-from",
        default=None,
        metavar="BUNDLE",
        help="start from this bundle's weights (a file or shipped model name) instead of random ones: fine-tuning",
    )
    add_training_arguments(p)
    add_feature_arguments(p)


def run(args: argparse.Namespace) -> int:
    from speech_emotion.training.trainer import Trainer, prepare_data  # TensorBoard, scikit-learn: only when needed

    config = training_config(args)
    initial = load_bundle(args.init_from) if args.init_from else None
    corpora = read_corpora(args.corpora, args.excited_as_happy)
    data = prepare_data(
        corpora, FeatureCache(args.cache, args.workers, kind="logmel" if args.kind == "acrnn" else args.kind)
    )
    if args.kind == "egemaps":
        from speech_emotion.training.functionals import train_functionals

        result = train_functionals(data, args.train_normalization or "global", args.out, args.name)
    else:
        result = Trainer(data, config, args.out, device=args.device, name=args.name, initial=initial).run(args.resume)
    if data.unreadable:
        print(f"{len(data.unreadable)} unreadable files skipped")
    if result.interrupted:
        print(f"stopped at batch {result.step} of {result.steps}; continue with the same command and --resume")
        return 130
    step = "batch" if args.kind == "acrnn" else "setting"
    print(f"best validation UA {result.best_ua:.3f} ({step} {result.best_ua_step}): {result.best_ua_path}")
    ua_sad, at = result.best_ua_sad, result.best_ua_sad_step
    print(f"best validation UA x sad recall {ua_sad:.3f} ({step} {at}): {result.best_ua_sad_path}")
    return 0
