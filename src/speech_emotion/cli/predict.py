"""``speech-emotion predict``: the emotion of each audio file."""

from __future__ import annotations

import argparse
import json
import sys

from speech_emotion.audio import DEFAULT_MAX_SECONDS, load_audio
from speech_emotion.cli.model_option import add_model_argument
from speech_emotion.errors import AudioError
from speech_emotion.evaluation.protocols import trained_on_trimmed
from speech_emotion.recognizer import EmotionRecognizer
from speech_emotion.trimming import trim_to_speech


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="+", metavar="FILE", help="audio files (wav, flac, ogg, ...; any rate)")
    add_model_argument(p)
    p.add_argument("--json", action="store_true", help="print a JSON list instead of one line per file")
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    p.add_argument(
        "--pooling",
        default="max",
        choices=["max", "mean"],
        help="utterance score from window scores: max logit (reference) or mean probability",
    )
    p.add_argument("--max-seconds", type=float, default=DEFAULT_MAX_SECONDS, help="refuse longer files")


def run(args: argparse.Namespace) -> int:
    recognizer = EmotionRecognizer.load(args.model, device=args.device, pooling=args.pooling)
    trim = trained_on_trimmed(recognizer.bundle)  # score files as the model's training files were cut
    results, failed = [], 0
    for path in args.files:
        try:
            audio = load_audio(path, max_seconds=args.max_seconds)
            prediction = recognizer.predict(trim_to_speech(audio) if trim else audio)
        except AudioError as e:
            print(f"error: {e}", file=sys.stderr)
            failed += 1
            continue
        if args.json:
            results.append({"file": path, **prediction.to_dict()})
        else:
            top = prediction.probabilities[prediction.label]
            print(f"{path}\t{prediction.label}\t{top:.2f}", flush=True)
    if args.json:
        print(json.dumps(results, indent=2))
    return 1 if failed else 0
