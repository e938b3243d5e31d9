"""The ``speech-emotion`` command: one sub-command per module in this package.

Each sub-command module defines ``NAME``, ``HELP``, ``add_arguments(parser)`` and ``run(args) -> int``.
Failures the user can fix print one line (``error: <file or field>: <reason>``) and exit non-zero;
``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import logging
import sys

from speech_emotion.cli import (
    calibrate,
    corpus,
    demo,
    evaluate,
    history,
    loco,
    monitor,
    nao_sim,
    predict,
    report,
    serve,
    simulate_day,
    train,
    tune_offset,
)
from speech_emotion.errors import SpeechEmotionError

COMMANDS = [
    *(demo, predict),
    *(corpus, train, evaluate, loco, tune_offset),
    *(monitor, history, calibrate, nao_sim),
    *(simulate_day, report, serve),
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="speech-emotion", description=__doc__.splitlines()[0])
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        p = sub.add_parser(command.NAME, help=command.HELP, description=command.HELP)
        command.add_arguments(p)
        p.set_defaults(run=command.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        return args.run(args)
    except SpeechEmotionError as e:
        if args.debug:
            raise
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
