"""The ``speech-emotion`` command: one sub-command per module in this package.

Each sub-command module defines ``add_arguments(parser)`` and ``run(args) -> int``; the table below names it
and says what it is for. Only the module of the command being run is imported, so ``train`` needs nothing
but the training stack (no qi, SQLAlchemy or FastAPI) and ``nao-sim`` or ``serve`` start without PyTorch.
Failures the user can fix print one line (``error: <file or field>: <reason>``) and exit non-zero;
``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Callable
from importlib import metadata

from speech_emotion.errors import SpeechEmotionError

COMMANDS = {
    "demo": "run everything on a simulated robot: stream a recording, monitor it, write a report, serve the dashboard",
    "predict": "recognise the emotion of audio files (one line each, or --json)",
    "corpus": "inspect corpora in their original layouts (summary: utterances per split and class)",
    "train": "train a model on corpora (train speakers), selecting on the validation speakers",
    "evaluate": "score a model on corpora: UA, WA, macro F1, per-class figures, confusion matrix",
    "loco": "leave-one-corpus-out: train without each corpus in turn and score on it (cross-corpus, cross-language)",
    "tune-offset": "copy a model with a logit offset for one emotion, chosen for UA x its recall on labelled speech",
    "tune-temperature": "copy a model with calibrated probabilities: a temperature chosen on labelled speech",
    "fuse": "join two models into one fused bundle: a weight and a temperature chosen on labelled speech",
    "monitor": "recognise emotions in a live audio stream (NAO robot, microphone or file) and store them",
    "history": "list the utterances and emotions a monitor stored",
    "calibrate": "adapt a monitored source's speaker statistics to recordings of the person",
    "nao-sim": "simulated NAO robot: streams an audio file as its microphone over NAOqi and records the calls it gets",
    "simulate-day": "store a simulated day of utterances and alerts (for demonstrations, reports and the dashboard)",
    "report": "write the daily report (HTML with figures, PNGs, JSON) of one or every monitored source",
    "serve": "serve the live dashboard and JSON API (localhost only unless given a token)",
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command's name and help, and of ``command``'s arguments (its module is imported)."""
    parser = argparse.ArgumentParser(prog="speech-emotion", description=__doc__.splitlines()[0])
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    parser.add_argument("--version", action="version", version=f"speech-emotion {metadata.version('speech-emotion')}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, help_text in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        if name == command:
            module = importlib.import_module(f"{__name__}.{name.replace('-', '_')}")
            module.add_arguments(p)
            p.set_defaults(run=module.run)
    return parser


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse a command line, importing only the module of the command it names (its first word not an option)."""
    argv = sys.argv[1:] if argv is None else argv
    command = next((word for word in argv if not word.startswith("-")), None)
    return build_parser(command if command in COMMANDS else None).parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    return run_reporting_errors(lambda: args.run(args), debug=args.debug)


def run_reporting_errors(action: Callable[[], int | None], debug: bool = False) -> int:
    """Run ``action`` for its exit status: a SpeechEmotionError becomes its one line (1), Ctrl-C 130.

    The commands and the developer tools in ``scripts/`` share it, so bad input reads the same everywhere.
    """
    try:
        return action() or 0
    except SpeechEmotionError as e:
        if debug:
            raise
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (| head): say so once, and print nothing more at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        print("error: standard output: closed by the reader; the rest was not printed", file=sys.stderr)
        return 1
