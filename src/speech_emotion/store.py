"""Durable results of the monitor: utterances, monitor sessions, events and adapted speaker statistics.

SQLAlchemy over SQLite by default (WAL, so the dashboard reads while the monitor writes) or PostgreSQL by
URL. Times are timezone-aware UTC everywhere. An utterance is unique per (source, start time), so a monitor
restarted over audio it already processed stores nothing twice. No audio is ever stored here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    create_engine,
    event,
    func,
    select,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from speech_emotion.errors import SpeechEmotionError


class StoreError(SpeechEmotionError):
    """The database cannot be opened or used: ``"--db <url>: <reason>"``."""


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in, aware UTC datetimes out, on every backend (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use timezone-aware times")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class MonitorSession(Base):
    """One run of the monitor on one source, from start to clean (or unclean) stop."""

    __tablename__ = "monitor_sessions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[str] = mapped_column(String(200), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    model_id: Mapped[str] = mapped_column(String(200))
    settings: Mapped[dict] = mapped_column(JSON, default=dict)


class UtteranceRow(Base):
    """One detected utterance and its recognised emotion."""

    __tablename__ = "utterances"
    __table_args__ = (UniqueConstraint("source_id", "start", name="uq_utterance_source_start"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("monitor_sessions.id"), nullable=True, index=True)
    source_id: Mapped[str] = mapped_column(String(200), index=True)
    start: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    end: Mapped[datetime] = mapped_column(UTCDateTime)
    duration_s: Mapped[float] = mapped_column(Float)
    label: Mapped[str] = mapped_column(String(40), index=True)
    probabilities: Mapped[dict] = mapped_column(JSON)
    model_id: Mapped[str] = mapped_column(String(200))

    def to_dict(self) -> dict:
        return {
            "source": self.source_id,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "duration_s": round(self.duration_s, 3),
            "label": self.label,
            "probabilities": self.probabilities,
            "model_id": self.model_id,
        }


class EventRow(Base):
    """Something worth knowing besides utterances: an alert, a robot reconnect, a backlog, a bad buffer."""

    __tablename__ = "events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("monitor_sessions.id"), nullable=True, index=True)
    source_id: Mapped[str] = mapped_column(String(200), index=True)
    time: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    message: Mapped[str] = mapped_column(Text)
    data: Mapped[dict] = mapped_column(JSON, default=dict)

    def to_dict(self) -> dict:
        return {
            "source": self.source_id,
            "time": self.time.isoformat(),
            "kind": self.kind,
            "message": self.message,
            "data": self.data,
        }


class SpeakerStatsRow(Base):
    """Normalisation statistics adapted to the person a source monitors, kept across restarts."""

    __tablename__ = "speaker_stats"
    source_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    stats: Mapped[dict] = mapped_column(JSON)


class RecordingRow(Base):
    """When a recording's content was first heard by a source: a replay of the same bytes (a copy, a ``touch``)
    takes the same times, so its utterances are recognised as already stored."""

    __tablename__ = "recordings"
    __table_args__ = (UniqueConstraint("source_id", "digest", name="uq_recording_source_digest"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[str] = mapped_column(String(200))
    digest: Mapped[str] = mapped_column(String(64))  # SHA-256 of the file's bytes
    start: Mapped[datetime] = mapped_column(UTCDateTime)


@dataclass(frozen=True)
class NewUtterance:
    source_id: str
    start: datetime
    end: datetime
    label: str
    probabilities: dict[str, float]
    model_id: str
    session_id: int | None = None


@dataclass(frozen=True)
class NewEvent:
    source_id: str
    kind: str
    message: str
    time: datetime = field(default_factory=lambda: datetime.now(UTC))
    data: dict = field(default_factory=dict)
    session_id: int | None = None


class Store:
    """Opens (and creates) the database at ``url``; every method is one short transaction."""

    def __init__(self, url: str):
        self.url = url
        try:
            self.engine = create_engine(url, pool_pre_ping=True)
            if self.engine.dialect.name == "sqlite":
                event.listen(self.engine, "connect", _sqlite_pragmas)
            Base.metadata.create_all(self.engine)
        except (ArgumentError, OperationalError, ImportError) as e:
            raise StoreError(f"--db {shown_url(url)}: cannot open the database ({_first_line(e)})") from e
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions.begin() as s:
            yield s

    def start_session(self, source_id: str, model_id: str, settings: dict | None = None) -> int:
        with self.session() as s:
            row = MonitorSession(
                source_id=source_id, started_at=datetime.now(UTC), model_id=model_id, settings=settings or {}
            )
            s.add(row)
            s.flush()
            return row.id

    def close_abandoned_sessions(self, source_id: str) -> list[tuple[int, datetime]]:
        """Close the source's sessions that never ended (a monitor killed, a machine that lost power) at their
        last sign of life (their start, latest event or latest utterance end); each one's id and that moment."""
        closed = []
        with self.session() as s:
            q = select(MonitorSession).where(MonitorSession.source_id == source_id, MonitorSession.ended_at.is_(None))
            for row in s.scalars(q):
                last_event = s.scalar(select(func.max(EventRow.time)).where(EventRow.session_id == row.id))
                last_end = s.scalar(select(func.max(UtteranceRow.end)).where(UtteranceRow.session_id == row.id))
                signs = [m for m in (row.started_at, last_event, last_end) if m is not None]
                row.ended_at = min(max(signs), datetime.now(UTC))
                closed.append((row.id, row.ended_at))
        return closed

    def end_session(self, session_id: int) -> None:
        with self.session() as s:
            row = s.get(MonitorSession, session_id)
            if row is not None:
                row.ended_at = datetime.now(UTC)

    def add_utterance(self, u: NewUtterance) -> bool:
        """Store one utterance; False when (source, start) is already stored (a replay after a restart).

        A replay that finds the stored utterance shorter, because a stop cut it off, completes it instead.
        """
        row = UtteranceRow(
            session_id=u.session_id,
            source_id=u.source_id,
            start=u.start,
            end=u.end,
            duration_s=(u.end - u.start).total_seconds(),
            label=u.label,
            probabilities=u.probabilities,
            model_id=u.model_id,
        )
        try:
            with self.session() as s:
                s.add(row)
        except IntegrityError:
            return self._complete_utterance(u)
        return True

    def _complete_utterance(self, u: NewUtterance) -> bool:
        q = select(UtteranceRow).where(UtteranceRow.source_id == u.source_id, UtteranceRow.start == u.start)
        with self.session() as s:
            row = s.scalars(q).one_or_none()
            if row is None or row.end >= u.end:
                return False
            row.end, row.duration_s = u.end, (u.end - u.start).total_seconds()
            row.label, row.probabilities, row.model_id = u.label, u.probabilities, u.model_id
        return True

    def add_event(self, e: NewEvent) -> None:
        with self.session() as s:
            s.add(
                EventRow(
                    session_id=e.session_id,
                    source_id=e.source_id,
                    time=e.time,
                    kind=e.kind,
                    message=e.message,
                    data=e.data,
                )
            )

    def utterances(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        source_id: str | None = None,
        limit: int | None = None,
        newest_first: bool = False,
    ) -> list[UtteranceRow]:
        """Utterances starting in ``[since, until)``, oldest first unless ``newest_first``."""
        q = _filtered(select(UtteranceRow), UtteranceRow.start, UtteranceRow.source_id, since, until, source_id)
        order = UtteranceRow.start.desc() if newest_first else UtteranceRow.start
        q = q.order_by(order, UtteranceRow.id).limit(limit)
        with self.session() as s:
            return list(s.scalars(q))

    def events(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        source_id: str | None = None,
        kinds: list[str] | None = None,
        limit: int | None = None,
        newest_first: bool = False,
    ) -> list[EventRow]:
        """Events in ``[since, until)``, oldest first unless ``newest_first``; the database orders and limits them
        (on the time index), so the newest of half a million events costs one row."""
        q = _filtered(select(EventRow), EventRow.time, EventRow.source_id, since, until, source_id)
        if kinds:
            q = q.where(EventRow.kind.in_(kinds))
        order = (EventRow.time.desc(), EventRow.id.desc()) if newest_first else (EventRow.time, EventRow.id)
        with self.session() as s:
            return list(s.scalars(q.order_by(*order).limit(limit)))

    def recording_start(self, source_id: str, digest: str, proposed: datetime) -> datetime:
        """The start the recording with content ``digest`` was first given for this source; ``proposed`` (kept
        from now on) when it is new."""
        try:
            with self.session() as s:
                s.add(RecordingRow(source_id=source_id, digest=digest, start=proposed))
            return proposed
        except IntegrityError:
            q = select(RecordingRow.start).where(RecordingRow.source_id == source_id, RecordingRow.digest == digest)
            with self.session() as s:
                return s.scalars(q).one()

    def monitor_state(self, source_id: str) -> tuple[str, datetime | None]:
        """What the source's monitor is doing, by its sessions and events, and since when: ``listening`` (a
        session open; since its start, or its last reconnection), ``disconnected`` (the robot went away; since
        then), ``stopped`` (the last session ended; since its end), or ``never`` (no monitor ran; simulated
        data). A monitor killed without a stop stays ``listening`` until its next start closes the session;
        the last utterance's time tells how long it has been silent."""
        with self.session() as s:
            q = select(MonitorSession).where(MonitorSession.source_id == source_id)
            session = s.scalars(q.order_by(MonitorSession.started_at.desc(), MonitorSession.id.desc()).limit(1)).first()
            if session is None:
                return "never", None
            if session.ended_at is not None:
                return "stopped", session.ended_at
            kinds = ("disconnected", "reconnected")
            q = select(EventRow).where(EventRow.session_id == session.id, EventRow.kind.in_(kinds))
            link = s.scalars(q.order_by(EventRow.time.desc(), EventRow.id.desc()).limit(1)).first()
            if link is not None and link.kind == "disconnected":
                return "disconnected", link.time
            return "listening", link.time if link is not None else session.started_at

    def sources(self) -> list[str]:
        """Every source that has stored an utterance or started a session."""
        with self.session() as s:
            found = set(s.scalars(select(UtteranceRow.source_id).distinct()))
            found |= set(s.scalars(select(MonitorSession.source_id).distinct()))
        return sorted(found)

    def save_speaker_stats(self, source_id: str, stats: dict) -> None:
        with self.session() as s:
            row = s.get(SpeakerStatsRow, source_id)
            if row is None:
                s.add(SpeakerStatsRow(source_id=source_id, updated_at=datetime.now(UTC), stats=stats))
            else:
                row.stats, row.updated_at = stats, datetime.now(UTC)

    def load_speaker_stats(self, source_id: str) -> dict | None:
        with self.session() as s:
            row = s.get(SpeakerStatsRow, source_id)
            return None if row is None else row.stats


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def shown_url(url: str) -> str:
    """``url`` as it may be printed and logged: the password, if any, replaced by ``***``."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):  # not a URL SQLAlchemy reads: hide what lies between "://user:" and "@"
        return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def _filtered(query, time_column, source_column, since, until, source_id):
    """``query`` limited to times in ``[since, until)`` and one source, where each is given."""
    if since is not None:
        query = query.where(time_column >= since)
    if until is not None:
        query = query.where(time_column < until)
    if source_id is not None:
        query = query.where(source_column == source_id)
    return query
