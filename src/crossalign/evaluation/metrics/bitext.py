"""Bitext mining: cosine P@1, margin scoring, LASER-style mining, xSIM and BUCC F1 — vectorised.

Source embeddings ``X [n, d]`` and target embeddings ``Y [m, d]`` (rows L2-normalised, so ``x · y = cos``; pass
``normalize=True`` to have it done). Gold alignments are index pairs ``(i, j)``; targets may outnumber sources
(``m ≥ n``: distractors). k-NN lists come from the exact chunked search
(:func:`~crossalign.search.exact_topk`), ordered by cosine descending, ties by the higher index.

Margin scoring (Artetxe & Schwenk 2019, "Margin-based parallel corpus mining with multilingual sentence
embeddings"; LASER ``mine_bitexts.py``/``xsim.py``), with ``NN_k(x)`` the k nearest targets of x and ``NN_k(y)`` the k
nearest sources of y (k = 4 by default; ``min(k, pool size)``):

    avg(x, y) = ( Σ_{z ∈ NN_k(x)} cos(x, z) / k  +  Σ_{z ∈ NN_k(y)} cos(y, z) / k ) / 2
    ratio:    score(x, y) = cos(x, y) / avg(x, y)
    distance: score(x, y) = cos(x, y) − avg(x, y)
    absolute: score(x, y) = cos(x, y)

As in LASER, the best target of a source is the margin-best among its k cosine-nearest candidates (and vice versa);
with equal margin scores the candidate with the higher cosine (then the higher index) wins.

Retrieval modes (LASER ``--retrieval``): ``fwd`` — each source with its best target; ``bwd`` — each target with its
best source; ``intersect`` — pairs that are each other's best; ``max`` — the union of fwd and bwd pairs, then a greedy
one-to-one selection in descending score (a pair is kept only if neither side was kept before). LASER does the greedy
pass in a Python loop; here it runs as rounds of "locally dominant" pairs (a pair that is the best remaining pair of
both its source and its target), which yields exactly the greedy matching. Ties in that order: score descending,
then source index ascending, then target index ascending (LASER's ``np.argsort(-scores)`` leaves them unspecified).

xSIM (LASER ``xsim.py``): ``errors / n`` where an error is a source whose best target (by the margin; with
``absolute`` the cosine top-1) is not its gold target.

BUCC F1 (BUCC 2017 shared task; LASER ``bucc.py``): mined pairs sorted by score; the threshold sweep evaluates
``P = correct/extracted``, ``R = correct/|gold|``, ``F1 = 2PR/(P+R)`` at every cut *between distinct scores* and at the
very end of the list, and the threshold is the midpoint between the last kept and the first dropped score (the last
kept score when every candidate is kept). LASER's ``BuccOptimize`` reads ``items[i + 1]`` for that midpoint and so
raises ``IndexError`` when the best cut is at the last candidate; it also scores cuts inside runs of equal scores,
which no threshold can realise. Pairs are extracted when ``score ≥ threshold``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from crossalign.errors import DataFormatError
from crossalign.search import DEFAULT_DOC_CHUNK, DEFAULT_QUERY_CHUNK, exact_topk

__all__ = [
    "BuccResult",
    "KnnStats",
    "MarginCandidates",
    "MinedPairs",
    "P1Hits",
    "XsimResult",
    "bitext_p_at_1",
    "bucc_f1",
    "bucc_optimize",
    "evaluate_bitext",
    "knn_both_ways",
    "margin_candidates",
    "margin_scores",
    "mine_bitext",
    "mining_prf",
    "p_at_1_hits",
    "xsim_error",
]

Margin = Literal["ratio", "distance", "absolute"]
Retrieval = Literal["fwd", "bwd", "max", "intersect"]


# --------------------------------------------------------------------------------------------------- inputs
def _emb(a: np.ndarray, name: str, normalize: bool) -> np.ndarray:
    arr = np.asarray(a, dtype=np.float32)
    if arr.ndim != 2 or arr.shape[0] == 0:
        raise DataFormatError(f"expected a non-empty [n, dim] matrix, got shape {arr.shape}", field=name)
    if not np.isfinite(arr).all():
        raise DataFormatError("contains NaN or infinite values", field=name)
    if normalize:
        norm = np.linalg.norm(arr, axis=1, keepdims=True)
        if np.any(norm == 0):
            raise DataFormatError("has an all-zero row, which has no direction", field=name)
        arr = arr / norm
    return np.ascontiguousarray(arr, dtype=np.float32)


def _xy(x: np.ndarray, y: np.ndarray, normalize: bool) -> tuple[np.ndarray, np.ndarray]:
    x = _emb(x, "x", normalize)
    y = _emb(y, "y", normalize)
    if x.shape[1] != y.shape[1]:
        raise DataFormatError(f"x has dimension {x.shape[1]} but y has {y.shape[1]}", field="y")
    return x, y


def _margin(margin: str) -> str:
    if margin not in ("ratio", "distance", "absolute"):
        raise ValueError(f"margin must be 'ratio', 'distance' or 'absolute', got {margin!r}")
    return margin


def _apply_margin(cos: np.ndarray, avg: np.ndarray, margin: str) -> np.ndarray:
    cos = np.asarray(cos, dtype=np.float64)
    if margin == "ratio":
        return cos / avg
    if margin == "distance":
        return cos - avg
    return cos


def _gold_array(gold: np.ndarray | Sequence[tuple[int, int]]) -> np.ndarray:
    g = np.asarray(gold, dtype=np.int64)
    if g.ndim != 2 or g.shape[1] != 2 or g.shape[0] == 0:
        raise DataFormatError(f"gold must be a non-empty list of (source, target) pairs, got {g.shape}", field="gold")
    return g


def _gold_pairs(gold: np.ndarray | Sequence[tuple[int, int]] | None, n: int, m: int) -> np.ndarray:
    if gold is None:
        if m < n:
            raise DataFormatError(
                f"without explicit gold pairs source i is aligned to target i, which needs m >= n (n={n}, m={m})",
                field="gold",
            )
        return np.stack([np.arange(n), np.arange(n)], axis=1).astype(np.int64)
    g = _gold_array(gold)
    if g[:, 0].min() < 0 or g[:, 0].max() >= n or g[:, 1].min() < 0 or g[:, 1].max() >= m:
        raise DataFormatError(f"gold has an index out of range (n={n} sources, m={m} targets)", field="gold")
    return np.unique(g, axis=0)


# --------------------------------------------------------------------------------------------------- k-NN and margin
@dataclass
class KnnStats:
    """k-NN in both directions and the mean neighbour cosines the margin needs.

    Attributes:
        x2y_sim, x2y_ind: ``[n, k]`` cosines and indices of each source's nearest targets (descending).
        y2x_sim, y2x_ind: ``[m, k]`` the same for targets over sources.
        x_mean: ``[n]`` mean of ``x2y_sim`` rows; y_mean: ``[m]`` mean of ``y2x_sim`` rows (float64).
    """

    x2y_sim: np.ndarray
    x2y_ind: np.ndarray
    y2x_sim: np.ndarray
    y2x_ind: np.ndarray
    x_mean: np.ndarray
    y_mean: np.ndarray


def knn_both_ways(
    x: np.ndarray,
    y: np.ndarray,
    k: int = 4,
    *,
    normalize: bool = False,
    query_chunk: int = DEFAULT_QUERY_CHUNK,
    doc_chunk: int = DEFAULT_DOC_CHUNK,
) -> KnnStats:
    """k nearest targets of every source and k nearest sources of every target (exact, chunked).

    ``k`` is clipped to the size of the searched side, as LASER's ``min(y.shape[0], k)``.
    """
    x, y = _xy(x, y, normalize)
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    xs, xi = exact_topk(x, y, k, query_chunk=query_chunk, doc_chunk=doc_chunk)
    ys, yi = exact_topk(y, x, k, query_chunk=query_chunk, doc_chunk=doc_chunk)
    return KnnStats(xs, xi, ys, yi, xs.astype(np.float64).mean(axis=1), ys.astype(np.float64).mean(axis=1))


def margin_scores(
    x: np.ndarray,
    y: np.ndarray,
    src: np.ndarray | Sequence[int],
    tgt: np.ndarray | Sequence[int],
    *,
    k: int = 4,
    margin: Margin = "ratio",
    stats: KnnStats | None = None,
    normalize: bool = False,
) -> np.ndarray:
    """Margin score of given pairs ``(src[p], tgt[p])`` (LASER ``--mode score``).

    ``score = margin(cos(x_s, y_t), (x_mean[s] + y_mean[t]) / 2)`` with the means over the k nearest neighbours.

    Args:
        x, y: Source and target embeddings.
        src, tgt: ``[P]`` pair indices.
        k: Neighbourhood size for the means.
        margin: ``"ratio"``, ``"distance"`` or ``"absolute"``.
        stats: Precomputed :func:`knn_both_ways` (must match ``k``), to avoid searching again.
        normalize: L2-normalise the rows first.

    Returns:
        float64 ``[P]``.
    """
    margin = _margin(margin)  # type: ignore[assignment]
    x, y = _xy(x, y, normalize)
    s = np.asarray(src, dtype=np.int64)
    t = np.asarray(tgt, dtype=np.int64)
    if s.shape != t.shape or s.ndim != 1:
        raise DataFormatError("src and tgt must be 1-D arrays of equal length", field="src")
    cos = np.einsum("ij,ij->i", x[s].astype(np.float64), y[t].astype(np.float64))
    if margin == "absolute":
        return cos
    st = stats if stats is not None else knn_both_ways(x, y, k)
    return _apply_margin(cos, (st.x_mean[s] + st.y_mean[t]) / 2.0, margin)


@dataclass
class MarginCandidates:
    """Margin-scored k-NN candidates in both directions and each side's best.

    Attributes:
        stats: The k-NN lists and means.
        fwd_scores: ``[n, k]`` margin scores of each source's candidates ``stats.x2y_ind``.
        bwd_scores: ``[m, k]`` margin scores of each target's candidates ``stats.y2x_ind``.
        fwd_best, fwd_best_score: ``[n]`` best target of each source and its score.
        bwd_best, bwd_best_score: ``[m]`` best source of each target and its score.
    """

    stats: KnnStats
    fwd_scores: np.ndarray
    bwd_scores: np.ndarray
    fwd_best: np.ndarray
    fwd_best_score: np.ndarray
    bwd_best: np.ndarray
    bwd_best_score: np.ndarray


def margin_candidates(
    x: np.ndarray,
    y: np.ndarray,
    *,
    k: int = 4,
    margin: Margin = "ratio",
    stats: KnnStats | None = None,
    normalize: bool = False,
    query_chunk: int = DEFAULT_QUERY_CHUNK,
    doc_chunk: int = DEFAULT_DOC_CHUNK,
) -> MarginCandidates:
    """Score each side's k cosine-nearest candidates by the margin and pick the best (vectorised LASER
    ``score_candidates``). The first maximum wins, i.e. the higher cosine among equal margin scores."""
    margin = _margin(margin)  # type: ignore[assignment]
    x, y = _xy(x, y, normalize)
    st = stats if stats is not None else knn_both_ways(x, y, k, query_chunk=query_chunk, doc_chunk=doc_chunk)
    fwd = _apply_margin(st.x2y_sim, (st.x_mean[:, None] + st.y_mean[st.x2y_ind]) / 2.0, margin)
    bwd = _apply_margin(st.y2x_sim, (st.y_mean[:, None] + st.x_mean[st.y2x_ind]) / 2.0, margin)
    fa = fwd.argmax(axis=1)
    ba = bwd.argmax(axis=1)
    rows_f = np.arange(fwd.shape[0])
    rows_b = np.arange(bwd.shape[0])
    return MarginCandidates(
        stats=st,
        fwd_scores=fwd,
        bwd_scores=bwd,
        fwd_best=st.x2y_ind[rows_f, fa],
        fwd_best_score=fwd[rows_f, fa],
        bwd_best=st.y2x_ind[rows_b, ba],
        bwd_best_score=bwd[rows_b, ba],
    )


# --------------------------------------------------------------------------------------------------- mining
@dataclass
class MinedPairs:
    """Mined sentence pairs sorted by score descending (then source, then target ascending).

    Attributes:
        src, tgt: ``[P]`` source and target indices; score: ``[P]`` their scores (float64).
    """

    src: np.ndarray
    tgt: np.ndarray
    score: np.ndarray

    def __len__(self) -> int:
        return int(self.src.shape[0])

    def above(self, threshold: float) -> MinedPairs:
        """The pairs with ``score ≥ threshold``."""
        keep = self.score >= threshold
        return MinedPairs(self.src[keep], self.tgt[keep], self.score[keep])


def _sorted_pairs(src: np.ndarray, tgt: np.ndarray, score: np.ndarray) -> MinedPairs:
    order = np.lexsort((tgt, src, -score))
    return MinedPairs(src[order].astype(np.int64), tgt[order].astype(np.int64), score[order].astype(np.float64))


def _greedy_one_to_one(src: np.ndarray, tgt: np.ndarray, score: np.ndarray, n: int, m: int) -> np.ndarray:
    """Indices of the pairs the greedy pass keeps: in (score desc, src asc, tgt asc) order, a pair is kept when
    neither its source nor its target was kept before.

    Computed in rounds: every pair that is the best remaining pair of both its source and its target is kept (the
    greedy pass would keep it too: no better pair can block it), then pairs touching a kept side are removed.
    Each round keeps at least the best remaining pair.
    """
    p = src.shape[0]
    order = np.lexsort((tgt, src, -score))
    prio = np.empty(p, dtype=np.int64)
    prio[order] = np.arange(p, dtype=np.int64)
    alive = np.ones(p, dtype=bool)
    kept = np.zeros(p, dtype=bool)
    used_s = np.zeros(n, dtype=bool)
    used_t = np.zeros(m, dtype=bool)
    while alive.any():
        a = np.flatnonzero(alive)
        best_s = np.full(n, p, dtype=np.int64)
        best_t = np.full(m, p, dtype=np.int64)
        np.minimum.at(best_s, src[a], prio[a])
        np.minimum.at(best_t, tgt[a], prio[a])
        win = a[(best_s[src[a]] == prio[a]) & (best_t[tgt[a]] == prio[a])]
        kept[win] = True
        used_s[src[win]] = True
        used_t[tgt[win]] = True
        alive &= ~(used_s[src] | used_t[tgt])
    return np.flatnonzero(kept)


def mine_bitext(
    x: np.ndarray,
    y: np.ndarray,
    *,
    k: int = 4,
    margin: Margin = "ratio",
    retrieval: Retrieval = "max",
    threshold: float | None = None,
    candidates: MarginCandidates | None = None,
    normalize: bool = False,
) -> MinedPairs:
    """Mine aligned pairs between two sets of sentence embeddings (LASER ``mine_bitexts.py --mode mine``).

    Args:
        x, y: Source ``[n, d]`` and target ``[m, d]`` embeddings.
        k: Neighbourhood size (margin means and candidate lists).
        margin: ``"ratio"`` (default), ``"distance"`` or ``"absolute"``.
        retrieval: ``"fwd"``, ``"bwd"``, ``"intersect"`` or ``"max"`` (default; greedy one-to-one).
        threshold: Keep only pairs with ``score ≥ threshold`` (LASER keeps ``score > threshold``).
        candidates: Precomputed :func:`margin_candidates` (same k and margin).
        normalize: L2-normalise the rows first.

    Returns:
        :class:`MinedPairs`, best first.
    """
    if retrieval not in ("fwd", "bwd", "max", "intersect"):
        raise ValueError(f"retrieval must be 'fwd', 'bwd', 'max' or 'intersect', got {retrieval!r}")
    x, y = _xy(x, y, normalize)
    c = candidates if candidates is not None else margin_candidates(x, y, k=k, margin=margin)
    n, m = x.shape[0], y.shape[0]
    fwd_src = np.arange(n, dtype=np.int64)
    bwd_tgt = np.arange(m, dtype=np.int64)
    if retrieval == "fwd":
        mined = _sorted_pairs(fwd_src, c.fwd_best, c.fwd_best_score)
    elif retrieval == "bwd":
        mined = _sorted_pairs(c.bwd_best, bwd_tgt, c.bwd_best_score)
    elif retrieval == "intersect":
        keep = c.bwd_best[c.fwd_best] == fwd_src
        mined = _sorted_pairs(fwd_src[keep], c.fwd_best[keep], c.fwd_best_score[keep])
    else:
        src = np.concatenate([fwd_src, c.bwd_best])
        tgt = np.concatenate([c.fwd_best, bwd_tgt])
        score = np.concatenate([c.fwd_best_score, c.bwd_best_score])
        # a pair found in both directions appears twice; keep one copy with its best score
        codes = src * m + tgt
        order = np.lexsort((-score, codes))
        first = np.ones(len(order), dtype=bool)
        first[1:] = codes[order][1:] != codes[order][:-1]
        u = order[first]
        src, tgt, score = src[u], tgt[u], score[u]
        kept = _greedy_one_to_one(src, tgt, score, n, m)
        mined = _sorted_pairs(src[kept], tgt[kept], score[kept])
    return mined if threshold is None else mined.above(threshold)


# --------------------------------------------------------------------------------------------------- metrics
@dataclass
class P1Hits:
    """Per-item outcomes of the cosine top-1, one entry per gold source and per gold target (ascending index).

    Attributes:
        srcs: ``[S]`` gold sources; src2tgt: ``[S]`` whether each one's nearest target is one of its gold targets.
        tgts: ``[T]`` gold targets; tgt2src: ``[T]`` whether each one's nearest source is one of its gold sources.
    """

    srcs: np.ndarray
    src2tgt: np.ndarray
    tgts: np.ndarray
    tgt2src: np.ndarray


def p_at_1_hits(
    x: np.ndarray,
    y: np.ndarray,
    gold: np.ndarray | Sequence[tuple[int, int]] | None = None,
    *,
    stats: KnnStats | None = None,
    normalize: bool = False,
    query_chunk: int = DEFAULT_QUERY_CHUNK,
    doc_chunk: int = DEFAULT_DOC_CHUNK,
) -> P1Hits:
    """The per-item outcomes behind :func:`bitext_p_at_1` (arguments as there; ``stats``: reuse the nearest
    neighbours of :func:`knn_both_ways` instead of searching again)."""
    x, y = _xy(x, y, normalize)
    n, m = x.shape[0], y.shape[0]
    g = _gold_pairs(gold, n, m)
    codes = g[:, 0] * m + g[:, 1]
    srcs = np.unique(g[:, 0])
    tgts = np.unique(g[:, 1])
    if stats is None:
        top_t = exact_topk(x[srcs], y, 1, query_chunk=query_chunk, doc_chunk=doc_chunk)[1][:, 0]
        top_s = exact_topk(y[tgts], x, 1, query_chunk=query_chunk, doc_chunk=doc_chunk)[1][:, 0]
    else:
        top_t, top_s = stats.x2y_ind[srcs, 0], stats.y2x_ind[tgts, 0]
    return P1Hits(srcs, np.isin(srcs * m + top_t, codes), tgts, np.isin(top_s * m + tgts, codes))


def bitext_p_at_1(
    x: np.ndarray,
    y: np.ndarray,
    gold: np.ndarray | Sequence[tuple[int, int]] | None = None,
    *,
    normalize: bool = False,
    query_chunk: int = DEFAULT_QUERY_CHUNK,
    doc_chunk: int = DEFAULT_DOC_CHUNK,
) -> dict[str, float]:
    """P@1 of cosine nearest-neighbour retrieval in both directions.

    ``src2tgt`` = share of gold sources whose nearest target (over all of Y, distractors included) is one of their
    gold targets; ``tgt2src`` = share of gold targets whose nearest source is one of their gold sources.

    Args:
        x, y: Source ``[n, d]`` and target ``[m, d]`` embeddings.
        gold: ``[G, 2]`` aligned ``(source, target)`` pairs; default ``(i, i)`` for ``i < n`` (needs ``m ≥ n``).
        normalize: L2-normalise the rows first.

    Returns:
        ``{"src2tgt": p, "tgt2src": p}``.
    """
    h = p_at_1_hits(x, y, gold, normalize=normalize, query_chunk=query_chunk, doc_chunk=doc_chunk)
    return {"src2tgt": float(h.src2tgt.mean()), "tgt2src": float(h.tgt2src.mean())}


@dataclass
class XsimResult:
    """xSIM: ``errors`` of ``n`` counted sources; ``error_rate = errors / n`` (NaN when ``n = 0``).

    Attributes:
        sources: ``[n]`` the counted sources; wrong: ``[n]`` whether each one's best target is not its gold target.
    """

    errors: int
    n: int
    error_rate: float
    sources: np.ndarray
    wrong: np.ndarray


def xsim_error(
    x: np.ndarray,
    y: np.ndarray,
    gold: np.ndarray | Sequence[int] | Sequence[tuple[int, int]] | None = None,
    *,
    k: int = 4,
    margin: Margin = "ratio",
    candidates: MarginCandidates | None = None,
    normalize: bool = False,
) -> XsimResult:
    """xSIM error rate (LASER ``xsim.py``): share of sources whose best target is not their gold target.

    The best target is the margin-best of the k cosine-nearest targets (``margin="absolute"``: the cosine top-1).

    Args:
        x, y: Source ``[n, d]`` and target ``[m, d]`` embeddings (``m ≥ n`` allows distractor targets).
        gold: ``[n]`` gold target index of each source (default ``arange(n)``), or ``[G, 2]`` gold
            ``(source, target)`` pairs: then only the sources with exactly one gold target are counted.
        k: Neighbourhood size.
        margin: ``"ratio"`` (LASER's default), ``"distance"`` or ``"absolute"``.
        candidates: Precomputed :func:`margin_candidates` (same k and margin).
        normalize: L2-normalise the rows first.
    """
    x, y = _xy(x, y, normalize)
    n, m = x.shape[0], y.shape[0]
    if gold is None:
        if m < n:
            raise DataFormatError(
                f"default gold aligns source i to target i, needs m >= n (n={n}, m={m})", field="gold"
            )
        src, tgt = np.arange(n, dtype=np.int64), np.arange(n, dtype=np.int64)
    elif np.ndim(gold) == 2:
        g = _gold_pairs(gold, n, m)
        one = np.bincount(g[:, 0], minlength=n)[g[:, 0]] == 1
        src, tgt = g[one, 0], g[one, 1]
    else:
        tgt = np.asarray(gold, dtype=np.int64)
        if tgt.shape != (n,) or tgt.min() < 0 or tgt.max() >= m:
            raise DataFormatError(f"gold must give one target index in 0..{m - 1} per source ({n})", field="gold")
        src = np.arange(n, dtype=np.int64)
    if margin == "absolute" and candidates is None:
        best = exact_topk(x[src], y, 1)[1][:, 0]
    else:
        c = candidates if candidates is not None else margin_candidates(x, y, k=k, margin=margin)
        best = c.fwd_best[src]
    wrong = best != tgt
    errors = int(wrong.sum())
    return XsimResult(errors, len(src), errors / len(src) if len(src) else float("nan"), src, wrong)


@dataclass
class BuccResult:
    """Best point of the BUCC threshold sweep.

    Attributes:
        threshold: Extract pairs with ``score ≥ threshold`` (``inf`` when no candidate is correct).
        f1, precision, recall: At that threshold.
        n_extracted, n_correct, n_gold: Counts behind them.
    """

    threshold: float
    f1: float
    precision: float
    recall: float
    n_extracted: int
    n_correct: int
    n_gold: int

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def bucc_optimize(
    scores: np.ndarray | Sequence[float], correct: np.ndarray | Sequence[bool], n_gold: int
) -> BuccResult:
    """Sweep the extraction threshold over candidate scores and return the F1-best one (vectorised, no loop).

    With candidates sorted by score descending, a threshold can only separate *distinct* scores, so cuts are
    evaluated after position ``i`` when ``s_i > s_{i+1}`` and after the last candidate:
    ``P_i = C_i / (i+1)``, ``R_i = C_i / n_gold``, ``F1_i = 2 P_i R_i / (P_i + R_i)`` with ``C_i`` the number of
    correct candidates in the first ``i+1``. The threshold is ``(s_i + s_{i+1}) / 2`` — or ``s_i`` when ``i`` is the
    last candidate (where LASER's ``BuccOptimize`` indexes past the end) or the midpoint rounds onto ``s_{i+1}``.
    The first (highest-threshold) of equal F1 values wins.

    Args:
        scores: ``[C]`` candidate scores (each candidate a distinct pair).
        correct: ``[C]`` whether each candidate is a gold pair.
        n_gold: Number of gold pairs (recall denominator), including those no candidate found.
    """
    s = np.asarray(scores, dtype=np.float64)
    c = np.asarray(correct, dtype=bool)
    if s.ndim != 1 or c.shape != s.shape:
        raise DataFormatError(f"scores {s.shape} and correct {c.shape} must be equal 1-D arrays", field="scores")
    if not np.isfinite(s).all():
        raise DataFormatError("candidate scores contain NaN or infinite values", field="scores")
    if n_gold < 1:
        raise ValueError(f"n_gold must be >= 1, got {n_gold}")
    if int(c.sum()) > n_gold:
        raise ValueError(f"{int(c.sum())} correct candidates but only n_gold={n_gold} gold pairs")
    order = np.argsort(-s, kind="stable")
    s, c = s[order], c[order]
    if not c.any():
        return BuccResult(float("inf"), 0.0, 0.0, 0.0, 0, 0, int(n_gold))
    n_correct = np.cumsum(c)
    n_extract = np.arange(1, len(s) + 1)
    cut = np.ones(len(s), dtype=bool)
    cut[:-1] = s[:-1] > s[1:]
    prec = n_correct / n_extract
    rec = n_correct / n_gold
    denom = prec + rec
    f1 = np.zeros_like(prec)
    np.divide(2 * prec * rec, denom, out=f1, where=denom > 0)
    f1[~cut] = -1.0
    i = int(np.argmax(f1))
    if i + 1 < len(s):
        thr = (s[i] + s[i + 1]) / 2.0
        if not thr > s[i + 1]:
            thr = s[i]
    else:
        thr = s[i]
    return BuccResult(
        threshold=float(thr),
        f1=float(f1[i]),
        precision=float(prec[i]),
        recall=float(rec[i]),
        n_extracted=int(n_extract[i]),
        n_correct=int(n_correct[i]),
        n_gold=int(n_gold),
    )


def _correct(mined: MinedPairs, gold: np.ndarray | Sequence[tuple[int, int]]) -> tuple[np.ndarray, int]:
    g = _gold_array(gold)
    width = int(max(g[:, 1].max(), mined.tgt.max() if len(mined) else 0)) + 1
    gold_codes = np.unique(g[:, 0] * width + g[:, 1])
    return np.isin(mined.src * width + mined.tgt, gold_codes), int(gold_codes.size)


def bucc_f1(mined: MinedPairs, gold: np.ndarray | Sequence[tuple[int, int]]) -> BuccResult:
    """BUCC-style mining P/R/F1 at the best threshold over ``mined`` (see :func:`bucc_optimize`).

    Args:
        mined: Candidate pairs with scores (e.g. ``mine_bitext(..., retrieval="max")`` without threshold).
        gold: ``[G, 2]`` gold ``(source, target)`` pairs.
    """
    correct, n_gold = _correct(mined, gold)
    return bucc_optimize(mined.score, correct, n_gold)


def mining_prf(mined: MinedPairs, gold: np.ndarray | Sequence[tuple[int, int]], threshold: float) -> dict[str, float]:
    """Precision, recall and F1 of the pairs with ``score ≥ threshold`` (e.g. a threshold tuned on other data)."""
    correct, n_gold = _correct(mined, gold)
    keep = mined.score >= threshold
    n_ext = int(keep.sum())
    n_cor = int(correct[keep].sum())
    p = n_cor / n_ext if n_ext else 0.0
    r = n_cor / n_gold
    f = 2 * p * r / (p + r) if p + r > 0 else 0.0
    return {"precision": p, "recall": r, "f1": f, "n_extracted": n_ext, "n_correct": n_cor, "n_gold": n_gold}


def evaluate_bitext(
    x: np.ndarray,
    y: np.ndarray,
    gold: np.ndarray | Sequence[tuple[int, int]] | None = None,
    *,
    k: int = 4,
    margin: Margin = "ratio",
    retrieval: Retrieval = "max",
    normalize: bool = True,
) -> dict[str, Any]:
    """Cosine P@1 both ways, xSIM (margin and absolute) and BUCC F1 in one call (raw values, not ×100).

    Args:
        x, y: Source and target embeddings (normalised here unless ``normalize=False``).
        gold: ``[G, 2]`` aligned pairs; default ``(i, i)`` for ``i < n``. xSIM needs exactly one gold target per
            source and is reported only then.
        k, margin, retrieval: As in :func:`mine_bitext`.
    """
    x, y = _xy(x, y, normalize)
    n, m = x.shape[0], y.shape[0]
    g = _gold_pairs(gold, n, m)
    out: dict[str, Any] = {"n_src": n, "n_tgt": m, "n_gold": int(g.shape[0]), "k": k, "margin": margin}
    p1 = bitext_p_at_1(x, y, g)
    out["p@1_src2tgt"], out["p@1_tgt2src"] = p1["src2tgt"], p1["tgt2src"]
    cands = margin_candidates(x, y, k=k, margin=margin)
    if g.shape[0] == n and np.array_equal(np.sort(g[:, 0]), np.arange(n)):
        out["xsim_error"] = xsim_error(x, y, g, k=k, margin=margin, candidates=cands).error_rate
        out["xsim_absolute"] = xsim_error(x, y, g, margin="absolute").error_rate
    mined = mine_bitext(x, y, k=k, margin=margin, retrieval=retrieval, candidates=cands)
    best = bucc_f1(mined, g)
    out.update({f"bucc_{key}": value for key, value in best.to_dict().items()})
    return out
