"""The dashboard's FastAPI application: the JSON API, the live page, the report archive, token guard."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import tzinfo
from importlib import metadata
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from speech_emotion.reports.timezones import resolve_zone
from speech_emotion.store import Store
from speech_emotion.web import api, pages
from speech_emotion.web.security import TokenGuard, check_token

DESCRIPTION = """Live emotions of the monitored sources, the day's hours, alerts and the report archive.

With a token configured every request needs `Authorization: Bearer <token>` (or `?token=<token>`, which
sets a cookie for the browser)."""


def create_app(
    store_url: str,
    reports_dir: str | Path | None = None,
    token: str | None = None,
    tz: str | tzinfo | None = None,
    poll_interval_s: float = 1.0,
    stopping: threading.Event | None = None,
    names: dict[str, str] | None = None,
) -> FastAPI:
    """The dashboard over the monitor's database at ``store_url``, serving reports from ``reports_dir``;
    setting ``stopping`` ends its live streams, so that a server stopping is not held up by open pages;
    ``names`` gives sources the names caregivers know them by."""
    check_token(token)
    zone = tz if isinstance(tz, tzinfo) else resolve_zone(tz)
    store = Store(store_url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        store.close()

    app = FastAPI(  # no /docs or /redoc: their pages load scripts from a CDN and are blank offline
        title="speech-emotion dashboard",
        description=DESCRIPTION,
        version=metadata.version("speech-emotion"),
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.store = store
    app.state.settings = api.Settings(
        zone=zone,
        reports_dir=Path(reports_dir) if reports_dir is not None else None,
        poll_interval_s=poll_interval_s,
        token_required=token is not None,
        stopping=stopping or threading.Event(),
        names=dict(names or {}),
    )
    app.include_router(api.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=pages.STATIC), name="static")
    app.add_middleware(TokenGuard, token=token)
    return app
