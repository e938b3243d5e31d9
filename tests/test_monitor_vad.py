"""Speech segmentation: boundaries on synthetic and real speech, streaming, capture times, splitting."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from monitor_helpers import SENTENCES, T0, espeak, lay_out
from speech_emotion.audio import SAMPLE_RATE, load_audio
from speech_emotion.vad import Segmenter, VadConfig


class EnergyDetector:
    """A transparent detector for testing the segmenter's rules: a 30 ms frame is speech when it is loud."""

    frame_samples = 480

    def __call__(self, frame: np.ndarray) -> bool:
        return float(np.mean(frame**2)) > 1e-3

    def reset(self) -> None:
        pass


def run(segmenter: Segmenter, audio: np.ndarray, start: float = T0, size: int = 2720, flush: bool = True):
    found = []
    for i in range(0, len(audio), size):
        found += segmenter.push(audio[i : i + size], start + i / SAMPLE_RATE)
    return found + segmenter.flush() if flush else found


def bursts(spec: list[tuple[float, float]], total_s: float, seed: int = 0) -> np.ndarray:
    """White noise at 0.3 RMS over each (start, end) in seconds, digital silence elsewhere."""
    rng = np.random.default_rng(seed)
    audio = np.zeros(round(total_s * SAMPLE_RATE), np.float32)
    for s, e in spec:
        a, b = round(s * SAMPLE_RATE), round(e * SAMPLE_RATE)
        audio[a:b] = 0.3 * rng.standard_normal(b - a)
    return audio


def assert_covers(found, spans, early: float, late: float):
    """Every true span is covered by the utterances overlapping it, starting and ending within tolerance,
    and no utterance lies outside the true speech."""
    times = [(u.start - T0, u.end - T0) for u in found]
    for s, e in spans:
        hits = [t for t in times if t[0] < e and s < t[1]]
        assert hits, f"speech at {s:.2f}-{e:.2f} s not found in {times}"
        assert -early <= hits[0][0] - s <= late, f"start {hits[0][0]:.2f} for speech starting at {s:.2f}"
        assert -late <= hits[-1][1] - e <= early, f"end {hits[-1][1]:.2f} for speech ending at {e:.2f}"
    for t in times:
        assert any(t[0] < e and s < t[1] for s, e in spans), f"utterance {t} where nobody speaks"


@pytest.mark.parametrize("engine", ["silero", "webrtc"])
def test_synthetic_speech_boundaries(engine):
    prosodies = [(120, 30), (150, 50), (180, 70), (160, 40)]
    clips = [espeak(text, speed=s, pitch=p) for text, (s, p) in zip(SENTENCES, prosodies, strict=True)]
    audio, spans = lay_out(clips, [1.0, 1.5, 0.8, 2.0])
    found = run(VadConfig(engine=engine).segmenter(), audio)
    assert_covers(found, spans, early=0.25, late=0.1)
    assert len(spans) <= len(found) <= len(spans) + 2  # a sentence may break at a comma's pause
    assert all(0.4 <= u.duration <= 10.0 for u in found)


@pytest.mark.corpora
def test_real_speech_boundaries(corpora_dir):
    paths = ["emodb/wav/03a01Fa.flac", "savee/AudioData/DC/sa01.flac", "ravdess/Actor_01/03-01-04-01-01-01-01.flac"]
    clips = [load_audio(corpora_dir / p) for p in paths]
    audio, spans = lay_out(clips, [1.2, 2.0, 1.5])
    found = run(VadConfig().segmenter(), audio)
    assert_covers(found, spans, early=0.3, late=0.3)
    assert len(found) == len(spans)


@pytest.mark.parametrize("engine", ["silero", "webrtc"])
def test_any_chunk_sizes_give_the_same_utterances(engine):
    audio, _ = lay_out([espeak(SENTENCES[0]), espeak(SENTENCES[1])], [0.7, 1.0])
    reference = run(VadConfig(engine=engine).segmenter(), audio)
    segmenter = VadConfig(engine=engine).segmenter()
    rng = np.random.default_rng(1)
    found, i = [], 0
    while i < len(audio):
        size = int(rng.choice([1, 7, 333, 480, 512, 2720, 16000]))
        found += segmenter.push(audio[i : i + size], T0 + i / SAMPLE_RATE)
        i += size
    found += segmenter.flush()
    assert [u.start for u in found] == [u.start for u in reference]
    for a, b in zip(found, reference, strict=True):
        np.testing.assert_array_equal(a.samples, b.samples)
        np.testing.assert_array_equal(a.context, b.context)


def test_times_are_capture_times_and_a_gap_starts_a_new_timeline():
    audio = bursts([(1.0, 2.0), (3.0, 5.0)], 6.0)
    segmenter = Segmenter(EnergyDetector())
    later = T0 + 3600.0  # the stream stops in the second burst and comes back an hour later
    found = run(segmenter, audio[: 4 * SAMPLE_RATE], start=T0, flush=False)
    found += run(segmenter, audio[4 * SAMPLE_RATE :], start=later)
    times = [t for u in found for t in (u.start, u.end)]
    expected = [T0 + 0.9, T0 + 2.1, T0 + 2.91, T0 + 4.0, later, later + 1.11]
    assert times == pytest.approx(expected, abs=0.011)  # 30 ms frames, 90 ms padding, cut where the audio stopped


def test_hangover_and_minimum_length():
    audio = bursts([(1.0, 2.0), (2.2, 3.0), (4.0, 4.3), (5.0, 5.5), (6.2, 7.0)], 8.0)
    found = run(Segmenter(EnergyDetector()), audio)
    spans = [(round(u.start - T0, 1), round(u.end - T0, 1)) for u in found]
    # 0.2 s pause bridged by the 0.3 s hangover; 0.3 s burst too short; 0.1 s padding either side
    assert spans == [(0.9, 3.1), (4.9, 5.6), (6.1, 7.1)]


def test_long_speech_is_split_at_its_pauses_without_losing_audio():
    audio = bursts([(0.5, 7.0), (7.2, 16.0), (16.2, 25.0)], 26.0)
    found = run(Segmenter(EnergyDetector(), VadConfig(max_utterance_s=10.0)), audio)
    assert len(found) == 3
    assert all(u.duration <= 10.0 for u in found)
    cuts = [u.end - T0 for u in found[:-1]]
    assert 7.0 <= cuts[0] <= 7.2 and 16.0 <= cuts[1] <= 16.2
    for a, b in itertools.pairwise(found):
        assert b.start == pytest.approx(a.end, abs=1e-6)  # contiguous: no sample lost or repeated
    total = sum(len(u.samples) for u in found)
    assert total == round((found[-1].end - found[0].start) * SAMPLE_RATE)


def test_speech_without_pauses_is_split_at_its_quietest_moment():
    rng = np.random.default_rng(2)
    audio = bursts([(0.5, 23.0)], 24.0)
    envelope = 1.0 + 0.5 * np.sin(np.arange(len(audio)) / SAMPLE_RATE * 2 * np.pi / 5.0)
    audio = (audio * envelope + 0.001 * rng.standard_normal(len(audio))).astype(np.float32)
    found = run(Segmenter(EnergyDetector(), VadConfig(max_utterance_s=8.0)), audio)
    assert len(found) >= 3 and all(0.4 <= u.duration <= 8.0 for u in found)
    for u in found[:-1]:  # quietest moments of the 5 s envelope are at 3.75 s + k * 5 s
        assert min(abs((u.end - T0) - (3.75 + 5 * k)) for k in range(5)) < 0.2


def index(t: float) -> int:
    return round((t - T0) * SAMPLE_RATE)


def test_context_reaches_a_second_either_side_and_stops_at_the_neighbours():
    audio = bursts([(2.0, 3.0), (4.0, 5.0), (8.0, 9.0)], 9.6)
    found = run(Segmenter(EnergyDetector()), audio)
    assert len(found) == 3
    total = T0 + len(audio) / SAMPLE_RATE
    # the first's context stops where the second starts, the second's begins where the first ended,
    # the last's ends with the stream
    bounds = [(found[0].start - 1.0, found[1].start), (found[0].end, found[1].end + 1.0), (found[2].start - 1.0, total)]
    for u, (begin, end) in zip(found, bounds, strict=True):
        np.testing.assert_array_equal(u.context, audio[index(begin) : index(end)])
        assert u.heard is u.context
        offset = index(u.start) - index(begin)  # the utterance lies inside its context, sample for sample
        np.testing.assert_array_equal(u.context[offset : offset + len(u.samples)], u.samples)


def test_an_utterance_waits_for_the_context_after_it():
    audio = bursts([(1.5, 2.5)], 6.0)
    segmenter = Segmenter(EnergyDetector())
    end = 2.6  # 2.5 s plus about 0.1 s of padding
    assert run(segmenter, audio[: index(T0 + end + 0.9)], flush=False) == []
    later = run(segmenter, audio[index(T0 + end + 0.9) : index(T0 + end + 1.2)], start=T0 + end + 0.9, flush=False)
    assert len(later) == 1 and later[0].end - T0 == pytest.approx(end, abs=0.011)
    assert len(later[0].context) == index(later[0].end + 1.0) - index(later[0].start - 1.0)


def test_without_context_utterances_come_as_soon_as_they_end():
    audio = bursts([(1.0, 2.0)], 6.0)
    found = run(Segmenter(EnergyDetector(), VadConfig(context_s=0)), audio[: index(T0 + 2.5)], flush=False)
    assert len(found) == 1 and found[0].context is None
    assert found[0].heard is found[0].samples


def test_context_does_not_cross_a_split_or_a_gap():
    audio = bursts([(2.0, 10.0), (10.2, 15.0)], 17.0)
    segmenter = Segmenter(EnergyDetector(), VadConfig(max_utterance_s=10.0))
    later = T0 + 3600.0  # the stream breaks off at 13 s and comes back an hour later
    found = run(segmenter, audio[: 13 * SAMPLE_RATE], flush=False)
    found += run(segmenter, audio[13 * SAMPLE_RATE :], start=later)
    assert [round(u.start - T0) for u in found] == [2, 10, 3600]  # split in the pause at 10.1 s
    first, second, third = found
    np.testing.assert_array_equal(first.context, audio[index(first.start - 1.0) : index(first.end)])
    np.testing.assert_array_equal(second.context, audio[index(second.start) : 13 * SAMPLE_RATE])
    np.testing.assert_array_equal(third.context, audio[13 * SAMPLE_RATE : index(T0 + 13 + third.end - later + 1.0)])


def test_the_audio_held_for_context_stays_bounded():
    segmenter = Segmenter(EnergyDetector())
    run(segmenter, bursts([(1.0, 2.0), (30.0, 31.0)], 60.0), flush=False)
    held = sum(len(chunk) for _, chunk in segmenter._history)
    assert held <= 1.3 * SAMPLE_RATE  # the context before the next utterance, and the chunk in hand


@pytest.mark.parametrize(
    "field, value",
    [
        ("engine", "energy"),
        ("threshold", 1.5),
        ("aggressiveness", 4),
        ("hangover_s", -1),
        ("max_utterance_s", 0.5),
        ("context_s", -0.5),
    ],
)
def test_bad_settings_are_refused(field, value):
    with pytest.raises(ValueError, match=f"vad.{field}"):
        VadConfig(**{field: value})
