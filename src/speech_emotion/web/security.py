"""The dashboard's security rules: who may connect, and which files a report download may read.

* Bound to a loopback address the dashboard is private to this machine; bound to any other address it
  refuses to start without a token (``check_bind``).
* With a token, every request (pages, API, stream, downloads, /openapi.json) must carry it: ``Authorization: Bearer``,
  or ``?token=`` for a browser or an ``EventSource``, which then gets an HttpOnly cookie (``TokenGuard``).
* Without a token, a request must name the server by a loopback name in its ``Host`` header: otherwise a web
  page a caregiver visits could rebind its own name to 127.0.0.1 (DNS rebinding) and read the residents' data.
* A report download resolves its path (symlinks included), must stay inside the report folder and be a file
  that reports write (HTML, PNG, JSON).
"""

from __future__ import annotations

import hmac
import ipaddress
import re
from pathlib import Path

from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from speech_emotion.errors import SpeechEmotionError

COOKIE = "speech_emotion_token"
MIN_TOKEN_LENGTH = 16
TOKEN_CHARS = re.compile(r"[A-Za-z0-9._~-]+")
REFUSED = "a valid token is required: send 'Authorization: Bearer <token>' or open the page with ?token=<token>"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]"})  # the names a tokenless request may use
WRONG_HOST = "this dashboard answers only to 127.0.0.1, localhost or [::1] without a token"
REPORT_SUFFIXES = frozenset({".html", ".png", ".json"})  # what reports write


class SecurityError(SpeechEmotionError):
    """A server that would be unsafe to start: ``"<option> <value>: <reason>"``."""


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback IP addresses; any other name or address is treated as public."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_token(token: str | None) -> None:
    """A token must resist guessing and travel safely in a URL and a cookie."""
    if token is not None and (len(token) < MIN_TOKEN_LENGTH or not TOKEN_CHARS.fullmatch(token)):
        raise SecurityError(
            f"--token: use at least {MIN_TOKEN_LENGTH} characters from A-Z a-z 0-9 . _ ~ - "
            "(make one with: python3 -c 'import secrets; print(secrets.token_urlsafe())')"
        )


def check_bind(host: str, token: str | None) -> None:
    """Refuse a public address without a token, and a weak token anywhere."""
    check_token(token)
    if token is None and not is_loopback(host):
        raise SecurityError(
            f"--host {host}: not a loopback address, so a token is required (--token or $SPEECH_EMOTION_TOKEN)"
        )


def safe_report_path(root: Path, relative: str) -> Path | None:
    """The file ``relative`` names inside ``root``, or None when it is missing or lies outside ``root``."""
    base = root.resolve()
    try:
        candidate = (base / relative).resolve()
    except (OSError, ValueError, RuntimeError):
        return None
    if not candidate.is_relative_to(base) or not candidate.is_file() or candidate.suffix not in REPORT_SUFFIXES:
        return None
    return candidate


def host_name(host_header: str) -> str:
    """The name in a ``Host`` header, without the port (``[::1]:8000`` -> ``[::1]``), lower-cased."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[: host.find("]") + 1] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class TokenGuard:
    """ASGI middleware: with a token configured, nothing is served to a request that does not present it;
    without one, nothing to a request that does not name a loopback host."""

    def __init__(self, app: ASGIApp, token: str | None):
        self.app = app
        self.token = token.encode() if token else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        conn = HTTPConnection(scope)
        if self.token is None:
            if host_name(conn.headers.get("host", "")) in LOOPBACK_HOSTS:
                await self.app(scope, receive, send)
            else:
                await JSONResponse({"detail": WRONG_HOST}, status_code=421)(scope, receive, send)
            return
        header = conn.headers.get("authorization", "")
        bearer = header[7:].strip() if header[:7].lower() == "bearer " else None
        from_query = conn.query_params.get("token")
        if self._matches(bearer) or self._matches(conn.cookies.get(COOKIE)):
            await self.app(scope, receive, send)
        elif self._matches(from_query):
            await self.app(scope, receive, self._with_cookie(send))
        else:
            refusal = JSONResponse({"detail": REFUSED}, status_code=401, headers={"WWW-Authenticate": "Bearer"})
            await refusal(scope, receive, send)

    def _matches(self, presented: str | None) -> bool:
        return presented is not None and hmac.compare_digest(presented.encode(), self.token)

    def _with_cookie(self, send: Send) -> Send:
        """Remember a ``?token=`` in an HttpOnly cookie, so the page's own requests need not repeat it."""
        cookie = f"{COOKIE}={self.token.decode()}; Path=/; HttpOnly; SameSite=Strict"

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).append("set-cookie", cookie)
            await send(message)

        return send_with_cookie
