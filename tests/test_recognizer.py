"""Bundles round-trip, and the recogniser gives a label, probabilities and a timeline."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from speech_emotion.bundle import load_bundle, save_bundle
from speech_emotion.errors import BundleError
from speech_emotion.features import log_mel_3d
from speech_emotion.preprocessing import Preprocessing
from speech_emotion.recognizer import EmotionRecognizer


def speech_like(seconds: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = int(seconds * 16000)
    envelope = 0.5 + 0.5 * np.sin(2 * np.pi * 3 * np.arange(n) / 16000)
    return (rng.normal(0, 0.1, n) * envelope).astype(np.float32)


def test_bundle_round_trip_is_exact(tiny_bundle, tmp_path):
    bundle = load_bundle(tiny_bundle)
    assert bundle.labels == ["angry", "happy", "sad", "neutral"]
    assert bundle.model_id.startswith("test-small@")
    again = load_bundle(tiny_bundle)
    for key, value in bundle.state_dict.items():
        assert torch.equal(value, again.state_dict[key])
    np.testing.assert_array_equal(bundle.stats().mean, again.stats("testcorpus").mean)


def test_half_precision_bundle_is_smaller_and_close(tiny_bundle, tmp_path):
    bundle = load_bundle(tiny_bundle)
    half_path = tmp_path / "half.pt"
    save_bundle(bundle, half_path, half=True)
    assert half_path.stat().st_size < tiny_bundle.stat().st_size
    audio = speech_like(2.0)
    full = EmotionRecognizer.load(tiny_bundle).predict(audio).probabilities
    half = EmotionRecognizer.load(half_path).predict(audio).probabilities
    assert max(abs(full[k] - half[k]) for k in full) < 0.01


def test_prediction_structure(tiny_bundle):
    recognizer = EmotionRecognizer.load(tiny_bundle)
    prediction = recognizer.predict(speech_like(5.515))  # 550 frames
    assert prediction.label in recognizer.labels
    assert sum(prediction.probabilities.values()) == pytest.approx(1.0, abs=1e-4)
    assert [(w.start_s, w.end_s) for w in prediction.windows] == [(0, 3), (1, 4), (2, 5), (2.5, 5.5)]
    for window in prediction.windows:
        assert sum(window.probabilities.values()) == pytest.approx(1.0, abs=1e-4)


def test_batch_equals_single(tiny_bundle):
    recognizer = EmotionRecognizer.load(tiny_bundle)
    clips = [speech_like(s, i) for i, s in enumerate((0.5, 3.0, 7.2))]
    batched = recognizer.predict_batch(clips)
    for clip, result in zip(clips, batched, strict=True):
        single = recognizer.predict(clip)
        assert single.label == result.label
        assert single.probabilities == pytest.approx(result.probabilities, abs=1e-5)


def test_pooling_choice_changes_only_the_utterance_score(tiny_bundle):
    audio = speech_like(6.0)
    by_max = EmotionRecognizer.load(tiny_bundle, pooling="max").predict(audio)
    by_mean = EmotionRecognizer.load(tiny_bundle, pooling="mean").predict(audio)
    assert by_max.windows == by_mean.windows
    mean = {k: np.mean([w.probabilities[k] for w in by_mean.windows]) for k in by_mean.probabilities}
    assert by_mean.probabilities == pytest.approx(mean, abs=1e-5)


def test_bad_bundles_are_named(tmp_path):
    (tmp_path / "junk.pt").write_bytes(b"not a bundle at all")
    with pytest.raises(BundleError, match=r"junk\.pt: not a readable model bundle"):
        load_bundle(tmp_path / "junk.pt")
    torch.save({"format": "something-else"}, tmp_path / "other.pt")
    with pytest.raises(BundleError, match="not a speech-emotion model bundle"):
        load_bundle(tmp_path / "other.pt")
    with pytest.raises(BundleError, match="no such model bundle file"):
        load_bundle(tmp_path / "absent.pt")


def test_cuda_request_without_gpu_is_a_clear_error(tiny_bundle):
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(Exception, match="no CUDA GPU"):
        EmotionRecognizer.load(tiny_bundle, device="cuda")


def test_a_bundles_logit_offsets_are_added_to_every_window_before_pooling(tiny_bundle, tmp_path):
    bundle = load_bundle(tiny_bundle)
    bundle.metadata = {**bundle.metadata, "logit_offsets": {"sad": 1.5}}
    save_bundle(bundle, tmp_path / "leaning.pt")
    plain, leaning = EmotionRecognizer.load(tiny_bundle), EmotionRecognizer.load(tmp_path / "leaning.pt")
    assert torch.equal(leaning.logit_offsets, torch.tensor([0.0, 0.0, 1.5, 0.0]))
    features = [log_mel_3d(speech_like(seconds, seed)) for seconds, seed in ((2.0, 1), (4.5, 2))]
    for (logits, _), prediction in zip(plain.network_logits(features), leaning.predict_features(features), strict=True):
        shifted = logits + torch.tensor([0.0, 0.0, 1.5, 0.0])
        expected = torch.softmax(shifted.max(dim=0).values, dim=-1)  # the reference's max pooling
        assert [prediction.probabilities[k] for k in leaning.labels] == pytest.approx(expected.tolist(), abs=1e-5)
        assert prediction.windows[0].probabilities["sad"] == pytest.approx(float(torch.softmax(shifted[0], -1)[2]))
    assert [p.label for p in plain.predict_features(features)] == [
        plain.labels[int(logits.max(dim=0).values.argmax())] for logits, _ in plain.network_logits(features)
    ]  # without offsets, the network's own decision
    bundle.metadata = {**bundle.metadata, "logit_offsets": {"joy": 1.0}}
    save_bundle(bundle, tmp_path / "wrong.pt")
    with pytest.raises(BundleError, match="logit offsets for joy, which are not among its labels"):
        EmotionRecognizer.load(tmp_path / "wrong.pt")


def test_a_bundle_carries_its_preprocessing_and_the_recogniser_follows_it(tiny_bundle, tmp_path):
    bundle = load_bundle(tiny_bundle)
    assert bundle.preprocessing == Preprocessing()
    bundle.preprocessing = Preprocessing(statistics="hybrid", corpus_statistics=("urdu",), pooling="mean", hop=50)
    save_bundle(bundle, tmp_path / "mean.pt")
    again = load_bundle(tmp_path / "mean.pt")
    assert again.preprocessing == bundle.preprocessing and again.preprocessing.per_speaker
    recognizer = EmotionRecognizer(again)
    assert (recognizer.pooling, recognizer.hop) == ("mean", 50)
    assert EmotionRecognizer(again, pooling="max").pooling == "max"  # an explicit choice wins
    audio = np.random.default_rng(0).normal(0, 0.1, 16000 * 5).astype(np.float32)  # 499 frames
    assert len(recognizer.predict(audio).windows) == 5  # from frames 0, 50, 100, 150 and 199
    assert len(EmotionRecognizer(load_bundle(tiny_bundle)).predict(audio).windows) == 3  # 0, 100, 199


def test_bundles_saved_before_the_record_derive_it_from_their_training_settings(tiny_bundle, tmp_path):
    payload = torch.load(tiny_bundle, weights_only=True)
    del payload["preprocessing"]
    payload["metadata"] = {
        "train_config": {"normalization": "hybrid", "trim_silence": True},
        "corpus_normalized": ["urdu"],
    }
    torch.save(payload, tmp_path / "old.pt")
    expected = Preprocessing(statistics="hybrid", corpus_statistics=("urdu",), trim=True)
    assert load_bundle(tmp_path / "old.pt").preprocessing == expected
    payload["metadata"] = {}
    torch.save(payload, tmp_path / "older.pt")
    assert load_bundle(tmp_path / "older.pt").preprocessing == Preprocessing()


def test_the_shipped_acrnn_normalises_per_speaker_but_urdu_per_corpus():
    assert load_bundle("combined4-ua").preprocessing == Preprocessing(statistics="hybrid", corpus_statistics=("urdu",))


def test_a_bundle_made_for_other_features_is_refused_in_one_line(tiny_bundle, tmp_path):
    payload = torch.load(tiny_bundle, weights_only=True)
    payload["preprocessing"]["features"]["n_mels"] = 64
    torch.save(payload, tmp_path / "other.pt")
    with pytest.raises(BundleError, match=r"incomplete model bundle .*features .* are not ones this version computes"):
        load_bundle(tmp_path / "other.pt")
