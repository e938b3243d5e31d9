"""Metrics against hand-worked figures, the normalisation protocols, evaluation through the recogniser's own
path, the evaluate command's JSON, and leave-one-corpus-out on small synthetic corpora."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
import torch

from speech_emotion.audio import load_audio
from speech_emotion.bundle import ModelBundle, load_bundle, save_bundle
from speech_emotion.cli import main
from speech_emotion.corpora import read_corpus
from speech_emotion.corpora.cache import FeatureCache
from speech_emotion.corpora.examples import examples_of
from speech_emotion.errors import SpeechEmotionError
from speech_emotion.evaluation.evaluate import check_normalization, evaluate
from speech_emotion.evaluation.metrics import score
from speech_emotion.evaluation.protocols import corpus_normalization, predict_labels
from speech_emotion.model import ACRNN, ACRNNConfig
from speech_emotion.normalization import NormStats, fit_stats
from speech_emotion.recognizer import EmotionRecognizer
from speech_emotion.training import loco
from synthetic_corpora import make_casia, make_folder

LABELS = ["angry", "happy", "sad", "neutral"]


def test_scores_match_hand_worked_figures():
    true = ["angry", "angry", "sad", "neutral", "neutral", "neutral"]
    predicted = ["angry", "sad", "sad", "neutral", "angry", "neutral"]
    s = score(true, predicted, LABELS)
    assert s.ua == pytest.approx((1 / 2 + 1 + 2 / 3) / 3)  # happy is absent: not averaged in
    assert s.wa == pytest.approx(4 / 6)
    assert s.macro_f1 == pytest.approx((0.5 + 2 / 3 + 0.8) / 3)
    assert s.per_class["sad"] == pytest.approx({"precision": 0.5, "recall": 1.0, "f1": 2 / 3, "support": 1})
    assert s.per_class["happy"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
    assert s.confusion == [[1, 0, 1, 0], [0, 0, 0, 0], [0, 0, 1, 0], [1, 0, 0, 2]]
    assert s.n_utterances == 6 and s.labels == LABELS
    with pytest.raises(ValueError, match="no utterances"):
        score([], [], LABELS)


def make_bundle(path, stats_names=("casia",), seed=0) -> ModelBundle:
    torch.manual_seed(seed)
    model = ACRNN(ACRNNConfig.small())
    rng = np.random.default_rng(seed)
    stats = NormStats(rng.normal(-5, 1, (40, 3)).astype(np.float32), np.ones((40, 3), np.float32), 100)
    bundle = ModelBundle(
        ACRNNConfig.small(), LABELS, model.state_dict(), {n: stats for n in (*stats_names, "default")}, "test"
    )
    save_bundle(bundle, path)
    return load_bundle(path)


@pytest.fixture(scope="module")
def casia(tmp_path_factory):
    return read_corpus("casia", make_casia(tmp_path_factory.mktemp("casia") / "casia", per_emotion=2, seconds=1.0))


@pytest.fixture(scope="module")
def features(casia, tmp_path_factory):
    return FeatureCache(tmp_path_factory.mktemp("cache"), workers=1, progress=False).load(
        [u.path for u in casia.utterances]
    )


def test_normalisation_protocols(casia, features, tmp_path):
    bundle = make_bundle(tmp_path / "b.pt")
    examples = examples_of(casia.utterances, features)
    assert corpus_normalization("model", bundle, "casia", examples) == [bundle.normalization["casia"]] * len(examples)
    neutral = corpus_normalization("target-neutral", bundle, "casia", examples)[0]
    expected = fit_stats(e.features for e in examples if e.utterance.label == "neutral")
    assert np.allclose(neutral.mean, expected.mean) and neutral.frames == expected.frames
    everything = corpus_normalization("target-all", bundle, "casia", examples)[0]
    assert everything.frames == sum(len(e.features) for e in examples)
    per_speaker = corpus_normalization("speaker", bundle, "casia", examples)
    for e, stats in zip(examples, per_speaker, strict=True):
        own = [x.features for x in examples if x.utterance.speaker == e.utterance.speaker]
        assert stats.frames == sum(len(f) for f in own)
    with pytest.raises(SpeechEmotionError, match="no neutral speech in the evaluated utterances"):
        corpus_normalization("target-neutral", bundle, "casia", [e for e in examples if e.utterance.label != "neutral"])
    other = make_bundle(tmp_path / "other.pt", stats_names=("emodb", "savee"))
    with pytest.raises(SpeechEmotionError, match=r"not trained on casia .*statistics for emodb, savee.*target-neutral"):
        check_normalization("model", other, [casia])
    check_normalization("target-all", other, [casia])
    # a corpus the bundle never saw still gets its pooled statistics, as predict gives a lone file
    pooled = corpus_normalization("pooled", other, "casia", examples)
    assert pooled == [other.normalization["default"]] * len(examples)


def test_evaluation_scores_what_predict_predicts(casia, features, tmp_path):
    bundle = make_bundle(tmp_path / "b.pt", seed=3)
    recognizer = EmotionRecognizer(bundle)
    cache = FeatureCache(tmp_path / "cache", workers=1, progress=False)
    report = evaluate(recognizer, [casia], cache, split="all", normalization="speaker")
    examples = examples_of(casia.utterances, features)
    stats = corpus_normalization("speaker", bundle, "casia", examples)
    pairs = zip(examples, stats, strict=True)
    one_by_one = [recognizer.predict_batch([load_audio(e.utterance.path)], s)[0].label for e, s in pairs]
    assert predict_labels(recognizer, examples, stats) == one_by_one
    assert replace(report.overall, ece=None) == score([e.utterance.label for e in examples], one_by_one, LABELS)
    assert 0 <= report.overall.ece <= 1
    assert report.corpora["casia"] == report.overall and report.overall.n_utterances == 32


def test_evaluate_command(casia, tmp_path, capsys):
    bundle = tmp_path / "b.pt"
    make_bundle(bundle)
    base = ["evaluate", f"--model={bundle}", f"--corpus=casia={casia.root}", f"--cache={tmp_path / 'cache'}"]
    assert main([*base, "--split=all", f"--json={tmp_path / 'out' / 'scores.json'}"]) == 0
    table = capsys.readouterr().out
    assert table.startswith("model test@") and "casia" in table
    report = json.loads((tmp_path / "out" / "scores.json").read_text())
    keys = {"ua", "wa", "macro_f1", "per_class", "confusion", "labels", "n_utterances", "ece"}
    assert set(report) == keys | {"corpora", "files"} and set(report["corpora"]["casia"]) == keys
    assert len(report["files"]) == 32 and set(report["files"][0]) == {
        "path",
        "corpus",
        "speaker",
        "truth",
        "label",
        "probabilities",
    }
    assert set(report["per_class"]["sad"]) == {"precision", "recall", "f1", "support"}
    assert report["n_utterances"] == 32 and report["labels"] == LABELS
    folder = make_folder(tmp_path / "mine")
    assert main([*base, f"--corpus=folder={folder}", "--split=all"]) == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "was not trained on folder" in error
    assert main([*base, "--split=test", "--normalization=target-all"]) == 0


def _loco_args(casia, tmp_path):
    """A two-fold leave-one-corpus-out of the small network, two batches per fold."""
    folder = make_folder(tmp_path / "mine", speakers=("ann", "ben", "cy", "di"), seconds=1.0)
    args = ["loco", f"--corpus=casia={casia.root}", f"--corpus=folder={folder}", f"--out={tmp_path / 'loco'}"]
    args += ["--config=small", "--steps=2", "--eval-every=1", "--batch-size=8", f"--cache={tmp_path / 'c'}"]
    return [*args, "--workers=1", "--threads=1"]


def test_leave_one_corpus_out(casia, tmp_path, capsys, restore_threads):
    args = _loco_args(casia, tmp_path)
    unseen = make_folder(tmp_path / "unseen", speakers=("eve", "fay"), seconds=1.0)
    assert main([*args, f"--unseen=folder={unseen}"]) == 0
    printed = capsys.readouterr().out
    assert "| casia | Mandarin Chinese | folder | unknown | 32 |" in printed and "folder UA (best-ua) |" in printed
    results = json.loads((tmp_path / "loco" / "loco.json").read_text())
    assert all(list(f["unseen_ua"]) == ["folder"] and 0 <= f["unseen_ua"]["folder"] <= 1 for f in results["folds"])
    assert [f["held_out"] for f in results["folds"]] == ["casia", "folder"]
    assert results["normalization"] == "target-neutral"
    assert results["folds"][1]["n_utterances"] == 32  # every utterance of the held-out corpus, all splits
    assert [f["cross_language"] for f in results["folds"]] == [None, None]  # the folder's language is unknown
    for fold in results["folds"]:
        bundle = load_bundle(tmp_path / "loco" / f"without-{fold['held_out']}" / "best-ua.pt")
        assert set(bundle.normalization) == {*fold["trained_on"], "default"}  # nothing of the held-out corpus
        assert 0.0 <= fold["ua_best_ua"] <= 1.0
    assert (tmp_path / "loco" / "loco.md").read_text().startswith("Leave-one-corpus-out")


def test_resumed_leave_one_corpus_out_rescores_only_folds_that_trained_further(
    casia, tmp_path, monkeypatch, restore_threads
):
    """Scoring a reference-size fold costs minutes on a CPU: a resume that trains nothing must not repeat it."""
    args = _loco_args(casia, tmp_path)
    assert main(args) == 0
    before = json.loads((tmp_path / "loco" / "loco.json").read_text())
    scored = []
    real_evaluate = loco.evaluate
    monkeypatch.setattr(loco, "evaluate", lambda *a, **k: scored.append(a) or real_evaluate(*a, **k))
    assert main([*args, "--resume"]) == 0
    assert scored == [] and json.loads((tmp_path / "loco" / "loco.json").read_text()) == before
    assert main([*args, "--resume", "--steps=3"]) == 0
    after = json.loads((tmp_path / "loco" / "loco.json").read_text())
    assert len(scored) == 4 and [f["steps"] for f in after["folds"]] == [3, 3]  # two models in each of two folds
    (tmp_path / "loco" / "loco.json").write_text("{ cut short by a full disk")
    assert main([*args, "--resume", "--steps=3"]) == 0  # an unreadable record only costs scoring again
    assert len(scored) == 8 and json.loads((tmp_path / "loco" / "loco.json").read_text()) == after


def test_leave_one_corpus_out_keeps_finished_folds_when_a_later_one_fails(
    casia, tmp_path, monkeypatch, restore_threads
):
    """Folds take hours at the reference size: a crash in one must not lose the scores of those before it."""
    args = _loco_args(casia, tmp_path)
    scored = []

    def evaluate_then_fail(*a, **k):
        if len(scored) == 2:  # both kept models of the first fold are scored; the second fold breaks
            raise RuntimeError("the machine went away")
        scored.append(a)
        return real_evaluate(*a, **k)

    real_evaluate = loco.evaluate
    monkeypatch.setattr(loco, "evaluate", evaluate_then_fail)
    with pytest.raises(RuntimeError):
        main(args)
    results = json.loads((tmp_path / "loco" / "loco.json").read_text())
    assert [f["held_out"] for f in results["folds"]] == ["casia"]
    assert "| casia |" in (tmp_path / "loco" / "loco.md").read_text()
