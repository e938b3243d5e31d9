"""Would averaging predictions help? Several bundles together, and each bundle over speech played at other speeds.

    python scripts/combine_predictions.py $C --model combined4-ua --model runs/other/best-ua.pt --speeds 0.9 1.1

Each utterance's class probabilities (max pooling, as ``evaluate``) are averaged over the models (an ensemble),
or over the speeds of one model (test-time speed perturbation; speed 1 is the speech as recorded), and the
averages are scored. By default every speaker is normalised with his or her own speech at that speed, as
training's speed perturbation does, so the bundles must have been trained with per-speaker statistics;
``--normalization target-neutral`` scores a held-out corpus whose speakers are not told apart (URDU) with its own
neutral speech, as ``loco`` does. Logit offsets are left out: the question is what the networks know.
docs/MODEL_CARD.md quotes the figures.
"""

from __future__ import annotations

import argparse
import sys
from itertools import combinations
from pathlib import Path

import torch

from speech_emotion.cli import run_reporting_errors
from speech_emotion.cli.corpus_options import add_corpus_arguments, add_feature_arguments, speed_factor
from speech_emotion.corpora import read_corpora
from speech_emotion.evaluation.evaluate import normalized_corpora
from speech_emotion.evaluation.metrics import score
from speech_emotion.evaluation.protocols import NORMALIZATION_MODES, network_logits
from speech_emotion.recognizer import EmotionRecognizer
from speech_emotion.training.cache import FeatureCache
from speech_emotion.windows import pool_logits


def utterance_probabilities(recognizer, corpora, cache, split, normalization) -> tuple[list[str], list[torch.Tensor]]:
    """The true labels and the network's pooled probabilities of every ``split`` utterance, corpus by corpus."""
    prepared, _ = normalized_corpora(recognizer, corpora, cache, split, normalization)
    labels, probabilities = [], []
    for corpus in prepared:
        labels += corpus.labels
        probabilities += [pool_logits(logits) for logits in network_logits(recognizer, corpus.examples, corpus.stats)]
    return labels, probabilities


def row(name: str, truth: list[str], averaged: list[torch.Tensor], classes: list[str]) -> str:
    scores = score(truth, [classes[int(p.argmax())] for p in averaged], classes)
    return f"| {name} | {scores.ua:.3f} | {scores.per_class['sad']['recall']:.3f} |"


def short_names(models: list[str]) -> dict[str, str]:
    """Each bundle's file name, with as many parent folders as it takes to tell apart runs' ``best-ua.pt``."""
    for depth in range(1, max(len(Path(m).parts) for m in models) + 1):
        names = {m: "/".join(Path(m).parts[-depth:]) for m in models}
        if len(set(names.values())) == len(names):
            return names
    return {m: m for m in models}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_corpus_arguments(parser)
    add_feature_arguments(parser)
    parser.add_argument("--model", action="append", required=True, help="a bundle name or path; repeat for more")
    parser.add_argument("--speeds", nargs="*", type=speed_factor, default=[], help="speeds besides 1 to average over")
    parser.add_argument("--split", default="valid")
    parser.add_argument(
        "--normalization", default="speaker", choices=NORMALIZATION_MODES, help="as evaluate's (default %(default)s)"
    )
    args = parser.parse_args()
    corpora = read_corpora(args.corpora, args.excited_as_happy)
    cache = FeatureCache(args.cache, args.workers)
    speeds = [1.0, *args.speeds]
    distinct = list(dict.fromkeys(args.model))  # a bundle named twice is read and scored once
    names = short_names(distinct)
    predictions = {}  # (model, speed) -> probabilities, utterances in the same order for every key
    for model in distinct:
        recognizer = EmotionRecognizer.load(model)
        for speed in speeds:
            truth, predictions[model, speed] = utterance_probabilities(
                recognizer, corpora, cache if speed == 1.0 else cache.at_speed(speed), args.split, args.normalization
            )
    classes = recognizer.labels

    def averaged(keys: list[tuple[str, float]]) -> list[torch.Tensor]:
        return [sum(parts) / len(keys) for parts in zip(*(predictions[k] for k in keys), strict=True)]

    print("| predictions averaged | UA | sad recall |\n| --- | ---: | ---: |")
    for model in args.model:
        for n in range(1, len(speeds) + 1):
            for chosen in combinations(speeds, n):
                name = f"{names[model]} at speeds {', '.join(map(str, chosen))}"
                print(row(name, truth, averaged([(model, s) for s in chosen]), classes))
    for n in range(2, len(args.model) + 1):
        for chosen in combinations(args.model, n):
            print(row(" + ".join(names[m] for m in chosen), truth, averaged([(m, 1.0) for m in chosen]), classes))


if __name__ == "__main__":
    sys.exit(run_reporting_errors(main))
