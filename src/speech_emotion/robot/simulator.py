"""A simulated NAO: a standalone qi session that serves what the monitor uses of a robot, over a real network.

Services, with NAOqi's names and signatures:

- ``ALAudioDevice``: ``setClientPreferences(name, sampleRate, channels, deinterleaved)``, ``subscribe(name)``,
  ``unsubscribe(name)``, ``getSubscribers()``. The audio file plays as the robot's microphone: it starts at
  the first subscription and runs on one timeline that every subscriber shares (like a real microphone, a
  subscriber that leaves and comes back has missed what was said meanwhile). Each buffer of
  ``buffer_samples`` int16 samples (2730, 170 ms, by default) goes to each subscriber's
  ``processRemote(1, samples, [seconds, microseconds], buffer)`` once it has been "recorded", at real time
  times ``speed``; its timestamp is the capture time of its first sample, the stream start plus the position
  in the audio (so the timeline is the same at any speed; ``start`` fixes the stream start, which is
  otherwise the moment of the first subscription). Only what the monitor asks for is served: 16 kHz,
  one microphone (flags 1-4: left, right, front, rear all hear the file); other preferences are refused.
  Without ``loop`` the microphone stops at the end of the file, after a last, shorter buffer.
- ``ALTextToSpeech``: ``say(text)`` (returns when the sentence has been spoken, at 2.5 words a second, as on
  a robot; meanwhile ALMemory's ``ALTextToSpeech/CurrentSentence`` is the sentence, ``TextStarted`` 1 and
  ``TextDone`` 0, then 0 and 1), ``stopAll()``, ``setLanguage``/``getLanguage``.
- ``ALLeds``: ``fadeRGB(group, 0x00RRGGBB or colour name, duration)`` (returns after ``duration``, as on a
  robot), ``on(group)``, ``off(group)``.
- ``ALMemory``: ``getData(key)``, ``insertData(key, value)``.
- ``SimulatorControl``: ``calls()``, the calls received so far as JSON, for tests.

Every call received is recorded (time, service, method, arguments) in memory and, with ``calls_log``, as
one JSON line each in that file. Python's qi cannot type a value as a raw buffer itself, so the samples are
sent as bytes and qi converts them to the ``qi.Buffer`` that a subscriber which declares its callback
signature expects: such a subscriber gets exactly the int16 bytes a NAO sends. An undeclared callback would
get a ``str`` from this simulator (see docs/robot.md).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path

import numpy as np

from speech_emotion.audio import CHUNK_SAMPLES, SAMPLE_RATE
from speech_emotion.robot.client import COLOUR_NAMES, parse_colour
from speech_emotion.robot.session import RobotError, close_quietly, one_line, qi

log = logging.getLogger(__name__)

MAX_FAILURES = 30  # consecutive failed callbacks before a subscriber is dropped
CALLBACK_TIMEOUT_MS = 5000
MAX_FADE_S = 10.0
SAY_WORDS_PER_S = 2.5  # a NAO's default voice speaks about 150 words a minute
MAX_SAY_S = 10.0


class CallLog:
    """The calls the simulated robot received, in memory and optionally as JSON lines in a file."""

    def __init__(self, path: str | Path | None = None):
        self._calls: list[dict] = []
        self._lock = threading.Lock()
        try:
            self._file = open(path, "a", encoding="utf-8") if path is not None else None  # noqa: SIM115 (see close)
        except OSError as e:
            raise RobotError(path, f"cannot write the calls log ({e.strerror})") from e

    def record(self, service: str, method: str, *args) -> None:
        call = {"time": time.time(), "service": service, "method": method, "args": list(args)}
        with self._lock:
            self._calls.append(call)
            if self._file is not None:
                self._file.write(json.dumps(call, default=repr) + "\n")
                self._file.flush()
        log.info("%s.%s%r", service, method, tuple(args))

    def calls(self) -> list[dict]:
        with self._lock:
            return list(self._calls)

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None


class _Microphone:
    """The audio played as the robot's live microphone, delivered to the subscribers' ``processRemote``."""

    def __init__(
        self, session: qi.Session, pcm: np.ndarray, speed: float, loop: bool, buffer_samples: int, start: float | None
    ):
        self.session = session
        self.start = start
        self.pcm = pcm
        self.speed = speed
        self.loop = loop
        self.buffer_samples = buffer_samples
        self.subscribers: dict[str, dict] = {}  # name -> {"proxy": object | None, "failures": int}
        self.lock = threading.Lock()
        self.closed = threading.Event()
        self.thread: threading.Thread | None = None

    def add(self, name: str) -> None:
        with self.lock:
            if name in self.subscribers:
                raise RuntimeError(f"ALAudioDevice::subscribe: {name} is already subscribed")
            self.subscribers[name] = {"proxy": None, "failures": 0}
            if self.thread is None:
                self.thread = threading.Thread(target=self._play, name="nao-sim microphone", daemon=True)
                self.thread.start()

    def remove(self, name: str) -> None:
        with self.lock:
            if self.subscribers.pop(name, None) is None:
                raise RuntimeError(f"ALAudioDevice::unsubscribe: {name} is not subscribed")

    def names(self) -> list[str]:
        with self.lock:
            return list(self.subscribers)

    def close(self) -> None:
        self.closed.set()
        if self.thread is not None:
            self.thread.join()

    def _play(self) -> None:
        began, position = time.monotonic(), 0
        start_time = self.start if self.start is not None else time.time()
        while position < len(self.pcm) or self.loop:
            samples = self._samples(position)
            due = began + (position + len(samples)) / (SAMPLE_RATE * self.speed)
            if self.closed.wait(max(0.0, due - time.monotonic())):
                return
            self._send(samples, naoqi_timestamp(start_time + position / SAMPLE_RATE))
            position += len(samples)
        log.info("end of the audio after %.1f s: the microphone stops", position / SAMPLE_RATE)

    def _samples(self, position: int) -> np.ndarray:
        if self.loop:
            return self.pcm.take(np.arange(position, position + self.buffer_samples), mode="wrap")
        return self.pcm[position : position + self.buffer_samples]

    def _send(self, samples: np.ndarray, timestamp: list[int]) -> None:
        payload = samples.astype("<i2").tobytes()
        for name in self.names():
            with self.lock:
                state = self.subscribers.get(name)
            if state is None:
                continue
            try:
                if state["proxy"] is None:
                    state["proxy"] = self.session.service(name, _async=True).value(CALLBACK_TIMEOUT_MS)
                call = state["proxy"].processRemote(1, len(samples), timestamp, payload, _async=True)
                call.value(CALLBACK_TIMEOUT_MS)
                state["failures"] = 0
            except RuntimeError as e:
                state["proxy"] = None
                state["failures"] += 1
                if state["failures"] == 1:
                    log.warning("processRemote of %s failed (%s)", name, one_line(e))
                if state["failures"] >= MAX_FAILURES:
                    log.warning("dropping subscriber %s after %d failed callbacks", name, MAX_FAILURES)
                    with self.lock:
                        self.subscribers.pop(name, None)


def naoqi_timestamp(posix: float) -> list[int]:
    """POSIX seconds as NAOqi's [seconds, microseconds]."""
    seconds = int(posix)
    micros = round((posix - seconds) * 1e6)
    if micros == 1_000_000:
        seconds, micros = seconds + 1, 0
    return [seconds, micros]


class ALAudioDevice:
    def __init__(self, microphone: _Microphone, calls: CallLog):
        self._microphone = microphone
        self._calls = calls
        self._preferences: dict[str, tuple[int, int, int]] = {}

    @qi.bind(qi.Void, [qi.String, qi.Int32, qi.Int32, qi.Int32])
    def setClientPreferences(self, name, sampleRate, channels, deinterleaved):
        self._calls.record("ALAudioDevice", "setClientPreferences", name, sampleRate, channels, deinterleaved)
        if sampleRate != SAMPLE_RATE or channels not in (1, 2, 3, 4) or deinterleaved not in (0, 1):
            raise RuntimeError(
                f"ALAudioDevice::setClientPreferences({sampleRate}, {channels}, {deinterleaved}): nao-sim serves "
                f"one microphone at {SAMPLE_RATE} Hz only (channels 1-4: left, right, front, rear)"
            )
        self._preferences[name] = (sampleRate, channels, deinterleaved)

    @qi.bind(qi.Void, [qi.String])
    def subscribe(self, name):
        self._calls.record("ALAudioDevice", "subscribe", name)
        if name not in self._preferences:
            raise RuntimeError(
                f"ALAudioDevice::subscribe: call setClientPreferences({name!r}, {SAMPLE_RATE}, 3, 0) first "
                f"(nao-sim does not serve the default 48 kHz four-channel format)"
            )
        self._microphone.add(name)

    @qi.bind(qi.Void, [qi.String])
    def unsubscribe(self, name):
        self._calls.record("ALAudioDevice", "unsubscribe", name)
        self._microphone.remove(name)

    @qi.bind(qi.List(qi.String), [])
    def getSubscribers(self):
        return self._microphone.names()


class ALTextToSpeech:
    def __init__(self, memory: ALMemory, calls: CallLog):
        self._memory = memory
        self._calls = calls
        self._language = "English"
        self._voice = threading.Lock()

    @qi.bind(qi.Void, [qi.String])
    def say(self, text):
        self._calls.record("ALTextToSpeech", "say", text)
        with self._voice:  # one voice: a sentence asked for meanwhile waits for this one, as on a robot
            self._set_speaking(text, True)
            time.sleep(min(len(text.split()) / SAY_WORDS_PER_S, MAX_SAY_S))
            self._set_speaking(text, False)

    @qi.nobind
    def _set_speaking(self, text: str, speaking: bool) -> None:
        values = self._memory.values
        values["ALTextToSpeech/CurrentSentence"] = text
        values["ALTextToSpeech/TextStarted"], values["ALTextToSpeech/TextDone"] = (1, 0) if speaking else (0, 1)

    @qi.bind(qi.Void, [])
    def stopAll(self):
        self._calls.record("ALTextToSpeech", "stopAll")

    @qi.bind(qi.Void, [qi.String])
    def setLanguage(self, language):
        self._calls.record("ALTextToSpeech", "setLanguage", language)
        self._language = language

    @qi.bind(qi.String, [])
    def getLanguage(self):
        return self._language


class ALLeds:
    def __init__(self, calls: CallLog):
        self._calls = calls

    @qi.bind(qi.Void, [qi.String, qi.Int32, qi.Float], methodName="fadeRGB")
    def fade_rgb(self, name, rgb, duration):
        self._calls.record("ALLeds", "fadeRGB", name, rgb, duration)
        self._fade(name, rgb, duration)

    @qi.bind(qi.Void, [qi.String, qi.String, qi.Float], methodName="fadeRGB")
    def fade_named(self, name, colorName, duration):
        self._calls.record("ALLeds", "fadeRGB", name, colorName, duration)
        if colorName.lower() not in COLOUR_NAMES:
            raise RuntimeError(f"ALLeds::fadeRGB: unknown colour {colorName!r}")
        self._fade(name, parse_colour(colorName), duration)

    @qi.bind(qi.Void, [qi.String])
    def on(self, name):
        self._calls.record("ALLeds", "on", name)

    @qi.bind(qi.Void, [qi.String])
    def off(self, name):
        self._calls.record("ALLeds", "off", name)

    @qi.nobind
    def _fade(self, name: str, rgb: int, duration: float) -> None:
        if not name or not 0 <= rgb <= 0xFFFFFF or duration < 0:
            raise RuntimeError(f"ALLeds::fadeRGB: bad arguments ({name!r}, {rgb:#x}, {duration})")
        time.sleep(min(duration, MAX_FADE_S))


class ALMemory:
    def __init__(self, calls: CallLog):
        self._calls = calls
        self.values: dict[str, object] = {}

    @qi.bind(qi.Dynamic, [qi.String])
    def getData(self, key):
        self._calls.record("ALMemory", "getData", key)
        if key not in self.values:
            raise RuntimeError(f"ALMemory::getData: no data for key {key!r}")
        return self.values[key]

    @qi.bind(qi.Void, [qi.String, qi.Dynamic])
    def insertData(self, key, value):
        self._calls.record("ALMemory", "insertData", key, value)
        self.values[key] = value


class SimulatorControl:
    def __init__(self, calls: CallLog):
        self._calls = calls

    @qi.bind(qi.String, [])
    def calls(self):
        return json.dumps(self._calls.calls(), default=repr)


class Simulator:
    """The simulated robot; ``start()`` listens and returns its URL, ``close()`` (or ``with``) shuts it down."""

    def __init__(
        self,
        pcm: np.ndarray,
        *,
        listen: str = "tcp://127.0.0.1:9559",
        speed: float = 1.0,
        loop: bool = False,
        buffer_samples: int = CHUNK_SAMPLES,
        calls_log: str | Path | None = None,
        start: float | None = None,
    ):
        if pcm.dtype != np.int16 or pcm.ndim != 1 or not len(pcm):
            raise ValueError("the simulator streams non-empty 1-D int16 audio")
        if not speed > 0 or buffer_samples < 1:
            raise ValueError(f"speed must be positive and buffer_samples at least 1 ({speed}, {buffer_samples})")
        self.listen = listen
        self.url = ""  # the address it serves on, once started
        self.calls_log = CallLog(calls_log)
        self.session = qi.Session()
        self.microphone = _Microphone(self.session, pcm, speed, loop, buffer_samples, start)
        memory = ALMemory(self.calls_log)
        self._services = {
            "ALMemory": memory,
            "ALAudioDevice": ALAudioDevice(self.microphone, self.calls_log),
            "ALTextToSpeech": ALTextToSpeech(memory, self.calls_log),
            "ALLeds": ALLeds(self.calls_log),
            "SimulatorControl": SimulatorControl(self.calls_log),
        }

    def start(self) -> str:
        try:
            self.session.listenStandalone([self.listen])
        except RuntimeError as e:
            self.close()
            raise RobotError(self.listen, f"cannot listen ({one_line(e)})") from e
        for name, service in self._services.items():
            self.session.registerService(name, service)
        endpoints = [str(url) for url in self.session.endpoints()]
        host = self.listen.split("://", 1)[-1].rsplit(":", 1)[0]
        self.url = next((url for url in endpoints if f"://{host}:" in url), endpoints[0])
        return self.url

    def calls(self) -> list[dict]:
        return self.calls_log.calls()

    def close(self) -> None:
        self.microphone.close()
        close_quietly(self.session)
        self.calls_log.close()

    def __enter__(self) -> Simulator:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()
