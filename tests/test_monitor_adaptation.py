"""Speaker adaptation: prior weighting, forgetting, persistence across restarts, calibration from recordings."""

from __future__ import annotations

import logging
import threading

import numpy as np
import pytest
import soundfile as sf

from monitor_helpers import SENTENCES, T0, ListSource, espeak, lay_out
from speech_emotion.audio import SAMPLE_RATE
from speech_emotion.cli import main
from speech_emotion.features import FRAMES_PER_SECOND, log_mel_3d, num_frames
from speech_emotion.monitor.adaptation import (
    AdaptationConfig,
    PersonAdaptation,
    SpeakerNormalizer,
    load_adaptation,
    save_adaptation,
)
from speech_emotion.monitor.pipeline import Monitor
from speech_emotion.normalization import NormStats, fit_stats
from speech_emotion.recognizer import EmotionRecognizer
from speech_emotion.store import Store
from speech_emotion.vad import VadConfig

PRIOR = NormStats(mean=np.full((40, 3), -5.0, np.float32), std=np.full((40, 3), 2.0, np.float32), frames=10_000)


def frames(n: int, mean: float, std: float, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(mean, std, (n, 40, 3))


def learnt(store: Store, source: str, bundle) -> SpeakerNormalizer:
    """What the source learnt of log-mel features, as a monitor running ``bundle`` restores it."""
    return load_adaptation(store, source, EmotionRecognizer.load(bundle).parts).normalizers["logmel"]


@pytest.fixture
def store(tmp_path):
    s = Store(f"sqlite:///{tmp_path / 'monitor.db'}")
    yield s
    s.close()


def test_a_new_speaker_is_normalised_with_the_models_statistics():
    stats = SpeakerNormalizer().stats(PRIOR)
    np.testing.assert_allclose(stats.mean, PRIOR.mean, rtol=1e-6)
    np.testing.assert_allclose(stats.std, PRIOR.std, rtol=1e-6)


def test_the_prior_weighs_as_much_as_its_seconds_of_speech():
    config = AdaptationConfig(prior_seconds=10.0, half_life_hours=1e6)
    normalizer = SpeakerNormalizer(config)
    normalizer.update(np.full((int(10 * FRAMES_PER_SECOND), 40, 3), 3.0))  # as much speech as the prior's weight
    stats = normalizer.stats(PRIOR)
    np.testing.assert_allclose(stats.mean, -1.0, rtol=1e-6)  # halfway between -5 and 3
    np.testing.assert_allclose(stats.std, np.sqrt((4 + 25 + 9) / 2 - 1), rtol=1e-5)  # pooled second moments


def test_with_enough_speech_the_statistics_become_the_speakers():
    normalizer = SpeakerNormalizer(AdaptationConfig(prior_seconds=0.1))
    speech = frames(20_000, mean=1.0, std=0.5)
    for part in np.array_split(speech, 20):
        normalizer.update(part)
    stats, own = normalizer.stats(PRIOR), fit_stats([speech])
    np.testing.assert_allclose(stats.mean, own.mean, atol=0.05)
    np.testing.assert_allclose(stats.std, own.std, atol=0.05)


def test_old_speech_fades_with_the_half_life():
    normalizer = SpeakerNormalizer(AdaptationConfig(prior_seconds=1e-6, half_life_hours=1000 / 360_000))
    normalizer.update(np.full((1000, 40, 3), 1.0))  # one half-life of speech at 1.0
    normalizer.update(np.full((1000, 40, 3), 4.0))  # then one at 4.0: the first now counts half
    assert normalizer.weight == pytest.approx(1500)
    np.testing.assert_allclose(normalizer.stats(PRIOR).mean, (0.5 * 1.0 + 4.0) / 1.5, rtol=1e-5)
    assert normalizer.frames_seen == 2000


def test_statistics_survive_a_restart_through_the_store(store, tiny_bundle):
    person = PersonAdaptation(EmotionRecognizer.load(tiny_bundle).parts)
    person.update([frames(500, 0.0, 1.0)])
    save_adaptation(store, "nao", person)
    restored = learnt(store, "nao", tiny_bundle)
    assert restored.weight == person.normalizers["logmel"].weight and restored.frames_seen == 500
    np.testing.assert_array_equal(restored.stats(PRIOR).mean, person.normalizers["logmel"].stats(PRIOR).mean)
    assert learnt(store, "other", tiny_bundle).weight == 0


def test_what_a_single_model_learnt_before_fused_bundles_is_kept(store, tiny_bundle):
    before = SpeakerNormalizer()  # saved as one normaliser's record, as monitors did before fusion
    before.update(frames(300, 1.0, 1.0))
    store.save_speaker_stats("nao", before.to_dict())
    assert learnt(store, "nao", tiny_bundle).frames_seen == 300


@pytest.mark.parametrize(
    "saved", [{"version": 99}, {"version": 1, "total": [1, 2], "total_sq": [1, 2], "weight": 1}, {"version": 1}]
)
def test_unreadable_saved_statistics_start_anew_with_a_warning(store, saved, caplog, tiny_bundle):
    store.save_speaker_stats("nao", saved)
    with caplog.at_level(logging.WARNING):  # the model's statistics are 40 x 3: [1, 2] was learnt of others
        assert learnt(store, "nao", tiny_bundle).weight == 0
    assert "speaker statistics unreadable" in caplog.text


def test_the_monitor_adapts_to_every_stored_utterance_and_keeps_it(tiny_bundle, store):
    audio, _ = lay_out([espeak(s) for s in SENTENCES[:2]], [1.0, 1.0])
    recognizer = EmotionRecognizer.load(tiny_bundle)
    monitor = Monitor(ListSource(audio), recognizer, store)
    monitor.run(threading.Event())
    segmenter = VadConfig().segmenter()
    heard = [len(u.context) for u in segmenter.push(audio, T0) + segmenter.flush()]
    assert len(heard) == len(store.utterances())
    assert monitor.person.normalizers["logmel"].frames_seen == sum(num_frames(n) for n in heard)  # as heard
    assert store.load_speaker_stats("test") == monitor.person.to_dict()

    fixed = Monitor(ListSource(audio, source_id="fixed"), recognizer, store, adaptation=AdaptationConfig(enabled=False))
    fixed.run(threading.Event())
    assert fixed.person.speech_seconds == 0 and store.load_speaker_stats("fixed") is None


def test_calibrate_adds_the_speech_of_recordings(tmp_path, store, capsys, tiny_bundle):
    recording = tmp_path / "grandad.wav"
    audio, _ = lay_out([espeak(SENTENCES[0]), espeak(SENTENCES[1])], [1.0, 1.5])
    sf.write(recording, audio, SAMPLE_RATE)
    db = ["--db", store.url, "--source", "nao", "--model", str(tiny_bundle)]
    assert main(["calibrate", *db, str(recording)]) == 0
    first = learnt(store, "nao", tiny_bundle)
    speech = sum(len(log_mel_3d(u.heard)) for u in _segments(audio))  # with their context, as the monitor
    assert first.frames_seen == speech
    assert "nao: 2 utterances" in capsys.readouterr().out

    assert main(["calibrate", *db, str(recording)]) == 0
    assert learnt(store, "nao", tiny_bundle).frames_seen == 2 * speech
    assert main(["calibrate", *db, "--reset", str(recording)]) == 0
    assert learnt(store, "nao", tiny_bundle).frames_seen == speech


def test_calibrate_without_speech_saves_nothing(tmp_path, store, capsys):
    silence, missing = tmp_path / "silence.wav", tmp_path / "missing.wav"
    sf.write(silence, np.zeros(SAMPLE_RATE * 2, np.float32), SAMPLE_RATE)
    assert main(["calibrate", "--db", store.url, "--source", "nao", str(silence), str(missing)]) == 1
    err = capsys.readouterr().err
    assert f"{missing}: no such file" in err and f"{silence}: no speech found" in err
    assert "error: --source nao: no speech in the recordings; nothing saved" in err
    assert store.load_speaker_stats("nao") is None


def _segments(audio):
    segmenter = VadConfig().segmenter()
    return segmenter.push(audio, 0.0) + segmenter.flush()
