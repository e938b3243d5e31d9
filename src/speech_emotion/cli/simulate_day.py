"""``speech-emotion simulate-day``: fill the store with a plausible day of results, no robot needed."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta

from speech_emotion.cli.db_options import add_db, add_tz, parse_day
from speech_emotion.errors import SpeechEmotionError
from speech_emotion.monitor.simulate import simulate_day
from speech_emotion.reports.timezones import resolve_zone
from speech_emotion.reports.wording import duration
from speech_emotion.store import Store


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_db(p)
    p.add_argument("--date", metavar="YYYY-MM-DD", help="the day (default: today, filled up to now)")
    p.add_argument("--source", default="simulated-room", metavar="ID", help="source id (default: simulated-room)")
    p.add_argument("--seed", type=int, default=0, help="the same seed, day and source give the same rows")
    p.add_argument("--days", type=int, default=1, help="also simulate the N-1 days before --date (default: 1)")
    add_tz(p)


def run(args: argparse.Namespace) -> int:
    if not 1 <= args.days <= 366:
        raise SpeechEmotionError(f"--days {args.days}: use 1 to 366")
    last = parse_day(args.date)
    zone = resolve_zone(args.tz)
    now = datetime.now(UTC)
    store = Store(args.db)
    try:
        for back in range(args.days - 1, -1, -1):
            day = simulate_day(
                store, last - timedelta(days=back), zone, source_id=args.source, seed=args.seed, until=now
            )
            print(
                f"{day.source_id} {day.day}: {day.utterances} utterances stored "
                f"({duration(day.speech_seconds)} of speech), {day.already_stored} already there, "
                f"{day.alerts} alert{'' if day.alerts == 1 else 's'}",
                flush=True,
            )
    finally:
        store.close()
    return 0
