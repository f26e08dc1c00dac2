"""Fixtures of the evaluation tests: a tiny real sentence-transformers model (saved once per session)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import torch
from evaluation_testkit import save_tiny_st_model

# Tiny models run much faster on one thread on a shared 2-core machine.
torch.set_num_threads(1)


@pytest.fixture(scope="session")
def tiny_st_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny sentence-transformers model directory with e5-style prompts."""
    logging.getLogger("transformers").setLevel(logging.ERROR)
    return save_tiny_st_model(tmp_path_factory.mktemp("tiny_st") / "model")


@pytest.fixture
def tiny_st_model(tiny_st_dir: Path):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(tiny_st_dir), device="cpu")
