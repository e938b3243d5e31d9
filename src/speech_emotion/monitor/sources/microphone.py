"""This machine's microphone through PortAudio (sounddevice), recorded at 16 kHz mono.

PortAudio calls back on its own thread with each block; the block goes through a bounded mailbox to
``chunks()``. Capture times come from PortAudio's ADC clock when the host API reports it, else from the
wall clock at the callback minus the block's duration. An input overflow reported by the sound card becomes
an ``overrun`` event. A stream that stops by itself (a device unplugged) ends ``chunks()`` with a
``disconnected`` event and a :class:`SourceError`: a microphone is not reopened behind the caller's back.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

from speech_emotion.audio import CHUNK_SAMPLES, SAMPLE_RATE
from speech_emotion.monitor.sources.base import (
    DEFAULT_QUEUE_CHUNKS,
    AudioChunk,
    EventKind,
    Mailbox,
    Source,
    SourceError,
    SourceEvent,
    drain,
)


class MicrophoneSource(Source):
    def __init__(
        self,
        device: int | str | None = None,
        *,
        block_samples: int = CHUNK_SAMPLES,
        max_queue_chunks: int = DEFAULT_QUEUE_CHUNKS,
        source_id: str | None = None,
        on_event: Callable[[SourceEvent], None] | None = None,
    ):
        super().__init__(source_id or f"mic:{device if device is not None else 'default'}", on_event)
        self.device = device
        self.block_samples = block_samples
        self.max_queue_chunks = max_queue_chunks

    def chunks(self, stop: threading.Event) -> Iterator[AudioChunk]:
        sd = _sounddevice()
        mailbox = Mailbox(self, self.max_queue_chunks)

        def on_block(indata, frames, times, status) -> None:
            now = time.time()
            adc = times.inputBufferAdcTime
            start = now - (times.currentTime - adc) if adc > 0 else now - frames / SAMPLE_RATE
            if status.input_overflow:
                mailbox.put_event(self._event(EventKind.OVERRUN, "the sound card dropped input (input overflow)"))
            mailbox.put_chunk(AudioChunk(indata[:, 0].copy(), start, self.source_id))

        try:
            stream = sd.InputStream(
                samplerate=SAMPLE_RATE,
                channels=1,
                dtype="float32",
                blocksize=self.block_samples,
                device=self.device,
                callback=on_block,
            )
        except (sd.PortAudioError, ValueError) as e:
            raise SourceError(self.source_id, f"cannot open the microphone ({e})") from e
        with stream:
            self._deliver(self._event(EventKind.CONNECTED, f"recording from {stream.device!r} at {SAMPLE_RATE} Hz"))
            yield from drain(self, mailbox, stop, alive=lambda: stream.active)
        if not stop.is_set():
            self._deliver(self._event(EventKind.DISCONNECTED, "the microphone stopped delivering audio"))
            raise SourceError(self.source_id, "the microphone stopped delivering audio (unplugged?)")


def _sounddevice():
    try:
        import sounddevice
    except OSError as e:  # the Python package is there but the PortAudio library is not
        raise SourceError("microphone", f"PortAudio is not installed ({e})") from e
    return sounddevice
