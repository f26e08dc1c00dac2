"""Where crossalign keeps what it builds once and reuses: converted models, corpora, embeddings.

The root is, in order: the ``cache_dir`` argument, ``$CROSSALIGN_CACHE``, ``$XDG_CACHE_HOME/crossalign``,
``~/.cache/crossalign``. Sub-folders: ``models/``, ``corpora/``, ``embeddings/``.
"""

from __future__ import annotations

import os
from pathlib import Path

from crossalign.utils.atomic import ensure_writable_dir


def cache_root(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """The cache root (not created)."""
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    env = os.environ.get("CROSSALIGN_CACHE")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "crossalign"


def cache_subdir(name: str, cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """``<cache root>/<name>``, created and checked writable (raises :class:`~crossalign.errors.CacheError`)."""
    return ensure_writable_dir(cache_root(cache_dir) / name, what=f"cache directory ({name})")
