"""Shared fixtures: where the real corpora are; PyTorch's thread count put back after a test."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

REPO_ROOT = Path(__file__).resolve().parents[1]


def corpora_root() -> Path:
    """``$SPEECH_EMOTION_CORPORA``, else ``../shared/corpora`` beside the repository (as in CI)."""
    return Path(os.environ.get("SPEECH_EMOTION_CORPORA", REPO_ROOT.parent / "shared" / "corpora"))


@pytest.fixture(scope="session")
def corpora_dir() -> Path:
    root = corpora_root()
    if not (root / "MANIFEST.csv").is_file():
        reason = f"real corpora not found at {root} (set SPEECH_EMOTION_CORPORA or place shared/ beside the repo)"
        if os.environ.get("SPEECH_EMOTION_REQUIRE_CORPORA"):
            pytest.fail(reason)
        pytest.skip(reason)
    return root


@pytest.fixture
def restore_threads():
    """For tests that run commands with ``--threads`` in this process: PyTorch's thread count is global."""
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)
