"""The caregivers' daily report, written by the monitor itself: each day at ``[reports] at``, for the day before.

It runs on a thread of its own, so the audio and inference threads never wait for a report. Each pass
writes the reports that are missing for the last ``catch_up_days`` days whose time has come (yesterday
included): a monitor that was down at the hour writes them when it starts, and a pass that failed is tried
again at the next one. A report that exists and was written after its day ended is never rewritten; one
written before (``speech-emotion report`` during the day) counts as missing. Days before the source's first
utterance are not reported. A failure is logged and stored as a ``report_error`` event; the monitor goes on.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from speech_emotion.errors import SpeechEmotionError
from speech_emotion.monitor.logs import log_event
from speech_emotion.reports.daily import ReportSchedule, generate_daily_reports, report_generated_at
from speech_emotion.reports.summary import day_bounds
from speech_emotion.reports.timezones import parse_time_of_day, resolve_zone, zone_name
from speech_emotion.store import NewEvent, Store

log = logging.getLogger(__name__)
POLL_S = 60.0  # the clock is read at least this often while waiting, so a suspend or a clock change is noticed


@dataclass(frozen=True)
class ReportConfig:
    enabled: bool = True
    at: str = "07:00"  # local time of day (HH:MM) when the previous day's report is written
    folder: str = ""  # "": ``reports`` beside the SQLite database, else in the user's data folder
    timezone: str = ""  # IANA name of the days and hours; "": this machine's zone
    catch_up_days: int = 3  # a pass writes what is missing of this many days back, yesterday included

    def __post_init__(self):
        try:
            parse_time_of_day(self.at)
        except ValueError as e:
            raise ValueError(f"reports.at: {e}") from None
        resolve_zone(self.timezone, "reports.timezone")
        if self.catch_up_days < 1:
            raise ValueError(f"reports.catch_up_days must be at least 1, not {self.catch_up_days}")

    def schedule(self) -> ReportSchedule:
        at = parse_time_of_day(self.at)
        return ReportSchedule(hour=at.hour, minute=at.minute, zone=resolve_zone(self.timezone))


def utc_now() -> datetime:
    return datetime.now(UTC)


class DailyReporter:
    """Writes one source's daily reports into ``folder`` while the monitor runs (``with reporter: ...``).

    ``record`` stores an event (``Monitor.record_event``, which passes it through the inference thread);
    ``clock`` gives the time, so tests cross the hour without waiting for it.
    """

    def __init__(
        self,
        config: ReportConfig,
        store: Store,
        source_id: str,
        folder: Path,
        record: Callable[[NewEvent], None],
        clock: Callable[[], datetime] = utc_now,
    ):
        self.config = config
        self.schedule = config.schedule()
        self.store = store
        self.source_id = source_id
        self.folder = folder
        self.record = record
        self.clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> DailyReporter:
        log_event(
            log, logging.INFO, "daily reports", source=self.source_id, folder=self.folder, at=self.config.at,
            timezone=zone_name(self.schedule.zone), catch_up_days=self.config.catch_up_days,
        )  # fmt: skip
        self._thread = threading.Thread(target=self.run, args=(self._stop.wait,), name="daily-reports", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        """Stop; a pass in progress (a few reports at most) is finished first."""
        self._stop.set()
        self._thread.join()

    def run(self, wait: Callable[[float], bool]) -> None:
        """A pass now, then one at each scheduled time, until ``wait(seconds)`` returns True."""
        while True:
            self.write_missing(self.clock())
            due = self.schedule.next_run(self.clock())
            while (left := _seconds(self.clock(), due)) > 0:
                if wait(min(left, POLL_S)):
                    return

    def write_missing(self, now: datetime) -> None:
        """Write the due reports that are missing; a failure ends the pass, logged and stored as an event."""
        day = None
        try:
            for day in self._missing_days(now):
                generate_daily_reports(self.store, day, self.folder, tz=self.schedule.zone, sources=[self.source_id])
                log_event(log, logging.INFO, "daily report", source=self.source_id, day=day, folder=self.folder)
                self._record("report", f"daily report of {day} written", now, day)
        except Exception as e:  # a report must never stop the monitor; the next pass tries again
            known = isinstance(e, SpeechEmotionError)
            error = str(e) if known else f"{type(e).__name__}: {e}"
            log_event(log, logging.ERROR, "daily report failed", exc_info=not known, source=self.source_id, error=error)
            self._record("report_error", error, now, day)

    def _missing_days(self, now: datetime) -> list[date]:
        first = self.store.utterances(source_id=self.source_id, limit=1)
        if not first:
            return []
        since = first[0].start.astimezone(self.schedule.zone).date()
        last = self.schedule.last_due_day(now)
        days = [last - timedelta(days=n) for n in range(self.config.catch_up_days - 1, -1, -1)]
        return [day for day in days if day >= since and not self._complete(day)]

    def _complete(self, day: date) -> bool:
        written = report_generated_at(self.folder, day, self.source_id)
        return written is not None and written >= day_bounds(day, self.schedule.zone)[1]

    def _record(self, kind: str, message: str, now: datetime, day: date | None) -> None:
        data = {"date": day and day.isoformat(), "folder": str(self.folder)}
        self.record(NewEvent(self.source_id, kind, message, time=now, data=data))


def _seconds(now: datetime, then: datetime) -> float:
    """Real seconds from ``now`` to ``then`` (in UTC: the same zone's wall clocks would skip a DST change)."""
    return (then.astimezone(UTC) - now.astimezone(UTC)).total_seconds()
