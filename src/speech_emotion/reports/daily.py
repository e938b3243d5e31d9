"""Daily caregiver reports: one folder per day and source with a self-contained HTML file, its PNGs and JSON.

Layout under the output folder::

    2026-11-24/index.html                    every source's report of the day
    2026-11-24/<source>/report.html          figures embedded as base64 PNG: one file to mail or print
    2026-11-24/<source>/<figure>.png         the same figures as files
    2026-11-24/<source>/report.json          the numbers (seconds per emotion per hour, alerts, week)

The monitor calls :func:`generate_daily_reports` once a day (``speech_emotion.monitor.daily_reports``, timed
by :class:`ReportSchedule`); the ``speech-emotion report`` command calls it on demand.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined

from speech_emotion.errors import SpeechEmotionError
from speech_emotion.reports import figures, palette, wording
from speech_emotion.reports.summary import DaySummary, DayTotals, previous_days, summarize_day
from speech_emotion.reports.timezones import local_zone, zone_name, zone_words
from speech_emotion.store import Store

REPORT_HTML = "report.html"
REPORT_JSON = "report.json"
INDEX_HTML = "index.html"

# File stem, heading, and what the caregiver should read from it.
FIGURES = [
    (
        "timeline",
        "The day at a glance",
        "Each short line is one thing that was said, in the lane of the emotion it sounded like.",
    ),
    (
        "distribution",
        "How the day's speech divides between the emotions",
        "Minutes of speech per emotion over the whole day.",
    ),
    (
        "emotions_per_hour",
        "Hour by hour",
        "Minutes of speech in each hour; the colours show which emotion it sounded like (blue: sad).",
    ),
    (
        "week",
        "Compared with the week before",
        "Each bar is one day's speech split by emotion; the last bar is this day.",
    ),
]


class ReportError(SpeechEmotionError):
    """A report that cannot be written: ``"<field or path>: <reason>"``."""


@dataclass(frozen=True)
class ReportFiles:
    source_id: str
    day: date
    html: Path
    json: Path
    pngs: list[Path]


@dataclass(frozen=True)
class ReportSchedule:
    """When the monitor writes reports: every day at ``hour:minute`` local time, for the day that just ended."""

    hour: int = 0
    minute: int = 5
    zone: tzinfo | None = None

    def next_run(self, now: datetime) -> datetime:
        zone = self.zone or local_zone()
        local = now.astimezone(zone)
        run = datetime.combine(local.date(), time(self.hour, self.minute), tzinfo=zone)
        if run <= local:
            run = datetime.combine(local.date() + timedelta(days=1), time(self.hour, self.minute), tzinfo=zone)
        return run

    def seconds_until_next(self, now: datetime) -> float:
        return (self.next_run(now).astimezone(UTC) - now.astimezone(UTC)).total_seconds()

    def day_to_report(self, now: datetime) -> date:
        """The last complete local day at ``now``: yesterday."""
        return now.astimezone(self.zone or local_zone()).date() - timedelta(days=1)

    def last_due_day(self, now: datetime) -> date:
        """The latest day whose report is due by ``now``: yesterday from the day's run on, else the day before."""
        local = now.astimezone(self.zone or local_zone())
        return local.date() - timedelta(days=1 if local.time() >= time(self.hour, self.minute) else 2)


def source_slug(source_id: str) -> str:
    """A folder name for a source id (which may be a URL or a path): safe characters, unique per id."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", source_id).strip("._") or "source"
    if slug != source_id:
        slug = f"{slug[:60]}-{hashlib.sha1(source_id.encode()).hexdigest()[:8]}"
    return slug


def report_folder(out_dir: Path, day: date, source_id: str) -> Path:
    return out_dir / day.isoformat() / source_slug(source_id)


def report_generated_at(out_dir: Path, day: date, source_id: str) -> datetime | None:
    """When the day's report of the source was written, from its JSON; None when there is no readable one."""
    try:
        numbers = json.loads((report_folder(out_dir, day, source_id) / REPORT_JSON).read_text(encoding="utf-8"))
        moment = datetime.fromisoformat(numbers["generated_at"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return moment if moment.tzinfo is not None else None


def generate_daily_reports(
    store: Store,
    day: date,
    out_dir: str | Path,
    tz: tzinfo | None = None,
    sources: list[str] | None = None,
) -> list[ReportFiles]:
    """Write the day's report of each source (all known sources by default) and the day's index."""
    zone = tz or local_zone()
    out = Path(out_dir)
    known = store.sources()
    for source in sources or []:
        if source not in known:
            raise ReportError(f"--source {source}: not in the database (known: {', '.join(known) or 'none'})")
    written = [write_daily_report(store, source, day, out, zone) for source in (sources or known)]
    write_index(out, day)
    return written


def write_daily_report(store: Store, source_id: str, day: date, out_dir: Path, zone: tzinfo) -> ReportFiles:
    summary = summarize_day(store, source_id, day, zone)
    before = previous_days(store, source_id, day, zone)
    folder = report_folder(out_dir, day, source_id)
    images = _draw(summary, before)
    html, numbers = folder / REPORT_HTML, folder / REPORT_JSON
    pngs = [folder / f"{stem}.png" for stem in images]
    with _writing(folder):
        folder.mkdir(parents=True, exist_ok=True)
        for path, data in zip(pngs, images.values(), strict=True):
            path.write_bytes(data)
        html.write_text(render_report(summary, before, images), encoding="utf-8")
        # last: the archive lists a report by its JSON, so it never lists a half-written one
        numbers.write_text(json.dumps(report_numbers(summary, before), indent=2), encoding="utf-8")
    return ReportFiles(source_id=source_id, day=day, html=html, json=numbers, pngs=pngs)


@contextmanager
def _writing(folder: Path) -> Iterator[None]:
    """A folder or file that cannot be written becomes a one-line ReportError."""
    try:
        yield
    except OSError as e:
        raise ReportError(f"{e.filename or folder}: cannot write the report ({e.strerror or e})") from e


def _draw(summary: DaySummary, before: list[DayTotals]) -> dict[str, bytes]:
    labels = palette.ordered([*summary.labels, *(label for d in before for label in d.seconds)])
    drawn = {
        "timeline": figures.timeline(summary),
        "distribution": figures.distribution(summary),
        "emotions_per_hour": figures.emotions_per_hour(summary),
        "week": figures.week(summary.totals, before, labels),
    }
    return {stem: drawn[stem] for stem, _, _ in FIGURES}


def report_numbers(summary: DaySummary, before: list[DayTotals]) -> dict:
    """The report's numbers as JSON: what the dashboard's archive lists and what tests check."""
    return {
        "source": summary.source_id,
        "date": summary.day.isoformat(),
        "timezone": zone_name(summary.zone),
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "labels": summary.labels,
        "hours": [
            {"start": h.start.isoformat(), "seconds": {k: round(v, 3) for k, v in h.seconds.items()}}
            for h in summary.hours
        ],
        "totals": {k: round(v, 3) for k, v in summary.totals.seconds.items()},
        "utterances": summary.counts,
        "alerts": [{"time": a.time.isoformat(), "message": a.message} for a in summary.alerts],
        "previous_days": [
            {"date": d.day.isoformat(), "seconds": {k: round(v, 3) for k, v in d.seconds.items()}} for d in before
        ],
        "files": [REPORT_HTML, *(f"{stem}.png" for stem, _, _ in FIGURES)],
    }


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("speech_emotion.reports", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(duration=wording.duration, percent=wording.percent, name=palette.name, colour=palette.colour)
    return env


def hour_rows(summary: DaySummary) -> list[dict]:
    """The hour-by-hour table's rows: each hour with speech, and each run of hours without any as one row."""
    rows: list[dict] = []
    for index, hour in enumerate(summary.hours):
        if hour.total:
            rows.append(
                {"hour": index, "start": hour.start, "end": hour.end, "seconds": hour.seconds, "total": hour.total}
            )
        elif rows and rows[-1]["hour"] is None:
            rows[-1]["end"] = hour.end
        else:
            rows.append({"hour": None, "start": hour.start, "end": hour.end})
    return rows


def render_report(summary: DaySummary, before: list[DayTotals], images: dict[str, bytes]) -> str:
    usual = wording.pooled(before)
    generated = datetime.now(summary.zone)
    comparison = [
        {
            "label": label,
            "today": summary.totals.share(label),
            "today_seconds": summary.totals.seconds[label],
            "usual": None if usual is None else usual.share(label),
            "words": wording.compared(summary.totals.share(label), None if usual is None else usual.share(label)),
        }
        for label in summary.labels
    ]
    return (
        _environment()
        .get_template("report.html.j2")
        .render(
            s=summary,
            story=wording.story(summary, before),
            figures=[
                {"stem": stem, "title": title, "caption": caption, "data": base64.b64encode(images[stem]).decode()}
                for stem, title, caption in FIGURES
            ],
            comparison=comparison,
            has_usual=usual is not None,
            zone=zone_words(summary.zone),
            alerts=[(a.time.astimezone(summary.zone), a.message) for a in summary.alerts],
            generated=generated,
            so_far=generated if generated < summary.hours[-1].end else None,
            rows=hour_rows(summary),
        )
    )


def write_index(out_dir: Path, day: date) -> Path:
    """The day's index page, listing every report already in the day's folder."""
    folder = out_dir / day.isoformat()
    entries = []
    for numbers in sorted(folder.glob(f"*/{REPORT_JSON}")):
        data = json.loads(numbers.read_text(encoding="utf-8"))
        total = sum(data["totals"].values())
        entries.append(
            {
                "source": data["source"],
                "href": f"{numbers.parent.name}/{REPORT_HTML}",
                "speech": total,
                "sad_share": data["totals"].get("sad", 0.0) / total if total else 0.0,
                "alerts": len(data["alerts"]),
            }
        )
    index = folder / INDEX_HTML
    with _writing(folder):
        folder.mkdir(parents=True, exist_ok=True)
        index.write_text(
            _environment().get_template("index.html.j2").render(day=day, entries=entries), encoding="utf-8"
        )
    return index
