"""Evaluators: a data set + metrics -> :class:`~crossalign.evaluation.results.TaskScore` objects.

One evaluator per module, each also a sentence-transformers ``BaseEvaluator`` (pass it to the trainer's
``evaluator=``):

- :class:`RetrievalEvaluator` (:mod:`.retrieval`) — a retrieval set, nDCG/Recall/MRR/MAP with trec_eval's tie rule;
- :class:`MixedPoolEvaluator` (:mod:`.mixed_pool`) — mixed-language pools: Max@R, Complete@k, nDCG@1, EnglishFirst@1;
- :class:`BitextEvaluator` (:mod:`.bitext`) — bitext mining with distractors: P@1 both ways, xSIM, BUCC F1;
- :class:`STSEvaluator` (:mod:`.sts`) — Spearman/Pearson of cosine on user STS pairs (JSONL format documented there).

Each accepts an :class:`~crossalign.models.embedding_cache.EmbeddingCache` (shared across evaluators so every text is
encoded once) or a model.

Example:
    >>> from crossalign.models.embedding_cache import EmbeddingCache
    >>> cache = EmbeddingCache(model)  # doctest: +SKIP
    >>> scores = RetrievalEvaluator(rs).evaluate(cache) + MixedPoolEvaluator(mixed).evaluate(cache)  # doctest: +SKIP
"""

from __future__ import annotations

from crossalign.evaluation.evaluators.base import CrossalignEvaluator, EvaluatorOutput, TextRequest, as_encoder
from crossalign.evaluation.evaluators.bitext import BitextEvaluator
from crossalign.evaluation.evaluators.mixed_pool import MixedPoolEvaluator
from crossalign.evaluation.evaluators.retrieval import DEFAULT_RETRIEVAL_METRICS, RetrievalEvaluator
from crossalign.evaluation.evaluators.sts import STSEvaluator, StsPair, read_sts_jsonl

__all__ = [
    "DEFAULT_RETRIEVAL_METRICS",
    "BitextEvaluator",
    "CrossalignEvaluator",
    "EvaluatorOutput",
    "MixedPoolEvaluator",
    "RetrievalEvaluator",
    "STSEvaluator",
    "StsPair",
    "TextRequest",
    "as_encoder",
    "read_sts_jsonl",
]
