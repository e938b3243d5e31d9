"""Fused bundles: saved and loaded whole, joined as documented, and the same to the last digit in predict,
evaluate and the monitor; ``fuse`` chooses the weight and temperature on labelled speech."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest
import soundfile as sf
import torch

from conftest import make_test_bundle
from monitor_helpers import SENTENCES, ListSource, espeak, lay_out
from speech_emotion.bundle import DEFAULT_STATS, FusedBundle, ModelBundle, load_any_bundle, load_bundle, save_bundle
from speech_emotion.cli import main
from speech_emotion.corpora.base import LABELS
from speech_emotion.errors import BundleError
from speech_emotion.fusion import FusedRecognizer, load_recognizer
from speech_emotion.model import SVMClassifier, SVMConfig
from speech_emotion.monitor.pipeline import Monitor
from speech_emotion.normalization import NormStats
from speech_emotion.preprocessing import Preprocessing
from speech_emotion.recognizer import EmotionRecognizer
from speech_emotion.store import Store
from synthetic_corpora import make_folder


def svm_bundle(seed: int = 1) -> ModelBundle:
    """A small eGeMAPS SVM with random support vectors that adapts to the speaker, as the shipped peer does."""
    rng = np.random.default_rng(seed)
    config = SVMConfig(len(LABELS), 88, (2, 2, 2, 2), gamma=0.02)
    weights = {
        "support_vectors": rng.normal(size=(8, 88)),
        "dual_coef": rng.normal(size=(3, 8)),
        "intercept": rng.normal(size=6),
    }
    network = SVMClassifier(config)
    network.load_state_dict({k: torch.tensor(v, dtype=torch.float32) for k, v in weights.items()})
    stats = NormStats(mean=rng.normal(size=88).astype(np.float32), std=np.ones(88, np.float32), frames=100)
    return ModelBundle(
        config=config,
        labels=list(LABELS),
        state_dict=network.state_dict(),
        normalization={DEFAULT_STATS: stats},
        model_id="svm",
        preprocessing=Preprocessing.of_kind("egemaps", statistics="speaker"),
    )


@pytest.fixture(scope="module")
def fused(tmp_path_factory) -> tuple:
    """A fused bundle of an ACRNN of global statistics (weight 0.6) and a speaker-adapting SVM."""
    folder = tmp_path_factory.mktemp("fused")
    acrnn = make_test_bundle(folder / "acrnn.pt", preprocessing=Preprocessing(statistics="global"))
    bundle = FusedBundle([load_bundle(acrnn), svm_bundle()], weights=[0.6, 0.4], temperature=0.8, model_id="both")
    save_bundle(bundle, folder / "both.pt")
    return folder / "both.pt", folder


def test_a_fused_bundle_keeps_its_parts_whole_and_is_not_a_single_model(fused):
    path, _ = fused
    bundle = load_any_bundle(path)
    assert isinstance(bundle, FusedBundle) and bundle.model_id.startswith("both@")
    assert [p.preprocessing.feature_kind for p in bundle.parts] == ["logmel", "egemaps"]
    assert [p.preprocessing.statistics for p in bundle.parts] == ["global", "speaker"]
    assert bundle.weights == [0.6, 0.4] and bundle.temperature == 0.8
    with pytest.raises(BundleError, match="a fused bundle of 2 models; this needs a single model"):
        load_bundle(path)
    with pytest.raises(ValueError, match="same labels"):
        FusedBundle([bundle.parts[0], ModelBundle(**{**vars(bundle.parts[1]), "labels": list(LABELS)[::-1]})], [1, 1])


def test_the_fused_distribution_is_the_tempered_weighted_geometric_mean_of_the_parts(fused):
    path, _ = fused
    recognizer = load_recognizer(path)
    assert isinstance(recognizer, FusedRecognizer)
    audio = espeak(SENTENCES[0])
    parts = [part.predict(audio) for part in recognizer.parts]
    logs = [np.log([p.probabilities[k] for k in LABELS]) for p in parts]
    expected = np.exp((0.6 * logs[0] + 0.4 * logs[1]) / 0.8)
    expected /= expected.sum()
    prediction = recognizer.predict(audio)
    np.testing.assert_allclose([prediction.probabilities[k] for k in LABELS], expected, atol=2e-6)
    assert prediction.label == LABELS[int(expected.argmax())]
    assert prediction.windows == parts[0].windows  # the ACRNN's timeline; the SVM has none


def test_predict_evaluate_and_the_monitor_agree_on_a_fused_bundle(fused, capsys):
    path, folder = fused
    corpus = make_folder(folder / "corpus", seconds=1.0)
    clip = corpus / "sad" / "alice" / "clip0.wav"
    sf.write(clip, espeak(SENTENCES[2]), 16000)  # speech: predict gives a file without any no emotion
    assert main(["predict", "--json", "--model", str(path), str(clip)]) == 0
    [alone] = json.loads(capsys.readouterr().out)
    out = folder / "eval.json"
    argv = ["evaluate", "--model", str(path), f"--corpus=folder={corpus}", "--split=all", f"--cache={folder / 'c'}"]
    assert main([*argv, "--workers=1", "--protocol", "alone", "person", "--json", str(out)]) == 0
    protocols = json.loads(out.read_text())["protocols"]
    [scored] = [f for f in protocols["alone"]["files"] if f["path"] == str(clip)]
    assert scored["probabilities"] == alone["probabilities"] and scored["label"] == alone["label"]
    assert len(protocols["person"]["files"]) == len(protocols["alone"]["files"]) == 24
    assert main([*argv, "--normalization=target-neutral", "--json", str(out)]) == 0  # each part the corpus's own
    assert json.loads(out.read_text())["n_utterances"] == 24
    capsys.readouterr()

    speaker = [folder / f"alice-{n}.wav" for n in range(3)]  # one person's speech: each part her statistics
    for recording, sentence in zip(speaker, SENTENCES, strict=False):
        sf.write(recording, espeak(sentence), 16000)
    assert main(["predict", "--json", "--same-speaker", "--model", str(path), *map(str, speaker)]) == 0
    assert {r["label"] for r in json.loads(capsys.readouterr().out)} <= set(LABELS)


def test_the_monitor_adapts_only_the_parts_that_read_speaker_statistics(fused, tmp_path):
    path, _ = fused
    audio, _ = lay_out([espeak(s) for s in SENTENCES[:3]], [2.0] * 3)
    store = Store(f"sqlite:///{tmp_path / 'm.db'}")
    try:
        recognizer = load_recognizer(path)
        metrics = Monitor(ListSource(audio), recognizer, store).run(threading.Event())
        assert metrics.stored >= 3 and metrics.failed == 0
        assert {u.model_id for u in store.utterances()} == {recognizer.model_id}
        learnt = store.load_speaker_stats("test")
        assert list(learnt["features"]) == ["egemaps"]  # the global ACRNN hears everyone alike
        assert learnt["features"]["egemaps"]["frames_seen"] == metrics.stored
    finally:
        store.close()


def test_fuse_chooses_a_weight_and_temperature_on_labelled_speech(tmp_path, capsys):
    corpus = make_folder(tmp_path / "corpus", speakers=("alice", "bob", "carol", "dave", "erin"), seconds=0.5)
    first = make_test_bundle(tmp_path / "a.pt", seed=1, preprocessing=Preprocessing(statistics="speaker"))
    second = make_test_bundle(tmp_path / "b.pt", seed=2, preprocessing=Preprocessing(statistics="global"))
    out = tmp_path / "fused.pt"
    argv = ["fuse", str(first), str(second), f"--out={out}", f"--corpus=folder={corpus}", "--split=all"]
    assert main([*argv, f"--cache={tmp_path / 'c'}", "--workers=1", "--half"]) == 0
    printed = capsys.readouterr().out
    bundle = load_any_bundle(out)
    choice = bundle.metadata["fusion_choice"]
    assert bundle.weights[0] == choice["weight"] and bundle.temperature == choice["temperature"] > 0
    assert f"{choice['weight']:.2f}" in printed.split("<- chosen")[0].splitlines()[-1]
    mean = np.mean([choice["ua"]["alone"], choice["ua"]["person"]], axis=0)
    assert mean[choice["weights"].index(choice["weight"])] == pytest.approx(mean.max(), abs=1e-3)
    assert all(v.dtype == torch.float16 for v in bundle.parts[0].state_dict.values() if v.is_floating_point())
    assert EmotionRecognizer(bundle.parts[0]).predict(espeak(SENTENCES[1])).label in LABELS
