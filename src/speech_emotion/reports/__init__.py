"""Daily caregiver reports: the numbers of a day (summary), its figures, and the HTML that carries them.

The report writer (``daily``) is imported on first use (PEP 562): it loads matplotlib, which a command that
only needs a time zone or a day's numbers (``history``) should not wait for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from speech_emotion.reports.summary import DaySummary, DayTotals, previous_days, summarize_day

if TYPE_CHECKING:
    from speech_emotion.reports.daily import ReportFiles, ReportSchedule, generate_daily_reports, write_daily_report

_FROM_DAILY = ("ReportFiles", "ReportSchedule", "generate_daily_reports", "write_daily_report")

__all__ = [
    "DaySummary",
    "DayTotals",
    "ReportFiles",
    "ReportSchedule",
    "generate_daily_reports",
    "previous_days",
    "summarize_day",
    "write_daily_report",
]


def __getattr__(name: str) -> object:
    if name in _FROM_DAILY:
        from speech_emotion.reports import daily

        return getattr(daily, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
