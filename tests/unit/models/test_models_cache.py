"""Building a cached model directory: once, atomically, under a lock; stale or half-built directories never reused."""

from __future__ import annotations

import json
import multiprocessing
import os
import time
from functools import partial
from pathlib import Path

import pytest

from crossalign.errors import CacheError
from crossalign.models.convert import MANIFEST_NAME, manifest_problem, prepare_directory, read_manifest

EXPECTED = {"name": "fake", "source_sha256": "ab" * 32, "format_version": 1}


def fake_build(out: Path, *, counter: str, delay: float = 0.0, fail: bool = False) -> dict:
    """A stand-in for a conversion: slow, writes a few files, records each run in ``counter``."""
    with open(counter, "a", encoding="utf-8") as fh:
        fh.write(f"{os.getpid()}\n")
    (out / "sub").mkdir()
    (out / "weights.bin").write_bytes(os.urandom(4096))
    time.sleep(delay)
    (out / "sub" / "config.json").write_text("{}")
    if fail:
        raise RuntimeError("builder crashed")
    return {"seconds": delay}


def runs(counter: Path) -> int:
    return len(counter.read_text().splitlines()) if counter.exists() else 0


def _worker(target: str, counter: str, delay: float, barrier, results) -> None:
    barrier.wait()  # both processes call prepare_directory at the same moment
    path = prepare_directory(Path(target), partial(fake_build, counter=counter, delay=delay), expected=EXPECTED)
    results.put(str(path))


def test_builds_once_then_reuses(tmp_path):
    target, counter = tmp_path / "models" / "fake-abab", tmp_path / "runs.txt"
    build = partial(fake_build, counter=str(counter))
    assert prepare_directory(target, build, expected=EXPECTED) == target
    assert prepare_directory(target, build, expected=EXPECTED) == target
    assert runs(counter) == 1
    manifest = read_manifest(target)
    assert manifest["complete"] is True and manifest["source_sha256"] == "ab" * 32
    assert manifest["files"] == {"sub/config.json": 2, "weights.bin": 4096}
    assert len(manifest["fingerprint"]) == 64
    assert manifest_problem(target, EXPECTED) is None
    assert not list(target.parent.glob(".*.tmp"))  # no temporary directory left behind
    prepare_directory(target, build, expected=EXPECTED, force=True)
    assert runs(counter) == 2


def test_stale_or_damaged_directories_are_rebuilt(tmp_path):
    target, counter = tmp_path / "m", tmp_path / "runs.txt"
    build = partial(fake_build, counter=str(counter))
    prepare_directory(target, build, expected=EXPECTED)
    # another source file -> stale
    assert "stale" in manifest_problem(target, {**EXPECTED, "source_sha256": "cd" * 32})
    prepare_directory(target, build, expected={**EXPECTED, "source_sha256": "cd" * 32})
    assert runs(counter) == 2 and read_manifest(target)["source_sha256"] == "cd" * 32
    # a file that changed size -> damaged
    (target / "weights.bin").write_bytes(b"short")
    assert "bytes" in manifest_problem(target, {**EXPECTED, "source_sha256": "cd" * 32})
    # no manifest at all (e.g. a directory copied by hand, or an older crossalign) -> never used
    (target / MANIFEST_NAME).unlink()
    assert "manifest" in manifest_problem(target, EXPECTED)
    prepare_directory(target, build, expected=EXPECTED)
    assert runs(counter) == 3 and manifest_problem(target, EXPECTED) is None


def test_manifest_not_marked_complete_is_rejected(tmp_path):
    target = tmp_path / "m"
    prepare_directory(target, partial(fake_build, counter=str(tmp_path / "c")), expected=EXPECTED)
    manifest = read_manifest(target)
    manifest["complete"] = False
    (target / MANIFEST_NAME).write_text(json.dumps(manifest))
    assert "complete" in manifest_problem(target, EXPECTED)
    (target / MANIFEST_NAME).write_text("{ not json")
    assert "readable" in manifest_problem(target, EXPECTED)


def test_failed_build_leaves_nothing(tmp_path):
    target, counter = tmp_path / "m", tmp_path / "runs.txt"
    with pytest.raises(RuntimeError, match="crashed"):
        prepare_directory(target, partial(fake_build, counter=str(counter), fail=True), expected=EXPECTED)
    assert not target.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".m.")] == []


def test_leftover_temporaries_of_a_killed_build_are_removed(tmp_path):
    target = tmp_path / "m"
    leftover = tmp_path / ".m.abc123.tmp"
    leftover.mkdir()
    (leftover / "weights.bin").write_bytes(b"half")
    prepare_directory(target, partial(fake_build, counter=str(tmp_path / "c")), expected=EXPECTED)
    assert not leftover.exists()
    assert manifest_problem(target, EXPECTED) is None


def test_two_processes_at_once_build_one_valid_directory(tmp_path):
    target, counter = tmp_path / "models" / "fake", tmp_path / "runs.txt"
    ctx = multiprocessing.get_context("spawn")
    barrier, queue = ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(str(target), str(counter), 1.0, barrier, queue)) for _ in range(2)]
    for p in procs:
        p.start()
    results = [queue.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    assert results == [str(target), str(target)]
    assert runs(counter) == 1  # the second process waited for the lock and reused the build
    assert manifest_problem(target, EXPECTED) is None
    assert sorted(p.name for p in target.parent.iterdir()) == ["fake", "fake.lock"]


def test_unwritable_cache_dir(tmp_path):
    from crossalign.models.loading import prepare_model

    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(CacheError) as info:
        prepare_model("e5-small-q4", cache_dir=blocker / "cache")
    assert "cannot write" in str(info.value) and "fix:" in str(info.value)
