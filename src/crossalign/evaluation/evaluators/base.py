"""What the evaluators share: the encoder they accept, their output, and the sentence-transformers evaluator glue.

Every evaluator works in three separable stages (the tevatron lesson, ANCHORS.md): **encode** (through an
:class:`~crossalign.models.embedding_cache.EmbeddingCache`, so a text already encoded for another suite or direction
costs nothing), **search** (exact chunked inner product, :mod:`crossalign.search`) and **score**
(:mod:`crossalign.evaluation.metrics`). Seconds per stage go into each score's ``meta["seconds"]``.

An evaluator accepts as ``encoder`` either an :class:`EmbeddingCache` (used as is: the workflow shares one across all
suites) or a model (wrapped in a transient in-memory cache for that call).

Every evaluator is also a sentence-transformers ``BaseEvaluator`` (``SentenceEvaluator``): the trainer calls
``evaluator(model, output_path, epoch, steps)``, gets a flat ``{metric: value}`` dict, logs ``primary_metric`` and
stores the metrics in the model card. During training the weights change between calls, so ``__call__`` always
encodes afresh (transient cache) and never persists vectors.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sentence_transformers.base.evaluation.evaluator import BaseEvaluator

from crossalign.errors import ConfigError, DataFormatError
from crossalign.evaluation.metrics import lower_is_better
from crossalign.evaluation.results import TaskScore
from crossalign.models.embedding_cache import EmbeddingCache
from crossalign.search import trec_order_key
from crossalign.utils.progress import progress_scope

if TYPE_CHECKING:
    import numpy as np

    from crossalign.data.records import RetrievalSet
    from crossalign.evaluation.metrics.retrieval import Run

__all__ = ["CrossalignEvaluator", "EvaluatorOutput", "QueryPoolEvaluator", "TextRequest", "as_encoder"]


@dataclass
class EvaluatorOutput:
    """One scored evaluation unit and, when the evaluator ranks documents, its run (for a TREC file).

    Attributes:
        score: The :class:`~crossalign.evaluation.results.TaskScore`.
        run: ``qid -> {doc_id: score}`` of the unit's queries (top ``depth``), or None (bitext, STS).
    """

    score: TaskScore
    run: Run | None = None


@dataclass(frozen=True)
class TextRequest:
    """Texts an evaluator will encode with one prompt (the workflow encodes all requests up front, once)."""

    texts: tuple[str, ...]
    prompt_name: str | None


def as_encoder(encoder: Any, *, batch_size: int = 32, long_text: str = "truncate") -> EmbeddingCache:
    """``encoder`` itself when it is an :class:`EmbeddingCache`, else a transient cache around the model."""
    if isinstance(encoder, EmbeddingCache):
        return encoder
    if encoder is None:
        raise ConfigError("no model or EmbeddingCache given to the evaluator")
    return EmbeddingCache.transient(encoder, batch_size=batch_size, long_text=long_text)


class _Timer:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - t0

    def rounded(self) -> dict[str, float]:
        """Seconds per stage, rounded (each score's ``meta["seconds"]``)."""
        return {k: round(v, 4) for k, v in self.seconds.items()}

    def stamp(self, outputs: list[EvaluatorOutput]) -> list[EvaluatorOutput]:
        """``outputs`` with :meth:`rounded` set as every score's ``meta["seconds"]``."""
        for o in outputs:
            o.score.meta["seconds"] = self.rounded()
        return outputs


class CrossalignEvaluator(BaseEvaluator):
    """Base of the crossalign evaluators (a sentence-transformers ``BaseEvaluator``).

    Subclasses implement :meth:`requests` and :meth:`evaluate_detailed`.

    Args:
        suite: The suite name written into the scores.
        task: The task name written into the scores.
        main_score: The headline metric (also the trainer's ``primary_metric``).
        name: Prefix of the metric names in ``__call__``'s dict (default: the task with ``/`` made ``_``).
        batch_size: Model inputs per forward pass when a model (not a cache) is passed.
        long_text: ``"truncate"`` or ``"window"`` when a model is passed.
    """

    def __init__(
        self,
        suite: str,
        task: str,
        main_score: str,
        name: str | None = None,
        batch_size: int = 32,
        long_text: str = "truncate",
    ) -> None:
        super().__init__()
        self.suite = suite
        self.task = task
        self.main_score = main_score
        self.name = name if name is not None else task.replace("/", "_")
        self.batch_size = batch_size
        self.long_text = long_text
        self.primary_metric = main_score
        self.greater_is_better = not lower_is_better(main_score)

    # -- to implement
    def requests(self) -> list[TextRequest]:
        """The texts this evaluator encodes, per prompt (for up-front batch encoding)."""
        raise NotImplementedError

    def evaluate_detailed(self, encoder: Any) -> list[EvaluatorOutput]:
        """Encode, search and score; one output per evaluation unit (e.g. per query language). ``encoder``: an
        :class:`EmbeddingCache` or a model (every evaluator's ``encoder`` argument)."""
        raise NotImplementedError

    def _texts(self, query_prompt: str | None, doc_prompt: str | None) -> list[TextRequest]:
        """:meth:`requests` of an evaluator over ``self.data``: the queries with one prompt, the documents with
        the other."""
        return [
            TextRequest(tuple(q.text for q in self.data.queries), query_prompt),
            TextRequest(tuple(d.text for d in self.data.documents), doc_prompt),
        ]

    def _encode_data(
        self, cache: EmbeddingCache, query_prompt: str | None, doc_prompt: str | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The vectors of ``self.data``'s queries and documents, each with its prompt and language (centered per
        language when the model centers)."""
        qs, ds = self.data.queries, self.data.documents
        return (
            cache.encode([q.text for q in qs], query_prompt, [q.lang for q in qs]),
            cache.encode([d.text for d in ds], doc_prompt, [d.lang for d in ds]),
        )

    # -- shared
    def evaluate(self, encoder: Any) -> list[TaskScore]:
        """The task scores (see :meth:`evaluate_detailed`).

        Args:
            encoder: An :class:`EmbeddingCache` or a model.

        Returns:
            One :class:`~crossalign.evaluation.results.TaskScore` per evaluation unit.
        """
        return [o.score for o in self.evaluate_detailed(encoder)]

    def _encoder(self, encoder: Any) -> EmbeddingCache:
        return as_encoder(encoder, batch_size=self.batch_size, long_text=self.long_text)

    def __call__(
        self, model: Any, output_path: str | None = None, epoch: int = -1, steps: int = -1, *args: Any, **kwargs: Any
    ) -> dict[str, float]:
        """The sentence-transformers evaluator call: evaluate ``model`` now, return ``{metric: value}``.

        Metric names are ``<unit>_<metric>`` (unit = the direction, e.g. ``de-en``, when there are several units),
        prefixed with :attr:`name`. When ``output_path`` is given, one JSON line per call is appended to
        ``<output_path>/crossalign_<name>.jsonl``.
        """
        with progress_scope(False):  # inside a training loop: the trainer's own bar only
            outputs = self.evaluate_detailed(
                EmbeddingCache.transient(model, batch_size=self.batch_size, long_text=self.long_text)
            )
        scores = [o.score for o in outputs]
        metrics: dict[str, float] = {}
        primary = None
        for t in scores:
            unit = "" if len(scores) == 1 else f"{_unit(t)}_"
            for key, value in t.scores.items():
                metrics[f"{unit}{key}"] = float(value)
            if primary is None:
                primary = f"{unit}{t.main_score}"
        self.primary_metric = primary or self.main_score
        metrics = self.prefix_name_to_metrics(metrics, self.name)
        if hasattr(model, "model_card_data"):
            self.store_metrics_in_model_card_data(model, metrics, epoch, steps)
        if output_path is not None:
            path = Path(output_path) / f"crossalign_{self.name or 'eval'}.jsonl"
            os.makedirs(path.parent, exist_ok=True)
            with path.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps({"epoch": epoch, "steps": steps, **metrics}) + "\n")
        return metrics

    def get_config_dict(self) -> dict[str, Any]:
        """Configuration for the model card."""
        return {"suite": self.suite, "task": self.task, "main_score": self.main_score}


class QueryPoolEvaluator(CrossalignEvaluator):
    """Base of the evaluators that rank a pool of documents for each query (retrieval, mixed pools): ``data`` with
    its queries (``query_prompt``) and documents (``doc_prompt``), ``per_query`` values kept or not, and the document
    order key of the trec_eval tie rule.

    Raises:
        DataFormatError: A set without queries or without documents.
    """

    def __init__(
        self,
        data: RetrievalSet,
        suite: str,
        task: str | None,
        main_score: str,
        name: str | None,
        query_prompt: str | None,
        doc_prompt: str | None,
        per_query: bool,
        batch_size: int,
        long_text: str,
    ) -> None:
        if not data.queries or not data.documents:
            raise DataFormatError(f"{suite} set {data.name!r} has no queries or no documents", field="data")
        super().__init__(suite, task or data.name, main_score, name, batch_size, long_text)
        self.data = data
        self.query_prompt = query_prompt
        self.doc_prompt = doc_prompt
        self.per_query = per_query
        self._doc_ids = [d.id for d in data.documents]
        self._order_key = trec_order_key(self._doc_ids)

    def requests(self) -> list[TextRequest]:
        """Query texts with the query prompt, document texts with the document prompt."""
        return self._texts(self.query_prompt, self.doc_prompt)

    def _meta(self, **extra: Any) -> dict[str, Any]:
        """What every score of the set records: the set, its digest, similarity, tie rule and prompts."""
        return {
            "set": self.data.name,
            "digest": self.data.provenance.get("digest"),
            "similarity": "cosine",
            "tie_rule": "score desc, then doc id desc (trec_eval)",
            "prompts": {"query": self.query_prompt, "document": self.doc_prompt},
            **extra,
        }


def _unit(t: TaskScore) -> str:
    target = t.doc_lang if t.doc_lang is not None else "+".join(sorted(t.pool))
    return f"{t.query_lang}-{target}"


def split_by_query_lang(rs: RetrievalSet) -> dict[str, list[int]]:
    """Query row indices per query language, in first-seen language order."""
    out: dict[str, list[int]] = {}
    for i, q in enumerate(rs.queries):
        out.setdefault(q.lang, []).append(i)
    return out


def single_lang(langs: Sequence[str]) -> str | None:
    """The one language of a list, or None when there are several."""
    return langs[0] if len(langs) == 1 else None
