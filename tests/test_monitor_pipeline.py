"""The monitor end to end with an in-test source: times, back-pressure, bad audio, restarts, no audio kept."""

from __future__ import annotations

import json
import logging
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pytest
import soundfile as sf
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from monitor_helpers import SENTENCES, T0, Chunk, ListSource, RecordingRobot, espeak, lay_out
from speech_emotion.audio import SAMPLE_RATE, repair_samples
from speech_emotion.features import num_frames
from speech_emotion.monitor.pipeline import Monitor, PipelineConfig
from speech_emotion.monitor.reactions import ReactionConfig, Reactions
from speech_emotion.monitor.spool import Spool
from speech_emotion.recognizer import EmotionRecognizer
from speech_emotion.store import MonitorSession, NewEvent, Store
from speech_emotion.vad import VadConfig


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    """Four sentences, 2 s of silence before each: about 16 s of audio."""
    audio, _ = lay_out([espeak(s) for s in SENTENCES], [2.0] * 4)
    return audio


@pytest.fixture(scope="module")
def expected(speech) -> list[tuple[float, float]]:
    """The utterances (start, end) the segmenter alone finds in ``speech``."""
    segmenter = VadConfig().segmenter()
    found = segmenter.push(speech, T0) + segmenter.flush()
    assert len(found) >= 4
    return [(u.start, u.end) for u in found]


@pytest.fixture(scope="module")
def recognizer(tiny_bundle) -> EmotionRecognizer:
    return EmotionRecognizer.load(tiny_bundle)


@pytest.fixture
def store(tmp_path) -> Store:
    s = Store(f"sqlite:///{tmp_path / 'monitor.db'}")
    yield s
    s.close()


def stored_times(store: Store) -> list[tuple[float, float]]:
    return [(r.start.timestamp(), r.end.timestamp()) for r in store.utterances()]


def sessions(store: Store) -> list[MonitorSession]:
    with store.session() as s:
        return list(s.scalars(select(MonitorSession).order_by(MonitorSession.id)))


def assert_times(found, expected, tolerance=1e-3):
    assert len(found) == len(expected), (found, expected)
    assert np.allclose(np.array(found), np.array(expected), atol=tolerance, rtol=0)


def test_utterances_are_stored_with_their_capture_times(speech, expected, recognizer, store):
    source = ListSource(speech, sizes=(2720, 1000, 4999))
    robot = RecordingRobot()
    monitor = Monitor(source, recognizer, store)
    monitor.listeners.append(Reactions(ReactionConfig(quiet_hours=()), robot, monitor.record_event, "test"))
    metrics = monitor.run(threading.Event())

    assert_times(stored_times(store), expected)
    rows = store.utterances()
    assert {r.source_id for r in rows} == {"test"} and {r.model_id for r in rows} == {recognizer.model_id}
    assert all(set(r.probabilities) == set(recognizer.labels) for r in rows)
    assert metrics.stored == metrics.utterances == len(expected) and metrics.chunks == source.delivered
    assert metrics.audio_s == pytest.approx(len(speech) / SAMPLE_RATE)
    assert [c for c in robot.calls if c[0] == "set_led_colour"] == [
        ("set_led_colour", ReactionConfig().leds.colours[r.label]) for r in rows
    ]
    assert [s.ended_at is not None for s in sessions(store)] == [True]
    assert [e.kind for e in store.events()] == ["metrics"]
    saved = store.load_speaker_stats("test")
    assert saved is not None and saved["features"]["logmel"]["weight"] > 0


def test_the_recogniser_hears_each_utterance_with_its_context(speech, expected, recognizer, store, monkeypatch):
    heard = []
    original = recognizer.predict_features

    def recording(features, stats):
        heard.extend(len(f) for f in features)
        return original(features, stats)

    monkeypatch.setattr(recognizer, "predict_features", recording)
    segmenter = VadConfig().segmenter()
    contexts = [len(u.context) for u in segmenter.push(speech, T0) + segmenter.flush()]
    Monitor(ListSource(speech), recognizer, store).run(threading.Event())

    assert_times(stored_times(store), expected)  # stored with the utterance's own bounds
    assert heard == [num_frames(n) for n in contexts]
    spoken = [num_frames(round((end - start) * SAMPLE_RATE)) for start, end in expected]
    assert all(n >= m + 100 for n, m in zip(heard, spoken, strict=True))  # 2 s of silence before each: 1 s heard


def test_no_audio_is_written_anywhere_by_default(speech, recognizer, tmp_path, monkeypatch):
    work, temp = tmp_path / "work", tmp_path / "temp"
    work.mkdir()
    temp.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    monkeypatch.setenv("TMPDIR", str(temp))
    db = tmp_path / "monitor.db"
    store = Store(f"sqlite:///{db}")
    metrics = Monitor(ListSource(speech), recognizer, store).run(threading.Event())
    store.close()
    assert metrics.stored >= 4
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert [w for w in written if not w.startswith("monitor.db")] == []


def test_keep_audio_writes_each_stored_utterance_as_flac(speech, expected, recognizer, store, tmp_path):
    keep = tmp_path / "kept"
    Monitor(ListSource(speech, source_id="nao 1"), recognizer, store, keep_audio=keep).run(threading.Event())
    files = sorted((keep / "nao_1").glob("*.flac"))
    assert len(files) == len(expected)
    for path, (start, end) in zip(files, expected, strict=True):
        audio, rate = sf.read(path, dtype="float32")
        assert rate == SAMPLE_RATE and len(audio) == pytest.approx((end - start) * SAMPLE_RATE, abs=1)
        first = round((start - T0) * SAMPLE_RATE)
        np.testing.assert_allclose(audio, speech[first : first + len(audio)], atol=1 / 32768)
        assert path.name == datetime.fromtimestamp(start, UTC).strftime("%Y%m%dT%H%M%S.%f")[:-3] + "Z.flac"


class GatedRecognizer(EmotionRecognizer):
    """A recogniser that holds its first utterance until the test opens the gate: inference falls behind."""

    def __init__(self, bundle):
        super().__init__(bundle)
        self.gate = threading.Event()

    def predict_features(self, features, stats=None):
        self.gate.wait(30)
        return super().predict_features(features, stats)


def test_a_slow_recogniser_holds_the_audio_back_and_nothing_is_dropped(speech, expected, recognizer, store, caplog):
    caplog.set_level(logging.INFO, logger="speech_emotion")
    slow = GatedRecognizer(recognizer.bundle)
    source = ListSource(speech)
    total_chunks = -(-len(speech) // 2720)
    monitor = Monitor(source, slow, store, pipeline=PipelineConfig(queue_size=1))
    runner = threading.Thread(target=monitor.run, args=(threading.Event(),))
    runner.start()
    deadline = time.monotonic() + 15
    while not any("inference behind" in r.getMessage() for r in caplog.records) and time.monotonic() < deadline:
        time.sleep(0.02)
    held_at = source.delivered
    time.sleep(0.3)
    assert source.delivered == held_at < total_chunks  # the audio thread waits instead of reading on
    slow.gate.set()
    runner.join(30)

    assert_times(stored_times(store), expected)  # every utterance made it
    assert monitor.metrics.queue_high_water == 1 and monitor.metrics.audio_wait_s > 0
    assert monitor.metrics.backlog_high_water_s > 0 and monitor.metrics.backlog_s == pytest.approx(0, abs=1e-9)
    backlog = store.events(kinds=["backlog"])
    assert len(backlog) == 1 and backlog[0].data["queue"] == 1
    assert any("inference caught up" in r.getMessage() for r in caplog.records)


def bad_chunk(kind: str, start: float) -> Chunk:
    n = 2720
    samples = {
        "nan": np.full(n, np.nan, np.float32),
        "inf": np.where(np.arange(n) % 2, np.inf, -np.inf).astype(np.float32),
        "int16": np.zeros(n, np.int16),
        "stereo": np.zeros((n, 2), np.float32),
        "empty": np.zeros(0, np.float32),
        "huge": np.full(n, 5.0, np.float32),
        "clipping": np.where(np.arange(n) % 2, 1.0, -1.0).astype(np.float32),
        "text": np.array(["not", "audio"]),
        "bad_time": np.zeros(n, np.float32),
    }[kind]
    return Chunk(samples, float("nan") if kind == "bad_time" else start)


def test_bad_audio_is_logged_recorded_and_survived(speech, expected, recognizer, store, caplog):
    caplog.set_level(logging.WARNING, logger="speech_emotion")
    kinds = ["clipping", "nan", "inf", "int16", "stereo", "empty", "huge", "text", "bad_time"]
    replace = {i + 1: bad_chunk(kind, T0 + (i + 1) * 2720 / SAMPLE_RATE) for i, kind in enumerate(kinds)}
    monitor = Monitor(ListSource(speech, replace=replace), recognizer, store)
    metrics = monitor.run(threading.Event())

    assert_times(stored_times(store), expected, tolerance=0.1)  # the speech after the bad buffers is all there
    problems = {e.data["problem"] for e in store.events(kinds=["bad_audio"])}
    assert problems == {"clipping", "non_finite", "converted", "empty", "over_range", "not_audio", "bad_time"}
    assert metrics.bad_chunks == len(kinds) and metrics.failed == 0
    assert sum("bad audio" in r.getMessage() for r in caplog.records) == len(problems)


@pytest.mark.parametrize(
    "samples, cleaned, kinds",
    [
        (np.array([0.5, np.nan, -np.inf], np.float32), [0.5, 0.0, 0.0], ["non_finite"]),
        (np.array([16384, -8192], np.int16), [0.5, -0.25], ["converted"]),
        (np.array([[0.2, 0.4], [0.0, -0.2]], np.float64), [0.3, -0.1], ["converted"]),
        (np.array([2.0, -0.1], np.float32), [1.0, -0.1], ["over_range", "clipping"]),
        (None, [], ["empty"]),
        (np.zeros((2, 2, 2), np.float32), [], ["not_audio"]),
    ],
)
def test_repair_samples(samples, cleaned, kinds):
    out, problems = repair_samples(samples)
    assert out.dtype == np.float32 and out.ndim == 1
    np.testing.assert_allclose(out, cleaned)
    assert [k for k, _ in problems] == kinds


def test_a_restart_loses_and_repeats_nothing(speech, expected, recognizer, store):
    k = max(range(1, len(expected)), key=lambda i: expected[i][1] - expected[i][0])  # the longest but the first
    middle = (expected[k][0] + expected[k][1]) / 2 - T0
    first = Monitor(ListSource(speech, stop_after=int(middle * SAMPLE_RATE / 2720)), recognizer, store)
    assert first.run(threading.Event()).stored == k + 1
    assert stored_times(store)[k][1] < expected[k][1] - 0.2  # the stop ended that utterance where the audio did

    second = Monitor(ListSource(speech), recognizer, store).run(threading.Event())  # the source replays it all
    assert_times(stored_times(store), expected)
    assert second.duplicates == k and second.stored == len(expected) - k  # the cut one is completed
    assert [s.ended_at is not None for s in sessions(store)] == [True, True]


def test_a_failing_source_is_recorded_and_what_it_gave_is_kept(speech, expected, recognizer, store):
    class BrokenSource(ListSource):
        def chunks(self, stop):
            yield from list(super().chunks(stop))[: int((expected[1][1] - T0 + 0.5) * SAMPLE_RATE / 2720)]
            raise ConnectionError("robot went away")

    monitor = Monitor(BrokenSource(speech), recognizer, store)
    monitor.run(threading.Event())
    assert_times(stored_times(store), expected[:2])
    assert monitor.source_error == "ConnectionError: robot went away"
    assert [e.message for e in store.events(kinds=["source_error"])] == ["ConnectionError: robot went away"]


@dataclass(frozen=True)
class SourceEvent:
    """The fields of ``speech_emotion.monitor.sources.base.SourceEvent``."""

    kind: str
    time: float
    source_id: str
    detail: str = ""
    lost_seconds: float = 0.0

    def __str__(self) -> str:
        return f"{self.source_id}: {self.kind}: {self.detail}"


class ReportingSource(ListSource):
    """Drops off the network after two utterances and comes back: reports it through ``on_event``."""

    def chunks(self, stop):
        for i, chunk in enumerate(super().chunks(stop)):
            if i == 60:
                self.on_event(SourceEvent("disconnected", T0 + 20, self.source_id, "session closed"))
                self.on_event(SourceEvent("reconnected", T0 + 25, self.source_id, "", lost_seconds=5.0))
            yield chunk


def test_source_events_are_stored_in_order(speech, recognizer, store):
    Monitor(ReportingSource(speech), recognizer, store).run(threading.Event())
    events = [(e.kind, e.time.timestamp(), e.data) for e in store.events(kinds=["disconnected", "reconnected"])]
    assert events == [
        ("disconnected", T0 + 20, {"detail": "session closed", "lost_seconds": 0.0}),
        ("reconnected", T0 + 25, {"detail": "", "lost_seconds": 5.0}),
    ]
    assert store.events(kinds=["reconnected"])[0].message == "test: reconnected: "


class FlakyStore(Store):
    """A database that is down for the first ``failures`` writes of an utterance."""

    def __init__(self, url: str, failures: int):
        super().__init__(url)
        self.failures = failures

    def add_utterance(self, u):
        if self.failures:
            self.failures -= 1
            raise OperationalError("INSERT", {}, ConnectionError("database restarting"))
        return super().add_utterance(u)


def test_a_database_that_is_down_holds_the_utterances_until_it_is_back(speech, expected, recognizer, tmp_path, caplog):
    store = FlakyStore(f"sqlite:///{tmp_path / 'monitor.db'}", failures=2)
    metrics = Monitor(ListSource(speech), recognizer, store).run(threading.Event())
    assert_times(stored_times(store), expected)
    assert metrics.failed == 0 and metrics.stored == len(expected)
    assert sum("store failed" in r.getMessage() for r in caplog.records) == 2
    store.close()


def test_duration_stops_a_live_source(speech, recognizer, store):
    source = ListSource(speech, realtime=True, endless=True, stop_after=200)  # 34 s if the duration were ignored
    metrics = Monitor(source, recognizer, store).run(threading.Event(), duration_s=1.0)
    assert 0.5 < metrics.audio_s < 5
    assert [s.ended_at is not None for s in sessions(store)] == [True]


def test_queue_settings_are_checked():
    with pytest.raises(ValueError, match=r"pipeline\.queue_size"):
        PipelineConfig(queue_size=0)


def test_a_session_left_open_by_a_killed_monitor_is_closed_and_its_downtime_stored(speech, recognizer, store):
    killed = store.start_session("test", recognizer.model_id)  # SIGKILL: no end, no metrics
    store.add_event(NewEvent("test", "metrics", "still running", session_id=killed))
    Monitor(ListSource(speech), recognizer, store).run(threading.Event())
    first, second = sessions(store)
    assert first.id == killed and first.ended_at is not None and first.ended_at <= second.started_at
    [down] = store.events(kinds=["downtime"])
    assert down.session_id == second.id and down.data["session"] == killed and down.data["lost_seconds"] >= 0
    assert "ended unexpectedly" in down.message and down.time == first.ended_at
    Monitor(ListSource(speech), recognizer, store).run(threading.Event())  # a clean stop leaves nothing to close
    assert len(store.events(kinds=["downtime"])) == 1 and all(s.ended_at for s in sessions(store))


def test_minutes_of_loud_input_without_speech_are_a_noisy_event(recognizer, store):
    """A day drowned in noise must not read as a quiet one: 150 s of loud noise, no speech found, one event;
    as long in a quiet room, none."""
    rng = np.random.default_rng(0)
    loud = (0.1 * rng.standard_normal(150 * SAMPLE_RATE)).astype(np.float32)  # -20 dBFS
    metrics = Monitor(ListSource(loud, source_id="noisy"), recognizer, store).run(threading.Event())
    [noisy] = store.events(kinds=["noisy"])
    assert metrics.stored == 0 and noisy.source_id == "noisy"
    assert noisy.data["loud_seconds"] >= 120 and noisy.data["level_dbfs"] == pytest.approx(-20, abs=0.5)
    quiet = (0.001 * rng.standard_normal(150 * SAMPLE_RATE)).astype(np.float32)  # -60 dBFS
    Monitor(ListSource(quiet, source_id="quiet"), recognizer, store).run(threading.Event())
    assert [e.source_id for e in store.events(kinds=["noisy"])] == ["noisy"]


class DownStore(Store):
    """A database that goes down (every write fails) once ``down`` is set."""

    def __init__(self, url: str):
        super().__init__(url)
        self.down = threading.Event()

    def _write(self, method, *args):
        if self.down.is_set():
            raise OperationalError("INSERT", {}, ConnectionError("database unreachable"))
        return method(*args)

    def add_utterance(self, u):
        return self._write(super().add_utterance, u)

    def add_event(self, e):
        return self._write(super().add_event, e)

    def save_speaker_stats(self, source_id, stats):
        return self._write(super().save_speaker_stats, source_id, stats)

    def end_session(self, session_id):
        return self._write(super().end_session, session_id)


def test_a_stop_while_the_database_is_down_spools_the_results_and_the_next_start_stores_them(
    speech, expected, recognizer, tmp_path
):
    url = f"sqlite:///{tmp_path / 'monitor.db'}"
    store, spool = DownStore(url), Spool(tmp_path / "monitor.db.spool.jsonl")
    stop = threading.Event()
    monitor = Monitor(ListSource(speech, realtime=True), recognizer, store, spool=spool)
    store.down.set()  # down from the start: every utterance waits in the queue
    runner = threading.Thread(target=monitor.run, args=(stop,))
    runner.start()
    time.sleep(len(speech) / SAMPLE_RATE / 2)  # half the recording heard
    stop.set()  # SIGTERM
    runner.join(60)
    assert not runner.is_alive()  # a clean stop, no traceback
    assert monitor.metrics.spooled >= 2 and spool.path.exists() and store.utterances() == []
    store.down.clear()
    spooled = [json.loads(line) for line in spool.path.read_text().splitlines()]
    heard = [item for item in spooled if item["record"] == "utterance"]
    assert len(heard) >= 1 and [i["kind"] for i in spooled if i["record"] == "event"] == ["metrics"]  # the stop's

    Monitor(ListSource(np.zeros(SAMPLE_RATE, np.float32)), recognizer, store, spool=spool).run(threading.Event())
    assert not spool.path.exists()
    stored = [(u.start.isoformat(), u.label) for u in store.utterances()]
    assert stored == [(item["start"], item["label"]) for item in heard]
    assert [s.ended_at is not None for s in sessions(store)] == [True, True]  # the first closed as abandoned
    assert len(store.events(kinds=["downtime"])) == 1
