"""Mixed-language pools: Max@R, Complete@k, nDCG@1 and pivot ("English") inclination (METHODS.md §2).

Two uses, one evaluator:

- **multi-reference pool** (suite ``mixed-pool``): ``D = D_en ∪ D_x``, each query has both parallel documents as gold.
  ``Max@R`` (the rank of the *last* gold document in the whole pool) is exact however deep it is: it comes from
  :func:`~crossalign.search.gold_rank_counts`, not from a top-k list. Reported as mean and median,
  ``Complete@k`` for k in ``ks`` (default 1, 10, 100), ``nDCG@1`` (top hit is gold), ``Min@R``, and the pivot
  diagnostics. Main score: ``complete@10``.
- **inclination pool** (suite ``inclination``): ``x`` queries over ``D_x ∪ D_en`` without parallels, only ``d_x``
  relevant. Main score ``pivot_first@1`` (EnglishFirst@1: the top hit is English); also ``pivot_first_wrong@1``,
  ``pivot_above_gold_mean`` (English documents ranked above the gold one) and the language shares of the top k.

The pivot-language names keep the registry's spelling (``pivot_first@1`` = EnglishFirst@1 for ``pivot_lang="en"``).
One :class:`~crossalign.evaluation.results.TaskScore` per query language (``doc_lang=None``: the pool mixes
languages; ``pool`` gives its composition). Per-query values: ``max_rank`` and ``min_rank`` (the Max@R distribution
the reports plot), ``pivot_above_gold`` (mean over the query's gold documents) and ``pivot_first@1``.

Ranks use the same tie rule as the retrieval runs (score descending, then document id descending), so the TREC run
written for a mixed pool orders documents exactly as the ranks say.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from crossalign.data.records import RetrievalSet
from crossalign.errors import ConfigError
from crossalign.evaluation.evaluators.base import EvaluatorOutput, QueryPoolEvaluator, _Timer, split_by_query_lang
from crossalign.evaluation.metrics.mixed_pool import cutoffs, evaluate_mixed_pool
from crossalign.evaluation.metrics.retrieval import Run
from crossalign.evaluation.results import TaskScore
from crossalign.search import exact_topk

__all__ = ["DEFAULT_KS", "MixedPoolEvaluator"]

#: Cutoffs of Complete@k and the language shares.
DEFAULT_KS: tuple[int, ...] = (1, 10, 100)


class MixedPoolEvaluator(QueryPoolEvaluator):
    """Evaluate a model on a mixed-language pool (multi-reference or inclination).

    Args:
        data: Queries, a pool of documents in several languages, and judgments (every relevant document of a query
            is gold).
        suite: ``"mixed-pool"`` or ``"inclination"`` (sets the default main score).
        task: Task name in the scores (default: the set's name).
        pivot_lang: The language whose over-ranking is measured (``"en"``).
        ks: Cutoffs for Complete@k and the language shares.
        main_score: Headline metric (default ``complete@10`` for ``mixed-pool``, ``pivot_first@1`` otherwise).
        query_prompt, doc_prompt: Prompt names.
        run_depth: Documents per query kept in the run (the TREC file).
        per_query: Keep per-query values.
        name, batch_size, long_text: As for :class:`~crossalign.evaluation.evaluators.base.CrossalignEvaluator`.

    Raises:
        ConfigError: Bad cutoffs or a main score that is not reported.
        DataFormatError: An empty set.
    """

    def __init__(
        self,
        data: RetrievalSet,
        *,
        suite: str = "mixed-pool",
        task: str | None = None,
        pivot_lang: str = "en",
        ks: Sequence[int] = DEFAULT_KS,
        main_score: str | None = None,
        name: str | None = None,
        query_prompt: str | None = "query",
        doc_prompt: str | None = "passage",
        run_depth: int = 100,
        per_query: bool = True,
        batch_size: int = 32,
        long_text: str = "truncate",
    ) -> None:
        ks = cutoffs(ks)
        if main_score is None:
            main_score = (
                ("complete@10" if 10 in ks else f"complete@{ks[-1]}") if suite == "mixed-pool" else "pivot_first@1"
            )
        super().__init__(
            data, suite, task, main_score, name, query_prompt, doc_prompt, per_query, batch_size, long_text
        )
        self.pivot_lang = pivot_lang
        self.ks = ks
        self.run_depth = int(min(run_depth, len(data.documents)))
        self._doc_langs = np.array([d.lang for d in data.documents], dtype=object)
        self._doc_index = {d: i for i, d in enumerate(self._doc_ids)}

    def evaluate_detailed(self, encoder: Any) -> list[EvaluatorOutput]:
        """Encode, rank every gold document exactly, and score; one output per query language.

        Returns:
            One :class:`EvaluatorOutput` per query language, with the top-``run_depth`` run of its queries.
        """
        timer = _Timer()
        cache = self._encoder(encoder)
        with timer.stage("encode"):
            q_all, d = self._encode_data(cache, self.query_prompt, self.doc_prompt)
        outputs: list[EvaluatorOutput] = []
        pool = self.data.pool_composition()
        for lang, rows in split_by_query_lang(self.data).items():
            qids: list[str] = []
            keep_rows: list[int] = []
            gold: list[tuple[int, int]] = []
            for i in rows:
                qid = self.data.queries[i].id
                rel = [self._doc_index[did] for did, g in self.data.qrels.get(qid, {}).items() if g > 0]
                if not rel:
                    continue
                for j in sorted(rel):
                    gold.append((len(qids), j))
                qids.append(qid)
                keep_rows.append(i)
            if not qids:
                continue
            q = q_all[keep_rows]
            g = np.asarray(gold, dtype=np.int64)
            with timer.stage("search"):
                res = evaluate_mixed_pool(
                    q, d, g, self._doc_langs, query_langs=lang, pivot_lang=self.pivot_lang, ks=self.ks,
                    doc_order_key=self._order_key,
                )  # fmt: skip
                scores, idx = exact_topk(q, d, self.run_depth, doc_order_key=self._order_key)
                run = Run.from_topk(scores, idx, qids, self._doc_ids, name="crossalign")
            with timer.stage("score"):
                metrics = {k: float(v) for k, v in res.metrics.items()}
                if self.main_score not in metrics:
                    raise ConfigError(
                        f"main score {self.main_score!r} is not among the mixed-pool metrics",
                        hint="choose one of: " + ", ".join(sorted(metrics)),
                    )
                per_query = None
                if self.per_query:
                    above = np.zeros(len(qids), dtype=np.float64)
                    n_gold = np.bincount(g[:, 0], minlength=len(qids)).astype(np.float64)
                    np.add.at(above, g[:, 0], res.pivot_above.astype(np.float64))
                    top_pivot = self._doc_langs[idx[:, 0]] == self.pivot_lang
                    per_query = {
                        "max_rank": {qid: float(v) for qid, v in zip(qids, res.max_ranks)},
                        "min_rank": {qid: float(v) for qid, v in zip(qids, res.min_ranks)},
                        "pivot_above_gold": {qid: float(v) for qid, v in zip(qids, above / n_gold)},
                        "pivot_first@1": {qid: float(v) for qid, v in zip(qids, top_pivot)},
                    }
                meta = self._meta(
                    pivot_lang=self.pivot_lang,
                    ks=list(self.ks),
                    n_gold_pairs=len(g),
                    gold_per_query=sorted({int(c) for c in np.bincount(g[:, 0])}),
                    n_queries_without_gold=len(rows) - len(qids),
                    rank="exact 1-based rank in the whole pool (gold_rank_counts), not limited to a top-k",
                    aggregation="max_rank/min_rank: mean and median over queries; pivot_above_gold_mean: mean over "
                    "gold pairs",
                    run_depth=self.run_depth,
                )
                score = TaskScore(
                    suite=self.suite,
                    task=self.task,
                    query_lang=lang,
                    doc_lang=None if len(pool) > 1 else next(iter(pool)),
                    pool=dict(pool),
                    n_queries=len(qids),
                    main_score=self.main_score,
                    scores=metrics,
                    per_query=per_query,
                    meta=meta,
                )
            outputs.append(EvaluatorOutput(score, run))
        return timer.stamp(outputs)
