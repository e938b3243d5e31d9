"""Command-line options shared by the commands that read corpora and extract features."""

from __future__ import annotations

import argparse

from speech_emotion.corpora import CORPUS_NAMES, CorpusError, parse_corpus_spec
from speech_emotion.corpora.cache import default_cache_dir


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
