"""Options several sub-commands share (database, day, time zone), checked with one-line errors."""

from __future__ import annotations

import argparse
from datetime import date, datetime

from speech_emotion.errors import SpeechEmotionError
from speech_emotion.reports.timezones import local_zone


def add_db(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", required=True, metavar="URL", help="the monitor's database, e.g. sqlite:///monitor.db")


def add_tz(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--tz", metavar="ZONE", help="time zone of the hours shown, e.g. Europe/Berlin (default: this machine's)"
    )


def parse_day(text: str | None, field: str = "--date") -> date:
    """``YYYY-MM-DD``; today in the local zone when empty."""
    if not text:
        return datetime.now(local_zone()).date()
    try:
        return date.fromisoformat(text)
    except ValueError as e:
        raise SpeechEmotionError(f"{field} {text}: not a date ({e}; use YYYY-MM-DD)") from e
