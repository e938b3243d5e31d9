"""``speech-emotion tune-offset``: a copy of a model that leans toward one emotion, by as much as labelled speech says.

The offset (see :mod:`speech_emotion.evaluation.offsets`) is chosen for UA × that emotion's recall on a split
of labelled corpora, the validation speakers by default, and written into the copy, which ``predict``,
``evaluate`` and the monitor then apply. The printed leave-one-corpus-out line is what to expect on speech
the choice never saw.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from speech_emotion.cli.evaluate import add_scoring_arguments, save_tuned_copy, tuning_setup
from speech_emotion.errors import SpeechEmotionError
from speech_emotion.recognizer import LOGIT_OFFSETS

if TYPE_CHECKING:
    from speech_emotion.evaluation.offsets import OffsetChoice


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_scoring_arguments(p, default_split="valid")
    p.add_argument("--label", required=True, help="the emotion to lean toward, e.g. sad")
    p.add_argument("--out", required=True, metavar="FILE", help="where to write the copy (a model bundle)")


def run(args: argparse.Namespace) -> int:
    from speech_emotion.evaluation.offsets import CorpusLogits, choose_offset  # scikit-learn: only when needed
    from speech_emotion.evaluation.protocols import network_logits

    recognizer, prepared, unreadable, normalization, out = tuning_setup(args)
    if args.label not in recognizer.labels:
        raise SpeechEmotionError(f"--label {args.label}: not among the model's labels {', '.join(recognizer.labels)}")
    logits = [CorpusLogits(c.name, network_logits(recognizer, c.examples, c.stats), c.labels) for c in prepared]
    choice = choose_offset(logits, recognizer.labels, args.label, recognizer.logit_offsets, recognizer.pooling)
    source = recognizer.bundle
    metadata = {
        **source.metadata,
        LOGIT_OFFSETS: {**source.metadata.get(LOGIT_OFFSETS, {}), args.label: choice.offset},
        "tuned_from": source.model_id,
        "offset_choice": {"split": args.split, "normalization": normalization, **choice.to_dict()},
    }
    model_id = save_tuned_copy(source, out, metadata)
    print(_report(choice, source.model_id, model_id, out))
    if unreadable:
        print(f"{len(unreadable)} unreadable files skipped")
    return 0


def _report(choice: OffsetChoice, tuned_from: str, model_id: str, out: Path) -> str:
    """The figures before, with each offset of the grid, with the chosen one, and leave-one-corpus-out."""
    figures, label = choice.to_dict(), choice.label
    rows = [("before", figures["before"])]
    rows += [(f"{label} offset {float(offset):g}", summary) for offset, summary in figures["sweep"].items()]
    rows.append((f"{label} offset {choice.offset:g}, chosen on this speech", figures["after"]))
    if choice.held_out is not None:
        rows.append(("each corpus with the offset chosen without it", figures["held_out"]))
    lines = [
        f"{tuned_from}: {label} offset {choice.offset:g} -> {out} ({model_id})",
        f"{'':<48}{'UA':>7}{label + ' recall':>14}{'UA x recall':>14}",
        *(f"{name:<48}{s['ua']:>7.3f}{s[f'{label}_recall']:>14.3f}{s['criterion']:>14.3f}" for name, s in rows),
    ]
    if choice.held_out_offsets:
        lines.append("offsets chosen without each corpus: " + ", ".join(
            f"{name} {o:g}" for name, o in choice.held_out_offsets.items()
        ))  # fmt: skip
    return "\n".join(lines)
