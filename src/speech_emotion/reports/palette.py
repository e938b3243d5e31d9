"""One colour and one plain name per emotion, shared by the reports and the dashboard.

Colours are from the Okabe-Ito palette, which stays distinguishable with the common forms of colour
blindness; sad is blue, angry vermillion, happy orange and neutral grey everywhere. Charts also keep a fixed
emotion order, so the position of a band never depends on colour alone.
"""

from __future__ import annotations

import zlib

EMOTIONS = ("angry", "happy", "sad", "neutral")

COLOURS = {
    "angry": "#D55E00",  # vermillion
    "happy": "#E69F00",  # orange
    "sad": "#0072B2",  # blue
    "neutral": "#999999",  # grey
}

NAMES = {"angry": "Angry", "happy": "Happy", "sad": "Sad", "neutral": "Neutral"}

# The rest of Okabe-Ito, for labels a future model may add.
_SPARE = ("#56B4E9", "#009E73", "#CC79A7", "#F0E442", "#000000")


def ordered(labels) -> list[str]:
    """The four known emotions first, in their fixed order, then any other label alphabetically."""
    return [*EMOTIONS, *sorted(set(labels) - set(EMOTIONS))]


def colour(label: str) -> str:
    """The emotion's colour; an unknown label gets a spare colour chosen stably from its name."""
    return COLOURS.get(label) or _SPARE[zlib.crc32(label.encode()) % len(_SPARE)]


def name(label: str) -> str:
    return NAMES.get(label, label.replace("_", " ").capitalize())
