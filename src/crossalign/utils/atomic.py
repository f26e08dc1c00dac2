"""Atomic writes and inter-process locks: a crash never leaves a file a later run mistakes for complete.

Everything crossalign persists (results, caches, converted models, manifests) goes through these helpers:
the content is written to a temporary sibling, flushed and fsynced, then renamed over the target (``os.replace`` is
atomic on POSIX within one filesystem). Directories are built in a temporary sibling and renamed into place.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from filelock import FileLock

from crossalign.errors import CacheError


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def ensure_writable_dir(path: str | os.PathLike[str], *, what: str = "directory") -> Path:
    """Create ``path`` (and parents) and check it is writable, or raise :class:`CacheError` saying how to fix it."""
    p = Path(path).expanduser()
    try:
        p.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=p, prefix=".write-test-", delete=True):
            pass
    except OSError as exc:
        raise CacheError(
            f"cannot write to {what} {p}: {exc.strerror or exc}",
            hint="choose a writable location (set CROSSALIGN_CACHE, or pass --cache-dir / --output) "
            "or fix its permissions",
        ) from exc
    return p


#: Free space below which an output location is refused before any work starts (a full disk).
MIN_FREE_BYTES = 16 * 2**20


def check_output_location(path: str | os.PathLike[str], *, what: str = "--output") -> Path:
    """Check, without creating anything, that a directory can be created or written at ``path``.

    Called before the work starts, so a bad ``--output`` fails in a second rather than after training or encoding.

    Raises:
        ConfigError: ``path`` (or a parent of it) is a file, the nearest existing directory is not writable, or its
            filesystem has less than :data:`MIN_FREE_BYTES` free.
    """
    from crossalign.errors import ConfigError

    p = Path(path).expanduser()
    if p.exists() and not p.is_dir():
        raise ConfigError(f"{what} {p} is a file, not a directory.", hint=f"choose a directory for {what}")
    existing = p
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise ConfigError(
            f"{what} {p} is under {existing}, which is a file, not a directory.",
            hint=f"choose a directory for {what}",
        )
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(
            f"{what} {p}: cannot write to {existing} (permission denied).",
            hint=f"choose a writable location for {what}, or fix the directory's permissions",
        )
    free = shutil.disk_usage(existing).free
    if free < MIN_FREE_BYTES:
        raise ConfigError(
            f"{what} {p}: the disk holding {existing} is full ({free / 2**20:.1f} MiB free).",
            hint=f"free some space, or choose another location for {what}",
        )
    return p


def current_umask() -> int:
    """The process's umask (read by setting it and restoring it at once)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike[str], mode: str = "w", encoding: str | None = "utf-8") -> Iterator[IO[Any]]:
    """Open a temporary sibling of ``path`` for writing; on success fsync and rename it over ``path``.

    On an exception the temporary file is removed and ``path`` is left as it was. The file gets the permissions an
    ordinary ``open`` would give it under the umask (the temporary file starts private, 0600).

    Example:
        >>> with atomic_open("results.json") as fh:  # doctest: +SKIP
        ...     fh.write("{}")
    """
    if "r" in mode or "a" in mode:
        raise ValueError(f"atomic_open is for writing whole files, not mode {mode!r}")
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    binary = "b" in mode
    try:
        with os.fdopen(fd, mode, encoding=None if binary else encoding) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~current_umask())
        os.replace(tmp, target)
        _fsync_dir(target.parent)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` atomically."""
    with atomic_open(path, "w") as fh:
        fh.write(text)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_open(path, "wb", encoding=None) as fh:
        fh.write(data)


def atomic_write_json(path: str | os.PathLike[str], obj: Any, *, indent: int = 2) -> None:
    """Serialise ``obj`` as JSON (UTF-8, sorted keys off, NaN rejected) and write it atomically."""
    text = json.dumps(obj, indent=indent, ensure_ascii=False, allow_nan=False, default=_json_default)
    atomic_write_text(path, text + "\n")


def read_json_object(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The JSON object in ``path``; None when the file is missing, unreadable, not JSON or not an object."""
    try:
        obj = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return obj if isinstance(obj, dict) else None


def _json_default(obj: Any) -> Any:
    import numpy as np

    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


@contextlib.contextmanager
def atomic_directory(path: str | os.PathLike[str], *, overwrite: bool = False) -> Iterator[Path]:
    """Build a directory in a temporary sibling and rename it to ``path`` when the block succeeds.

    If ``path`` exists and ``overwrite`` is False, :class:`FileExistsError` is raised before anything is built.
    With ``overwrite`` the old directory is moved aside and deleted only after the new one is in place. The directory
    gets the permissions an ordinary ``mkdir`` would give it under the umask (the temporary one starts private, 0700).
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target} already exists")
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"))
    try:
        yield tmp
        tmp.chmod(0o777 & ~current_umask())
        if target.exists():
            old = target.with_name(f".{target.name}.old-{os.getpid()}")
            os.replace(target, old)
            os.replace(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, target)
        _fsync_dir(target.parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def file_lock(path: str | os.PathLike[str], timeout: float = -1) -> FileLock:
    """An inter-process lock on ``<path>.lock`` (use it to guard building a shared cache entry)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    return FileLock(str(p) + ".lock", timeout=timeout)
