"""Feature cache, normalisation and windows, balanced batches, and the training loop end to end on real
corpora: trained, evaluated, interrupted with Ctrl-C and resumed to the same result, with bad files skipped."""

from __future__ import annotations

import csv
import json
import logging
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch

from speech_emotion.audio import load_audio
from speech_emotion.bundle import load_bundle
from speech_emotion.cli import main
from speech_emotion.corpora import cache as cache_module
from speech_emotion.corpora import read_corpus
from speech_emotion.corpora.cache import FeatureCache, settings_key
from speech_emotion.corpora.examples import examples_of, fit_normalization
from speech_emotion.features import log_mel_3d
from speech_emotion.normalization import fit_stats
from speech_emotion.recognizer import EmotionRecognizer
from speech_emotion.training.config import TrainConfig
from speech_emotion.training.dataset import WindowSet
from speech_emotion.training.sampler import BalancedSampler
from speech_emotion.training.trainer import CHECKPOINT, Trainer, TrainingError, prepare_data
from speech_emotion.windows import cut_windows
from synthetic_corpora import make_casia, make_folder, write_clip

# --- balanced batches ---


def test_batches_are_balanced_and_cycle_through_every_window():
    labels = np.array([0] * 7 + [1] * 3 + [2] * 11 + [3] * 5)
    sampler = BalancedSampler(labels, 4, 10, seed=3)
    seen = Counter()
    for k in range(33):  # class 1 (3 windows, 3 a batch) is drawn 33 times: every window exactly 33 times
        batch = sampler.batch(k)
        assert Counter(labels[batch].tolist()) == {0: 3, 1: 3, 2: 2, 3: 2}
        seen.update(batch[labels[batch] == 1].tolist())
    assert seen == {7: 33, 8: 33, 9: 33}
    assert np.array_equal(BalancedSampler(labels, 4, 10, seed=3).batch(20), sampler.batch(20))
    assert not np.array_equal(BalancedSampler(labels, 4, 10, seed=4).batch(20), sampler.batch(20))


def test_sampler_refuses_a_missing_class():
    with pytest.raises(ValueError, match="no training windows of class 2"):
        BalancedSampler(np.array([0, 1, 3]), 4, 8, seed=0)


# --- feature cache ---


def test_cache_extracts_once_and_keys_by_content(tmp_path):
    a = write_clip(tmp_path / "a.wav", 1.0, seed=1)
    b = write_clip(tmp_path / "b.flac", 0.5, seed=2, rate=44100)
    same_as_a = tmp_path / "copy.wav"
    same_as_a.write_bytes(a.read_bytes())
    cache = FeatureCache(tmp_path / "cache", workers=1, progress=False)
    first = cache.load([a, b, same_as_a])
    assert first.extracted == 2 and not first.unreadable
    assert np.array_equal(first.features[b], log_mel_3d(load_audio(b)))
    assert np.array_equal(first.features[same_as_a], first.features[a])
    assert len(list((tmp_path / "cache" / settings_key()).rglob("*.npy"))) == 2
    again = cache.load([a, b])
    assert again.extracted == 0
    assert np.array_equal(again.features[a], first.features[a])
    write_clip(a, 1.0, seed=5)  # new content, same name: extracted again
    changed = cache.load([a])
    assert changed.extracted == 1 and not np.array_equal(changed.features[a], first.features[a])


def test_cache_reports_and_skips_bad_files(tmp_path, caplog):
    good = write_clip(tmp_path / "good.wav", 0.5)
    text = tmp_path / "text.wav"
    text.write_text("not audio")
    truncated = tmp_path / "truncated.flac"
    truncated.write_bytes(write_clip(tmp_path / "long.flac", 3.0).read_bytes()[:3000])
    missing = tmp_path / "missing.wav"
    with caplog.at_level(logging.WARNING):
        result = FeatureCache(tmp_path / "cache", workers=1, progress=False).load([text, good, truncated, missing])
    assert list(result.features) == [good]
    reasons = {Path(u.path).name: u.reason for u in result.unreadable}
    assert reasons["text.wav"].startswith("not a readable audio file")
    assert reasons["truncated.flac"].startswith("corrupt or truncated audio")
    assert reasons["missing.wav"] == "No such file or directory"
    assert f"{truncated}: corrupt or truncated audio" in caplog.text
    assert "3 unreadable files skipped" in caplog.text


def test_cache_worker_processes_give_the_same_features(tmp_path, monkeypatch):
    clips = [write_clip(tmp_path / f"{i}.wav", 0.4, seed=i) for i in range(4)]
    (tmp_path / "bad.wav").write_text("x")
    monkeypatch.setattr(cache_module, "POOL_MIN_FILES", 1)
    pooled = FeatureCache(tmp_path / "pooled", workers=2, progress=False).load([*clips, tmp_path / "bad.wav"])
    inline = FeatureCache(tmp_path / "inline", workers=1, progress=False).load(clips)
    assert pooled.extracted == 4 and len(pooled.unreadable) == 1
    for clip in clips:
        assert np.array_equal(pooled.features[clip], inline.features[clip])


def test_damaged_cache_entry_is_extracted_again(tmp_path):
    clip = write_clip(tmp_path / "a.wav", 0.5)
    cache = FeatureCache(tmp_path / "cache", workers=1, progress=False)
    expected = cache.load([clip]).features[clip]
    next((tmp_path / "cache").rglob("*.npy")).write_bytes(b"damaged")
    assert np.array_equal(cache.load([clip]).features[clip], expected)


# --- normalisation and windows ---


def test_statistics_come_from_training_neutral_speech_and_windows_are_padded_after(tmp_path):
    casia = read_corpus("casia", make_casia(tmp_path / "casia", per_emotion=2, seconds=0.6))
    folder = read_corpus("folder", make_folder(tmp_path / "folder", seconds=4.0))
    features = FeatureCache(tmp_path / "cache", workers=1, progress=False).load(
        [u.path for c in (casia, folder) for u in c.utterances]
    )
    train = examples_of([u for c in (casia, folder) for u in c.utterances if u.split == "train"], features)
    stats = fit_normalization(train, [casia, folder])
    assert set(stats) == {"casia", "folder", "default"}
    casia_neutral = [e.features for e in train if e.utterance.corpus == "casia" and e.utterance.label == "neutral"]
    assert np.allclose(stats["casia"].mean, fit_stats(casia_neutral).mean, atol=1e-5)
    all_neutral = [e.features for e in train if e.utterance.label == "neutral"]
    assert stats["default"].frames == sum(len(f) for f in all_neutral)
    per_example = [stats[e.utterance.corpus] for e in train]
    windows = WindowSet(train, per_example, ["angry", "happy", "sad", "neutral"], hop=None)
    for u, example in enumerate(train):
        expected, _ = cut_windows(stats[example.utterance.corpus].apply(example.features), hop=None)
        mine = np.flatnonzero(windows.refs[:, 0] == u)
        x, y = windows.batch(mine)
        assert np.array_equal(x.numpy(), expected.transpose(0, 3, 1, 2))  # zero padding after normalising
        assert set(y.tolist()) == {["angry", "happy", "sad", "neutral"].index(example.utterance.label)}
    assert len(WindowSet(train, per_example, ["angry", "happy", "sad", "neutral"], hop=50)) > len(windows)
    no_neutral = [e for e in train if not (e.utterance.corpus == "casia" and e.utterance.label == "neutral")]
    with pytest.raises(Exception, match="no readable neutral speech from training speakers"):
        fit_normalization(no_neutral, [casia, folder])


# --- training runs on synthetic corpora: guards ---


def test_run_folder_guards(tmp_path):
    corpus = read_corpus("folder", make_folder(tmp_path / "folder", seconds=0.5))
    cache = FeatureCache(tmp_path / "cache", workers=1, progress=False)
    config = TrainConfig.named("small").with_overrides(steps=2, eval_every=1, batch_size=8)
    out = tmp_path / "run"
    with pytest.raises(TrainingError, match="no checkpoint to resume from"):
        Trainer(prepare_data([corpus], cache), config, out, progress=False).run(resume=True)
    result = Trainer(prepare_data([corpus], cache), config, out, progress=False).run()
    assert result.step == 2 and not result.interrupted
    with pytest.raises(TrainingError, match="already holds a training run"):
        Trainer(prepare_data([corpus], cache), config, out, progress=False).run()
    with pytest.raises(TrainingError, match="other corpora, files or settings"):
        Trainer(prepare_data([corpus], cache), config.with_overrides(learning_rate=0.5), out, progress=False).run(
            resume=True
        )
    longer = Trainer(prepare_data([corpus], cache), config.with_overrides(steps=3), out, progress=False).run(True)
    assert longer.step == 3


# --- end to end on a subset of the real corpora ---

SUBSET = {"emodb": ("08", "16", "03"), "ravdess": ("01", "02", "17")}  # two training speakers, one validation


@pytest.fixture(scope="module")
def subset(corpora_dir, tmp_path_factory):
    """Two files per speaker and class of a few speakers, linked in the original layout, plus two bad files."""
    root = tmp_path_factory.mktemp("subset")
    for name, speakers in SUBSET.items():
        taken = Counter()
        for u in read_corpus(name, corpora_dir / name).utterances:
            if u.speaker in speakers and taken[u.speaker, u.label] < 2:
                taken[u.speaker, u.label] += 1
                link = root / name / u.path.relative_to(corpora_dir / name)
                link.parent.mkdir(parents=True, exist_ok=True)
                link.symlink_to(u.path)
    (root / "emodb" / "wav" / "08a99Wa.wav").write_text("not audio")
    real = (corpora_dir / "emodb" / "wav" / "16b10Tb.flac").read_bytes()
    (root / "emodb" / "wav" / "16a99Fa.flac").write_bytes(real[:3000])
    return root


def train_args(subset: Path, out: Path, cache: Path) -> list[str]:
    return [
        "train",
        *(f"--corpus={name}={subset / name}" for name in SUBSET),
        "--config=small",
        "--steps=40",
        "--eval-every=5",
        f"--out={out}",
        f"--cache={cache}",
        "--name=e2e",
        "--workers=1",
        "--threads=1",  # the small network runs faster on one thread, and a fixed count keeps runs comparable
    ]


def metrics_without_time(run: Path) -> list[dict]:
    with open(run / "metrics.csv", newline="") as f:
        return [{k: v for k, v in row.items() if k != "elapsed_s"} for row in csv.DictReader(f)]


@pytest.mark.corpora
def test_train_evaluate_interrupt_and_resume(subset, tmp_path, capsys, caplog, restore_threads):
    cache = tmp_path / "cache"
    straight = tmp_path / "straight"
    assert main(train_args(subset, straight, cache)) == 0
    out = capsys.readouterr().out
    assert "2 unreadable files skipped" in out
    assert f"{subset / 'emodb' / 'wav' / '16a99Fa.flac'}: corrupt or truncated audio" in caplog.text
    assert f"{subset / 'emodb' / 'wav' / '08a99Wa.wav'}: not a readable audio file" in caplog.text
    assert len(metrics_without_time(straight)) == 8
    assert list((straight / "tensorboard").glob("events.out.tfevents.*"))
    bundle = load_bundle(straight / "best-ua.pt")
    assert set(bundle.normalization) == {"emodb", "ravdess", "default"}
    assert bundle.model_id.startswith("e2e-ua@") and bundle.metadata["selection"] == "ua"
    assert load_bundle(straight / "best-ua-sad.pt").model_id.startswith("e2e-ua-sad@")

    # evaluation: the JSON's shape, and the same predictions as `predict` makes file by file
    report_path = tmp_path / "scores.json"
    evaluate = ["evaluate", f"--model={straight / 'best-ua.pt'}", f"--cache={cache}", "--split=valid"]
    evaluate += [*(f"--corpus={name}={subset / name}" for name in SUBSET), f"--json={report_path}"]
    assert main(evaluate) == 0
    assert "confusion (rows true, columns predicted)" in capsys.readouterr().out
    report = json.loads(report_path.read_text())
    keys = {"ua", "wa", "macro_f1", "per_class", "confusion", "labels", "n_utterances", "ece"}
    assert set(report) == keys | {"corpora", "files"} and set(report["corpora"]) == set(SUBSET)
    assert all(set(scores) == keys for scores in report["corpora"].values())
    assert report["n_utterances"] == 16 and report["labels"] == bundle.labels
    recognizer = EmotionRecognizer(bundle, stats=bundle.stats("emodb"))
    confusion = np.zeros((4, 4), int)
    for u in read_corpus("emodb", subset / "emodb").split("valid"):
        predicted = recognizer.predict(load_audio(u.path)).label
        confusion[bundle.labels.index(u.label), bundle.labels.index(predicted)] += 1
    assert report["corpora"]["emodb"]["confusion"] == confusion.tolist()

    # the same run, stopped with Ctrl-C part-way and resumed, ends exactly where the straight one did
    stopped = tmp_path / "stopped"
    process = subprocess.Popen(
        [sys.executable, "-m", "speech_emotion", *train_args(subset, stopped, cache)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not (stopped / "metrics.csv").exists() or len((stopped / "metrics.csv").read_text().splitlines()) < 2:
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert "continue with the same command and --resume" in stdout
    step = torch.load(stopped / CHECKPOINT, weights_only=True)["progress"]["step"]
    assert 5 <= step < 40
    assert main([*train_args(subset, stopped, cache), "--resume"]) == 0
    assert metrics_without_time(stopped) == metrics_without_time(straight)
    for name in ("best-ua.pt", "best-ua-sad.pt"):
        a, b = load_bundle(straight / name), load_bundle(stopped / name)
        assert a.model_id == b.model_id
        assert all(torch.equal(a.state_dict[k], b.state_dict[k]) for k in a.state_dict)
    final = [torch.load(run / CHECKPOINT, weights_only=True)["model"] for run in (straight, stopped)]
    assert all(torch.equal(final[0][k], final[1][k]) for k in final[0])
