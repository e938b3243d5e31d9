"""Counts of a read corpus per split and class, with what was dropped, ignored or unreadable.

Readability is checked from each file's header (``soundfile.info``), which finds files that are not audio
at all without decoding any; a file with a good header and a damaged body is only found when its features
are extracted, where it is reported and skipped in the same way.
"""

from __future__ import annotations

import soundfile as sf

from speech_emotion.corpora.base import LABELS, SPLITS, Corpus, Unreadable, Utterance


def header_problem(utterance: Utterance) -> str | None:
    """Why the file's header shows it cannot be used, or ``None`` if it looks like audio."""
    try:
        info = sf.info(str(utterance.path))
    except sf.LibsndfileError as e:
        return f"not a readable audio file ({e.error_string})"
    except (RuntimeError, OSError) as e:
        return f"not a readable audio file ({e})"
    return "contains no audio samples" if info.frames == 0 else None


def summarize(corpus: Corpus) -> tuple[dict, list[Unreadable]]:
    """``{split: {label: count}, "dropped": {original: count}, "ignored": n, "unreadable": n}`` and the
    unreadable files; counts are of readable utterances only, so they are what training would use."""
    counts = {split: dict.fromkeys(LABELS, 0) for split in SPLITS}
    unreadable = []
    for u in corpus.utterances:
        problem = header_problem(u)
        if problem is None:
            counts[u.split][u.label] += 1
        else:
            unreadable.append(Unreadable(str(u.path), problem))
    return {
        **counts,
        "dropped": dict(sorted(corpus.dropped.items())),
        "ignored": corpus.ignored,
        "unreadable": len(unreadable),
    }, unreadable


def format_summary(corpus: Corpus, summary: dict) -> str:
    """A plain-text table: one row per split, one column per class."""
    width = max(len(label) for label in LABELS) + 2
    lines = [
        f"{corpus.name} ({corpus.language}) at {corpus.root}",
        "split".ljust(7) + "".join(label.rjust(width) for label in LABELS) + "total".rjust(width),
    ]
    for split in SPLITS:
        row = summary[split]
        lines.append(
            split.ljust(7) + "".join(str(row[c]).rjust(width) for c in LABELS) + str(sum(row.values())).rjust(width)
        )
    dropped = ", ".join(f"{label} {n}" for label, n in summary["dropped"].items()) or "none"
    lines.append(f"dropped: {dropped}; ignored files: {summary['ignored']}; unreadable files: {summary['unreadable']}")
    return "\n".join(lines)
