"""The dashboard page and the report downloads (the archive's files, confined to the report folder)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import FileResponse

from speech_emotion.web.api import SettingsDep
from speech_emotion.web.security import safe_report_path

STATIC = Path(__file__).parent / "static"
# The page runs only its own script; a report may show its embedded images and inline style, nothing else.
PAGE_POLICY = "default-src 'self'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'; base-uri 'none'"
REPORT_POLICY = "default-src 'none'; img-src data: 'self'; style-src 'unsafe-inline'; frame-ancestors 'none'"
COMMON = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}

router = APIRouter(include_in_schema=False)


@router.get("/")
def dashboard() -> FileResponse:
    return FileResponse(STATIC / "index.html", headers={**COMMON, "Content-Security-Policy": PAGE_POLICY})


@router.get("/reports/{path:path}")
def report_file(settings: SettingsDep, path: str, download: Annotated[bool, Query()] = False) -> FileResponse:
    """A file of the archive; ``?download=1`` asks the browser to save it."""
    found = None if settings.reports_dir is None else safe_report_path(settings.reports_dir, path)
    if found is None:
        raise HTTPException(404, f"no report file {path!r}")
    return FileResponse(
        found,
        filename=found.name if download else None,
        content_disposition_type="attachment" if download else "inline",
        headers={**COMMON, "Content-Security-Policy": REPORT_POLICY},
    )
