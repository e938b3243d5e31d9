"""``speech-emotion fuse``: two models heard as one, joined by a weight and a temperature chosen on labelled speech.

Each part keeps its own input policy (features and statistics); see :mod:`speech_emotion.fusion` for how their
probabilities join and :mod:`speech_emotion.evaluation.fusion_choice` for how the weight and temperature are
chosen (the validation speakers by default, under the ``alone`` and ``person`` protocols).
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from speech_emotion.bundle import FusedBundle, ModelBundle, load_bundle, save_bundle
from speech_emotion.cli.corpus_options import add_corpus_arguments, add_feature_arguments
from speech_emotion.cli.evaluate import writable_file
from speech_emotion.corpora import read_corpora
from speech_emotion.corpora.base import SPLIT_CHOICES
from speech_emotion.corpora.cache import FeatureCache
from speech_emotion.errors import SpeechEmotionError
from speech_emotion.model import ACRNNConfig
from speech_emotion.recognizer import EmotionRecognizer

PROTOCOLS = ("alone", "person")  # scored from cached features; the stream protocol is measured afterwards


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("parts", nargs=2, metavar="MODEL", help="two model bundles or shipped names, with the same labels")
    p.add_argument("--out", required=True, metavar="FILE", help="where to write the fused bundle")
    add_corpus_arguments(p)
    p.add_argument(
        "--split", default="valid", choices=SPLIT_CHOICES, help="the speakers to choose on (default %(default)s)"
    )
    p.add_argument(
        "--half", action="store_true", help="store the ACRNN parts' weights in float16 (half the size; as shipped)"
    )
    add_feature_arguments(p)


def run(args: argparse.Namespace) -> int:
    from speech_emotion.evaluation.evaluate import evaluate  # scikit-learn: only when needed
    from speech_emotion.evaluation.fusion_choice import WEIGHTS, choose_fusion, paired_files

    out = Path(args.out)
    writable_file(out, "--out")
    parts = [load_bundle(name) for name in args.parts]
    if parts[0].labels != parts[1].labels:
        raise SpeechEmotionError(f"{args.parts[1]}: labels {parts[1].labels} are not {parts[0].labels}")
    corpora = read_corpora(args.corpora, args.excited_as_happy)
    recognizers = [EmotionRecognizer(bundle) for bundle in parts]
    caches = [FeatureCache.for_model(bundle.preprocessing, args.cache, args.workers) for bundle in parts]
    files = {}
    for protocol in PROTOCOLS:
        scored = zip(recognizers, caches, strict=True)
        first, second = (evaluate(r, corpora, c, args.split, protocol) for r, c in scored)
        files[protocol] = paired_files(first, second, parts[0].labels)
    choice = choose_fusion(files, parts[0].labels)
    print(f"weight of {parts[0].model_id} (the rest {parts[1].model_id}): UA on the {args.split} split")
    print(f"{'weight':>8}" + "".join(f"{p:>9}" for p in PROTOCOLS))
    for i, w in enumerate(WEIGHTS):
        mark = "  <- chosen" if w == choice.weight else ""
        print(f"{w:>8.2f}" + "".join(f"{choice.ua[p][i]:>9.3f}" for p in PROTOCOLS) + mark)
    nll, calibration = (choice.nll_before, choice.nll_after), (choice.ece_before, choice.ece_after)
    print("temperature {:.3g}: negative log-likelihood {:.3f} -> {:.3f}, expected calibration error {:.3f} -> {:.3f}"
          .format(choice.temperature, *nll, *calibration))  # fmt: skip
    fused = FusedBundle(
        parts=[_halved(p) if args.half else p for p in parts],
        weights=[choice.weight, 1 - choice.weight],
        temperature=choice.temperature,
        model_id=out.stem,
        metadata={"fusion_choice": {"split": args.split, "protocols": list(PROTOCOLS), **choice.to_dict()}},
    )
    print(f"-> {out} ({save_bundle(fused, out)})")
    return 0


def _halved(bundle: ModelBundle) -> ModelBundle:
    """An ACRNN part with float16 weights; other kinds as they are (an SVM's support vectors need float32)."""
    if not isinstance(bundle.config, ACRNNConfig):
        return bundle
    halved = {k: v.half() if v.is_floating_point() else v for k, v in bundle.state_dict.items()}
    return replace(bundle, state_dict=halved)
