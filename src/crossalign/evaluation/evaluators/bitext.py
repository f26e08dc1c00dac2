"""Bitext mining between two languages with distractors: P@1 both ways, xSIM, BUCC-style F1.

The set is a :class:`~crossalign.data.records.RetrievalSet` read as a bitext: its queries are the source sentences
(one language), its documents the target sentences (another), and its qrels the gold alignments. Sources or targets
without a gold partner are distractors. Both sides are encoded with the same prompt (``"query"`` by default: e5's
prefix for symmetric tasks).

Scores (raw, 0–1), all from :mod:`crossalign.evaluation.metrics.bitext`:

- ``p@1_src2tgt``: share of gold sources whose cosine-nearest target (over all targets, distractors included) is a
  gold partner; ``p@1_tgt2src`` the same from the gold targets over all sources.
- ``xsim_error``: LASER's xSIM with the ratio margin (k = 4): share of gold sources whose margin-best target among
  their k cosine-nearest is not the gold one. Counted over gold sources with exactly one gold target; the margin
  neighbourhoods use every sentence, distractors included. (xSIM with the plain cosine is ``1 − p@1_src2tgt``.)
- ``bucc_f1`` (main), ``bucc_precision``, ``bucc_recall``, ``bucc_threshold``: pairs mined with the margin in both
  directions (``retrieval="max"``: union, then greedy one-to-one), F1 at the best threshold
  (:func:`~crossalign.evaluation.metrics.bitext.bucc_optimize`: the threshold is tuned on the gold it is scored on,
  as in the BUCC reference; it is an upper bound of F1 at a threshold fixed beforehand).

Per-query values (``p@1_src2tgt`` and ``xsim_error`` per gold source id, ``p@1_tgt2src`` per gold target keyed by
the id of its gold source, so the two directions of one pair share a key) are kept for paired tests.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from crossalign.data.records import RetrievalSet
from crossalign.errors import DataFormatError
from crossalign.evaluation.evaluators.base import CrossalignEvaluator, EvaluatorOutput, TextRequest, _Timer
from crossalign.evaluation.metrics.bitext import bucc_f1, margin_candidates, mine_bitext, p_at_1_hits, xsim_error
from crossalign.evaluation.results import TaskScore

__all__ = ["BitextEvaluator"]


class BitextEvaluator(CrossalignEvaluator):
    """Evaluate bitext mining on a source/target set with gold alignments and distractors.

    Args:
        data: Queries = source sentences (one language), documents = target sentences (one language),
            qrels = gold pairs (relevance > 0).
        task: Task name in the scores (default: the set's name).
        suite: Suite name (``bitext``).
        src_prompt, tgt_prompt: Prompt names (default ``"query"`` for both: a symmetric task).
        k: Neighbourhood size of the margin.
        margin: ``"ratio"`` (LASER's default), ``"distance"`` or ``"absolute"``.
        retrieval: Mining mode (``"max"``, ``"fwd"``, ``"bwd"``, ``"intersect"``).
        main_score: Headline metric (``bucc_f1``).
        name, batch_size, long_text: As for :class:`~crossalign.evaluation.evaluators.base.CrossalignEvaluator`.

    Raises:
        DataFormatError: Sources or targets in several languages, or no gold pair.
    """

    def __init__(
        self,
        data: RetrievalSet,
        *,
        task: str | None = None,
        suite: str = "bitext",
        src_prompt: str | None = "query",
        tgt_prompt: str | None = "query",
        k: int = 4,
        margin: str = "ratio",
        retrieval: str = "max",
        main_score: str = "bucc_f1",
        name: str | None = None,
        batch_size: int = 32,
        long_text: str = "truncate",
    ) -> None:
        if len(data.query_langs) != 1 or len(data.doc_langs) != 1:
            raise DataFormatError(
                f"a bitext set needs one source and one target language, got sources {data.query_langs} and "
                f"targets {data.doc_langs}",
                field="lang",
                hint="split the set by language pair",
            )
        super().__init__(suite, task or data.name, main_score, name, batch_size, long_text)
        self.data = data
        self.src_lang = data.query_langs[0]
        self.tgt_lang = data.doc_langs[0]
        self.src_prompt = src_prompt
        self.tgt_prompt = tgt_prompt
        self.k = k
        self.margin = margin
        self.retrieval = retrieval
        doc_index = {d.id: j for j, d in enumerate(data.documents)}
        pairs = []
        for i, q in enumerate(data.queries):
            for did, rel in data.qrels.get(q.id, {}).items():
                if rel > 0:
                    pairs.append((i, doc_index[did]))
        if not pairs:
            raise DataFormatError(f"bitext set {data.name!r} has no gold pair", field="qrels")
        self.gold = np.asarray(sorted(pairs), dtype=np.int64)

    def requests(self) -> list[TextRequest]:
        """Source texts and target texts with their prompts."""
        return self._texts(self.src_prompt, self.tgt_prompt)

    def evaluate_detailed(self, encoder: Any) -> list[EvaluatorOutput]:
        """Encode both sides, mine, and score (one output, no run)."""
        timer = _Timer()
        cache = self._encoder(encoder)
        with timer.stage("encode"):
            x, y = self._encode_data(cache, self.src_prompt, self.tgt_prompt)
        g = self.gold
        n, m = x.shape[0], y.shape[0]
        with timer.stage("search"):
            cands = margin_candidates(x, y, k=self.k, margin=self.margin, normalize=True)  # type: ignore[arg-type]
            mined = mine_bitext(
                x, y, k=self.k, margin=self.margin, retrieval=self.retrieval, candidates=cands, normalize=True
            )  # type: ignore[arg-type]
        with timer.stage("score"):
            hits = p_at_1_hits(x, y, g, stats=cands.stats)
            xs = xsim_error(x, y, g, candidates=cands)
            best = bucc_f1(mined, g)
            scores = {
                "p@1_src2tgt": float(hits.src2tgt.mean()),
                "p@1_tgt2src": float(hits.tgt2src.mean()),
                "bucc_f1": best.f1,
                "bucc_precision": best.precision,
                "bucc_recall": best.recall,
            }
            if xs.n:
                scores["xsim_error"] = xs.error_rate
            if np.isfinite(best.threshold):
                scores["bucc_threshold"] = float(best.threshold)
            if self.main_score not in scores:
                raise DataFormatError(f"main score {self.main_score!r} was not computed", field="main_score")
            qids = [q.id for q in self.data.queries]
            per_query = {"p@1_src2tgt": {qids[i]: float(ok) for i, ok in zip(hits.srcs, hits.src2tgt)}}
            # tgt→src per gold pair, keyed by the pair's source id so both directions pair up (targets with
            # several gold sources are left out of the per-query values, not of the score)
            srcs_of_tgt = np.bincount(g[:, 1], minlength=m)
            src_of = np.full(m, -1, dtype=np.int64)
            src_of[g[:, 1]] = g[:, 0]
            per_query["p@1_tgt2src"] = {
                qids[src_of[j]]: float(ok) for j, ok in zip(hits.tgts, hits.tgt2src) if srcs_of_tgt[j] == 1
            }
            if xs.n:
                per_query["xsim_error"] = {qids[i]: float(e) for i, e in zip(xs.sources, xs.wrong)}
        n_gold_src, n_gold_tgt = int(hits.srcs.size), int(hits.tgts.size)
        meta: dict[str, Any] = {
            "set": self.data.name,
            "digest": self.data.provenance.get("digest"),
            "n_src": n,
            "n_tgt": m,
            "n_gold_pairs": len(g),
            "n_gold_tgt": n_gold_tgt,
            "n_src_distractors": n - n_gold_src,
            "n_tgt_distractors": m - n_gold_tgt,
            "k": self.k,
            "margin": self.margin,
            "retrieval": self.retrieval,
            "bucc": {**best.to_dict(), "threshold": best.threshold if np.isfinite(best.threshold) else None},
            "n_mined": len(mined),
            "prompts": {"source": self.src_prompt, "target": self.tgt_prompt},
            "seconds": timer.rounded(),
        }
        score = TaskScore(
            suite=self.suite,
            task=self.task,
            query_lang=self.src_lang,
            doc_lang=self.tgt_lang,
            pool={self.tgt_lang: m},
            n_queries=n_gold_src,
            main_score=self.main_score,
            scores=scores,
            per_query=per_query,
            meta=meta,
        )
        return [EvaluatorOutput(score, None)]
