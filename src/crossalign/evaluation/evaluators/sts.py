"""Semantic textual similarity on user data: Spearman (main) and Pearson of cosine against gold scores.

Data format — JSON Lines, one pair per line (UTF-8)::

    {"text1": "Ein Mann spielt Gitarre.", "text2": "A man plays guitar.", "score": 4.8, "lang1": "de", "lang2": "en"}

- ``text1``, ``text2``: the two sentences (non-blank strings);
- ``score``: the gold similarity, any numeric scale (e.g. 0–5); only its order and linear trend matter;
- ``lang1``, ``lang2``: BCP-47 tags of the two texts (``de``, ``zh-CN``; normalised like every language in crossalign);
- optional ``id``; other keys are ignored.

Pairs are grouped by ``(lang1, lang2)``: one :class:`~crossalign.evaluation.results.TaskScore` per group, with
``query_lang = lang1`` and ``doc_lang = lang2`` (a group needs at least 2 pairs with different gold scores). Both
texts are encoded with the ``"query"`` prompt (e5's prefix for symmetric tasks).

Example:
    >>> pairs = read_sts_jsonl("sts-de-en.jsonl")  # doctest: +SKIP
    >>> STSEvaluator(pairs, task="my-sts").evaluate(model)[0].scores  # doctest: +SKIP
    {'spearman': 0.81, 'pearson': 0.79}
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from crossalign.data.io import iter_jsonl, require_keys
from crossalign.data.records import check_text
from crossalign.errors import DataFormatError, UnknownLanguageError
from crossalign.evaluation.evaluators.base import CrossalignEvaluator, EvaluatorOutput, TextRequest, _Timer
from crossalign.evaluation.metrics.sts import sts_correlation
from crossalign.evaluation.results import TaskScore
from crossalign.languages import normalize_lang

__all__ = ["STSEvaluator", "StsPair", "read_sts_jsonl"]


@dataclass(frozen=True)
class StsPair:
    """One STS pair: two texts, their languages and the gold similarity."""

    text1: str
    text2: str
    score: float
    lang1: str
    lang2: str
    id: str | None = None


def read_sts_jsonl(path: str | os.PathLike[str]) -> list[StsPair]:
    """Read STS pairs (see the module docs for the format).

    Raises:
        DataFormatError: Naming the file, line and field, for a missing key, a blank text, a non-numeric or
            non-finite score, or an unknown language.
    """
    p = Path(path)
    out: list[StsPair] = []
    for line, obj in iter_jsonl(p):
        require_keys(obj, ["text1", "text2", "score", "lang1", "lang2"], path=p, line=line)
        t1 = check_text(obj["text1"], field="text1", path=str(p), line=line)
        t2 = check_text(obj["text2"], field="text2", path=str(p), line=line)
        score = obj["score"]
        if isinstance(score, bool) or not isinstance(score, int | float) or not np.isfinite(score):
            raise DataFormatError(
                f"score must be a finite number, got {score!r}",
                path=p,
                line=line,
                field="score",
                hint="write the gold similarity as a JSON number (e.g. 3.5)",
            )
        langs = []
        for key in ("lang1", "lang2"):
            try:
                langs.append(normalize_lang(obj[key], field=key))
            except UnknownLanguageError as exc:
                raise DataFormatError(exc.message, path=p, line=line, field=key, hint=exc.hint) from None
        rid = obj.get("id")
        out.append(StsPair(t1, t2, float(score), langs[0], langs[1], None if rid is None else str(rid)))
    if not out:
        raise DataFormatError("no STS pair in the file", path=p, hint='one JSON object per line: {"text1": ...}')
    return out


class STSEvaluator(CrossalignEvaluator):
    """Spearman/Pearson of cosine similarity with gold scores, per language pair.

    Args:
        pairs: The pairs (e.g. from :func:`read_sts_jsonl`).
        task: Task name in the scores.
        prompt: Prompt name for both texts (``"query"``).
        suite: Suite name (``sts``).
        name, batch_size, long_text: As for :class:`~crossalign.evaluation.evaluators.base.CrossalignEvaluator`.

    Raises:
        DataFormatError: No pairs.
    """

    def __init__(
        self,
        pairs: Sequence[StsPair],
        *,
        task: str = "sts",
        prompt: str | None = "query",
        suite: str = "sts",
        name: str | None = None,
        batch_size: int = 32,
        long_text: str = "truncate",
    ) -> None:
        if not pairs:
            raise DataFormatError("no STS pairs given", field="pairs")
        super().__init__(suite, task, "spearman", name, batch_size, long_text)
        self.pairs = list(pairs)
        self.prompt = prompt

    def requests(self) -> list[TextRequest]:
        """Both texts of every pair with the one prompt."""
        return [TextRequest(tuple(p.text1 for p in self.pairs) + tuple(p.text2 for p in self.pairs), self.prompt)]

    def evaluate_detailed(self, encoder: Any) -> list[EvaluatorOutput]:
        """Encode and correlate, one output per ``(lang1, lang2)`` group.

        Args:
            encoder: An :class:`~crossalign.models.embedding_cache.EmbeddingCache` or a model.

        Raises:
            DataFormatError: A group whose gold scores (or cosines) are all equal.
        """
        timer = _Timer()
        cache = self._encoder(encoder)
        with timer.stage("encode"):
            e1 = cache.encode([p.text1 for p in self.pairs], self.prompt, [p.lang1 for p in self.pairs])
            e2 = cache.encode([p.text2 for p in self.pairs], self.prompt, [p.lang2 for p in self.pairs])
        groups: dict[tuple[str, str], list[int]] = {}
        for i, p in enumerate(self.pairs):
            groups.setdefault((p.lang1, p.lang2), []).append(i)
        outputs = []
        for (l1, l2), rows in groups.items():
            with timer.stage("score"):
                res = sts_correlation(e1[rows], e2[rows], [self.pairs[i].score for i in rows])
            score = TaskScore(
                suite=self.suite,
                task=self.task,
                query_lang=l1,
                doc_lang=l2,
                pool={},
                n_queries=res.n,
                main_score="spearman",
                scores={"spearman": res.spearman, "pearson": res.pearson},
                meta={"similarity": "cosine", "prompt": self.prompt, "n_pairs": res.n},
            )
            outputs.append(EvaluatorOutput(score, None))
        return timer.stamp(outputs)
