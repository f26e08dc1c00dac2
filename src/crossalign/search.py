"""Exact top-k search and exact gold ranks by chunked matrix products, with bounded memory.

Scores are inner products ``s(q, d) = q · d`` computed in float32 (cosine when the rows are L2-normalised). Nothing
here ever materialises the ``nq × nd`` score matrix: queries are processed in chunks of ``query_chunk`` rows, documents
in chunks of ``doc_chunk`` rows, and only one ``query_chunk × doc_chunk`` block of scores exists at a time. Memory is
``O(query_chunk · doc_chunk + nq · k)``; a 200k × 200k search at the defaults needs a few hundred MB.

Tie rule (the one trec_eval uses, ``form_res_rels.c``: sort by score descending, then by docno descending):
    documents are ordered by score descending, then by ``doc_order_key`` descending.
``doc_order_key`` is one integer per document, unique. By default it is the document index, so equal scores put the
*higher* index first. To reproduce trec_eval exactly for string document ids, pass :func:`trec_order_key` of the ids
(the rank of each id in code-point order, which equals trec_eval's ``strcmp`` order on UTF-8). Ties are resolved
exactly, also when the tied documents sit in different document chunks.

Exactness across the two functions: a float32 matrix product does not give bit-identical elements for different
operand shapes (a one-row product takes another BLAS path than a block). :func:`exact_topk` and :func:`gold_ranks`
therefore compute every score on the same fixed grid of blocks (``query_chunk × doc_chunk`` tiles starting at
multiples of the chunk sizes), so with equal chunk sizes the rank :func:`gold_ranks` reports is exactly the position
:func:`exact_topk` would put the document at.

Backend: torch's CPU ``mm`` into preallocated, equally shaped tiles (see :class:`_Tiles` for why the shape matters
for exactness) and ``torch.topk`` for the selection (``benchmarks/search.py`` measures both against the alternatives).

This module sits below both :mod:`crossalign.data` (hard-negative mining) and :mod:`crossalign.evaluation`.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import torch

from crossalign.errors import DataFormatError
from crossalign.utils.deps import require

__all__ = [
    "DEFAULT_DOC_CHUNK",
    "DEFAULT_QUERY_CHUNK",
    "exact_topk",
    "faiss_topk",
    "gold_rank_counts",
    "gold_ranks",
    "trec_order_key",
]

#: Rows of queries per block. 1024 × 8192 float32 blocks are 32 MiB; larger blocks are not faster here.
DEFAULT_QUERY_CHUNK = 1024
#: Rows of documents per block.
DEFAULT_DOC_CHUNK = 8192

_SHIFT = 1 << 32


# ----------------------------------------------------------------------------------------------------------- inputs
#: Rows per block of the finite-value check (its boolean temporary is ``rows × dim`` bytes).
_FINITE_CHECK_ROWS = 8192


def _all_finite(arr: np.ndarray) -> bool:
    """``np.isfinite(arr).all()`` block by block: the one-shot form allocates an ``n × dim`` boolean temporary (73 MiB
    for 200k × 384 documents), which would make the search's memory grow with the pool instead of the chunk size."""
    return all(np.isfinite(arr[a : a + _FINITE_CHECK_ROWS]).all() for a in range(0, arr.shape[0], _FINITE_CHECK_ROWS))


def _as_matrix(x: np.ndarray, name: str) -> np.ndarray:
    arr = np.asarray(x)
    if arr.ndim != 2:
        raise DataFormatError(
            f"expected a 2-D array [n, dim], got shape {arr.shape}", field=name, hint="stack embeddings into a matrix"
        )
    if not np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(np.float32)
    arr = np.ascontiguousarray(arr, dtype=np.float32)
    if not _all_finite(arr):
        raise DataFormatError(
            "contains NaN or infinite values", field=name, hint="check the encoder output (fp16 overflow?)"
        )
    return arr


def _check_pair(queries: np.ndarray, docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    q = _as_matrix(queries, "queries")
    d = _as_matrix(docs, "docs")
    if q.shape[1] != d.shape[1]:
        raise DataFormatError(
            f"queries have dimension {q.shape[1]} but docs have {d.shape[1]}",
            field="docs",
            hint="encode queries and documents with the same model",
        )
    if d.shape[0] == 0:
        raise DataFormatError("the document pool is empty", field="docs")
    return q, d


def _check_chunks(query_chunk: int, doc_chunk: int) -> None:
    for name, value in (("query_chunk", query_chunk), ("doc_chunk", doc_chunk)):
        if not isinstance(value, int | np.integer) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")


def _order_rank(doc_order_key: Sequence[int] | np.ndarray | None, n_docs: int) -> np.ndarray:
    """Ranks 0..n_docs-1 of the documents by ``doc_order_key`` ascending (identity when the key is None)."""
    if doc_order_key is None:
        return np.arange(n_docs, dtype=np.int64)
    key = np.asarray(doc_order_key)
    if key.shape != (n_docs,):
        raise DataFormatError(
            f"doc_order_key has shape {key.shape}, expected ({n_docs},): one key per document",
            field="doc_order_key",
        )
    if not np.issubdtype(key.dtype, np.integer):
        raise DataFormatError(
            f"doc_order_key must hold integers, got dtype {key.dtype}",
            field="doc_order_key",
            hint="for string ids pass trec_order_key(doc_ids)",
        )
    order = np.argsort(key, kind="stable")
    if n_docs > 1 and np.any(key[order[1:]] == key[order[:-1]]):
        raise DataFormatError(
            "doc_order_key has duplicate values, so ties could not be broken deterministically",
            field="doc_order_key",
            hint="give every document a distinct key (e.g. trec_order_key(doc_ids))",
        )
    rank = np.empty(n_docs, dtype=np.int64)
    rank[order] = np.arange(n_docs, dtype=np.int64)
    return rank


def trec_order_key(doc_ids: Sequence[str]) -> np.ndarray:
    """Order key that makes :func:`exact_topk` break ties exactly like trec_eval.

    trec_eval sorts by score descending, then ``strcmp(docno)`` descending. ``strcmp`` on UTF-8 bytes orders strings
    like Python's code-point comparison, so the key is each id's position in ``sorted(doc_ids)``.

    Args:
        doc_ids: The document ids, in the row order of the document matrix. Must be unique.

    Returns:
        int64 array ``key`` with ``key[i]`` = rank of ``doc_ids[i]`` in ascending string order.
    """
    ids = list(doc_ids)
    order = sorted(range(len(ids)), key=ids.__getitem__)
    key = np.empty(len(ids), dtype=np.int64)
    key[np.asarray(order, dtype=np.int64)] = np.arange(len(ids), dtype=np.int64)
    for a, b in itertools.pairwise(order):
        if ids[a] == ids[b]:
            raise DataFormatError(f"duplicate document id {ids[a]!r}", field="doc_ids", hint="ids must be unique")
    return key


# ----------------------------------------------------------------------------------------------------------- kernels
_ALIGN = 16


def _tile_size(n: int, chunk: int) -> int:
    """Tile extent for ``n`` rows in chunks of at most ``chunk`` (balanced, rounded up to a multiple of 16)."""
    tiles = -(-n // chunk)
    size = -(-n // tiles)
    return -(-size // _ALIGN) * _ALIGN


class _Tiles:
    """Computes every score of a search on one fixed grid of equally shaped, zero-padded tiles.

    A float32 BLAS product is not guaranteed to give an element the same bits at every position and for every operand
    shape: OpenBLAS (numpy's) gives identical document rows different scores depending on their column, and MKL
    (torch's) does so for tile extents that are not multiples of its register blocking or for one-row products.
    Here every product has the same shape ``(qt, dim) × (dim, dt)`` with ``qt`` and ``dt`` multiples of 16, and its
    operands always sit in the same buffers, so with torch's MKL the score of ``(q, d)`` depends on the two vectors
    only: duplicate documents tie exactly wherever they sit, and :func:`gold_ranks` reproduces :func:`exact_topk`'s
    positions. (``tests/unit/test_search.py`` checks both, so another BLAS that broke this would show.)
    """

    def __init__(self, q: np.ndarray, d: np.ndarray, query_chunk: int, doc_chunk: int) -> None:
        self.q = torch.from_numpy(q)
        self.d = torch.from_numpy(d)
        self.nq, self.nd = q.shape[0], d.shape[0]
        self.qt = _tile_size(max(self.nq, 1), query_chunk)
        self.dt = _tile_size(self.nd, doc_chunk)
        dim = q.shape[1]
        self.qbuf = torch.zeros((self.qt, dim), dtype=torch.float32)
        self.dbuf = torch.zeros((self.dt, dim), dtype=torch.float32)
        self.out = torch.empty((self.qt, self.dt), dtype=torch.float32)
        self.rows = 0

    def query_tiles(self) -> range:
        return range(0, self.nq, self.qt)

    def doc_tiles(self) -> range:
        return range(0, self.nd, self.dt)

    def load_queries(self, qs: int) -> int:
        """Put the query tile starting at ``qs`` in place; returns its number of real rows."""
        qe = min(qs + self.qt, self.nq)
        self.rows = qe - qs
        self.qbuf[: self.rows] = self.q[qs:qe]
        self.qbuf[self.rows :] = 0.0
        return self.rows

    def scores(self, ds: int) -> torch.Tensor:
        """Scores ``[rows, cols]`` of the loaded query tile against the document tile starting at ``ds`` (a view of
        a buffer that the next call overwrites)."""
        de = min(ds + self.dt, self.nd)
        self.dbuf[: de - ds] = self.d[ds:de]
        self.dbuf[de - ds :] = 0.0
        torch.mm(self.qbuf, self.dbuf.T, out=self.out)
        return self.out[: self.rows, : de - ds]


def _composite(scores: torch.Tensor, rank: torch.Tensor) -> torch.Tensor:
    """One int64 per (score, rank) that orders exactly like (score, rank) lexicographically.

    The float32 bit pattern is mapped to a monotone int32 (flip the magnitude bits of negatives), widened and shifted
    left by 32 bits, and the document's order rank (< 2**32) fills the low bits. ``-0.0`` is first turned into ``+0.0``
    so the two zeros tie as they do under float comparison.
    """
    bits = (scores + 0.0).contiguous().view(torch.int32)
    ordered = bits ^ ((bits >> 31) & 0x7FFFFFFF)
    return ordered.to(torch.int64) * _SHIFT + rank


def _block_topk(block: torch.Tensor, kk: int, rank: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``kk`` best columns of every row of ``block`` under the tie rule (unordered within the result).

    ``torch.topk`` picks an arbitrary subset among scores tied at the boundary, so it is asked for ``kk + 1``
    values: where the kk-th and (kk+1)-th values differ the selected set is unique; only rows where they are equal are
    redone exactly with the composite (score, rank) key.
    """
    n, w = block.shape
    if kk >= w:
        return block, torch.arange(w, dtype=torch.int64).expand(n, w)
    vals, idx = torch.topk(block, kk + 1, dim=1, largest=True, sorted=True)
    tied = vals[:, kk - 1] == vals[:, kk]
    vals, idx = vals[:, :kk], idx[:, :kk]
    if bool(tied.any()):
        rows = torch.nonzero(tied).squeeze(1)
        comp = _composite(block[rows], rank.expand(len(rows), w))
        _, fix = torch.topk(comp, kk, dim=1, largest=True, sorted=False)
        vals = vals.clone()
        idx = idx.clone()
        idx[rows] = fix
        vals[rows] = torch.gather(block[rows], 1, fix)
    return vals, idx


def _merge(
    best_s: torch.Tensor | None,
    best_i: torch.Tensor | None,
    s: torch.Tensor,
    i: torch.Tensor,
    k: int,
    rank_all: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Keep the ``k`` best of the running list and a new block's candidates, sorted by the tie rule."""
    if best_s is not None:
        s = torch.cat([best_s, s], dim=1)
        i = torch.cat([best_i, i], dim=1)
    comp = _composite(s, rank_all[i])
    kk = min(k, s.shape[1])
    _, pos = torch.topk(comp, kk, dim=1, largest=True, sorted=True)
    return torch.gather(s, 1, pos), torch.gather(i, 1, pos)


# ----------------------------------------------------------------------------------------------------------- search
def exact_topk(
    queries: np.ndarray,
    docs: np.ndarray,
    k: int,
    *,
    query_chunk: int = DEFAULT_QUERY_CHUNK,
    doc_chunk: int = DEFAULT_DOC_CHUNK,
    doc_order_key: Sequence[int] | np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Exact inner-product top-k of every query over all documents, chunked.

    ``scores[q, r] = queries[q] · docs[indices[q, r]]`` and row ``q`` lists the ``k`` best documents ordered by score
    descending, then by ``doc_order_key`` descending (trec_eval's rule; the default key is the document index).

    Args:
        queries: ``[nq, dim]`` float array (cast to float32).
        docs: ``[nd, dim]`` float array (cast to float32).
        k: Number of documents per query; clipped to ``nd``.
        query_chunk: Query rows per block.
        doc_chunk: Document rows per block. Peak extra memory ≈ ``4 · query_chunk · doc_chunk`` bytes plus
            ``12 · nq · k`` bytes for the results.
        doc_order_key: Unique integer per document used to break score ties (larger first); see
            :func:`trec_order_key`.

    Returns:
        ``(scores, indices)``: float32 ``[nq, k']`` and int64 ``[nq, k']`` with ``k' = min(k, nd)``.

    Example:
        >>> import numpy as np
        >>> q = np.array([[1.0, 0.0]]); d = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
        >>> exact_topk(q, d, 2)[1].tolist()  # docs 0 and 2 tie; the higher index comes first
        [[2, 0]]
    """
    q, d = _check_pair(queries, docs)
    _check_chunks(query_chunk, doc_chunk)
    if not isinstance(k, int | np.integer) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    nq, nd = q.shape[0], d.shape[0]
    k_eff = int(min(k, nd))
    rank_all = torch.from_numpy(_order_rank(doc_order_key, nd))
    out_s = np.empty((nq, k_eff), dtype=np.float32)
    out_i = np.empty((nq, k_eff), dtype=np.int64)
    tiles = _Tiles(q, d, query_chunk, doc_chunk)
    for qs in tiles.query_tiles():
        rows = tiles.load_queries(qs)
        best_s: torch.Tensor | None = None
        best_i: torch.Tensor | None = None
        for ds in tiles.doc_tiles():
            block = tiles.scores(ds)
            kk = min(k_eff, block.shape[1])
            s, i = _block_topk(block, kk, rank_all[ds : ds + block.shape[1]])
            best_s, best_i = _merge(best_s, best_i, s, i + ds, k_eff, rank_all)
        assert best_s is not None and best_i is not None
        out_s[qs : qs + rows] = best_s.numpy()
        out_i[qs : qs + rows] = best_i.numpy()
    return out_s, out_i


def faiss_topk(
    queries: np.ndarray,
    docs: np.ndarray,
    k: int,
    *,
    doc_order_key: Sequence[int] | np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Top-k with faiss ``IndexFlatIP`` (exact inner product, faiss's own blocking and heaps).

    Same output as :func:`exact_topk` up to float ties: faiss chooses freely among documents tied at the k-th score
    and may differ from the numpy blocks in the last bit of a score. Within the returned list the order is re-sorted
    by the tie rule (score descending, then ``doc_order_key`` descending). Needs ``faiss-cpu``.

    Args:
        queries: ``[nq, dim]`` float array.
        docs: ``[nd, dim]`` float array.
        k: Documents per query; clipped to ``nd``.
        doc_order_key: As in :func:`exact_topk`.

    Returns:
        ``(scores, indices)`` float32 ``[nq, k']`` and int64 ``[nq, k']``.
    """
    faiss = require("faiss", feature="faiss_topk (search with a faiss IndexFlatIP)")
    q, d = _check_pair(queries, docs)
    if not isinstance(k, int | np.integer) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    k_eff = int(min(k, d.shape[0]))
    rank_all = _order_rank(doc_order_key, d.shape[0])
    index = faiss.IndexFlatIP(d.shape[1])
    index.add(d)
    scores, indices = index.search(q, k_eff)
    indices = indices.astype(np.int64)
    # re-sort each row by (score desc, key desc): lexsort sorts ascending by the last key first
    order = np.lexsort((-rank_all[indices], -scores.astype(np.float64)), axis=1)
    return np.take_along_axis(scores, order, 1), np.take_along_axis(indices, order, 1)


# ----------------------------------------------------------------------------------------------------------- ranks
def _check_gold(gold: np.ndarray | Sequence[tuple[int, int]], nq: int, nd: int) -> np.ndarray:
    g = np.asarray(gold, dtype=np.int64) if len(gold) else np.zeros((0, 2), dtype=np.int64)
    if g.ndim != 2 or g.shape[1] != 2:
        raise DataFormatError(
            f"gold must be a list of (query_index, doc_index) pairs, got shape {g.shape}", field="gold"
        )
    if g.size and (g[:, 0].min() < 0 or g[:, 0].max() >= nq or g[:, 1].min() < 0 or g[:, 1].max() >= nd):
        raise DataFormatError(f"gold has an index out of range (queries: 0..{nq - 1}, docs: 0..{nd - 1})", field="gold")
    return g


def gold_rank_counts(
    queries: np.ndarray,
    docs: np.ndarray,
    gold: np.ndarray | Sequence[tuple[int, int]],
    *,
    doc_groups: np.ndarray | Sequence[int] | None = None,
    n_groups: int | None = None,
    query_chunk: int = DEFAULT_QUERY_CHUNK,
    doc_chunk: int = DEFAULT_DOC_CHUNK,
    doc_order_key: Sequence[int] | np.ndarray | None = None,
) -> np.ndarray:
    """For each gold (query, doc) pair, how many documents of each group rank above the gold doc in the whole pool.

    A document ``d`` ranks above gold ``g`` for query ``q`` when ``s(q,d) > s(q,g)``, or ``s(q,d) == s(q,g)`` and
    ``key(d) > key(g)`` (the tie rule of :func:`exact_topk`). Summing the groups gives ``rank - 1``. Groups are e.g.
    document languages: ``counts[p, en]`` is the number of English documents ranked above the gold of pair ``p``.

    Cost: one pass over all blocks of the query chunks that hold a gold query, plus the blocks that hold gold documents
    (their scores are read from the same tiles as :func:`exact_topk` uses; up to 256 MiB of them are cached).
    No sorting; memory ``O(query_chunk · doc_chunk)``.

    Args:
        queries: ``[nq, dim]``.
        docs: ``[nd, dim]``.
        gold: ``[P, 2]`` pairs ``(query_index, doc_index)``; a query may have several.
        doc_groups: ``[nd]`` integer group id per document (0..n_groups-1); None puts all documents in one group.
        n_groups: Number of groups (default ``max(doc_groups) + 1``).
        query_chunk, doc_chunk, doc_order_key: As in :func:`exact_topk` (use the same values there to get identical
            ranks).

    Returns:
        int64 ``[P, n_groups]`` counts, in the order of ``gold``.
    """
    q, d = _check_pair(queries, docs)
    _check_chunks(query_chunk, doc_chunk)
    nq, nd = q.shape[0], d.shape[0]
    g = _check_gold(gold, nq, nd)
    rank_all = torch.from_numpy(_order_rank(doc_order_key, nd))
    if doc_groups is None:
        groups = np.zeros(nd, dtype=np.int64)
        n_groups = 1
    else:
        groups = np.asarray(doc_groups)
        if groups.shape != (nd,) or not np.issubdtype(groups.dtype, np.integer):
            raise DataFormatError(f"doc_groups must be {nd} integers, got {groups.shape}", field="doc_groups")
        groups = groups.astype(np.int64)
        if nd and groups.min() < 0:
            raise DataFormatError("doc_groups must be non-negative", field="doc_groups")
        n_groups = int(groups.max()) + 1 if n_groups is None else int(n_groups)
        if groups.max() >= n_groups:
            raise DataFormatError(f"doc_groups has a group id >= n_groups={n_groups}", field="doc_groups")
    counts = np.zeros((len(g), n_groups), dtype=np.int64)
    if len(g) == 0:
        return counts
    by_query = np.argsort(g[:, 0], kind="stable")
    gq, gd = g[by_query, 0], g[by_query, 1]
    onehot_all = torch.from_numpy(np.eye(n_groups, dtype=np.float32)[groups]) if n_groups > 1 else None
    cache_budget = 256 << 20
    tiles = _Tiles(q, d, query_chunk, doc_chunk)
    for qs in tiles.query_tiles():
        qe = min(qs + tiles.qt, nq)
        lo, hi = np.searchsorted(gq, [qs, qe])
        if lo == hi:
            continue
        tiles.load_queries(qs)
        rows = torch.from_numpy(gq[lo:hi] - qs)
        g_docs = gd[lo:hi]
        g_rank = rank_all[torch.from_numpy(g_docs)]
        # pass 1: the gold scores, read from the tiles that hold the gold docs
        g_score = torch.empty(hi - lo, dtype=torch.float32)
        cache: dict[int, torch.Tensor] = {}
        used = 0
        tile_of = g_docs // tiles.dt
        for t in np.unique(tile_of):
            ds = int(t) * tiles.dt
            block = tiles.scores(ds)
            sel = np.nonzero(tile_of == t)[0]
            sel_t = torch.from_numpy(sel)
            g_score[sel_t] = block[rows[sel_t], torch.from_numpy(g_docs[sel] - ds)]
            if used + block.numel() * 4 <= cache_budget:
                cache[ds] = block.clone()
                used += block.numel() * 4
        # pass 2: count, per gold pair, the documents above it
        acc = torch.zeros((hi - lo, n_groups), dtype=torch.float64)
        gs = g_score[:, None]
        gr = g_rank[:, None]
        for ds in tiles.doc_tiles():
            block = cache.pop(ds) if ds in cache else tiles.scores(ds)
            de = ds + block.shape[1]
            sp = block[rows]
            above = (sp > gs) | ((sp == gs) & (rank_all[ds:de][None, :] > gr))
            if onehot_all is None:
                acc[:, 0] += above.sum(dim=1, dtype=torch.float64)
            else:
                # exact: per-tile counts are integers < 2**24
                acc += (above.to(torch.float32) @ onehot_all[ds:de]).to(torch.float64)
        counts[by_query[lo:hi]] = acc.round().to(torch.int64).numpy()
    return counts


def gold_ranks(
    queries: np.ndarray,
    docs: np.ndarray,
    gold: np.ndarray | Sequence[tuple[int, int]],
    *,
    query_chunk: int = DEFAULT_QUERY_CHUNK,
    doc_chunk: int = DEFAULT_DOC_CHUNK,
    doc_order_key: Sequence[int] | np.ndarray | None = None,
) -> np.ndarray:
    """Exact 1-based rank of each gold document in the whole pool for its query, without sorting.

    ``rank(q, g) = 1 + #{d : s(q,d) > s(q,g)} + #{d : s(q,d) = s(q,g), key(d) > key(g)}`` — the position
    :func:`exact_topk` (same chunk sizes and key) would give ``g`` with ``k = nd``. This is what Max@R needs when a gold
    document is beyond any practical top-k.

    Args:
        queries: ``[nq, dim]``.
        docs: ``[nd, dim]``.
        gold: ``[P, 2]`` pairs ``(query_index, doc_index)``.
        query_chunk, doc_chunk, doc_order_key: As in :func:`exact_topk`.

    Returns:
        int64 ``[P]`` ranks in the order of ``gold``.
    """
    counts = gold_rank_counts(
        queries, docs, gold, query_chunk=query_chunk, doc_chunk=doc_chunk, doc_order_key=doc_order_key
    )
    return counts.sum(axis=1) + 1
