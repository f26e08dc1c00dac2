"""Issue #7, crashes: a process killed with SIGKILL in the middle of an atomic write leaves the target as it was.

The writer is a real second process writing through :func:`crossalign.utils.atomic.atomic_open` (what results,
caches, run files and manifests use); it is killed after its first chunk reached the disk. The target keeps its old
content (or stays absent), and the only trace is a hidden ``.<name>.*.tmp`` sibling that no reader looks for.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from crossalign.errors import DataFormatError
from crossalign.evaluation.results import load_results
from crossalign.utils.atomic import atomic_write_json

SRC = Path(__file__).resolve().parents[3] / "src"

WRITER = """\
import os, sys, time
from crossalign.utils.atomic import atomic_open
with atomic_open(sys.argv[1], "w") as fh:
    fh.write('{"model": {"spec": "half"},\\n')
    fh.flush()
    os.fsync(fh.fileno())
    open(sys.argv[2], "w").close()  # tell the parent the first chunk is on disk
    time.sleep(60)
    fh.write('"data": {}, "config": {}, "tasks": []}\\n')
"""


def _kill_mid_write(target: Path, tmp_path: Path) -> None:
    ready = tmp_path / "ready"
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(target), str(ready)], env={**os.environ, "PYTHONPATH": str(SRC)}
    )
    deadline = time.monotonic() + 120
    while not ready.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    assert ready.exists(), "the writer never started"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL


def test_sigkill_mid_write_leaves_no_target(tmp_path: Path) -> None:
    target = tmp_path / "run" / "results.json"
    _kill_mid_write(target, tmp_path)
    assert not target.exists()
    [leftover] = list(target.parent.iterdir())
    assert leftover.name.startswith(".results.json.") and leftover.name.endswith(".tmp")
    with pytest.raises(DataFormatError, match="results file not found"):
        load_results(target.parent)


def test_sigkill_mid_rewrite_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "run" / "results.json"
    old = {"model": {"spec": "old"}, "data": {}, "config": {}, "tasks": [], "schema_version": "1.0"}
    atomic_write_json(target, old)
    _kill_mid_write(target, tmp_path)
    assert json.loads(target.read_text()) == old
    assert load_results(target).model == {"spec": "old"}
