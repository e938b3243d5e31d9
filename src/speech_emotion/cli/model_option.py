"""The ``--model`` option, the same for every command that scores speech: the shipped model unless told."""

from __future__ import annotations

import argparse

from speech_emotion.bundle import DEFAULT_MODEL


def add_model_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--model",
        default=DEFAULT_MODEL,
        help="model bundle file or shipped model name (default: %(default)s, the ACRNN and the eGeMAPS peer fused)",
    )
