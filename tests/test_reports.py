"""Daily reports from a real SQLite database with hand-placed content: exact numbers, files, self-contained HTML."""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from io import BytesIO
from zoneinfo import ZoneInfo

import matplotlib.image
import pytest

from monitor_data import (
    DAY,
    EXPECTED_COUNTS,
    EXPECTED_HOURS,
    EXPECTED_PREVIOUS,
    EXPECTED_TOTALS,
    OTHER,
    SOURCE,
    ZONE,
    fill_known_day,
    local,
    utterance,
)
from speech_emotion.cli import main
from speech_emotion.reports import ReportSchedule, generate_daily_reports, previous_days, summarize_day
from speech_emotion.reports.daily import FIGURES, ReportError, source_slug
from speech_emotion.reports.summary import hour_bounds
from speech_emotion.reports.timezones import TimeZoneError, resolve_zone
from speech_emotion.store import Store


@pytest.fixture
def db_url(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'monitor.db'}"
    store = Store(url)
    fill_known_day(store)
    store.close()
    return url


@pytest.fixture
def store(db_url):
    s = Store(db_url)
    yield s
    s.close()


def test_seconds_per_emotion_per_hour_are_exact(store):
    summary = summarize_day(store, SOURCE, DAY, ZONE)
    assert len(summary.hours) == 24
    assert [h.start.hour for h in summary.hours] == list(range(24))
    for k, hour in enumerate(summary.hours):
        expected = {label: EXPECTED_HOURS.get(k, {}).get(label, 0.0) for label in summary.labels}
        assert hour.seconds == expected, f"hour {k}"
    assert summary.totals.seconds == EXPECTED_TOTALS
    assert summary.counts == EXPECTED_COUNTS
    assert summary.totals.utterances == 6
    assert [a.message for a in summary.alerts] == ["Mostly sad-sounding speech"]


def test_previous_seven_days(store):
    before = previous_days(store, SOURCE, DAY, ZONE)
    assert [d.day for d in before] == [DAY - timedelta(days=n) for n in range(7, 0, -1)]
    for d in before:
        expected = EXPECTED_PREVIOUS.get(d.day, {})
        assert {k: v for k, v in d.seconds.items() if v} == expected, d.day
    assert before[-1].utterances == 3  # the one crossing midnight into DAY started on 9 March


def test_hours_follow_daylight_saving(tmp_path):
    berlin = ZoneInfo("Europe/Berlin")
    assert len(hour_bounds(date(2026, 3, 29), berlin)) - 1 == 23
    assert len(hour_bounds(date(2026, 10, 25), berlin)) - 1 == 25
    store = Store(f"sqlite:///{tmp_path / 'dst.db'}")
    store.add_utterance(utterance(SOURCE, local(date(2026, 3, 29), 3, 30), 30, "sad"))  # 02:00 -> 03:00 that night
    summary = summarize_day(store, SOURCE, date(2026, 3, 29), berlin)
    assert [h.start.hour for h in summary.hours[:4]] == [0, 1, 3, 4]
    assert summary.hours[2].seconds["sad"] == 30.0
    store.close()


def test_report_files_and_numbers(store, tmp_path):
    out = tmp_path / "reports"
    written = generate_daily_reports(store, DAY, out, tz=ZONE)
    assert sorted(f.source_id for f in written) == [SOURCE, OTHER]
    files = next(f for f in written if f.source_id == SOURCE)
    folder = out / DAY.isoformat() / SOURCE
    assert files.html == folder / "report.html"
    assert sorted(p.name for p in folder.glob("*.png")) == sorted(f"{stem}.png" for stem, _, _ in FIGURES)
    for png in folder.glob("*.png"):
        image = matplotlib.image.imread(BytesIO(png.read_bytes()), format="png")
        assert image.shape[0] > 200 and image.shape[1] > 800, png.name
    numbers = json.loads(files.json.read_text())
    assert numbers["timezone"] == "Europe/Berlin"
    assert numbers["totals"] == EXPECTED_TOTALS
    assert numbers["hours"][10]["seconds"] == {"angry": 0.0, "happy": 0.0, "sad": 55.0, "neutral": 0.0}
    assert numbers["hours"][10]["start"] == "2026-03-10T10:00:00+01:00"
    assert numbers["alerts"] == [
        {"time": local(DAY, 10, 0, 50).astimezone(UTC).isoformat(), "message": "Mostly sad-sounding speech"}
    ]
    index = (out / DAY.isoformat() / "index.html").read_text()
    assert f'href="{SOURCE}/report.html"' in index and f'href="{OTHER}/report.html"' in index


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs, self.tags = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.refs += [(tag, k, v) for k, v in attrs if k in ("src", "href", "srcset", "action", "data")]


def test_html_is_self_contained_and_shows_the_numbers(store, tmp_path):
    files = generate_daily_reports(store, DAY, tmp_path, tz=ZONE, sources=[SOURCE])[0]
    html = files.html.read_text()
    parser = _Links()
    parser.feed(html)
    assert "script" not in parser.tags and "iframe" not in parser.tags and "object" not in parser.tags
    assert parser.refs and all(v.startswith("data:") for _, _, v in parser.refs), parser.refs
    assert not re.search(r"url\(|@import|https?://", html)
    images = [v for tag, _, v in parser.refs if tag == "img"]
    assert len(images) == len(FIGURES) and all(v.startswith("data:image/png;base64,") for v in images)
    embedded = {base64.b64decode(v.split(",", 1)[1]) for v in images}
    assert embedded == {p.read_bytes() for p in files.pngs}
    # the hour-by-hour table carries the exact seconds, and plain words for people
    table = {
        int(hour): {label: float(s) for label, s in re.findall(r'data-label="(\w+)" data-seconds="([\d.]+)"', row)}
        for hour, row in re.findall(r'<tr data-hour="(\d+)">(.*?)</tr>', html, re.S)
    }
    assert {h: {k: v for k, v in row.items() if v} for h, row in table.items()} == EXPECTED_HOURS
    # hours without speech collapse into runs, one row each, and with the hours spoken cover the day
    quiet = [(int(a), int(b) or 24) for a, b in re.findall(r'<tr class="quiet"><td>(\d\d):00–(\d\d):00</td>', html)]
    assert quiet and sum(b - a for a, b in quiet) + len(table) == 24
    assert "so far" not in html  # a day that is over
    assert "1 min 30 s" in html  # a day's 90 s of sadness, in words
    assert "Mostly sad-sounding speech" in html
    assert "not a diagnosis" in html


def test_untrusted_text_is_escaped(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'x.db'}")
    evil = "<script>alert(1)</script>"
    store.add_utterance(utterance(evil, local(DAY, 9, 0), 5, "sad"))
    files = generate_daily_reports(store, DAY, tmp_path / "out", tz=ZONE)[0]
    html = files.html.read_text()
    assert evil not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert files.html.parent.parent == tmp_path / "out" / DAY.isoformat()  # no folder escapes from the id
    store.close()


def test_source_slugs_are_safe_and_distinct():
    assert source_slug("room-1") == "room-1"
    odd = ["nao://10.0.0.5:9559", "../../etc", "a/b", "a_b", "", "."]
    slugs = [source_slug(s) for s in odd]
    assert len(set(slugs)) == len(slugs)
    assert all(re.fullmatch(r"[A-Za-z0-9._-]+", s) and not s.startswith(".") for s in slugs)


def test_a_day_without_speech_says_so(store, tmp_path):
    files = generate_daily_reports(store, date(2026, 1, 1), tmp_path, tz=ZONE, sources=[SOURCE])[0]
    assert "No speech was recorded on Thursday 01 January 2026" in files.html.read_text()


def test_unknown_source_and_zone_are_one_line_errors(store, tmp_path):
    with pytest.raises(ReportError, match=r"^--source nobody: not in the database \(known: room-1, room-2\)$"):
        generate_daily_reports(store, DAY, tmp_path, tz=ZONE, sources=["nobody"])
    with pytest.raises(TimeZoneError, match=r"^--tz Mars/Olympus: unknown time zone"):
        resolve_zone("Mars/Olympus")
    assert resolve_zone(None) is not None


def test_report_command(db_url, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["report", "--db", db_url, "--date", DAY.isoformat(), "--tz", "Europe/Berlin", "--out", str(out)]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert sorted(line.split("\t")[0] for line in printed) == [SOURCE, OTHER]
    assert (out / DAY.isoformat() / "index.html").is_file()
    numbers = json.loads((out / DAY.isoformat() / SOURCE / "report.json").read_text())
    assert numbers["totals"] == EXPECTED_TOTALS


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--date", "2026-02-30"],
            "error: --date 2026-02-30: not a date (day is out of range for month; use YYYY-MM-DD)",
        ),
        (["--date", "2026-03-10", "--tz", "Nowhere"], "error: --tz Nowhere: unknown time zone"),
        (["--date", "2026-03-10", "--source", "x"], "error: --source x: not in the database"),
    ],
)
def test_report_command_bad_input(db_url, tmp_path, capsys, args, message):
    assert main(["report", "--db", db_url, "--out", str(tmp_path), *args]) == 1
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1


def test_schedule_reports_yesterday_at_the_configured_hour():
    schedule = ReportSchedule(hour=0, minute=5, zone=ZONE)
    now = datetime(2026, 3, 10, 23, 30, tzinfo=ZONE)
    assert schedule.next_run(now) == datetime(2026, 3, 11, 0, 5, tzinfo=ZONE)
    assert schedule.seconds_until_next(now) == 35 * 60
    assert schedule.day_to_report(datetime(2026, 3, 11, 0, 5, tzinfo=ZONE)) == DAY
    assert schedule.next_run(datetime(2026, 3, 11, 0, 1, tzinfo=ZONE)) == datetime(2026, 3, 11, 0, 5, tzinfo=ZONE)


def test_an_unwritable_output_is_a_one_line_error(db_url, tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    assert main(["report", "--db", db_url, "--date", DAY.isoformat(), "--tz", "UTC", "--out", str(blocker)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: {blocker}/{DAY}/") and err.endswith(": cannot write the report (Not a directory)\n")
    assert err.count("\n") == 1


def test_a_report_of_a_day_in_progress_says_so_far(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'x.db'}")
    now = datetime.now(ZONE)
    store.add_utterance(utterance("room", now - timedelta(minutes=1), 5, "happy"))
    files = generate_daily_reports(store, now.date(), tmp_path / "out", tz=ZONE)[0]
    assert "<strong>so far</strong>: up to " in files.html.read_text()
    store.close()


def test_a_reports_times_name_their_zone_as_people_read_it(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'x.db'}")
    store.add_utterance(utterance("room", local(DAY, 9, 0), 5, "sad"))
    html = generate_daily_reports(store, DAY, tmp_path / "out", tz=resolve_zone("Etc/UTC"))[0].html.read_text()
    assert "times are UTC time" in html and "Etc/" not in html
    store.close()
