"""Issue #7, concurrency and crashes of the corpus parse cache.

Two processes opening the same help tree with the same cache at once: both succeed with the same tuples, each page is
parsed once in all (the second process waits for the lock and reads the first one's file), and the cache file is
complete. A process killed (SIGKILL) while it writes the cache leaves no file a later run takes for complete.
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
from libreoffice_fixtures import write_help_tree

from crossalign.data.libreoffice import fetch
from crossalign.data.libreoffice.corpus import LibreOfficeCorpus, _read_parse_cache, parse_cache_path
from crossalign.errors import CorruptFileError

SRC = Path(__file__).resolve().parents[3] / "src"
HERE = Path(__file__).resolve().parent

WORKER = """\
import json, sys, time
sys.path.insert(0, {here!r})
from crossalign.data.libreoffice import fetch
fetch.DPKG_QUERY = "crossalign-test-no-dpkg-query"
import crossalign.data.libreoffice.corpus as corpus
from crossalign.data.libreoffice.parse import parse_file as real_parse_file

def slow_parse(path, root):
    with open({log!r}, "a") as fh:
        fh.write(str(path) + "\\n")
    time.sleep(float(sys.argv[3]))
    return real_parse_file(path, root)

corpus.parse_file = slow_parse
lo = corpus.LibreOfficeCorpus.open("de", cache_dir=sys.argv[1], help_root=sys.argv[2], workers=1)
print(json.dumps(sorted(t.id for t in lo.parallel("paragraph"))), flush=True)
"""


@pytest.fixture
def help_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(fetch, "DPKG_QUERY", "crossalign-test-no-dpkg-query")
    return write_help_tree(tmp_path / "help", folders=("en-US", "de"))


def _spawn(tmp_path: Path, help_root: Path, cache: Path, delay: float) -> subprocess.Popen[str]:
    script = WORKER.format(here=str(HERE), log=str(tmp_path / "parsed.log"))
    env = {**os.environ, "PYTHONPATH": str(SRC), "CROSSALIGN_NO_PROGRESS": "1"}
    return subprocess.Popen(
        [sys.executable, "-c", script, str(cache), str(help_root), str(delay)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_processes_preparing_one_parse_cache(tmp_path: Path, help_root: Path) -> None:
    cache = tmp_path / "cache"
    procs = [_spawn(tmp_path, help_root, cache, 0.3) for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1][-2000:] for o in outs]
    ids = [json.loads(o[0]) for o in outs]
    assert ids[0] == ids[1] and len(ids[0]) > 0
    parsed = (tmp_path / "parsed.log").read_text().splitlines()
    assert len(parsed) == len(set(parsed)) == 6  # 3 pages x (en-US, de), each parsed once by one of the two

    # the cache is complete and valid: a third open parses nothing and gives the same tuples
    here = LibreOfficeCorpus.open("de", cache_dir=cache, help_root=help_root, workers=1)
    assert sorted(t.id for t in here.parallel("paragraph")) == ids[0]
    for tree in here.trees.values():
        assert len(_read_parse_cache(parse_cache_path(tree, cache))) == 3
    leftovers = [p.name for p in cache.rglob("*.tmp")]
    assert leftovers == []


def test_sigkill_while_parsing_leaves_no_cache_file(tmp_path: Path, help_root: Path) -> None:
    cache = tmp_path / "cache"
    proc = _spawn(tmp_path, help_root, cache, 2.0)
    log = tmp_path / "parsed.log"
    deadline = time.monotonic() + 120
    while not (log.exists() and log.read_text().strip()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert log.exists(), "the worker never started parsing"
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    # nothing a later run could take for a finished cache
    assert not any(p.name.endswith(".jsonl") for p in cache.rglob("*"))
    # and the next run does the work and succeeds
    log.unlink()
    lo = LibreOfficeCorpus.open("de", cache_dir=cache, help_root=help_root, workers=1)
    assert len(lo.parallel("paragraph")) > 0
    for tree in lo.trees.values():
        assert parse_cache_path(tree, cache).is_file()


def test_parse_cache_cut_at_a_line_boundary_is_not_taken_for_complete(tmp_path: Path, help_root: Path) -> None:
    cache = tmp_path / "cache"
    first = LibreOfficeCorpus.open("de", cache_dir=cache, help_root=help_root, workers=1)
    path = parse_cache_path(first.trees["de"], cache)
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    assert json.loads(lines[0])["n_pages"] == 3 == len(lines) - 1
    path.write_text("".join(lines[:-1]), encoding="utf-8")  # every line valid JSON, one page missing
    with pytest.raises(CorruptFileError, match=r"parse cache is incomplete \(2 of 3 pages\)"):
        _read_parse_cache(path)
    again = LibreOfficeCorpus.open("de", cache_dir=cache, help_root=help_root, workers=1)
    assert len(again.parallel("paragraph")) == len(first.parallel("paragraph"))
    assert len(path.read_text(encoding="utf-8").splitlines()) == 4  # reparsed and rewritten whole
