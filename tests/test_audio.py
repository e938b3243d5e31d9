"""load_audio: any format, rate and channel count in; 16 kHz mono float32 out; bad files named with a reason."""

from __future__ import annotations

import os

import numpy as np
import pytest
import soundfile as sf

from speech_emotion.audio import SAMPLE_RATE, load_audio
from speech_emotion.errors import AudioError


def tone(seconds: float, rate: int, freq: float = 440.0, channels: int = 1) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    x = 0.5 * np.sin(2 * np.pi * freq * t)
    return np.repeat(x[:, None], channels, axis=1) if channels > 1 else x


@pytest.mark.parametrize(
    ("fmt", "subtype"), [("wav", "PCM_16"), ("flac", "PCM_24"), ("ogg", "VORBIS"), ("wav", "FLOAT")]
)
@pytest.mark.parametrize("rate", [8000, 16000, 44100, 48000])
def test_formats_and_rates_become_16k_mono(tmp_path, fmt, subtype, rate):
    path = tmp_path / f"a.{fmt}"
    sf.write(path, tone(1.0, rate, channels=2), rate, subtype=subtype, format=fmt.upper())
    audio = load_audio(path)
    assert audio.dtype == np.float32
    assert audio.ndim == 1
    assert abs(len(audio) - SAMPLE_RATE) <= 2
    spectrum = np.abs(np.fft.rfft(audio[2000:14000]))
    peak_hz = np.argmax(spectrum) * SAMPLE_RATE / 12000
    assert abs(peak_hz - 440) < 5, "resampling must keep the pitch"


def test_channels_are_averaged(tmp_path):
    left, right = tone(0.5, SAMPLE_RATE), np.zeros(SAMPLE_RATE // 2)
    sf.write(tmp_path / "st.wav", np.stack([left, right], axis=1), SAMPLE_RATE, subtype="FLOAT")
    np.testing.assert_allclose(load_audio(tmp_path / "st.wav"), left / 2, atol=1e-6)


def test_exact_samples_kept_at_16k(tmp_path):
    x = (np.random.default_rng(0).uniform(-1, 1, 5000) * 32767).astype(np.int16)
    sf.write(tmp_path / "x.wav", x, SAMPLE_RATE, subtype="PCM_16")
    np.testing.assert_array_equal(load_audio(tmp_path / "x.wav"), x.astype(np.float32) / 32768)


def expect_error(path, fragment: str, **kwargs) -> None:
    with pytest.raises(AudioError) as info:
        load_audio(path, **kwargs)
    message = str(info.value)
    assert str(path) in message and fragment in message
    assert "\n" not in message


def test_missing_file(tmp_path):
    expect_error(tmp_path / "nope.wav", "no such file")


def test_directory(tmp_path):
    expect_error(tmp_path, "is a directory")


def test_not_audio(tmp_path):
    (tmp_path / "notes.wav").write_text("this is not audio")
    expect_error(tmp_path / "notes.wav", "not a readable audio file")


def test_truncated_file(tmp_path):
    sf.write(tmp_path / "full.flac", tone(3.0, 44100) * 0.3 + np.random.default_rng(1).normal(0, 0.1, 132300), 44100)
    data = (tmp_path / "full.flac").read_bytes()
    (tmp_path / "cut.flac").write_bytes(data[: len(data) // 2])
    expect_error(tmp_path / "cut.flac", "corrupt or truncated")


def test_empty_file(tmp_path):
    sf.write(tmp_path / "empty.wav", np.zeros(0), SAMPLE_RATE)
    expect_error(tmp_path / "empty.wav", "contains no audio samples")


def test_zero_byte_file(tmp_path):
    (tmp_path / "zero.wav").write_bytes(b"")
    expect_error(tmp_path / "zero.wav", "not a readable audio file")


def test_nan_samples(tmp_path):
    x = tone(0.2, SAMPLE_RATE)
    x[100] = np.nan
    sf.write(tmp_path / "nan.wav", x, SAMPLE_RATE, subtype="FLOAT")
    expect_error(tmp_path / "nan.wav", "NaN or infinite")


def test_length_cap_checked_before_reading(tmp_path):
    sf.write(tmp_path / "long.wav", np.zeros(SAMPLE_RATE * 5), SAMPLE_RATE)
    expect_error(tmp_path / "long.wav", "over the 2 s limit", max_seconds=2)
    assert len(load_audio(tmp_path / "long.wav", max_seconds=None)) == SAMPLE_RATE * 5


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read any file")
def test_unreadable_permissions(tmp_path):
    path = tmp_path / "locked.wav"
    sf.write(path, tone(0.1, SAMPLE_RATE), SAMPLE_RATE)
    path.chmod(0)
    expect_error(path, "permission denied")
