"""The report archive: every ``<date>/<source>/report.json`` under the report folder, newest day first."""

from __future__ import annotations

import json
import logging
from datetime import date
from pathlib import Path
from urllib.parse import quote

from speech_emotion.reports.daily import INDEX_HTML, REPORT_HTML, REPORT_JSON
from speech_emotion.web.schemas import Report, ReportFile

log = logging.getLogger(__name__)
DOWNLOADS = {".html", ".png", ".json"}


def report_url(root: Path, path: Path) -> str:
    return "/reports/" + quote(path.relative_to(root).as_posix())


def list_reports(root: Path | None) -> list[Report]:
    if root is None or not root.is_dir():
        return []
    reports = []
    for numbers in root.glob(f"*/*/{REPORT_JSON}"):
        folder = numbers.parent
        try:
            day = date.fromisoformat(folder.parent.name)
            source = json.loads(numbers.read_text(encoding="utf-8"))["source"]
        except (ValueError, KeyError, TypeError, OSError) as e:
            log.warning("%s: skipped in the report archive (%s)", numbers, e)
            continue
        index = folder.parent / INDEX_HTML
        reports.append(
            Report(
                date=day,
                source=str(source),
                html_url=report_url(root, folder / REPORT_HTML),
                index_url=report_url(root, index) if index.is_file() else None,
                files=[
                    ReportFile(name=f.name, url=report_url(root, f), size_bytes=f.stat().st_size)
                    for f in sorted(folder.iterdir())
                    if f.is_file() and f.suffix in DOWNLOADS
                ],
            )
        )
    return sorted(reports, key=lambda r: (-r.date.toordinal(), r.source))
