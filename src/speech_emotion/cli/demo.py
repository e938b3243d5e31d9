"""``speech-emotion demo``: the whole system on this machine in one command, with nothing to set up.

A simulated NAO streams the bundled recording (synthetic speech made by ``scripts/make_demo_audio.py``) as its
front microphone over a real qi connection; the monitor cuts and recognises every utterance with the shipped
model, reacts through the robot and stores the results in SQLite; the day's caregiver report is written; the
dashboard serves it all until Ctrl-C. Each step is an ordinary command, printed before it runs, so the demo
also shows how to run the system for real.
"""

from __future__ import annotations

import argparse
import json
import socket
import time
from collections import Counter
from datetime import datetime
from importlib import resources
from pathlib import Path

from speech_emotion.audio import SAMPLE_RATE, load_audio, to_pcm16
from speech_emotion.cli import parse_args
from speech_emotion.cli.model_option import add_model_argument
from speech_emotion.errors import SpeechEmotionError

DATA = resources.files("speech_emotion") / "data"
TAIL_S = 3.0  # after the recording ends: the last utterance's hangover, recognition and storing


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--out", type=Path, default=Path("speech-emotion-demo"), help="folder for the database and reports "
        "(default: %(default)s; a second run adds to it)",
    )  # fmt: skip
    p.add_argument("--audio", default=str(DATA / "demo.flac"), help="what the robot hears (default: the bundled one)")
    p.add_argument("--speed", type=float, default=4.0, help="times real time for the recording (default: %(default)s)")
    add_model_argument(p)
    p.add_argument("--port", type=int, default=8000, help="dashboard port (default 8000, or a free one if it is busy)")
    p.add_argument("--no-serve", action="store_true", help="stop after the report instead of serving the dashboard")


def run(args: argparse.Namespace) -> int:
    from speech_emotion.robot.simulator import Simulator  # qi is loaded only when a robot is involved

    if not args.speed > 0:
        raise SpeechEmotionError(f"--speed {args.speed}: must be positive")
    audio = load_audio(args.audio)
    out = _make_folder(args.out)
    db = f"sqlite:///{out / 'monitor.db'}"
    reports = out / "reports"
    recorded_s = len(audio) / SAMPLE_RATE
    streaming_s = recorded_s / args.speed
    # capture times end when the streaming does, so the dashboard's "now" never lags behind the recording
    first_sample = time.time() + streaming_s - recorded_s
    with Simulator(to_pcm16(audio), listen="tcp://127.0.0.1:0", speed=args.speed, start=first_sample) as robot:
        print(f"simulated NAO on {robot.url}: {recorded_s:.0f} s of speech at {args.speed:g}x real time")
        monitor = ["monitor", "--robot", robot.url, "--source-id", "demo-nao", "--db", db, "--model", args.model]
        monitor += ["--config", str(DATA / "demo-monitor.toml"), "--duration", f"{streaming_s + TAIL_S:.1f}"]
        status = _step(monitor)
        calls = robot.calls()
    print(_describe_reactions(calls))
    since = datetime.fromtimestamp(first_sample).astimezone().isoformat(timespec="seconds")
    status = status or _step(["history", "--db", db, "--since", since])
    day = datetime.now().astimezone().date().isoformat()
    status = status or _step(["report", "--db", db, "--date", day, "--out", str(reports)])
    if status or args.no_serve:
        return status
    print("dashboard: open the address below in a browser; Ctrl-C stops it")
    return _step(["serve", "--db", db, "--reports", str(reports), "--port", str(_port_or_free(args.port))])


def _step(argv: list[str]) -> int:
    """Run one ``speech-emotion`` command in this process, showing it first."""
    print(f"\n$ speech-emotion {' '.join(argv)}", flush=True)
    args = parse_args(argv)
    return args.run(args)


def _make_folder(path: Path) -> Path:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise SpeechEmotionError(f"--out {path}: cannot create the folder ({e.strerror})") from None
    return path.resolve()


def _describe_reactions(calls: list[dict]) -> str:
    """What the robot was asked to do, from the calls the simulator recorded."""
    methods = Counter(f"{call['service']}.{call['method']}" for call in calls)
    said = [json.dumps(call["args"][0]) for call in calls if call["method"] == "say"]
    leds = sum(n for name, n in methods.items() if name.startswith("ALLeds."))
    return f"\nthe robot changed its LEDs {leds} times and said: {', '.join(said) or 'nothing'}"


def _port_or_free(port: int) -> int:
    """``port`` if it can be listened on here, else 0 (the dashboard then picks a free one and prints it)."""
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return 0
    return port
