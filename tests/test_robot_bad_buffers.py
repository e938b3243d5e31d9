"""NaoSource survives what a misbehaving robot sends: each bad buffer is logged, counted, and skipped or kept.

The robot here is a qi session in this process whose ALAudioDevice sends buffers the test writes by hand,
over a real qi connection on loopback.
"""

from __future__ import annotations

import logging
import threading
import time

import numpy as np
import pytest

from robot_helpers import Reader, pcm_of, wait_until
from speech_emotion.monitor.sources.base import EventKind
from speech_emotion.monitor.sources.nao import NaoSource
from speech_emotion.robot.session import qi

N = 2730
STEP = N / 16000
T0 = 1_700_000_000.0


class RogueAudioDevice:
    """An ALAudioDevice that sends nothing by itself: the test pushes buffers to the subscriber."""

    def __init__(self, session: qi.Session):
        self._session = session
        self._subscribed = threading.Event()
        self._subscriber = ""

    @qi.bind(qi.Void, [qi.String, qi.Int32, qi.Int32, qi.Int32])
    def setClientPreferences(self, name, sampleRate, channels, deinterleaved):
        pass

    @qi.bind(qi.Void, [qi.String])
    def subscribe(self, name):
        self._subscriber = name
        self._subscribed.set()

    @qi.bind(qi.Void, [qi.String])
    def unsubscribe(self, name):
        pass

    @qi.nobind
    def send(self, channels: int, samples: int, timestamp: list[int], payload: bytes) -> None:
        assert self._subscribed.wait(10), "nobody subscribed"
        self._session.service(self._subscriber).processRemote(channels, samples, timestamp, payload)


@pytest.fixture
def rogue():
    session = qi.Session()
    session.listenStandalone(["tcp://127.0.0.1:0"])
    device = RogueAudioDevice(session)
    session.registerService("ALAudioDevice", device)
    yield str(session.endpoints()[0]), device
    session.close()


@pytest.fixture
def reader(rogue):
    reader = Reader(NaoSource(rogue[0]))
    yield reader
    reader.close()


def stamp(t: float) -> list[int]:
    return [int(t), round((t - int(t)) * 1e6)]


def quiet(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(-1000, 1000, N).astype(np.int16)


def test_bad_buffers_are_logged_counted_and_survived(rogue, reader, caplog):
    _, robot = rogue
    caplog.set_level(logging.WARNING, logger="speech_emotion.monitor.sources")
    good, mismatched, badly_stamped, after_gap, last = (quiet(i) for i in range(5))
    loud = np.full(N, 32767, np.int16)
    robot.send(1, N, stamp(T0), good.tobytes())
    robot.send(1, N, stamp(T0 + STEP), good.tobytes()[:-1])  # odd byte count: skipped
    robot.send(4, 100, stamp(T0 + STEP), np.zeros(400, np.int16).tobytes())  # four channels: skipped
    robot.send(1, N, stamp(T0 + STEP), b"")  # nothing: skipped
    robot.send(1, 999, stamp(T0 + STEP), mismatched.tobytes())  # wrong declared size: kept as carried
    robot.send(1, N, stamp(T0 + 2 * STEP), loud.tobytes())  # clipping: kept, counted
    robot.send(1, N, [5], badly_stamped.tobytes())  # broken timestamp: kept, placed where expected
    robot.send(1, N, stamp(T0 + 4 * STEP + 1.0), after_gap.tobytes())  # one second missing upstream
    robot.send(1, N, stamp(T0 + 5 * STEP + 1.0), last.tobytes())
    wait_until(lambda: len(reader.chunks) >= 6, 10, "the usable buffers")

    kept = [good, mismatched, loud, badly_stamped, after_gap, last]
    assert len(reader.chunks) == len(kept)
    assert np.array_equal(pcm_of(reader.chunks), np.concatenate(kept))
    starts = [c.start - T0 for c in reader.chunks]
    assert starts == pytest.approx([0, STEP, 2 * STEP, 3 * STEP, 4 * STEP + 1.0, 5 * STEP + 1.0], abs=2e-6)
    metrics = reader.source.metrics()
    assert metrics["bad_buffers"] == 3 and metrics["size_mismatches"] == 1 and metrics["bad_timestamps"] == 1
    assert metrics["clipped_samples"] == N and metrics["gaps"] == 1
    assert metrics["gap_seconds"] == pytest.approx(1.0, abs=1e-5)

    wait_until(lambda: EventKind.GAP in reader.kinds(), 5, "the gap event")
    bad = [e.detail for e in reader.events if e.kind == EventKind.BAD_AUDIO]
    assert len(bad) == 3
    assert "16-bit samples" in bad[0] and "4 channels" in bad[1] and "no samples" in bad[2]
    gap = next(e for e in reader.events if e.kind == EventKind.GAP)
    assert gap.lost_seconds == pytest.approx(1.0, abs=1e-5)
    logged = caplog.text
    assert "declares 999 samples but carries 2730" in logged and "at full scale" in logged
    assert "is not [seconds, microseconds]" in logged


def test_a_clock_since_boot_is_anchored_to_this_machines_clock(rogue, reader):
    _, robot = rogue
    before = time.time()
    robot.send(1, N, [100, 0], quiet(0).tobytes())
    robot.send(1, N, stamp(100 + STEP), quiet(1).tobytes())
    wait_until(lambda: len(reader.chunks) >= 2, 10, "two buffers")

    first, second = reader.chunks
    assert before - 1 < first.start < time.time()
    assert second.start - first.start == pytest.approx(STEP, abs=2e-6)
