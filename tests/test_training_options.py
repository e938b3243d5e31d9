"""The training options beyond the reference recipe that the shipped bundles use: SpecAugment-style masking,
mixup, per-speaker normalisation, weight averaging, starting from a bundle's weights; their command-line
options; and the input policy (preprocessing) a trained bundle carries."""

from __future__ import annotations

import argparse
import contextlib
import csv

import numpy as np
import pytest
import torch

from speech_emotion.bundle import ModelBundle, load_bundle
from speech_emotion.cli import main
from speech_emotion.cli.training_options import add_training_arguments, training_config
from speech_emotion.corpora import read_corpus
from speech_emotion.corpora.cache import FeatureCache
from speech_emotion.corpora.examples import fit_normalization, one_emotion_corpora
from speech_emotion.evaluation.protocols import corpus_normalization
from speech_emotion.model import ACRNN, ACRNNConfig
from speech_emotion.normalization import fit_stats
from speech_emotion.preprocessing import Preprocessing
from speech_emotion.training import trainer as trainer_module
from speech_emotion.training.augment import Augmentation
from speech_emotion.training.config import TrainConfig
from speech_emotion.training.loco import default_normalization
from speech_emotion.training.trainer import BEST_UA, CHECKPOINT, Trainer, TrainingError, prepare_data
from synthetic_corpora import make_folder, make_urdu

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
    mixed_x, targets = augment(x, y, k, step=5)
    assert targets.shape == (k, k) and targets.dtype == torch.float32
    assert torch.allclose(targets.sum(dim=1), torch.ones(k)) and bool((targets >= 0).all())
    assert (targets.max(dim=1).values < 1).any()  # some windows really are blends
    expected = targets @ torch.arange(k, dtype=torch.float32)  # the same weights mix the windows
    assert torch.allclose(mixed_x, expected.view(k, 1, 1, 1).expand_as(mixed_x), atol=1e-5)
    again_x, again_targets = augment(x, y, k, step=5)
    assert torch.equal(again_x, mixed_x) and torch.equal(again_targets, targets)
    assert not torch.equal(augment(x, y, k, step=6)[1], targets)
    assert not torch.equal(Augmentation(seed=2, mixup=0.4)(x, y, k, step=5)[1], targets)


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

    trainer.run()
    bundle = load_bundle(tmp_path / "run" / BEST_UA)
    assert np.array_equal(bundle.stats("folder").mean, corpus_stats.mean)  # stored statistics stay per corpus
    assert bundle.preprocessing == Preprocessing(statistics="speaker") and bundle.preprocessing.per_speaker
    # evaluation's "speaker" mode is the same statistics
    evaluated = corpus_normalization("speaker", bundle, "folder", data.valid)
    assert all(a is b or np.array_equal(a.mean, b.mean) for a, b in zip(evaluated, trainer.valid_stats, strict=True))
    assert default_normalization(config) == "speaker"
    assert default_normalization(TrainConfig()) == "target-neutral"
    assert not ModelBundle(bundle.config, bundle.labels, {}, {}).preprocessing.per_speaker


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
    assert bundle.preprocessing == Preprocessing(statistics="hybrid", corpus_statistics=("urdu",))
    per_speaker.run()
    assert load_bundle(tmp_path / "other" / BEST_UA).preprocessing.corpus_statistics == ()
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
        steps=8, eval_every=1, batch_size=8, specaugment=True, mixup=0.3, normalization="speaker", average_from=3
    )
    Trainer(data, config, tmp_path / "straight", progress=False).run()
    Trainer(data, config.with_overrides(steps=4), tmp_path / "resumed", progress=False).run()
    Trainer(data, config, tmp_path / "resumed", progress=False).run(resume=True)
    assert metrics(tmp_path / "straight") == metrics(tmp_path / "resumed")
    final = [torch.load(tmp_path / run / CHECKPOINT, weights_only=True)["model"] for run in ("straight", "resumed")]
    assert all(torch.equal(final[0][k], final[1][k]) for k in final[0])
    plain = Trainer(data, config.with_overrides(mixup=0.0), tmp_path / "plain", progress=False)
    plain.run()
    assert metrics(tmp_path / "plain") != metrics(tmp_path / "straight")  # the options do change training


# --- starting from a bundle ---


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


# --- command line ---


def parse(*argv: str) -> TrainConfig:
    parser = argparse.ArgumentParser()
    add_training_arguments(parser)
    return training_config(parser.parse_args(list(argv)))


def test_command_line_options():
    assert parse() == TrainConfig()
    assert parse("--config=small") == TrainConfig.named("small")
    config = parse("--specaugment", "--mixup=0.2", "--train-normalization=speaker")
    assert (config.specaugment, config.mixup, config.normalization) == (True, 0.2, "speaker")
    assert not parse().specaugment
    assert parse("--train-normalization=hybrid").normalization == "hybrid"
    assert parse("--average-from=400").average_from == 400 and parse().average_from is None
    for bad in ("--mixup=-1", "--average-from=0", "--train-normalization=utterance"):
        with pytest.raises(SystemExit):
            parse(bad)
    for removed in ("--adversary=0.3", "--class-weight=sad=3", "--speed-perturbation=1.1", "--trim-silence"):
        with pytest.raises(SystemExit):  # experiment-only options are not in the product (docs/experiments.md)
            parse(removed)
    with pytest.raises(ValueError, match="normalization must be one of corpus, speaker"):
        TrainConfig(normalization="utterance")
    with pytest.raises(ValueError, match="average_from must be a batch number from 1 on, not 0"):
        TrainConfig(average_from=0)
