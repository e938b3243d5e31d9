"""``speech-emotion monitor``: watch a robot's microphone, this machine's, or a recording, around the clock.

Runs until SIGINT/SIGTERM, ``--duration`` or the end of ``--file``; on a stop it finishes the utterances it
holds, saves the adapted statistics and closes its session row, then exits 0. Safe to restart at any time:
utterances are unique per (source, start) in the store, and the daily reports a stop made it miss are written
when it starts again.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from collections.abc import Callable
from contextlib import nullcontext
from datetime import UTC, datetime
from pathlib import Path

from speech_emotion.cli.arguments import positive_seconds
from speech_emotion.cli.db_options import add_db, default_reports_folder, default_spool, open_store
from speech_emotion.cli.model_option import add_model_argument
from speech_emotion.errors import SpeechEmotionError
from speech_emotion.fusion import load_recognizer
from speech_emotion.monitor.config import load_config
from speech_emotion.monitor.daily_reports import DailyReporter, ReportConfig
from speech_emotion.monitor.logs import log_event, use_json_logs
from speech_emotion.monitor.pipeline import Metrics, Monitor
from speech_emotion.monitor.reactions import Reactions, last_alert
from speech_emotion.monitor.spool import Spool
from speech_emotion.store import Store

log = logging.getLogger("speech_emotion.monitor")


def add_arguments(p: argparse.ArgumentParser) -> None:
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--robot", metavar="HOST[:PORT]", help="a NAO (or nao-sim): HOST, HOST:PORT or tcp://HOST:PORT")
    source.add_argument("--mic", action="store_true", help="this machine's default microphone")
    source.add_argument("--file", metavar="PATH", help="a recording, or a folder of them, as if it were live")
    p.add_argument(
        "--source-id", metavar="NAME", help="name stored with every utterance, e.g. room-12 "
        "(default: nao:HOST:PORT, mic:default or file:NAME); keep it the same across restarts",
    )  # fmt: skip
    p.add_argument("--speed", type=float, default=1.0, help="--file: times real time (default 1; 0: as fast as can be)")
    add_db(p)
    p.add_argument("--duration", type=positive_seconds, metavar="S", help="stop after S seconds")
    p.add_argument("--config", metavar="FILE", help="TOML configuration (see docs/monitor.md)")
    add_model_argument(p)
    p.add_argument("--device", default="cpu", metavar="cpu|cuda|cuda:N", help="where the model runs")
    p.add_argument("--keep-audio", metavar="DIR", type=Path, help="also write each utterance as FLAC under DIR")
    p.add_argument(
        "--reports", metavar="DIR", type=Path, help="daily reports go to DIR (default: [reports] folder of --config)"
    )
    p.add_argument("--log-json", action="store_true", help="log JSON lines instead of key=value text")


def run(args: argparse.Namespace) -> int:
    if args.log_json:
        use_json_logs()
    config = load_config(args.config)
    recognizer = load_recognizer(args.model, device=args.device, pooling=config.pipeline.pooling)
    source, robot = open_source(args)  # bad input is refused before the database is made
    store = open_store(args.db)
    if args.file:  # a recording's times are those its content was first heard at, not its modification time
        source.recording_start = first_heard(store, source.source_id)
    monitor = Monitor(
        source,
        recognizer,
        store,
        vad=config.vad,
        adaptation=config.adaptation,
        pipeline=config.pipeline,
        keep_audio=args.keep_audio,
        settings={"source": _describe(args), "config": config.to_dict()},
        spool=Spool(default_spool(args.db)),
    )
    since = last_alert(store, source.source_id)  # the comfort cool-down goes on across restarts
    monitor.listeners.append(Reactions(config.reactions, robot, monitor.record_event, source.source_id, since))
    try:
        with daily_reporter(config.reports, args.reports, args.db, monitor) or nullcontext():
            serve(monitor, args.duration)
    finally:
        store.close()
        if robot is not None:
            robot.close()
    return 1 if monitor.source_error else 0


def daily_reporter(config: ReportConfig, folder: Path | None, db_url: str, monitor: Monitor) -> DailyReporter | None:
    """What writes the monitor's daily reports, into ``folder`` if given; None when they are turned off."""
    if not config.enabled:
        return None
    if folder is None:
        folder = Path(config.folder).expanduser() if config.folder else default_reports_folder(db_url)
    return DailyReporter(config, monitor.store, monitor.source_id, folder, monitor.record_event)


def serve(monitor: Monitor, duration_s: float | None = None) -> Metrics:
    """Run ``monitor`` in this (main) thread until the source ends, ``duration_s`` passes, SIGINT or SIGTERM."""
    stop = threading.Event()

    def on_signal(signum, _frame):
        log_event(log, logging.INFO, "stopping", signal=signal.Signals(signum).name, source=monitor.source_id)
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        return monitor.run(stop, duration_s)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def open_source(args: argparse.Namespace):
    """The audio source the arguments name, and the robot to react through (None without one).

    Imported here so that ``qi`` and PortAudio are loaded only by the source that needs them."""
    if args.robot is not None and not args.robot.strip():
        raise SpeechEmotionError("--robot: empty; give the robot's address, HOST or HOST:PORT")
    if args.robot:
        from speech_emotion.monitor.sources.nao import NaoSource
        from speech_emotion.robot.client import RobotClient

        return NaoSource(args.robot, source_id=args.source_id), RobotClient(args.robot)
    if args.mic:
        from speech_emotion.monitor.sources.microphone import MicrophoneSource

        return MicrophoneSource(source_id=args.source_id), None
    from speech_emotion.monitor.sources.file import FileSource

    return FileSource(args.file, speed=args.speed, source_id=args.source_id), None


def first_heard(store: Store, source_id: str) -> Callable[[str, float], float]:
    """A file source's ``recording_start``: the start the store gave the same content first, else the proposed."""

    def recording_start(digest: str, proposed: float) -> float:
        return store.recording_start(source_id, digest, datetime.fromtimestamp(proposed, UTC)).timestamp()

    return recording_start


def _describe(args: argparse.Namespace) -> dict:
    if args.robot:
        return {"robot": args.robot}
    if args.mic:
        return {"mic": True}
    return {"file": str(args.file), "speed": args.speed}
