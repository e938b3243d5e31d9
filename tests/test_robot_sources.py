"""File and microphone sources, the source hand-off, robot addresses, and the nao-sim command's errors."""

from __future__ import annotations

import os
import threading
import time
from types import SimpleNamespace

import numpy as np
import pytest
import soundfile as sf

from robot_helpers import pcm_of, write_pcm16
from speech_emotion.cli import main
from speech_emotion.errors import AudioError
from speech_emotion.monitor.sources import microphone
from speech_emotion.monitor.sources.base import AudioChunk, EventKind, Mailbox, Source, SourceError
from speech_emotion.monitor.sources.file import FileSource
from speech_emotion.monitor.sources.microphone import MicrophoneSource
from speech_emotion.robot.session import RobotError, robot_url
from speech_emotion.robot.simulator import Simulator


class Silent(Source):
    def chunks(self, stop):
        return iter(())


def read_all(source, stop: threading.Event | None = None) -> list[AudioChunk]:
    return list(source.chunks(stop or threading.Event()))


def test_a_file_plays_in_chunks_on_its_own_timeline(tmp_path):
    pcm = write_pcm16(tmp_path / "a.wav", seconds=1.0)
    fast = read_all(FileSource(tmp_path / "a.wav", speed=0, start=1000.0))
    paced = read_all(FileSource(tmp_path / "a.wav", speed=50, start=1000.0))

    assert np.array_equal(pcm_of(fast), pcm)
    assert [len(c.samples) for c in fast] == [2730] * 5 + [16000 - 5 * 2730]
    assert [c.start for c in fast] == pytest.approx([1000.0 + i * 2730 / 16000 for i in range(6)])
    assert [c.start for c in paced] == [c.start for c in fast]  # the speed changes nothing in the timeline
    assert {c.source_id for c in fast} == {"file:a.wav"}


def test_a_file_without_a_start_began_its_duration_before_it_was_last_written(tmp_path):
    write_pcm16(tmp_path / "a.wav", seconds=0.5)
    os.utime(tmp_path / "a.wav", (2000.0, 2000.0))
    chunks = read_all(FileSource(tmp_path / "a.wav", speed=0))
    assert chunks[0].start == pytest.approx(1999.5)


def test_a_folder_plays_its_audio_files_in_name_order_and_skips_bad_ones(tmp_path):
    second = write_pcm16(tmp_path / "2.wav", seconds=0.5, seed=2)
    first = write_pcm16(tmp_path / "1.flac", seconds=0.25, seed=1)
    (tmp_path / "3.wav").write_bytes(b"not audio")
    (tmp_path / "notes.txt").write_text("ignored")
    events = []
    source = FileSource(tmp_path, speed=0, start=0.0, on_event=events.append)
    chunks = read_all(source)

    assert np.array_equal(pcm_of(chunks), np.concatenate([first, second]))
    assert [c.start for c in chunks] == pytest.approx([0, 2730 / 16000, 0.25, 0.25 + 2730 / 16000, 0.25 + 5460 / 16000])
    assert [e.kind for e in events] == [EventKind.BAD_AUDIO] and "3.wav" in events[0].detail
    assert source.metrics()["seconds"] == pytest.approx(0.75)


def test_stop_ends_a_file_source_at_once(tmp_path):
    write_pcm16(tmp_path / "a.wav", seconds=2.0)
    stop = threading.Event()
    chunks = []
    for chunk in FileSource(tmp_path / "a.wav", speed=1).chunks(stop):
        chunks.append(chunk)
        stop.set()
    assert len(chunks) == 1


def test_file_source_errors_name_the_path(tmp_path):
    with pytest.raises(SourceError, match=r"missing\.wav: no such file"):
        FileSource(tmp_path / "missing.wav")
    with pytest.raises(SourceError, match="no audio files in this folder"):
        FileSource(tmp_path)
    with pytest.raises(SourceError, match="speed: must be positive"):
        FileSource(tmp_path, speed=-1)
    (tmp_path / "bad.wav").write_bytes(b"RIFF nonsense")
    with pytest.raises(AudioError, match=r"bad\.wav"):
        read_all(FileSource(tmp_path / "bad.wav"))


def test_a_machine_without_a_microphone_gets_a_clear_error():
    source = MicrophoneSource()  # constructing opens nothing
    with pytest.raises(SourceError, match="mic:default: cannot open the microphone"):
        read_all(source)


class FakePortAudio:
    """sounddevice as far as MicrophoneSource uses it: a stream that records ``blocks`` then is unplugged."""

    PortAudioError = RuntimeError

    def __init__(self, blocks: list[np.ndarray]):
        self.blocks = blocks

    def InputStream(self, samplerate, channels, dtype, blocksize, device, callback):
        assert (samplerate, channels, dtype) == (16000, 1, "float32")
        blocks = self.blocks

        class Stream:
            active = False
            device = "fake microphone"

            def __enter__(self):
                self.active = True
                self.thread = threading.Thread(target=self.record)
                self.thread.start()
                return self

            def record(self):
                for i, block in enumerate(blocks):
                    times = SimpleNamespace(currentTime=50.0 + i * 0.1 + 0.02, inputBufferAdcTime=50.0 + i * 0.1)
                    callback(block[:, None], len(block), times, SimpleNamespace(input_overflow=i == 1))
                self.active = False  # unplugged

            def __exit__(self, *exc):
                self.thread.join()

        return Stream()


def test_microphone_blocks_become_chunks_until_the_device_goes_away(monkeypatch):
    blocks = [np.full(1600, i / 10, np.float32) for i in range(4)]
    monkeypatch.setattr(microphone, "_sounddevice", lambda: FakePortAudio(blocks))
    source = MicrophoneSource(block_samples=1600)
    events, chunks = [], []
    source.on_event = events.append
    before = time.time()
    with pytest.raises(SourceError, match="stopped delivering audio"):
        for chunk in source.chunks(threading.Event()):
            chunks.append(chunk)

    assert [c.samples[0] for c in chunks] == pytest.approx([0.0, 0.1, 0.2, 0.3])
    assert all(before - 0.05 < c.start < time.time() for c in chunks)  # now, minus the 20 ms since the ADC
    assert [e.kind for e in events] == [EventKind.CONNECTED, EventKind.OVERRUN, EventKind.DISCONNECTED]


def test_the_mailbox_refuses_audio_beyond_its_size_and_reports_the_loss_once():
    source = Silent("test")
    box = Mailbox(source, max_chunks=2)
    chunk = AudioChunk(np.zeros(1600, np.float32), 0.0, "test")
    assert [box.put_chunk(chunk) for _ in range(5)] == [True, True, False, False, False]
    box.put_event(source._event(EventKind.GAP, "still gets through"))
    assert box.get(0) is chunk
    overrun = box.get(0)
    assert overrun.kind == EventKind.OVERRUN and overrun.lost_seconds == pytest.approx(0.3)
    assert box.get(0) is chunk and box.get(0).kind == EventKind.GAP and box.get(0) is None
    assert source.metrics()["dropped_chunks"] == 3 and source.metrics()["queue_peak"] == 2


@pytest.mark.parametrize(
    ("address", "url"),
    [
        ("nao.local", "tcp://nao.local:9559"),
        ("192.168.1.12:9560", "tcp://192.168.1.12:9560"),
        ("tcp://10.0.0.5", "tcp://10.0.0.5:9559"),
        ("tcps://10.0.0.5:9503", "tcps://10.0.0.5:9503"),
        ("[::1]:9559", "tcp://[::1]:9559"),
    ],
)
def test_robot_addresses(address, url):
    assert robot_url(address) == url


@pytest.mark.parametrize("address", ["", "http://nao.local", "nao.local:port", "nao.local:99999", "a b"])
def test_bad_robot_addresses(address):
    with pytest.raises(RobotError):
        robot_url(address)


def test_nao_sim_errors_are_one_line(tmp_path, capsys):
    assert main(["nao-sim", "--audio", str(tmp_path / "missing.wav")]) == 1
    assert capsys.readouterr().err.strip().endswith("missing.wav: no such file")

    sf.write(tmp_path / "a.wav", np.zeros(1600, np.int16), 16000)
    with Simulator(np.ones(100, np.int16), listen="tcp://127.0.0.1:0") as busy:
        assert main(["nao-sim", "--audio", str(tmp_path / "a.wav"), "--listen", busy.url]) == 1
    assert capsys.readouterr().err.strip().splitlines()[-1].startswith(f"error: {busy.url}: cannot listen")

    with pytest.raises(SystemExit):
        main(["nao-sim", "--audio", str(tmp_path / "a.wav"), "--speed", "0"])
    assert "must be positive" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["nao-sim", "--audio", str(tmp_path / "a.wav"), "--start", "2024-01-01T10:00:00"])
    assert "has no time zone" in capsys.readouterr().err
