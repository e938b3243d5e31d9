"""3-D log-mel features: 40 log mel filterbank energies with delta and delta-delta as channels.

The definition is the reference's, i.e. ``python_speech_features``: pre-emphasis 0.97, 25 ms frames every
10 ms with a rectangular window (the last frame zero-padded), 512-point power spectrum divided by the
FFT size, 40 triangular mel filters over 0-8 kHz, natural log with zeros floored at float64 epsilon, and
deltas by linear regression over +-2 frames with edge padding. Computed vectorised in float64, so the
parity tests hold it to ``python_speech_features`` within 1e-3 even for band-limited audio whose upper
bands are nearly empty (float32 FFTs are not accurate enough there). ``torch.stft`` does the framing and
FFT on both cores; see ``benchmarks/bench_features.py`` for the speed against the reference library.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import numpy as np
import torch

from speech_emotion.audio import SAMPLE_RATE

N_MELS = 40
N_CHANNELS = 3
FRAME_LENGTH = 400  # 25 ms at 16 kHz
FRAME_STEP = 160  # 10 ms at 16 kHz
N_FFT = 512
PRE_EMPHASIS = 0.97
DELTA_WIDTH = 2
FRAMES_PER_SECOND = SAMPLE_RATE / FRAME_STEP
# Everything the features depend on (feature caches are keyed on it, bundles record it); bump "version" when
# audio loading or the feature code changes meaning.
FEATURE_SETTINGS = {
    "version": 1,  # log-mel settings carry no "kind" key: bundles and caches made before eGeMAPS hold them as is
    "sample_rate": SAMPLE_RATE,
    "n_mels": N_MELS,
    "channels": N_CHANNELS,
    "frame_length": FRAME_LENGTH,
    "frame_step": FRAME_STEP,
    "n_fft": N_FFT,
    "pre_emphasis": PRE_EMPHASIS,
    "delta_width": DELTA_WIDTH,
}
_LOG_FLOOR = float(np.finfo(np.float64).eps)
_CHUNK_FRAMES = 256


def log_mel_3d(audio: np.ndarray) -> np.ndarray:
    """Features of one 16 kHz utterance: float32 array ``(frames, 40, 3)``."""
    return log_mel_3d_batch([audio])[0]


def log_mel_3d_batch(utterances: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Features of many utterances in one call: a list of float32 ``(frames, 40, 3)`` arrays."""
    out = []
    for audio in utterances:
        static = log_mel_energies(np.asarray(audio, dtype=np.float64))
        features = np.empty((len(static), N_MELS, N_CHANNELS), np.float32)
        features[..., 0] = static
        features[..., 1] = first = delta(static)
        features[..., 2] = delta(first)
        out.append(features)
    return out


def num_frames(num_samples: int) -> int:
    """Frames produced for ``num_samples`` samples (at least one, as in the reference)."""
    if num_samples <= FRAME_LENGTH:
        return 1
    return 1 + -(-(num_samples - FRAME_LENGTH) // FRAME_STEP)


def log_mel_energies(signal: np.ndarray) -> np.ndarray:
    """Natural-log mel filterbank energies ``(frames, 40)`` float64 of a 16 kHz signal.

    ``torch.stft`` over the pre-emphasised signal with a window of 400 ones and 112 zeros, which is exactly
    the reference's 400-sample frame zero-padded to the 512-point FFT. Frames go through in cache-sized
    chunks: the complex spectrum of a whole minute would be 25 MB of fresh memory per call.
    """
    padded = torch.from_numpy(_pre_emphasised_padded(signal))
    total = num_frames(len(signal))
    energies = torch.empty((total, N_MELS), dtype=torch.float64)
    for first in range(0, total, _CHUNK_FRAMES):
        last = min(total, first + _CHUNK_FRAMES)
        spectrum = torch.stft(
            padded[first * FRAME_STEP : (last - 1) * FRAME_STEP + N_FFT],
            N_FFT,
            hop_length=FRAME_STEP,
            win_length=N_FFT,
            window=_frame_window(),
            center=False,
            return_complex=True,
        )
        parts = torch.view_as_real(spectrum.T)  # (frames, bins, re/im), contiguous
        torch.matmul(parts[..., 0].square() + parts[..., 1].square(), _mel_matrix(), out=energies[first:last])
    energies.masked_fill_(energies == 0, _LOG_FLOOR)
    return energies.log_().numpy()


def delta(features: np.ndarray, width: int = DELTA_WIDTH) -> np.ndarray:
    """Regression delta over +-``width`` frames with edge padding, along axis 0."""
    n = len(features)
    padded = np.pad(features, ((width, width), (0, 0)), mode="edge")
    out = np.zeros_like(features)
    for k in range(1, width + 1):
        out += k * (padded[width + k : width + k + n] - padded[width - k : width - k + n])
    return out / (2 * sum(k * k for k in range(1, width + 1)))


def _pre_emphasised_padded(signal: np.ndarray) -> np.ndarray:
    """Pre-emphasis written straight into a zero buffer long enough for every frame's 512-point FFT."""
    n = num_frames(len(signal))
    padded = np.zeros((n - 1) * FRAME_STEP + N_FFT)
    if len(signal):
        padded[0] = signal[0]
        np.multiply(signal[:-1], -PRE_EMPHASIS, out=padded[1 : len(signal)])
        padded[1 : len(signal)] += signal[1:]
    return padded


@cache
def _frame_window() -> torch.Tensor:
    return torch.cat(
        [torch.ones(FRAME_LENGTH, dtype=torch.float64), torch.zeros(N_FFT - FRAME_LENGTH, dtype=torch.float64)]
    )


@cache
def _mel_matrix() -> torch.Tensor:
    """Filterbank as ``(bins, mels)`` with the reference's 1/NFFT power scaling folded in."""
    return torch.from_numpy(mel_filterbank().T / N_FFT).contiguous()


@cache
def mel_filterbank(n_mels: int = N_MELS, n_fft: int = N_FFT, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Triangular mel filters ``(n_mels, n_fft // 2 + 1)`` on the reference's integer FFT-bin edges."""
    mel_max = 2595 * np.log10(1 + (sample_rate / 2) / 700.0)
    hz = 700 * (10 ** (np.linspace(0, mel_max, n_mels + 2) / 2595.0) - 1)
    edges = np.floor((n_fft + 1) * hz / sample_rate)
    bins = np.arange(n_fft // 2 + 1)[None, :]
    lo, mid, hi = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        rising = np.where((bins >= lo) & (bins < mid), (bins - lo) / (mid - lo), 0.0)
        falling = np.where((bins >= mid) & (bins < hi), (hi - bins) / (hi - mid), 0.0)
    bank = rising + falling
    bank.flags.writeable = False
    return bank
