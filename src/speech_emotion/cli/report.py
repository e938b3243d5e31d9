"""``speech-emotion report``: the caregivers' daily report of each monitored source."""

from __future__ import annotations

import argparse
from datetime import datetime, timedelta

from speech_emotion.cli.db_options import add_db, add_tz, default_reports_folder, open_existing_store, parse_day
from speech_emotion.reports.daily import generate_daily_reports
from speech_emotion.reports.timezones import resolve_zone


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_db(p)
    p.add_argument("--date", metavar="YYYY-MM-DD", help="the day to report (default: yesterday, in --tz)")
    p.add_argument("--source", metavar="ID", help="one source (default: every source, plus an index page)")
    add_tz(p)
    p.add_argument(
        "--out", metavar="DIR", help="reports go to DIR/YYYY-MM-DD/<source>/ (default: the monitor's reports folder)"
    )


def run(args: argparse.Namespace) -> int:
    zone = resolve_zone(args.tz)
    day = parse_day(args.date) if args.date else datetime.now(zone).date() - timedelta(days=1)
    out = args.out or default_reports_folder(args.db)
    store = open_existing_store(args.db)
    try:
        written = generate_daily_reports(store, day, out, tz=zone, sources=[args.source] if args.source else None)
    finally:
        store.close()
    for files in written:
        print(f"{files.source_id}\t{files.html}", flush=True)
    if not written:
        print(f"no monitored sources in {args.db}")
    return 0
