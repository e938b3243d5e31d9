"""The monitor's configuration file (TOML): one table per part, every key optional, unknown keys refused.

The keys and their defaults are the fields of the part's config dataclass; ``docs/monitor.md`` lists them
and ``speech_emotion/data/monitor-example.toml`` is a complete, commented example. A mistake is a one-line
error naming the file, the key and what is wrong with it.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from speech_emotion.errors import SpeechEmotionError
from speech_emotion.monitor.adaptation import AdaptationConfig
from speech_emotion.monitor.daily_reports import ReportConfig
from speech_emotion.monitor.pipeline import PipelineConfig
from speech_emotion.monitor.reactions import ReactionConfig
from speech_emotion.vad import VadConfig


class ConfigError(SpeechEmotionError):
    """``"<file>: <key>: <reason>"``."""


@dataclass(frozen=True)
class MonitorConfig:
    vad: VadConfig = field(default_factory=VadConfig)
    adaptation: AdaptationConfig = field(default_factory=AdaptationConfig)
    pipeline: PipelineConfig = field(default_factory=PipelineConfig)
    reactions: ReactionConfig = field(default_factory=ReactionConfig)
    reports: ReportConfig = field(default_factory=ReportConfig)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def load_config(path: str | os.PathLike | None) -> MonitorConfig:
    """The configuration in ``path``, or every default when ``path`` is None."""
    if path is None:
        return MonitorConfig()
    path = Path(path)
    try:
        with open(path, "rb") as f:
            table = tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such configuration file") from None
    except OSError as e:
        raise ConfigError(f"{path}: cannot read ({e.strerror})") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML ({e})") from None
    return _build(MonitorConfig, table, "", path)


def _build(cls: type, table: dict, where: str, path: Path):
    defaults = {f.name: f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
                for f in dataclasses.fields(cls)}  # fmt: skip
    values = {}
    for key, value in table.items():
        name = f"{where}{key}"
        if key not in defaults:
            raise ConfigError(f"{path}: {name}: unknown key (known: {', '.join(defaults)})")
        values[key] = _value(defaults[key], value, name, path)
    try:
        return cls(**values)
    except (ValueError, SpeechEmotionError) as e:
        raise ConfigError(f"{path}: {e}") from None


def _value(default, value, name: str, path: Path):
    """``value`` checked against the type of the key's default."""

    def wrong(expected: str) -> ConfigError:
        return ConfigError(f"{path}: {name}: expected {expected}, got {value!r}")

    if dataclasses.is_dataclass(default):
        if not isinstance(value, dict):
            raise wrong("a table")
        return _build(type(default), value, f"{name}.", path)
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise wrong("true or false")
        return value
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise wrong("an integer")
        return value
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise wrong("a number")
        return float(value)
    if isinstance(default, str):
        if not isinstance(value, str):
            raise wrong("a string")
        return value
    if isinstance(default, tuple):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise wrong("a list of strings")
        return tuple(value)
    if isinstance(default, dict):
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise wrong("a table of strings")
        return dict(value)
    raise TypeError(f"{name}: no rule for {type(default).__name__} keys")
