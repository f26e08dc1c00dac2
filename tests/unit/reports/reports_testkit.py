"""Synthetic but realistic EvaluationResults for the report tests.

Per-query values are simulated from a gold rank per query (retrieval) or per gold document (mixed pool), so every
aggregate equals the mean (or median) of its per-query values, exactly as the evaluation writes them. A query's
difficulty is shared by all models (same seed for the difficulties, another for the model's noise), so paired tests
have the correlation real systems have.
"""

from __future__ import annotations

import zlib

import numpy as np

from crossalign.evaluation.results import EvaluationResult, TaskScore

LANGS = ("de", "zh-CN")

# log-rank offset per direction class: en→en easiest, cross-lingual hardest
BASE_DIFFICULTY = {"en→en": 0.0, "x→x": 0.4, "x→en": 1.3, "en→x": 1.1}


def _ids(n: int) -> list[str]:
    return [f"q{i:04d}" for i in range(n)]


def _retrieval_scores(ranks: np.ndarray, ids: list[str]) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    top10 = ranks <= 10
    per = {
        "ndcg@10": np.where(top10, 1.0 / np.log2(ranks + 1.0), 0.0),
        "recall@10": top10.astype(float),
        "mrr@10": np.where(top10, 1.0 / ranks, 0.0),
    }
    scores = {k: float(v.mean()) for k, v in per.items()}
    return scores, {k: dict(zip(ids, map(float, v))) for k, v in per.items()}


def _ranks(rng_q: np.random.Generator, rng_m: np.random.Generator, n: int, offset: float) -> np.ndarray:
    difficulty = rng_q.normal(0.0, 1.2, n)
    noise = rng_m.normal(0.0, 0.5, n)
    return np.floor(np.exp(np.maximum(difficulty + offset + noise, 0.0))).astype(np.int64)


def make_result(
    label: str,
    *,
    improve: float = 0.0,
    n: int = 200,
    seed: int = 1,
    langs: tuple[str, ...] = LANGS,
    per_query: bool = True,
    suites: tuple[str, ...] = ("retrieval", "mixed-pool", "inclination", "bitext", "sts"),
    split: str = "test",
) -> EvaluationResult:
    """One model's result. ``improve`` lowers the log-rank of the cross-lingual directions (a better model)."""
    rng_m = np.random.default_rng(seed)
    ids = _ids(n)
    tasks: list[TaskScore] = []

    def q_rng(*key: object) -> np.random.Generator:  # difficulties shared across models
        return np.random.default_rng(zlib.crc32(repr(key).encode()))

    if "retrieval" in suites:
        cells = [("en", "en", "en→en")]
        for x in langs:
            cells += [(x, x, "x→x"), (x, "en", "x→en"), ("en", x, "en→x")]
        for q, d, cls in cells:
            gain = improve if cls in ("x→en", "en→x") else 0.0
            ranks = _ranks(q_rng(q, d), rng_m, n, BASE_DIFFICULTY[cls] - gain)
            scores, pq = _retrieval_scores(ranks, ids)
            tasks.append(
                TaskScore(
                    "retrieval",
                    "lo-sections",
                    q,
                    d,
                    {d: 500},
                    n,
                    "ndcg@10",
                    scores,
                    per_query=pq if per_query else None,
                )
            )
    if "mixed-pool" in suites:
        for x in langs:
            for q in (x, "en"):
                r_same = _ranks(q_rng("mp", q, "same"), rng_m, n, 0.3)
                r_other = _ranks(q_rng("mp", q, "other"), rng_m, n, 2.0 - 1.5 * improve)
                r_other = np.where(r_other == r_same, r_other + 1, r_other)  # two documents never share a rank
                mx, mn = np.maximum(r_same, r_other), np.minimum(r_same, r_other)
                scores = {
                    "max_rank_mean": float(mx.mean()),
                    "max_rank_median": float(np.median(mx)),
                    "min_rank_mean": float(mn.mean()),
                    "min_rank_median": float(np.median(mn)),
                    **{f"complete@{k}": float((mx <= k).mean()) for k in (1, 10, 100)},
                    "ndcg@1": float((mn == 1).mean()),
                }
                pq = {"max_rank": dict(zip(ids, map(float, mx))), "min_rank": dict(zip(ids, map(float, mn)))}
                tasks.append(
                    TaskScore(
                        "mixed-pool",
                        "lo-sections",
                        q,
                        None,
                        {x: 500, "en": 500},
                        n,
                        "complete@10",
                        scores,
                        per_query=pq if per_query else None,
                        meta={"pivot_lang": "en"},
                    )
                )
    if "inclination" in suites:
        for x in langs:
            first = (rng_m.random(n) < max(0.05, 0.35 - improve * 0.2)).astype(float)
            above = rng_m.poisson(max(0.2, 2.0 - improve), n).astype(float)
            scores = {
                "pivot_first@1": float(first.mean()),
                "pivot_first_wrong@1": float(first.mean() * 0.9),
                "pivot_above_gold_mean": float(above.mean()),
                "ndcg@1": float(1 - first.mean()),
                "lang_share@10:en": 0.42 - 0.1 * improve,
                f"lang_share@10:{x}": 0.58 + 0.1 * improve,
            }
            pq = {
                "pivot_first@1": dict(zip(ids, map(float, first))),
                "pivot_above_gold": dict(zip(ids, map(float, above))),
            }
            tasks.append(
                TaskScore(
                    "inclination",
                    "lo-sections",
                    x,
                    None,
                    {x: 500, "en": 500},
                    n,
                    "pivot_first@1",
                    scores,
                    per_query=pq if per_query else None,
                    meta={"pivot_lang": "en"},
                )
            )
    if "bitext" in suites:
        for x in langs:
            p_fwd = min(0.99, 0.80 + 0.1 * improve)
            scores = {
                "p@1_src2tgt": p_fwd,
                "p@1_tgt2src": p_fwd - 0.03,
                "xsim_error": 1 - p_fwd - 0.02,
                "xsim_absolute": 1 - p_fwd,
                "bucc_f1": p_fwd - 0.05,
            }
            tasks.append(TaskScore("bitext", "lo-paragraphs", x, "en", {"en": 1000}, 800, "bucc_f1", scores))
    if "sts" in suites:
        tasks.append(
            TaskScore(
                "sts", "sts17", "de", "en", {}, 250, "spearman", {"spearman": 0.71 + 0.02 * improve, "pearson": 0.69}
            )
        )
    return EvaluationResult(
        model={
            "spec": "e5-small-q4",
            "path": f"/models/{label}",
            "fingerprint": f"sha256:{seed:02d}" + "ab12" * 15,
            "label": label,
        },
        data={"source": "libreoffice", "provenance": "libreoffice-help 24.2.7", "split": split},
        config={"suites": list(suites)},
        tasks=tasks,
        languages=["en", *langs],
        environment={"python": "3.11", "numpy": np.__version__},  # the default imports torch: slow for unit tests
        created="2026-05-01T12:00:00+00:00",
    )


def task(
    suite: str,
    query_lang: str,
    doc_lang: str | None,
    scores: dict[str, float],
    *,
    main: str | None = None,
    n: int = 4,
    pool: dict[str, int] | None = None,
    per_query: dict[str, dict[str, float]] | None = None,
    name: str = "t",
) -> TaskScore:
    """A hand-written task score (pool defaults to the document language, or {query_lang, en} for mixed pools)."""
    if pool is None:
        pool = {doc_lang: 10} if doc_lang is not None else {query_lang: 10, "en": 10}
    return TaskScore(suite, name, query_lang, doc_lang, pool, n, main or next(iter(scores)), scores, per_query)


def result(
    label: str, tasks: list[TaskScore], *, langs: tuple[str, ...] = LANGS, split: str = "test"
) -> EvaluationResult:
    """A hand-written result with a fixed environment and date."""
    return EvaluationResult(
        model={"spec": f"spec-{label}", "path": f"/m/{label}", "fingerprint": "f" * 64, "label": label},
        data={"source": "libreoffice", "split": split},
        config={},
        tasks=tasks,
        languages=["en", *langs],
        environment={"python": "3.11"},
        created="2026-05-01T12:00:00+00:00",
    )
