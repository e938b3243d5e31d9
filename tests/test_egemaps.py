"""The eGeMAPS peer: openSMILE functionals, the SVM run as a network, and its bundle trained, saved, loaded and
used by predict and evaluate like any other."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest
import soundfile as sf
import torch
from sklearn.svm import SVC

from monitor_helpers import SENTENCES, ListSource, espeak, lay_out
from speech_emotion.bundle import load_bundle, save_bundle
from speech_emotion.cli import main
from speech_emotion.corpora.cache import FeatureCache, settings_key
from speech_emotion.egemaps import egemaps_functionals
from speech_emotion.model import SVMClassifier, SVMConfig
from speech_emotion.monitor.pipeline import Monitor
from speech_emotion.preprocessing import Preprocessing
from speech_emotion.recognizer import EmotionRecognizer
from speech_emotion.store import Store
from synthetic_corpora import make_folder, write_clip

SPEAKERS = ("alice", "bob", "carol", "dave", "erin")  # hashed split: three train, one valid, one test


def test_functionals_are_one_row_of_88_values():
    t = np.arange(16000) / 16000
    voiced = egemaps_functionals((0.3 * np.sin(2 * np.pi * 150 * t)).astype(np.float32))
    assert voiced.shape == (1, 88) and voiced.dtype == np.float32 and np.isfinite(voiced).all()
    assert egemaps_functionals(np.zeros(100, np.float32)).shape == (1, 88)  # too short for openSMILE: padded
    louder = egemaps_functionals((0.9 * np.sin(2 * np.pi * 150 * t)).astype(np.float32))
    assert not np.allclose(louder, voiced)


def test_the_svm_network_gives_scikit_learns_decision_function():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(200, 88)), rng.integers(0, 4, 200)
    x[y == 1] += 0.5
    svm = SVC(C=10, gamma="scale").fit(x, y)
    network = SVMClassifier(SVMConfig(4, 88, tuple(int(n) for n in svm.n_support_), float(svm._gamma)))
    weights = {"support_vectors": svm.support_vectors_, "dual_coef": svm.dual_coef_, "intercept": svm.intercept_}
    network.load_state_dict({k: torch.tensor(v, dtype=torch.float32) for k, v in weights.items()})
    test = rng.normal(size=(300, 88))
    scores = network(torch.tensor(test, dtype=torch.float32)).numpy()
    np.testing.assert_allclose(scores, svm.decision_function(test), atol=1e-4)
    assert np.array_equal(scores.argmax(axis=1), svm.predict(test))


@pytest.fixture(scope="module")
def peer(tmp_path_factory):
    """A corpus and the eGeMAPS bundle trained on it through the command line."""
    root = tmp_path_factory.mktemp("peer")
    folder = make_folder(root / "folder", speakers=SPEAKERS, seconds=0.5)
    argv = ["train", "--kind=egemaps", f"--corpus=folder={folder}", f"--cache={root / 'cache'}", "--workers=1"]
    assert main([*argv, f"--out={root / 'run'}"]) == 0
    return folder, root


def test_train_kind_egemaps_keeps_two_bundles_of_the_svm(peer):
    _, root = peer
    bundle = load_bundle(root / "run" / "best-ua.pt")
    assert isinstance(bundle.config, SVMConfig) and bundle.metadata["classifier"]["kind"] == "sklearn.svm.SVC"
    assert bundle.preprocessing == Preprocessing.of_kind("egemaps", statistics="global")
    assert bundle.stats().mean.shape == (88,)
    assert load_bundle(root / "run" / "best-ua-sad.pt").model_id.startswith("run-ua-sad@")
    assert (root / "cache" / settings_key(kind="egemaps")).is_dir()
    assert not (root / "cache" / settings_key()).exists()  # no log-mel features were needed


def test_the_peer_predicts_and_evaluates_like_any_bundle(peer, capsys):
    folder, root = peer
    model = str(root / "run" / "best-ua.pt")
    recognizer = EmotionRecognizer.load(model)
    clip = root / "spoken.wav"  # speech: a file without any is "no speech", never an emotion
    sf.write(clip, espeak(SENTENCES[0]), 16000)
    prediction = recognizer.predict_batch([np.zeros(8000, np.float32), np.ones(8000, np.float32) * 0.1])[0]
    assert prediction.windows == [] and sum(prediction.probabilities.values()) == pytest.approx(1, abs=1e-4)
    assert main(["predict", "--json", "--model", model, str(clip)]) == 0
    [result] = json.loads(capsys.readouterr().out)
    assert result["label"] in recognizer.labels and result["windows"] == []
    argv = ["evaluate", "--model", model, f"--corpus=folder={folder}", "--split=all", f"--cache={root / 'cache'}"]
    assert main([*argv, "--workers=1"]) == 0
    assert "normalisation pooled" in capsys.readouterr().out  # as trained: global statistics
    assert main([*argv, "--workers=1", "--normalization=speaker"]) == 0


def test_the_feature_cache_keeps_each_kind_apart(tmp_path):
    clip = write_clip(tmp_path / "clip.wav", seconds=0.5)
    logmel = FeatureCache(tmp_path / "cache", workers=1, progress=False).load([clip]).features[clip]
    functionals = FeatureCache(tmp_path / "cache", workers=1, progress=False, kind="egemaps").load([clip])
    assert logmel.shape[1:] == (40, 3) and functionals.features[clip].shape == (1, 88)
    assert functionals.extracted == 1


def test_the_monitor_runs_the_peer_and_adapts_its_functionals_statistics_unless_global(peer, tmp_path):
    _, root = peer
    audio, _ = lay_out([espeak(s) for s in SENTENCES[:3]], [2.0] * 3)
    global_bundle = load_bundle(root / "run" / "best-ua.pt")
    per_speaker = load_bundle(root / "run" / "best-ua.pt")
    per_speaker.preprocessing = Preprocessing.of_kind("egemaps", statistics="speaker")
    save_bundle(per_speaker, tmp_path / "per-speaker.pt")
    for bundle, adapts in ((global_bundle, False), (per_speaker, True)):
        store = Store(f"sqlite:///{tmp_path / f'{adapts}.db'}")
        try:
            metrics = Monitor(ListSource(audio), EmotionRecognizer(bundle), store).run(threading.Event())
            assert metrics.stored >= 3 and metrics.failed == 0
            assert {u.model_id for u in store.utterances()} == {bundle.model_id}
            learnt = store.load_speaker_stats("test")
            if adapts:  # a row an utterance, forgotten slowly
                assert np.shape(learnt["features"]["egemaps"]["total"]) == (88,)
                assert learnt["features"]["egemaps"]["weight"] == pytest.approx(metrics.stored, rel=1e-3)
            else:  # a model of global statistics hears everyone alike
                assert learnt is None
        finally:
            store.close()
