"""Audio in: any file libsndfile reads, returned as 16 kHz mono float32 in [-1, 1].

Files are read in blocks, mixed down and resampled as a stream (soxr), so memory holds only the
16 kHz output, and a length cap is checked from the header before any sample is read.
"""

from __future__ import annotations

import hashlib
import os
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from speech_emotion.errors import AudioError

SAMPLE_RATE = 16_000
DEFAULT_MAX_SECONDS = 3600.0
CHUNK_SAMPLES = 2730  # 170 ms at 16 kHz: one NAO microphone buffer (8192 samples at 48 kHz, decimated by 3)
_BLOCK_FRAMES = 1 << 18
_HASH_BLOCK = 1 << 20
CLIP_LEVEL = 0.999
CLIP_SHARE = 0.01  # of a buffer's samples at full scale: the input is clipping


def load_audio(path: str | os.PathLike, max_seconds: float | None = DEFAULT_MAX_SECONDS) -> np.ndarray:
    """Read ``path`` as 16 kHz mono float32; raise :class:`AudioError` naming the file and reason."""
    path = Path(path)
    with _open(path, max_seconds) as f:
        try:
            audio, frames = _read_resampled(f)
        except (sf.LibsndfileError, RuntimeError, ValueError) as e:
            raise AudioError(path, f"corrupt or truncated audio ({_libsndfile_reason(e)})") from e
        if frames < f.frames:
            raise AudioError(path, f"truncated: the header promises {f.frames} frames, the file holds {frames}")
    return check_samples(audio, path)


def probe_audio(path: str | os.PathLike, max_seconds: float | None = DEFAULT_MAX_SECONDS) -> None:
    """Raise the :class:`AudioError` :func:`load_audio` would for a file it cannot open, without decoding it."""
    with _open(Path(path), max_seconds):
        pass


def _open(path: Path, max_seconds: float | None) -> sf.SoundFile:
    if not path.exists():
        raise AudioError(path, "no such file")
    if path.is_dir():
        raise AudioError(path, "is a directory, not an audio file")
    if not path.is_file():
        raise AudioError(path, "not a regular file (a pipe or device cannot be read as audio)")
    if not os.access(path, os.R_OK):
        raise AudioError(path, "permission denied")
    try:
        f = sf.SoundFile(path)
    except (sf.LibsndfileError, RuntimeError) as e:
        raise AudioError(path, f"not a readable audio file ({_libsndfile_reason(e)})") from e
    try:
        promised = _wav_header_frames(path) if f.format == "WAV" else 0
        if promised > f.frames:
            raise AudioError(path, f"truncated: the header promises {promised} frames, the file holds {f.frames}")
        _check_length(path, f.frames, f.samplerate, max_seconds)
    except AudioError:
        f.close()
        raise
    return f


def check_samples(audio: np.ndarray, source: object) -> np.ndarray:
    """Reject empty or non-finite audio; return it as contiguous float32."""
    audio = np.ascontiguousarray(audio, dtype=np.float32)
    if audio.size == 0:
        raise AudioError(source, "contains no audio samples")
    if not np.isfinite(audio).all():
        raise AudioError(source, "contains NaN or infinite samples")
    return audio


def repair_samples(samples: object) -> tuple[np.ndarray, list[tuple[str, str]]]:
    """A live buffer as finite 1-D float32 in [-1, 1], and what had to be done about it as (kind, detail); where
    :func:`check_samples` refuses a bad file, a stream goes on."""
    problems = []
    x = np.asarray(samples) if samples is not None else np.zeros(0, np.float32)
    if x.dtype.kind in "iu":
        problems.append(("converted", f"{x.dtype} samples scaled to float"))
        x = x.astype(np.float32) / np.float32(np.iinfo(x.dtype).max + 1)
    elif x.dtype.kind != "f":
        return np.zeros(0, np.float32), [("not_audio", f"{x.dtype} samples dropped")]
    if x.ndim == 2:
        problems.append(("converted", f"{x.shape[1]} channels mixed down"))
        x = x.mean(axis=1)
    elif x.ndim != 1:
        return np.zeros(0, np.float32), [("not_audio", f"samples of shape {x.shape} dropped")]
    x = x.astype(np.float32, copy=True)
    if x.size == 0:
        return x, [("empty", "chunk without samples")]
    finite = np.isfinite(x)
    if not finite.all():
        problems.append(("non_finite", f"{int((~finite).sum())} NaN or infinite samples set to 0"))
        x[~finite] = 0.0
    over = int((np.abs(x) > 1.0).sum())
    if over:
        problems.append(("over_range", f"{over} samples beyond full scale clipped"))
        np.clip(x, -1.0, 1.0, out=x)
    clipped = float(np.mean(np.abs(x) >= CLIP_LEVEL))
    if clipped >= CLIP_SHARE:
        problems.append(("clipping", f"{clipped:.1%} of samples at full scale"))
    return x, problems


def to_mono_16k(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """Mix ``(frames, channels)`` or ``(frames,)`` samples down and resample to 16 kHz float32."""
    samples = np.asarray(samples, dtype=np.float32)
    if samples.ndim == 2:
        samples = samples.mean(axis=1)
    if sample_rate != SAMPLE_RATE:
        samples = soxr.resample(samples, sample_rate, SAMPLE_RATE, quality="HQ")
    return np.ascontiguousarray(samples, dtype=np.float32)


@dataclass(frozen=True)
class TimedAudio:
    """16 kHz mono float32 samples and the capture time (POSIX seconds) of the first one."""

    samples: np.ndarray
    start: float

    @property
    def duration(self) -> float:
        return len(self.samples) / SAMPLE_RATE

    @property
    def end(self) -> float:
        return self.start + self.duration


def file_digest(path: str | os.PathLike) -> str:
    """SHA-256 of the file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(_HASH_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def to_pcm16(audio: np.ndarray) -> np.ndarray:
    """Float samples in [-1, 1) as the 16-bit integers a microphone delivers (rounded, clipped at full scale)."""
    return np.clip(np.round(audio * 32768.0), -32768, 32767).astype(np.int16)


def _check_length(path: Path, frames: int, rate: int, max_seconds: float | None) -> None:
    if rate <= 0:
        raise AudioError(path, f"invalid sample rate {rate}")
    if max_seconds is not None and not max_seconds > 0:
        raise AudioError("--max-seconds", f"must be a positive number of seconds, not {max_seconds}")
    if frames == 0:
        raise AudioError(path, "contains no audio samples")
    seconds = frames / rate
    if max_seconds is not None and seconds > max_seconds:
        raise AudioError(path, f"is {seconds:.0f} s long, over the {max_seconds:.0f} s limit (raise --max-seconds)")


def _wav_header_frames(path: Path) -> int:
    """The frames a PCM WAV header promises (libsndfile quietly counts only those present); 0 if unknown, as
    for a stream whose writer put the largest size there (0xFFFFFFFF: "until the end")."""
    try:
        with wave.open(str(path)) as w:
            frames, frame_bytes = w.getnframes(), w.getsampwidth() * w.getnchannels()
    except (wave.Error, EOFError, OSError):
        return 0
    return 0 if frames * frame_bytes >= 0xFFFFFFFF - frame_bytes else frames


def _read_resampled(f: sf.SoundFile) -> tuple[np.ndarray, int]:
    """The file's samples at 16 kHz mono, and how many frames it really held."""
    resampler = None if f.samplerate == SAMPLE_RATE else soxr.ResampleStream(f.samplerate, SAMPLE_RATE, 1)
    pieces, frames = [], 0
    for block in f.blocks(blocksize=_BLOCK_FRAMES, dtype="float32", always_2d=True):
        frames += len(block)
        mono = block.mean(axis=1, dtype=np.float32)
        pieces.append(mono if resampler is None else resampler.resample_chunk(mono))
    if resampler is not None:
        pieces.append(resampler.resample_chunk(np.zeros(0, np.float32), last=True))
    return (np.concatenate(pieces) if pieces else np.zeros(0, np.float32)), frames


def _libsndfile_reason(error: Exception) -> str:
    text = str(error).split("':")[-1].strip()
    return text.rstrip(".") or type(error).__name__
