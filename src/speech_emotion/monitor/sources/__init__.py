"""Where the monitor's audio comes from: a NAO robot (``nao``), this machine's microphone (``microphone``), or
recordings (``file``). Each module is imported on its own, so a monitor of files never loads qi or PortAudio.

See :mod:`speech_emotion.monitor.sources.base` for the contract every source keeps.
"""
