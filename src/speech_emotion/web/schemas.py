"""The JSON API's response models: what /openapi.json documents and what the dashboard page reads."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from speech_emotion.store import EventRow, UtteranceRow


class Emotion(BaseModel):
    label: str = Field(description="the label stored by the monitor, e.g. sad")
    name: str = Field(description="the word shown to people, e.g. Sad")
    colour: str = Field(description="the colour used for it in every chart and report (#RRGGBB)")


class Info(BaseModel):
    timezone: str = Field(description="the IANA zone whose hours the dashboard shows")
    today: date = Field(description="today's date in that zone")
    emotions: list[Emotion]
    token_required: bool


class Utterance(BaseModel):
    id: int
    source: str
    start: datetime
    end: datetime
    duration_s: float
    label: str
    confidence: float = Field(description="the probability of the label")
    probabilities: dict[str, float]
    model_id: str

    @classmethod
    def of(cls, row: UtteranceRow) -> Utterance:
        return cls(
            id=row.id,
            source=row.source_id,
            start=row.start,
            end=row.end,
            duration_s=round(row.duration_s, 3),
            label=row.label,
            confidence=float(row.probabilities.get(row.label, 0.0)),
            probabilities=row.probabilities,
            model_id=row.model_id,
        )


class Event(BaseModel):
    id: int
    source: str
    time: datetime
    kind: str = Field(description="alert, or another monitor event such as reconnect")
    message: str
    data: dict[str, Any]

    @classmethod
    def of(cls, row: EventRow) -> Event:
        return cls(id=row.id, source=row.source_id, time=row.time, kind=row.kind, message=row.message, data=row.data)


class Source(BaseModel):
    id: str
    name: str = Field(description="what the caregivers call it (serve --name ID=NAME), else the id")
    last_utterance: Utterance | None = Field(description="the most recent utterance: the source's current emotion")
    state: Literal["listening", "disconnected", "stopped", "never"] = Field(
        description="what its monitor does (store.Store.monitor_state): listening, robot disconnected, stopped, or "
        "no monitor ever ran (simulated data)"
    )
    state_since: datetime | None = Field(description="since when it has been in that state")


class Hour(BaseModel):
    start: datetime
    end: datetime
    seconds: dict[str, float] = Field(description="seconds of speech per emotion inside this hour")
    total_s: float


class HourlySummary(BaseModel):
    source: str
    date: date
    timezone: str
    day_start: datetime
    day_end: datetime
    labels: list[str] = Field(description="emotions in chart order")
    hours: list[Hour] = Field(description="23, 24 or 25 hours: local hours, split where utterances cross them")
    totals: dict[str, float] = Field(description="seconds per emotion over the day")
    utterances: dict[str, int] = Field(description="utterances that started this day, per emotion")
    alerts: list[Event]


class ReportFile(BaseModel):
    name: str
    url: str
    size_bytes: int


class Report(BaseModel):
    date: date
    source: str
    html_url: str
    index_url: str | None
    files: list[ReportFile]
