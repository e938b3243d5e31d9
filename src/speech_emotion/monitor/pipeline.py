"""The monitor: source -> voice activity segmentation -> recogniser -> store -> reactions.

Two threads. The audio thread reads the source, repairs or reports bad buffers, and cuts utterances; it does
nothing slow. The inference thread recognises each utterance with the speaker-adapted statistics, stores it,
adapts the statistics and runs the reactions. Between them is a bounded queue: when inference falls behind,
the queue fills, the monitor says so (log, ``backlog`` event, metrics) and the audio thread waits for room,
so the source buffers or slows down and no audio is ever dropped. A stop (signal, ``--duration``, end of
file) lets the source finish, flushes the utterance in progress, drains the queue, saves the statistics and
closes the monitor session. Audio is written only to ``keep_audio``, when given.
"""

from __future__ import annotations

import logging
import queue
import re
import threading
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
from sqlalchemy.exc import SQLAlchemyError

from speech_emotion.audio import SAMPLE_RATE, repair_samples
from speech_emotion.fusion import Recognizer
from speech_emotion.monitor.adaptation import AdaptationConfig, PersonAdaptation, load_adaptation, save_adaptation
from speech_emotion.monitor.logs import log_event
from speech_emotion.monitor.sources.base import AudioChunk, Source, SourceEvent
from speech_emotion.monitor.spool import Spool
from speech_emotion.store import NewEvent, NewUtterance, Store
from speech_emotion.vad import Utterance, VadConfig

log = logging.getLogger(__name__)
REPORT_INTERVAL_S = 60.0  # one log line and event per kind of bad audio per interval, with a count
STOP_GRACE_S = 10.0  # how long a stopped source may take to end its stream
NOISY_DBFS = -35.0  # input at least this loud (RMS of a chunk) ...
NOISY_SECONDS = 120.0  # ... for this long in all with no speech found is a "noisy" event
_END = object()
_SPOOLED = object()  # what a store action gives that went to the spool instead


@dataclass(frozen=True)
class PipelineConfig:
    queue_size: int = 32  # utterances waiting for inference before the audio thread waits
    metrics_interval_s: float = 60.0
    pooling: str = "max"
    threads: int = 0  # PyTorch threads of the inference thread; 0: PyTorch's default (every core)

    def __post_init__(self):
        if self.queue_size < 1 or self.metrics_interval_s <= 0:
            raise ValueError("pipeline.queue_size and pipeline.metrics_interval_s must be positive")
        if self.threads < 0:
            raise ValueError("pipeline.threads must not be negative")
        if self.pooling not in ("max", "mean"):
            raise ValueError(f"pipeline.pooling must be max or mean, not {self.pooling!r}")


@dataclass
class Metrics:
    chunks: int = 0
    audio_s: float = 0.0
    bad_chunks: int = 0
    utterances: int = 0  # cut by the segmenter
    stored: int = 0
    duplicates: int = 0  # already stored (a replay after a restart)
    failed: int = 0
    queue_high_water: int = 0
    backlog_s: float = 0.0  # speech waiting for inference now
    backlog_high_water_s: float = 0.0
    audio_wait_s: float = 0.0  # time the audio thread waited for room in the queue
    spooled: int = 0  # results kept in the spool because the database was down at the stop
    inference_s: float = 0.0

    def fields(self) -> dict:
        return {k: round(v, 3) if isinstance(v, float) else v for k, v in asdict(self).items()}


class _NoiseWatch:
    """Loud input in which no speech is found, counted since the last utterance: a day drowned in noise (a TV,
    a vacuum cleaner) must not read as a quiet day. Says so once per stretch, when it has lasted long enough."""

    def __init__(self):
        self.loud_s = 0.0
        self.energy = 0.0  # mean square x seconds, of the loud chunks
        self.reported = False

    def chunk(self, samples: np.ndarray) -> tuple[float, float] | None:
        """Count a chunk; (loud seconds, their level in dBFS) the moment the stretch becomes worth an event."""
        seconds, power = len(samples) / SAMPLE_RATE, float(np.mean(np.square(samples)))
        if 10 * np.log10(power + 1e-12) >= NOISY_DBFS:
            self.loud_s += seconds
            self.energy += power * seconds
        if self.reported or self.loud_s < NOISY_SECONDS:
            return None
        self.reported = True
        return self.loud_s, 10 * float(np.log10(self.energy / self.loud_s))

    def speech(self) -> None:
        self.loud_s, self.energy, self.reported = 0.0, 0.0, False


class _Throttle:
    """Passes the first occurrence of each kind, then at most one per interval with the count in between."""

    def __init__(self, interval_s: float, emit: Callable[[str, str, int], None]):
        self.interval_s = interval_s
        self.emit = emit
        self._state: dict[str, tuple[float, int]] = {}

    def __call__(self, kind: str, detail: str) -> None:
        now = time.monotonic()
        last, count = self._state.get(kind, (-float("inf"), 0))
        if now - last >= self.interval_s:
            self.emit(kind, detail, count + 1)
            self._state[kind] = (now, 0)
        else:
            self._state[kind] = (last, count + 1)


class Monitor:
    """One source watched until stopped; ``run`` blocks and returns the final metrics."""

    def __init__(
        self,
        source: Source,
        recognizer: Recognizer,
        store: Store,
        vad: VadConfig | None = None,
        adaptation: AdaptationConfig | None = None,
        pipeline: PipelineConfig | None = None,
        keep_audio: Path | None = None,
        settings: dict | None = None,
        spool: Spool | None = None,
    ):
        """``spool``: where results go that the database cannot take when the monitor must stop; stored first
        at the next start."""
        self.source = source
        self.source_id = source.source_id
        self.recognizer = recognizer
        self.store = store
        self.vad = vad or VadConfig()
        self.adaptation = adaptation or AdaptationConfig()
        if not any(part.preprocessing.adapts_to_speaker for part in recognizer.parts):  # global statistics only:
            self.adaptation = replace(self.adaptation, enabled=False)  # it hears everyone alike
        self.config = pipeline or PipelineConfig()
        self.keep_audio = keep_audio
        self.settings = settings or {}
        self.spool = spool
        self.listeners: list[Callable[[NewUtterance], None]] = []
        self.metrics = Metrics()
        self.session_id: int | None = None
        self.source_error: str | None = None
        self.person: PersonAdaptation | None = None
        self._inference: threading.Thread | None = None
        self._segmenter = self.vad.segmenter()
        self._queue: queue.Queue = queue.Queue(maxsize=self.config.queue_size)
        self._lock = threading.Lock()
        self._behind = False
        self._stop = threading.Event()
        self._last_save = time.monotonic()
        self._store_gave_up = False
        self._bad_audio = _Throttle(REPORT_INTERVAL_S, self._report_bad_audio)
        self._noise = _NoiseWatch()
        source.on_event = self._on_source_event

    def record_event(self, event: NewEvent) -> None:
        """Store an event of this monitor session; from other threads it goes through the inference queue,
        so the audio thread never waits for the database."""
        event = replace(event, session_id=self.session_id)
        if self._inference is None or not self._inference.is_alive() or threading.current_thread() is self._inference:
            self._store_event(event)
        else:
            self._queue.put(event)

    def run(self, stop: threading.Event, duration_s: float | None = None) -> Metrics:
        self._stop = stop
        if self.spool is not None and (spooled := self.spool.store_into(self.store)):
            log_event(log, logging.INFO, "spooled results stored", source=self.source_id, count=spooled)
        abandoned = self.store.close_abandoned_sessions(self.source_id)
        self.session_id = self.store.start_session(self.source_id, self.recognizer.model_id, self.settings)
        for session, last_seen in abandoned:  # a monitor killed, or a machine that lost power: say for how long
            down_s = round((datetime.now(UTC) - last_seen).total_seconds(), 1)
            message = f"monitor session {session} ended unexpectedly; nothing was heard for {down_s:g} s"
            log_event(log, logging.WARNING, "ended unexpectedly", source=self.source_id, session=session, down_s=down_s)
            data = {"session": session, "last_seen": last_seen.isoformat(), "lost_seconds": down_s}
            self.record_event(NewEvent(self.source_id, "downtime", message, time=last_seen, data=data))
        if self.adaptation.enabled:
            self.person = load_adaptation(self.store, self.source_id, self.recognizer.parts, self.adaptation)
        else:
            self.person = PersonAdaptation(self.recognizer.parts, self.adaptation)
        log_event(
            log, logging.INFO, "monitor started", source=self.source_id, session=self.session_id,
            model=self.recognizer.model_id, vad=self.vad.engine, keep_audio=self.keep_audio or "no",
        )  # fmt: skip
        self._inference = threading.Thread(target=self._inference_loop, name="inference")
        audio = threading.Thread(target=self._audio_loop, name="audio", daemon=True)
        self._inference.start()
        audio.start()
        self._wait(audio, stop, duration_s)
        self._inference.join()
        self._finish()
        return self.metrics

    def _wait(self, audio: threading.Thread, stop: threading.Event, duration_s: float | None) -> None:
        """Until the source ends or a stop, logging metrics; then give a stopped source a grace period."""
        deadline = None if duration_s is None else time.monotonic() + duration_s
        next_metrics = time.monotonic() + self.config.metrics_interval_s
        while audio.is_alive() and not stop.is_set():
            audio.join(0.2)
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                log_event(log, logging.INFO, "duration reached", source=self.source_id, seconds=duration_s)
                stop.set()
            if now >= next_metrics:
                log_event(log, logging.INFO, "metrics", source=self.source_id, **self.metrics.fields())
                next_metrics = now + self.config.metrics_interval_s
        audio.join(STOP_GRACE_S)
        if audio.is_alive():
            log_event(log, logging.ERROR, "source did not stop", source=self.source_id, waited_s=STOP_GRACE_S)
            self._queue.put(_END)

    def _finish(self) -> None:
        if self.adaptation.enabled:  # lost if the database is down: the next start adapts from the last saved
            self._at_stop("save speaker statistics", self._save_stats)
        self.record_event(NewEvent(self.source_id, "metrics", "monitor stopped", data=self.metrics.fields()))
        self._at_stop("close the session", lambda: self.store.end_session(self.session_id))  # else: next start
        if self.metrics.spooled:
            where = self.spool.path if self.spool is not None else None
            log_event(log, logging.WARNING, "results wait in the spool", count=self.metrics.spooled, spool=where)
        log_event(log, logging.INFO, "monitor stopped", source=self.source_id, **self.metrics.fields())

    def _at_stop(self, what: str, action: Callable) -> None:
        try:
            action()
        except SQLAlchemyError as e:
            log_event(log, logging.ERROR, "store failed at stop", what=what, error=str(e).splitlines()[0])

    # audio thread

    def _audio_loop(self) -> None:
        try:
            with closing(self.source.chunks(self._stop)) as chunks:  # closing releases the robot or device
                for chunk in chunks:
                    self._on_chunk(chunk)
                    if self._stop.is_set():
                        break
        except Exception as e:  # a broken source ends this run, recorded; the stored results stay
            self.source_error = f"{type(e).__name__}: {e}"
            log_event(log, logging.ERROR, "source failed", exc_info=True, source=self.source_id)
            self.record_event(NewEvent(self.source_id, "source_error", self.source_error))
        finally:
            for utterance in self._segmenter.flush():
                self._enqueue(utterance)
            self._queue.put(_END)

    def _on_chunk(self, chunk: AudioChunk) -> None:
        """Where audio enters: a bad buffer is repaired or dropped here (``repair_samples``), and reported."""
        samples, problems = repair_samples(getattr(chunk, "samples", None))
        start = getattr(chunk, "start", None)
        if not isinstance(start, int | float) or not np.isfinite(start):
            problems.append(("bad_time", f"capture time {start!r} replaced by the stream's own"))
            start = self._segmenter.expected_time or time.time()
        self.metrics.chunks += 1
        self.metrics.audio_s += len(samples) / SAMPLE_RATE
        if problems:
            self.metrics.bad_chunks += 1
            for kind, detail in problems:
                self._bad_audio(kind, detail)
        if len(samples):
            for utterance in self._segmenter.push(samples, float(start)):
                self._enqueue(utterance)
            noisy = self._noise.chunk(samples)
            if noisy is not None:
                loud_s, level = noisy
                message = f"{loud_s:.0f} s of loud input ({level:.0f} dBFS) without speech found: speech may be drowned"
                log_event(log, logging.WARNING, "noisy", source=self.source_id, loud_s=round(loud_s), dbfs=round(level))
                data = {"loud_seconds": round(loud_s, 1), "level_dbfs": round(level, 1)}
                self.record_event(NewEvent(self.source_id, "noisy", message, data=data))

    def _on_source_event(self, event: SourceEvent) -> None:
        """A ``SourceEvent`` (disconnected, reconnected, overrun, gap, ...; the source has logged it) stored."""
        data = {"detail": event.detail, "lost_seconds": event.lost_seconds}
        moment = datetime.fromtimestamp(event.time, UTC)
        self.record_event(NewEvent(self.source_id, str(event.kind), str(event), time=moment, data=data))

    def _report_bad_audio(self, kind: str, detail: str, count: int) -> None:
        log_event(log, logging.WARNING, "bad audio", source=self.source_id, problem=kind, detail=detail, count=count)
        self.record_event(
            NewEvent(self.source_id, "bad_audio", f"{kind}: {detail}", data={"problem": kind, "count": count})
        )

    def _enqueue(self, utterance: Utterance) -> None:
        self._noise.speech()
        with self._lock:
            self.metrics.utterances += 1
            self.metrics.backlog_s += utterance.duration
            self.metrics.backlog_high_water_s = max(self.metrics.backlog_high_water_s, self.metrics.backlog_s)
        try:
            self._queue.put_nowait(utterance)
        except queue.Full:
            waited = time.monotonic()
            if not self._behind:
                self._behind = True
                fields = {"queue": self._queue.qsize(), "backlog_s": round(self.metrics.backlog_s, 1)}
                log_event(log, logging.WARNING, "inference behind, audio waits", source=self.source_id, **fields)
                self.record_event(NewEvent(self.source_id, "backlog", "inference fell behind the audio", data=fields))
            self._queue.put(utterance)
            self.metrics.audio_wait_s += time.monotonic() - waited
        self.metrics.queue_high_water = max(self.metrics.queue_high_water, self._queue.qsize())

    # inference thread

    def _inference_loop(self) -> None:
        if self.config.threads:
            torch.set_num_threads(self.config.threads)  # per thread: OpenMP keeps it to this one
        while (item := self._queue.get()) is not _END:
            if isinstance(item, NewEvent):
                try:
                    self._store_event(item)
                except SQLAlchemyError:
                    log_event(log, logging.ERROR, "event lost", exc_info=True, kind=item.kind, message=item.message)
                continue
            with self._lock:
                self.metrics.backlog_s -= item.duration
            if self._behind and self._queue.qsize() <= self.config.queue_size // 2:
                self._behind = False
                log_event(log, logging.INFO, "inference caught up", source=self.source_id)
            try:
                self._process(item)
            except Exception:  # one bad utterance must not stop the monitor; it is counted and logged
                self.metrics.failed += 1
                log_event(log, logging.ERROR, "utterance failed", exc_info=True, start=item.start)

    def _process(self, utterance: Utterance) -> None:
        began = time.perf_counter()
        heard = utterance.heard  # with the context around it, as the models were trained
        features = [part.features(heard) for part in self.recognizer.parts]
        prediction = self.recognizer.predict_parts(features, self.person.stats())
        row = NewUtterance(
            source_id=self.source_id,
            start=datetime.fromtimestamp(utterance.start, UTC),
            end=datetime.fromtimestamp(utterance.end, UTC),
            label=prediction.label,
            probabilities=prediction.probabilities,
            model_id=self.recognizer.model_id,
            session_id=self.session_id,
        )
        new = self._retry("store utterance", lambda: self.store.add_utterance(row), row)
        self.metrics.inference_s += time.perf_counter() - began
        if new is _SPOOLED:
            return
        if not new:
            self.metrics.duplicates += 1
            log_event(log, logging.DEBUG, "utterance already stored", source=self.source_id, start=row.start)
            return
        self.metrics.stored += 1
        log_event(
            log, logging.INFO, "utterance", source=self.source_id, start=row.start.isoformat(),
            duration_s=utterance.duration, label=row.label, p=row.probabilities[row.label],
        )  # fmt: skip
        if self.adaptation.enabled:
            self.person.update(features)
            if time.monotonic() - self._last_save >= self.adaptation.save_interval_s:
                self._save_stats()
        if self.keep_audio is not None:
            self._write_audio(utterance, row)
        for listener in self.listeners:
            listener(row)

    def _save_stats(self) -> None:
        self._retry("save speaker statistics", lambda: save_adaptation(self.store, self.source_id, self.person))
        self._last_save = time.monotonic()

    def _store_event(self, event: NewEvent) -> None:
        self._retry(f"store {event.kind} event", lambda: self.store.add_event(event), event)

    def _retry(self, what: str, action: Callable, item: NewUtterance | NewEvent | None = None):
        """Run a store action until it succeeds: a database that is down holds the queue, it loses nothing.
        Once stopping, three tries (then one for each later action), so a dead database cannot hang the
        shutdown; then ``item`` goes to the spool (:data:`_SPOOLED` is returned), or the error is raised."""
        delay, tries = 1.0, 0
        while True:
            try:
                return action()
            except SQLAlchemyError as e:
                tries += 1
                if self._stop.is_set() and (tries >= 3 or self._store_gave_up):
                    self._store_gave_up = True
                    if self.spool is None or item is None:
                        raise
                    self.spool.add(item)
                    self.metrics.spooled += 1
                    return _SPOOLED
                log_event(log, logging.ERROR, "store failed", what=what, error=str(e).splitlines()[0], retry_s=delay)
                self._stop.wait(delay)  # a stop cuts the wait short
                delay = min(delay * 2, 30.0)

    def _write_audio(self, utterance: Utterance, row: NewUtterance) -> None:
        folder = self.keep_audio / re.sub(r"[^\w.-]+", "_", self.source_id)
        folder.mkdir(parents=True, exist_ok=True)
        name = row.start.strftime("%Y%m%dT%H%M%S.%f")[:-3] + "Z.flac"
        sf.write(folder / name, utterance.samples, SAMPLE_RATE, subtype="PCM_16", format="FLAC")
