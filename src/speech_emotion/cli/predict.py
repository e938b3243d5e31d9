"""``speech-emotion predict``: the emotion of each audio file."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator

import numpy as np
from tqdm import tqdm

from speech_emotion.audio import DEFAULT_MAX_SECONDS
from speech_emotion.cli.arguments import positive_seconds
from speech_emotion.cli.model_option import add_model_argument
from speech_emotion.errors import AudioError, SpeechEmotionError
from speech_emotion.fusion import Recognizer, load_recognizer
from speech_emotion.normalization import NormStats
from speech_emotion.recognizer import NO_SPEECH
from speech_emotion.windows import POOLINGS

STEADY_SECONDS = 15.0  # of speech: validation UA with a speaker's statistics from 17 s is near that from 2 min


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="+", metavar="FILE", help="audio files (wav, flac, ogg, ...; any rate)")
    add_model_argument(p)
    output = p.add_mutually_exclusive_group()
    output.add_argument(
        "--json", action="store_true", help="print a JSON list (at the end) instead of one line per file"
    )
    output.add_argument("--jsonl", action="store_true", help="print one JSON object per file, as each is done")
    p.add_argument("--device", default="cpu", metavar="cpu|cuda|cuda:N", help="where the model runs")
    p.add_argument(
        "--pooling",
        default=None,
        choices=POOLINGS,
        help="utterance score from window scores: max logit (reference) or mean probability (default: the model's)",
    )
    p.add_argument("--max-seconds", type=positive_seconds, default=DEFAULT_MAX_SECONDS, help="refuse longer files")
    p.add_argument(
        "--same-speaker",
        action="store_true",
        help="the files are all one person's: normalise them with that person's statistics, from all of them "
        "(as the shipped models were trained and validated); without it each file gets the model's pooled "
        "statistics, which suit no one speaker",
    )


def run(args: argparse.Namespace) -> int:
    recognizer = load_recognizer(args.model, device=args.device, pooling=args.pooling)
    failed: list[str] = []
    utterances = read_utterances(recognizer, args.files, args.max_seconds, failed)
    stats = None
    if args.same_speaker:  # the statistics need every file first; otherwise each line prints as its file is read
        utterances = list(utterances)
        readable = [f for _, f in utterances if f is not None]
        stats = speaker_stats(recognizer, readable) if readable else None
    results = []
    shown = tqdm(utterances, total=len(args.files), unit="file", disable=not sys.stderr.isatty() or len(args.files) < 2)
    for path, features in shown:
        result = recognizer.predict_file_features(features, stats).to_dict()
        if args.json:
            results.append({"file": path, **result})
        elif args.jsonl:
            print(json.dumps({"file": path, **result}), flush=True)
        elif result["probabilities"] is None:
            print(f"{path}\t{NO_SPEECH}", flush=True)
        else:
            print(f"{path}\t{result['label']}\t{result['probabilities'][result['label']]:.2f}", flush=True)
    if args.json:
        print(json.dumps(results, indent=2))
    return 1 if failed else 0


def read_utterances(
    recognizer: Recognizer, paths: list[str], max_seconds: float, failed: list[str]
) -> Iterator[tuple[str, list[np.ndarray] | None]]:
    """Each readable file's features as each of the model's parts wants them, read only when asked for; None
    for a file without speech (silence, noise, music: never given an emotion). A file that cannot be read is
    said on stderr and added to ``failed``."""
    for path in paths:
        try:
            yield path, recognizer.file_features(path, max_seconds)
        except AudioError as e:
            print(f"error: {e}", file=sys.stderr)
            failed.append(path)


def speaker_stats(recognizer: Recognizer, features: list[list[np.ndarray]]) -> list[NormStats]:
    """Each part's statistics of the speaker from all of their utterances, with a note when there is little
    speech."""
    try:
        stats = recognizer.speaker_stats(features)
    except SpeechEmotionError as e:
        raise SpeechEmotionError(f"--same-speaker: {e}") from None
    seconds = stats[0].frames / recognizer.parts[0].preprocessing.rows_per_second
    if seconds < STEADY_SECONDS:
        print(
            f"note: --same-speaker: the speaker's statistics come from {seconds:.0f} s of speech; "
            f"with {STEADY_SECONDS:.0f} s or more they recognise better (docs/MODEL_CARD.md)",
            file=sys.stderr,
        )
    return stats
