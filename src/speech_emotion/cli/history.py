"""``speech-emotion history``: the utterances a monitor stored, as a table or JSON."""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import UTC, datetime, timedelta

from speech_emotion.cli.arguments import positive_int
from speech_emotion.cli.db_options import add_db, open_existing_store
from speech_emotion.errors import SpeechEmotionError
from speech_emotion.reports.timezones import check_time, local_zone

NEWEST = 50  # utterances shown unless --limit or --all
_RELATIVE = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_db(p)
    p.add_argument("--since", metavar="T", help="ISO 8601 time (local if no zone given) or an age: 90s, 15m, 2h, 7d")
    p.add_argument("--until", metavar="T", help="same forms as --since")
    p.add_argument("--source", help="only this source")
    shown = p.add_mutually_exclusive_group()
    shown.add_argument(
        "--limit", type=positive_int, default=NEWEST, help="the newest N utterances (default %(default)s)"
    )
    shown.add_argument("--all", action="store_true", help="every utterance in the time range")
    p.add_argument("--json", action="store_true", help="print a JSON list of utterances")


def parse_time(text: str, option: str, now: datetime | None = None) -> datetime:
    """An aware datetime from ISO 8601 (local time when it has no zone) or an age such as ``2h``."""
    m = _RELATIVE.match(text.strip())
    try:
        if m:
            moment = (now or datetime.now(UTC)) - timedelta(**{_UNITS[m.group(2)]: float(m.group(1))})
        else:
            moment = datetime.fromisoformat(text.strip())
    except (OverflowError, ValueError):
        raise SpeechEmotionError(
            f"{option} {text!r}: not an ISO 8601 time (2025-01-31T08:00, 2025-01-31) nor an age (90s, 15m, 2h, 7d)"
        ) from None
    return check_time(moment if moment.tzinfo else moment.replace(tzinfo=local_zone()), option)


def run(args: argparse.Namespace) -> int:
    since = parse_time(args.since, "--since") if args.since else None
    until = parse_time(args.until, "--until") if args.until else None
    store = open_existing_store(args.db)
    try:
        limit = None if args.all else args.limit
        rows = store.utterances(since=since, until=until, source_id=args.source, limit=limit, newest_first=True)
    finally:
        store.close()
    rows.sort(key=lambda r: (r.start, r.source_id))
    if limit is not None and len(rows) == limit:
        print(f"note: the newest {limit} utterances; --limit N or --all for more", file=sys.stderr)
    if args.json:
        print(json.dumps([row.to_dict() for row in rows], indent=2))
    else:
        print_table(rows)
    return 0


def print_table(rows) -> None:
    if not rows:
        print("no utterances")
        return
    zone = datetime.now().astimezone().tzname()
    print(f"{'start (' + zone + ')':<23} {'dur':>5}  {'label':<8} {'p':>4}  source")
    for row in rows:
        start = row.start.astimezone().strftime("%Y-%m-%d %H:%M:%S.%f")[:-4]
        p = row.probabilities.get(row.label, 0.0)
        print(f"{start:<23} {row.duration_s:5.1f}  {row.label:<8} {p:4.2f}  {row.source_id}")
