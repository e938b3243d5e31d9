"""RobotClient and the simulated robot's services, over real qi connections on loopback (simulator in-process)."""

from __future__ import annotations

import json
import logging
import time

import numpy as np
import pytest

from robot_helpers import Reader, pcm_of, wait_until
from speech_emotion.monitor.sources.nao import NaoSource
from speech_emotion.robot.client import RobotClient, parse_colour
from speech_emotion.robot.session import connect, qi
from speech_emotion.robot.simulator import Simulator

PCM = np.random.default_rng(0).integers(-3000, 3000, 4000).astype(np.int16)


@pytest.fixture
def robots():
    """Start simulated robots (``robots(listen)``); all are closed afterwards."""
    started = []

    def start(listen: str = "tcp://127.0.0.1:0", **options) -> Simulator:
        started.append(Simulator(PCM, listen=listen, **options))
        started[-1].start()
        return started[-1]

    yield start
    for robot in started:
        robot.close()


@pytest.fixture
def session():
    sessions = []

    def open_session(url: str) -> qi.Session:
        sessions.append(connect(url, timeout=5))
        return sessions[-1]

    yield open_session
    for s in sessions:
        s.close()


def test_led_colours_and_speech_reach_the_robot(robots, session):
    robot = robots()
    with RobotClient(robot.url) as client:
        assert client.set_led_colour("#FF2000") is True  # what the monitor's reactions send
        assert client.set_led_colour("blue", group="ChestLeds", duration=0.0) is True
        assert client.say("I am here with you.") is True
        wait_until(lambda: any(c["method"] == "say" for c in robot.calls()), 5, "the sentence")

    calls = [(c["service"], c["method"], c["args"]) for c in robot.calls()]
    assert calls[0] == ("ALLeds", "fadeRGB", ["FaceLeds", 0xFF2000, pytest.approx(0.3)])
    assert calls[1] == ("ALLeds", "fadeRGB", ["ChestLeds", 0x0000FF, 0.0])
    assert calls[2] == ("ALTextToSpeech", "say", ["I am here with you."])

    observer = session(robot.url)
    memory = observer.service("ALMemory")
    assert memory.getData("ALTextToSpeech/CurrentSentence") == "I am here with you."
    wait_until(lambda: memory.getData("ALTextToSpeech/TextDone") == 1, 10, "the end of the sentence")
    assert json.loads(observer.service("SimulatorControl").calls())[:3] == json.loads(json.dumps(robot.calls()[:3]))


def test_say_returns_while_the_robot_is_still_speaking(robots, session):
    """The monitor must not stall while the robot talks: say hands the sentence over and returns."""
    robot = robots()
    memory = session(robot.url).service("ALMemory")
    sentence = "I am here with you, and I will stay with you for a little while."  # 5.6 s on the robot
    with RobotClient(robot.url) as client:
        assert client.say(sentence) is True
        try:
            done_when_say_returned = memory.getData("ALTextToSpeech/TextDone")
        except RuntimeError:  # the robot has not started on it yet
            done_when_say_returned = None
        assert done_when_say_returned != 1
        wait_until(lambda: memory.getData("ALTextToSpeech/CurrentSentence") == sentence, 5, "the sentence")
        wait_until(lambda: memory.getData("ALTextToSpeech/TextDone") == 1, 15, "the end of the sentence")


def test_a_vanished_robot_is_logged_not_raised_and_found_again(robots, caplog):
    caplog.set_level(logging.WARNING, logger="speech_emotion.robot")
    robot = robots()
    url = robot.url
    client = RobotClient(url, retry_interval=0.2, connect_timeout=1.0)
    try:
        assert client.set_led_colour("white") is True
        robot.close()
        assert client.set_led_colour("red") is False
        assert client.say("Hello?") is False
        # the loss shows either as the session's disconnection or as the call failing, whichever qi sees first
        assert "connection to the robot lost" in caplog.text or "fadeRGB failed" in caplog.text
        assert "cannot connect" in caplog.text

        back = robots(listen=url)  # the robot comes back on the same address
        wait_until(lambda: client.set_led_colour("green"), 5, "the client to find the robot again")
        assert client.say("Back again.") is True
        wait_until(lambda: any(c["method"] == "say" for c in back.calls()), 5, "the sentence")
        assert [c["args"][1] for c in back.calls() if c["method"] == "fadeRGB"] == [0x00FF00]
    finally:
        client.close()


@pytest.mark.parametrize(
    ("colour", "rgb"),
    [("#ff2000", 0xFF2000), ("0x0040FF", 0x0040FF), ("ffffff", 0xFFFFFF), ("Magenta", 0xFF00FF), (0x123456, 0x123456)],
)
def test_colours(colour, rgb):
    assert parse_colour(colour) == rgb


@pytest.mark.parametrize("colour", ["#12345", "purple", "#GG0000", 0x1000000, -1, True, None])
def test_bad_colours_are_refused_before_any_call(colour):
    with pytest.raises(ValueError, match="expected #RRGGBB"):
        parse_colour(colour)


def test_the_simulator_refuses_what_it_does_not_serve(robots, session):
    audio = session(robots().url).service("ALAudioDevice")
    with pytest.raises(RuntimeError, match="16000 Hz only"):
        audio.setClientPreferences("Client", 48000, 0, 0)  # a NAO's default four-channel 48 kHz stream
    with pytest.raises(RuntimeError, match="setClientPreferences"):
        audio.subscribe("Client")
    with pytest.raises(RuntimeError, match="not subscribed"):
        audio.unsubscribe("Client")


def test_a_looping_microphone_wraps_around_on_one_timeline(robots):
    robot = robots(loop=True, speed=8.0)
    before = time.time()
    reader = Reader(NaoSource(robot.url))
    try:
        wait_until(lambda: len(reader.chunks) >= 5, 10, "five buffers")
        assert robot.microphone.names() == [robot.calls()[-1]["args"][0]]
    finally:
        reader.close()
    received = pcm_of(reader.chunks)
    assert np.array_equal(received, np.resize(PCM, len(received)))  # the file again and again, seamlessly
    assert np.allclose(np.diff([c.start for c in reader.chunks]), 2730 / 16000, atol=2e-6)
    assert before < reader.chunks[0].start < time.time()  # without a given start: when the microphone started
