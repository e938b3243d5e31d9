"""The test-only ("unseen") corpora EMOVO and TESS: the readers against ``../shared/unseen/MANIFEST.csv`` and
its README (files, speakers, classes, every speaker a test speaker), and synthetic copies of their layouts for
dropped emotions and file names that do not fit."""

from __future__ import annotations

import csv
import json
from collections import Counter, defaultdict
from pathlib import Path

import pytest
import soundfile as sf

from speech_emotion.cli import main
from speech_emotion.corpora import LABELS, parse_corpus_spec, read_corpus
from synthetic_corpora import write_clip

UNSEEN = ("emovo", "tess")

# The unseen README's 4-class mapping, from the file names alone.
README_CLASS = {
    "emovo": lambda p: {"rab": "angry", "gio": "happy", "tri": "sad", "neu": "neutral"}.get(p.stem.split("-")[0]),
    "tess": lambda p: {"angry": "angry", "happy": "happy", "sad": "sad", "neutral": "neutral"}.get(
        p.stem.rsplit("_", 1)[-1]
    ),
}
README_SPEAKERS = {"emovo": {"f1", "f2", "f3", "m1", "m2", "m3"}, "tess": {"OAF", "YAF"}}
MAPPED = {"emovo": 336, "tess": 1600}  # EMOVO: 4 of 7 emotions x 14 sentences x 6 speakers; TESS: 4 x 200 x 2


def manifest(unseen_dir: Path) -> dict[str, list[dict]]:
    rows = defaultdict(list)
    with open(unseen_dir / "MANIFEST.csv", newline="") as f:
        for row in csv.DictReader(f):
            rows[row["corpus"]].append(row)
    return rows


@pytest.mark.corpora
@pytest.mark.parametrize("name", UNSEEN)
def test_unseen_corpus_agrees_with_manifest(unseen_dir, name):
    rows = manifest(unseen_dir)[name]
    mapped = {unseen_dir / row["path"]: row for row in rows if README_CLASS[name](Path(row["path"])) is not None}
    assert len(mapped) == MAPPED[name]
    corpus = read_corpus(name, unseen_dir / name)
    assert {u.path for u in corpus.utterances} == set(mapped)
    assert len(corpus.utterances) == MAPPED[name]
    assert corpus.ignored == 0
    assert sum(corpus.dropped.values()) == len(rows) - len(mapped)
    for u in corpus.utterances:
        assert u.speaker == mapped[u.path]["speaker"]
        assert u.label == README_CLASS[name](u.path) and u.corpus == name
    assert {u.speaker for u in corpus.utterances} == {row["speaker"] for row in rows} == README_SPEAKERS[name]
    assert Counter(u.label for u in corpus.utterances) == Counter(README_CLASS[name](p) for p in mapped)
    assert {u.split for u in corpus.utterances} == {"test"}
    assert corpus.split("train") == corpus.split("valid") == []
    if name == "emovo":
        assert corpus.language == "Italian"
        assert corpus.dropped == Counter({"disgust": 84, "fear": 84, "surprise": 84})
        assert Counter(u.label for u in corpus.utterances) == Counter(dict.fromkeys(LABELS, 84))
        assert {u.speaker: u.gender for u in corpus.utterances} == {s: s[0] for s in README_SPEAKERS["emovo"]}
    else:
        assert corpus.language == "English"
        assert corpus.dropped == Counter()
        assert Counter(u.label for u in corpus.utterances) == Counter(dict.fromkeys(LABELS, 400))
        assert {u.gender for u in corpus.utterances} == {"f"}
        short = unseen_dir / "tess" / "OAF_neutral" / "OA_bite_neutral.flac"  # the original's short prefix
        assert [(u.speaker, u.label) for u in corpus.utterances if u.path == short] == [("OAF", "neutral")]
    for u in corpus.utterances[:: len(corpus.utterances) // 2]:  # a couple of headers, no decoding
        info = sf.info(str(u.path))
        assert (info.samplerate, info.channels) == (16_000, 1) and info.frames > 0


def make_emovo(root: Path) -> Path:
    for seed, rel in enumerate(
        (
            "f1/rab-f1-b1.flac",
            "f1/gio-f1-d2.flac",
            "m2/tri-m2-n5.flac",
            "f3/neu-f3-l4.flac",
            "f1/pau-f1-b1.flac",  # fear: dropped
            "m3/sor-m3-b3.flac",  # surprise: dropped
            "f1/rab-f1-x9.flac",  # no such sentence: ignored
            "f4/rab-f4-b1.flac",  # no such speaker: ignored
            "f1/anger-f1-b1.flac",  # not an EMOVO name: ignored
        )
    ):
        write_clip(root / rel, seconds=0.1, seed=seed)
    (root / "f1" / "notes.txt").write_text("not audio")
    return root


def make_tess(root: Path) -> Path:
    for seed, rel in enumerate(
        (
            "OAF_angry/OAF_back_angry.flac",
            "YAF_happy/YAF_bath_happy.flac",
            "YAF_sad/YAF_beg_sad.flac",
            "OAF_neutral/OA_bite_neutral.flac",  # short prefix, as in the original: speaker from the folder
            "OAF_Fear/OAF_back_fear.flac",  # dropped
            "YAF_pleasant_surprised/YAF_back_ps.flac",  # dropped
            "OAF_angry/OAF_back_sad.flac",  # last word is not the folder's emotion: ignored
            "OAF_angry/back.flac",  # not a TESS name: ignored
            "XAF_angry/XAF_back_angry.flac",  # no such speaker: ignored
        )
    ):
        write_clip(root / rel, seconds=0.1, seed=seed)
    return root


def test_emovo_layout_drops_and_ignores(tmp_path):
    corpus = read_corpus("emovo", make_emovo(tmp_path / "emovo"))
    assert [(u.path.stem, u.speaker, u.gender, u.label, u.split) for u in corpus.utterances] == [
        ("gio-f1-d2", "f1", "f", "happy", "test"),
        ("rab-f1-b1", "f1", "f", "angry", "test"),
        ("neu-f3-l4", "f3", "f", "neutral", "test"),
        ("tri-m2-n5", "m2", "m", "sad", "test"),
    ]
    assert corpus.dropped == Counter({"fear": 1, "surprise": 1})
    assert corpus.ignored == 3


def test_tess_layout_drops_and_ignores(tmp_path):
    corpus = read_corpus("tess", make_tess(tmp_path / "tess"))
    assert [(u.path.stem, u.speaker, u.gender, u.label, u.split) for u in corpus.utterances] == [
        ("OAF_back_angry", "OAF", "f", "angry", "test"),
        ("OA_bite_neutral", "OAF", "f", "neutral", "test"),
        ("YAF_bath_happy", "YAF", "f", "happy", "test"),
        ("YAF_beg_sad", "YAF", "f", "sad", "test"),
    ]
    assert corpus.dropped == Counter({"fear": 1, "pleasant_surprise": 1})
    assert corpus.ignored == 3


@pytest.mark.parametrize("name", UNSEEN)
def test_unseen_corpus_argument_and_summary(tmp_path, capsys, name):
    root = {"emovo": make_emovo, "tess": make_tess}[name](tmp_path / name)
    assert parse_corpus_spec(f"{name.upper()}={root}").name == name
    assert main(["corpus", "summary", "--corpus", f"{name}={root}", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)[name]
    assert summary["train"] == summary["valid"] == dict.fromkeys(LABELS, 0)
    assert summary["test"] == dict.fromkeys(LABELS, 1)
    assert summary["ignored"] == 3 and summary["unreadable"] == 0
    assert sum(summary["dropped"].values()) == 2


def test_unseen_readers_say_they_are_test_only():
    from speech_emotion.corpora import emovo, tess

    for module in (emovo, tess):
        assert "A test-only corpus: never train, tune or select a model on it." in " ".join(module.__doc__.split())
        assert set(module.SPLITS.values()) == {"test"}
