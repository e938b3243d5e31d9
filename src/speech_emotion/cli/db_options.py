"""Options several sub-commands share (database, day, time zone), checked with one-line errors, and their defaults."""

from __future__ import annotations

import argparse
import hashlib
import os
from datetime import date, datetime
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from speech_emotion.errors import SpeechEmotionError
from speech_emotion.reports.timezones import check_day, local_zone
from speech_emotion.store import Store, StoreError, shown_url


def data_folder() -> Path:
    """The user's data folder for this program ($XDG_DATA_HOME or ~/.local/share, then speech-emotion)."""
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "speech-emotion"


def default_db_url() -> str:
    """SQLite in the user's data folder."""
    return f"sqlite:///{data_folder() / 'monitor.db'}"


def default_reports_folder(db_url: str) -> Path:
    """``reports`` beside a SQLite database file, else (PostgreSQL, in-memory SQLite) in the user's data folder."""
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return Path(url.database).parent / "reports"
    return data_folder() / "reports"


def default_spool(db_url: str) -> Path:
    """Where the monitor keeps results its database could not take at a stop: beside a SQLite file, else in the
    state folder, named after the database (its password left out)."""
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return Path(url.database).with_name(Path(url.database).name + ".spool.jsonl")
    base = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state") / "speech-emotion"
    return base / f"spool-{hashlib.sha256(shown_url(db_url).encode()).hexdigest()[:12]}.jsonl"


def open_store(url: str) -> Store:
    """The store at ``url``, creating the data folder first when it is the default one."""
    if url == default_db_url():
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    return Store(url)


def database_url(text: str) -> str:
    """A ``--db`` value as a URL: a plain file path is a SQLite database there."""
    return text if "://" in text else f"sqlite:///{Path(text).expanduser().resolve()}"


def add_db(p: argparse.ArgumentParser) -> None:
    """``--db``, the same in every command: a URL or a SQLite file path, the user's data folder unless told."""
    p.add_argument(
        "--db",
        default=default_db_url(),
        type=database_url,
        metavar="URL|FILE",
        help="the monitor's database: a URL (sqlite:///..., postgresql+psycopg://user@host/db) or a SQLite file "
        "(default: %(default)s)",
    )


def add_tz(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--tz", metavar="ZONE", help="time zone of the hours shown, e.g. Europe/Berlin (default: this machine's)"
    )


def parse_day(text: str | None, field: str = "--date") -> date:
    """``YYYY-MM-DD``; today in the local zone when empty."""
    if not text:
        return datetime.now(local_zone()).date()
    try:
        day = date.fromisoformat(text)
    except ValueError as e:
        raise SpeechEmotionError(f"{field} {text}: not a date ({e}; use YYYY-MM-DD)") from e
    return check_day(day, field)


def open_existing_store(url: str) -> Store:
    """The store at ``url`` for a command that reads what a monitor wrote (history, report, serve), refusing to
    create an empty SQLite file where a typo pointed."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreError(f"--db {shown_url(url)}: not a database URL (e.g. sqlite:///monitor.db)") from None
    database = parsed.database
    if parsed.get_backend_name() == "sqlite" and database and database != ":memory:" and not Path(database).is_file():
        raise StoreError(f"--db {shown_url(url)}: no such database file (has a monitor run with it?)")
    return Store(url)
