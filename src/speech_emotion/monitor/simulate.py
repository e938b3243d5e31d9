"""A plausible day of monitor results without a robot, for demonstrations, reports and dashboard tests.

Like the reference's dummy record generator: people talk more in waking hours (most around meals), mostly
neutral speech with some happy and some angry moments, and one or two sad stretches during the day. An alert
is raised when most of the last ten minutes of speech (at least 30 s of it) sounded sad, as a monitor would:
usually once or twice a day. The same seed, day and source always give the same rows.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

import numpy as np

from speech_emotion.reports.wording import alert_message
from speech_emotion.store import NewEvent, NewUtterance, Store

LABELS = ("angry", "happy", "sad", "neutral")
BASE_MIX = np.array([0.08, 0.22, 0.08, 0.62])
SAD_MIX = np.array([0.05, 0.05, 0.75, 0.15])
# Utterances per hour of the local day: a quiet night, meals at 8, 12 and 18, a nap after lunch.
HOURLY_RATE = np.array([2, 1, 1, 1, 2, 4, 15, 45, 80, 60, 55, 60, 85, 35, 25, 55, 60, 55, 85, 50, 40, 25, 10, 4])
ALERT_WINDOW = timedelta(minutes=10)
ALERT_SHARE = 0.6
ALERT_MIN_SPEECH_S = 30.0
ALERT_GAP = timedelta(minutes=45)
MODEL_ID = "simulated"


@dataclass(frozen=True)
class SimulatedDay:
    source_id: str
    day: date
    utterances: int  # newly stored
    already_stored: int
    speech_seconds: float
    alerts: int


def simulate_day(
    store: Store,
    day: date,
    zone: tzinfo,
    source_id: str = "simulated-room",
    seed: int = 0,
    until: datetime | None = None,
) -> SimulatedDay:
    """Store the day's utterances and alerts; with ``until`` (e.g. now) only those that ended by then."""
    rng = np.random.default_rng([seed, day.toordinal(), zlib.crc32(source_id.encode())])
    midnight = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
    sad_stretches = _sad_stretches(rng)
    stored = skipped = alerts = 0
    speech = 0.0
    recent: list[NewUtterance] = []
    last_alert: datetime | None = None
    for start_h in _utterance_starts(rng):
        start = midnight + timedelta(hours=start_h)
        if recent and start < recent[-1].end:
            continue  # one speaker at a time: drop overlaps
        sad = any(a <= start_h < b for a, b in sad_stretches)
        label = LABELS[rng.choice(len(LABELS), p=SAD_MIX if sad else BASE_MIX)]
        seconds = float(np.clip(rng.lognormal(np.log(2.5), 0.5), 0.8, 12.0))
        u = NewUtterance(
            source_id=source_id,
            start=start,
            end=start + timedelta(seconds=round(seconds, 2)),
            label=label,
            probabilities=_probabilities(rng, label),
            model_id=MODEL_ID,
        )
        if until is not None and u.end > until:
            break
        if store.add_utterance(u):
            stored += 1
        else:
            skipped += 1
        speech += (u.end - u.start).total_seconds()
        recent = [r for r in [*recent, u] if r.end > u.end - ALERT_WINDOW]
        if _sad_alert_due(recent, last_alert, u.end):
            last_alert = u.end
            alerts += _add_alert_once(store, u, recent)
    return SimulatedDay(source_id, day, stored, skipped, speech, alerts)


def _utterance_starts(rng: np.random.Generator) -> np.ndarray:
    """Hours after midnight, sorted: a Poisson number per hour, spread uniformly inside it."""
    counts = rng.poisson(HOURLY_RATE)
    starts = np.concatenate([hour + rng.random(n) for hour, n in enumerate(counts)])
    return np.sort(starts)


def _sad_stretches(rng: np.random.Generator) -> list[tuple[float, float]]:
    """One or two sad spells of 25-50 minutes between 9:00 and 20:00."""
    spells = []
    for _ in range(rng.integers(1, 3)):
        start = rng.uniform(9, 20)
        spells.append((start, start + rng.uniform(25, 50) / 60))
    return spells


def _probabilities(rng: np.random.Generator, label: str) -> dict[str, float]:
    """Class probabilities whose largest is the label's."""
    p = rng.dirichlet(np.ones(len(LABELS)))
    top = LABELS.index(label)
    p[[top, int(p.argmax())]] = p[[int(p.argmax()), top]]
    return {name: round(float(x), 4) for name, x in zip(LABELS, p, strict=True)}


def _sad_alert_due(recent: list[NewUtterance], last_alert: datetime | None, now: datetime) -> bool:
    if last_alert is not None and now - last_alert < ALERT_GAP:
        return False
    sad, total = _sad_seconds(recent)
    return total >= ALERT_MIN_SPEECH_S and sad >= ALERT_SHARE * total


def _sad_seconds(recent: list[NewUtterance]) -> tuple[float, float]:
    """Seconds of sad speech and of all speech in ``recent``."""
    seconds = [((r.end - r.start).total_seconds(), r.label == "sad") for r in recent]
    return sum(s for s, sad in seconds if sad), sum(s for s, _ in seconds)


def _add_alert_once(store: Store, u: NewUtterance, recent: list[NewUtterance]) -> int:
    """Store the alert unless a rerun already did; 1 when stored."""
    if store.events(since=u.end, until=u.end + timedelta(microseconds=1), source_id=u.source_id, kinds=["alert"]):
        return 0
    sad, total = _sad_seconds(recent)
    store.add_event(
        NewEvent(
            source_id=u.source_id,
            kind="alert",
            message=alert_message("sad", sad / total, total, ALERT_WINDOW.total_seconds() / 60),
            time=u.end,
            data={"label": "sad", "window_s": ALERT_WINDOW.total_seconds(), "share": round(sad / total, 3)},
        )
    )
    return 1
