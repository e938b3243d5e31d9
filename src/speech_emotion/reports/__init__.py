"""Daily caregiver reports: the numbers of a day (summary), its figures, and the HTML that carries them."""

from speech_emotion.reports.daily import ReportFiles, ReportSchedule, generate_daily_reports, write_daily_report
from speech_emotion.reports.summary import DaySummary, DayTotals, previous_days, summarize_day

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
