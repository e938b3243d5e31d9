"""The report's figures, drawn with matplotlib's object API (no pyplot state, safe in a monitor thread).

Each function takes a day's numbers and returns PNG bytes. Minutes on the axes (easier to read than
seconds), one colour per emotion from the shared palette, the same emotion order everywhere.
"""

from __future__ import annotations

from io import BytesIO

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter

from speech_emotion.reports.palette import colour, name
from speech_emotion.reports.summary import DaySummary, DayTotals
from speech_emotion.reports.timezones import zone_words

WIDTH, HEIGHT, DPI = 10.5, 3.8, 110
TEXT = "#222222"
GRID = "#DDDDDD"
NO_SPEECH = "No speech was recorded on this day"


def _figure(height: float = HEIGHT, grid: str = "y") -> tuple[Figure, object]:
    """A figure in the reports' style, with grid lines across the value axis ``grid`` ("x" or "y")."""
    fig = Figure(figsize=(WIDTH, height), dpi=DPI, layout="constrained")
    ax = fig.add_subplot()
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(colors=TEXT, labelsize=10)
    ax.grid(True, axis=grid, color=GRID, linewidth=0.8)
    ax.set_axisbelow(True)
    return fig, ax


def _png(fig: Figure) -> bytes:
    buffer = BytesIO()
    fig.savefig(buffer, format="png", facecolor="white", metadata={"Software": None})
    return buffer.getvalue()


def _hour_axis(ax, summary: DaySummary) -> np.ndarray:
    x = np.arange(len(summary.hours))
    ax.set_xticks(x, [f"{h.start:%H}" for h in summary.hours])
    ax.set_xlim(-0.6, len(x) - 0.4)
    ax.set_xlabel(f"Hour of the day ({zone_words(summary.zone)} time)", color=TEXT, fontsize=11)
    return x


def _minutes_axis(ax, top_minutes: float) -> None:
    ax.set_ylim(0, max(1.0, top_minutes * 1.1))
    ax.yaxis.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 5, 10]))
    ax.set_ylabel("Minutes of speech", color=TEXT, fontsize=11)


def _note_if_silent(ax, summary: DaySummary) -> None:
    if summary.totals.total == 0:
        ax.text(0.5, 0.5, NO_SPEECH, transform=ax.transAxes, ha="center", va="center", fontsize=13, color="#555555")


def _legend(ax, labels: list[str]) -> None:
    handles = [ax.bar(0, 0, color=colour(label), label=name(label)) for label in labels]
    ax.legend(handles=handles, loc="lower left", bbox_to_anchor=(0, 1.0), ncols=len(labels), frameon=False)


def emotions_per_hour(summary: DaySummary) -> bytes:
    """Minutes of each emotion in each hour, stacked: the reference's three hourly figures (sad minutes, every
    emotion's minutes, every emotion's share) in one, since they said nearly the same thing."""
    fig, ax = _figure()
    x = _hour_axis(ax, summary)
    bottom = np.zeros(len(x))
    for label in summary.labels:
        minutes = np.array([h.seconds[label] for h in summary.hours]) / 60
        ax.bar(x, minutes, width=0.8, bottom=bottom, color=colour(label), label=name(label))
        bottom += minutes
    _minutes_axis(ax, bottom.max(initial=0))
    ax.set_title("Speech in each hour, by emotion", loc="left", fontsize=13, color=TEXT, pad=28)
    _legend(ax, summary.labels)
    _note_if_silent(ax, summary)
    return _png(fig)


def timeline(summary: DaySummary) -> bytes:
    """Every utterance of the day as a line in its emotion's lane; alerts marked above."""
    fig, ax = _figure(height=3.2, grid="x")
    start = summary.start
    hours_in_day = len(summary.hours)
    lanes = list(reversed(summary.labels))
    positions = [
        [(u.start - start).total_seconds() / 3600 for u in summary.utterances if u.label == label] for label in lanes
    ]
    ax.eventplot(
        positions, lineoffsets=range(len(lanes)), linelengths=0.7, linewidths=1.0, colors=[colour(x) for x in lanes]
    )
    ax.set_yticks(range(len(lanes)), [name(label) for label in lanes])
    ax.set_ylim(-0.6, len(lanes) - 0.4 + (0.6 if summary.alerts else 0))
    ticks = range(0, hours_in_day + 1, 3)
    ax.set_xticks(ticks, [f"{h.start:%H:%M}" for h in summary.hours[::3]] + ([] if hours_in_day % 3 else ["24:00"]))
    ax.set_xlim(0, hours_in_day)
    ax.set_xlabel(f"Time of day ({zone_words(summary.zone)} time); each line is one utterance", color=TEXT, fontsize=11)
    for alert in summary.alerts:
        at = (alert.time - start).total_seconds() / 3600
        ax.axvline(at, color="#000000", linestyle="--", linewidth=1)
        ax.plot(at, len(lanes) - 0.2, marker="v", color="#000000", markersize=9)
    title = "The day's utterances" + (" (▼ = alert)" if summary.alerts else "")
    ax.set_title(title, loc="left", fontsize=13, color=TEXT)
    _note_if_silent(ax, summary)
    return _png(fig)


def distribution(summary: DaySummary) -> bytes:
    """How the day's speech divides between the emotions, in minutes and per cent."""
    fig, ax = _figure(height=2.6, grid="x")
    labels = list(reversed(summary.labels))
    minutes = np.array([summary.totals.seconds[label] for label in labels]) / 60
    bars = ax.barh(range(len(labels)), minutes, color=[colour(label) for label in labels], height=0.7)
    ax.set_yticks(range(len(labels)), [name(label) for label in labels])
    ax.set_xlim(0, max(1.0, minutes.max(initial=0) * 1.25))
    ax.set_xlabel("Minutes of speech over the whole day", color=TEXT, fontsize=11)
    shares = [summary.totals.share(label) for label in labels]
    ax.bar_label(
        bars,
        [
            f" {m:.0f} min ({s:.0%})" if m >= 1 else f" {m * 60:.0f} s ({s:.0%})"
            for m, s in zip(minutes, shares, strict=True)
        ],
        fontsize=10,
        color=TEXT,
    )
    ax.set_title("The day's emotions", loc="left", fontsize=13, color=TEXT)
    _note_if_silent(ax, summary)
    return _png(fig)


def week(today: DayTotals, before: list[DayTotals], labels: list[str]) -> bytes:
    """Share of each emotion on each of the previous seven days and today, side by side."""
    fig, ax = _figure(height=3.4)
    days = [*before, today]
    x = np.arange(len(days))
    bottom = np.zeros(len(days))
    for label in labels:
        share = np.array([d.share(label) for d in days])
        ax.bar(x, share, width=0.7, bottom=bottom, color=colour(label), label=name(label))
        bottom += share
    for k, d in enumerate(days):
        if d.total == 0:
            ax.text(k, 0.5, "no\nspeech", ha="center", va="center", fontsize=9, color="#555555")
    ax.set_xticks(x, [f"{d.day:%a %d %b}" for d in before] + [f"This day\n{today.day:%a %d %b}"])
    ax.get_xticklabels()[-1].set_fontweight("bold")
    ax.set_ylim(0, 1)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylabel("Share of the day's speech", color=TEXT, fontsize=11)
    ax.set_title("This day compared with the seven days before", loc="left", fontsize=13, color=TEXT, pad=28)
    _legend(ax, labels)
    return _png(fig)
