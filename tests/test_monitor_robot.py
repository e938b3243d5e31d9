"""The monitor end to end over a real qi connection to the simulated NAO (``speech-emotion nao-sim``).

Needs the robot side (sources, client, simulator); skipped, saying so, where it is absent.
"""

from __future__ import annotations

import threading
from collections import Counter

import numpy as np
import pytest
import soundfile as sf

pytest.importorskip("speech_emotion.robot.simulator", reason="needs the robot side (speech_emotion.robot)")

from monitor_helpers import SENTENCES, T0, espeak, lay_out
from robot_helpers import NaoSim, wait_until
from speech_emotion.audio import SAMPLE_RATE
from speech_emotion.cli import main
from speech_emotion.monitor.pipeline import Monitor
from speech_emotion.monitor.reactions import LedConfig
from speech_emotion.monitor.sources.nao import NaoSource
from speech_emotion.recognizer import EmotionRecognizer
from speech_emotion.robot.client import parse_colour
from speech_emotion.store import Store
from speech_emotion.vad import VadConfig

START = "2023-11-14T22:13:20Z"  # T0: the simulated robot's capture time of its first sample


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    """Four sentences as the robot's 16-bit microphone hears them, and the utterances they hold."""
    audio, _ = lay_out([espeak(s) for s in SENTENCES], [1.5] * 4)
    path = tmp_path_factory.mktemp("robot") / "speech.wav"
    sf.write(path, audio, SAMPLE_RATE, subtype="PCM_16")
    heard, _ = sf.read(path, dtype="float32")
    segmenter = VadConfig().segmenter()
    return path, segmenter.push(heard, T0) + segmenter.flush()


def times(store: Store) -> np.ndarray:
    return np.array([(r.start.timestamp(), r.end.timestamp()) for r in store.utterances()])


def test_utterances_leds_and_comfort_over_qi(recording, tiny_bundle, tmp_path):
    path, expected = recording
    recognizer = EmotionRecognizer.load(tiny_bundle)
    labels = [recognizer.predict(u.samples).label for u in expected]
    usual = Counter(labels).most_common(1)[0][0]  # make the comfort react to what the random model says most
    config = tmp_path / "monitor.toml"
    config.write_text(
        "[adaptation]\nenabled = false\n[reactions]\nquiet_hours = []\n"
        f'[reactions.comfort]\nemotion = "{usual}"\nmin_share = 0.3\nmin_speech_s = 3\n'
    )
    sim = NaoSim(path, tmp_path, "--speed", "4", "--start", START)
    url = sim.start()
    db = f"sqlite:///{tmp_path / 'monitor.db'}"
    try:
        code = main(["monitor", "--robot", url, "--db", db, "--model", str(tiny_bundle), "--duration", "8",
                     "--config", str(config)])  # fmt: skip
    finally:
        sim.stop()
    assert code == 0
    store = Store(db)
    assert np.allclose(times(store), [(u.start, u.end) for u in expected], atol=1e-3, rtol=0)
    rows = store.utterances()
    assert [r.label for r in rows] == labels
    colours = LedConfig().colours
    assert [c["args"] for c in sim.calls("ALLeds", "fadeRGB")] == [
        ["FaceLeds", parse_colour(colours[label]), pytest.approx(0.3)] for label in labels
    ]
    [alert] = store.events(kinds=["alert"])
    assert alert.data["spoken"] is True
    assert [c["args"] for c in sim.calls("ALTextToSpeech", "say")] == [[alert.data["sentence"]]]
    assert [e.kind for e in store.events(kinds=["connected"])] == ["connected"]
    written = {p.name for p in tmp_path.iterdir()}
    assert written <= {"monitor.toml", "monitor.db", "monitor.db-wal", "monitor.db-shm", "calls.jsonl", "nao-sim.log"}


def test_a_robot_restart_mid_stream_loses_and_repeats_nothing(recording, tiny_bundle, tmp_path):
    path, expected = recording
    sim = NaoSim(path, tmp_path, "--speed", "4", "--start", START)
    sim.start()
    store = Store(f"sqlite:///{tmp_path / 'monitor.db'}")
    source = NaoSource(sim.url, reconnect_min=0.2, reconnect_max=0.5)
    monitor = Monitor(source, EmotionRecognizer.load(tiny_bundle), store)
    stop = threading.Event()
    runner = threading.Thread(target=monitor.run, args=(stop,))
    runner.start()
    restarted = None
    try:
        wait_until(lambda: len(store.utterances()) >= 1, 30, "the first stored utterance")
        sim.kill()  # the robot drops off in the middle of the recording
        wait_until(lambda: store.events(kinds=["disconnected"]), 15, "the disconnection to be stored")
        restarted = NaoSim(path, tmp_path, "--speed", "4", "--start", START)
        restarted.url = sim.url  # comes back on the same address and plays its recording again
        restarted.start()
        want = np.array([(u.start, u.end) for u in expected])
        wait_until(
            lambda: times(store).shape == want.shape and np.allclose(times(store), want, atol=1e-3, rtol=0),
            40,
            "every utterance, once",
        )
    finally:
        stop.set()
        runner.join(30)
        for robot in (sim, restarted):
            if robot is not None:
                robot.stop()
    kinds = [e.kind for e in store.events(kinds=["connected", "disconnected", "reconnected"])]
    assert kinds == ["connected", "disconnected", "reconnected"]
    assert monitor.metrics.duplicates >= 1  # the replay found what was already stored
