"""Ranked-retrieval metrics: nDCG, Recall, Precision, MRR, MAP, Success — vectorised, trec_eval-exact.

Two layers, as in ranx:

- Low-level functions take ``rel``, a ``[nq, depth]`` matrix whose row ``q`` holds the relevance grades of the
  documents query ``q`` retrieved, in rank order (``rel[q, 0]`` is the grade of the rank-1 document; unjudged
  documents and padding after a short run are 0), plus ``n_rel`` (relevant documents per query in the judgments) or
  ``ideal`` (the query's judged grades sorted descending) where a metric needs them. They return one value per query.
- :func:`evaluate_run` takes a run ``{qid: {docid: score}}`` and qrels ``{qid: {docid: grade}}``, ranks each query's
  documents by the tie rule, builds those matrices and returns per-query values and means.

Definitions (``R`` = number of judged documents with grade ≥ ``relevance_level``, ``rel_r`` = grade at rank ``r``,
``[x]`` = 1 if x else 0, ``n`` = number of documents retrieved). They are trec_eval's; the tests check every one
against pytrec-eval-terrier to 1e-9 on random runs with ties and graded judgments.

============  ==========================================================  ==========================
ours          formula                                                     trec_eval / pytrec_eval
============  ==========================================================  ==========================
ndcg@k        DCG@k / IDCG@k, DCG@k = Σ_{r≤min(k,n)} g_r / log2(r+1),     ``ndcg_cut_k``
              g_r = max(rel_r, 0) (linear gain, graded); IDCG@k = DCG@k
              of the judged grades sorted descending; 0 if IDCG = 0
ndcg          the same without cutoff                                     ``ndcg``
recall@k      Σ_{r≤k} [rel_r ≥ level] / R  (0 if R = 0)                   ``recall_k``
precision@k   Σ_{r≤k} [rel_r ≥ level] / k  (k even if n < k)              ``P_k``
mrr@k         1 / (first r ≤ k with rel_r ≥ level), 0 if none             ``recip_rank`` on the run
                                                                          cut to its top k
mrr           the same without cutoff                                     ``recip_rank``
map@k         (1/R) Σ_{r≤k, rel_r ≥ level} P@r   — denominator R, not     ``map_cut_k``
              min(k, R) (0 if R = 0)
map           the same without cutoff                                     ``map``
success@k     [∃ r ≤ k : rel_r ≥ level]                                   ``success_k``
============  ==========================================================  ==========================

nDCG uses every positive grade as gain whatever ``relevance_level`` is (as trec_eval does); the other metrics count a
document as relevant when its grade is ≥ ``relevance_level`` (default 1). Negative grades count as 0.

Tie rule: documents are ranked by score descending, then by document id descending (Python string order, which is
trec_eval's ``strcmp`` order on UTF-8) — trec_eval's ``form_res_rels.c``; the rank column of a TREC run file is
ignored, as trec_eval ignores it.

Queries (see :func:`evaluate_run`): a query with judgments but no relevant document has every metric 0 in trec_eval,
which then averages it in. We exclude it from the means by default (``no_relevant="skip"``) and count it; pass
``no_relevant="zero"`` for trec_eval's behaviour. Queries in the run but absent from the qrels are skipped (as
trec_eval does) and counted. Queries with relevant judgments but absent from the run score 0 by default
(``missing="zero"``, like ``trec_eval -c``; plain trec_eval and pytrec_eval skip them, which flatters a run that
returns nothing for hard queries).
"""

from __future__ import annotations

import heapq
import math
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from crossalign.data.io import read_utf8
from crossalign.errors import DataFormatError
from crossalign.evaluation.metrics import MetricSpec, parse_metrics
from crossalign.utils.atomic import atomic_open

__all__ = [
    "Run",
    "RunEvaluation",
    "average_precision",
    "dcg",
    "evaluate_run",
    "ndcg",
    "precision",
    "rank_documents",
    "read_trec_run",
    "recall",
    "reciprocal_rank",
    "relevance_matrix",
    "success",
    "write_trec_run",
]


# --------------------------------------------------------------------------------------------------- low-level kernels
def _as_rel(rel: np.ndarray) -> np.ndarray:
    arr = np.asarray(rel, dtype=np.float64)
    if arr.ndim != 2:
        raise DataFormatError(f"rel must be a 2-D [n_queries, depth] matrix, got shape {arr.shape}", field="rel")
    return arr


def _cut(rel: np.ndarray, k: int | None) -> np.ndarray:
    if k is None:
        return rel
    if k < 1:
        raise ValueError(f"cutoff k must be >= 1, got {k}")
    return rel[:, :k]


def _discounts(depth: int) -> np.ndarray:
    """``1 / log2(r + 1)`` for ranks r = 1..depth."""
    return 1.0 / np.log2(np.arange(2, depth + 2, dtype=np.float64))


def _n_rel(n_rel: np.ndarray | Sequence[int], nq: int) -> np.ndarray:
    arr = np.asarray(n_rel, dtype=np.float64)
    if arr.shape != (nq,):
        raise DataFormatError(f"n_rel must have one entry per query ({nq}), got shape {arr.shape}", field="n_rel")
    return arr


def dcg(gains: np.ndarray, k: int | None = None) -> np.ndarray:
    """Discounted cumulative gain per row: ``DCG@k = Σ_{r=1}^{min(k, depth)} max(g_r, 0) / log2(r + 1)``.

    Järvelin & Kekäläinen (2002) with linear gain and log2(r+1) discount, as trec_eval's ``ndcg``/``ndcg_cut``.

    Args:
        gains: ``[nq, depth]`` grades in rank order.
        k: Cutoff (None: whole depth).
    """
    g = np.maximum(_cut(_as_rel(gains), k), 0.0)
    return g @ _discounts(g.shape[1]) if g.shape[1] else np.zeros(g.shape[0])


def ndcg(rel: np.ndarray, ideal: np.ndarray, k: int | None = None) -> np.ndarray:
    """Normalised DCG per query: ``nDCG@k = DCG@k(rel) / DCG@k(ideal)``, 0 where the ideal DCG is 0.

    Args:
        rel: ``[nq, depth]`` grades of the ranked documents.
        ideal: ``[nq, depth']`` every judged grade of the query sorted descending (zero-padded); the ideal ranking.
            Its depth must reach ``k`` or hold all positive grades.
        k: Cutoff (None: nDCG over the whole run, trec_eval's ``ndcg``).

    Returns:
        float64 ``[nq]`` in [0, 1].
    """
    rel = _as_rel(rel)
    ideal = _as_rel(ideal)
    if ideal.shape[0] != rel.shape[0]:
        raise DataFormatError("rel and ideal have different numbers of queries", field="ideal")
    num = dcg(rel, k)
    den = dcg(ideal, k)
    out = np.zeros_like(num)
    np.divide(num, den, out=out, where=den > 0)
    return out


def recall(rel: np.ndarray, n_rel: np.ndarray | Sequence[int], k: int | None = None, *, relevance_level: int = 1):
    """Recall@k per query: ``Σ_{r≤k} [rel_r ≥ level] / R``, 0 where ``R = 0``.

    Args:
        rel: ``[nq, depth]`` grades in rank order.
        n_rel: ``[nq]`` number of relevant (grade ≥ level) judged documents, retrieved or not.
        k: Cutoff (None: the whole run).
        relevance_level: Minimum grade that counts as relevant.
    """
    rel = _as_rel(rel)
    r = _n_rel(n_rel, rel.shape[0])
    hits = (_cut(rel, k) >= relevance_level).sum(axis=1).astype(np.float64)
    out = np.zeros_like(hits)
    np.divide(hits, r, out=out, where=r > 0)
    return out


def precision(rel: np.ndarray, k: int, *, relevance_level: int = 1) -> np.ndarray:
    """Precision@k per query: ``Σ_{r≤k} [rel_r ≥ level] / k`` — divided by k even when fewer than k were retrieved.

    Args:
        rel: ``[nq, depth]`` grades in rank order.
        k: Cutoff (required).
        relevance_level: Minimum grade that counts as relevant.
    """
    rel = _as_rel(rel)
    return (_cut(rel, k) >= relevance_level).sum(axis=1) / float(k)


def reciprocal_rank(rel: np.ndarray, k: int | None = None, *, relevance_level: int = 1) -> np.ndarray:
    """Reciprocal rank per query: ``1 / r*`` with ``r*`` the first rank ≤ k holding a relevant document, else 0.

    The mean over queries is MRR@k. Without ``k`` it is trec_eval's ``recip_rank``.
    """
    hit = _cut(_as_rel(rel), k) >= relevance_level
    any_hit = hit.any(axis=1)
    first = hit.argmax(axis=1) + 1.0
    return np.where(any_hit, 1.0 / first, 0.0)


def average_precision(
    rel: np.ndarray, n_rel: np.ndarray | Sequence[int], k: int | None = None, *, relevance_level: int = 1
) -> np.ndarray:
    """Average precision per query: ``AP@k = (1/R) Σ_{r≤k, rel_r ≥ level} P@r``, 0 where ``R = 0``.

    The denominator is ``R``, all relevant judged documents (trec_eval's ``map``/``map_cut``), not ``min(k, R)``.
    The mean over queries is MAP / MAP@k.
    """
    rel = _as_rel(rel)
    r = _n_rel(n_rel, rel.shape[0])
    hit = (_cut(rel, k) >= relevance_level).astype(np.float64)
    if hit.shape[1] == 0:
        return np.zeros(rel.shape[0])
    prec_at = np.cumsum(hit, axis=1) / np.arange(1, hit.shape[1] + 1, dtype=np.float64)
    total = (prec_at * hit).sum(axis=1)
    out = np.zeros_like(total)
    np.divide(total, r, out=out, where=r > 0)
    return out


def success(rel: np.ndarray, k: int | None = None, *, relevance_level: int = 1) -> np.ndarray:
    """Success@k per query: 1 if a relevant document (grade ≥ level) is in the top k, else 0 (``success_k``)."""
    return (_cut(_as_rel(rel), k) >= relevance_level).any(axis=1).astype(np.float64)


# --------------------------------------------------------------------------------------------------- runs
def rank_documents(scores: Mapping[str, float], depth: int | None = None) -> list[tuple[str, float]]:
    """``(doc_id, score)`` sorted by the tie rule: score descending, then doc id descending (trec_eval's order).

    Args:
        scores: ``doc_id -> score`` of one query.
        depth: Keep only the first ``depth`` (None: all).
    """
    items = [(float(s), d) for d, s in scores.items()]
    for s, d in items:
        if math.isnan(s):
            raise DataFormatError(f"score of document {d!r} is NaN", field="run", hint="check the scores")
    top = heapq.nlargest(depth, items) if depth is not None and depth < len(items) else sorted(items, reverse=True)
    return [(d, s) for s, d in top]


class Run(Mapping[str, dict[str, float]]):
    """A retrieval run: ``qid -> {doc_id: score}``, as pytrec_eval and :func:`evaluate_run` take it.

    Args:
        scores: The mapping (copied).
        name: Run tag written to TREC files.

    Example:
        >>> run = Run.from_topk([[0.9, 0.5]], [[1, 0]], ["q1"], ["d0", "d1"])
        >>> run["q1"]
        {'d1': 0.9, 'd0': 0.5}
    """

    def __init__(self, scores: Mapping[str, Mapping[str, float]] | None = None, *, name: str = "crossalign") -> None:
        self._scores: dict[str, dict[str, float]] = {str(q): dict(docs) for q, docs in (scores or {}).items()}
        self.name = name

    @classmethod
    def from_topk(
        cls,
        scores: np.ndarray,
        indices: np.ndarray,
        query_ids: Sequence[str],
        doc_ids: Sequence[str],
        *,
        name: str = "crossalign",
    ) -> Run:
        """Build a run from :func:`~crossalign.search.exact_topk` output.

        Args:
            scores: ``[nq, k]`` scores.
            indices: ``[nq, k]`` document row indices; negative entries (faiss padding) are dropped.
            query_ids: ``nq`` query ids, in row order.
            doc_ids: Document ids, in the row order of the document matrix.
            name: Run tag.
        """
        s = np.asarray(scores)
        idx = np.asarray(indices)
        if s.shape != idx.shape or s.ndim != 2:
            raise DataFormatError(f"scores {s.shape} and indices {idx.shape} must be equal 2-D shapes", field="run")
        if len(query_ids) != s.shape[0]:
            raise DataFormatError(f"{len(query_ids)} query ids for {s.shape[0]} rows of scores", field="query_ids")
        docs = list(doc_ids)
        if idx.size and idx.max() >= len(docs):
            raise DataFormatError(f"index {idx.max()} out of range for {len(docs)} doc ids", field="indices")
        out: dict[str, dict[str, float]] = {}
        s_list, i_list = s.tolist(), idx.tolist()
        for qid, row_s, row_i in zip(query_ids, s_list, i_list):
            out[str(qid)] = {docs[i]: float(v) for v, i in zip(row_s, row_i) if i >= 0}
        return cls(out, name=name)

    def __getitem__(self, qid: str) -> dict[str, float]:
        return self._scores[qid]

    def __iter__(self) -> Iterator[str]:
        return iter(self._scores)

    def __len__(self) -> int:
        return len(self._scores)

    def __repr__(self) -> str:
        return f"Run(name={self.name!r}, queries={len(self)})"

    def to_dict(self) -> dict[str, dict[str, float]]:
        """A plain ``dict`` copy (what ``pytrec_eval.RelevanceEvaluator.evaluate`` wants)."""
        return {q: dict(d) for q, d in self._scores.items()}

    def truncate(self, depth: int) -> Run:
        """The run with only each query's top ``depth`` documents (by the tie rule)."""
        return Run({q: dict(rank_documents(d, depth)) for q, d in self._scores.items()}, name=self.name)


def write_trec_run(run: Mapping[str, Mapping[str, float]], path: str | os.PathLike[str], *, tag: str | None = None):
    """Write a TREC run file, one line ``qid Q0 docid rank score tag`` per document, atomically.

    Documents are written in the tie-rule order with ranks 1, 2, ...; scores use ``repr`` so they read back
    bit-identically (ties stay ties). Query ids and doc ids must not contain whitespace.

    Args:
        run: ``qid -> {docid: score}`` (a :class:`Run` or a dict).
        path: Output file.
        tag: Run tag (default: the run's ``name`` or ``"crossalign"``).
    """
    tag = tag or getattr(run, "name", None) or "crossalign"
    if any(c.isspace() for c in tag):
        raise DataFormatError(
            f"run tag {tag!r} contains whitespace", field="tag", hint="TREC run fields are whitespace-separated"
        )
    with atomic_open(path, "w") as fh:
        for qid in run:
            if not qid or any(c.isspace() for c in qid):
                raise DataFormatError(
                    f"query id {qid!r} is empty or contains whitespace",
                    field="qid",
                    hint="TREC run fields are whitespace-separated: rename the query",
                )
            for rank, (doc, score) in enumerate(rank_documents(run[qid]), start=1):
                if not doc or any(c.isspace() for c in doc):
                    raise DataFormatError(
                        f"doc id {doc!r} is empty or contains whitespace",
                        field="docid",
                        hint="TREC run fields are whitespace-separated: rename the document",
                    )
                fh.write(f"{qid} Q0 {doc} {rank} {score!r} {tag}\n")


def read_trec_run(path: str | os.PathLike[str]) -> Run:
    """Read a TREC run file (``qid Q0 docid rank score tag``; the rank column is ignored, as trec_eval does).

    Raises:
        DataFormatError: naming the file and line, for a line without 6 fields, a non-numeric score or a document
            listed twice for one query.
    """
    p = Path(path)
    out: dict[str, dict[str, float]] = {}
    tag = None
    if not p.is_file():
        raise DataFormatError("run file not found", path=p, hint="check the path")
    for lineno, line in enumerate(read_utf8(p).split("\n"), start=1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 6:
            raise DataFormatError(
                f"expected 6 fields 'qid Q0 docid rank score tag', got {len(parts)}",
                path=p,
                line=lineno,
                hint="TREC run files have one whitespace-separated line per retrieved document",
            )
        qid, _, doc, _, score, tag = parts
        try:
            value = float(score)
        except ValueError:
            raise DataFormatError(
                f"score {score!r} is not a number",
                path=p,
                line=lineno,
                field="score",
                hint="the fifth field is the retrieval score (a number)",
            ) from None
        docs = out.setdefault(qid, {})
        if doc in docs:
            raise DataFormatError(
                f"document {doc!r} listed twice for query {qid!r}",
                path=p,
                line=lineno,
                field="docid",
                hint="list each document once per query",
            )
        docs[doc] = value
    return Run(out, name=tag or "crossalign")


# --------------------------------------------------------------------------------------------------- evaluation
@dataclass
class RunEvaluation:
    """Result of :func:`evaluate_run`.

    Attributes:
        per_query: ``qid -> {metric: value}`` for every evaluated query.
        mean: ``metric -> mean over evaluated queries`` (NaN when none was evaluated).
        metrics: The metric keys, e.g. ``["ndcg@10", "recall@100"]``.
        n_queries: Number of evaluated queries (those averaged).
        no_relevant: Queries judged but without any relevant document (skipped or scored 0, see the policy).
        missing_from_run: Queries with relevant judgments that the run does not contain (scored 0 or skipped).
        not_in_qrels: Queries of the run without judgments (always skipped).
        policy: The policies applied.
    """

    per_query: dict[str, dict[str, float]]
    mean: dict[str, float]
    metrics: list[str]
    n_queries: int
    no_relevant: list[str] = field(default_factory=list)
    missing_from_run: list[str] = field(default_factory=list)
    not_in_qrels: list[str] = field(default_factory=list)
    policy: dict[str, Any] = field(default_factory=dict)

    def to_dict(self, *, per_query: bool = False) -> dict[str, Any]:
        """JSON-ready dict (raw values, not ×100)."""
        out: dict[str, Any] = {
            "mean": dict(self.mean),
            "metrics": list(self.metrics),
            "n_queries": self.n_queries,
            "n_no_relevant": len(self.no_relevant),
            "n_missing_from_run": len(self.missing_from_run),
            "n_not_in_qrels": len(self.not_in_qrels),
            "policy": dict(self.policy),
        }
        if per_query:
            out["per_query"] = {q: dict(v) for q, v in self.per_query.items()}
        return out


def relevance_matrix(
    run: Mapping[str, Mapping[str, float]],
    qrels: Mapping[str, Mapping[str, int]],
    query_ids: Sequence[str],
    depth: int | None = None,
    *,
    relevance_level: int = 1,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Build the low-level inputs for ``query_ids``: ``(rel [nq, depth], ideal [nq, depth'], n_rel [nq])``.

    ``rel`` holds the grades of each query's documents ranked by the tie rule (0 for unjudged and as padding);
    ``ideal`` the query's positive grades sorted descending; ``n_rel`` the number of grades ≥ ``relevance_level``.
    ``depth`` None uses the longest ranking.
    """
    ranked = []
    for qid in query_ids:
        docs = run.get(qid, {})
        ranked.append(rank_documents(docs, depth))
    width = max((len(r) for r in ranked), default=0) if depth is None else depth
    rel = np.zeros((len(query_ids), width), dtype=np.float64)
    grades = []
    for row, (qid, docs) in enumerate(zip(query_ids, ranked)):
        judged = qrels.get(qid, {})
        if docs:
            rel[row, : len(docs)] = [judged.get(d, 0) for d, _ in docs]
        grades.append(sorted((g for g in judged.values() if g > 0), reverse=True))
    ideal_width = max((len(g) for g in grades), default=0)
    ideal = np.zeros((len(query_ids), ideal_width), dtype=np.float64)
    for row, g in enumerate(grades):
        ideal[row, : len(g)] = g
    n_rel = np.array(
        [sum(1 for g in qrels.get(q, {}).values() if g >= relevance_level) for q in query_ids], dtype=np.float64
    )
    return rel, ideal, n_rel


def _compute(spec: MetricSpec, rel: np.ndarray, ideal: np.ndarray, n_rel: np.ndarray, level: int) -> np.ndarray:
    k = spec.cutoff
    if spec.name == "ndcg":
        return ndcg(rel, ideal, k)
    if spec.name == "recall":
        return recall(rel, n_rel, k, relevance_level=level)
    if spec.name == "precision":
        assert k is not None
        return precision(rel, k, relevance_level=level)
    if spec.name == "mrr":
        return reciprocal_rank(rel, k, relevance_level=level)
    if spec.name == "map":
        return average_precision(rel, n_rel, k, relevance_level=level)
    if spec.name == "success":
        return success(rel, k, relevance_level=level)
    raise AssertionError(spec)  # parse_metrics only lets retrieval metrics through


def evaluate_run(
    run: Mapping[str, Mapping[str, float]],
    qrels: Mapping[str, Mapping[str, int]],
    metrics: Iterable[str | MetricSpec],
    *,
    relevance_level: int = 1,
    no_relevant: Literal["skip", "zero"] = "skip",
    missing: Literal["zero", "skip"] = "zero",
) -> RunEvaluation:
    """Evaluate a run against graded judgments with trec_eval's definitions and tie rule.

    Args:
        run: ``qid -> {doc_id: score}``; higher scores rank first, ties by doc id descending.
        qrels: ``qid -> {doc_id: grade}`` with integer grades (≤ 0: not relevant).
        metrics: Names such as ``"ndcg@10"``, ``"R@100"``, ``"mrr@10"``, ``"map"``, ``"map@100"``, ``"success@1"``,
            ``"P@10"`` (see :func:`crossalign.evaluation.metrics.parse_metric`).
        relevance_level: Minimum grade that counts as relevant for the binary metrics (nDCG uses every positive
            grade as gain).
        no_relevant: Queries judged but with no relevant document: ``"skip"`` (default) leaves them out of the means
            and lists them in ``no_relevant``; ``"zero"`` scores them 0 and averages them in (trec_eval).
        missing: Queries with relevant judgments absent from the run: ``"zero"`` (default, ``trec_eval -c``) or
            ``"skip"`` (plain trec_eval / pytrec_eval).

    Returns:
        :class:`RunEvaluation` with per-query values, means and the counts of queries each policy touched.

    Example:
        >>> ev = evaluate_run({"q": {"a": 2.0, "b": 1.0}}, {"q": {"b": 1}}, ["mrr@10", "ndcg@1"])
        >>> ev.mean
        {'mrr@10': 0.5, 'ndcg@1': 0.0}
    """
    if no_relevant not in ("skip", "zero"):
        raise ValueError(f"no_relevant must be 'skip' or 'zero', got {no_relevant!r}")
    if missing not in ("skip", "zero"):
        raise ValueError(f"missing must be 'skip' or 'zero', got {missing!r}")
    specs = parse_metrics(metrics, kind="retrieval")
    keys = [s.key for s in specs]
    if len(set(keys)) != len(keys):
        raise ValueError(f"metric list has duplicates: {keys}")
    not_in_qrels = [q for q in run if q not in qrels]
    no_rel, missing_ids, evaluated = [], [], []
    for qid, judged in qrels.items():
        if not any(g >= relevance_level for g in judged.values()):
            no_rel.append(qid)
            if no_relevant == "zero" and (qid in run or missing == "zero"):
                evaluated.append(qid)
            continue
        if qid not in run:
            missing_ids.append(qid)
            if missing == "skip":
                continue
        evaluated.append(qid)
    unbounded = any(s.cutoff is None for s in specs)
    depth = None if unbounded else max(s.cutoff for s in specs if s.cutoff is not None)
    rel, ideal, n_rel = relevance_matrix(run, qrels, evaluated, depth, relevance_level=relevance_level)
    values = {s.key: _compute(s, rel, ideal, n_rel, relevance_level) for s in specs}
    per_query = {q: {key: float(values[key][i]) for key in keys} for i, q in enumerate(evaluated)}
    mean = {key: (float(values[key].mean()) if evaluated else float("nan")) for key in keys}
    return RunEvaluation(
        per_query=per_query,
        mean=mean,
        metrics=keys,
        n_queries=len(evaluated),
        no_relevant=no_rel,
        missing_from_run=missing_ids,
        not_in_qrels=not_in_qrels,
        policy={"relevance_level": relevance_level, "no_relevant": no_relevant, "missing": missing},
    )
