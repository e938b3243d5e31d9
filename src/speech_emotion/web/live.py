"""The live stream: new rows the monitor (another process) writes, found by polling the database.

A cursor is the highest utterance and event id a client has seen, sent as each server-sent event's id, so
a browser that reconnects (``Last-Event-ID``) misses nothing. Ids grow in insertion order; a writer that
commits a lower id after a higher one (possible with several PostgreSQL writers) is shown on the next page
load rather than live.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass

from fastapi.concurrency import run_in_threadpool
from fastapi.sse import ServerSentEvent
from sqlalchemy import func, select

from speech_emotion.store import EventRow, Store, UtteranceRow
from speech_emotion.web.schemas import Event, Utterance

STOP_CHECK_S = 0.1  # how soon an open stream notices the server stopping
BATCH = 500
RETRY_MS = 2000


MAX_ID = 2**63  # SQLite's and PostgreSQL's largest integer key, plus one
MAX_ID_DIGITS = len(str(MAX_ID))


@dataclass(frozen=True)
class Cursor:
    utterance_id: int
    event_id: int

    def encode(self) -> str:
        return f"{self.utterance_id}:{self.event_id}"

    @classmethod
    def parse(cls, text: str | None) -> Cursor | None:
        """A cursor from ``Last-Event-ID``; None for anything else (ids are below 2**63, as the databases'),
        including text too long to be one."""
        if not text or len(text) > 2 * MAX_ID_DIGITS + 1:
            return None
        try:
            u, e = (int(x) for x in text.split(":"))
        except ValueError:
            return None
        return cls(u, e) if 0 <= u < MAX_ID and 0 <= e < MAX_ID else None

    def at_most(self, latest: Cursor) -> Cursor:
        """This cursor, but no further than ``latest``: a cursor ahead of the newest rows (another database,
        or one made anew) would otherwise hide every new row until the ids caught up."""
        return Cursor(min(self.utterance_id, latest.utterance_id), min(self.event_id, latest.event_id))


def latest_cursor(store: Store) -> Cursor:
    with store.session() as s:
        u = s.scalar(select(func.max(UtteranceRow.id))) or 0
        e = s.scalar(select(func.max(EventRow.id))) or 0
    return Cursor(u, e)


def rows_after(store: Store, cursor: Cursor, source: str | None) -> tuple[list[UtteranceRow], list[EventRow]]:
    uq = select(UtteranceRow).where(UtteranceRow.id > cursor.utterance_id)
    eq = select(EventRow).where(EventRow.id > cursor.event_id)
    if source is not None:
        uq, eq = uq.where(UtteranceRow.source_id == source), eq.where(EventRow.source_id == source)
    with store.session() as s:  # events first: an alert is stored after the utterance that tipped it, so a
        # poll that sees the alert sees its utterance too (the two reads need not share one snapshot)
        events = list(s.scalars(eq.order_by(EventRow.id).limit(BATCH)))
        return list(s.scalars(uq.order_by(UtteranceRow.id).limit(BATCH))), events


async def events(
    store: Store, source: str | None, resume: str | None, poll_s: float, stopping: threading.Event
) -> AsyncIterator[ServerSentEvent]:
    """``ready`` first (the client may load the page's data from then on), then ``utterance`` and ``event``,
    until the server is ``stopping`` (an open stream would otherwise hold its shutdown up)."""
    latest = await run_in_threadpool(latest_cursor, store)
    resumed = Cursor.parse(resume)
    cursor = latest if resumed is None else resumed.at_most(latest)
    yield ServerSentEvent(event="ready", data={"cursor": cursor.encode()}, id=cursor.encode(), retry=RETRY_MS)
    while not stopping.is_set():
        utterances, new_events = await run_in_threadpool(rows_after, store, cursor, source)
        for u in utterances:
            cursor = Cursor(u.id, cursor.event_id)
            yield ServerSentEvent(event="utterance", data=Utterance.of(u), id=cursor.encode())
        for e in new_events:
            cursor = Cursor(cursor.utterance_id, e.id)
            yield ServerSentEvent(event="event", data=Event.of(e), id=cursor.encode())
        await _pause(poll_s, stopping)


async def _pause(seconds: float, stopping: threading.Event) -> None:
    """Wait ``seconds``, or less once the server is ``stopping``: the stream must end well within uvicorn's
    graceful-shutdown time, however long the poll interval (a thread waiting on the event would hold one
    of the threadpool's few threads per open page)."""
    end = asyncio.get_running_loop().time() + seconds
    while not stopping.is_set() and (left := end - asyncio.get_running_loop().time()) > 0:
        await asyncio.sleep(min(STOP_CHECK_S, left))
