"""The two shipped models: found by name, small enough, the default of predict/evaluate, and good on real speech."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from speech_emotion.bundle import DEFAULT_MODEL, load_bundle, shipped_models
from speech_emotion.cli import main
from speech_emotion.corpora.base import read_corpus
from speech_emotion.model import ACRNNConfig

SHIPPED = ["combined4-ua", "combined4-ua-sad"]
LABELS = ["angry", "happy", "sad", "neutral"]
MAX_BYTES = 16 * 1024 * 1024


def test_both_bundles_ship_and_load_by_name():
    assert DEFAULT_MODEL == "combined4-ua-sad"
    paths = shipped_models()
    assert sorted(paths) == SHIPPED
    for name in SHIPPED:
        assert paths[name].stat().st_size <= MAX_BYTES
        bundle = load_bundle(name)
        assert bundle.model_id.startswith(f"{name}@")
        assert bundle.labels == LABELS
        assert bundle.config == ACRNNConfig.reference(len(LABELS))
        # statistics for each training corpus, and the pooled set used for speech from anywhere else
        assert {"emodb", "savee", "ravdess", "urdu", "default"} <= set(bundle.normalization)
        assert sum(p.numel() for p in bundle.build_model().parameters()) == 7_335_750


def test_the_monitoring_model_leans_toward_sad():
    ua, ua_sad = load_bundle("combined4-ua"), load_bundle("combined4-ua-sad")
    assert ua_sad.metadata["logit_offsets"]["sad"] > 0 and "logit_offsets" not in ua.metadata


def test_the_model_card_describes_the_bundles_that_ship():
    """Re-shipping a bundle without re-measuring it leaves the card describing another network: the card names
    each shipped bundle's id, and the network combined4-ua-sad was tuned from."""
    card = (Path(__file__).resolve().parents[1] / "docs" / "MODEL_CARD.md").read_text()
    for name in SHIPPED:
        assert f"`{load_bundle(name).model_id}`" in card, name
    assert f"`{load_bundle('combined4-ua-sad').metadata['tuned_from']}`" in card


@pytest.mark.corpora
def test_predict_without_model_uses_the_shipped_one(corpora_dir, capsys):
    corpus = read_corpus("emodb", corpora_dir / "emodb")
    files = [next(u.path for u in corpus.split("valid") if u.label == label) for label in LABELS]
    assert main(["predict", "--json", *map(str, files)]) == 0
    results = json.loads(capsys.readouterr().out)
    assert [r["file"] for r in results] == list(map(str, files))
    for r in results:
        assert r["label"] in LABELS
        assert sum(r["probabilities"].values()) == pytest.approx(1.0, abs=1e-4)


@pytest.mark.corpora
@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_models_recognise_validation_speakers_well_above_chance(name, corpora_dir, tmp_path):
    """Emo-DB's validation speakers (never trained on), four classes: chance is 0.25, the model card says
    0.71-0.84 UA and 0.95-1.00 sad recall; a broken bundle, feature or normalisation path falls far below."""
    out = tmp_path / "scores.json"
    argv = ["evaluate", "--corpus", f"emodb={corpora_dir / 'emodb'}", "--split", "valid", "--json", str(out)]
    assert main([*argv, "--cache", str(tmp_path / "cache"), "--model", name]) == 0
    scores = json.loads(out.read_text())
    assert scores["n_utterances"] == 85
    assert scores["ua"] >= 0.6
    assert scores["per_class"]["sad"]["recall"] >= 0.8


@pytest.mark.corpora
def test_predict_same_speaker_recognises_one_persons_files_far_better(corpora_dir, capsys):
    """The shipped models were trained per speaker: told that the files are one person's, predict normalises
    them with that person's statistics. Emo-DB's validation speaker 10 (37 files): 29 right that way, 17 with
    the bundle's pooled statistics (docs/MODEL_CARD.md, "Per-speaker statistics")."""
    utterances = [u for u in read_corpus("emodb", corpora_dir / "emodb").split("valid") if u.speaker == "10"]
    correct = {}
    for option in ([], ["--same-speaker"]):
        assert main(["predict", "--json", *option, *(str(u.path) for u in utterances)]) == 0
        results = json.loads(capsys.readouterr().out)
        correct[bool(option)] = sum(r["label"] == u.label for r, u in zip(results, utterances, strict=True))
    assert len(utterances) == 37
    assert correct[True] >= correct[False] + 8, correct
