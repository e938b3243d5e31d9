"""What the robot does about the emotions it hears: an LED colour per utterance, comfort when sadness dominates.

Every decision runs on the utterances' capture times, not the clock, so a replayed recording raises the same
alerts at the same moments. Quiet hours silence the robot (and, unless asked otherwise, its LEDs), but an
alert is still stored so the care team sees it; a cool-down between alerts is the rate limit. The robot is
any object with ``say(text)`` and ``set_led_colour(colour)``, or None (microphone and file sources): the
alerts are stored all the same.
"""

from __future__ import annotations

import logging
import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from speech_emotion.monitor.logs import log_event
from speech_emotion.reports.timezones import parse_time_of_day
from speech_emotion.reports.wording import alert_message
from speech_emotion.store import NewEvent, NewUtterance, Store

log = logging.getLogger(__name__)
ALERT = "alert"  # the kind of event a comfort alert is stored as
_COLOUR = re.compile(r"^#[0-9A-Fa-f]{6}$")


class RobotClient(Protocol):
    """What reactions need from a robot (``speech_emotion.robot.client.RobotClient`` for a NAO): each call
    returns True when the robot took the request, False (or raises) when it could not."""

    def say(self, text: str) -> bool: ...

    def set_led_colour(self, colour: str) -> bool:
        """Colour as ``#RRGGBB``."""


@dataclass(frozen=True)
class LedConfig:
    enabled: bool = True
    during_quiet_hours: bool = False
    colours: dict[str, str] = field(
        default_factory=lambda: {"angry": "#FF2000", "happy": "#FFC000", "sad": "#0040FF", "neutral": "#FFFFFF"}
    )

    def __post_init__(self):
        for label, colour in self.colours.items():
            if not _COLOUR.match(colour):
                raise ValueError(f"reactions.leds.colours.{label}: {colour!r} is not a #RRGGBB colour")


@dataclass(frozen=True)
class ComfortConfig:
    enabled: bool = True
    emotion: str = "sad"
    window_minutes: float = 10.0
    min_share: float = 0.3  # of the speech in the window, in seconds (docs/monitor.md: why 0.3)
    min_speech_s: float = 20.0  # less speech than this in the window is not enough to judge
    cooldown_minutes: float = 30.0
    sentences: tuple[str, ...] = (
        "I am here with you. Would you like to talk about it?",
        "You sound a little sad. Shall I call someone for you?",
        "I am listening. Would some music cheer you up?",
    )

    def __post_init__(self):
        if self.window_minutes <= 0 or self.cooldown_minutes < 0 or self.min_speech_s < 0:
            raise ValueError("reactions.comfort: window_minutes must be positive, the others not negative")
        if not 0 < self.min_share <= 1:
            raise ValueError("reactions.comfort.min_share must be in (0, 1]")
        if not self.sentences:
            raise ValueError("reactions.comfort.sentences must hold at least one sentence")


@dataclass(frozen=True)
class ReactionConfig:
    quiet_hours: tuple[str, ...] = ("22:00-07:30",)
    timezone: str = ""  # IANA name; empty: this machine's local zone
    leds: LedConfig = field(default_factory=LedConfig)
    comfort: ComfortConfig = field(default_factory=ComfortConfig)

    def __post_init__(self):
        for spec in self.quiet_hours:
            _parse_hours(spec)
        if self.timezone:
            try:
                ZoneInfo(self.timezone)
            except (ZoneInfoNotFoundError, ValueError) as e:
                raise ValueError(f"reactions.timezone: unknown time zone {self.timezone!r}") from e

    def is_quiet(self, moment: datetime) -> bool:
        local = moment.astimezone(ZoneInfo(self.timezone) if self.timezone else None).time()
        for spec in self.quiet_hours:
            start, end = _parse_hours(spec)
            if (start <= local < end) if start <= end else (local >= start or local < end):
                return True
        return False


def _parse_hours(spec: str) -> tuple[time, time]:
    try:
        start, end = spec.split("-")
        return parse_time_of_day(start), parse_time_of_day(end)
    except ValueError:
        raise ValueError(f"reactions.quiet_hours: {spec!r} is not HH:MM-HH:MM") from None


def last_alert(store: Store, source_id: str) -> datetime | None:
    """When the source's latest stored alert was, or None."""
    latest = store.events(source_id=source_id, kinds=[ALERT], limit=1, newest_first=True)
    return latest[0].time if latest else None


class Reactions:
    """Called with each newly stored utterance; talks to the robot and records alerts through ``record``."""

    def __init__(
        self,
        config: ReactionConfig,
        robot: RobotClient | None,
        record: Callable[[NewEvent], None],
        source_id: str,
        last_alert: datetime | None = None,
    ):
        """``last_alert``: when the source's latest alert was (:func:`last_alert`), so that the cool-down holds
        across restarts: a monitor in a crash loop must not comfort the person again at every start."""
        self.config = config
        self.robot = robot
        self.record = record
        self.source_id = source_id
        self._window: deque[NewUtterance] = deque()
        self._last_alert = last_alert
        self._alerts = 0

    def __call__(self, utterance: NewUtterance) -> None:
        quiet = self.config.is_quiet(utterance.end)
        leds = self.config.leds
        if self.robot is not None and leds.enabled and (leds.during_quiet_hours or not quiet):
            colour = leds.colours.get(utterance.label)
            if colour is not None:
                self._robot_call(self.robot.set_led_colour, colour)
        if self.config.comfort.enabled:
            self._check_comfort(utterance, quiet)

    def _check_comfort(self, utterance: NewUtterance, quiet: bool) -> None:
        comfort = self.config.comfort
        self._window.append(utterance)
        horizon = utterance.end - timedelta(minutes=comfort.window_minutes)
        while self._window and self._window[0].end <= horizon:
            self._window.popleft()
        seconds = [((u.end - max(u.start, horizon)).total_seconds(), u.label) for u in self._window]
        speech = sum(s for s, _ in seconds)
        target = sum(s for s, label in seconds if label == comfort.emotion)
        if speech < comfort.min_speech_s or target < comfort.min_share * speech:
            return
        cooldown = timedelta(minutes=comfort.cooldown_minutes)
        if self._last_alert is not None and utterance.end - self._last_alert < cooldown:
            return
        self._last_alert = utterance.end
        self._alert(utterance.end, target / speech, speech, quiet)

    def _alert(self, moment: datetime, share: float, speech: float, quiet: bool) -> None:
        comfort = self.config.comfort
        sentence = comfort.sentences[self._alerts % len(comfort.sentences)]
        self._alerts += 1
        spoken = False
        if quiet:
            reason = "quiet hours"
        elif self.robot is None:
            reason = "no robot"
        else:
            spoken = self._robot_call(self.robot.say, sentence)
            reason = "" if spoken else "robot call failed"
        said = f"; the robot said: {sentence}" if spoken else f"; the robot stayed silent ({reason})"
        message = alert_message(comfort.emotion, share, speech, comfort.window_minutes) + said
        because = {"reason": reason} if reason else {}
        log_event(log, logging.WARNING, "alert", source=self.source_id, share=share, spoken=spoken, **because)
        data = {
            "emotion": comfort.emotion,
            "share": round(share, 3),
            "speech_s": round(speech, 1),
            "window_minutes": comfort.window_minutes,
            "spoken": spoken,
            "sentence": sentence if spoken else None,
            "reason": reason or None,
        }
        self.record(NewEvent(source_id=self.source_id, kind=ALERT, message=message, time=moment, data=data))

    def _robot_call(self, method: Callable[[str], bool], argument: str) -> bool:
        try:
            if method(argument):
                return True
            error = "the robot did not take it"
        except Exception as e:  # a robot off the network must not stop the monitor
            error = e
        log_event(log, logging.WARNING, "robot call failed", source=self.source_id, call=method.__name__, error=error)
        return False
