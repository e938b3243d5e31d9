"""Reactions (LED per emotion, comfort when sadness dominates, quiet hours, rate limit) and the config file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from importlib import resources

import pytest

from monitor_helpers import RecordingRobot
from speech_emotion.monitor.config import ConfigError, MonitorConfig, load_config
from speech_emotion.monitor.reactions import ComfortConfig, LedConfig, ReactionConfig, Reactions, last_alert
from speech_emotion.store import NewEvent, NewUtterance, Store

NOON = datetime(2025, 3, 3, 12, 0, tzinfo=UTC)
COMFORT = ComfortConfig(window_minutes=5, min_share=0.5, min_speech_s=20, cooldown_minutes=30, sentences=("a", "b"))


def utterance(start: datetime, seconds: float, label: str) -> NewUtterance:
    return NewUtterance("nao", start, start + timedelta(seconds=seconds), label, {label: 0.9}, "m")


def speak(reactions: Reactions, start: datetime, labels: str, seconds: float = 4.0, every_s: float = 10.0):
    """One utterance of ``seconds`` every ``every_s`` seconds from ``start``, one per letter of ``labels``
    (s: sad, n: neutral, h: happy, a: angry)."""
    names = {"s": "sad", "n": "neutral", "h": "happy", "a": "angry"}
    for i, letter in enumerate(labels):
        reactions(utterance(start + timedelta(seconds=i * every_s), seconds, names[letter]))


def make(config: ReactionConfig, robot=None):
    events: list[NewEvent] = []
    return Reactions(config, robot, events.append, "nao"), events


def test_each_utterance_sets_the_led_colour_of_its_emotion():
    robot = RecordingRobot()
    reactions, events = make(ReactionConfig(quiet_hours=(), comfort=ComfortConfig(enabled=False)), robot)
    speak(reactions, NOON, "nhas")
    colours = LedConfig().colours
    assert robot.calls == [("set_led_colour", colours[c]) for c in ("neutral", "happy", "angry", "sad")]
    assert events == []


def test_a_label_without_a_colour_leaves_the_leds_alone():
    robot = RecordingRobot()
    config = ReactionConfig(quiet_hours=(), leds=LedConfig(colours={"sad": "#0000FF"}))
    reactions, _ = make(config, robot)
    speak(reactions, NOON, "ns")
    assert robot.calls == [("set_led_colour", "#0000FF")]


def test_sadness_dominating_the_window_is_comforted_and_alerted():
    robot = RecordingRobot()
    reactions, events = make(ReactionConfig(quiet_hours=(), leds=LedConfig(enabled=False), comfort=COMFORT), robot)
    speak(reactions, NOON, "nnsss")  # 12 s of sad speech out of 20 s by the fifth utterance
    assert robot.calls == [("say", "a")]
    [alert] = events
    assert alert.kind == "alert" and alert.source_id == "nao"
    assert alert.time == NOON + timedelta(seconds=44)  # the capture time of the utterance that tipped it
    assert alert.data["spoken"] is True and alert.data["sentence"] == "a" and alert.data["share"] == 0.6
    said = "; the robot said: a"
    assert alert.message == "Mostly sad-sounding speech in the last 5 minutes (60% of 20 s of speech)" + said


@pytest.mark.parametrize(
    "labels, why",
    [
        ("nnnss", "sad is 40% of the speech"),
        ("sss", "12 s of speech is too little to judge"),
        ("hshshs", "sad is at most half of the speech"),
    ],
)
def test_no_alert_without_enough_sad_speech(labels, why):
    robot = RecordingRobot()
    comfort = ComfortConfig(window_minutes=5, min_share=0.55, min_speech_s=20, sentences=("a",))
    reactions, events = make(ReactionConfig(quiet_hours=(), comfort=comfort), robot)
    speak(reactions, NOON, labels)
    assert events == [] and not [c for c in robot.calls if c[0] == "say"], why


def test_only_the_last_minutes_count():
    reactions, events = make(ReactionConfig(quiet_hours=(), comfort=COMFORT), RecordingRobot())
    speak(reactions, NOON, "sssss", every_s=100)  # 4 s of sad speech every 100 s: never 20 s within 5 min
    assert events == []
    speak(reactions, NOON + timedelta(hours=1), "sssss", every_s=10)
    assert len(events) == 1


def test_the_cooldown_rate_limits_alerts():
    robot = RecordingRobot()
    reactions, events = make(ReactionConfig(quiet_hours=(), leds=LedConfig(enabled=False), comfort=COMFORT), robot)
    speak(reactions, NOON, "s" * 120, every_s=20)  # 40 minutes of sadness
    assert [e.time for e in events] == [NOON + timedelta(seconds=84), NOON + timedelta(seconds=84, minutes=30)]
    assert robot.calls == [("say", "a"), ("say", "b")]  # sentences in turn


def test_quiet_hours_store_the_alert_but_keep_the_robot_quiet():
    robot = RecordingRobot()
    config = ReactionConfig(quiet_hours=("22:00-07:30",), timezone="Europe/London", comfort=COMFORT)
    reactions, events = make(config, robot)
    speak(reactions, datetime(2025, 3, 3, 23, 0, tzinfo=UTC), "sssss")  # 23:00 in London (GMT)
    assert robot.calls == []
    [alert] = events
    assert alert.data["spoken"] is False and alert.data["reason"] == "quiet hours"
    assert alert.message.endswith("; the robot stayed silent (quiet hours)")
    speak(reactions, datetime(2025, 3, 4, 8, 0, tzinfo=UTC), "n")  # morning: LEDs again
    assert robot.calls == [("set_led_colour", LedConfig().colours["neutral"])]


def test_quiet_hours_follow_the_time_zone_and_may_cross_midnight():
    config = ReactionConfig(quiet_hours=("22:00-07:30", "13:00-14:00"), timezone="America/New_York")
    at = lambda h, m: datetime(2025, 7, 1, h, m, tzinfo=UTC)  # noqa: E731  (New York is UTC-4 in July)
    assert [config.is_quiet(at(h, m)) for h, m in [(2, 0), (11, 29), (11, 30), (17, 30), (18, 0), (1, 59)]] == [
        True, True, False, True, False, False,
    ]  # fmt: skip


def test_alerts_are_stored_without_a_robot_and_when_it_fails():
    reactions, events = make(ReactionConfig(quiet_hours=(), comfort=COMFORT), None)
    speak(reactions, NOON, "sssss")
    assert [e.data["reason"] for e in events] == ["no robot"]

    for failure in ("refuse", "raise"):
        robot = RecordingRobot(fail=failure)
        reactions, events = make(ReactionConfig(quiet_hours=(), comfort=COMFORT), robot)
        speak(reactions, NOON, "sssss")
        assert [e.data["reason"] for e in events] == ["robot call failed"] and len(robot.calls) == 6


def test_the_example_config_is_complete_and_holds_the_defaults():
    example = resources.files("speech_emotion") / "data" / "monitor-example.toml"
    with resources.as_file(example) as path:
        assert load_config(path) == MonitorConfig()
    assert load_config(None) == MonitorConfig()


def test_a_config_file_overrides_what_it_names(tmp_path):
    path = tmp_path / "monitor.toml"
    path.write_text(
        '[vad]\nengine = "webrtc"\nmax_utterance_s = 6\n'
        '[reactions]\nquiet_hours = []\n[reactions.comfort]\nsentences = ["There, there."]\n'
        '[reactions.leds.colours]\nsad = "#123456"\n'
    )
    config = load_config(path)
    assert config.vad.engine == "webrtc" and config.vad.max_utterance_s == 6.0
    assert config.reactions.quiet_hours == () and config.reactions.comfort.sentences == ("There, there.",)
    assert config.reactions.leds.colours == {"sad": "#123456"}
    assert config.adaptation == MonitorConfig().adaptation


@pytest.mark.parametrize(
    "text, message",
    [
        ("[vad]\nengin = 'silero'\n", "vad.engin: unknown key"),
        ("[vad]\nhangover_s = 'long'\n", "vad.hangover_s: expected a number, got 'long'"),
        ("[adaptation]\nenabled = 1\n", "adaptation.enabled: expected true or false"),
        ("[pipeline]\nqueue_size = 2.5\n", "pipeline.queue_size: expected an integer"),
        ("[reactions]\nquiet_hours = ['late']\n", "reactions.quiet_hours: 'late' is not HH:MM-HH:MM"),
        ("[reactions]\nquiet_hours = ['22:00-24:30']\n", "reactions.quiet_hours: '22:00-24:30' is not HH:MM-HH:MM"),
        ("[reactions]\ntimezone = 'Mars/Olympus'\n", "reactions.timezone: unknown time zone"),
        ("[reactions.leds.colours]\nsad = 'blue'\n", "reactions.leds.colours.sad: 'blue' is not a #RRGGBB"),
        ("[reactions.comfort]\nmin_share = 2\n", "reactions.comfort.min_share must be in (0, 1]"),
        ("reactions = 3\n", "reactions: expected a table"),
        ("[vad\n", "not valid TOML"),
    ],
)
def test_config_mistakes_are_one_line_errors_naming_the_key(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert str(error.value).startswith(f"{path}: ") and message in str(error.value)
    assert "\n" not in str(error.value)


def test_a_missing_config_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match="no such configuration file"):
        load_config(tmp_path / "nope.toml")


def test_the_cool_down_holds_across_a_restart(tmp_path):
    """A monitor in a crash loop: the last alert comes from the store, so a restart does not comfort again."""
    store = Store(f"sqlite:///{tmp_path / 'monitor.db'}")
    try:
        config = ReactionConfig(quiet_hours=(), leds=LedConfig(enabled=False), comfort=COMFORT)
        first = Reactions(config, RecordingRobot(), store.add_event, "nao", last_alert(store, "nao"))
        speak(first, NOON, "nnsss")
        assert last_alert(store, "nao") == NOON + timedelta(seconds=44) and last_alert(store, "other") is None
        robot = RecordingRobot()  # the monitor restarts a minute later; the person is still sad
        again = Reactions(config, robot, store.add_event, "nao", last_alert(store, "nao"))
        speak(again, NOON + timedelta(minutes=1), "sssss")
        assert robot.calls == [] and len(store.events(kinds=["alert"])) == 1
        fresh = RecordingRobot()  # as it was before: a monitor that forgot its alerts comforts at once
        speak(Reactions(config, fresh, store.add_event, "nao"), NOON + timedelta(minutes=1), "sssss")
        assert fresh.calls == [("say", "a")]
    finally:
        store.close()
