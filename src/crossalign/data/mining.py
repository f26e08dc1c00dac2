"""Hard-negative mining with an encoder: rank a candidate pool for every anchor and sample from a rank window.

For each anchor (a query) the candidates (passages, or other queries) are ranked by inner product of their embeddings
(cosine for normalised vectors) with :func:`crossalign.search.exact_topk`. Then, per anchor:

1. **Exclusions.** A candidate is *not eligible* when it shares a group with the anchor (the same help page: sections
   of one page overlap in content, so they are likely false negatives), when it is one of the anchor's excluded
   candidates (its own positive, any candidate whose text equals the positive, the anchor's own text when anchors
   and candidates are the same kind).
2. **Ranks.** The eligible candidates, in score order, get ranks 1, 2, 3, ... (exclusions do not use up ranks).
3. **Window.** The top ranks are skipped (false negatives: in a technical help, the best-scoring other sections often
   answer the query too) and ``n`` negatives are sampled uniformly, without replacement, from the ranks
   ``lo..hi`` (default 30–100; CLEAR's reference data used ~50–100 on a larger pool). The sampled negatives are
   returned hardest first, so ``negative_1`` is the best-scoring one.
4. **Positive-aware filter (optional).** With ``max_score_ratio`` set, a candidate scoring above
   ``max_score_ratio × s(anchor, positive)`` is dropped from the window (NV-Retriever's "TopK-PercPos", 0.95 there).
   For query negatives there is no positive passage: the anchor itself is the positive, so the filter drops
   candidates above ``max_score_ratio × s(anchor, anchor)`` (= ``max_score_ratio`` for normalised vectors), i.e.
   near-duplicate queries.
5. **Too few?** When the window holds fewer than ``n`` usable candidates (small pool, filter), the next eligible
   candidates *below* the window are taken (ranks ``hi+1, hi+2, ...``; never above ``lo``, which would bring back
   likely false negatives). An anchor that still has fewer than ``n`` gets none (``ok`` is False) and its row should be
   dropped: a training row needs exactly ``n`` negatives (CLEAR's KL needs equal widths).

**Pool-size scaling (ours).** The window is meant for pools of at least ``reference_pool = 1000`` candidates; a pool
of ``N`` smaller scales both ends by ``f = N / reference_pool``: ``lo' = max(1, round(lo·f))``,
``hi' = max(lo' + n − 1, round(hi·f))`` (200 candidates: ranks 6–20). ``reference_pool=None`` turns it off.

**Determinism.** An anchor's sample depends only on ``(seed, anchor key, its ranked list)`` (its own stream, seeded
by SHA-256 of its key), so adding or removing other anchors never changes it. :class:`TextEncoder` encodes each
``(prompt, text)`` once per build.

Example:
    >>> import numpy as np
    >>> anchors = np.eye(2, dtype=np.float32)
    >>> cands = np.array([[1, 0], [0.9, 0.1], [0.8, 0.2], [0, 1]], dtype=np.float32)
    >>> cfg = MiningConfig(num_negatives=1, rank_range=(2, 2), reference_pool=None)
    >>> res = mine_from_embeddings(anchors, cands, anchor_groups=["a", "b"], candidate_groups=["a", "x", "y", "b"],
    ...                            config=cfg)
    >>> res.indices.tolist()  # anchor 0: cand 0 is on its page, ranks 1/2 are cands 1/2 -> cand 2
    [[2], [1]]
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Collection, Hashable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from crossalign.data.splits import seeded_rng
from crossalign.errors import ConfigError, DataFormatError, ModelError
from crossalign.models.embedding_cache import EmbeddingCache
from crossalign.search import exact_topk
from crossalign.utils.checks import check_count
from crossalign.utils.progress import stage

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

logger = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_NUM_NEGATIVES",
    "DEFAULT_RANK_RANGE",
    "DEFAULT_REFERENCE_POOL",
    "EncodeFn",
    "MinedNegatives",
    "MiningConfig",
    "TextEncoder",
    "mine_from_embeddings",
    "mine_hard_negatives",
    "parse_rank_range",
    "resolve_encoder",
]

#: Negatives per row (CLEAR's reference data has 5).
DEFAULT_NUM_NEGATIVES = 5
#: 1-based eligible ranks the negatives are sampled from (CLEAR's reference: ~50–100; ours starts at 30 because the
#: help's pools are smaller than a web corpus).
DEFAULT_RANK_RANGE: tuple[int, int] = (30, 100)
#: Pool size for which the rank window holds as given; smaller pools scale it down proportionally.
DEFAULT_REFERENCE_POOL = 1000

#: ``fn(texts, prompt_name) -> float32 [len(texts), dim]``: the encoder interface besides a SentenceTransformer.
EncodeFn = Callable[[list[str], "str | None"], np.ndarray]


def parse_rank_range(value: str | Sequence[int]) -> tuple[int, int]:
    """Parse ``"30,100"`` (or ``(30, 100)``) into a validated ``(lo, hi)`` pair of 1-based ranks.

    Raises:
        ConfigError: Not two integers with ``1 <= lo <= hi``.

    Example:
        >>> parse_rank_range("30,100")
        (30, 100)
    """
    try:
        parts = [int(p) for p in value.split(",")] if isinstance(value, str) else [int(p) for p in value]
    except (TypeError, ValueError):
        parts = []
    if len(parts) != 2 or parts[0] < 1 or parts[1] < parts[0]:
        raise ConfigError(
            f"rank range must be two integers lo,hi with 1 <= lo <= hi, got {value!r}",
            hint="for example --rank-range 30,100 (skip the 29 best candidates, sample from ranks 30 to 100)",
        )
    return parts[0], parts[1]


@dataclass(frozen=True)
class MiningConfig:
    """How negatives are mined (see the module docstring for the rules).

    Attributes:
        num_negatives: Negatives per anchor (``n``).
        rank_range: ``(lo, hi)``, 1-based eligible ranks to sample from, for a pool of ``reference_pool`` or more.
        reference_pool: Pools smaller than this scale the window by ``pool / reference_pool``; None: never scale.
        max_score_ratio: Positive-aware filter: drop candidates scoring above this × the positive's score (None: off).
        seed: Seed of the sampling (combined with each anchor's key).
        batch_size: Encoding batch size (texts per forward pass).
    """

    num_negatives: int = DEFAULT_NUM_NEGATIVES
    rank_range: tuple[int, int] = DEFAULT_RANK_RANGE
    reference_pool: int | None = DEFAULT_REFERENCE_POOL
    max_score_ratio: float | None = None
    seed: int = 13
    batch_size: int = 64

    def __post_init__(self) -> None:
        check_count(self.num_negatives, "num_negatives", minimum=1, optional=False, hint="for example --negatives 5")
        lo, hi = parse_rank_range(self.rank_range)
        object.__setattr__(self, "rank_range", (lo, hi))
        if hi - lo + 1 < self.num_negatives:
            raise ConfigError(
                f"rank range {lo}..{hi} holds {hi - lo + 1} ranks, fewer than the {self.num_negatives} negatives asked "
                "for",
                hint="widen --rank-range or lower --negatives",
            )
        check_count(self.reference_pool, "reference_pool", minimum=1)
        if self.max_score_ratio is not None and not (0.0 < float(self.max_score_ratio) <= 2.0):
            raise ConfigError(
                f"max_score_ratio must be in (0, 2], got {self.max_score_ratio!r}",
                hint="NV-Retriever uses 0.95: drop candidates scoring above 95 % of the positive",
            )
        check_count(self.batch_size, "batch_size", minimum=1, optional=False)

    def effective_range(self, pool_size: int) -> tuple[int, int]:
        """The rank window used for a pool of ``pool_size`` candidates (scaled down below ``reference_pool``).

        Example:
            >>> MiningConfig().effective_range(8000), MiningConfig().effective_range(200)
            ((30, 100), (6, 20))
        """
        lo, hi = self.rank_range
        if self.reference_pool is None or pool_size >= self.reference_pool:
            return lo, hi
        f = pool_size / self.reference_pool
        lo_s = max(1, round(lo * f))
        hi_s = max(lo_s + self.num_negatives - 1, round(hi * f))
        return lo_s, hi_s

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form for manifests."""
        d = asdict(self)
        d["rank_range"] = list(self.rank_range)
        return d


@dataclass
class MinedNegatives:
    """The negatives of every anchor.

    Attributes:
        indices: int64 ``[n_anchors, n]`` candidate indices, hardest first; ``-1`` in rows that failed.
        scores: float32 ``[n_anchors, n]`` their scores (NaN in failed rows).
        ranks: int64 ``[n_anchors, n]`` their 1-based eligible ranks (0 in failed rows).
        ok: bool ``[n_anchors]``: the anchor got ``n`` negatives.
        rank_range: The effective ``(lo, hi)`` window (after pool-size scaling).
        pool_size: Number of candidates.
        candidates: The candidate texts when mined from texts (:func:`mine_hard_negatives`), else None.
        stats: Counts: ``anchors``, ``ok``, ``failed``, ``extended`` (anchors that needed ranks below ``hi``),
            ``threshold_dropped`` (window candidates removed by ``max_score_ratio``), ``depth`` (top-k fetched).
    """

    indices: np.ndarray
    scores: np.ndarray
    ranks: np.ndarray
    ok: np.ndarray
    rank_range: tuple[int, int]
    pool_size: int
    candidates: list[str] | None = None
    stats: dict[str, int] = field(default_factory=dict)

    def texts(self, row: int) -> list[str]:
        """The negative texts of anchor ``row`` (hardest first; empty if it failed or no texts are known)."""
        if self.candidates is None or not self.ok[row]:
            return []
        return [self.candidates[i] for i in self.indices[row]]


# ----------------------------------------------------------------------------------------------------------- core
def _check_lengths(nq: int, nc: int, **per_item: Sequence[Any] | None) -> None:
    """``DataFormatError`` naming the first argument whose length is not one per anchor (or per candidate)."""
    for name, values in per_item.items():
        want, of = (nc, "candidates") if name.startswith("candidate") else (nq, "anchors")
        if values is not None and len(values) != want:
            raise DataFormatError(f"{len(values)} {name.replace('_', ' ')} for {want} {of}", field=name)


def _nothing_mined(nq: int, nc: int, config: MiningConfig) -> MinedNegatives:
    """The result for an empty anchor list or pool: every anchor failed."""
    n = config.num_negatives
    return MinedNegatives(
        np.full((nq, n), -1, dtype=np.int64),
        np.full((nq, n), np.nan, dtype=np.float32),
        np.zeros((nq, n), dtype=np.int64),
        np.zeros(nq, dtype=bool),
        config.effective_range(nc),
        nc,
        stats={"anchors": nq, "ok": 0, "failed": nq, "extended": 0, "threshold_dropped": 0, "depth": 0},
    )


def _group_ids(
    anchor_groups: Sequence[Hashable], candidate_groups: Sequence[Hashable | Collection[Hashable]]
) -> tuple[np.ndarray, np.ndarray]:
    """Integer group ids: anchors ``[nq]``, candidates ``[nc, g]`` (padded with -1; a candidate may have several)."""
    ids: dict[Hashable, int] = {}
    a = np.fromiter((ids.setdefault(g, len(ids)) for g in anchor_groups), dtype=np.int64, count=len(anchor_groups))
    rows: list[list[int]] = []
    for g in candidate_groups:
        members = [g] if isinstance(g, str) or not isinstance(g, Collection) else list(g)
        rows.append([ids.setdefault(m, len(ids)) for m in members] or [-1])
    width = max((len(r) for r in rows), default=1)
    c = np.full((len(rows), width), -1, dtype=np.int64)
    for i, r in enumerate(rows):
        c[i, : len(r)] = r
    return a, c


def _exclusions(exclude: Sequence[Collection[int]] | None, nq: int) -> np.ndarray:
    """Per-anchor excluded candidate indices as a padded ``[nq, m]`` array (-1 = none)."""
    if exclude is None:
        return np.full((nq, 1), -1, dtype=np.int64)
    if len(exclude) != nq:
        raise DataFormatError(f"exclude has {len(exclude)} entries for {nq} anchors", field="exclude")
    width = max((len(e) for e in exclude), default=1) or 1
    out = np.full((nq, width), -1, dtype=np.int64)
    for i, e in enumerate(exclude):
        if e:
            out[i, : len(e)] = sorted(int(x) for x in e)
    return out


def _row_keys(keys: Sequence[str], seed: int, width: int) -> np.ndarray:
    """One independent uniform stream per anchor: ``[nq, width]`` random numbers seeded by (seed, key)."""
    return np.stack([seeded_rng(seed, str(key)).random(width) for key in keys]) if keys else np.empty((0, width))


def _select(
    scores: np.ndarray,
    idx: np.ndarray,
    a_groups: np.ndarray,
    c_groups: np.ndarray,
    excl: np.ndarray,
    pos_scores: np.ndarray | None,
    keys: Sequence[str],
    config: MiningConfig,
    lo: int,
    hi: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """Pick the negatives of a block of anchors from their top-k lists (all arrays ``[rows, k]``)."""
    n = config.num_negatives
    rows, k = idx.shape
    same = (c_groups[idx] == a_groups[:, None, None]).any(axis=2)
    excluded = (idx[:, :, None] == excl[:, None, :]).any(axis=2)
    eligible = ~same & ~excluded
    rank = np.cumsum(eligible, axis=1)
    passes = np.ones_like(eligible)
    if config.max_score_ratio is not None and pos_scores is not None:
        passes = scores <= config.max_score_ratio * pos_scores[:, None]
    window = eligible & (rank >= lo) & (rank <= hi)
    thr_dropped = int((window & ~passes).sum())
    window &= passes
    below = eligible & passes & (rank > hi)
    # in-window candidates sort by their random key (uniform sample); below-window ones after them, nearest first
    order_key = np.full((rows, k), np.inf)
    rand = _row_keys(keys, config.seed, k)
    order_key[window] = rand[window]
    pos = np.broadcast_to(np.arange(k, dtype=np.float64), (rows, k))
    order_key[below] = 2.0 + pos[below]
    pick = np.argsort(order_key, axis=1, kind="stable")[:, :n]
    picked_key = np.take_along_axis(order_key, pick, axis=1)
    ok = np.isfinite(picked_key).all(axis=1) if pick.shape[1] == n else np.zeros(rows, dtype=bool)
    extended = ok & (picked_key >= 2.0).any(axis=1) if pick.shape[1] == n else np.zeros(rows, dtype=bool)
    pick = np.sort(pick, axis=1)  # hardest (best-scoring) first
    if pick.shape[1] < n:
        pad = np.zeros((rows, n - pick.shape[1]), dtype=pick.dtype)
        pick = np.concatenate([pick, pad], axis=1)
    sel_idx = np.take_along_axis(idx, pick, axis=1)
    sel_scores = np.take_along_axis(scores, pick, axis=1).astype(np.float32)
    sel_ranks = np.take_along_axis(rank, pick, axis=1).astype(np.int64)
    sel_idx[~ok] = -1
    sel_scores[~ok] = np.nan
    sel_ranks[~ok] = 0
    return sel_idx, sel_scores, sel_ranks, ok, extended, thr_dropped


def mine_from_embeddings(
    anchors: np.ndarray,
    candidates: np.ndarray,
    *,
    anchor_groups: Sequence[Hashable],
    candidate_groups: Sequence[Hashable | Collection[Hashable]],
    exclude: Sequence[Collection[int]] | None = None,
    positive_scores: np.ndarray | Sequence[float] | None = None,
    anchor_keys: Sequence[str] | None = None,
    config: MiningConfig = MiningConfig(),
) -> MinedNegatives:
    """Mine ``config.num_negatives`` negatives per anchor from precomputed embeddings.

    Args:
        anchors: ``[nq, dim]`` anchor embeddings (normalised for cosine).
        candidates: ``[nc, dim]`` candidate embeddings.
        anchor_groups: Group (page) of each anchor.
        candidate_groups: Group of each candidate, or a collection of groups when the same text occurs on several
            pages (it is then excluded for anchors of any of them).
        exclude: Per anchor, candidate indices that are never negatives (its positive, texts equal to it).
        positive_scores: ``[nq]`` score of each anchor's positive, for ``config.max_score_ratio``.
        anchor_keys: A stable key per anchor (e.g. the section id) seeding its sample; default: the row number.
        config: Window, number of negatives, filter, seed.

    Returns:
        :class:`MinedNegatives` (``candidates`` is None here).

    Raises:
        DataFormatError: Mismatched lengths or embedding shapes.
        ConfigError: ``max_score_ratio`` is set but no ``positive_scores`` are given.

    Example:
        >>> import numpy as np
        >>> e = np.eye(3, dtype=np.float32)
        >>> r = mine_from_embeddings(e[:1], e, anchor_groups=["p"], candidate_groups=["p", "q", "r"],
        ...                          config=MiningConfig(num_negatives=2, rank_range=(1, 2), reference_pool=None))
        >>> r.indices.tolist(), r.ok.tolist()
        ([[2, 1]], [True])
    """
    a = np.ascontiguousarray(anchors, dtype=np.float32)
    c = np.ascontiguousarray(candidates, dtype=np.float32)
    nq, nc = a.shape[0], c.shape[0]
    keys = [str(i) for i in range(nq)] if anchor_keys is None else [str(k) for k in anchor_keys]
    _check_lengths(nq, nc, anchor_groups=anchor_groups, candidate_groups=candidate_groups, anchor_keys=keys)
    pos: np.ndarray | None = None
    if config.max_score_ratio is not None:
        if positive_scores is None:
            raise ConfigError("max_score_ratio needs positive_scores (the score of each anchor's positive)")
        pos = np.asarray(positive_scores, dtype=np.float32)
        if pos.shape != (nq,):
            raise DataFormatError(f"positive_scores has shape {pos.shape}, expected ({nq},)", field="positive_scores")
    n = config.num_negatives
    lo, hi = config.effective_range(nc)
    if nq == 0 or nc == 0:
        return _nothing_mined(nq, nc, config)
    a_groups, c_groups = _group_ids(anchor_groups, candidate_groups)
    excl = _exclusions(exclude, nq)
    # depth: enough for the window after the worst case of exclusions, plus as much again for extensions
    sizes = np.bincount(c_groups[c_groups >= 0], minlength=int(max(a_groups.max(), c_groups.max())) + 1)
    max_same = int(sizes[a_groups].max())
    depth = min(nc, hi + max_same + excl.shape[1] + max(n, hi - lo + 1))
    scores, idx = exact_topk(a, c, depth)
    out_i, out_s, out_r, ok, ext, dropped = _select(scores, idx, a_groups, c_groups, excl, pos, keys, config, lo, hi)
    redo = np.nonzero(~ok)[0]
    if len(redo) and depth < nc:  # the rare anchor whose list ran dry: rank the whole pool for it
        s2, i2 = exact_topk(a[redo], c, nc)
        r = _select(
            s2, i2, a_groups[redo], c_groups, excl[redo], None if pos is None else pos[redo],
            [keys[j] for j in redo], config, lo, hi,
        )  # fmt: skip
        out_i[redo], out_s[redo], out_r[redo], ok[redo], ext[redo] = r[0], r[1], r[2], r[3], r[4]
    stats = {
        "anchors": nq,
        "ok": int(ok.sum()),
        "failed": int((~ok).sum()),
        "extended": int(ext.sum()),
        "threshold_dropped": dropped,
        "depth": depth,
    }
    return MinedNegatives(out_i, out_s, out_r, ok, (lo, hi), nc, stats=stats)


# ---------------------------------------------------------------------------------------------------------- texts
class TextEncoder(EmbeddingCache):
    """The in-memory :class:`~crossalign.models.embedding_cache.EmbeddingCache` mining encodes through (each
    ``(prompt, text)`` once per build), which also takes a plain function and says what it encodes.

    Args:
        model: A SentenceTransformer (encoded with :func:`crossalign.models.encode`, token-length batching), or an
            :data:`EncodeFn` ``fn(texts, prompt_name) -> array`` (tests use one with controlled vectors).
        batch_size: Texts per forward pass.
        normalize: L2-normalise a function's vectors (cosine scores); a model's always are.

    Example:
        >>> enc = TextEncoder(lambda texts, prompt: np.ones((len(texts), 2), dtype=np.float32))
        >>> enc.encode(["a", "b", "a"], "query").shape, enc.n_encoded
        ((3, 2), 2)
    """

    def __init__(self, model: SentenceTransformer | EncodeFn, *, batch_size: int = 64, normalize: bool = True) -> None:
        import torch

        if isinstance(model, torch.nn.Module):
            super().__init__(model, fingerprint=f"transient-{id(model):x}", batch_size=batch_size)
        elif callable(model):
            fn = model

            def run(_model: Any, texts: list[str], *, prompt_name: str | None, **_: Any) -> np.ndarray:
                out = np.asarray(fn(texts, prompt_name), dtype=np.float32)
                if normalize and out.ndim == 2:
                    out = out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
                return out

            super().__init__(
                model, fingerprint=f"transient-{id(model):x}", batch_size=batch_size, backend="torch", encode_fn=run
            )
        else:
            raise ConfigError(
                f"cannot encode with an object of type {type(model).__name__}",
                hint="pass a SentenceTransformer (crossalign.models.load_model) or a function fn(texts, prompt_name)",
            )
        self._what = "texts"

    @property
    def n_encoded(self) -> int:
        """Texts run through the model so far."""
        return self.stats.encoded

    @property
    def seconds(self) -> float:
        """Wall time spent in the model so far."""
        return self.stats.encode_seconds

    def encode(
        self, texts: Sequence[str], prompt_name: str | None, langs: Any = None, *, what: str | None = None
    ) -> np.ndarray:
        """As :meth:`EmbeddingCache.encode`; ``what`` labels the progress message (``"English passages"``)."""
        self._what = what or "texts"
        return super().encode(texts, prompt_name, langs)

    def _run_model(self, texts: list[str], prompt_name: str | None) -> np.ndarray:
        stage(f"mining: encoding {len(texts):,} {self._what} ({prompt_name or 'no'} prompt)")
        return super()._run_model(texts, prompt_name)


def _as_encoder(model: TextEncoder | SentenceTransformer | EncodeFn, batch_size: int) -> TextEncoder:
    return model if isinstance(model, TextEncoder) else TextEncoder(model, batch_size=batch_size)


def mine_hard_negatives(
    model: TextEncoder | SentenceTransformer | EncodeFn,
    anchors: Sequence[str],
    candidates: Sequence[str],
    *,
    anchor_groups: Sequence[Hashable],
    candidate_groups: Sequence[Hashable],
    positives: Sequence[str | None] | None = None,
    anchor_prompt: str | None = "query",
    candidate_prompt: str | None = "passage",
    anchor_keys: Sequence[str] | None = None,
    config: MiningConfig = MiningConfig(),
    what: Mapping[str, str] | None = None,
) -> MinedNegatives:
    """Mine negatives for text anchors from a text pool, encoding every distinct text once.

    Candidates with the same text are merged into one (excluded for anchors of any of their groups), so a row never
    gets the same negative twice. Never a negative: a candidate of the anchor's group, a candidate whose text equals
    the anchor's positive, a candidate whose text equals the anchor itself.

    Args:
        model: A :class:`TextEncoder` (shares its stored vectors), a SentenceTransformer or an encode function.
        anchors: Anchor texts (queries).
        candidates: The pool (passages for passage negatives, queries of the same language for query negatives).
        anchor_groups: Group (page) per anchor.
        candidate_groups: Group per candidate.
        positives: Each anchor's positive text (None: no positive; the anchor itself is then the reference of
            ``max_score_ratio``).
        anchor_prompt: Prompt name for the anchors (``"query"``).
        candidate_prompt: Prompt name for candidates and positives (``"passage"``; ``"query"`` for query pools).
        anchor_keys: Stable keys seeding each anchor's sample (default: the anchor text).
        config: The mining configuration.
        what: Labels for progress messages: ``{"anchors": ..., "candidates": ...}``.

    Returns:
        :class:`MinedNegatives` with ``candidates`` set to the distinct candidate texts (``indices`` point into it).

    Raises:
        DataFormatError: Mismatched lengths.

    Example:
        >>> vec = {"q1": [1, 0], "q2": [0, 1], "a": [0.9, 0.1], "b": [0.1, 0.9], "c": [0.7, 0.3]}
        >>> fn = lambda texts, prompt: np.array([vec[t] for t in texts], dtype=np.float32)
        >>> cfg = MiningConfig(num_negatives=1, rank_range=(1, 1), reference_pool=None)
        >>> res = mine_hard_negatives(fn, ["q1", "q2"], ["a", "b", "c"], anchor_groups=["p1", "p2"],
        ...                           candidate_groups=["p1", "p2", "p3"], positives=["a", "b"], config=cfg)
        >>> res.texts(0), res.texts(1)
        (['c'], ['c'])
    """
    _check_lengths(
        len(anchors),
        len(candidates),
        anchor_groups=anchor_groups,
        candidate_groups=candidate_groups,
        positives=positives,
    )
    enc = _as_encoder(model, config.batch_size)
    labels = dict(what or {})
    # distinct candidate texts, each with every group it occurs in
    text_groups: dict[str, list[Hashable]] = {}
    for t, g in zip(candidates, candidate_groups):
        gs = text_groups.setdefault(t, [])
        if g not in gs:
            gs.append(g)
    pool = list(text_groups)
    pool_index = {t: i for i, t in enumerate(pool)}
    groups: list[Hashable | tuple[Hashable, ...]] = [
        gs[0] if len(gs) == 1 else tuple(gs) for gs in text_groups.values()
    ]
    if not pool or not anchors:
        out = _nothing_mined(len(anchors), len(pool), config)
        out.candidates = pool
        return out
    c_emb = enc.encode(pool, candidate_prompt, what=labels.get("candidates", "candidates"))
    a_emb = enc.encode(list(anchors), anchor_prompt, what=labels.get("anchors", "anchors"))
    exclude: list[list[int]] = []
    for i, text in enumerate(anchors):
        ex = []
        if text in pool_index:
            ex.append(pool_index[text])
        pos_text = positives[i] if positives is not None else None
        if pos_text is not None and pos_text in pool_index:
            ex.append(pool_index[pos_text])
        exclude.append(ex)
    pos_scores: np.ndarray | None = None
    if config.max_score_ratio is not None:
        # the reference score: s(anchor, positive), or s(anchor, anchor) where there is no positive
        pos_list = list(positives) if positives is not None else [None] * len(anchors)
        given = [i for i, p in enumerate(pos_list) if p is not None]
        ref_emb = a_emb.copy()
        if given:
            ref_emb[given] = enc.encode([pos_list[i] for i in given], candidate_prompt, what="positives")
        pos_scores = np.einsum("ij,ij->i", a_emb, ref_emb)
    result = mine_from_embeddings(
        a_emb,
        c_emb,
        anchor_groups=anchor_groups,
        candidate_groups=groups,
        exclude=exclude,
        positive_scores=pos_scores,
        anchor_keys=list(anchors) if anchor_keys is None else anchor_keys,
        config=config,
    )
    result.candidates = pool
    return result


def resolve_encoder(
    model: Any,
    *,
    batch_size: int = 64,
    cache_dir: str | os.PathLike[str] | None = None,
    query_prompt: str | None = None,
    passage_prompt: str | None = None,
) -> tuple[TextEncoder, dict[str, Any]]:
    """A :class:`TextEncoder` for ``model`` and the manifest's description of it.

    Args:
        model: A model spec (built-in name, directory, Hugging Face id), a loaded SentenceTransformer, an encode
            function ``fn(texts, prompt_name)``, or a TextEncoder.
        batch_size: Encoding batch size.
        cache_dir: crossalign cache root (built-in models).
        query_prompt, passage_prompt: Prompts overriding the model's own and its family's (None: not given;
            ``""``: none). A model given as a spec always gets :func:`~crossalign.models.prompts.apply_prompts`; a
            loaded SentenceTransformer only when one of them is given (then its prompts change in place).

    Returns:
        ``(encoder, {"spec": ..., "fingerprint": ..., "prompts": ..., "prompt_choice": ...})``.
    """
    import torch

    by_spec = isinstance(model, str | os.PathLike)
    if isinstance(model, TextEncoder):
        enc = model
        spec: Any = getattr(model, "spec", None) or type(model.model).__name__
        loaded = model.model
    else:
        if by_spec:
            from crossalign.models import load_model

            spec = os.fspath(model)
            loaded = load_model(spec, cache_dir=cache_dir)
        else:
            spec = getattr(model, "__name__", None) or type(model).__name__
            loaded = model
        enc = TextEncoder(loaded, batch_size=batch_size)
    fingerprint: str | None = None
    if isinstance(loaded, torch.nn.Module):
        from crossalign.models import model_fingerprint

        try:
            fingerprint = model_fingerprint(spec) if by_spec else None
        except ModelError:  # an HF id is not a directory: hash the loaded weights instead
            fingerprint = None
        if fingerprint is None:
            fingerprint = model_fingerprint(loaded)
    choice = None
    explicit = query_prompt is not None or passage_prompt is not None
    if isinstance(loaded, torch.nn.Module) and (by_spec or explicit):
        from crossalign.models.prompts import apply_prompts

        choice = apply_prompts(loaded, spec if by_spec else None, query=query_prompt, passage=passage_prompt)
    elif explicit:
        raise ConfigError(
            "query_prompt/passage_prompt need a model (a spec or a SentenceTransformer), not an encode function",
            hint="prefix the texts in your encode function instead",
        )
    info = {"spec": spec, "fingerprint": fingerprint, "prompts": dict(getattr(loaded, "prompts", {}) or {})}
    if choice is not None:
        info["prompt_choice"] = choice.to_dict()
    return enc, info
