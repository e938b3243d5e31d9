"""simulate-day: a plausible, reproducible day of utterances and alerts in a real SQLite store."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from speech_emotion.cli import main
from speech_emotion.monitor.simulate import ALERT_SHARE, ALERT_WINDOW, simulate_day
from speech_emotion.store import Store

ZONE = ZoneInfo("Europe/Berlin")
DAY = date(2026, 5, 4)


def rows(store: Store) -> list[tuple]:
    return [(u.source_id, u.start, u.end, u.label, tuple(sorted(u.probabilities.items()))) for u in store.utterances()]


@pytest.fixture
def simulated(tmp_path) -> Store:
    store = Store(f"sqlite:///{tmp_path / 'a.db'}")
    simulate_day(store, DAY, ZONE, seed=7)
    yield store
    store.close()


def test_same_seed_same_rows_other_seed_other_rows(simulated, tmp_path):
    again, other = Store(f"sqlite:///{tmp_path / 'b.db'}"), Store(f"sqlite:///{tmp_path / 'c.db'}")
    simulate_day(again, DAY, ZONE, seed=7)
    simulate_day(other, DAY, ZONE, seed=8)
    assert rows(again) == rows(simulated)
    assert rows(other) != rows(simulated)
    assert [e.message for e in again.events()] == [e.message for e in simulated.events()]


def test_a_plausible_day(simulated):
    utterances = simulated.utterances()
    local_hours = Counter(u.start.astimezone(ZONE).hour for u in utterances)
    assert all(u.start.astimezone(ZONE).date() == DAY for u in utterances)
    night, day = sum(local_hours[h] for h in range(0, 6)), sum(local_hours[h] for h in range(8, 20))
    assert day > 10 * night > 0
    labels = Counter(u.label for u in utterances)
    assert labels.most_common(1)[0][0] == "neutral" and set(labels) == {"angry", "happy", "sad", "neutral"}
    assert all(max(u.probabilities, key=u.probabilities.get) == u.label for u in utterances)
    assert all(b.start >= a.end for a, b in pairwise(utterances))  # one speaker at a time


def test_alerts_follow_sad_stretches(simulated):
    alerts = simulated.events(kinds=["alert"])
    assert alerts
    for alert in alerts:
        recent = [
            u
            for u in simulated.utterances(since=alert.time - ALERT_WINDOW - timedelta(seconds=15))
            if u.end <= alert.time and u.end > alert.time - ALERT_WINDOW
        ]
        sad = sum(u.duration_s for u in recent if u.label == "sad")
        assert sad >= ALERT_SHARE * sum(u.duration_s for u in recent) - 1e-6


def test_rerun_stores_nothing_twice(simulated):
    before, alerts = len(simulated.utterances()), len(simulated.events())
    result = simulate_day(simulated, DAY, ZONE, seed=7)
    assert result.utterances == 0 and result.already_stored == before and result.alerts == 0
    assert len(simulated.utterances()) == before and len(simulated.events()) == alerts


def test_until_stops_at_now(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'd.db'}")
    noon = datetime(2026, 5, 4, 12, 0, tzinfo=ZONE)
    simulate_day(store, DAY, ZONE, until=noon)
    assert store.utterances() and max(u.end for u in store.utterances()) <= noon.astimezone(UTC)
    store.close()


def test_simulate_day_command(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'e.db'}"
    args = ["simulate-day", "--db", url, "--date", "2026-05-04", "--days", "2", "--source", "room-9", "--tz", "UTC"]
    assert main(args) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in out] == ["room-9 2026-05-03", "room-9 2026-05-04"]
    store = Store(url)
    assert store.sources() == ["room-9"]
    store.close()
    assert main(["simulate-day", "--db", url, "--days", "0"]) == 1
    assert capsys.readouterr().err == "error: --days 0: use 1 to 366\n"
