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

BATCH = 500
RETRY_MS = 2000


@dataclass(frozen=True)
class Cursor:
    utterance_id: int
    event_id: int

    def encode(self) -> str:
        return f"{self.utterance_id}:{self.event_id}"

    @classmethod
    def parse(cls, text: str | None) -> Cursor | None:
        try:
            u, e = (int(x) for x in (text or "").split(":"))
        except ValueError:
            return None
        return cls(u, e) if u >= 0 and e >= 0 else None


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
    with store.session() as s:
        return (
            list(s.scalars(uq.order_by(UtteranceRow.id).limit(BATCH))),
            list(s.scalars(eq.order_by(EventRow.id).limit(BATCH))),
        )


async def events(
    store: Store, source: str | None, resume: str | None, poll_s: float, stopping: threading.Event
) -> AsyncIterator[ServerSentEvent]:
    """``ready`` first (the client may load the page's data from then on), then ``utterance`` and ``event``,
    until the server is ``stopping`` (an open stream would otherwise hold its shutdown up)."""
    cursor = Cursor.parse(resume) or await run_in_threadpool(latest_cursor, store)
    yield ServerSentEvent(event="ready", data={"cursor": cursor.encode()}, id=cursor.encode(), retry=RETRY_MS)
    while not stopping.is_set():
        utterances, new_events = await run_in_threadpool(rows_after, store, cursor, source)
        for u in utterances:
            cursor = Cursor(u.id, cursor.event_id)
            yield ServerSentEvent(event="utterance", data=Utterance.of(u), id=cursor.encode())
        for e in new_events:
            cursor = Cursor(cursor.utterance_id, e.id)
            yield ServerSentEvent(event="event", data=Event.of(e), id=cursor.encode())
        await asyncio.sleep(poll_s)
