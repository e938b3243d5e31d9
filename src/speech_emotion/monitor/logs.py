"""Structured logs for a service: every monitor message is an event name with key=value fields.

Text lines read ``... INFO speech_emotion.monitor.pipeline: utterance source=nao label=sad p=0.81``; with
``--log-json`` each line is one JSON object (``time``, ``level``, ``logger``, ``event`` and the fields), for
journald, Loki or anything else that indexes JSON logs.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime


def log_event(logger: logging.Logger, level: int, event: str, *, exc_info: bool = False, **fields) -> None:
    if logger.isEnabledFor(level):
        text = " ".join([event, *(f"{k}={_text(v)}" for k, v in fields.items())])
        logger.log(level, "%s", text, exc_info=exc_info, extra={"event": event, "fields": fields})


def _text(value) -> str:
    if isinstance(value, float):
        value = f"{value:.3f}".rstrip("0").rstrip(".")
    value = str(value)
    return json.dumps(value) if (not value or any(c in value for c in ' "=\n')) else value


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        if hasattr(record, "event"):
            line["event"] = record.event
            line.update(record.fields)
        else:
            line["message"] = record.getMessage()
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def use_json_logs() -> None:
    """Switch every handler of the root logger to JSON lines."""
    for handler in logging.getLogger().handlers:
        handler.setFormatter(JsonFormatter())
