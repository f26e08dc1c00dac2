from __future__ import annotations

import json
import multiprocessing as mp
from pathlib import Path

import pytest

from crossalign.errors import CacheError
from crossalign.utils.atomic import (
    atomic_directory,
    atomic_open,
    atomic_write_json,
    ensure_writable_dir,
    file_lock,
    read_json_object,
)


def test_atomic_open_replaces_only_on_success(tmp_path: Path) -> None:
    target = tmp_path / "r.json"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_open(target) as fh:
        fh.write("half")
        raise RuntimeError("crash mid-write")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]  # no temp file left behind
    with atomic_open(target) as fh:
        fh.write("new")
    assert target.read_text() == "new"


def test_atomic_write_json_rejects_nan_and_keeps_old(tmp_path: Path) -> None:
    target = tmp_path / "m.json"
    atomic_write_json(target, {"a": 1})
    with pytest.raises(ValueError):
        atomic_write_json(target, {"a": float("nan")})
    assert json.loads(target.read_text()) == {"a": 1}


def test_atomic_directory_is_all_or_nothing(tmp_path: Path) -> None:
    target = tmp_path / "model"
    with pytest.raises(RuntimeError), atomic_directory(target) as tmp:
        (tmp / "a.bin").write_bytes(b"x")
        raise RuntimeError("interrupted")
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []
    with atomic_directory(target) as tmp:
        (tmp / "a.bin").write_bytes(b"x")
    assert (target / "a.bin").read_bytes() == b"x"
    with pytest.raises(FileExistsError), atomic_directory(target):
        pass
    with atomic_directory(target, overwrite=True) as tmp:
        (tmp / "b.bin").write_bytes(b"y")
    assert sorted(p.name for p in target.iterdir()) == ["b.bin"]


def test_unwritable_dir_error_when_path_is_a_file(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(CacheError) as info:
        ensure_writable_dir(blocker / "cache", what="cache directory")
    assert "cache directory" in str(info.value) and "fix:" in str(info.value)


def _append_under_lock(path: str, n: int) -> None:
    for _ in range(n):
        with file_lock(path):
            value = int(Path(path).read_text()) if Path(path).exists() else 0
            atomic_write_json(path, value + 1)


def test_file_lock_serialises_processes(tmp_path: Path) -> None:
    counter = str(tmp_path / "counter.json")
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_append_under_lock, args=(counter, 25)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    assert json.loads(Path(counter).read_text()) == 50


def test_atomic_outputs_get_ordinary_permissions_under_the_umask(tmp_path):
    import os
    import stat

    from crossalign.utils.atomic import atomic_directory, atomic_write_text

    old = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "a.txt", "x")
        with atomic_directory(tmp_path / "d") as d:
            atomic_write_text(d / "inner.json", "{}")
    finally:
        os.umask(old)
    # the temporary file/directory start private (0600/0700); the results must be readable like open()/mkdir() output
    assert stat.S_IMODE((tmp_path / "a.txt").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "d").stat().st_mode) == 0o755
    assert stat.S_IMODE((tmp_path / "d" / "inner.json").stat().st_mode) == 0o644


def test_read_json_object_is_none_for_anything_but_an_object(tmp_path) -> None:
    path = tmp_path / "m.json"
    assert read_json_object(path) is None  # missing
    path.write_text("[1, 2]", encoding="utf-8")
    assert read_json_object(path) is None  # not an object
    path.write_text("{broken", encoding="utf-8")
    assert read_json_object(path) is None  # not JSON
    atomic_write_json(path, {"a": 1})
    assert read_json_object(path) == {"a": 1}
