"""``speech-emotion tune-temperature``: a copy of a model whose probabilities mean what they say.

The temperature (see :mod:`speech_emotion.evaluation.calibration`) is chosen on a split of labelled corpora, the
validation speakers by default, normalised as the model is used (``--normalization``; ``pooled`` is a lone
file's), and written into the copy, which ``predict``, ``evaluate`` and the monitor then apply. No label changes.
"""

from __future__ import annotations

import argparse

from speech_emotion.cli.evaluate import add_scoring_arguments, save_tuned_copy, tuning_setup
from speech_emotion.recognizer import TEMPERATURE


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_scoring_arguments(p, default_split="valid")
    p.add_argument("--out", required=True, metavar="FILE", help="where to write the copy (a model bundle)")


def run(args: argparse.Namespace) -> int:
    from speech_emotion.evaluation.calibration import choose_temperature  # scikit-learn: only when needed
    from speech_emotion.evaluation.protocols import network_logits

    recognizer, prepared, unreadable, normalization, out = tuning_setup(args)
    logits = [w + recognizer.logit_offsets for c in prepared for w in network_logits(recognizer, c.examples, c.stats)]
    truth = [recognizer.labels.index(label) for c in prepared for label in c.labels]
    choice = choose_temperature(logits, truth, recognizer.pooling, recognizer.temperature)
    source = recognizer.bundle
    metadata = {
        **source.metadata,
        TEMPERATURE: choice.temperature,
        "temperature_choice": {"split": args.split, "normalization": normalization, **choice.to_dict()},
    }
    model_id = save_tuned_copy(source, out, metadata)
    print(f"{source.model_id}: temperature {choice.temperature:.3g} -> {out} ({model_id})")
    print(f"{'':<28}{'before':>8}{'after':>8}")
    print(f"{'negative log-likelihood':<28}{choice.nll_before:>8.3f}{choice.nll_after:>8.3f}")
    print(f"{'expected calibration error':<28}{choice.ece_before:>8.3f}{choice.ece_after:>8.3f}")
    if unreadable:
        print(f"{len(unreadable)} unreadable files skipped")
    return 0
