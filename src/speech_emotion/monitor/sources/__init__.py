"""Where the monitor's audio comes from: a NAO robot, this machine's microphone, or recordings.

See :mod:`speech_emotion.monitor.sources.base` for the contract every source keeps.
"""

from speech_emotion.monitor.sources.base import AudioChunk, EventKind, Source, SourceError, SourceEvent
from speech_emotion.monitor.sources.file import FileSource
from speech_emotion.monitor.sources.microphone import MicrophoneSource
from speech_emotion.monitor.sources.nao import NaoSource
from speech_emotion.robot.client import RobotClient

__all__ = [
    "AudioChunk",
    "EventKind",
    "FileSource",
    "MicrophoneSource",
    "NaoSource",
    "RobotClient",
    "Source",
    "SourceError",
    "SourceEvent",
]
