"""The logit offset for one emotion: chosen for UA × its recall, estimated leave-one-corpus-out, and written into a
copy of the model that then decides exactly as the choice assumed."""

from __future__ import annotations

import pytest
import torch

from speech_emotion.bundle import load_bundle
from speech_emotion.cli import main
from speech_emotion.corpora import read_corpus
from speech_emotion.corpora.cache import FeatureCache
from speech_emotion.evaluation.evaluate import evaluate
from speech_emotion.evaluation.offsets import OFFSET_GRID, CorpusLogits, choose_offset, criterion
from speech_emotion.recognizer import EmotionRecognizer
from synthetic_corpora import make_folder

LABELS = ["angry", "happy", "sad", "neutral"]
NO_OFFSETS = torch.zeros(4)


def utterance(angry: float = 0.0, sad: float = 0.0, neutral: float = 0.0) -> torch.Tensor:
    """One window's logits (happy at 0)."""
    return torch.tensor([[angry, 0.0, sad, neutral]])


def corpus(name: str, sad_short_by: float, neutral_margin: float) -> CorpusLogits:
    """An angry, a sad and a neutral utterance: the angry one stays angry up to a sad offset of 1 (a tie goes to
    the first label); the sad one is heard as neutral unless the offset exceeds ``sad_short_by``; the neutral
    one stays neutral while the offset is below ``neutral_margin``."""
    logits = [utterance(angry=1.0), utterance(sad=1.0 - sad_short_by, neutral=1.0), utterance(neutral=neutral_margin)]
    return CorpusLogits(name, logits, ["angry", "sad", "neutral"])


def test_the_offset_with_the_best_ua_times_recall_is_chosen_and_estimated_on_each_corpus_left_out():
    a = corpus("a", sad_short_by=0.8, neutral_margin=2.0)  # alone, only 1.0 is right
    b = corpus("b", sad_short_by=0.3, neutral_margin=0.6)  # alone, only 0.5
    choice = choose_offset([a, b], LABELS, "sad", NO_OFFSETS)
    assert choice.offset == 1.0  # both sad right, b's neutral lost: UA (1 + 1 + 1/2) / 3
    assert choice.after.ua == pytest.approx(5 / 6) and choice.after.per_class["sad"]["recall"] == 1.0
    assert criterion(choice.before, "sad") == 0.0  # unmoved, every sad utterance is heard as neutral
    assert list(choice.sweep) == list(OFFSET_GRID) and choice.sweep[1.0] == choice.after
    assert criterion(choice.sweep[0.75], "sad") < criterion(choice.after, "sad") > criterion(choice.sweep[1.25], "sad")
    assert choice.held_out_offsets == {"a": 0.5, "b": 1.0}
    # a with b's 0.5 loses its sad utterance; b with a's 1.0 loses its neutral one
    assert choice.held_out.per_class["sad"]["recall"] == 0.5 and choice.held_out.per_class["neutral"]["recall"] == 0.5
    assert choice.held_out.ua == pytest.approx(2 / 3)
    assert choice.to_dict()["held_out"] == {
        "ua": pytest.approx(2 / 3),
        "sad_recall": 0.5,
        "criterion": pytest.approx(1 / 3),
    }


def test_no_offset_is_chosen_where_none_helps_and_the_other_labels_keep_theirs():
    right = CorpusLogits(
        "c", [utterance(sad=1.0), utterance(neutral=1.0), utterance(angry=1.0)], ["sad", "neutral", "angry"]
    )
    assert choose_offset([right], LABELS, "sad", NO_OFFSETS).offset == 0.0
    assert choose_offset([right], LABELS, "sad", NO_OFFSETS).held_out is None  # one corpus: no estimate
    against_angry = torch.tensor([-2.0, 0.0, 0.0, 0.0])
    choice = choose_offset([right], LABELS, "sad", against_angry)
    assert choice.before.per_class["angry"]["recall"] == 0.0 == choice.after.per_class["angry"]["recall"]
    assert OFFSET_GRID[0] == 0.0 and OFFSET_GRID[-1] == 3.0


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return make_folder(tmp_path_factory.mktemp("offsets") / "mine", speakers=("ann", "ben", "cy"), seconds=1.0)


def test_tune_offset_writes_a_copy_that_scores_as_the_choice_said(folder, tiny_bundle, tmp_path, capsys):
    out = tmp_path / "leaning.pt"
    args = ["tune-offset", f"--model={tiny_bundle}", f"--corpus=folder={folder}", f"--cache={tmp_path / 'cache'}"]
    args += ["--workers=1", "--split=all", "--normalization=target-all", "--label=sad"]
    assert main([*args, f"--out={out}"]) == 0
    printed = capsys.readouterr().out
    tuned = load_bundle(out)
    choice = tuned.metadata["offset_choice"]
    assert tuned.model_id.startswith("leaning@") and tuned.model_id in printed
    assert all(f"sad offset {o:g} " in printed for o in OFFSET_GRID)  # the whole sweep, then the choice
    assert tuned.metadata["tuned_from"] == load_bundle(tiny_bundle).model_id
    assert tuned.metadata["logit_offsets"] == {"sad": choice["offset"]}
    assert choice["split"] == "all" and choice["held_out"] is None  # one corpus
    assert choice["offset"] > 0 and choice["before"]["sad_recall"] == 0  # the random network never says sad unmoved
    for key, weights in load_bundle(tiny_bundle).state_dict.items():
        assert torch.equal(tuned.state_dict[key], weights)  # same network, same precision
    cache = FeatureCache(tmp_path / "cache", workers=1, progress=False)
    corpus = read_corpus("folder", folder)
    report = evaluate(EmotionRecognizer(tuned), [corpus], cache, split="all", normalization="target-all")
    assert report.overall.ua == pytest.approx(choice["after"]["ua"])
    assert report.overall.per_class["sad"]["recall"] == pytest.approx(choice["after"]["sad_recall"])
    assert main([*args[:-1], "--label=joy", f"--out={tmp_path / 'x.pt'}"]) == 1
    assert capsys.readouterr().err == "error: --label joy: not among the model's labels angry, happy, sad, neutral\n"
    assert main([*args, f"--out={tmp_path}"]) == 1
    assert capsys.readouterr().err == f"error: --out {tmp_path}: is a folder; name the bundle file to write\n"
    assert not (tmp_path / "x.pt").exists()
