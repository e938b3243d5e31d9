"""Corpus readers: the shared real corpora against their manifest and README, synthetic IEMOCAP/CASIA/folder
layouts, the hashed speaker split, and clear errors for folders that are not corpora."""

from __future__ import annotations

import csv
import json
import re
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from speech_emotion.cli import main
from speech_emotion.corpora import CORPUS_NAMES, LABELS, CorpusError, parse_corpus_spec, read_corpora, read_corpus
from speech_emotion.corpora.base import hashed_speaker_splits
from synthetic_corpora import CASIA_SPEAKERS, make_casia, make_folder, make_iemocap, write_clip

SHARED = ("emodb", "savee", "ravdess", "urdu")

# The corpora README's 4-class mapping and speaker split, written out from its tables.
README_CLASS = {
    "emodb": lambda p: {"W": "angry", "F": "happy", "T": "sad", "A": "sad", "N": "neutral", "L": "neutral"}.get(
        p.stem[5]
    ),
    "savee": lambda p: {"a": "angry", "h": "happy", "sa": "sad", "n": "neutral"}.get(re.match("[a-z]+", p.stem)[0]),
    "ravdess": lambda p: {"05": "angry", "03": "happy", "04": "sad", "01": "neutral", "02": "neutral"}.get(
        p.stem.split("-")[2]
    ),
    "urdu": lambda p: {"Angry": "angry", "Happy": "happy", "Sad": "sad", "Neutral": "neutral"}.get(p.parent.name),
}
README_SPLIT = {
    "emodb": {"03": "valid", "10": "valid", "12": "test", "13": "test"},
    "savee": {"JK": "valid", "KL": "test"},
    "ravdess": {**{f"{a}": "valid" for a in range(17, 21)}, **{f"{a}": "test" for a in range(21, 25)}},
}


def manifest(corpora_dir: Path) -> dict[str, list[dict]]:
    rows = defaultdict(list)
    with open(corpora_dir / "MANIFEST.csv", newline="") as f:
        for row in csv.DictReader(f):
            rows[row["corpus"]].append(row)
    return rows


def expected_summary(corpora_dir: Path) -> dict:
    """``corpus summary --json`` computed from the manifest and the README alone."""
    expected = {}
    for corpus, rows in manifest(corpora_dir).items():
        counts = {split: dict.fromkeys(LABELS, 0) for split in ("train", "valid", "test")}
        dropped = 0
        for row in rows:
            label = README_CLASS[corpus](Path(row["path"]))
            if label is None:
                dropped += 1
                continue
            speaker = str(int(row["speaker"])) if corpus == "ravdess" else row["speaker"]
            counts[README_SPLIT.get(corpus, {}).get(speaker, "train")][label] += 1
        expected[corpus] = {"counts": counts, "dropped": dropped}
    return expected


@pytest.mark.corpora
def test_summary_agrees_with_manifest(corpora_dir, capsys):
    args = ["corpus", "summary", "--json"] + [f"--corpus={name}={corpora_dir / name}" for name in SHARED]
    assert main(args) == 0
    summary = json.loads(capsys.readouterr().out)
    expected = expected_summary(corpora_dir)
    assert set(summary) == set(expected) == set(SHARED)
    for corpus in SHARED:
        got, want = summary[corpus], expected[corpus]
        assert got["unreadable"] == 0 and got["ignored"] == 0
        assert sum(got["dropped"].values()) == want["dropped"]
        total = sum(n for split in ("train", "valid", "test") for n in got[split].values())
        assert total + want["dropped"] == len(manifest(corpora_dir)[corpus])
        if corpus == "urdu":  # no reference split: compare the class totals over all splits
            for label in LABELS:
                assert sum(got[s][label] for s in ("train", "valid", "test")) == sum(
                    want["counts"][s][label] for s in ("train", "valid", "test")
                )
        else:
            assert {s: got[s] for s in ("train", "valid", "test")} == want["counts"]
    assert summary["ravdess"]["dropped"] == {"disgust": 160, "fearful": 160, "surprised": 160}


@pytest.mark.corpora
@pytest.mark.parametrize("name", SHARED)
def test_shared_corpus_speakers_and_languages(corpora_dir, name):
    corpus = read_corpus(name, corpora_dir / name)
    speakers = {corpora_dir / row["path"]: row["speaker"] for row in manifest(corpora_dir)[name]}
    assert corpus.utterances, name
    for u in corpus.utterances:
        assert speakers[u.path] == u.speaker
        assert u.corpus == name and u.label in LABELS
        assert u.language == {"emodb": "German", "urdu": "Urdu"}.get(name, u.language)
    splits_of = defaultdict(set)
    for u in corpus.utterances:
        splits_of[u.speaker].add(u.split)
    assert all(len(s) == 1 for s in splits_of.values()), "a speaker is in two splits"
    genders = {u.speaker: u.gender for u in corpus.utterances}
    if name == "ravdess":
        assert genders["01"] == "m" and genders["02"] == "f"
    if name == "urdu":
        assert genders["SM2"] == "m" and genders["SF1"] == "f"


def test_iemocap_layout_labels_speakers_and_excited(tmp_path):
    root = make_iemocap(tmp_path / "IEMOCAP")
    plain = read_corpus("iemocap", root)
    labels = {u.path.stem: u.label for u in plain.utterances}
    assert labels == {
        "Ses01F_impro01_F000": "neutral",
        "Ses01F_impro01_M000": "angry",
        "Ses01M_script01_1_M000": "sad",
        "Ses02F_impro02_F000": "happy",
        "Ses02F_impro02_M001": "neutral",
    }
    assert plain.dropped == Counter({"exc": 1, "fru": 1, "xxx": 1, "unlabelled": 1})
    speakers = {u.path.stem: (u.speaker, u.gender) for u in plain.utterances}
    assert speakers["Ses01F_impro01_M000"] == ("Ses01M", "m")
    assert speakers["Ses02F_impro02_F000"] == ("Ses02F", "f")
    assert any(u.path.suffix == ".flac" for u in plain.utterances)
    excited = read_corpus("iemocap", root, excited_as_happy=True)
    assert {u.path.stem: u.label for u in excited.utterances}["Ses01F_impro01_F001"] == "happy"
    assert excited.dropped == Counter({"fru": 1, "xxx": 1, "unlabelled": 1})


def test_casia_layout(tmp_path):
    corpus = read_corpus("casia", make_casia(tmp_path / "casia", per_emotion=1))
    assert corpus.dropped == Counter({"fear": 4, "surprise": 4})
    assert Counter(u.label for u in corpus.utterances) == Counter(dict.fromkeys(LABELS, 4))
    assert {u.speaker for u in corpus.utterances} == set(CASIA_SPEAKERS)
    assert {u.speaker: u.gender for u in corpus.utterances}["zhaoquanyin"] == "f"
    assert Counter(hashed_speaker_splits("casia", CASIA_SPEAKERS).values()) == {"train": 2, "valid": 1, "test": 1}
    assert corpus.language == "Mandarin Chinese"


def test_folder_layout_synonyms_speakers_and_ignored_files(tmp_path):
    root = make_folder(tmp_path / "mine")
    write_clip(root / "stray.wav")  # not inside an emotion folder
    (root / "neutral" / "notes.txt").write_text("not audio")
    write_clip(root / "neutral" / "solo.wav")  # no speaker folder: its own speaker
    corpus = read_corpus("folder", root)
    assert Counter(u.label for u in corpus.utterances) == {"angry": 6, "happy": 6, "sad": 6, "neutral": 7}
    assert corpus.dropped == Counter({"fear": 6})
    assert corpus.ignored == 1
    assert {u.original_label for u in corpus.utterances} == {"angry", "happiness", "sad", "neutral"}
    assert {u.speaker for u in corpus.utterances} == {"alice", "bob", "carol", "solo"}
    assert {u.path.suffix for u in corpus.utterances} == {".wav", ".flac"}


def test_hashed_split_is_deterministic_and_speaker_level():
    speakers = [f"S{i}" for i in range(25)]
    split = hashed_speaker_splits("urdu", speakers)
    assert split == hashed_speaker_splits("urdu", list(reversed(speakers)))
    assert Counter(split.values()) == {"train": 21, "valid": 2, "test": 2}
    assert hashed_speaker_splits("urdu", ["a", "b"]) == {"a": "train", "b": "train"}
    assert hashed_speaker_splits("other", speakers) != split  # the corpus name is part of the hash


def test_wav_and_flac_of_the_original_emodb_layout(tmp_path):
    write_clip(tmp_path / "emodb" / "wav" / "03a01Wa.wav")
    write_clip(tmp_path / "emodb" / "wav" / "16b10Tb.flac")
    write_clip(tmp_path / "emodb" / "wav" / "11a02Ec.wav")  # disgust: dropped
    corpus = read_corpus("emodb", tmp_path / "emodb")
    assert [(u.speaker, u.label, u.split, u.original_label) for u in corpus.utterances] == [
        ("03", "angry", "valid", "anger"),
        ("16", "sad", "train", "sadness"),
    ]
    assert corpus.dropped == Counter({"disgust": 1})


@pytest.mark.parametrize("name", CORPUS_NAMES)
def test_not_a_corpus_is_one_clear_line(tmp_path, name):
    with pytest.raises(CorpusError, match=f"^{re.escape(str(tmp_path / 'none'))}: no such directory$"):
        read_corpus(name, tmp_path / "none")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CorpusError, match=f"no {name} corpus here: no .wav or .flac files; expected like "):
        read_corpus(name, tmp_path / "empty")
    write_clip(tmp_path / "odd" / "x" / "y" / "z" / "clip.wav")
    with pytest.raises(CorpusError, match=f"no {name} corpus here: 1 audio file, none named like"):
        read_corpus(name, tmp_path / "odd")
    (tmp_path / "file.wav").write_bytes(b"")
    with pytest.raises(CorpusError, match="is not a directory"):
        read_corpus(name, tmp_path / "file.wav")


def test_corpus_arguments(tmp_path, capsys):
    assert parse_corpus_spec("EmoDB=a/b=c").name == "emodb"
    assert parse_corpus_spec("emodb=a/b=c").path == Path("a/b=c")
    for bad in ("emodb", "=x", "emodb=", "nosuch=x"):
        with pytest.raises(CorpusError, match=r"^--corpus: "):
            parse_corpus_spec(bad)
    root = make_casia(tmp_path / "c", per_emotion=1)
    with pytest.raises(CorpusError, match="'casia' given more than once"):
        read_corpora([parse_corpus_spec(f"casia={root}")] * 2)
    with pytest.raises(SystemExit) as exit_:
        main(["corpus", "summary", "--corpus", "nosuch=x"])
    assert exit_.value.code == 2
    assert "unknown corpus 'nosuch'" in capsys.readouterr().err


def test_summary_reports_unreadable_files(tmp_path, capsys):
    root = make_casia(tmp_path / "casia", per_emotion=1)
    bad = root / "wangzhe" / "angry" / "999.wav"
    bad.write_bytes(b"RIFF this is not audio")
    assert main(["corpus", "summary", "--corpus", f"casia={root}", "--json"]) == 0
    captured = capsys.readouterr()
    summary = json.loads(captured.out)["casia"]
    assert summary["unreadable"] == 1
    assert sum(sum(summary[s].values()) for s in ("train", "valid", "test")) == 16
    assert f"error: {bad}: not a readable audio file" in captured.err
    assert main(["corpus", "summary", "--corpus", f"folder={tmp_path / 'missing'}"]) == 1
    assert capsys.readouterr().err == f"error: {tmp_path / 'missing'}: no such directory\n"
