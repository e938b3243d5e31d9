"""What every audio source gives the monitor: 16 kHz mono chunks stamped with their capture time, and events.

The contract, for the monitor and for any new source:

- ``source.chunks(stop)`` is a blocking generator of :class:`AudioChunk` in capture order. It returns when
  ``stop`` is set, or when the source has nothing more (the end of a file source; live sources only end on
  ``stop``). Close the generator (leave the ``for`` loop, or use ``contextlib.closing``) to release the
  device or robot session: its ``finally`` does the clean-up (a NAO source unsubscribes).
- Things the monitor should store happen as :class:`SourceEvent` (``connected``, ``disconnected``,
  ``reconnected``, ``overrun``, ``gap``, ``bad_audio``): each is logged by the source and handed to
  ``source.on_event``, which is called from inside ``chunks()``, so on the consumer's own thread and in order
  with the chunks: a consumer can store events without locks.
- ``source.metrics()`` is a snapshot of counters (chunks, seconds, dropped audio, ...) for logs and benchmarks.

Audio is never dropped silently: a live source whose consumer falls behind keeps at most ``max_queue_chunks``
chunks waiting, then refuses new ones, counts them (``dropped_chunks``, ``dropped_seconds``) and reports one
``overrun`` event per episode with the seconds lost.
"""

from __future__ import annotations

import logging
import threading
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum

from speech_emotion.audio import TimedAudio
from speech_emotion.errors import SpeechEmotionError

log = logging.getLogger(__name__)

DEFAULT_QUEUE_CHUNKS = 1024  # about 3 min of audio waiting for a slow consumer before any is refused


class SourceError(SpeechEmotionError):
    """A source that cannot start (no device, bad path, bad robot address): ``"<what>: <reason>"``."""

    def __init__(self, what: object, reason: str):
        self.what = str(what)
        self.reason = reason
        super().__init__(f"{self.what}: {reason}")


@dataclass(frozen=True)
class AudioChunk(TimedAudio):
    """Consecutive samples from a source, as it delivered them."""

    source_id: str


class EventKind(StrEnum):
    CONNECTED = "connected"  # a live source delivers audio for the first time
    DISCONNECTED = "disconnected"  # the robot or device went away; the source keeps trying to get it back
    RECONNECTED = "reconnected"  # audio flows again after a disconnection
    OVERRUN = "overrun"  # audio lost because the consumer (or the sound card) fell behind; lost_seconds says how much
    GAP = "gap"  # the robot's own timestamps skip forward: audio lost before it reached us
    BAD_AUDIO = "bad_audio"  # a buffer or file that could not be used as it was (detail says why)


@dataclass(frozen=True)
class SourceEvent:
    kind: EventKind
    time: float  # POSIX seconds, when the source noticed
    source_id: str
    detail: str = ""
    lost_seconds: float = 0.0

    def __str__(self) -> str:
        lost = f" ({self.lost_seconds:.2f} s of audio lost)" if self.lost_seconds else ""
        return f"{self.source_id}: {self.kind}{': ' + self.detail if self.detail else ''}{lost}"


_QUIET_EVENTS = {EventKind.CONNECTED, EventKind.RECONNECTED}


class Source(ABC):
    """Base of every source: identity, event delivery and metrics."""

    def __init__(self, source_id: str, on_event: Callable[[SourceEvent], None] | None = None):
        self.source_id = source_id
        self.on_event = on_event
        self._metrics: dict[str, float] = {"chunks": 0, "seconds": 0.0}
        self._metrics_lock = threading.Lock()

    @abstractmethod
    def chunks(self, stop: threading.Event) -> Iterator[AudioChunk]:
        """Yield chunks in capture order until ``stop`` is set or the source ends."""

    def metrics(self) -> dict[str, float]:
        with self._metrics_lock:
            return dict(self._metrics)

    def _count(self, name: str, amount: float = 1) -> None:
        with self._metrics_lock:
            self._metrics[name] = self._metrics.get(name, 0) + amount

    def _peak(self, name: str, value: float) -> None:
        with self._metrics_lock:
            self._metrics[name] = max(self._metrics.get(name, 0), value)

    def _event(self, kind: EventKind, detail: str = "", lost_seconds: float = 0.0) -> SourceEvent:
        return SourceEvent(kind, time.time(), self.source_id, detail, lost_seconds)

    def _deliver(self, event: SourceEvent) -> None:
        """Log the event and hand it to ``on_event`` (call only from the consumer's thread, inside chunks())."""
        log.log(logging.INFO if event.kind in _QUIET_EVENTS else logging.WARNING, "%s", event)
        if self.on_event is not None:
            self.on_event(event)

    def _delivered(self, chunk: AudioChunk) -> AudioChunk:
        self._count("chunks")
        self._count("seconds", chunk.duration)
        return chunk


class Mailbox:
    """The hand-off from a producer thread (a qi or PortAudio callback) to ``chunks()`` on the consumer's thread.

    Holds at most ``max_chunks`` chunks: beyond that a chunk is refused and counted, never queued without
    bound, and the next ``get`` reports the loss as one ``overrun`` event. Events always get through.
    """

    def __init__(self, source: Source, max_chunks: int = DEFAULT_QUEUE_CHUNKS):
        if max_chunks < 1:
            raise ValueError(f"max_chunks must be at least 1, not {max_chunks}")
        self._source = source
        self._max_chunks = max_chunks
        self._items: deque[AudioChunk | SourceEvent] = deque()
        self._chunks = 0
        self._lost_chunks = 0  # refused since the last overrun report
        self._lost_seconds = 0.0
        self._ready = threading.Condition()

    def put_chunk(self, chunk: AudioChunk) -> bool:
        """Queue a chunk; False (counted, reported later) when the consumer is ``max_chunks`` behind."""
        with self._ready:
            if self._chunks >= self._max_chunks:
                if self._lost_chunks == 0:
                    log.warning(
                        "%s: consumer %d chunks behind; refusing audio until it catches up",
                        self._source.source_id,
                        self._chunks,
                    )
                self._lost_chunks += 1
                self._lost_seconds += chunk.duration
                self._source._count("dropped_chunks")
                self._source._count("dropped_seconds", chunk.duration)
                return False
            self._items.append(chunk)
            self._chunks += 1
            self._source._peak("queue_peak", self._chunks)
            self._ready.notify()
            return True

    def put_event(self, event: SourceEvent) -> None:
        with self._ready:
            self._items.append(event)
            self._ready.notify()

    def get(self, timeout: float) -> AudioChunk | SourceEvent | None:
        """The next item in order, an overrun report if audio was refused, or None after ``timeout`` s."""
        with self._ready:
            if not self._items and self._lost_chunks == 0:
                self._ready.wait(timeout)
            if self._lost_chunks and self._chunks < self._max_chunks:
                lost, seconds = self._lost_chunks, self._lost_seconds
                self._lost_chunks, self._lost_seconds = 0, 0.0
                detail = f"consumer fell behind: {lost} chunks refused"
                return self._source._event(EventKind.OVERRUN, detail, lost_seconds=seconds)
            if not self._items:
                return None
            item = self._items.popleft()
            if isinstance(item, AudioChunk):
                self._chunks -= 1
            return item

    def depth(self) -> int:
        with self._ready:
            return self._chunks


def drain(
    source: Source,
    mailbox: Mailbox,
    stop: threading.Event,
    alive: Callable[[], bool] = lambda: True,
    poll_s: float = 0.1,
) -> Iterator[AudioChunk]:
    """Yield a mailbox's chunks and deliver its events until ``stop`` is set or the producer is no longer alive."""
    while not stop.is_set() and (alive() or mailbox.depth()):
        item = mailbox.get(poll_s)
        if isinstance(item, SourceEvent):
            source._deliver(item)
        elif item is not None:
            yield source._delivered(item)
