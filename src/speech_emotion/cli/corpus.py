"""``speech-emotion corpus summary``: what the readers make of corpora, per split and class."""

from __future__ import annotations

import argparse
import json
import sys

from speech_emotion.cli.corpus_options import add_corpus_arguments
from speech_emotion.corpora import read_corpora
from speech_emotion.corpora.summary import format_summary, summarize


def add_arguments(p: argparse.ArgumentParser) -> None:
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    summary = actions.add_parser(
        "summary",
        help="utterances per corpus, split and class; dropped, ignored and unreadable files",
        description="Count each corpus's utterances per split and 4-class label. Unreadable files are listed "
        "on stderr and left out of the counts.",
    )
    add_corpus_arguments(summary)
    summary.add_argument("--json", action="store_true", help="print {corpus: {split: {label: count}, ...}} as JSON")


def run(args: argparse.Namespace) -> int:
    result = {}
    for corpus in read_corpora(args.corpora, args.excited_as_happy):
        counts, unreadable = summarize(corpus)
        for u in unreadable:
            print(f"error: {u.path}: {u.reason}", file=sys.stderr)
        result[corpus.name] = counts
        if not args.json:
            print(format_summary(corpus, counts), end="\n\n", flush=True)
    if args.json:
        print(json.dumps(result, indent=2))
    return 0
