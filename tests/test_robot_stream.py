"""NaoSource against the simulated robot in its own process, over a real qi connection on loopback."""

from __future__ import annotations

import socket
import threading
import time

import numpy as np
import pytest

from robot_helpers import NaoSim, Reader, pcm_of, wait_until, write_pcm16
from speech_emotion.monitor.sources.base import EventKind
from speech_emotion.monitor.sources.nao import NaoSource


@pytest.fixture
def audio(tmp_path):
    path = tmp_path / "speech.wav"
    return path, write_pcm16(path, seconds=3.0)


@pytest.fixture
def start_sim(audio, tmp_path):
    sims = []

    def start(*args: str, url: str | None = None) -> NaoSim:
        sim = NaoSim(audio[0], tmp_path, *args)
        if url is not None:
            sim.url = url
        sims.append(sim)
        sim.start()
        return sim

    yield start
    for sim in sims:
        sim.stop()


@pytest.fixture
def read():
    readers = []

    def read(source: NaoSource) -> Reader:
        readers.append(Reader(source))
        return readers[-1]

    yield read
    for reader in readers:
        reader.close()


def test_samples_arrive_bit_identical_with_the_robots_timeline(audio, start_sim, read):
    _, pcm = audio
    sim = start_sim("--speed", "8", "--start", "2023-11-14T22:13:20Z")  # 1 700 000 000 s
    reader = read(NaoSource(sim.url))
    wait_until(lambda: reader.samples() >= len(pcm), 20, "the whole file")

    assert np.array_equal(pcm_of(reader.chunks), pcm)
    sizes = [len(c.samples) for c in reader.chunks]
    assert sizes[:-1] == [2730] * (len(sizes) - 1) and sizes[-1] == len(pcm) - 2730 * (len(sizes) - 1)
    # the robot's timestamps (in microseconds) give the audio's own time, whatever the playing speed
    starts = np.array([c.start for c in reader.chunks]) - 1_700_000_000
    assert np.allclose(starts, np.arange(len(sizes)) * 2730 / 16000, atol=1e-6)
    assert reader.kinds() == [EventKind.CONNECTED]

    name = sim.calls("ALAudioDevice", "subscribe")[0]["args"][0]
    assert sim.calls("ALAudioDevice", "setClientPreferences")[0]["args"] == [name, 16000, 3, 0]
    reader.close()
    assert sim.calls("ALAudioDevice", "unsubscribe")[0]["args"] == [name]  # a clean stop lets the robot go


def test_reconnects_by_itself_when_the_robot_restarts_mid_stream(start_sim, read):
    sim = start_sim("--loop", "--speed", "4")
    reader = read(NaoSource(sim.url, reconnect_min=0.2, reconnect_max=0.5))
    wait_until(lambda: len(reader.chunks) >= 3, 10, "audio from the first robot")

    sim.kill()
    wait_until(lambda: EventKind.DISCONNECTED in reader.kinds(), 10, "the disconnection to be reported")
    before_restart = len(reader.chunks)
    restarted = start_sim("--loop", "--speed", "4", url=sim.url)  # the same address, a new robot process
    wait_until(lambda: EventKind.RECONNECTED in reader.kinds(), 15, "the reconnection")
    wait_until(lambda: len(reader.chunks) >= before_restart + 3, 10, "audio from the restarted robot")

    assert reader.kinds()[:3] == [EventKind.CONNECTED, EventKind.DISCONNECTED, EventKind.RECONNECTED]
    assert "connection lost" in reader.events[1].detail
    outage = reader.events[2].time - reader.events[1].time  # from noticing the loss to the new subscription
    assert outage < reader.events[2].lost_seconds < outage + 5  # plus the moments before the loss was noticed
    assert reader.source.metrics()["reconnects"] == 1
    names = [c["args"][0] for c in sim.calls("ALAudioDevice", "subscribe")]
    assert len(names) == 2 and names[0] != names[1]  # a fresh service name: the robot may still hold the old one
    assert restarted.calls("ALAudioDevice", "subscribe")


def test_a_robot_that_stops_sending_is_treated_as_lost(start_sim, read):
    sim = start_sim("--speed", "8")  # plays the file once, then its microphone is silent for good
    reader = read(NaoSource(sim.url, stall_timeout=1.0, reconnect_min=0.2))
    wait_until(lambda: EventKind.RECONNECTED in reader.kinds(), 15, "a resubscription after the silence")

    assert reader.kinds()[:3] == [EventKind.CONNECTED, EventKind.DISCONNECTED, EventKind.RECONNECTED]
    assert "no audio for" in reader.events[1].detail
    assert reader.events[2].lost_seconds > 1.0  # the silence that made it a loss is audio lost too


def test_a_robot_that_is_not_there_yet_is_reported_and_waited_for(start_sim, read):
    with socket.socket() as s:  # a free port that nothing listens on, yet
        s.bind(("127.0.0.1", 0))
        url = f"tcp://127.0.0.1:{s.getsockname()[1]}"
    reader = read(NaoSource(url, reconnect_min=0.2, reconnect_max=0.5))
    wait_until(lambda: reader.events, 10, "the unreachable robot to be reported")
    assert reader.events[0].kind == EventKind.DISCONNECTED and "cannot reach the robot" in reader.events[0].detail

    start_sim("--loop", url=url)
    wait_until(lambda: reader.chunks, 15, "audio once the robot is up")
    assert reader.kinds() == [EventKind.DISCONNECTED, EventKind.CONNECTED]


def test_a_consumer_that_falls_behind_loses_audio_loudly_not_silently(audio, start_sim):
    _, pcm = audio
    sim = start_sim("--speed", "16")
    events = []
    source = NaoSource(sim.url, max_queue_chunks=3, on_event=events.append)
    stop = threading.Event()
    safety = threading.Timer(15, stop.set)
    safety.start()
    stream = source.chunks(stop)
    try:
        chunks = [next(stream)]
        time.sleep(1.5)  # the rest of the file (0.2 s at 16x) arrives while the consumer is busy
        for chunk in stream:
            chunks.append(chunk)
            dropped = round(source.metrics().get("dropped_seconds", 0) * 16000)
            if sum(len(c.samples) for c in chunks) + dropped >= len(pcm):
                break
    finally:
        stream.close()
        safety.cancel()

    overrun = [e for e in events if e.kind == EventKind.OVERRUN]
    metrics = source.metrics()
    assert len(overrun) == 1 and overrun[0].lost_seconds == pytest.approx(metrics["dropped_seconds"])
    assert metrics["dropped_chunks"] > 0 and metrics["queue_peak"] == 3
    assert len(chunks) == 4  # the one taken, then the three that waited
    assert np.array_equal(pcm_of(chunks), pcm[: 4 * 2730])
