"""``speech-emotion serve``: the live dashboard and its JSON API."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import threading
from pathlib import Path
from types import FrameType

import uvicorn

from speech_emotion.cli.db_options import add_db, add_tz, open_existing_store
from speech_emotion.errors import SpeechEmotionError
from speech_emotion.web.app import create_app
from speech_emotion.web.security import check_bind

TOKEN_ENV = "SPEECH_EMOTION_TOKEN"
log = logging.getLogger(__name__)


def source_name(text: str) -> tuple[str, str]:
    """``ID=NAME`` for ``--name``; the id is everything before the last ``=`` (ids may hold ``=``, names not)."""
    source, sep, name = text.rpartition("=")
    if not sep or not source or not name.strip():
        raise argparse.ArgumentTypeError(f"{text!r} is not ID=NAME")
    return source, name.strip()


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_db(p)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)")
    p.add_argument(
        "--reports", metavar="DIR", help="the report folder to offer in the archive (speech-emotion report --out)"
    )
    p.add_argument("--token", help=f"required on a non-loopback --host; also read from ${TOKEN_ENV}")
    p.add_argument(
        "--name",
        dest="names",
        action="append",
        default=[],
        type=source_name,
        metavar="ID=NAME",
        help='what a source is called on the page, e.g. nao://10.0.0.5="Room 12"; repeat for several',
    )
    add_tz(p)


def run(args: argparse.Namespace) -> int:
    token = args.token or os.environ.get(TOKEN_ENV) or None
    check_bind(args.host, token)
    open_existing_store(args.db).close()  # a mistyped path is an error, not an empty dashboard
    stopping = threading.Event()
    app = create_app(
        args.db, reports_dir=args.reports, token=token, tz=args.tz, stopping=stopping, names=dict(args.names)
    )
    if args.reports and not Path(args.reports).is_dir():
        log.warning(
            "--reports %s: no such folder yet; the archive stays empty until reports are written there", args.reports
        )
    sock = _listen(args.host, args.port)
    host, port = sock.getsockname()[:2]
    log.info("dashboard on http://%s:%s/%s", f"[{host}]" if ":" in host else host, port, "?token=…" if token else "")
    server = DashboardServer(uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=2), stopping)
    # uvicorn shuts down on SIGINT/SIGTERM and then raises the signal again for the previous handler: a no-op
    # one here makes a requested stop a clean exit 0, as the monitor's is
    previous = {sig: signal.signal(sig, lambda *_: None) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        server.run(sockets=[sock])
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    log.info("dashboard stopped")
    return 0


class DashboardServer(uvicorn.Server):
    """uvicorn's server that ends the dashboard's live streams when asked to stop.

    An open page keeps a stream open, so without this every stop waited out the graceful-shutdown timeout
    and then printed the cancelled stream's traceback. The streams now end within a poll interval, so a
    second Ctrl-C (uvicorn's "force quit", which cancels requests mid-way with tracebacks) is not needed and
    is taken as the same stop.
    """

    def __init__(self, config: uvicorn.Config, stopping: threading.Event) -> None:
        super().__init__(config)
        self.stopping = stopping

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self.stopping.set()
        if not self.should_exit:
            super().handle_exit(sig, frame)


def _listen(host: str, port: int) -> socket.socket:
    """Bind here, so a busy port or a bad address is one clear line rather than a server traceback."""
    try:
        family = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)[0][0]
    except OSError as e:
        raise SpeechEmotionError(f"--host {host}: not an address of this machine ({e.strerror})") from e
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except (OSError, OverflowError) as e:
        sock.close()
        reason = e.strerror if isinstance(e, OSError) and e.strerror else str(e)
        raise SpeechEmotionError(f"--port {port}: cannot listen on {host} ({reason})") from e
    return sock
