"""A NAO robot's front microphone, streamed live over NAOqi, that reconnects by itself.

How a NAO streams audio (ALAudioDevice): the client registers a service of its own on the robot's session,
asks ``ALAudioDevice.setClientPreferences(name, 16000, 3, 0)`` (16 kHz, front microphone, interleaving
irrelevant for one channel), and ``subscribe(name)``; the robot then calls the service's
``processRemote(nbOfChannels, nbOfSamplesByChannel, timeStamp, inputBuffer)`` with each buffer (about
170 ms of int16 samples, ``timeStamp`` = [seconds, microseconds]) over the client's own connection, so the
robot never has to reach the client. The callback's signature is declared (``qi.bind``): undeclared, qi
hands Python the buffer as a ``str`` of the wrong length and the samples are corrupt.

A connection thread owns the qi session: connect, register, subscribe, then wait until the session drops,
no buffer has come for ``stall_timeout`` s (a robot gone off the network leaves a half-open connection that
never reports itself), or stop; on loss it reports ``disconnected`` and tries again with backoff
(``reconnect_min`` doubling up to ``reconnect_max``), under a new service name each time (the robot may
still hold the old one), and reports ``reconnected`` once audio is subscribed again. A clean stop
unsubscribes. Buffers go from qi's thread through a bounded mailbox to ``chunks()``; bad buffers are
counted, logged and skipped, never fatal.

Capture times: a timestamp after 2001 is taken as the robot's POSIX clock; a smaller one as a clock since
boot, anchored to this machine's clock at the first buffer of each connection. Either way consecutive
buffers keep the robot's own spacing, and a forward jump of more than ``GAP_TOLERANCE_S`` is reported as a
``gap`` (audio lost upstream).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator

import numpy as np

from speech_emotion.audio import SAMPLE_RATE
from speech_emotion.monitor.sources.base import (
    DEFAULT_QUEUE_CHUNKS,
    AudioChunk,
    EventKind,
    Mailbox,
    Source,
    SourceEvent,
    drain,
)
from speech_emotion.robot.session import close_quietly, connect, one_line, qi, robot_url

log = logging.getLogger(__name__)

FRONT_MICROPHONE = 3  # ALAudioDevice channel flag: 0 all four, 1 left, 2 right, 3 front, 4 rear
INTERLEAVED = 0  # ALAudioDevice deinterleave flag (meaningless for a single channel)
POSIX_AFTER = 1_000_000_000  # seconds: timestamps beyond this (2001-09-09) are wall-clock, below it since boot
GAP_TOLERANCE_S = 0.05
REPORT_INTERVAL_S = 60.0  # bad buffers: one log line and event per interval, with a count


class NaoSource(Source):
    def __init__(
        self,
        address: str,
        *,
        client_name: str = "SpeechEmotionMonitor",
        max_queue_chunks: int = DEFAULT_QUEUE_CHUNKS,
        connect_timeout: float = 5.0,
        stall_timeout: float = 10.0,
        reconnect_min: float = 0.5,
        reconnect_max: float = 5.0,
        source_id: str | None = None,
        on_event: Callable[[SourceEvent], None] | None = None,
    ):
        self.url = robot_url(address)
        super().__init__(source_id or f"nao:{self.url.split('://', 1)[1]}", on_event)
        self.client_name = client_name
        self.max_queue_chunks = max_queue_chunks
        self.connect_timeout = connect_timeout
        self.stall_timeout = stall_timeout
        self.reconnect_min = reconnect_min
        self.reconnect_max = reconnect_max

    def chunks(self, stop: threading.Event) -> Iterator[AudioChunk]:
        mailbox = Mailbox(self, self.max_queue_chunks)
        halt = threading.Event()
        link = threading.Thread(target=self._keep_linked, args=(mailbox, halt), name=self.source_id, daemon=True)
        link.start()
        try:
            yield from drain(self, mailbox, stop)
        finally:
            halt.set()
            link.join()
            while (item := mailbox.get(0)) is not None:  # events of the last moments (the audio ends with us)
                if isinstance(item, SourceEvent):
                    self._deliver(item)

    # the connection thread

    def _keep_linked(self, mailbox: Mailbox, halt: threading.Event) -> None:
        delay, down_since, ever_up, warned = self.reconnect_min, time.time(), False, False
        while not halt.is_set():
            try:
                link = _Link(self, mailbox)
            except Exception as e:  # whatever fails, the link thread must live on and retry
                if not warned:  # once per outage; the retries go on quietly
                    log.warning("%s: %s; retrying every %g s at most", self.source_id, one_line(e), self.reconnect_max)
                    if not ever_up:
                        mailbox.put_event(self._event(EventKind.DISCONNECTED, f"cannot reach the robot: {one_line(e)}"))
                    warned = True
                if halt.wait(delay):
                    return
                delay = min(delay * 2, self.reconnect_max)
                continue
            if ever_up:  # the audio lost: from the last buffer the old link brought to this subscription
                self._count("reconnects")
                lost = time.time() - down_since
                detail = f"audio subscribed again after {lost:.1f} s without it"
                mailbox.put_event(self._event(EventKind.RECONNECTED, detail, lost_seconds=lost))
            else:
                mailbox.put_event(self._event(EventKind.CONNECTED, f"subscribed to {self.url} as {link.name}"))
            ever_up, warned, delay = True, False, self.reconnect_min
            reason = link.wait(halt, self.stall_timeout)
            link.close()
            if reason is None:
                return
            down_since = link.last_heard
            mailbox.put_event(self._event(EventKind.DISCONNECTED, reason))


class _Link:
    """One connection to the robot: a session, our audio service on it, and the ALAudioDevice subscription."""

    def __init__(self, source: NaoSource, mailbox: Mailbox):
        self.source = source
        self.mailbox = mailbox
        self.name = f"{source.client_name}_{uuid.uuid4().hex[:8]}"
        self.last_buffer = time.monotonic()
        self.last_heard = time.time()  # wall-clock time of the last buffer: where lost audio starts
        self.lost = threading.Event()
        self.lost_reason = ""
        self.open = True
        self.decoder = _Decoder(source, mailbox)
        self.session = connect(source.url, source.connect_timeout)
        try:
            self.session.disconnected.connect(self._on_disconnected)
            timeout_ms = int(source.connect_timeout * 1000)
            self.session.registerService(self.name, _AudioService(self._on_buffer))
            self.audio = self.session.service("ALAudioDevice", _async=True).value(timeout_ms)
            prefs = (self.name, SAMPLE_RATE, FRONT_MICROPHONE, INTERLEAVED)
            self.audio.setClientPreferences(*prefs, _async=True).value(timeout_ms)
            self.audio.subscribe(self.name, _async=True).value(timeout_ms)
        except Exception:
            self.open = False
            close_quietly(self.session)
            raise

    def wait(self, halt: threading.Event, stall_timeout: float) -> str | None:
        """Why the link ended ("connection lost", "no audio for ..."), or None when halted."""
        while not halt.wait(0.2):
            if self.lost.is_set():
                return f"connection lost ({self.lost_reason})"
            silent = time.monotonic() - self.last_buffer
            if silent > stall_timeout:
                return f"no audio for {silent:.0f} s"
        return None

    def close(self) -> None:
        """Unsubscribe if the robot is still there (a clean stop, or a stalled stream), then close."""
        self.open = False
        if self.session.isConnected():
            try:
                self.audio.unsubscribe(self.name, _async=True).value(2000)
            except RuntimeError as e:
                log.warning("%s: could not unsubscribe %s (%s)", self.source.source_id, self.name, one_line(e))
        close_quietly(self.session)

    def _on_disconnected(self, reason: str) -> None:
        self.lost_reason = reason or "no reason given"
        self.lost.set()

    def _on_buffer(self, channels: int, samples: int, timestamp: list[int], buffer: bytearray) -> None:
        received = time.time()
        self.last_buffer, self.last_heard = time.monotonic(), received
        if not self.open:
            return
        try:
            chunk = self.decoder.decode(channels, samples, timestamp, bytes(buffer), received)
        except BadBuffer as e:
            self.source._count("bad_buffers")
            self.decoder.report(e.kind, f"buffer skipped: {e}", event=True)
            return
        except Exception:  # anything unforeseen in a buffer must not stop the stream (nor reach the robot)
            self.source._count("bad_buffers")
            log.exception("%s: buffer skipped", self.source.source_id)
            return
        self.mailbox.put_chunk(chunk)


class _AudioService:
    """The service ALAudioDevice calls back; only ``processRemote`` is public, so only it is bound."""

    def __init__(self, handler: Callable[[int, int, list[int], bytearray], None]):
        self._handler = handler

    @qi.bind(qi.Void, [qi.Int32, qi.Int32, qi.List(qi.Int32), qi.Buffer])
    def processRemote(self, nbOfChannels, nbOfSamplesByChannel, timeStamp, inputBuffer):
        self._handler(nbOfChannels, nbOfSamplesByChannel, timeStamp, inputBuffer)


class BadBuffer(ValueError):
    """A buffer that cannot be read as 16-bit mono samples; ``kind`` groups reports of the same problem."""

    def __init__(self, kind: str, message: str):
        self.kind = kind
        super().__init__(message)


class _Decoder:
    """Buffers of one connection to chunks: checks, int16 to float32, robot timestamps to POSIX seconds."""

    def __init__(self, source: NaoSource, mailbox: Mailbox):
        self.source = source
        self.mailbox = mailbox
        self.boot_offset: float | None = None  # POSIX minus robot time, for a since-boot clock
        self.expected: float | None = None  # where the next buffer should start
        self._reports: dict[str, tuple[float, int]] = {}

    def decode(self, channels: int, declared: int, timestamp: list[int], raw: bytes, received: float) -> AudioChunk:
        if channels != 1:
            raise BadBuffer("channels", f"{channels} channels, expected 1 (the front microphone)")
        if not raw:
            raise BadBuffer("empty", "no samples")
        if len(raw) % 2:
            raise BadBuffer("odd_bytes", f"{len(raw)} bytes, not a whole number of 16-bit samples")
        pcm = np.frombuffer(raw, dtype="<i2")
        if declared != len(pcm):
            self.source._count("size_mismatches")
            self.report("size", f"buffer declares {declared} samples but carries {len(pcm)}; kept what it carries")
        clipped = int(np.count_nonzero((pcm == 32767) | (pcm == -32768)))
        if clipped:
            self.source._count("clipped_samples", clipped)
            self.report("clipping", f"{clipped} of {len(pcm)} samples at full scale (the input clips)")
        duration = len(pcm) / SAMPLE_RATE
        start = self._start(timestamp, received - duration)
        if self.expected is not None and start - self.expected > GAP_TOLERANCE_S:
            lost = start - self.expected
            self.source._count("gaps")
            self.source._count("gap_seconds", lost)
            self.mailbox.put_event(self.source._event(EventKind.GAP, "the robot's timestamps skip forward", lost))
        self.expected = start + duration
        return AudioChunk(pcm.astype(np.float32) / np.float32(32768.0), start, self.source.source_id)

    def _start(self, timestamp: list[int], fallback: float) -> float:
        """The buffer's capture time in POSIX seconds from NAOqi's [seconds, microseconds]."""
        if len(timestamp) != 2 or not 0 <= timestamp[1] < 1_000_000 or timestamp[0] < 0:
            self.source._count("bad_timestamps")
            detail = f"timestamp {list(timestamp)!r} is not [seconds, microseconds]; placed after the previous buffer"
            self.report("timestamp", detail)
            return self.expected if self.expected is not None else fallback
        robot_time = timestamp[0] + timestamp[1] / 1e6
        if robot_time >= POSIX_AFTER:
            return robot_time
        if self.boot_offset is None:
            self.boot_offset = fallback - robot_time
        return robot_time + self.boot_offset

    def report(self, what: str, detail: str, event: bool = False) -> None:
        """Log (and with ``event``, report as an event) the first problem of a kind, then one per interval."""
        now = time.monotonic()
        last, count = self._reports.get(what, (-REPORT_INTERVAL_S, 0))
        if now - last < REPORT_INTERVAL_S:
            self._reports[what] = (last, count + 1)
            return
        self._reports[what] = (now, 0)
        detail = f"{detail} (+{count} more since the last report)" if count else detail
        log.warning("%s: %s", self.source.source_id, detail)
        if event:
            self.mailbox.put_event(self.source._event(EventKind.BAD_AUDIO, detail))
