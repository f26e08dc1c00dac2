"""exact_topk / gold_ranks / faiss_topk against brute force, with exact ties across chunk boundaries."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from crossalign.errors import DataFormatError
from crossalign.search import exact_topk, faiss_topk, gold_rank_counts, gold_ranks, trec_order_key


def brute_order(q: np.ndarray, d: np.ndarray, key: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Full ranking by (score desc, key desc) in float64 — exact for the small-integer data used here."""
    s = q.astype(np.float64) @ d.astype(np.float64).T
    key = np.arange(d.shape[0]) if key is None else np.asarray(key)
    order = np.lexsort((-np.broadcast_to(key, s.shape), -s), axis=1)
    return np.take_along_axis(s, order, 1), order


def int_data(rng: np.random.Generator, nq: int, nd: int, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """Small integer vectors: every score is exact in float32 and ties are everywhere."""
    q = rng.integers(-2, 3, (nq, dim)).astype(np.float32)
    d = rng.integers(-2, 3, (nd, dim)).astype(np.float32)
    return q, d


@pytest.mark.parametrize("seed", range(8))
def test_exact_topk_equals_brute_force_with_ties_and_tiny_chunks(seed: int) -> None:
    rng = np.random.default_rng(seed)
    nq, nd, dim = int(rng.integers(1, 30)), int(rng.integers(1, 200)), int(rng.integers(1, 5))
    q, d = int_data(rng, nq, nd, dim)
    key = rng.permutation(nd) * 3 - 5  # arbitrary unique integers, negative ones included
    k = int(rng.integers(1, nd + 3))
    qc, dc = int(rng.integers(1, 8)), int(rng.integers(1, 40))
    scores, idx = exact_topk(q, d, k, query_chunk=qc, doc_chunk=dc, doc_order_key=key)
    ref_s, ref_i = brute_order(q, d, key)
    kk = min(k, nd)
    assert idx.shape == (nq, kk) and scores.shape == (nq, kk)
    np.testing.assert_array_equal(idx, ref_i[:, :kk])
    np.testing.assert_array_equal(scores.astype(np.float64), ref_s[:, :kk])


def test_all_scores_tied_puts_highest_key_first_across_chunks() -> None:
    q = np.ones((3, 4), dtype=np.float32)
    d = np.ones((10, 4), dtype=np.float32)
    _, idx = exact_topk(q, d, 4, query_chunk=2, doc_chunk=3)
    assert idx.tolist() == [[9, 8, 7, 6]] * 3
    key = np.array([5, 9, 0, 1, 2, 3, 4, 6, 7, 8])
    _, idx = exact_topk(q, d, 3, query_chunk=1, doc_chunk=4, doc_order_key=key)
    assert idx.tolist() == [[1, 9, 8]] * 3


def test_negative_zero_ties_with_positive_zero() -> None:
    q = np.array([[1.0, 0.0]], dtype=np.float32)
    d = np.array([[-0.0, 1.0], [0.0, 1.0], [-1.0, 0.0]], dtype=np.float32)
    s, idx = exact_topk(q, d, 2, doc_chunk=1)
    assert idx.tolist() == [[1, 0]]  # both score 0 (one of them -0.0): the higher index first
    assert s.tolist() == [[0.0, 0.0]]


def test_trec_order_key_reproduces_string_id_descending() -> None:
    ids = ["d10", "d9", "a", "d1", "Z", "é"]
    key = trec_order_key(ids)
    assert key.tolist() == [3, 4, 1, 2, 0, 5]  # sorted: Z a d1 d10 d9 é
    q = np.ones((1, 2), dtype=np.float32)
    d = np.ones((6, 2), dtype=np.float32)
    _, idx = exact_topk(q, d, 6, doc_order_key=key)
    assert [ids[i] for i in idx[0]] == sorted(ids, reverse=True)
    with pytest.raises(DataFormatError, match="duplicate"):
        trec_order_key(["a", "b", "a"])


@pytest.mark.parametrize("seed", range(6))
def test_gold_ranks_equal_brute_force(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    nq, nd, dim = int(rng.integers(1, 25)), int(rng.integers(1, 150)), int(rng.integers(1, 5))
    q, d = int_data(rng, nq, nd, dim)
    key = rng.permutation(nd)
    gold = np.stack([rng.integers(0, nq, 60), rng.integers(0, nd, 60)], axis=1)
    qc, dc = int(rng.integers(1, 8)), int(rng.integers(1, 30))
    ranks = gold_ranks(q, d, gold, query_chunk=qc, doc_chunk=dc, doc_order_key=key)
    _, order = brute_order(q, d, key)
    pos = np.argsort(order, axis=1)  # pos[q, doc] = 0-based position
    np.testing.assert_array_equal(ranks, pos[gold[:, 0], gold[:, 1]] + 1)
    groups = rng.integers(0, 3, nd)
    counts = gold_rank_counts(
        q, d, gold, doc_groups=groups, n_groups=3, query_chunk=qc, doc_chunk=dc, doc_order_key=key
    )
    np.testing.assert_array_equal(counts.sum(axis=1) + 1, ranks)
    for p, (qi, di) in enumerate(gold):
        above = order[qi, : pos[qi, di]]
        np.testing.assert_array_equal(counts[p], np.bincount(groups[above], minlength=3))


def test_gold_ranks_match_exact_topk_positions_on_float_data() -> None:
    """Same tile grid: the rank reported equals the position in the full exact_topk list, bit for bit."""
    rng = np.random.default_rng(7)
    q = rng.standard_normal((37, 24)).astype(np.float32)
    d = rng.standard_normal((301, 24)).astype(np.float32)
    d[150] = d[3]  # duplicate documents: exact ties in different chunks
    d[299] = d[3]
    _, idx = exact_topk(q, d, 301, query_chunk=16, doc_chunk=64)
    pos = np.argsort(idx, axis=1)
    gold = np.array([(i, j) for i in range(37) for j in (3, 150, 299, i)])
    ranks = gold_ranks(q, d, gold, query_chunk=16, doc_chunk=64)
    np.testing.assert_array_equal(ranks, pos[gold[:, 0], gold[:, 1]] + 1)
    # the three duplicates are adjacent, higher index first
    for i in range(37):
        r = ranks[gold[:, 0] == i][:3]
        assert r[2] + 1 == r[1] == r[0] - 1


def test_gold_ranks_edge_cases() -> None:
    q = np.eye(3, dtype=np.float32)
    d = np.eye(3, dtype=np.float32)
    assert gold_ranks(q, d, []).tolist() == []
    assert gold_ranks(q, d, [(0, 0), (0, 2), (2, 2)]).tolist() == [1, 2, 1]  # doc 2 beats doc 1 on the 0-tie
    with pytest.raises(DataFormatError, match="out of range"):
        gold_ranks(q, d, [(0, 3)])


def test_faiss_agrees_with_exact_topk() -> None:
    pytest.importorskip("faiss")
    rng = np.random.default_rng(3)
    q = rng.standard_normal((50, 32)).astype(np.float32)
    d = rng.standard_normal((2000, 32)).astype(np.float32)
    s1, i1 = exact_topk(q, d, 10, query_chunk=16, doc_chunk=300)
    s2, i2 = faiss_topk(q, d, 10)
    np.testing.assert_array_equal(i1, i2)  # random data: no ties at these depths
    np.testing.assert_allclose(s1, s2, rtol=1e-5, atol=1e-5)
    # with ties faiss may pick another member of a tie at the boundary, but the order inside is the tie rule
    qt, dt = int_data(rng, 5, 40, 2)
    s3, i3 = faiss_topk(qt, dt, 40)
    ref_s, ref_i = brute_order(qt, dt)
    np.testing.assert_array_equal(i3, ref_i)
    np.testing.assert_array_equal(s3, ref_s)


def test_input_validation() -> None:
    q = np.ones((2, 3), dtype=np.float32)
    with pytest.raises(DataFormatError, match="dimension"):
        exact_topk(q, np.ones((2, 4)), 1)
    with pytest.raises(DataFormatError, match="NaN"):
        exact_topk(np.array([[np.nan, 0, 0]]), q, 1)
    with pytest.raises(DataFormatError, match="duplicate"):
        exact_topk(q, q, 1, doc_order_key=[1, 1])
    with pytest.raises(ValueError, match="k must be"):
        exact_topk(q, q, 0)
    with pytest.raises(DataFormatError, match="empty"):
        exact_topk(q, np.zeros((0, 3)), 1)


MEMORY_SCRIPT = """
import resource, sys
import numpy as np
from crossalign.search import exact_topk
rng = np.random.default_rng(0)
q = rng.standard_normal((20_000, 32)).astype(np.float32)
d = rng.standard_normal((50_000, 32)).astype(np.float32)
exact_topk(q[:64], d[:64], 10)  # warm up torch / MKL so their one-off allocations are in the baseline
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
s, i = exact_topk(q, d, 10, query_chunk=1024, doc_chunk=8192)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
ref = np.argsort(-(q[:20].astype(np.float64) @ d.T.astype(np.float64)), axis=1)[:, :10]
assert s.shape == (20_000, 10) and (i[:20] == ref).all()
print((after - before) * 1024)
"""


def test_chunked_search_memory_is_bounded() -> None:
    """20k queries × 50k docs × 32: the full score matrix would be 4 GB; the chunked search's peak RSS grows by a
    few tiles (the bound does not depend on the number of queries, which only sets the run time)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    out = subprocess.run(
        [sys.executable, "-c", MEMORY_SCRIPT], capture_output=True, text=True, env=env, timeout=300, check=False
    )
    assert out.returncode == 0, out.stderr
    grown = int(out.stdout.split()[-1])
    # one 1024×8192 float32 tile is 32 MiB, the results 6 MiB; allow generous slack — still 20× below 4 GB
    assert grown < 200 * 2**20, f"peak RSS grew by {grown / 2**20:.0f} MiB"


def test_input_check_memory_does_not_grow_with_the_pool() -> None:
    """The NaN/inf check runs block by block: no ``n × dim`` boolean temporary (benchmark 4 found one: 73 MiB of
    extra peak memory at 200k × 384 documents), and a bad value in the last block is still found."""
    import tracemalloc

    from crossalign import search

    docs = np.zeros((100_000, 32), dtype=np.float32)
    tracemalloc.start()
    try:
        search._as_matrix(docs, "docs")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < docs.shape[0] * docs.shape[1] // 4, f"validation allocated {peak} bytes"
    docs[-1, -1] = np.inf
    with pytest.raises(DataFormatError, match="NaN or infinite"):
        exact_topk(np.ones((1, 32), dtype=np.float32), docs, 1)
