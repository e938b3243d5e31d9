"""Which time zone a caregiver's hours are in: named with ``--tz``, else the machine's own; times of day in it.

The store keeps UTC; reports and the dashboard show wall-clock hours of one IANA zone, so a day may have
23 or 25 hours when clocks change.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, date, datetime, time, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from speech_emotion.errors import SpeechEmotionError

_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")
EARLIEST, LATEST = date(1970, 1, 1), date(9998, 12, 31)  # the days a monitor's data may lie on


class TimeZoneError(SpeechEmotionError):
    """An unknown zone name: ``"--tz <name>: <reason>"``."""


class TimeRangeError(SpeechEmotionError):
    """A day or time outside the years a monitor's data may lie in: ``"<field> <value>: <reason>"``."""


def check_day(day: date, field: str) -> date:
    """``day``, or :class:`TimeRangeError` when it lies before 1970 or after 9998 (a day there has no end)."""
    if not EARLIEST <= day <= LATEST:
        raise TimeRangeError(f"{field} {day.isoformat()}: must lie from {EARLIEST} to {LATEST}")
    return day


def check_time(moment: datetime, field: str) -> datetime:
    """``moment`` in UTC, or :class:`TimeRangeError` when it lies outside the days of :func:`check_day`."""
    try:
        utc = moment.astimezone(UTC)
    except (OverflowError, ValueError):
        raise TimeRangeError(f"{field} {moment.isoformat()}: must lie from {EARLIEST} to {LATEST}") from None
    if not EARLIEST <= utc.date() <= LATEST:
        raise TimeRangeError(f"{field} {moment.isoformat()}: must lie from {EARLIEST} to {LATEST}")
    return utc


def resolve_zone(name: str | None, field: str = "--tz") -> tzinfo:
    """``ZoneInfo(name)``, or the machine's local zone when ``name`` is empty."""
    if not name:
        return local_zone()
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise TimeZoneError(f"{field} {name}: unknown time zone (use an IANA name such as Europe/Berlin)") from e


def local_zone() -> tzinfo:
    """The machine's zone by IANA name ($TZ, /etc/timezone, /etc/localtime), so daylight saving is right.

    Falls back to the current fixed UTC offset when the system names no zone.
    """
    for candidate in (os.environ.get("TZ", "").lstrip(":"), _etc_timezone(), _localtime_link()):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return datetime.now(UTC).astimezone().tzinfo or UTC


def parse_time_of_day(text: str) -> time:
    """``HH:MM`` (24-hour clock) as a time; ValueError for anything else, the caller names the key."""
    m = _CLOCK.match(text)
    try:
        if m is None:
            raise ValueError
        return time(int(m[1]), int(m[2]))
    except ValueError:
        raise ValueError(f"{text!r} is not a time of day HH:MM") from None


def zone_name(zone: tzinfo) -> str:
    return getattr(zone, "key", None) or str(zone)


def zone_words(zone: tzinfo) -> str:
    """The zone as people read it: ``Europe/Berlin``, ``UTC`` (not ``Etc/UTC``), ``America/New York``."""
    return zone_name(zone).removeprefix("Etc/").replace("_", " ")


def _etc_timezone() -> str:
    try:
        return Path("/etc/timezone").read_text().strip()
    except OSError:
        return ""


def _localtime_link() -> str:
    link = Path("/etc/localtime")
    if not link.is_symlink():
        return ""
    target = str(link.resolve())
    return target.split("zoneinfo/", 1)[1] if "zoneinfo/" in target else ""
