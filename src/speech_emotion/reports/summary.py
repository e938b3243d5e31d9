"""The numbers behind a day's report: seconds of each emotion per hour, per day, and the day's alerts.

An utterance that crosses an hour (or midnight) is split: each hour gets the seconds that fell inside it.
Hours are the wall-clock hours of one zone, stepped in real time, so a day has 23, 24 or 25 of them.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from speech_emotion.reports.palette import ordered
from speech_emotion.store import EventRow, Store, UtteranceRow

HOUR = timedelta(hours=1)
# Utterances are fetched by start time; one starting up to this long before a day still counts in it.
LOOKBACK = timedelta(hours=1)
ALERT = "alert"
WEEK = 7


@dataclass(frozen=True)
class HourTotals:
    start: datetime  # aware, in the summary's zone
    end: datetime
    seconds: dict[str, float]  # every label of the summary, zeros included

    @property
    def total(self) -> float:
        return sum(self.seconds.values())


@dataclass(frozen=True)
class DayTotals:
    day: date
    seconds: dict[str, float]
    utterances: int

    @property
    def total(self) -> float:
        return sum(self.seconds.values())

    def share(self, label: str) -> float:
        """Fraction of the day's speech with this emotion (0 when nobody spoke)."""
        return self.seconds.get(label, 0.0) / self.total if self.total else 0.0


@dataclass(frozen=True)
class DaySummary:
    source_id: str
    day: date
    zone: tzinfo
    labels: list[str]
    hours: list[HourTotals]
    totals: DayTotals
    counts: dict[str, int]  # utterances that started this day, per emotion
    utterances: list[UtteranceRow]  # every utterance overlapping the day, oldest first
    alerts: list[EventRow]

    @property
    def start(self) -> datetime:
        return self.hours[0].start

    @property
    def end(self) -> datetime:
        return self.hours[-1].end


def day_bounds(day: date, zone: tzinfo) -> tuple[datetime, datetime]:
    """The UTC instants of local midnight starting ``day`` and the next one."""
    start = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    return start, end


def hour_bounds(day: date, zone: tzinfo) -> list[datetime]:
    """UTC instants from local midnight to the next, one real hour apart (23, 24 or 25 hours)."""
    start, end = day_bounds(day, zone)
    return [start + k * HOUR for k in range(round((end - start) / HOUR) + 1)]


def split_seconds(utterances: Iterable[UtteranceRow], bounds: Sequence[datetime]) -> list[Counter]:
    """Seconds of each label inside each interval ``[bounds[i], bounds[i+1])``; parts outside are dropped."""
    bins = [Counter() for _ in range(len(bounds) - 1)]
    for u in utterances:
        start, end = max(u.start, bounds[0]), min(u.end, bounds[-1])
        k = bisect_right(bounds, start) - 1
        while start < end:
            piece_end = min(end, bounds[k + 1])
            bins[k][u.label] += (piece_end - start).total_seconds()
            start, k = piece_end, k + 1
    return bins


def summarize_day(store: Store, source_id: str, day: date, zone: tzinfo) -> DaySummary:
    bounds = hour_bounds(day, zone)
    start, end = bounds[0], bounds[-1]
    rows = [u for u in store.utterances(since=start - LOOKBACK, until=end, source_id=source_id) if u.end > start]
    per_hour = split_seconds(rows, bounds)
    labels = ordered(u.label for u in rows)
    hours = [
        HourTotals(
            start=bounds[k].astimezone(zone),
            end=bounds[k + 1].astimezone(zone),
            seconds={label: float(per_hour[k][label]) for label in labels},
        )
        for k in range(len(per_hour))
    ]
    counts = Counter(u.label for u in rows if u.start >= start)
    totals = DayTotals(
        day=day,
        seconds={label: sum(h.seconds[label] for h in hours) for label in labels},
        utterances=sum(counts.values()),
    )
    alerts = store.events(since=start, until=end, source_id=source_id, kinds=[ALERT])
    return DaySummary(
        source_id=source_id,
        day=day,
        zone=zone,
        labels=labels,
        hours=hours,
        totals=totals,
        counts={label: counts[label] for label in labels},
        utterances=rows,
        alerts=alerts,
    )


def previous_days(store: Store, source_id: str, day: date, zone: tzinfo, days: int = WEEK) -> list[DayTotals]:
    """Totals of the ``days`` days before ``day``, oldest first, for the comparison with a usual week."""
    dates = [day - timedelta(days=n) for n in range(days, 0, -1)]
    bounds = [day_bounds(d, zone)[0] for d in dates] + [day_bounds(day, zone)[0]]
    rows = [
        u
        for u in store.utterances(since=bounds[0] - LOOKBACK, until=bounds[-1], source_id=source_id)
        if u.end > bounds[0]
    ]
    per_day = split_seconds(rows, bounds)
    labels = ordered(u.label for u in rows)
    started = [bisect_right(bounds, u.start) - 1 for u in rows]
    return [
        DayTotals(
            day=d,
            seconds={label: float(per_day[k][label]) for label in labels},
            utterances=sum(1 for s in started if s == k),
        )
        for k, d in enumerate(dates)
    ]
