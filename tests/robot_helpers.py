"""Test parts for the robot side: the simulated robot in a subprocess, and a source read on a thread."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import soundfile as sf

from speech_emotion.monitor.sources.base import AudioChunk, Source, SourceEvent

SRC = Path(__file__).resolve().parents[1] / "src"
START_TIMEOUT_S = 20.0


def write_pcm16(path: Path, seconds: float, seed: int = 0) -> np.ndarray:
    """A 16 kHz 16-bit WAV of noise with a few full-scale samples; returns its int16 samples."""
    rng = np.random.default_rng(seed)
    pcm = rng.normal(0, 4000, int(seconds * 16000)).clip(-32768, 32767).astype(np.int16)
    pcm[100:103] = [32767, -32768, 32767]
    sf.write(path, pcm, 16000, subtype="PCM_16")
    return pcm


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.02)


class NaoSim:
    """``speech-emotion nao-sim`` in a subprocess: started, killed, restarted on the same address, cleaned up."""

    def __init__(self, audio: Path, workdir: Path, *args: str):
        self.audio = audio
        self.args = args
        self.calls_log = workdir / "calls.jsonl"
        self.stderr = workdir / "nao-sim.log"
        self.process: subprocess.Popen | None = None
        self.url = "tcp://127.0.0.1:0"

    def start(self) -> str:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
        command = [sys.executable, "-m", "speech_emotion", "nao-sim", "--audio", str(self.audio), "--listen", self.url]
        command += ["--calls-log", str(self.calls_log), *self.args]
        with open(self.stderr, "a") as log:
            self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, text=True, env=env)
        ready, _, _ = select.select([self.process.stdout], [], [], START_TIMEOUT_S)
        line = self.process.stdout.readline().strip() if ready else ""
        if not line.startswith("tcp://"):
            self.stop()
            raise AssertionError(f"nao-sim did not start: {line!r}\n{self.stderr.read_text()}")
        self.url = line
        return line

    def kill(self) -> None:
        """Vanish without a word, as a robot pulled off the network does."""
        self.process.kill()
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process is not None:
            self.process.stdout.close()

    def calls(self, service: str | None = None, method: str | None = None) -> list[dict]:
        if not self.calls_log.exists():
            return []
        calls = [json.loads(line) for line in self.calls_log.read_text().splitlines()]
        return [c for c in calls if service in (None, c["service"]) and method in (None, c["method"])]


class Reader:
    """Reads ``source.chunks(stop)`` on a thread, keeping the chunks and events, as the monitor would."""

    def __init__(self, source: Source):
        self.source = source
        self.chunks: list[AudioChunk] = []
        self.events: list[SourceEvent] = []
        self.stop = threading.Event()
        self.error: BaseException | None = None
        source.on_event = self.events.append
        self.thread = threading.Thread(target=self._read, name="test reader", daemon=True)
        self.thread.start()

    def _read(self) -> None:
        try:
            for chunk in self.source.chunks(self.stop):
                self.chunks.append(chunk)
        except BaseException as e:
            self.error = e

    def samples(self) -> int:
        return sum(len(c.samples) for c in self.chunks)

    def kinds(self) -> list[str]:
        return [e.kind for e in self.events]

    def close(self) -> None:
        self.stop.set()
        self.thread.join(15)
        assert not self.thread.is_alive(), "the source did not end after stop"
        assert not [t for t in threading.enumerate() if t.name == self.source.source_id], "connection thread leaked"
        if self.error is not None:
            raise self.error


def pcm_of(chunks: list[AudioChunk]) -> np.ndarray:
    """The int16 samples the chunks carry (they are int16 / 32768, so this is exact)."""
    if not chunks:
        return np.zeros(0, np.int16)
    return np.round(np.concatenate([c.samples for c in chunks]) * 32768).astype(np.int16)
