"""Plain words for caregivers: durations, shares and the day's story in a few sentences."""

from __future__ import annotations

from speech_emotion.reports.palette import name
from speech_emotion.reports.summary import DaySummary, DayTotals

# A share that moves by fewer percentage points than this is "about as usual".
USUAL_MARGIN = 0.05


def duration(seconds: float) -> str:
    """``45 s``, ``3 min 20 s``, ``1 h 05 min``."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s" if seconds else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def percent(share: float) -> str:
    return f"{share:.0%}"


def alert_message(emotion: str, share: float, speech_seconds: float, window_minutes: float) -> str:
    """The one wording of every alert, the monitor's and the simulated ones alike: "Mostly sad-sounding speech
    in the last 10 minutes (71 % of 34 s of speech)"."""
    window = duration(window_minutes * 60).replace(" min", " minutes").replace(" s", " seconds")
    heard = f"{percent(share)} of {duration(speech_seconds)} of speech"
    return f"Mostly {emotion}-sounding speech in the last {window} ({heard})"


def pooled(days: list[DayTotals]) -> DayTotals | None:
    """The previous days taken together, or None when nobody spoke on any of them."""
    total = sum(d.total for d in days)
    if not days or total == 0:
        return None
    labels = {label for d in days for label in d.seconds}
    seconds = {label: sum(d.seconds.get(label, 0.0) for d in days) for label in labels}
    return DayTotals(day=days[-1].day, seconds=seconds, utterances=sum(d.utterances for d in days))


def compared(today: float, usual: float | None) -> str:
    if usual is None:
        return "no earlier days to compare"
    if today - usual >= USUAL_MARGIN:
        return "more than usual"
    if usual - today >= USUAL_MARGIN:
        return "less than usual"
    return "about as usual"


def story(summary: DaySummary, before: list[DayTotals]) -> list[str]:
    """The report's opening sentences."""
    day = f"{summary.day:%A %d %B %Y}"
    totals = summary.totals
    if totals.total == 0:
        return [
            f"No speech was recorded on {day}.",
            "If someone was there that day, check that the monitor was running.",
        ]
    first = min(u.start for u in summary.utterances).astimezone(summary.zone)
    last = max(u.end for u in summary.utterances).astimezone(summary.zone)
    main = max(summary.labels, key=lambda label: totals.seconds[label])
    lines = [
        f"On {day} there were {duration(totals.total)} of speech in {totals.utterances} utterances, "
        f"between {first:%H:%M} and {last:%H:%M}.",
        f"Most of the speech sounded {name(main).lower()} ({percent(totals.share(main))}).",
    ]
    sad = totals.seconds.get("sad", 0.0)
    if sad > 0:
        peak = max(summary.hours, key=lambda h: h.seconds.get("sad", 0.0))
        lines.append(
            f"Sad-sounding speech: {duration(sad)} ({percent(totals.share('sad'))} of the speech); "
            f"the most was between {peak.start:%H:%M} and {peak.end:%H:%M} ({duration(peak.seconds['sad'])})."
        )
    else:
        lines.append("No sad-sounding speech was heard.")
    usual = pooled(before)
    if usual is not None:
        lines.append(
            f"Over the seven days before, {percent(usual.share('sad'))} of the speech sounded sad; "
            f"this day it was {compared(totals.share('sad'), usual.share('sad'))}."
        )
    n = len(summary.alerts)
    lines.append(
        "No alerts were raised." if n == 0 else f"{n} alert{'s were' if n > 1 else ' was'} raised (see below)."
    )
    return lines
