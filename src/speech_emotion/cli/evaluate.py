"""``speech-emotion evaluate``: utterance-level scores of a model bundle on corpora."""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import replace
from pathlib import Path

import torch

from speech_emotion.bundle import ModelBundle, save_bundle
from speech_emotion.cli.corpus_options import add_corpus_arguments, add_feature_arguments
from speech_emotion.cli.model_option import add_model_argument
from speech_emotion.corpora import read_corpora
from speech_emotion.corpora.base import SPLIT_CHOICES, Corpus
from speech_emotion.corpora.cache import FeatureCache
from speech_emotion.errors import SpeechEmotionError
from speech_emotion.evaluation.protocols import NORMALIZATION_MODES, PROTOCOLS, default_normalization
from speech_emotion.fusion import FusedRecognizer, load_recognizer
from speech_emotion.recognizer import EmotionRecognizer
from speech_emotion.windows import POOLINGS


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_scoring_arguments(p, default_split="test")
    p.add_argument(
        "--protocol",
        nargs="+",
        choices=PROTOCOLS,
        default=None,
        help="how people use the model, one report each: alone (each file by itself, as predict FILE), person "
        "(each speaker's files with that person's statistics, as predict --same-speaker), stream (each speaker's "
        "files as one stream through the real monitor); instead of --normalization",
    )
    p.add_argument(
        "--json", default=None, metavar="OUT", help="also write the scores and each file's prediction as JSON here"
    )


def add_scoring_arguments(p: argparse.ArgumentParser, default_split: str) -> None:
    """The model, the corpora and how their speech is scored: shared with ``tune-offset``."""
    add_model_argument(p)
    add_corpus_arguments(p)
    p.add_argument(
        "--split", default=default_split, choices=SPLIT_CHOICES, help="which speakers to score (default %(default)s)"
    )
    p.add_argument(
        "--normalization",
        default=None,
        choices=NORMALIZATION_MODES,
        help="model: the bundle's statistics of each corpus it was trained on; target-neutral: the corpus's own "
        "neutral speech (cross-corpus protocol); target-all: all its speech; speaker: each speaker's speech; "
        "pooled: the bundle's statistics pooled over its training corpora, as predict scores a lone file "
        "(default: speaker for a model trained with --train-normalization speaker or hybrid, else model)",
    )
    p.add_argument(
        "--pooling", default=None, choices=POOLINGS, help="utterance score from window scores (default: the model's)"
    )
    p.add_argument("--device", default="cpu", metavar="cpu|cuda|cuda:N", help="where the model runs")
    add_feature_arguments(p)


def scoring_setup(args: argparse.Namespace) -> tuple[EmotionRecognizer, list[Corpus], FeatureCache, str]:
    """The recogniser, corpora, feature cache and normalisation that :func:`add_scoring_arguments` chose."""
    recognizer = EmotionRecognizer.load(args.model, device=args.device, pooling=args.pooling)
    corpora = read_corpora(args.corpora, args.excited_as_happy)
    normalization = args.normalization or default_normalization(recognizer.bundle)
    cache = FeatureCache.for_model(recognizer.preprocessing, args.cache, args.workers)
    return recognizer, corpora, cache, normalization


def tuning_setup(args: argparse.Namespace) -> tuple[EmotionRecognizer, list, list, str, Path]:
    """For the commands that tune a copy of a model (``tune-offset``, ``tune-temperature``): the recogniser, each
    corpus's normalised utterances, the unreadable files, the normalisation and where the copy goes."""
    from speech_emotion.evaluation.evaluate import normalized_corpora  # scikit-learn: only when needed

    out = Path(args.out)
    if out.is_dir():
        raise SpeechEmotionError(f"--out {out}: is a folder; name the bundle file to write")
    recognizer, corpora, cache, normalization = scoring_setup(args)
    prepared, unreadable = normalized_corpora(recognizer, corpora, cache, args.split, normalization)
    return recognizer, prepared, unreadable, normalization, out


def save_tuned_copy(source: ModelBundle, out: Path, metadata: dict) -> str:
    """Write ``source`` with ``metadata`` to ``out``, in the precision it shipped in; the copy's model id."""
    half = any(v.dtype == torch.float16 for v in source.state_dict.values())
    return save_bundle(replace(source, model_id=out.stem, metadata=metadata), out, half=half)


def run(args: argparse.Namespace) -> int:
    from speech_emotion.evaluation.evaluate import (  # scikit-learn: only when needed
        evaluate,
        evaluate_fused,
        evaluate_stream,
        format_report,
    )

    if args.protocol and args.normalization:
        raise SpeechEmotionError("--protocol and --normalization: give one or the other")
    if args.json:
        writable_file(Path(args.json), "--json")
    recognizer = load_recognizer(args.model, device=args.device, pooling=args.pooling)
    if isinstance(recognizer, FusedRecognizer):  # each part its own features and statistics
        normalization = args.normalization or "alone"
        caches = [FeatureCache.for_model(p.preprocessing, args.cache, args.workers) for p in recognizer.parts]
        corpora = read_corpora(args.corpora, args.excited_as_happy)
    else:
        recognizer, corpora, cache, normalization = scoring_setup(args)
    reports = {}
    for name in dict.fromkeys(args.protocol or [normalization]):
        if name == "stream":
            reports[name] = evaluate_stream(recognizer, corpora, args.split)
        elif isinstance(recognizer, FusedRecognizer):
            reports[name] = evaluate_fused(recognizer, corpora, caches, args.split, name)
        else:
            reports[name] = evaluate(recognizer, corpora, cache, args.split, name)
        print(format_report(reports[name]), end="\n\n" if args.protocol else "\n", flush=True)
    if args.json:
        if args.protocol:
            payload = {"model": recognizer.model_id, "split": args.split}
            payload["protocols"] = {name: report.to_dict() for name, report in reports.items()}
        else:
            payload = reports[normalization].to_dict()
        Path(args.json).write_text(json.dumps(payload, indent=2) + "\n")
    return 1 if any(report.unreadable for report in reports.values()) else 0  # skipped files: say so in the status


def writable_file(path: Path, option: str) -> None:
    """Fail now, with one line, if ``path`` cannot be written when the work is done."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise SpeechEmotionError(f"{option} {path}: cannot make its folder ({e.strerror})") from None
    if path.is_dir() or not os.access(path.parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise SpeechEmotionError(f"{option} {path}: cannot be written (a folder, or no permission)")
