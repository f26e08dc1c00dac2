"""Issue #7, concurrency: two processes persisting embeddings of one model into one cache at the same time.

Both succeed; their shards do not collide (random shard ids, each file written atomically), and afterwards a third
cache finds every vector on disk, identical to what the writers computed, without running the model.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from evaluation_testkit import FakeModel

from crossalign.models.embedding_cache import EmbeddingCache

SRC = Path(__file__).resolve().parents[3] / "src"
HERE = Path(__file__).resolve().parent
TEXTS = [f"text number {i}" for i in range(40)]

WORKER = """\
import hashlib, sys, time
sys.path.insert(0, {here!r})
import numpy as np
from evaluation_testkit import FakeModel
from crossalign.models.embedding_cache import EmbeddingCache

texts = [f"text number {{i}}" for i in range(40)]
cache = EmbeddingCache(FakeModel(), fingerprint="fake-fp", persist=True, cache_dir=sys.argv[1], batch_size=4)
parts = []
for start in range(0, 40, 5):  # eight shards each, interleaved with the other process
    parts.append(cache.encode(texts[start : start + 5], "passage"))
    time.sleep(0.02)
vecs = np.concatenate(parts)
print(hashlib.sha256(vecs.tobytes()).hexdigest(), cache.stats.shards_written, flush=True)
"""


def test_two_processes_persisting_one_namespace(tmp_path: Path) -> None:
    script = WORKER.format(here=str(HERE))
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(tmp_path)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1][-2000:] for o in outs]
    digests = {o[0].split()[0] for o in outs}
    assert len(digests) == 1 and [int(o[0].split()[1]) for o in outs] == [8, 8]

    [ns_dir] = list((tmp_path / "embeddings").iterdir())
    assert len(list(ns_dir.glob("*.keys.npy"))) == len(list(ns_dir.glob("*[0-9a-f].npy"))) == 16
    assert not list(ns_dir.glob("*.tmp")) and (ns_dir / "meta.json").is_file()

    model = FakeModel()
    reader = EmbeddingCache(model, fingerprint="fake-fp", persist=True, cache_dir=tmp_path)
    vecs = reader.encode(TEXTS, "passage")
    assert model.encoded_texts == [] and reader.stats.disk_hits == 40
    assert hashlib.sha256(np.ascontiguousarray(vecs).tobytes()).hexdigest() in digests
