"""Ranked retrieval over one pool: nDCG, Recall, MRR, MAP... of a :class:`~crossalign.data.records.RetrievalSet`.

Queries are encoded with the ``"query"`` prompt, documents with ``"passage"`` (both from the model's own
configuration; a model without prompts gets none). The search is exact (chunked inner products of L2-normalised
vectors, i.e. cosine) with trec_eval's tie rule — score descending, then document id descending — through
:func:`~crossalign.search.trec_order_key`, so the TREC run file written from the result and
:func:`~crossalign.evaluation.metrics.retrieval.evaluate_run` agree with trec_eval to the last tie. ``use_faiss=True``
searches with a faiss ``IndexFlatIP`` instead (also exact; faiss may pick differently among documents tied at the
k-th score).

One :class:`~crossalign.evaluation.results.TaskScore` per query language: ``query_lang`` and ``doc_lang`` come from
the records (``doc_lang`` is None when the pool mixes languages), ``pool`` is the pool's composition. Per-query values
of every metric are kept for paired significance tests.

Example:
    >>> from crossalign.data.io import read_retrieval_set
    >>> ev = RetrievalEvaluator(read_retrieval_set("my-set/"), task="my-set")  # doctest: +SKIP
    >>> [(t.direction, t.scores["ndcg@10"]) for t in ev.evaluate(model)]  # doctest: +SKIP
    [('de→en', 0.71)]
    >>> trainer = SentenceTransformerTrainer(..., evaluator=ev)  # logs ev.primary_metric  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from crossalign.data.records import RetrievalSet
from crossalign.evaluation.evaluators.base import (
    EvaluatorOutput,
    QueryPoolEvaluator,
    _Timer,
    single_lang,
    split_by_query_lang,
)
from crossalign.evaluation.metrics import parse_metrics
from crossalign.evaluation.metrics.retrieval import Run, evaluate_run
from crossalign.evaluation.results import TaskScore
from crossalign.search import exact_topk, faiss_topk

__all__ = ["DEFAULT_RETRIEVAL_METRICS", "DEFAULT_RUN_DEPTH", "RetrievalEvaluator"]

#: Metrics reported by default (the first is the main score).
DEFAULT_RETRIEVAL_METRICS: tuple[str, ...] = ("ndcg@10", "recall@1", "recall@10", "recall@100", "mrr@10", "map@100")
#: Documents kept per query in the run (and the TREC file) unless a metric needs more.
DEFAULT_RUN_DEPTH = 100


class RetrievalEvaluator(QueryPoolEvaluator):
    """Evaluate a model on a retrieval set (query → documents of one pool).

    Args:
        data: Queries, documents and graded judgments (every record with its language).
        metrics: Metric names (``"ndcg@10"``, ``"R@100"``, ``"mrr@10"``, ``"map"``; see
            :func:`crossalign.evaluation.metrics.parse_metric`).
        main_score: The headline metric (default: the first of ``metrics``).
        suite: Suite name in the scores (``retrieval``).
        task: Task name in the scores (default: the set's name).
        query_prompt: Prompt name for queries.
        doc_prompt: Prompt name for documents.
        depth: Documents kept per query (default: 100, more when a cutoff is larger; all for uncut metrics).
        use_faiss: Search with faiss ``IndexFlatIP`` (needs ``faiss-cpu``).
        per_query: Keep per-query values in the scores.
        name, batch_size, long_text: As for :class:`~crossalign.evaluation.evaluators.base.CrossalignEvaluator`.

    Raises:
        ConfigError: An unknown metric or a main score not among the metrics.
        DataFormatError: An empty set.
    """

    def __init__(
        self,
        data: RetrievalSet,
        *,
        metrics: Sequence[str] = DEFAULT_RETRIEVAL_METRICS,
        main_score: str | None = None,
        suite: str = "retrieval",
        task: str | None = None,
        name: str | None = None,
        query_prompt: str | None = "query",
        doc_prompt: str | None = "passage",
        depth: int | None = None,
        use_faiss: bool = False,
        per_query: bool = True,
        batch_size: int = 32,
        long_text: str = "truncate",
    ) -> None:
        specs = parse_metrics(metrics, kind="retrieval")
        keys = [s.key for s in specs]
        main = main_score or keys[0]
        main_key = parse_metrics([main], kind="retrieval")[0].key
        if main_key not in keys:
            keys.append(main_key)
            specs = parse_metrics(keys, kind="retrieval")
        super().__init__(data, suite, task, main_key, name, query_prompt, doc_prompt, per_query, batch_size, long_text)
        self.metrics = keys
        self.use_faiss = use_faiss
        n_docs = len(data.documents)
        if depth is None:
            if any(s.cutoff is None for s in specs):
                depth = n_docs
            else:
                depth = max(DEFAULT_RUN_DEPTH, *(s.cutoff for s in specs if s.cutoff is not None))
        self.depth = int(min(depth, n_docs))

    def search(self, encoder: Any, timer: _Timer | None = None) -> Run:
        """Encode and search: the top-``depth`` run of every query.

        Args:
            encoder: An :class:`~crossalign.models.embedding_cache.EmbeddingCache` or a model.
            timer: Collects seconds per stage (internal).

        Returns:
            The :class:`~crossalign.evaluation.metrics.retrieval.Run` (scores are cosines).
        """
        timer = timer or _Timer()
        cache = self._encoder(encoder)
        with timer.stage("encode"):
            q, d = self._encode_data(cache, self.query_prompt, self.doc_prompt)
        with timer.stage("search"):
            if self.use_faiss:
                scores, idx = faiss_topk(q, d, self.depth, doc_order_key=self._order_key)
            else:
                scores, idx = exact_topk(q, d, self.depth, doc_order_key=self._order_key)
            run = Run.from_topk(scores, idx, [x.id for x in self.data.queries], self._doc_ids, name="crossalign")
        return run

    def score(self, run: Run, timer: _Timer | None = None) -> list[EvaluatorOutput]:
        """Score a run: one output per query language (with the run restricted to those queries).

        Args:
            run: A run over (some of) the set's queries, e.g. from :meth:`search` or a TREC file.
            timer: Collects seconds per stage (internal).
        """
        timer = timer or _Timer()
        out: list[EvaluatorOutput] = []
        doc_lang = single_lang(self.data.doc_langs)
        pool = self.data.pool_composition()
        with timer.stage("score"):
            for lang, rows in split_by_query_lang(self.data).items():
                qids = [self.data.queries[i].id for i in rows]
                qrels = {qid: self.data.qrels[qid] for qid in qids if qid in self.data.qrels}
                sub_run = Run({qid: run[qid] for qid in qids if qid in run}, name=run.name)
                ev = evaluate_run(sub_run, qrels, self.metrics)
                if ev.n_queries == 0:
                    continue
                per_query = None
                if self.per_query:
                    per_query = {m: {qid: vals[m] for qid, vals in ev.per_query.items()} for m in ev.metrics}
                meta = self._meta(
                    search="faiss IndexFlatIP" if self.use_faiss else "exact",
                    depth=self.depth,
                    n_no_relevant=len(ev.no_relevant),
                    n_queries_total=len(qids),
                    policy=ev.policy,
                )
                score = TaskScore(
                    suite=self.suite,
                    task=self.task,
                    query_lang=lang,
                    doc_lang=doc_lang,
                    pool=dict(pool),
                    n_queries=ev.n_queries,
                    main_score=self.main_score,
                    scores={k: float(v) for k, v in ev.mean.items()},
                    per_query=per_query,
                    meta=meta,
                )
                out.append(EvaluatorOutput(score, sub_run))
        return out

    def evaluate_detailed(self, encoder: Any) -> list[EvaluatorOutput]:
        """Encode, search and score (see :meth:`search` and :meth:`score`)."""
        timer = _Timer()
        run = self.search(encoder, timer)
        return timer.stamp(self.score(run, timer))
