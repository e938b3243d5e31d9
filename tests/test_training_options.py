"""The training options beyond the reference recipe: SpecAugment-style masking, mixup, speed perturbation,
per-speaker normalisation, learning-rate schedules, domain-adversarial training, weight averaging, class weights,
starting from a bundle's weights; their command-line options; and that with all of them off a run is the
reference's (same resume fingerprint as before they existed)."""

from __future__ import annotations

import argparse
import contextlib
import copy
import csv
import itertools
import json
import math

import numpy as np
import pytest
import torch
from torch.nn import functional

from speech_emotion.audio import SAMPLE_RATE
from speech_emotion.bundle import ModelBundle, load_bundle
from speech_emotion.cli import main
from speech_emotion.cli.corpus_options import add_training_arguments, training_config
from speech_emotion.corpora import read_corpus
from speech_emotion.evaluation.loco import default_normalization
from speech_emotion.evaluation.protocols import (
    CORPUS_NORMALIZED,
    corpus_normalization,
    trained_normalization,
    trained_per_speaker,
)
from speech_emotion.model import ACRNN, LEAKY_SLOPE, ACRNNConfig
from speech_emotion.normalization import fit_stats
from speech_emotion.training import trainer as trainer_module
from speech_emotion.training.adversary import CorpusAdversary, adversary_weight
from speech_emotion.training.augment import Augmentation
from speech_emotion.training.cache import FeatureCache, settings_key
from speech_emotion.training.config import TrainConfig
from speech_emotion.training.dataset import fit_normalization, one_emotion_corpora
from speech_emotion.training.schedule import LearningRateSchedule
from speech_emotion.training.speed import change_speed
from speech_emotion.training.trainer import BEST_UA, CHECKPOINT, Trainer, TrainingError, prepare_data, train_step
from synthetic_corpora import make_casia, make_folder, make_urdu

SPEAKERS = ("alice", "bob", "carol", "dave", "erin")  # hashed split: three train, one valid, one test


@pytest.fixture(autouse=True)
def one_thread(restore_threads):
    """The small network trains fastest on one thread, and on a busy machine far faster."""
    torch.set_num_threads(1)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("options")
    corpus = read_corpus("folder", make_folder(root / "folder", speakers=SPEAKERS, seconds=0.5))
    return prepare_data([corpus], FeatureCache(root / "cache", workers=1, progress=False))


@pytest.fixture(scope="module")
def two_corpora(tmp_path_factory):
    """Two corpora, for the corpus adversary."""
    root = tmp_path_factory.mktemp("two-corpora")
    corpora = [
        read_corpus("folder", make_folder(root / "folder", speakers=SPEAKERS, seconds=0.5)),
        read_corpus("casia", make_casia(root / "casia", per_emotion=1, seconds=0.5)),
    ]
    return prepare_data(corpora, FeatureCache(root / "cache", workers=1, progress=False))


def stop_after(monkeypatch, batches: int) -> None:
    """The next run stops after ``batches`` batches, as after a Ctrl-C."""
    calls = []

    @contextlib.contextmanager
    def stop_requests():
        yield lambda: calls.append(1) or len(calls) >= batches

    monkeypatch.setattr(trainer_module, "_stop_requests", stop_requests)


# --- masking ---


def test_masks_zero_whole_time_spans_and_band_spans_and_depend_only_on_seed_and_step():
    augment = Augmentation(seed=7, time_masks=2, time_mask_frames=40, freq_masks=2, freq_mask_bands=8)
    x = torch.randn(32, 3, 300, 40) + 5  # no value is zero before masking
    masked = augment.mask(x, step=3)
    zero = masked == 0
    assert zero.any()
    assert torch.equal(masked[~zero], x[~zero])  # what is not masked is untouched
    assert all(torch.equal(zero[:, 0], zero[:, c]) for c in (1, 2))  # the same region in every channel
    frames, bands = zero[:, 0].all(dim=2), zero[:, 0].all(dim=1)  # (windows, frames), (windows, bands)
    assert torch.equal(zero[:, 0], frames[:, :, None] | bands[:, None, :])  # only whole spans are zeroed
    assert int(frames.sum(dim=1).max()) <= 80 and int(bands.sum(dim=1).max()) <= 16
    assert frames.any(dim=1).sum() > 16 and bands.any(dim=1).sum() > 16  # most windows get some of each
    assert torch.equal(augment.mask(x, step=3), masked)
    assert not torch.equal(augment.mask(x, step=4), masked)
    assert not torch.equal(Augmentation(8, 2, 40, 2, 8).mask(x, step=3), masked)
    only_time = Augmentation(seed=7, time_masks=2, time_mask_frames=40).mask(x, step=3) == 0
    assert torch.equal(only_time[:, 0], frames[:, :, None].expand(-1, -1, 40))  # each kind has its own stream


# --- mixup ---


def test_mixup_blends_windows_and_targets_alike_and_depends_only_on_seed_and_step():
    k = 8
    x = torch.arange(k, dtype=torch.float32).view(k, 1, 1, 1).expand(k, 3, 300, 40).contiguous()
    y = torch.arange(k)  # window i is the constant i, of class i
    augment = Augmentation(seed=1, mixup=0.4)
    corpus = torch.arange(k) % 3
    mixed_x, (targets, corpus_targets) = augment(x, [(y, k), (corpus, 3)], step=5)
    assert targets.shape == (k, k) and targets.dtype == torch.float32
    assert torch.allclose(targets.sum(dim=1), torch.ones(k)) and bool((targets >= 0).all())
    assert (targets.max(dim=1).values < 1).any()  # some windows really are blends
    expected = targets @ torch.arange(k, dtype=torch.float32)  # the same weights mix the windows
    assert torch.allclose(mixed_x, expected.view(k, 1, 1, 1).expand_as(mixed_x), atol=1e-5)
    assert torch.allclose(corpus_targets, targets @ functional.one_hot(corpus, 3).float())  # blended alike
    again_x, (again_targets,) = augment(x, [(y, k)], step=5)
    assert torch.equal(again_x, mixed_x) and torch.equal(again_targets, targets)
    assert not torch.equal(augment(x, [(y, k)], step=6)[1][0], targets)
    assert not torch.equal(Augmentation(seed=2, mixup=0.4)(x, [(y, k)], step=5)[1][0], targets)


# --- per-speaker normalisation ---


def test_speaker_normalisation_uses_each_speakers_own_speech(data, tmp_path):
    config = TrainConfig.named("small").with_overrides(normalization="speaker", steps=1, eval_every=1, batch_size=8)
    trainer = Trainer(data, config, tmp_path / "run", progress=False)
    speakers = {e.utterance.speaker for e in data.train}
    assert len(speakers) == 3
    corpus_stats = fit_normalization(data.train, data.corpora)["folder"]
    for example, normalised in zip(data.train, trainer.windows.features, strict=True):
        own = fit_stats(e.features for e in data.train if e.utterance.speaker == example.utterance.speaker)
        assert np.allclose(normalised, own.apply(example.features), atol=1e-5)
        assert not np.allclose(normalised, corpus_stats.apply(example.features), atol=1e-2)
    for example, stats in zip(data.valid, trainer.valid_stats, strict=True):
        own = fit_stats(e.features for e in data.valid if e.utterance.speaker == example.utterance.speaker)
        assert np.allclose(stats.mean, own.mean) and stats.frames == own.frames
    # evaluation's "speaker" mode is the same statistics
    evaluated = corpus_normalization("speaker", None, "folder", data.valid)
    assert all(a is b or np.array_equal(a.mean, b.mean) for a, b in zip(evaluated, trainer.valid_stats, strict=True))

    trainer.run()
    bundle = load_bundle(tmp_path / "run" / BEST_UA)
    assert np.array_equal(bundle.stats("folder").mean, corpus_stats.mean)  # stored statistics stay per corpus
    assert trained_normalization(bundle) == "speaker" and trained_per_speaker(bundle)
    assert default_normalization(config) == "speaker"
    assert default_normalization(TrainConfig()) == "target-neutral"
    assert not trained_per_speaker(ModelBundle(bundle.config, bundle.labels, {}, {}, metadata={}))


def test_hybrid_normalisation_keeps_corpus_statistics_where_speakers_speak_one_emotion(tmp_path):
    corpora = [
        read_corpus("folder", make_folder(tmp_path / "folder", speakers=SPEAKERS, seconds=0.5)),
        read_corpus("urdu", make_urdu(tmp_path / "urdu", seconds=0.5)),
    ]
    data = prepare_data(corpora, FeatureCache(tmp_path / "cache", workers=1, progress=False))
    # the folder corpus's speakers speak every emotion
    assert one_emotion_corpora(e.utterance for e in data.train) == {"urdu"}
    config = TrainConfig.named("small").with_overrides(normalization="hybrid", steps=1, eval_every=1, batch_size=8)
    trainer = Trainer(data, config, tmp_path / "run", progress=False)
    per_speaker = Trainer(data, config.with_overrides(normalization="speaker"), tmp_path / "other", progress=False)
    neutral = fit_normalization(data.train, data.corpora)

    def own(example, examples):
        speaker = example.utterance.corpus, example.utterance.speaker
        return fit_stats(e.features for e in examples if (e.utterance.corpus, e.utterance.speaker) == speaker)

    pairs = zip(trainer.windows.features, per_speaker.windows.features, strict=True)
    for example, (hybrid, speaker) in zip(data.train, pairs, strict=True):
        assert np.allclose(speaker, own(example, data.train).apply(example.features), atol=1e-5)
        if example.utterance.corpus == "urdu":
            assert np.allclose(hybrid, neutral["urdu"].apply(example.features), atol=1e-5)
            assert not np.allclose(hybrid, speaker, atol=1e-2)
        else:
            assert np.allclose(hybrid, speaker, atol=1e-5)
    assert {e.utterance.corpus for e in data.valid} == {"folder", "urdu"}
    for example, stats in zip(data.valid, trainer.valid_stats, strict=True):
        expected = neutral["urdu"] if example.utterance.corpus == "urdu" else own(example, data.valid)
        assert np.allclose(stats.mean, expected.mean) and stats.frames == expected.frames

    trainer.run()
    bundle = load_bundle(tmp_path / "run" / BEST_UA)
    assert bundle.metadata[CORPUS_NORMALIZED] == ["urdu"] and trained_per_speaker(bundle)
    per_speaker.run()
    assert CORPUS_NORMALIZED not in load_bundle(tmp_path / "other" / BEST_UA).metadata
    # evaluation's "speaker" mode follows the bundle: URDU with its training statistics, the others per speaker
    for corpus in ("folder", "urdu"):
        examples = [e for e in data.valid if e.utterance.corpus == corpus]
        stats = [s for e, s in zip(data.valid, trainer.valid_stats, strict=True) if e.utterance.corpus == corpus]
        evaluated = corpus_normalization("speaker", bundle, corpus, examples)
        assert all(np.array_equal(a.mean, b.mean) for a, b in zip(evaluated, stats, strict=True))
    assert default_normalization(config) == "speaker"


# --- resume with every option on ---


def metrics(run) -> list[dict]:
    with open(run / "metrics.csv", newline="") as f:
        return [{k: v for k, v in row.items() if k != "elapsed_s"} for row in csv.DictReader(f)]


def test_a_resumed_run_with_every_option_equals_an_uninterrupted_one(data, tmp_path):
    config = TrainConfig.named("small").with_overrides(
        steps=8, eval_every=1, batch_size=8, time_masks=2, freq_masks=2, mixup=0.3, normalization="speaker"
    )
    config = config.with_overrides(lr_schedule="plateau", lr_patience=0, lr_factor=0.5)
    Trainer(data, config, tmp_path / "straight", progress=False).run()
    Trainer(data, config.with_overrides(steps=4), tmp_path / "resumed", progress=False).run()
    Trainer(data, config, tmp_path / "resumed", progress=False).run(resume=True)
    assert metrics(tmp_path / "straight") == metrics(tmp_path / "resumed")
    rates = [float(row["learning_rate"]) for row in metrics(tmp_path / "straight")]
    assert rates[-1] < rates[0]  # the schedule's state came through the resume
    final = [torch.load(tmp_path / run / CHECKPOINT, weights_only=True)["model"] for run in ("straight", "resumed")]
    assert all(torch.equal(final[0][k], final[1][k]) for k in final[0])
    plain = Trainer(data, config.with_overrides(mixup=0.0), tmp_path / "plain", progress=False)
    plain.run()
    assert metrics(tmp_path / "plain") != metrics(tmp_path / "straight")  # the options do change training


# --- learning-rate schedules ---


def test_plateau_lowers_the_rate_once_validation_ua_has_stalled_for_longer_than_the_patience():
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    schedule = LearningRateSchedule(optimizer, TrainConfig(lr_schedule="plateau", lr_patience=2, lr_factor=0.5))
    rates = []
    for ua in (0.4, 0.5, 0.5, 0.45, 0.45, 0.6, 0.3, 0.3, 0.3):
        schedule.after_batch()  # batches leave a plateau schedule alone
        schedule.after_validation(ua)
        rates.append(schedule.rate)
    assert rates == [1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.25]  # a tie is no gain
    constant = LearningRateSchedule(optimizer, TrainConfig())
    for _ in range(3):
        constant.after_batch()
        constant.after_validation(0.0)
    assert constant.rate == 0.25 and constant.state_dict() == {}


def test_a_plateau_run_lowers_its_rate_after_each_validation_without_a_better_ua(data, tmp_path):
    config = TrainConfig.named("small").with_overrides(
        steps=10, eval_every=1, batch_size=8, lr_schedule="plateau", lr_patience=0, lr_factor=0.5
    )
    Trainer(data, config, tmp_path / "run", progress=False).run()
    rows = metrics(tmp_path / "run")
    rate, best, expected = config.learning_rate, -1.0, []
    for row in rows:
        expected.append(rate)  # the rate the batches before this validation trained at
        ua = float(row["valid_ua"])
        rate, best = (rate, ua) if ua > best else (rate * 0.5, best)
    assert [float(row["learning_rate"]) for row in rows] == pytest.approx(expected)
    assert expected[-1] < expected[0]


def test_cosine_decays_to_zero_at_the_last_batch_and_resumes_on_the_same_curve(data, tmp_path, monkeypatch):
    config = TrainConfig.named("small").with_overrides(steps=8, eval_every=2, batch_size=8, lr_schedule="cosine")
    Trainer(data, config, tmp_path / "straight", progress=False).run()
    rates = [float(row["learning_rate"]) for row in metrics(tmp_path / "straight")]
    expected = [config.learning_rate * (1 + math.cos(math.pi * step / 8)) / 2 for step in (2, 4, 6, 8)]
    assert rates == pytest.approx(expected, abs=1e-12)

    stop_after(monkeypatch, 3)
    assert Trainer(data, config, tmp_path / "stopped", progress=False).run().interrupted
    monkeypatch.undo()
    with pytest.raises(TrainingError, match="not with a cosine --lr-schedule"):
        Trainer(data, config.with_overrides(steps=12), tmp_path / "stopped", progress=False).run(resume=True)
    Trainer(data, config, tmp_path / "stopped", progress=False).run(resume=True)
    assert metrics(tmp_path / "stopped") == metrics(tmp_path / "straight")


# --- domain-adversarial training against the corpus label ---


def test_the_adversary_pulls_the_encoder_away_from_the_corpus_and_its_own_classifier_towards_it():
    torch.manual_seed(0)
    network = ACRNNConfig.small()
    model, adversary = ACRNN(network), CorpusAdversary(network, 3)
    x, y, corpus, weight = torch.randn(6, 3, 300, 40), torch.arange(6) % 4, torch.arange(6) % 3, 0.5

    def gradients(loss_of) -> dict[str, torch.Tensor]:
        """Each parameter's gradient of one loss, with the dropout draws that train_step makes."""
        m, a = copy.deepcopy(model).train(), copy.deepcopy(adversary)
        torch.manual_seed(1)
        embedding, _ = m.embed(x)
        loss_of(m, a, embedding).backward()
        return {n: p.grad if p.grad is not None else torch.zeros_like(p) for n, p in named(m, a)}

    emotion = gradients(lambda m, a, e: functional.cross_entropy(m.head(e), y))
    corpus_only = gradients(lambda m, a, e: functional.cross_entropy(unreversed(a, e), corpus))
    before = {n: p.detach().clone() for n, p in named(model, adversary)}
    torch.manual_seed(1)
    step = train_step(model, torch.optim.SGD([*model.parameters(), *adversary.parameters()], lr=1.0), x, y,
                      adversary=adversary, corpus=corpus, adversary_weight=weight)  # fmt: skip
    assert 0 <= step.corpus_correct <= 6
    moved = {n: before[n] - p.detach() for n, p in named(model, adversary)}  # SGD at rate 1: the gradient
    for name, delta in moved.items():
        if name.startswith("adversary."):  # the classifier learns to name the corpus
            expected = corpus_only[name]
        elif name.startswith(("fc.", "classify.")):  # the emotion head never sees the corpus loss
            expected = emotion[name]
        else:  # the encoder is pushed against it, at the reversal's weight
            expected = emotion[name] - weight * corpus_only[name]
        assert torch.allclose(delta, expected, atol=1e-6), name
    assert any(corpus_only[n].abs().sum() > 0 for n in moved if n.startswith("convs."))


def unreversed(adversary: CorpusAdversary, embedding: torch.Tensor) -> torch.Tensor:
    """The adversary's corpus logits with the plain gradient: its layers without the reversal."""
    return adversary.classify(functional.leaky_relu(adversary.hidden(embedding), LEAKY_SLOPE))


def named(model: ACRNN, adversary: CorpusAdversary):
    yield from model.named_parameters()
    yield from ((f"adversary.{n}", p) for n, p in adversary.named_parameters())


def test_the_reversal_weight_rises_from_zero_to_its_final_value():
    weights = [adversary_weight(step, 100, 0.3) for step in range(100)]
    assert weights[0] == 0 and all(a < b for a, b in itertools.pairwise(weights))
    assert 0.29 < weights[-1] < 0.3 and weights[10] == pytest.approx(0.3 * math.tanh(0.5))


def test_a_run_with_the_adversary_logs_it_keeps_it_out_of_the_bundles_and_resumes(two_corpora, tmp_path, monkeypatch):
    config = TrainConfig.named("small").with_overrides(
        steps=6, eval_every=2, batch_size=8, adversary_weight=1.0, mixup=0.3, time_masks=1
    )
    Trainer(two_corpora, config, tmp_path / "straight", progress=False).run()
    rows = metrics(tmp_path / "straight")
    assert [float(r["adversary_weight"]) for r in rows] == pytest.approx(
        [adversary_weight(s, 6, 1.0) for s in (1, 3, 5)]
    )
    assert all(0 <= float(r["train_corpus_accuracy"]) <= 1 for r in rows)
    checkpoint = torch.load(tmp_path / "straight" / CHECKPOINT, weights_only=True)
    assert set(checkpoint["adversary"]) == {"hidden.weight", "hidden.bias", "classify.weight", "classify.bias"}
    assert checkpoint["adversary"]["classify.weight"].shape[0] == 2  # casia, folder
    bundle = load_bundle(tmp_path / "straight" / BEST_UA)
    assert set(bundle.state_dict) == set(ACRNN(config.network(4)).state_dict())  # the emotion network alone
    assert bundle.metadata["train_config"]["adversary_weight"] == 1.0

    stop_after(monkeypatch, 3)
    assert Trainer(two_corpora, config, tmp_path / "stopped", progress=False).run().interrupted
    monkeypatch.undo()
    with pytest.raises(TrainingError, match="or --adversary"):  # its weight's curve is set by the length
        Trainer(two_corpora, config.with_overrides(steps=8), tmp_path / "stopped", progress=False).run(resume=True)
    Trainer(two_corpora, config, tmp_path / "stopped", progress=False).run(resume=True)
    assert metrics(tmp_path / "stopped") == rows
    final = [torch.load(tmp_path / run / CHECKPOINT, weights_only=True) for run in ("straight", "stopped")]
    for part in ("model", "adversary"):
        assert all(torch.equal(final[0][part][k], final[1][part][k]) for k in final[0][part])

    Trainer(two_corpora, config.with_overrides(adversary_weight=0.0), tmp_path / "plain", progress=False).run()
    plain = metrics(tmp_path / "plain")
    assert "adversary_weight" not in plain[0] and plain != rows  # the adversary changes training


def test_the_adversary_needs_two_corpora(data, tmp_path):
    config = TrainConfig.named("small").with_overrides(adversary_weight=0.5)
    with pytest.raises(TrainingError, match=r"^folder: domain-adversarial training \(--adversary\) needs at least two"):
        Trainer(data, config, tmp_path, progress=False)


# --- speed perturbation ---


def test_a_faster_copy_is_shorter_and_higher_by_the_factor():
    t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
    tone = np.sin(2 * np.pi * 440 * t).astype(np.float32)
    assert change_speed(tone, 1.0) is tone
    for factor in (0.9, 1.1):
        copy_ = change_speed(tone, factor)
        assert copy_.dtype == np.float32 and abs(len(copy_) - SAMPLE_RATE / factor) <= 1
        spectrum = np.abs(np.fft.rfft(copy_ * np.hanning(len(copy_))))
        peak_hz = np.argmax(spectrum) * SAMPLE_RATE / len(copy_)
        assert abs(peak_hz - 440 * factor) < 2


@pytest.fixture(scope="module")
def perturbed(tmp_path_factory):
    root = tmp_path_factory.mktemp("speeds")
    corpus = read_corpus("folder", make_folder(root / "folder", speakers=SPEAKERS, seconds=0.5))
    return root, prepare_data([corpus], FeatureCache(root / "cache", workers=1, progress=False), (0.9, 1.1))


def test_speed_perturbation_adds_a_copy_per_speed_spoken_by_a_speaker_of_its_own(data, perturbed):
    root, sped = perturbed
    assert [e.features.shape for e in sped.train] == [e.features.shape for e in data.train]  # originals as before
    assert len(sped.perturbed) == 2 * len(sped.train) and sped.speeds == (0.9, 1.1)
    for factor, copies in ((0.9, sped.perturbed[: len(sped.train)]), (1.1, sped.perturbed[len(sped.train) :])):
        for original, copy_ in zip(sped.train, copies, strict=True):
            assert copy_.utterance.path == original.utterance.path and copy_.utterance.label == original.utterance.label
            assert copy_.utterance.speaker == f"{original.utterance.speaker}@{factor:g}x"
            assert abs(len(copy_.features) - len(original.features) / factor) <= 2
    # each speed has its own cache entries; the recordings' own key is the one from before speeds existed
    assert settings_key(speed=1.0) == settings_key()
    keys = {p.name for p in (root / "cache").iterdir()}
    assert keys == {settings_key(), settings_key(speed=0.9), settings_key(speed=1.1)}


def test_copies_are_trained_on_normalised_as_their_own_speakers(data, perturbed, tmp_path):
    _, sped = perturbed
    config = TrainConfig.named("small").with_overrides(steps=1, eval_every=1, batch_size=8, speeds=(0.9, 1.1))
    with pytest.raises(ValueError, match=r"speeds are \(0.9, 1.1\), the features were read at \(\)"):
        Trainer(data, config, tmp_path / "unsped", progress=False)
    by_corpus = Trainer(sped, config, tmp_path / "corpus", progress=False)
    plain = Trainer(data, config.with_overrides(speeds=()), tmp_path / "plain", progress=False)
    assert len(by_corpus.windows) > len(plain.windows)
    assert len(by_corpus.windows.features) == 3 * len(sped.train)
    neutral = fit_normalization(sped.train, sped.corpora)["folder"]  # the originals' statistics, copies left out
    assert np.array_equal(by_corpus.stats["folder"].mean, neutral.mean)
    copies = sped.perturbed
    for example, normalised in zip(copies, by_corpus.windows.features[len(sped.train) :], strict=True):
        assert np.allclose(normalised, neutral.apply(example.features), atol=1e-5)

    per_speaker = Trainer(sped, config.with_overrides(normalization="speaker"), tmp_path / "speaker", progress=False)
    for example, normalised in zip(copies, per_speaker.windows.features[len(sped.train) :], strict=True):
        own = fit_stats(e.features for e in copies if e.utterance.speaker == example.utterance.speaker)
        assert np.allclose(normalised, own.apply(example.features), atol=1e-5)
    assert len(per_speaker.valid_stats) == len(sped.valid)  # validation speech is never perturbed
    per_speaker.run()
    assert load_bundle(tmp_path / "speaker" / BEST_UA).metadata["train_config"]["speeds"] == (0.9, 1.1)


# --- starting from a bundle (fine-tuning) ---


def test_a_run_can_start_from_a_bundles_weights(data, tmp_path):
    config = TrainConfig.named("small").with_overrides(steps=2, eval_every=1, batch_size=8)
    Trainer(data, config, tmp_path / "first", progress=False).run()
    start = load_bundle(tmp_path / "first" / BEST_UA)
    barely = config.with_overrides(steps=1, learning_rate=1e-30)  # Adam moves each weight by about the rate
    Trainer(data, barely, tmp_path / "tuned", progress=False, initial=start).run()
    Trainer(data, barely, tmp_path / "fresh", progress=False).run()
    parameters = [name for name, _ in ACRNN(config.network(4)).named_parameters()]  # not batch-norm statistics
    tuned, fresh = (torch.load(tmp_path / run / CHECKPOINT, weights_only=True)["model"] for run in ("tuned", "fresh"))
    assert all(torch.equal(tuned[name], start.float_weights()[name]) for name in parameters)
    assert not all(torch.equal(fresh[name], start.float_weights()[name]) for name in parameters)
    assert load_bundle(tmp_path / "tuned" / BEST_UA).metadata["initialised_from"] == start.model_id
    assert "initialised_from" not in load_bundle(tmp_path / "fresh" / BEST_UA).metadata
    with pytest.raises(TrainingError, match="made with other corpora, files or settings"):  # a run keeps its start
        Trainer(data, barely.with_overrides(steps=2), tmp_path / "tuned", progress=False).run(resume=True)

    reference = ModelBundle(ACRNNConfig.reference(), start.labels, {}, {}, model_id="big@0123456789ab")
    with pytest.raises(TrainingError, match=r"^big@0123456789ab: has another network or other labels than this run"):
        Trainer(data, config, tmp_path / "mismatch", progress=False, initial=reference)


def test_train_names_a_missing_starting_bundle_in_one_line(tmp_path, capsys):
    corpus = make_folder(tmp_path / "folder", speakers=SPEAKERS, seconds=0.5)
    missing = tmp_path / "missing.pt"
    argv = ["train", f"--corpus=folder={corpus}", f"--out={tmp_path / 'run'}", "--config=small"]
    assert main([*argv, f"--init-from={missing}"]) != 0
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {missing}: no such model bundle file") and "\n" not in err
    assert not (tmp_path / "run").exists()


# --- class weights ---


def test_a_class_weight_counts_each_window_of_that_emotion_as_that_many_windows():
    torch.manual_seed(0)
    model = ACRNN(ACRNNConfig.named("small", 4))
    x, y = torch.randn(6, 3, 300, 40), torch.arange(6) % 4  # one window of class 2 among six
    weights = torch.tensor([1.0, 1.0, 3.0, 1.0])

    def moved(class_weights: torch.Tensor | None) -> dict[str, torch.Tensor]:
        """Each parameter's change in one train_step at SGD rate 1: its gradient."""
        m = copy.deepcopy(model)
        before = {n: p.detach().clone() for n, p in m.named_parameters()}
        torch.manual_seed(1)
        train_step(m, torch.optim.SGD(m.parameters(), lr=1.0), x, y, class_weights=class_weights)
        return {n: before[n] - p.detach() for n, p in m.named_parameters()}

    m = copy.deepcopy(model).train()
    torch.manual_seed(1)  # the dropout draws train_step makes
    embedding, _ = m.embed(x)
    per_window = functional.cross_entropy(m.head(embedding), y, reduction="none")
    counts = weights[y]  # the class-2 window as three windows
    ((per_window * counts).sum() / counts.sum()).backward()
    weighted, plain = moved(weights), moved(None)
    for name, p in m.named_parameters():
        expected = p.grad if p.grad is not None else torch.zeros_like(p)
        assert torch.allclose(weighted[name], expected, atol=1e-6), name
    assert not all(torch.allclose(weighted[n], plain[n], atol=1e-6) for n in plain)


def test_a_class_weight_must_name_a_training_label(data, tmp_path):
    config = TrainConfig.named("small").with_overrides(class_weights={"joy": 2.0}, steps=1)
    with pytest.raises(TrainingError, match="--class-weight: joy is not among the training labels angry"):
        Trainer(data, config, tmp_path, progress=False)
    assert not any(tmp_path.iterdir())  # refused before anything was written


# --- weight averaging ---


def test_weight_averaging_keeps_the_mean_of_the_weights_from_its_batch_on_and_resumes(data, tmp_path):
    config = TrainConfig.named("small").with_overrides(steps=3, eval_every=3, batch_size=8)
    Trainer(data, config.with_overrides(steps=2), tmp_path / "plain", progress=False).run()
    after = [torch.load(tmp_path / "plain" / CHECKPOINT, weights_only=True)["model"]]
    Trainer(data, config, tmp_path / "plain", progress=False).run(resume=True)
    after.append(torch.load(tmp_path / "plain" / CHECKPOINT, weights_only=True)["model"])

    averaged = config.with_overrides(average_from=2)
    Trainer(data, averaged, tmp_path / "averaged", progress=False).run()
    kept = load_bundle(tmp_path / "averaged" / BEST_UA).float_weights()
    floats = [name for name, value in after[0].items() if value.is_floating_point()]  # batch-norm statistics too
    assert not torch.equal(after[0][floats[0]], after[1][floats[0]])
    assert all(torch.allclose(kept[name], (after[0][name] + after[1][name]) / 2, atol=1e-7) for name in floats)
    counters = [name for name, value in after[0].items() if not value.is_floating_point()]  # batch norm's
    assert counters and all(torch.equal(kept[name], after[1][name]) for name in counters)  # the latest, not a mean
    network = torch.load(tmp_path / "averaged" / CHECKPOINT, weights_only=True)["model"]
    assert all(torch.equal(network[name], after[1][name]) for name in floats)  # the network trains as before

    Trainer(data, averaged.with_overrides(steps=2), tmp_path / "resumed", progress=False).run()
    Trainer(data, averaged, tmp_path / "resumed", progress=False).run(resume=True)
    straight, resumed = (
        torch.load(tmp_path / run / CHECKPOINT, weights_only=True)["average"] for run in ("averaged", "resumed")
    )
    assert int(resumed["n_averaged"]) == 2
    assert all(torch.equal(straight[name], resumed[name]) for name in straight)


# --- compatibility: new fields at their defaults leave the resume fingerprint as it was ---


def test_new_fields_at_default_keep_the_original_fingerprint(data, tmp_path):
    original = {  # TrainConfig.to_dict() | {"steps": None} before the options existed, in field order
        "model": "reference",
        "learning_rate": 1e-4,
        "batch_size": 60,
        "steps": None,
        "eval_every": 20,
        "hop": None,
        "seed": 0,
        "bf16": True,
        "pooling": "max",
    }
    config = TrainConfig(bf16=True, steps=1234)
    assert json.dumps(config.fingerprint_settings()) == json.dumps(original)
    assert config.with_overrides(mixup=0.2).fingerprint_settings() == original | {"mixup": 0.2}
    assert config.with_overrides(trim_silence=True).fingerprint_settings() == original | {"trim_silence": True}
    assert config.with_overrides(speeds=(1.1,)).fingerprint_settings() == original | {"speeds": (1.1,)}
    assert config.with_overrides(normalization="speaker").fingerprint_settings()["normalization"] == "speaker"
    plateau = config.with_overrides(lr_schedule="plateau").fingerprint_settings()
    assert plateau == original | {"lr_schedule": "plateau"}  # its patience and factor at their defaults
    assert config.with_overrides(lr_schedule="cosine").fingerprint_settings()["steps"] == 1234
    adversarial = config.with_overrides(adversary_weight=0.3).fingerprint_settings()
    assert adversarial == original | {"steps": 1234, "adversary_weight": 0.3}
    small = TrainConfig.named("small").with_overrides(batch_size=8)
    trainer = Trainer(data, small, tmp_path, progress=False)
    fingerprint = trainer._fingerprint()
    assert Trainer(data, small.with_overrides(steps=5), tmp_path, progress=False)._fingerprint() == fingerprint
    changes = (
        {"time_masks": 1},
        {"freq_mask_bands": 4},
        {"mixup": 0.1},
        {"normalization": "speaker"},
        {"normalization": "hybrid"},
        {"lr_schedule": "plateau"},
        {"lr_patience": 2},
        {"average_from": 2},
        {"class_weights": {"sad": 2.0}},
    )
    for changed in changes:
        assert Trainer(data, small.with_overrides(**changed), tmp_path, progress=False)._fingerprint() != fingerprint


# --- command-line options ---


def parse(*argv: str) -> TrainConfig:
    parser = argparse.ArgumentParser()
    add_training_arguments(parser)
    return training_config(parser.parse_args(list(argv)))


def test_command_line_options():
    assert parse() == TrainConfig()
    assert parse("--config=small") == TrainConfig.named("small")
    config = parse("--specaugment", "--mixup=0.2", "--train-normalization=speaker")
    assert (config.time_masks, config.freq_masks, config.mixup, config.normalization) == (2, 2, 0.2, "speaker")
    assert parse("--train-normalization=hybrid").normalization == "hybrid"
    assert parse("--trim-silence").trim_silence and not parse().trim_silence
    config = parse("--specaugment", "--freq-masks=0", "--time-masks=3", "--time-mask-frames=20")
    assert (config.time_masks, config.time_mask_frames, config.freq_masks) == (3, 20, 0)
    config = parse("--lr-schedule=plateau", "--lr-patience=2", "--lr-factor=0.5")
    assert (config.lr_schedule, config.lr_patience, config.lr_factor) == ("plateau", 2, 0.5)
    assert parse("--lr-schedule=cosine").lr_schedule == "cosine" and parse().lr_schedule == "constant"
    assert parse("--adversary=0.3").adversary_weight == 0.3 and parse().adversary_weight == 0
    assert parse("--average-from=400").average_from == 400 and parse().average_from is None
    weighted = parse("--class-weight=sad=3", "--class-weight", "angry=0.5")
    assert weighted.class_weights == {"sad": 3.0, "angry": 0.5} and parse().class_weights is None
    assert parse("--speed-perturbation", "0.9", "1.1", "0.9").speeds == (0.9, 1.1) and parse().speeds == ()
    for bad in (
        "--mixup=-1",
        "--adversary=-0.1",
        "--lr-schedule=step",
        "--lr-factor=1",
        "--lr-factor=0",
        "--lr-patience=-1",
        "--average-from=0",
        "--class-weight=sad",
        "--class-weight==2",
        "--class-weight=sad=0",
        "--class-weight=sad=much",
        "--speed-perturbation=1",
        "--speed-perturbation=0.4",
        "--speed-perturbation=2.5",
    ):
        with pytest.raises(SystemExit):
            parse(bad)
    with pytest.raises(SystemExit):
        parse("--train-normalization=utterance")
    with pytest.raises(ValueError, match="normalization must be one of corpus, speaker"):
        TrainConfig(normalization="utterance")
    with pytest.raises(ValueError, match="lr_schedule must be one of constant, cosine, plateau"):
        TrainConfig(lr_schedule="step")
    with pytest.raises(ValueError, match="average_from must be a batch number from 1 on, not 0"):
        TrainConfig(average_from=0)
    with pytest.raises(ValueError, match="class weights must be above 0"):
        TrainConfig(class_weights={"sad": 0.0})
    with pytest.raises(ValueError, match=r"speeds must differ from each other and from 1 .* not \[1.1, 1.1\]"):
        TrainConfig(speeds=(1.1, 1.1))
