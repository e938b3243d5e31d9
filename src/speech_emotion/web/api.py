"""The JSON API (``/api/...``): sources, utterances, hourly summaries, events, the report archive, the stream.

Every handler gets the store and the settings by dependency injection; bad input is a 4xx whose detail
names the parameter and the reason (422 for malformed values, 404 for an unknown source).
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.sse import EventSourceResponse, ServerSentEvent
from pydantic import AwareDatetime

from speech_emotion.reports import palette
from speech_emotion.reports.summary import summarize_day
from speech_emotion.reports.timezones import (
    TimeRangeError,
    TimeZoneError,
    check_day,
    check_time,
    resolve_zone,
    zone_name,
)
from speech_emotion.store import Store
from speech_emotion.web import live
from speech_emotion.web.archive import list_reports
from speech_emotion.web.schemas import Emotion, Event, Hour, HourlySummary, Info, Report, Source, Utterance

MAX_LIMIT = 5000


@dataclass(frozen=True)
class Settings:
    zone: tzinfo
    reports_dir: Path | None
    poll_interval_s: float
    token_required: bool
    stopping: threading.Event  # set when the server stops: the live streams end
    names: dict[str, str] = field(default_factory=dict)  # source id -> what caregivers call it ("Room 12")


def get_store(request: Request) -> Store:
    return request.app.state.store


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


StoreDep = Annotated[Store, Depends(get_store)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"at most this many rows (1 to {MAX_LIMIT})")]
Since = Annotated[AwareDatetime | None, Query(description="from this time on (ISO 8601 with a UTC offset)")]
Until = Annotated[AwareDatetime | None, Query(description="before this time (ISO 8601 with a UTC offset)")]
Order = Annotated[Literal["newest", "oldest"], Query(description="newest first (default) or oldest first")]


def known_source(store: StoreDep, source: Annotated[str | None, Query(max_length=200)] = None) -> str | None:
    """The ``source`` parameter, checked against the sources in the database (404 when unknown)."""
    if source is not None and source not in store.sources():
        raise HTTPException(404, f"source {source!r} not found; known sources: {', '.join(store.sources()) or 'none'}")
    return source


def required_source(source: Annotated[str | None, Depends(known_source)]) -> str:
    if source is None:
        raise HTTPException(422, "source: required (one of /api/sources)")
    return source


def time_range(since: Since = None, until: Until = None) -> tuple[datetime | None, datetime | None]:
    try:
        since = None if since is None else check_time(since, "since")
        until = None if until is None else check_time(until, "until")
    except TimeRangeError as e:
        raise HTTPException(422, str(e)) from e
    if since is not None and until is not None and until <= since:
        raise HTTPException(422, "until: must be later than since")
    return since, until


def zone_param(settings: SettingsDep, tz: Annotated[str | None, Query(max_length=64)] = None) -> tzinfo:
    """The ``tz`` parameter (an IANA zone), else the dashboard's zone."""
    if tz is None:
        return settings.zone
    try:
        return resolve_zone(tz, field="tz")
    except TimeZoneError as e:
        raise HTTPException(422, str(e)) from e


SourceParam = Annotated[str | None, Depends(known_source)]
RequiredSource = Annotated[str, Depends(required_source)]
Range = Annotated[tuple[datetime | None, datetime | None], Depends(time_range)]
Zone = Annotated[tzinfo, Depends(zone_param)]

router = APIRouter(prefix="/api", tags=["api"])


@router.get("/info", response_model=Info, summary="time zone, today, and the emotions' names and colours")
def info(settings: SettingsDep) -> Info:
    return Info(
        timezone=zone_name(settings.zone),
        today=datetime.now(settings.zone).date(),
        emotions=[Emotion(label=e, name=palette.name(e), colour=palette.colour(e)) for e in palette.EMOTIONS],
        token_required=settings.token_required,
    )


@router.get("/sources", response_model=list[Source], summary="monitored sources and their latest utterance")
def sources(store: StoreDep, settings: SettingsDep) -> list[Source]:
    found = []
    for source_id in store.sources():
        last = store.utterances(source_id=source_id, limit=1, newest_first=True)
        state, since = store.monitor_state(source_id)
        found.append(
            Source(
                id=source_id,
                name=settings.names.get(source_id, source_id),
                last_utterance=Utterance.of(last[0]) if last else None,
                state=state,
                state_since=since,
            )
        )
    return found


@router.get("/utterances", response_model=list[Utterance], summary="utterances, newest first by default")
def utterances(store: StoreDep, source: SourceParam, window: Range, limit: Limit = 100, order: Order = "newest"):
    since, until = window
    rows = store.utterances(since=since, until=until, source_id=source, limit=limit, newest_first=order == "newest")
    return [Utterance.of(u) for u in rows]


@router.get("/summary/hourly", response_model=HourlySummary, summary="seconds of each emotion per hour of a day")
def hourly_summary(
    store: StoreDep,
    source: RequiredSource,
    zone: Zone,
    day: Annotated[date | None, Query(alias="date", description="YYYY-MM-DD (default: today)")] = None,
) -> HourlySummary:
    try:
        day = check_day(day or datetime.now(zone).date(), "date")
    except TimeRangeError as e:
        raise HTTPException(422, str(e)) from e
    s = summarize_day(store, source, day, zone)
    return HourlySummary(
        source=source,
        date=day,
        timezone=zone_name(zone),
        day_start=s.start,
        day_end=s.end,
        labels=s.labels,
        hours=[Hour(start=h.start, end=h.end, seconds=_rounded(h.seconds), total_s=round(h.total, 3)) for h in s.hours],
        totals=_rounded(s.totals.seconds),
        utterances=s.counts,
        alerts=[Event.of(a) for a in s.alerts],
    )


@router.get("/events", response_model=list[Event], summary="alerts and other monitor events, newest first")
def events(
    store: StoreDep,
    source: SourceParam,
    window: Range,
    kind: Annotated[str | None, Query(max_length=40, description="e.g. alert")] = None,
    limit: Limit = 100,
    order: Order = "newest",
) -> list[Event]:
    since, until = window
    kinds = [kind] if kind else None
    rows = store.events(since, until, source, kinds, limit=limit, newest_first=order == "newest")
    return [Event.of(e) for e in rows]


@router.get("/reports", response_model=list[Report], summary="the report archive, newest day first")
async def reports(settings: SettingsDep) -> list[Report]:
    return await run_in_threadpool(list_reports, settings.reports_dir)


@router.get(
    "/stream",
    response_class=EventSourceResponse,
    summary="server-sent events: ready, then utterance and event as the monitor stores them",
)
async def stream(
    store: StoreDep,
    settings: SettingsDep,
    source: SourceParam,
    last_event_id: Annotated[str | None, Header(description="resume after this cursor")] = None,
) -> AsyncIterator[ServerSentEvent]:
    async for item in live.events(store, source, last_event_id, settings.poll_interval_s, settings.stopping):
        yield item


def _rounded(seconds: dict[str, float]) -> dict[str, float]:
    return {label: round(value, 3) for label, value in seconds.items()}
