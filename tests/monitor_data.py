"""A monitor database with hand-placed content whose report numbers are known exactly.

Day ``DAY`` in ``ZONE`` (UTC+1 that day). Seconds per emotion per local hour, worked out by hand:

    hour 00  sad 5        (an utterance from 23:59:55 the day before, 5 s of it after midnight)
    hour 08  neutral 20, happy 5
    hour 09  sad 30       (09:59:30-10:00:45 crosses into hour 10 ...)
    hour 10  sad 55       (... 45 s here, plus 10:15:00-10:15:10)
    hour 14  angry 12
    hour 23  neutral 10   (23:59:50-00:00:10: the other 10 s belong to the next day)
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from speech_emotion.store import NewEvent, NewUtterance, Store

ZONE = ZoneInfo("Europe/Berlin")
DAY = date(2026, 3, 10)
SOURCE = "room-1"
OTHER = "room-2"
EXPECTED_HOURS = {
    0: {"sad": 5.0},
    8: {"neutral": 20.0, "happy": 5.0},
    9: {"sad": 30.0},
    10: {"sad": 55.0},
    14: {"angry": 12.0},
    23: {"neutral": 10.0},
}
EXPECTED_TOTALS = {"angry": 12.0, "happy": 5.0, "sad": 90.0, "neutral": 30.0}
EXPECTED_COUNTS = {"angry": 1, "happy": 1, "sad": 2, "neutral": 2}  # utterances that started on DAY
# The seven days before DAY: seconds per emotion (an utterance 8 days before must not count).
EXPECTED_PREVIOUS = {date(2026, 3, 9): {"neutral": 60.0, "sad": 35.0}, date(2026, 3, 3): {"happy": 40.0}}


def local(day: date, hh: int, mm: int, ss: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, ss, tzinfo=ZONE)


def utterance(source: str, start: datetime, seconds: float, label: str) -> NewUtterance:
    probabilities = {k: 0.1 for k in ("angry", "happy", "sad", "neutral")}
    probabilities[label] = 0.7
    return NewUtterance(
        source_id=source,
        start=start,
        end=start + timedelta(seconds=seconds),
        label=label,
        probabilities=probabilities,
        model_id="hand-placed",
    )


def fill_known_day(store: Store) -> None:
    before = DAY - timedelta(days=1)
    rows = [
        utterance(SOURCE, local(before, 23, 59, 55), 10, "sad"),
        utterance(SOURCE, local(DAY, 8, 10), 20, "neutral"),
        utterance(SOURCE, local(DAY, 8, 30), 5, "happy"),
        utterance(SOURCE, local(DAY, 9, 59, 30), 75, "sad"),
        utterance(SOURCE, local(DAY, 10, 15), 10, "sad"),
        utterance(SOURCE, local(DAY, 14, 0), 12, "angry"),
        utterance(SOURCE, local(DAY, 23, 59, 50), 20, "neutral"),
        # the week before
        utterance(SOURCE, local(before, 12, 0), 60, "neutral"),
        utterance(SOURCE, local(before, 12, 5), 30, "sad"),
        utterance(SOURCE, local(DAY - timedelta(days=7), 9, 0), 40, "happy"),
        utterance(SOURCE, local(DAY - timedelta(days=8), 9, 0), 100, "happy"),
        # another source, same day
        utterance(OTHER, local(DAY, 12, 0), 30, "happy"),
    ]
    for row in rows:
        assert store.add_utterance(row)
    store.add_event(NewEvent(SOURCE, "alert", "Mostly sad-sounding speech", time=local(DAY, 10, 0, 50)))
    store.add_event(NewEvent(SOURCE, "reconnect", "robot reconnected", time=local(DAY, 11, 0)))
    store.add_event(NewEvent(SOURCE, "alert", "an alert the day before", time=local(before, 12, 6)))
    store.add_event(NewEvent(OTHER, "alert", "another source's alert", time=local(DAY, 12, 1)))
