"""The run directory of ``crossalign train``: its layout, the lock that keeps one run in it, and ``--overwrite``.

Layout of a run directory::

    checkpoints/checkpoint-N/   Hugging Face checkpoints; complete ones carry .crossalign-complete
    train_log.jsonl             one line per logged step: step, loss, lr, loss components
    train_config.json           the TrainConfig of the run
    train_summary.json          steps, seconds, final loss, trainable parameters (written last)
    model/                      the final sentence-transformers model (renamed into place when complete)
    model-merged/               --merge-base: the fine-tuned model interpolated with its base (merge.json and
                                merge_curve.png: the λ chosen on dev pages, with --merge-base auto)
    .crossalign-train.lock      exists while a run is in progress (.holder next to it names the process)

``--overwrite`` removes exactly these entries (and the temporary siblings crossalign's atomic writes leave after a
crash); it refuses a directory that holds none of them, so a mistyped ``--output`` never deletes a user's files.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import socket
import time
from collections.abc import Iterator
from pathlib import Path

from crossalign.errors import ConfigError
from crossalign.utils.atomic import check_output_location

logger = logging.getLogger(__name__)

LOG_FILE = "train_log.jsonl"
CONFIG_FILE = "train_config.json"
SUMMARY_FILE = "train_summary.json"
MODEL_DIR = "model"
CHECKPOINT_DIR = "checkpoints"
MERGED_DIR = "model-merged"
MERGE_FILE = "merge.json"
MERGE_PLOT = "merge_curve.png"
LOCK_FILE = ".crossalign-train.lock"
HOLDER_FILE = LOCK_FILE + ".holder"

#: What a run writes into its directory.
RUN_ENTRIES: tuple[str, ...] = (
    CHECKPOINT_DIR,
    LOG_FILE,
    CONFIG_FILE,
    SUMMARY_FILE,
    MODEL_DIR,
    MERGED_DIR,
    MERGE_FILE,
    MERGE_PLOT,
)


def _ours(name: str) -> bool:
    """An entry a run wrote: the layout, the lock, or a temporary sibling of a layout entry (``.model.x.tmp``)."""
    if name in RUN_ENTRIES or name in (LOCK_FILE, HOLDER_FILE):
        return True
    return name.startswith(".") and any(name.startswith(f".{entry}.") for entry in RUN_ENTRIES)


def run_entries(out: Path) -> tuple[list[str], list[str]]:
    """``(run entries, other entries)`` of the directory ``out`` (sorted names; the lock files are left out)."""
    if not out.is_dir():
        return [], []
    names = sorted(p.name for p in out.iterdir() if p.name not in (LOCK_FILE, HOLDER_FILE))
    return [n for n in names if _ours(n)], [n for n in names if not _ours(n)]


def check_output_dir(out: Path, *, resume: bool, overwrite: bool) -> None:
    """Refuse an output directory the run cannot use, before anything is loaded, written or deleted.

    Raises:
        ConfigError: ``out`` is a file, under a file, not writable or on a full disk; it holds an earlier run and
            neither ``resume`` nor ``overwrite`` is set; or ``overwrite``/``resume`` is set for a non-empty directory
            that is not a run directory (its entries are listed; nothing is deleted).
    """
    check_output_location(out, what="output directory")
    ours, other = run_entries(out)
    if not ours and not other:
        return
    if (overwrite or resume) and not ours:
        shown = ", ".join(other[:5]) + (", ..." if len(other) > 5 else "")
        raise ConfigError(
            f"output directory {out} is not a crossalign run directory (it holds {shown}); "
            f"{'--overwrite deletes' if overwrite else '--resume continues'} only runs.",
            hint="choose a new or empty --output for this run",
        )
    if not overwrite and not resume:
        raise ConfigError(
            f"output directory {out} is not empty (an earlier run?).",
            hint="add --resume to continue that run from its last checkpoint, --overwrite to delete it and start "
            "over, or choose another --output",
        )


def clear_run(out: Path) -> list[str]:
    """Delete what a run wrote into ``out`` (see the module docstring) and nothing else; returns the names."""
    removed = []
    for path in sorted(out.iterdir()) if out.is_dir() else []:
        if _ours(path.name) and path.name not in (LOCK_FILE, HOLDER_FILE):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
            removed.append(path.name)
    if removed:
        logger.warning("--overwrite: removed the previous run's %s from %s", ", ".join(removed), out)
    return removed


@contextlib.contextmanager
def run_lock(out: str | os.PathLike[str], *, enabled: bool = True) -> Iterator[Path]:
    """Hold the run directory's lock while the block runs, so a second run into ``out`` fails at once.

    ``out`` is created if needed (after :func:`~crossalign.utils.atomic.check_output_location`). The lock file is
    removed on release, and so is a directory created here when the block wrote nothing into it (a run refused for
    bad input leaves nothing behind).

    ``enabled=False`` takes no lock (the ranks other than 0 of a torchrun job share rank 0's).

    Raises:
        ConfigError: Another process holds the lock; the message names its pid, host and start time.
    """
    from filelock import FileLock, Timeout

    path = Path(out).expanduser()
    if not enabled:
        yield path
        return
    check_output_location(path, what="output directory")
    created = not path.exists()
    path.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(path / LOCK_FILE), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise ConfigError(
            f"output directory {path} is in use by another crossalign train run ({_holder(path)}).",
            hint="wait for that run to finish (or stop it), or choose another --output",
        ) from None
    holder = path / HOLDER_FILE
    try:
        info = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        holder.write_text(json.dumps(info) + "\n", encoding="utf-8")
        yield path
    finally:
        with contextlib.suppress(OSError):
            holder.unlink()
        with contextlib.suppress(OSError):  # filelock re-checks the inode it locked, so unlinking is safe
            (path / LOCK_FILE).unlink()
        lock.release()
        if created and not run_entries(path)[0]:  # refused before writing: leave no directory behind
            with contextlib.suppress(OSError):
                path.rmdir()


def _holder(path: Path) -> str:
    try:
        info = json.loads((path / HOLDER_FILE).read_text(encoding="utf-8"))
        return f"pid {info['pid']} on {info['host']}, started {info['started']}"
    except (OSError, ValueError, KeyError, TypeError):
        return f"holder unknown: {path / LOCK_FILE} is locked"
