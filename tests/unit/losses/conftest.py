from __future__ import annotations

import logging
import random

import pytest
import torch
from losses_testkit import load_tiny_model, save_tiny_model

# The tiny models run ~10x faster on one thread: with two threads on a shared 2-core machine, every small op waits
# for the other thread.
torch.set_num_threads(1)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory):
    return save_tiny_model(tmp_path_factory.mktemp("tiny_bert"))


@pytest.fixture
def tiny_model(tiny_model_dir):
    """A fresh tiny model per test (train mode, dropout off, no accumulated gradients)."""
    logging.getLogger("transformers").setLevel(logging.ERROR)
    return load_tiny_model(tiny_model_dir)


@pytest.fixture
def rng() -> random.Random:
    return random.Random(1234)


@pytest.fixture
def generator() -> torch.Generator:
    return torch.Generator().manual_seed(1234)
