"""The workflow tests share the evaluation test doubles (tests/unit/evaluation/evaluation_testkit.py) and the
training ones (tests/unit/training/training_testkit.py), and one tiny model per test module."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

for _sub in ("evaluation", "training"):
    _dir = str(Path(__file__).resolve().parents[1] / _sub)
    if _dir not in sys.path:
        sys.path.insert(0, _dir)


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory):
    """A tiny BERT sentence-transformers model saved once per test module."""
    from training_testkit import save_tiny_model

    return save_tiny_model(tmp_path_factory.mktemp("tiny") / "model")
