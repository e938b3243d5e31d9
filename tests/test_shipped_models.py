"""The shipped models: found by name, small enough, the fused default of predict/evaluate/the monitor, and good on
real speech."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from speech_emotion.bundle import DEFAULT_MODEL, FusedBundle, load_any_bundle, shipped_models
from speech_emotion.cli import main
from speech_emotion.corpora.base import read_corpus
from speech_emotion.model import ACRNNConfig, SVMConfig
from speech_emotion.preprocessing import Preprocessing

SHIPPED = ["combined4-fused", "combined4-ua"]
LABELS = ["angry", "happy", "sad", "neutral"]
MAX_BYTES = 16 * 1024 * 1024
ALL_BYTES = 40 * 1024 * 1024


def test_the_bundles_ship_load_by_name_and_stay_small():
    assert DEFAULT_MODEL == "combined4-fused"
    paths = shipped_models()
    assert sorted(paths) == SHIPPED
    assert sum(path.stat().st_size for path in paths.values()) <= ALL_BYTES
    for name in SHIPPED:
        assert paths[name].stat().st_size <= MAX_BYTES
        bundle = load_any_bundle(name)
        assert bundle.model_id.startswith(f"{name}@")
        assert bundle.labels == LABELS
    single = load_any_bundle("combined4-ua")
    assert single.config == ACRNNConfig.reference(len(LABELS))
    # statistics for each training corpus, and the pooled set used for speech from anywhere else
    assert {"emodb", "savee", "ravdess", "urdu", "default"} <= set(single.normalization)
    assert sum(p.numel() for p in single.build_model().parameters()) == 7_335_750


def test_the_default_fuses_a_global_acrnn_and_a_speaker_adapting_peer_without_leaning():
    """Its label is the most probable class: no part shifts a logit (a lean toward sadness is the monitor's
    reaction threshold)."""
    fused = load_any_bundle(DEFAULT_MODEL)
    assert isinstance(fused, FusedBundle) and sum(fused.weights) == pytest.approx(1)
    acrnn, peer = fused.parts
    assert acrnn.config == ACRNNConfig.reference(len(LABELS)) and isinstance(peer.config, SVMConfig)
    assert acrnn.preprocessing == Preprocessing(statistics="global")
    assert peer.preprocessing == Preprocessing.of_kind("egemaps", statistics="hybrid")
    assert all("logit_offsets" not in part.metadata for part in fused.parts)
    assert fused.metadata["fusion_choice"]["split"] == "valid"


def test_the_model_card_describes_the_bundles_that_ship():
    """Re-shipping a bundle without re-measuring it leaves the card describing another network: the card names
    each shipped bundle's id, and each part of the fused one."""
    card = (Path(__file__).resolve().parents[1] / "docs" / "MODEL_CARD.md").read_text()
    for name in SHIPPED:
        assert f"`{load_any_bundle(name).model_id}`" in card, name
    for part in load_any_bundle(DEFAULT_MODEL).parts:
        assert f"`{part.model_id}`" in card, part.model_id


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
@pytest.mark.parametrize(("name", "protocol"), [("combined4-fused", "alone"), ("combined4-ua", "person")])
def test_shipped_models_recognise_validation_speakers_well_above_chance(name, protocol, corpora_dir, tmp_path):
    """Emo-DB's validation speakers (never trained on), four classes, each model as it is meant to be used:
    chance is 0.25, the model card says 0.79-0.84 UA and 0.82-1.00 sad recall; a broken bundle, feature or
    normalisation path falls far below."""
    out = tmp_path / "scores.json"
    argv = ["evaluate", "--corpus", f"emodb={corpora_dir / 'emodb'}", "--split", "valid", "--json", str(out)]
    assert main([*argv, "--cache", str(tmp_path / "cache"), "--model", name, "--protocol", protocol]) == 0
    scores = json.loads(out.read_text())["protocols"][protocol]
    assert scores["n_utterances"] == 85
    assert scores["ua"] >= 0.6
    assert scores["per_class"]["sad"]["recall"] >= 0.8


@pytest.mark.corpora
def test_predict_same_speaker_recognises_one_persons_files_far_better(corpora_dir, capsys):
    """combined4-ua was trained per speaker: told that the files are one person's, predict normalises
    them with that person's statistics. Emo-DB's validation speaker 10 (37 files): 29 right that way, 17 with
    the bundle's pooled statistics (docs/MODEL_CARD.md, "Per-speaker statistics")."""
    utterances = [u for u in read_corpus("emodb", corpora_dir / "emodb").split("valid") if u.speaker == "10"]
    correct = {}
    for option in ([], ["--same-speaker"]):
        assert main(["predict", "--json", "--model", "combined4-ua", *option, *(str(u.path) for u in utterances)]) == 0
        results = json.loads(capsys.readouterr().out)
        correct[bool(option)] = sum(r["label"] == u.label for r, u in zip(results, utterances, strict=True))
    assert len(utterances) == 37
    assert correct[True] >= correct[False] + 8, correct
