"""How long a daily report and the dashboard's API take on a simulated day, on this machine.

    .venv/bin/python benchmarks/bench_dashboard.py [--days 8] [--repeats 3]

Fills a temporary SQLite store with ``--days`` simulated days of one source (about 800 utterances a day),
then times: summarising a day, drawing and writing one report (six figures, HTML, JSON), and the API calls
the dashboard page makes for one card (hourly summary, the day's utterances). Best of ``--repeats``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient

from speech_emotion.monitor.simulate import simulate_day
from speech_emotion.reports import generate_daily_reports, summarize_day
from speech_emotion.store import Store
from speech_emotion.web import create_app

ZONE = ZoneInfo("Europe/Berlin")
DAY = date(2026, 3, 10)
SOURCE = "bench-room"


def best(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        store = Store(url)
        start = time.perf_counter()
        stored = sum(
            simulate_day(store, DAY - timedelta(days=n), ZONE, source_id=SOURCE).utterances for n in range(args.days)
        )
        print(f"simulate-day: {stored} utterances in {args.days} days, {time.perf_counter() - start:.2f} s")
        day_rows = len(summarize_day(store, SOURCE, DAY, ZONE).utterances)
        t = best(lambda: summarize_day(store, SOURCE, DAY, ZONE), args.repeats)
        print(f"summarize one day ({day_rows} utterances): {t * 1000:.1f} ms")
        t = best(lambda: generate_daily_reports(store, DAY, Path(tmp) / "reports", tz=ZONE), args.repeats)
        print(f"daily report, one source (4 figures + HTML + JSON): {t:.2f} s")
        with TestClient(create_app(url, tz=ZONE), base_url="http://127.0.0.1") as client:  # a local Host
            summary = client.get("/api/summary/hourly", params={"source": SOURCE, "date": DAY.isoformat()}).json()
            day_params = {"source": SOURCE, "since": summary["day_start"], "until": summary["day_end"], "limit": 5000}
            t = best(lambda: client.get("/api/summary/hourly", params={"source": SOURCE, "date": DAY.isoformat()}), 10)
            print(f"GET /api/summary/hourly: {t * 1000:.1f} ms")
            t = best(lambda: client.get("/api/utterances", params=day_params), 10)
            print(f"GET /api/utterances (a whole day): {t * 1000:.1f} ms")
        store.close()


if __name__ == "__main__":
    main()
