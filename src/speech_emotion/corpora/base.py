"""What every corpus reader yields, the speaker split, and the name registry.

A reader walks a corpus's original folder layout and file names (listing only: no audio is decoded), maps
each recording's original emotion to the four classes the models know, drops and counts the rest, and
assigns each speaker to one split so no speaker is ever in two of train, valid and test.
"""

from __future__ import annotations

import hashlib
import importlib
import os
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from speech_emotion.errors import SpeechEmotionError

LABELS = ("angry", "happy", "sad", "neutral")
SPLITS = ("train", "valid", "test")
SPLIT_CHOICES = ("test", "valid", "train", "all")  # what Corpus.split() and --split accept
AUDIO_SUFFIXES = (".wav", ".flac")
CORPUS_NAMES = ("emodb", "savee", "ravdess", "urdu", "iemocap", "casia", "emovo", "tess", "folder")
UNKNOWN_LANGUAGE = "unknown"
HELD_OUT_FRACTION = 0.1  # of a corpus's speakers, each for valid and test, where it has no reference split


class CorpusError(SpeechEmotionError):
    """A corpus that cannot be read: ``"<path or argument>: <reason>"``."""

    def __init__(self, where: object, reason: str):
        self.where = str(where)
        self.reason = reason
        super().__init__(f"{self.where}: {reason}")


@dataclass(frozen=True)
class Utterance:
    """One recording, with its 4-class ``label`` and the split its speaker belongs to."""

    path: Path
    corpus: str
    language: str
    speaker: str
    gender: str | None
    original_label: str
    label: str
    split: str


@dataclass(frozen=True)
class Recording:
    """What a reader makes of one file's place in the layout; the label is still the corpus's own."""

    speaker: str
    gender: str | None
    original_label: str


@dataclass
class Corpus:
    """A read corpus: the mapped utterances, and the original labels of the recordings it dropped."""

    name: str
    root: Path
    language: str
    utterances: list[Utterance]
    dropped: Counter = field(default_factory=Counter)
    ignored: int = 0  # audio files whose names or folders do not fit the corpus's layout

    def split(self, split: str) -> list[Utterance]:
        """Utterances of one split, or all of them for ``"all"``."""
        return list(self.utterances) if split == "all" else [u for u in self.utterances if u.split == split]


@dataclass(frozen=True)
class Unreadable:
    """A corpus file that was skipped, and why."""

    path: str
    reason: str


@dataclass(frozen=True)
class CorpusSpec:
    """A ``NAME=PATH`` command-line argument."""

    name: str
    path: Path


def parse_corpus_spec(text: str) -> CorpusSpec:
    """``"emodb=../shared/corpora/emodb"`` -> ``CorpusSpec``; the name must be a known reader."""
    name, sep, path = text.partition("=")
    name = name.strip().lower()
    if not sep or not name or not path:
        raise CorpusError("--corpus", f"{text!r} is not NAME=PATH (NAME one of {', '.join(CORPUS_NAMES)})")
    if name not in CORPUS_NAMES:
        raise CorpusError("--corpus", f"unknown corpus {name!r} (choose from {', '.join(CORPUS_NAMES)})")
    return CorpusSpec(name, Path(path))


def read_corpus(name: str, root: str | os.PathLike, excited_as_happy: bool = False) -> Corpus:
    """Read corpus ``name`` (one of :data:`CORPUS_NAMES`) from its original layout under ``root``.

    ``excited_as_happy`` is IEMOCAP's option (excited counts as happy, the common 4-class IEMOCAP setup);
    the other corpora have no excited class and ignore it.
    """
    if name not in CORPUS_NAMES:
        raise CorpusError(name, f"unknown corpus (choose from {', '.join(CORPUS_NAMES)})")
    module = importlib.import_module(f"speech_emotion.corpora.{name}")
    root = require_directory(root)
    return module.read(root, excited_as_happy=excited_as_happy) if name == "iemocap" else module.read(root)


def read_corpora(specs: Iterable[CorpusSpec], excited_as_happy: bool = False) -> list[Corpus]:
    """Read each ``NAME=PATH``; a name given twice is an error (its statistics would collide)."""
    specs = list(specs)
    names = Counter(spec.name for spec in specs)
    twice = [name for name, n in names.items() if n > 1]
    if twice:
        raise CorpusError("--corpus", f"{twice[0]!r} given more than once")
    return [read_corpus(spec.name, spec.path, excited_as_happy) for spec in specs]


def require_directory(root: str | os.PathLike) -> Path:
    root = Path(root)
    if not root.exists():
        raise CorpusError(root, "no such directory")
    if not root.is_dir():
        raise CorpusError(root, "is not a directory")
    return root


def audio_files(root: Path) -> list[Path]:
    """Every ``.wav``/``.flac`` under ``root``, sorted, hidden files (``._x.wav``, ``.x``) left out."""
    found = []
    for folder, dirs, files in os.walk(root, followlinks=True):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found.extend(
            Path(folder, f) for f in files if not f.startswith(".") and Path(f).suffix.lower() in AUDIO_SUFFIXES
        )
    return sorted(found)


def build_corpus(
    name: str,
    root: Path,
    language: str,
    parse: Callable[[Path], Recording | None],
    mapping: Mapping[str, str],
    splits: Mapping[str, str] | None,
    expected: str,
) -> Corpus:
    """Parse every audio file under ``root``, map labels, assign splits, and check the corpus is not empty.

    ``parse`` turns a path relative to ``root`` into a :class:`Recording`, or ``None`` for a file that does
    not fit the layout (counted as ignored). ``splits`` maps speakers to their reference split (speakers not
    in it train); ``None`` means the corpus has no reference split and gets :func:`hashed_speaker_splits`.
    ``expected`` describes the files looked for, for the error when there are none.
    """
    files = audio_files(root)
    parsed = [(path, parse(path.relative_to(root))) for path in files]
    recordings = [(path, r) for path, r in parsed if r is not None]
    if not recordings:
        plural = "" if len(files) == 1 else "s"
        found = f"{len(files)} audio file{plural}, none named" if files else "no .wav or .flac files; expected"
        raise CorpusError(root, f"no {name} corpus here: {found} {expected}")
    if splits is None:
        splits = hashed_speaker_splits(name, {r.speaker for _, r in recordings})
    utterances, dropped = [], Counter()
    for path, r in recordings:
        label = mapping.get(r.original_label)
        if label is None:
            dropped[r.original_label] += 1
            continue
        split = splits.get(r.speaker, "train")
        utterances.append(Utterance(path, name, language, r.speaker, r.gender, r.original_label, label, split))
    return Corpus(name, root, language, utterances, dropped, ignored=len(files) - len(recordings))


def hashed_speaker_splits(corpus: str, speakers: Iterable[str]) -> dict[str, str]:
    """A deterministic speaker-level split for corpora without a reference one.

    Speakers are ordered by a hash of ``corpus/speaker`` (stable across machines and Python runs, unlike
    ``hash()``); the first 10% (at least one, given three or more speakers) are test, the next as many valid,
    the rest train. The same folder always gives the same split.
    """
    ordered = sorted(speakers, key=lambda s: hashlib.sha256(f"{corpus}/{s}".encode()).hexdigest())
    held = max(1, round(HELD_OUT_FRACTION * len(ordered))) if len(ordered) >= 3 else 0
    return {speaker: "test" if i < held else "valid" if i < 2 * held else "train" for i, speaker in enumerate(ordered)}
