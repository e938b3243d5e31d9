"""What streaming a NAO's microphone costs: nao-sim in its own process, NaoSource here, over qi on loopback.

Plays a recording through the simulated robot at several speeds and reports, for each, the speed reached,
the CPU time each side spent per hour of audio, and whether every sample arrived intact. The CPU per hour
of audio says how many real-time robot streams the transport alone leaves room for on this machine.

    PYTHONPATH=src python benchmarks/robot_stream.py [--seconds 120] [--speeds 1 20 100]
"""

from __future__ import annotations

import argparse
import os
import resource
import select
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from speech_emotion.monitor.sources.nao import NaoSource

SRC = Path(__file__).resolve().parents[1] / "src"


def start_sim(audio: Path, speed: float) -> tuple[subprocess.Popen, str]:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    command = [sys.executable, "-m", "speech_emotion", "nao-sim", "--audio", str(audio)]
    command += ["--listen", "tcp://127.0.0.1:0", "--speed", str(speed)]
    sim = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    if not select.select([sim.stdout], [], [], 30)[0]:
        sim.kill()
        raise SystemExit("nao-sim did not start")
    return sim, sim.stdout.readline().strip()


def run(audio: Path, pcm: np.ndarray, speed: float) -> dict:
    sim, url = start_sim(audio, speed)
    source = NaoSource(url)
    received, stop = [], threading.Event()
    cpu0, wall0 = time.process_time(), time.monotonic()
    for chunk in source.chunks(stop):
        received.append(chunk)
        if sum(len(c.samples) for c in received) >= len(pcm):
            stop.set()
    wall, cpu = time.monotonic() - wall0, time.process_time() - cpu0
    sim.terminate()
    sim.wait()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    got = np.round(np.concatenate([c.samples for c in received]) * 32768).astype(np.int16)
    hours = len(pcm) / 16000 / 3600
    return {
        "speed": speed,
        "reached": len(pcm) / 16000 / wall,
        "client_cpu_s_per_audio_h": cpu / hours,
        "sim_cpu_s_total": children.ru_utime + children.ru_stime,
        "intact": bool(np.array_equal(got, pcm)),
        "dropped_s": source.metrics().get("dropped_seconds", 0.0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120.0, help="length of the test recording")
    parser.add_argument("--speeds", type=float, nargs="+", default=[1.0, 20.0, 100.0])
    args = parser.parse_args()
    pcm = np.random.default_rng(0).normal(0, 3000, int(args.seconds * 16000)).clip(-32768, 32767).astype(np.int16)
    print(f"{args.seconds:.0f} s recording, buffers of 2730 samples; {os.cpu_count()} CPUs")
    print("speed  reached  client CPU s/audio h  sim CPU s/audio h  intact  dropped s")
    sim_cpu_before = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        audio = Path(tmp) / "noise.wav"
        sf.write(audio, pcm, 16000, subtype="PCM_16")
        for speed in args.speeds:
            r = run(audio, pcm, speed)
            sim_cpu = (r["sim_cpu_s_total"] - sim_cpu_before) / (args.seconds / 3600)
            sim_cpu_before = r["sim_cpu_s_total"]
            print(
                f"{r['speed']:5g}  {r['reached']:7.1f}  {r['client_cpu_s_per_audio_h']:20.1f}  "
                f"{sim_cpu:17.1f}  {r['intact']!s:6}  {r['dropped_s']:9.2f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
