"""Shared fixtures: where the real and the unseen (test-only) corpora are, a small random-weight model bundle,
PyTorch's thread count."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch

from speech_emotion.bundle import DEFAULT_STATS, ModelBundle, save_bundle
from speech_emotion.model import ACRNN, ACRNNConfig
from speech_emotion.normalization import NormStats
from speech_emotion.preprocessing import Preprocessing

REPO_ROOT = Path(__file__).resolve().parents[1]
LABELS = ["angry", "happy", "sad", "neutral"]


def corpora_root() -> Path:
    """``$SPEECH_EMOTION_CORPORA``, else ``../shared/corpora`` beside the repository (as in CI)."""
    return Path(os.environ.get("SPEECH_EMOTION_CORPORA", REPO_ROOT.parent / "shared" / "corpora"))


def unseen_root() -> Path:
    """``$SPEECH_EMOTION_UNSEEN``, else ``../shared/unseen`` beside the repository (the test-only corpora)."""
    return Path(os.environ.get("SPEECH_EMOTION_UNSEEN", REPO_ROOT.parent / "shared" / "unseen"))


def _shared_dir(root: Path, what: str, variable: str) -> Path:
    """``root`` if it has its ``MANIFEST.csv``; else skip with the reason, or fail where CI requires the corpora."""
    if not (root / "MANIFEST.csv").is_file():
        reason = f"{what} not found at {root} (set {variable} or place shared/ beside the repo)"
        if os.environ.get("SPEECH_EMOTION_REQUIRE_CORPORA"):
            pytest.fail(reason)
        pytest.skip(reason)
    return root


@pytest.fixture(scope="session")
def corpora_dir() -> Path:
    return _shared_dir(corpora_root(), "real corpora", "SPEECH_EMOTION_CORPORA")


@pytest.fixture(scope="session")
def unseen_dir() -> Path:
    return _shared_dir(unseen_root(), "unseen (test-only) corpora", "SPEECH_EMOTION_UNSEEN")


def make_test_bundle(
    path: Path, seed: int = 0, config: ACRNNConfig | None = None, preprocessing: Preprocessing | None = None
) -> Path:
    """A small ACRNN with seeded random weights and plausible statistics, saved as a real bundle with
    ``preprocessing`` (default: the reference's)."""
    torch.manual_seed(seed)
    model = ACRNN(config or ACRNNConfig.small(len(LABELS))).eval()
    rng = np.random.default_rng(seed)
    stats = NormStats(
        mean=rng.normal(-8, 1, (40, 3)).astype(np.float32) * np.array([1, 0, 0], np.float32),
        std=rng.uniform(1, 2, (40, 3)).astype(np.float32),
        frames=1000,
    )
    bundle = ModelBundle(
        config=model.config,
        labels=LABELS,
        state_dict=model.state_dict(),
        normalization={DEFAULT_STATS: stats, "testcorpus": stats},
        model_id="test-small",
        metadata={"purpose": "tests"},
        preprocessing=preprocessing or Preprocessing(),
    )
    save_bundle(bundle, path)
    return path


@pytest.fixture(scope="session")
def tiny_bundle(tmp_path_factory) -> Path:
    return make_test_bundle(tmp_path_factory.mktemp("bundle") / "tiny.pt")


@pytest.fixture
def restore_threads():
    """For tests that run commands with ``--threads`` in this process: PyTorch's thread count is global."""
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def postgres(tmp_path_factory):
    """A throwaway PostgreSQL cluster (tests/postgres_server.py); skipped with the reason when the server is not
    installed, a failure in CI (``$SPEECH_EMOTION_REQUIRE_POSTGRES``)."""
    from postgres_server import cluster, server_binaries

    binaries = server_binaries()
    if binaries is None:
        reason = "PostgreSQL's initdb and pg_ctl not found (scripts/setup.sh test installs them as root on Debian)"
        if os.environ.get("SPEECH_EMOTION_REQUIRE_POSTGRES"):
            pytest.fail(reason)
        pytest.skip(reason)
    folder = Path(tempfile.mkdtemp(prefix="se-pg-"))  # short: a Unix socket path has at most 107 characters
    with cluster(folder, binaries) as c:
        yield c
