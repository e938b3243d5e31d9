"""Speech segmentation: a stream of 16 kHz audio chunks in, utterances with their capture times out.

A voice activity detector (webrtcvad, or Silero VAD; see docs/monitor.md for the measurements behind the
default) labels fixed frames as speech or not. An utterance starts at a speech frame (with ``padding_s`` of
audio before it), survives pauses shorter than ``hangover_s``, and ends ``padding_s`` after its last speech
frame. Utterances whose speech spans less than ``min_utterance_s`` are dropped (coughs, clicks); one that
reaches ``max_utterance_s`` is split at its longest pause, or at its quietest frame if it has none.

Each utterance also carries its ``context``: the stream from up to ``context_s`` before it to up to
``context_s`` after it, stopping at the neighbouring utterances. The recogniser hears the context, because the
models were trained on whole corpus files, silence and all, and recognise speech cut tightly far worse
(docs/monitor.md has the figures); the utterance's own bounds stay what is stored and counted as speech. An
utterance is handed on once its context after it has arrived, so ``context_s`` adds to the latency.

Times are sample counts from the capture time of the first chunk of a continuous stretch, so chunk sizes and
replay speed change nothing: the same audio gives the same utterances with the same times. A chunk whose
start is more than ``GAP_TOLERANCE_S`` away from where the stream should be (a network drop, a restarted
robot) ends the current utterance and starts a new stretch at that chunk's own time.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np
import webrtcvad

from speech_emotion.audio import SAMPLE_RATE, TimedAudio

GAP_TOLERANCE_S = 0.05
ENGINES = ("webrtc", "silero")


@dataclass(frozen=True)
class Utterance(TimedAudio):
    """The audio of one utterance cut out by the VAD, and ``context``: the same stretch of the stream with up to
    ``context_s`` either side, what the recogniser hears (None: the utterance alone)."""

    context: np.ndarray | None = None

    @property
    def heard(self) -> np.ndarray:
        """What the recogniser should hear: the context where there is one."""
        return self.samples if self.context is None else self.context


class SpeechDetector(Protocol):
    """Says whether one frame of ``frame_samples`` float32 samples is speech; may keep state between frames."""

    frame_samples: int

    def __call__(self, frame: np.ndarray) -> bool: ...

    def reset(self) -> None: ...


class WebRtcDetector:
    """The WebRTC GMM detector on 30 ms frames; ``aggressiveness`` 0 (keeps most) to 3 (rejects most)."""

    frame_samples = 480

    def __init__(self, aggressiveness: int = 3):
        self.aggressiveness = aggressiveness
        self._vad = webrtcvad.Vad(aggressiveness)

    def __call__(self, frame: np.ndarray) -> bool:
        pcm = np.clip(frame * 32768.0, -32768, 32767).astype(np.int16)
        return self._vad.is_speech(pcm.tobytes(), SAMPLE_RATE)

    def reset(self) -> None:
        self._vad = webrtcvad.Vad(self.aggressiveness)


class SileroDetector:
    """Silero VAD (its packaged TorchScript model) on 32 ms frames, with the package's own hysteresis:
    speech starts at ``threshold`` and continues while the probability stays above ``threshold - 0.15``.

    The thread that calls it runs PyTorch on one thread (the OpenMP setting is per thread, so the
    recogniser's thread keeps its own): a 32 ms frame is too little work to share, and on a busy two-core
    machine two threads made each frame ten times slower.
    """

    frame_samples = 512

    def __init__(self, threshold: float = 0.5):
        import torch

        self._torch = torch
        self._model = load_silero_model()
        self._single_threaded = threading.local()
        self.threshold = threshold
        self._speaking = False

    def __call__(self, frame: np.ndarray) -> bool:
        if not getattr(self._single_threaded, "done", False):
            self._torch.set_num_threads(1)
            self._single_threaded.done = True
        with self._torch.inference_mode():
            prob = float(self._model(self._torch.from_numpy(np.ascontiguousarray(frame)), SAMPLE_RATE))
        self._speaking = prob >= (self.threshold - 0.15 if self._speaking else self.threshold)
        return self._speaking

    def reset(self) -> None:
        self._model.reset_states()
        self._speaking = False


def load_silero_model():
    """Silero VAD's packaged model, leaving this thread's PyTorch thread count as it was."""
    import torch

    threads = torch.get_num_threads()
    from silero_vad import load_silero_vad  # importing it sets this thread to one torch thread

    torch.set_num_threads(threads)
    return load_silero_vad()


@dataclass(frozen=True)
class VadConfig:
    engine: str = "silero"
    threshold: float = 0.5  # silero: speech probability that starts speech
    aggressiveness: int = 3  # webrtc: 0-3
    hangover_s: float = 0.3
    padding_s: float = 0.1
    min_utterance_s: float = 0.4
    max_utterance_s: float = 10.0
    context_s: float = 1.0  # audio the recogniser hears either side of an utterance (not stored as speech)

    def __post_init__(self):
        if self.engine not in ENGINES:
            raise ValueError(f"vad.engine must be one of {', '.join(ENGINES)}, not {self.engine!r}")
        if self.aggressiveness not in (0, 1, 2, 3):
            raise ValueError(f"vad.aggressiveness must be 0, 1, 2 or 3, not {self.aggressiveness!r}")
        if not 0.0 < self.threshold < 1.0:
            raise ValueError(f"vad.threshold must be between 0 and 1, not {self.threshold!r}")
        for name in ("hangover_s", "padding_s", "min_utterance_s", "max_utterance_s", "context_s"):
            if getattr(self, name) < 0:
                raise ValueError(f"vad.{name} must not be negative")
        if self.max_utterance_s < 2 * self.min_utterance_s + 0.1:
            raise ValueError("vad.max_utterance_s must be at least twice vad.min_utterance_s plus 0.1 s")

    def detector(self) -> SpeechDetector:
        if self.engine == "webrtc":
            return WebRtcDetector(self.aggressiveness)
        return SileroDetector(self.threshold)

    def segmenter(self) -> Segmenter:
        return Segmenter(self.detector(), self)


@dataclass(frozen=True)
class _Frame:
    index: int  # first sample, counted from the start of the current continuous stretch
    samples: np.ndarray
    speech: bool
    energy: float


@dataclass
class _Waiting:
    """An utterance waiting for the context after it; sample indices count from the start of the stretch."""

    utterance: Utterance
    context_from: int
    context_to: int  # exclusive; lowered when another utterance starts before it


class Segmenter:
    """Streaming utterance detection for one source: ``push`` chunks of any size, ``flush`` at the end."""

    def __init__(self, detector: SpeechDetector, config: VadConfig | None = None):
        self.detector = detector
        self.config = config or VadConfig()
        n = detector.frame_samples
        seconds = n / SAMPLE_RATE
        self._hangover = max(1, round(self.config.hangover_s / seconds))
        self._padding = round(self.config.padding_s / seconds)
        self._min_speech = round(self.config.min_utterance_s / seconds)
        self._max_frames = max(2 * self._min_speech + 2, round(self.config.max_utterance_s / seconds))
        self._origin: float | None = None  # capture time of sample 0 of the current stretch
        self._received = 0  # samples received in the current stretch
        self._pending = np.zeros(0, np.float32)  # samples not yet making a whole frame
        self._preroll: deque[_Frame] = deque(maxlen=max(self._padding, 1))
        self._frames: list[_Frame] | None = None  # the utterance in progress
        self._silence_run = 0
        self._context = round(self.config.context_s * SAMPLE_RATE)  # in samples
        # an utterance starting up to ``padding_s`` before a frame is known once that frame is judged
        self._lookahead = self._padding * n if self._context else 0
        self._history: deque[tuple[int, np.ndarray]] = deque()  # (first index, samples) received, oldest first
        self._waiting: deque[_Waiting] = deque()
        self._judged = 0  # samples of the stretch the detector has judged
        self._last_end = 0  # where the stretch's last utterance ended: the next one's context starts no earlier

    def push(self, samples: np.ndarray, start: float) -> list[Utterance]:
        """Add a chunk whose first sample was captured at ``start``; returns the utterances it completed."""
        out = []
        expected = self.expected_time
        if expected is None or abs(start - expected) > GAP_TOLERANCE_S:
            out += self.flush()
            self._origin, self._received = start, 0
        samples = np.asarray(samples, dtype=np.float32)
        first_index = self._received - len(self._pending)
        if self._context and len(samples):
            self._history.append((self._received, samples))
        self._pending = np.concatenate([self._pending, samples]) if len(self._pending) else samples
        self._received += len(samples)
        n = self.detector.frame_samples
        whole = len(self._pending) // n
        for i in range(whole):
            frame = self._pending[i * n : (i + 1) * n]
            energy = float(np.dot(frame, frame)) / n
            self._step(_Frame(first_index + i * n, frame, self.detector(frame), energy))
        self._pending = self._pending[whole * n :].copy()
        self._judged = first_index + whole * n
        out += self._release(self._judged - self._lookahead)
        self._forget_history()
        return out

    def flush(self) -> list[Utterance]:
        """End of the stretch (end of stream, shutdown, gap): the utterance in progress, if long enough."""
        if self._frames is not None:
            if len(self._pending):
                tail = self._received - len(self._pending)
                self._frames.append(_Frame(tail, self._pending, False, 0.0))
            self._emit(self._frames)
        for waiting in self._waiting:  # the stretch ends here: its last utterances get the context there is
            waiting.context_to = min(waiting.context_to, self._received)
        out = self._release(self._received)
        self._pending = np.zeros(0, np.float32)
        self._frames, self._silence_run = None, 0
        self._preroll.clear()
        self._history.clear()
        self._judged = self._last_end = 0
        self.detector.reset()
        return out

    @property
    def expected_time(self) -> float | None:
        """Capture time the next chunk should start at, if the stream is continuous (None before any)."""
        return None if self._origin is None else self._origin + self._received / SAMPLE_RATE

    def _step(self, frame: _Frame) -> None:
        if self._frames is None:
            if not frame.speech:
                if self._padding:
                    self._preroll.append(frame)
                return
            self._frames, self._silence_run = [*self._preroll, frame], 0
            self._preroll.clear()
            self._cut_context_at(self._frames[0].index)
            return
        self._frames.append(frame)
        self._silence_run = 0 if frame.speech else self._silence_run + 1
        if self._silence_run >= self._hangover:
            self._end()
        elif len(self._frames) >= self._max_frames:
            self._split()

    def _end(self) -> None:
        frames, keep = self._frames, len(self._frames) - self._silence_run + self._padding
        self._frames, self._silence_run = None, 0
        self._preroll.extend(frames[keep:])
        self._emit(frames[:keep])

    def _split(self) -> None:
        frames = self._frames
        at = _split_point(frames, self._min_speech)
        self._frames = frames[at:]
        self._silence_run = _trailing_silence(self._frames)
        self._emit(frames[:at])
        self._cut_context_at(self._frames[0].index)

    def _emit(self, frames: list[_Frame]) -> None:
        """Queue the utterance made of ``frames``, if it has enough speech, to wait for its context."""
        speech = [i for i, f in enumerate(frames) if f.speech]
        if not speech or speech[-1] - speech[0] + 1 < self._min_speech:
            return
        first, end = frames[0].index, frames[-1].index + len(frames[-1].samples)
        utterance = Utterance(np.concatenate([f.samples for f in frames]), self._origin + first / SAMPLE_RATE)
        self._waiting.append(_Waiting(utterance, max(first - self._context, self._last_end), end + self._context))
        self._last_end = end

    def _cut_context_at(self, index: int) -> None:
        """Another utterance starts at ``index``: the context of those waiting ends there."""
        for waiting in self._waiting:
            waiting.context_to = min(waiting.context_to, index)

    def _release(self, known: int) -> list[Utterance]:
        """The waiting utterances whose context ends by sample ``known``, with their context."""
        out = []
        while self._waiting and self._waiting[0].context_to <= known:
            waiting = self._waiting.popleft()
            context = self._stretch(waiting.context_from, waiting.context_to) if self._context else None
            out.append(replace(waiting.utterance, context=context))
        return out

    def _stretch(self, begin: int, end: int) -> np.ndarray:
        """Samples ``begin`` to ``end`` (exclusive) of the stretch, from the history."""
        parts = [c[max(begin - at, 0) : end - at] for at, c in self._history if begin < at + len(c) and at < end]
        return np.concatenate(parts) if parts else np.zeros(0, np.float32)

    def _forget_history(self) -> None:
        """Drop received audio that no waiting or future utterance's context can reach."""
        if not self._context:
            return
        if self._frames is not None:
            next_start = self._frames[0].index
        else:  # the next utterance will start with the frames held before it
            next_start = self._preroll[0].index if self._preroll else self._judged
        keep_from = min([next_start - self._context, *(w.context_from for w in self._waiting)])
        while self._history and self._history[0][0] + len(self._history[0][1]) <= keep_from:
            self._history.popleft()


def _split_point(frames: list[_Frame], margin: int) -> int:
    """Where to cut an over-long utterance: the middle of its longest pause, else its quietest frame,
    at least ``margin`` frames from either end so both parts can still be utterances."""
    lo, hi = margin, len(frames) - margin
    best_len, best_at, run = 0, -1, 0
    for i in range(lo, hi):
        run = 0 if frames[i].speech else run + 1
        if run > best_len:
            best_len, best_at = run, i - run // 2
    if best_len:
        return best_at
    energies = np.array([f.energy for f in frames])
    smoothed = np.convolve(energies, np.ones(3) / 3, mode="same")  # its zero-padded ends lie outside [lo, hi)
    return lo + int(np.argmin(smoothed[lo:hi]))


def _trailing_silence(frames: list[_Frame]) -> int:
    run = 0
    for f in reversed(frames):
        if f.speech:
            break
        run += 1
    return run
