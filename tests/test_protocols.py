"""evaluate --protocol: alone (as predict FILE), person (as predict --same-speaker) and stream (the monitor as
deployed), one report each, with every file's prediction in the JSON."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from monitor_helpers import espeak
from speech_emotion.audio import SAMPLE_RATE
from speech_emotion.cli import main
from speech_emotion.corpora import read_corpus
from speech_emotion.evaluation.stream import stream_predictions
from speech_emotion.recognizer import EmotionRecognizer

TEXTS = ["The garden looks lovely today.", "My daughter is coming to visit this afternoon."]
EMOTIONS = ("angry", "happy", "sad", "neutral")


@pytest.fixture(scope="module")
def spoken(tmp_path_factory):
    """A folder corpus of synthetic speech: two speakers, every emotion, two sentences each."""
    root = tmp_path_factory.mktemp("spoken") / "folder"
    for s, speaker in enumerate(("alice", "bob")):
        for e, emotion in enumerate(EMOTIONS):
            for n, text in enumerate(TEXTS):
                folder = root / emotion / speaker
                folder.mkdir(parents=True, exist_ok=True)
                sf.write(folder / f"clip{n}.wav", espeak(text, pitch=30 + 10 * e + 5 * s), SAMPLE_RATE)
    return root


def test_each_protocol_scores_every_file_and_writes_its_prediction(spoken, tiny_bundle, tmp_path, capsys):
    out = tmp_path / "scores.json"
    argv = ["evaluate", f"--model={tiny_bundle}", f"--corpus=folder={spoken}", "--split=all", "--workers=1"]
    assert (
        main([*argv, f"--cache={tmp_path / 'cache'}", "--protocol", "alone", "person", "stream", f"--json={out}"]) == 0
    )
    printed = capsys.readouterr().out
    assert all(f"protocol {name}" in printed for name in ("alone", "person", "stream"))
    payload = json.loads(out.read_text())
    assert payload["model"].startswith("test-small@") and list(payload["protocols"]) == ["alone", "person", "stream"]
    for report in payload["protocols"].values():
        files = report["files"]
        assert len(files) == report["n_utterances"] == 16
        assert {f["speaker"] for f in files} == {"alice", "bob"} and {f["truth"] for f in files} == set(EMOTIONS)
        assert all(f["label"] in EMOTIONS for f in files)  # the monitor heard speech in every file
        assert all(sum(f["probabilities"].values()) == pytest.approx(1, abs=1e-4) for f in files)

    # alone is what predict FILE prints, file by file; person what predict --same-speaker prints for a speaker
    alone = {f["path"]: f["label"] for f in payload["protocols"]["alone"]["files"]}
    person = {f["path"]: f["label"] for f in payload["protocols"]["person"]["files"]}
    alice = sorted(p for p in alone if "/alice/" in p)
    for option, expected in (([], alone), (["--same-speaker"], person)):
        assert main(["predict", "--json", f"--model={tiny_bundle}", *option, *alice]) == 0
        assert {r["file"]: r["label"] for r in json.loads(capsys.readouterr().out)} == {p: expected[p] for p in alice}


def test_a_file_without_speech_is_no_speech_in_the_stream(spoken, tiny_bundle, tmp_path):
    corpus = read_corpus("folder", spoken)
    silent = spoken / "sad" / "bob" / "clip9.wav"
    sf.write(silent, np.zeros(2 * SAMPLE_RATE, np.float32), SAMPLE_RATE)
    try:
        utterances = [u for u in read_corpus("folder", spoken).utterances if u.speaker == "bob"]
        predictions, unreadable = stream_predictions(EmotionRecognizer.load(tiny_bundle), utterances)
    finally:
        silent.unlink()
    assert not unreadable and len(predictions) == len(utterances) == 9
    heard = {p.path: p.label for p in predictions}
    assert heard[str(silent)] == "no speech"
    assert all(label in EMOTIONS for path, label in heard.items() if path != str(silent))
    assert len(corpus.utterances) == 16


def test_protocol_and_normalization_are_one_or_the_other(spoken, tiny_bundle, capsys):
    argv = ["evaluate", f"--model={tiny_bundle}", f"--corpus=folder={spoken}", "--split=all"]
    assert main([*argv, "--protocol", "alone", "--normalization", "pooled"]) != 0
    assert "--protocol and --normalization: give one or the other" in capsys.readouterr().err


@pytest.mark.corpora
def test_the_protocols_on_a_shared_corpus(corpora_dir, tmp_path):
    """SAVEE's validation speaker JK (38 files) with the shipped combined4-ua: alone is the pooled statistics,
    person the speaker's own, stream the monitor's; every file is scored in each."""
    out = tmp_path / "scores.json"
    argv = ["evaluate", "--model=combined4-ua", f"--corpus=savee={corpora_dir / 'savee'}", "--split=valid"]
    assert (
        main([*argv, f"--cache={tmp_path / 'cache'}", "--protocol", "alone", "person", "stream", f"--json={out}"]) == 0
    )
    protocols = json.loads(out.read_text())["protocols"]
    assert [r["n_utterances"] for r in protocols.values()] == [38, 38, 38]
    pooled, speaker = tmp_path / "pooled.json", tmp_path / "speaker.json"
    for mode, path in (("pooled", pooled), ("speaker", speaker)):
        assert main([*argv, f"--cache={tmp_path / 'cache'}", f"--normalization={mode}", f"--json={path}"]) == 0
    assert protocols["alone"]["ua"] == json.loads(pooled.read_text())["ua"]
    assert protocols["person"]["ua"] == json.loads(speaker.read_text())["ua"]
    assert protocols["person"]["ua"] > protocols["alone"]["ua"] + 0.05  # trained per speaker: 0.588 against 0.493
    stream = protocols["stream"]
    assert stream["ua"] > 0.35 and sum(f["label"] == "no speech" for f in stream["files"]) <= 2
