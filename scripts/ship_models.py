"""Ship a training run's two kept models inside the package, with half-precision weights.

    python scripts/ship_models.py RUN_DIR [--name combined4] [--only ua|ua-sad]

Copies ``RUN_DIR/best-ua.pt`` and ``RUN_DIR/best-ua-sad.pt`` to ``src/speech_emotion/models/NAME-ua.pt`` and
``NAME-ua-sad.pt`` (``--only``: one of them, when the two best come from different runs), where ``predict``,
``evaluate`` and the monitor find them by name. Float16 weights halve the files (the reference network is 29 MB
in float32, over the 16 MB a shipped bundle may take); they are turned back into float32 when loaded, and
docs/MODEL_CARD.md shows what that changes in the validation scores. (The shipped ``combined4-ua-sad`` is
instead ``combined4-ua`` with a sad logit offset, written by ``speech-emotion tune-offset``; docs/MODEL_CARD.md.)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from speech_emotion.bundle import load_bundle, save_bundle
from speech_emotion.cli import run_reporting_errors

MODELS = Path(__file__).resolve().parents[1] / "src" / "speech_emotion" / "models"
KEPT = {"ua": "best-ua.pt", "ua-sad": "best-ua-sad.pt"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="the training run's --out folder")
    parser.add_argument("--name", default="combined4", help="shipped names are NAME-ua and NAME-ua-sad")
    parser.add_argument("--only", choices=KEPT, help="ship this one of the two (default: both)")
    args = parser.parse_args()
    for selection, file in KEPT.items():
        if args.only not in (None, selection):
            continue
        bundle = load_bundle(args.run / file)
        trained_as = bundle.model_id
        bundle.model_id = f"{args.name}-{selection}"
        bundle.metadata = {**bundle.metadata, "weights": "float16", "trained_as": trained_as}
        out = MODELS / f"{args.name}-{selection}.pt"
        model_id = save_bundle(bundle, out, half=True)
        print(f"{out}\t{model_id}\t{out.stat().st_size / 1e6:.1f} MB\t(from {trained_as})")


if __name__ == "__main__":
    sys.exit(run_reporting_errors(main))
