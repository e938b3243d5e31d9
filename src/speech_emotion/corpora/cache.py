"""Features extracted once and kept on disk, keyed by the file's content and the feature settings.

A cache entry is ``<root>/<settings key>/<ab>/<sha256 of the file>.npy``: renaming or moving a corpus keeps
its cache, editing a file or changing the feature definition (see
:data:`~speech_emotion.features.FEATURE_SETTINGS`; trimming the files to their speech,
:mod:`speech_emotion.trimming`, is part of it) misses it. Files
not yet cached are decoded and featurised in worker processes (one thread each) with a progress bar; a file
that cannot be read is reported with its path and reason, skipped, and counted, so one bad file never stops
a run. Entries are written atomically, so an interrupted run leaves no half-written feature file behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from speech_emotion import trimming
from speech_emotion.audio import file_digest, load_audio
from speech_emotion.corpora.base import CorpusError, Unreadable
from speech_emotion.errors import AudioError
from speech_emotion.preprocessing import FEATURE_KINDS, Preprocessing

log = logging.getLogger(__name__)

POOL_MIN_FILES = 32  # a worker process takes about a second to start (it imports torch); fewer files go inline


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "speech-emotion" / "features"


def settings_key(trim: bool = False, kind: str = "logmel") -> str:
    settings = {**FEATURE_KINDS[kind], "trim": trimming.TRIM_SETTINGS} if trim else dict(FEATURE_KINDS[kind])
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]


@dataclass
class FeatureSet:
    """Features ``(frames, 40, 3)`` by path, the files skipped, and how many were extracted (not cached)."""

    features: dict[Path, np.ndarray] = field(default_factory=dict)
    unreadable: list[Unreadable] = field(default_factory=list)
    extracted: int = 0


class FeatureCache:
    """Features of files: log-mel frames, or eGeMAPS functionals with ``kind="egemaps"``; of their speech alone
    (cut as the monitor cuts it) with ``trim``, for the bundles whose
    :class:`~speech_emotion.preprocessing.Preprocessing` says so (:meth:`for_model`)."""

    def __init__(
        self,
        root: str | os.PathLike | None = None,
        workers: int | None = None,
        progress: bool = True,
        trim: bool = False,
        kind: str = "logmel",
    ):
        self.trim = trim
        self.kind = kind
        self.root = Path(root or default_cache_dir()) / settings_key(trim, kind)
        try:  # now, not after an hour of extraction
            self.root.mkdir(parents=True, exist_ok=True)
            if not os.access(self.root, os.W_OK):
                raise PermissionError(13, "permission denied")
        except OSError as e:
            raise CorpusError(
                root or default_cache_dir(), f"cannot keep features here ({e.strerror}); choose another --cache"
            ) from e
        self.workers = max(1, workers or os.cpu_count() or 1)
        self.progress = progress

    @classmethod
    def for_model(
        cls, preprocessing: Preprocessing, root: str | os.PathLike | None = None, workers: int | None = None
    ) -> FeatureCache:
        """The cache of the features a model with ``preprocessing`` reads."""
        return cls(root, workers, trim=preprocessing.trim, kind=preprocessing.feature_kind)

    def entry(self, digest: str) -> Path:
        return self.root / digest[:2] / f"{digest}.npy"

    def load(self, paths: Sequence[str | os.PathLike]) -> FeatureSet:
        """Features of every readable file in ``paths``, extracting those not cached yet."""
        result = FeatureSet()
        entries: dict[Path, Path] = {}
        for path in map(Path, dict.fromkeys(paths)):
            try:
                entries[path] = self.entry(file_digest(path))
            except OSError as e:
                result.unreadable.append(Unreadable(str(path), e.strerror or type(e).__name__))
        missing = {entry: path for path, entry in entries.items() if not entry.is_file()}
        failed = dict(self._extract(missing))
        result.extracted = len(missing) - len(failed)
        for path, entry in entries.items():
            reason = failed.get(entry)
            if reason is None:
                try:
                    result.features[path] = np.load(entry)
                    continue
                except (OSError, ValueError, EOFError):  # a damaged cache entry: extract the file again
                    reason = extract_to(str(path), str(entry), self.trim, self.kind)
                    if reason is None:
                        result.features[path] = np.load(entry)
                        continue
            result.unreadable.append(Unreadable(str(path), reason))
        for u in result.unreadable:
            log.warning("%s: %s (skipped)", u.path, u.reason)
        if result.unreadable:
            log.warning("%d unreadable files skipped", len(result.unreadable))
        return result

    def _extract(self, missing: dict[Path, Path]):
        """Extract ``{entry: path}``; yields ``(entry, reason)`` for each file that could not be read."""
        jobs = [(str(path), str(entry), self.trim, self.kind) for entry, path in missing.items()]
        bar = tqdm(total=len(jobs), desc="extracting features", unit="file", disable=not self.progress or not jobs)
        with bar:
            if self.workers == 1 or len(jobs) < POOL_MIN_FILES:
                with _one_torch_thread():
                    yield from self._report(jobs, (extract_to(*job) for job in jobs), bar)
                return
            context = multiprocessing.get_context("spawn")  # forking a process that runs torch threads can hang
            with ProcessPoolExecutor(
                self.workers, mp_context=context, initializer=torch.set_num_threads, initargs=(1,)
            ) as pool:
                outcomes = pool.map(extract_to, *zip(*jobs, strict=True), chunksize=4)
                yield from self._report(jobs, outcomes, bar)

    @staticmethod
    def _report(jobs, outcomes, bar):
        for (_, entry, *_), reason in zip(jobs, outcomes, strict=True):
            bar.update()
            if reason is not None:
                yield Path(entry), reason


@contextlib.contextmanager
def _one_torch_thread():
    """One intra-op thread while featurising, as in the workers: an utterance's tensors are small, and on a busy
    machine the threads' synchronisation made extraction 25-50 times slower than one thread."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def extract_to(path: str, entry: str, trim: bool = False, kind: str = "logmel") -> str | None:
    """Decode ``path`` (cut to its speech with ``trim``), write its ``kind`` of features to ``entry`` atomically;
    the reason if it cannot be read."""
    try:
        feats = Preprocessing.of_kind(kind, trim=trim).file_features([load_audio(path)])[0]
    except AudioError as e:
        return e.reason
    target = Path(entry)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f"{target.stem}.{os.getpid()}.tmp.npy")
    np.save(tmp, feats)
    os.replace(tmp, target)
    return None
