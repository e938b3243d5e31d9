"""The public Python API: the examples of docs/api.md run as written, and the promises they make hold."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import soxr

import speech_emotion
from monitor_helpers import SENTENCES, espeak
from speech_emotion.cli import main

API_PAGE = Path(__file__).resolve().parents[1] / "docs" / "api.md"


def test_the_api_pages_examples_run(tmp_path, monkeypatch, capsys):
    blocks = re.findall(r"```python\n(.*?)```", API_PAGE.read_text(), re.DOTALL)
    assert len(blocks) >= 4
    monkeypatch.chdir(tmp_path)  # the last example writes its pieces here
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, str(API_PAGE), "exec"), namespace)
    printed = capsys.readouterr().out.splitlines()
    labels = {"angry", "happy", "sad", "neutral", "no speech"}
    assert printed[0].split()[0] in labels and 0 < float(printed[0].split()[1]) <= 1
    assert [line.split()[0] for line in printed[-6:]] == [f"piece-{n}.wav" for n in range(6)]
    assert all(line.split(maxsplit=1)[1] in labels for line in printed[-6:])


@pytest.fixture(scope="module")
def recognizer(tiny_bundle):
    return speech_emotion.load(tiny_bundle)


def test_an_array_at_another_rate_is_resampled_not_misheard(recognizer):
    speech = espeak(SENTENCES[0])
    at_48k = soxr.resample(speech, 16000, 48000)
    direct, resampled = recognizer.predict(speech), recognizer.predict(np.stack([at_48k, at_48k], 1), 48000)
    assert resampled.label == direct.label
    np.testing.assert_allclose(list(resampled.probabilities.values()), list(direct.probabilities.values()), atol=0.05)
    with pytest.raises(TypeError, match=r"predict takes samples, not the path 'clip\.wav': use predict_file"):
        recognizer.predict("clip.wav")


def test_files_alone_and_together_give_what_the_command_gives(recognizer, tiny_bundle, tmp_path, capsys):
    paths = [tmp_path / f"{n}.wav" for n in range(3)] + [tmp_path / "silence.wav"]
    for path, sentence in zip(paths, SENTENCES, strict=False):
        sf.write(path, espeak(sentence), 16000)
    sf.write(paths[-1], np.zeros(16000, np.float32), 16000)
    for option, same in (([], False), (["--same-speaker"], True)):
        assert main(["predict", "--json", "--model", str(tiny_bundle), *option, *map(str, paths)]) == 0
        printed = [{k: v for k, v in r.items() if k != "file"} for r in json.loads(capsys.readouterr().out)]
        assert [p.to_dict() for p in recognizer.predict_files(paths, same_speaker=same)] == printed
    assert recognizer.predict_file(paths[-1]).to_dict() == {"label": "no speech", "probabilities": None, "windows": []}
    with pytest.raises(speech_emotion.AudioError, match=r"missing\.wav"):
        recognizer.predict_file(tmp_path / "missing.wav")


def test_devices_are_named_as_pytorch_names_them(tiny_bundle):
    with pytest.raises(speech_emotion.SpeechEmotionError, match="not cpu, cuda or cuda:N"):
        speech_emotion.load(tiny_bundle, device="gpu")
    if not __import__("torch").cuda.is_available():
        with pytest.raises(speech_emotion.SpeechEmotionError, match="--device cuda:1: no CUDA GPU"):
            speech_emotion.load(tiny_bundle, device="cuda:1")
