"""Mixed-language-pool metrics: Max@R, Min@R, Complete@k, nDCG@1, and pivot-language ("English") inclination.

METHODS.md §2 (Hong et al., ICLR 2026, "semantic proximity / English inclination"; the aggregations marked "ours" are
not from the paper). The pool ``D = D_en ∪ D_x`` mixes languages; ranks are 1-based positions in the *whole* pool
under the tie rule of :mod:`crossalign.search` (score descending, then ``doc_order_key`` descending),
computed exactly by :func:`~crossalign.search.gold_ranks` even when a gold document is far beyond any top-k.

Multi-reference scenario — each query has several gold documents (its parallel documents in each language):

- ``Max@R(q) = max_{g ∈ gold(q)} rank(q, g)``: the depth needed to have retrieved all of them. Lower is better.
  Aggregated over queries as mean and median (the paper does not say which: ours).
- ``Min@R(q) = min_{g ∈ gold(q)} rank(q, g)``.
- ``Complete@k = (1/|Q|) Σ_q [Max@R(q) ≤ k]`` (inferred from the paper's description).
- ``nDCG@1`` with binary gains equals ``[Min@R(q) = 1]`` averaged: the top hit is a gold document.

Inclination pool — target-language queries over ``D_x ∪ D_pivot`` with only the same-language document relevant
(our diagnostics, METHODS.md §2):

- ``PivotFirst@1`` (EnglishFirst@1 with ``pivot_lang="en"``) = share of queries whose top hit is a pivot-language
  document; ``PivotFirstWrong@1`` restricts that to top hits that are not gold.
- ``pivot above gold`` = number of pivot-language documents ranked above the gold document, averaged over gold pairs.
- ``lang_share@k[l]`` = share of all top-k result slots held by documents in language ``l``.

Languages are always explicit arrays (``doc_langs``, ``query_langs``); no direction is encoded in a name.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from crossalign.errors import ConfigError, DataFormatError
from crossalign.search import (
    DEFAULT_DOC_CHUNK,
    DEFAULT_QUERY_CHUNK,
    exact_topk,
    gold_rank_counts,
)

__all__ = [
    "MixedPoolResult",
    "complete_at_k",
    "cutoffs",
    "evaluate_mixed_pool",
    "lang_share_at_k",
    "max_rank",
    "min_rank",
    "ndcg_at_1",
    "pivot_above_gold",
    "pivot_first_at_1",
    "rank_summary",
]


def cutoffs(ks: Iterable[int]) -> list[int]:
    """``ks`` sorted without repeats; :class:`ConfigError` (a ValueError) unless they are positive."""
    out = sorted({int(k) for k in ks})
    if not out or out[0] < 1:
        raise ConfigError(f"ks must be positive cutoffs, got {out}")
    return out


def _ranks_and_queries(
    ranks: np.ndarray | Sequence[int], query_index: np.ndarray | Sequence[int], n_queries: int | None
) -> tuple[np.ndarray, np.ndarray, int]:
    r = np.asarray(ranks)
    qi = np.asarray(query_index)
    if r.ndim != 1 or qi.shape != r.shape:
        raise DataFormatError(
            f"ranks {r.shape} and query_index {qi.shape} must be 1-D arrays of equal length (one entry per gold pair)",
            field="ranks",
        )
    if r.size and (not np.issubdtype(r.dtype, np.integer) or r.min() < 1):
        raise DataFormatError("ranks must be integers >= 1 (1-based positions)", field="ranks")
    if qi.size and (not np.issubdtype(qi.dtype, np.integer) or qi.min() < 0):
        raise DataFormatError("query_index must hold non-negative integers", field="query_index")
    nq = (int(qi.max()) + 1 if qi.size else 0) if n_queries is None else int(n_queries)
    if qi.size and qi.max() >= nq:
        raise DataFormatError(f"query_index has a value >= n_queries={nq}", field="query_index")
    present = np.bincount(qi, minlength=nq) if nq else np.zeros(0, dtype=np.int64)
    if np.any(present == 0):
        missing = np.flatnonzero(present == 0)
        raise DataFormatError(
            f"{len(missing)} queries have no gold document (first: query {int(missing[0])})",
            field="query_index",
            hint="every query needs at least one gold document for Max@R / Min@R; drop the others",
        )
    return r.astype(np.int64), qi.astype(np.int64), nq


def max_rank(
    ranks: np.ndarray | Sequence[int], query_index: np.ndarray | Sequence[int], n_queries: int | None = None
) -> np.ndarray:
    """Max@R per query: ``max_{g ∈ gold(q)} rank(q, g)``.

    Args:
        ranks: ``[P]`` 1-based rank of each gold pair (e.g. from :func:`~crossalign.search.gold_ranks`).
        query_index: ``[P]`` the query of each pair.
        n_queries: Number of queries (default ``max(query_index) + 1``); every query needs a gold pair.

    Returns:
        int64 ``[n_queries]``.
    """
    r, qi, nq = _ranks_and_queries(ranks, query_index, n_queries)
    out = np.zeros(nq, dtype=np.int64)
    np.maximum.at(out, qi, r)
    return out


def min_rank(
    ranks: np.ndarray | Sequence[int], query_index: np.ndarray | Sequence[int], n_queries: int | None = None
) -> np.ndarray:
    """Min@R per query: ``min_{g ∈ gold(q)} rank(q, g)`` (arguments as :func:`max_rank`)."""
    r, qi, nq = _ranks_and_queries(ranks, query_index, n_queries)
    out = np.full(nq, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(out, qi, r)
    return out


def rank_summary(per_query_ranks: np.ndarray | Sequence[int]) -> dict[str, float]:
    """``{"mean", "median"}`` of per-query ranks (the paper does not say which aggregate it uses: we report both)."""
    r = np.asarray(per_query_ranks, dtype=np.float64)
    if r.size == 0:
        return {"mean": float("nan"), "median": float("nan")}
    return {"mean": float(r.mean()), "median": float(np.median(r))}


def complete_at_k(max_ranks: np.ndarray | Sequence[int], k: int | Iterable[int]) -> float | dict[int, float]:
    """Complete@k = share of queries with ``Max@R ≤ k`` (every gold document within the top k).

    Args:
        max_ranks: ``[nq]`` Max@R per query.
        k: One cutoff, or several (then a ``{k: value}`` dict).
    """
    m = np.asarray(max_ranks)
    if isinstance(k, int | np.integer):
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        return float((m <= k).mean()) if m.size else float("nan")
    return {int(c): complete_at_k(m, int(c)) for c in k}  # type: ignore[misc]


def ndcg_at_1(min_ranks: np.ndarray | Sequence[int]) -> float:
    """nDCG@1 with binary gains = share of queries whose top hit is gold (``Min@R = 1``).

    With binary relevance DCG@1 = rel_1 and IDCG@1 = 1 for any query with a gold document, so nDCG@1 = [rel_1 = 1].
    """
    m = np.asarray(min_ranks)
    return float((m == 1).mean()) if m.size else float("nan")


def _langs(doc_langs: Sequence[str] | np.ndarray, n: int | None = None) -> np.ndarray:
    arr = np.asarray(doc_langs, dtype=object)
    if arr.ndim != 1 or (n is not None and arr.shape[0] != n):
        raise DataFormatError(
            f"doc_langs must have one language per document, got shape {arr.shape}", field="doc_langs"
        )
    return arr


def pivot_first_at_1(topk_indices: np.ndarray, doc_langs: Sequence[str] | np.ndarray, pivot_lang: str = "en") -> float:
    """PivotFirst@1 (EnglishFirst@1 for ``pivot_lang="en"``): share of queries whose top hit is in ``pivot_lang``.

    Args:
        topk_indices: ``[nq, k]`` ranked document indices (column 0 is the top hit), as from ``exact_topk``.
        doc_langs: ``[nd]`` language of every document in the pool.
        pivot_lang: The language whose over-ranking is measured.
    """
    idx = np.asarray(topk_indices)
    if idx.ndim != 2 or idx.shape[1] < 1:
        raise DataFormatError(f"topk_indices must be [n_queries, k >= 1], got {idx.shape}", field="topk_indices")
    langs = _langs(doc_langs)
    return float((langs[idx[:, 0]] == pivot_lang).mean()) if idx.shape[0] else float("nan")


def lang_share_at_k(topk_indices: np.ndarray, doc_langs: Sequence[str] | np.ndarray, k: int) -> dict[str, float]:
    """Share of the ``nq · k`` top-k result slots held by each document language (sums to 1).

    Every language of the pool is listed, with 0.0 when it never reaches the top k.
    """
    idx = np.asarray(topk_indices)
    if idx.ndim != 2:
        raise DataFormatError(f"topk_indices must be [n_queries, k], got {idx.shape}", field="topk_indices")
    if k < 1 or k > idx.shape[1]:
        raise ValueError(f"k must be in 1..{idx.shape[1]} (the depth of topk_indices), got {k}")
    langs = _langs(doc_langs)
    counts = Counter(langs[idx[:, :k]].ravel().tolist())
    total = idx.shape[0] * k
    return {str(lang): (counts.get(lang, 0) / total if total else float("nan")) for lang in sorted(set(langs.tolist()))}


def pivot_above_gold(counts_above: np.ndarray, group_langs: Sequence[str], pivot_lang: str = "en") -> np.ndarray:
    """Number of pivot-language documents ranked above each gold document.

    Args:
        counts_above: ``[P, G]`` from :func:`~crossalign.search.gold_rank_counts` with the documents
            grouped by language.
        group_langs: The language of each of the ``G`` groups.
        pivot_lang: The language to count.

    Returns:
        int64 ``[P]`` (all zeros when no group has ``pivot_lang``).
    """
    c = np.asarray(counts_above)
    if c.ndim != 2 or c.shape[1] != len(group_langs):
        raise DataFormatError(
            f"counts_above {c.shape} must be [n_pairs, {len(group_langs)}] (one column per group language)",
            field="counts_above",
        )
    cols = [i for i, lang in enumerate(group_langs) if lang == pivot_lang]
    return c[:, cols].sum(axis=1).astype(np.int64) if cols else np.zeros(c.shape[0], dtype=np.int64)


# --------------------------------------------------------------------------------------------------- one-call report
@dataclass
class MixedPoolResult:
    """Everything :func:`evaluate_mixed_pool` measures (raw values; ×100 only in tables).

    Attributes:
        metrics: Flat ``name -> value``: ``max_rank_mean``, ``max_rank_median``, ``min_rank_mean``,
            ``min_rank_median``, ``complete@k``, ``ndcg@1``, ``pivot_first@1``, ``pivot_first_wrong@1``,
            ``pivot_above_gold_mean``, ``lang_share@k:<lang>``.
        pool: Document count per language in the pool.
        queries: Query count per query language (``{"?": n}`` when not given).
        pivot_lang: The pivot language used.
        max_ranks: ``[nq]`` Max@R per query.
        min_ranks: ``[nq]`` Min@R per query.
        gold_ranks: ``[P]`` rank of each gold pair.
        pivot_above: ``[P]`` pivot-language documents above each gold pair.
        by_query_lang: The same ``metrics`` restricted to the queries of each language, when there are several.
    """

    metrics: dict[str, float]
    pool: dict[str, int]
    queries: dict[str, int]
    pivot_lang: str
    max_ranks: np.ndarray
    min_ranks: np.ndarray
    gold_ranks: np.ndarray
    pivot_above: np.ndarray
    by_query_lang: dict[str, dict[str, float]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (per-query arrays left out)."""
        return {
            "metrics": dict(self.metrics),
            "pool": dict(self.pool),
            "queries": dict(self.queries),
            "pivot_lang": self.pivot_lang,
            "by_query_lang": {k: dict(v) for k, v in self.by_query_lang.items()},
        }


def _summary(
    sel: np.ndarray,
    gold: np.ndarray,
    ranks: np.ndarray,
    above: np.ndarray,
    top: np.ndarray,
    langs: np.ndarray,
    ks: Sequence[int],
    pivot: str,
) -> tuple[dict[str, float], np.ndarray, np.ndarray]:
    """Metrics over the queries ``sel`` (sorted query indices)."""
    remap = np.full(top.shape[0], -1, dtype=np.int64)
    remap[sel] = np.arange(len(sel))
    keep = remap[gold[:, 0]] >= 0
    qi = remap[gold[keep, 0]]
    mx = max_rank(ranks[keep], qi, len(sel))
    mn = min_rank(ranks[keep], qi, len(sel))
    out: dict[str, float] = {}
    for name, values in (("max_rank", mx), ("min_rank", mn)):
        for agg, v in rank_summary(values).items():
            out[f"{name}_{agg}"] = v
    for k in ks:
        out[f"complete@{k}"] = float(complete_at_k(mx, int(k)))  # type: ignore[arg-type]
    out["ndcg@1"] = ndcg_at_1(mn)
    t = top[sel]
    out["pivot_first@1"] = pivot_first_at_1(t, langs, pivot)
    # top hit in the pivot language and not a gold document of that query
    nd = len(langs)
    gold_codes = np.unique(gold[keep, 0] * nd + gold[keep, 1])
    top1_gold = np.isin(sel * nd + t[:, 0], gold_codes)
    out["pivot_first_wrong@1"] = float(((langs[t[:, 0]] == pivot) & ~top1_gold).mean()) if len(sel) else float("nan")
    out["pivot_above_gold_mean"] = float(above[keep].mean()) if keep.any() else float("nan")
    for k in ks:
        if k <= t.shape[1]:
            for lang, share in lang_share_at_k(t, langs, int(k)).items():
                out[f"lang_share@{k}:{lang}"] = share
    return out, mx, mn


def evaluate_mixed_pool(
    queries: np.ndarray,
    docs: np.ndarray,
    gold: np.ndarray | Sequence[tuple[int, int]],
    doc_langs: Sequence[str] | np.ndarray,
    *,
    query_langs: Sequence[str] | np.ndarray | str | None = None,
    pivot_lang: str = "en",
    ks: Sequence[int] = (1, 5, 10, 20, 100),
    doc_order_key: Sequence[int] | np.ndarray | None = None,
    query_chunk: int = DEFAULT_QUERY_CHUNK,
    doc_chunk: int = DEFAULT_DOC_CHUNK,
) -> MixedPoolResult:
    """Search a mixed-language pool exactly and report Max@R, Complete@k, nDCG@1 and pivot inclination.

    One chunked pass ranks every gold document in the whole pool (counting, per language, the documents above it),
    one chunked top-``max(ks)`` search gives the top hits.

    Args:
        queries: ``[nq, dim]`` query embeddings (normalised for cosine).
        docs: ``[nd, dim]`` pool embeddings.
        gold: ``[P, 2]`` ``(query_index, doc_index)`` pairs; every query needs at least one (multi-reference: one per
            language; inclination pool: the same-language document only).
        doc_langs: ``[nd]`` language of each pool document.
        query_langs: One language for all queries, one per query, or None (recorded, and used for a per-language
            breakdown when there are several).
        pivot_lang: Language whose over-ranking is measured (``"en"``: EnglishFirst@1, English above gold).
        ks: Cutoffs for Complete@k and the language shares.
        doc_order_key, query_chunk, doc_chunk: As in :func:`~crossalign.search.exact_topk`.

    Returns:
        :class:`MixedPoolResult`.
    """
    langs = _langs(doc_langs, np.asarray(docs).shape[0])
    nq = np.asarray(queries).shape[0]
    if isinstance(query_langs, str):
        qlangs = np.array([query_langs] * nq, dtype=object)
    elif query_langs is None:
        qlangs = np.array(["?"] * nq, dtype=object)
    else:
        qlangs = np.asarray(query_langs, dtype=object)
        if qlangs.shape != (nq,):
            raise DataFormatError(f"query_langs must have {nq} entries, got {qlangs.shape}", field="query_langs")
    ks = cutoffs(ks)
    group_langs = sorted(set(langs.tolist()))
    code = {lang: i for i, lang in enumerate(group_langs)}
    groups = np.array([code[lang] for lang in langs.tolist()], dtype=np.int64)
    g = np.asarray(gold, dtype=np.int64)
    counts = gold_rank_counts(
        queries,
        docs,
        g,
        doc_groups=groups,
        n_groups=len(group_langs),
        query_chunk=query_chunk,
        doc_chunk=doc_chunk,
        doc_order_key=doc_order_key,
    )
    ranks = counts.sum(axis=1) + 1
    above = pivot_above_gold(counts, group_langs, pivot_lang)
    _, top = exact_topk(
        queries, docs, max(ks), query_chunk=query_chunk, doc_chunk=doc_chunk, doc_order_key=doc_order_key
    )
    metrics, mx, mn = _summary(np.arange(nq), g, ranks, above, top, langs, ks, pivot_lang)
    by_lang: dict[str, dict[str, float]] = {}
    distinct = sorted(set(qlangs.tolist()))
    if len(distinct) > 1:
        for lang in distinct:
            sel = np.flatnonzero(qlangs == lang)
            by_lang[lang], _, _ = _summary(sel, g, ranks, above, top, langs, ks, pivot_lang)
    return MixedPoolResult(
        metrics=metrics,
        pool=dict(sorted(Counter(langs.tolist()).items())),
        queries=dict(sorted(Counter(qlangs.tolist()).items())),
        pivot_lang=pivot_lang,
        max_ranks=mx,
        min_ranks=mn,
        gold_ranks=ranks,
        pivot_above=above,
        by_query_lang=by_lang,
    )
