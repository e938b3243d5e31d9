"""NAOqi sessions over the ``qi`` library: robot addresses, connecting with a time limit, quiet qi logs.

libqi logs on standard output, where it would mix with a program's output (``nao-sim`` prints its address
there), so its logging is silenced on import; its failures still reach us as exceptions, and this package
logs what matters. ``qi.logging.setLevel(qi.logging.VERBOSE)`` brings libqi's own logs back when debugging.
"""

from __future__ import annotations

import contextlib
import re

import qi

from speech_emotion.errors import SpeechEmotionError

qi.logging.setLevel(qi.logging.SILENT)

NAOQI_PORT = 9559
_URL = re.compile(r"^(?:(?P<scheme>tcps?)://)?(?P<host>\[[0-9A-Fa-f:.]+\]|[^\s:/\[\]]+)(?::(?P<port>\d+))?/?$")


class RobotError(SpeechEmotionError):
    """A robot that cannot be reached or a bad robot address: ``"<url>: <reason>"``."""

    def __init__(self, url: object, reason: str):
        self.url = str(url)
        self.reason = reason
        super().__init__(f"{self.url}: {reason}")


def robot_url(address: str, default_port: int = NAOQI_PORT) -> str:
    """``HOST``, ``HOST:PORT`` or ``tcp://HOST[:PORT]`` (``tcps://`` too) as a full qi URL."""
    match = _URL.match(address.strip())
    if not match:
        raise RobotError(address, "not a robot address (expected HOST, HOST:PORT or tcp://HOST:PORT)")
    port = int(match["port"]) if match["port"] is not None else default_port
    if not 0 <= port <= 65535:
        raise RobotError(address, f"port {port} is out of range")
    return f"{match['scheme'] or 'tcp'}://{match['host']}:{port}"


def connect(url: str, timeout: float) -> qi.Session:
    """A session connected to the robot's service directory at ``url``, or :class:`RobotError`."""
    session = qi.Session()
    try:
        session.connect(url, _async=True).value(int(timeout * 1000))
    except RuntimeError as e:
        session.close()
        reason = f"no answer within {timeout:g} s" if "timeout" in str(e).lower() else one_line(e)
        raise RobotError(url, f"cannot connect ({reason})") from e
    return session


def close_quietly(session: qi.Session | None) -> None:
    if session is not None:
        with contextlib.suppress(RuntimeError):
            session.close()


def one_line(error: Exception) -> str:
    """The first line of an error's message (qi appends Python tracebacks to its errors)."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
