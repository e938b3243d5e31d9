"""Reactions on the robot: the colour of its eyes (ALLeds) and what it says (ALTextToSpeech).

A reaction must never stop the monitor, so a robot that is gone is logged, not raised: each method returns
True when the robot took the request and False when it could not be reached or refused it. The client
connects on first use and after a failure connects again on the next call, but tries at most once per
``retry_interval`` seconds, so a robot that stays away costs the caller nothing.
``say`` does not wait for the speech to end (on a NAO ``say`` returns when the sentence has been spoken);
a failure seen later is logged.
"""

from __future__ import annotations

import logging
import re
import threading
import time

from speech_emotion.robot.session import RobotError, close_quietly, connect, one_line, qi, robot_url

log = logging.getLogger(__name__)

# The colour names ALLeds.fadeRGB accepts besides 0x00RRGGBB, plus "black" to switch a group off.
COLOUR_NAMES = {
    "white": 0xFFFFFF,
    "red": 0xFF0000,
    "green": 0x00FF00,
    "blue": 0x0000FF,
    "yellow": 0xFFFF00,
    "magenta": 0xFF00FF,
    "cyan": 0x00FFFF,
    "black": 0x000000,
}
_HEX = re.compile(r"^(?:#|0x)?([0-9A-Fa-f]{6})$")


def parse_colour(colour: str | int) -> int:
    """``#RRGGBB``, ``0xRRGGBB``, ``RRGGBB``, a name from :data:`COLOUR_NAMES`, or an int, as 0x00RRGGBB."""
    if isinstance(colour, int) and not isinstance(colour, bool) and 0 <= colour <= 0xFFFFFF:
        return colour
    if isinstance(colour, str):
        if colour.lower() in COLOUR_NAMES:
            return COLOUR_NAMES[colour.lower()]
        if match := _HEX.match(colour.strip()):
            return int(match[1], 16)
    raise ValueError(f"colour {colour!r}: expected #RRGGBB or one of {', '.join(COLOUR_NAMES)}")


class RobotClient:
    def __init__(
        self,
        address: str,
        *,
        connect_timeout: float = 2.0,
        call_timeout: float = 5.0,
        retry_interval: float = 10.0,
    ):
        self.url = robot_url(address)
        self.connect_timeout = connect_timeout
        self.call_timeout = call_timeout
        self.retry_interval = retry_interval
        self._session: qi.Session | None = None
        self._services: dict[str, object] = {}
        self._last_attempt = -float("inf")
        self._lock = threading.Lock()

    def set_led_colour(self, colour: str | int, group: str = "FaceLeds", duration: float = 0.3) -> bool:
        """Fade LED ``group`` to ``colour`` over ``duration`` s (ALLeds.fadeRGB); ValueError for a bad colour."""
        rgb = parse_colour(colour)
        return self._call("ALLeds", "fadeRGB", group, rgb, float(duration), wait=True)

    def say(self, text: str) -> bool:
        """Have the robot say ``text`` (ALTextToSpeech.say) without waiting for the end of the sentence."""
        return self._call("ALTextToSpeech", "say", str(text), wait=False)

    def close(self) -> None:
        with self._lock:
            self._drop()

    def __enter__(self) -> RobotClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _call(self, service: str, method: str, *args, wait: bool) -> bool:
        with self._lock:
            proxy = self._service(service)
            if proxy is None:
                return False
            try:
                future = getattr(proxy, method)(*args, _async=True)
                if wait:
                    future.value(int(self.call_timeout * 1000))
                else:
                    future.addCallback(lambda f: _log_failure(f, self.url, service, method))
            except RuntimeError as e:
                log.warning("%s: %s.%s failed (%s)", self.url, service, method, one_line(e))
                if self._session is None or not self._session.isConnected():
                    self._drop()
                return False
            return True

    def _service(self, name: str):
        """The proxy to ``name``, connecting first if needed; None (logged) when the robot is out of reach."""
        if self._session is not None and not self._session.isConnected():
            log.warning("%s: connection to the robot lost", self.url)
            self._drop()
        if self._session is None:
            if time.monotonic() - self._last_attempt < self.retry_interval:
                return None
            self._last_attempt = time.monotonic()
            try:
                self._session = connect(self.url, self.connect_timeout)
            except RobotError as e:
                log.warning("%s; reactions wait %g s before trying again", e, self.retry_interval)
                return None
        if name not in self._services:
            try:
                self._services[name] = self._session.service(name, _async=True).value(int(self.call_timeout * 1000))
            except RuntimeError as e:
                log.warning("%s: no %s service (%s)", self.url, name, one_line(e))
                return None
        return self._services[name]

    def _drop(self) -> None:
        close_quietly(self._session)
        self._session = None
        self._services.clear()


def _log_failure(future, url: str, service: str, method: str) -> None:
    if future.hasError():
        log.warning("%s: %s.%s failed (%s)", url, service, method, one_line(RuntimeError(future.error())))
