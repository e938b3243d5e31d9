"""Calibrated probabilities: the expected calibration error, the temperature chosen on labelled speech, and
tune-temperature's copy, which changes no label."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from speech_emotion.bundle import load_bundle
from speech_emotion.cli import main
from speech_emotion.evaluation.calibration import choose_temperature
from speech_emotion.evaluation.metrics import expected_calibration_error, score
from speech_emotion.recognizer import EmotionRecognizer
from synthetic_corpora import make_casia


def test_the_calibration_error_is_the_gap_between_confidence_and_accuracy():
    assert expected_calibration_error(np.array([0.9] * 10), np.array([True] * 9 + [False])) == pytest.approx(0.0)
    assert expected_calibration_error(np.array([0.95] * 4), np.array([True, False, False, False])) == pytest.approx(0.7)
    halves = expected_calibration_error(np.array([0.35, 0.35, 0.85, 0.85]), np.array([False, False, True, True]))
    assert halves == pytest.approx(0.5 * 0.35 + 0.5 * 0.15)
    scores = score(["sad", "sad"], ["sad", "happy"], ["sad", "happy"], confidence=[0.9, None])
    assert scores.ece == pytest.approx(0.1) and score(["sad"], ["sad"], ["sad"]).ece is None


def test_the_chosen_temperature_undoes_overconfidence_and_keeps_every_label():
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 4, 4000)
    true_logits = rng.normal(0, 1, (4000, 4)) + 1.5 * np.eye(4)[truth]  # calibrated at temperature 1
    labels = [int(rng.choice(4, p=np.exp(row) / np.exp(row).sum())) for row in true_logits]  # drawn from them
    overconfident = [torch.tensor(5 * row[None], dtype=torch.float32) for row in true_logits]
    choice = choose_temperature(overconfident, labels, "max")
    assert choice.temperature == pytest.approx(5, rel=0.1)
    assert choice.nll_after < choice.nll_before and choice.ece_after < 0.03 < choice.ece_before


def test_tune_temperature_writes_a_copy_with_the_same_labels_and_calibrated_probabilities(tiny_bundle, tmp_path):
    casia = make_casia(tmp_path / "casia", per_emotion=2, seconds=1.0)
    common = [f"--corpus=casia={casia}", "--split=all", "--normalization=target-neutral", "--workers=1"]
    common += [f"--cache={tmp_path / 'cache'}"]
    out = tmp_path / "calibrated.pt"
    assert main(["tune-temperature", f"--model={tiny_bundle}", *common, f"--out={out}"]) == 0
    calibrated = load_bundle(out)
    temperature = calibrated.metadata["temperature"]
    assert temperature > 0 and calibrated.metadata["temperature_choice"]["normalization"] == "target-neutral"
    reports = {}
    for name, model in (("before", tiny_bundle), ("after", out)):
        path = tmp_path / f"{name}.json"
        assert main(["evaluate", f"--model={model}", *common, f"--json={path}"]) == 0
        reports[name] = json.loads(path.read_text())
    assert [f["label"] for f in reports["before"]["files"]] == [f["label"] for f in reports["after"]["files"]]
    assert reports["after"]["ece"] <= reports["before"]["ece"] + 1e-9
    audio = np.random.default_rng(0).normal(0, 0.1, 32000).astype(np.float32)
    before, after = EmotionRecognizer.load(tiny_bundle).predict(audio), EmotionRecognizer(calibrated).predict(audio)
    assert before.label == after.label and before.probabilities != after.probabilities


@pytest.mark.parametrize("pooling", ["max", "mean"])
def test_the_search_pools_as_the_recogniser_does(pooling):
    from speech_emotion.windows import pool_logits

    rng = np.random.default_rng(1)
    logits = [torch.tensor(rng.normal(0, 3, (int(rng.integers(1, 5)), 4)), dtype=torch.float32) for _ in range(50)]
    truth = [int(pool_logits(w, pooling).argmax()) for w in logits]  # right at temperature 1
    choice = choose_temperature(logits, truth, pooling)
    assert choice.temperature < 1 and choice.nll_after < choice.nll_before
    expected = -np.mean([float(torch.log(pool_logits(w, pooling)[t])) for w, t in zip(logits, truth, strict=True)])
    assert choice.nll_before == pytest.approx(expected, rel=1e-5)
