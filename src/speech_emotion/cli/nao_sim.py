"""``speech-emotion nao-sim``: a simulated NAO that streams a recording as its front microphone over qi.

Prints the URL it listens on (one line on standard output) once it is ready, then serves until SIGINT or
SIGTERM. Logs, including every call it receives, go to standard error.
"""

from __future__ import annotations

import argparse
import signal
import threading
from datetime import datetime

from speech_emotion.audio import CHUNK_SAMPLES, DEFAULT_MAX_SECONDS, load_audio, to_pcm16
from speech_emotion.cli.arguments import positive_seconds


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--audio", required=True, metavar="FILE", help="what the robot's microphone hears (any format)")
    p.add_argument(
        "--listen",
        default="tcp://127.0.0.1:9559",
        metavar="URL",
        help="address to serve on; port 0 picks a free one (default: %(default)s)",
    )
    p.add_argument("--speed", type=_positive(float), default=1.0, help="times real time (default: 1)")
    p.add_argument("--loop", action="store_true", help="play the file again and again instead of stopping at its end")
    p.add_argument(
        "--start",
        type=_instant,
        metavar="TIME",
        help="capture time of the first sample: POSIX seconds or ISO 8601 with a time zone "
        "(default: when the first client subscribes)",
    )
    p.add_argument("--calls-log", metavar="FILE", help="also append every call received to FILE as JSON lines")
    p.add_argument(
        "--buffer-samples",
        type=_positive(int),
        default=CHUNK_SAMPLES,
        help="samples per microphone buffer (default: %(default)s, 170 ms as on a NAO)",
    )
    p.add_argument(
        "--max-seconds", type=positive_seconds, default=DEFAULT_MAX_SECONDS, help="refuse longer audio files"
    )


def run(args: argparse.Namespace) -> int:
    from speech_emotion.robot.simulator import Simulator  # imports qi only when this command runs

    audio = load_audio(args.audio, max_seconds=args.max_seconds)
    simulator = Simulator(
        to_pcm16(audio),
        listen=args.listen,
        speed=args.speed,
        loop=args.loop,
        buffer_samples=args.buffer_samples,
        calls_log=args.calls_log,
        start=args.start,
    )
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        print(simulator.start(), flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        simulator.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


def _instant(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"{text!r} is neither POSIX seconds nor an ISO 8601 time") from e
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no time zone (add +00:00, Z, ...)")
    return moment.timestamp()


def _positive(kind: type):
    def parse(text: str):
        value = kind(text)
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be positive, not {text}")
        return value

    parse.__name__ = kind.__name__  # argparse names the type in its error message
    return parse
