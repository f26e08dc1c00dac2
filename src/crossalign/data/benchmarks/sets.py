"""Benchmark data as crossalign's canonical evaluation sets (:class:`~crossalign.data.eval_sets.EvalSet`).

Two shapes cover the standard cross-lingual benchmarks:

- **parallel retrieval** (:func:`parallel_retrieval_sets`; Belebele, XQuAD-R): the same questions and passages exist
  in every language, and a question's relevant passage is known by a language-independent key. For a language
  ``x`` this gives what the LibreOffice sets give (:mod:`crossalign.data.eval_sets`): retrieval sets in the
  four directions ``en→en``, ``x→x``, ``x→en``, ``en→x`` over the same questions, and the mixed pool ``D_en ∪ D_x``
  where ``x`` and ``en`` questions have both parallel passages relevant (Max@R, Complete@k).
- **bitext** (:func:`bitext_set`; Tatoeba, BUCC, FLORES): source sentences (queries) and target sentences
  (documents) with gold alignments (qrels), read by :class:`~crossalign.evaluation.evaluators.BitextEvaluator`.

Ids are ``<lang>:<key>`` (whitespace replaced by ``_``); ``meta.xling_id`` is the language-independent key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from crossalign.data.eval_sets import EvalSet, finish_set, parallel_sets, record_id
from crossalign.data.records import Document, Query, RetrievalSet

__all__ = ["PIVOT", "bitext_set", "parallel_retrieval_sets", "record_id"]

#: The pivot language of the cross-lingual directions.
PIVOT = "en"


def parallel_retrieval_sets(
    task: str,
    lang: str,
    questions: Mapping[str, Mapping[str, str]],
    passages: Mapping[str, Mapping[str, str]],
    relevant: Mapping[str, str],
    *,
    suites: Sequence[str] = ("retrieval", "mixed-pool"),
    provenance: Mapping[str, Any] | None = None,
) -> list[EvalSet]:
    """The sets of one language ``x`` from parallel questions and passages.

    Args:
        task: Task name (``belebele/de``); set names append the direction (``belebele/de/de-en``) or ``mixed``.
        lang: ``x`` (``en`` gives only the ``en→en`` retrieval set).
        questions: ``questions[lang][question key] = text`` for ``x`` and ``en``.
        passages: ``passages[lang][passage key] = text`` for ``x`` and ``en``.
        relevant: ``question key -> passage key`` (its one relevant passage).
        suites: Which of ``retrieval`` and ``mixed-pool`` to build.
        provenance: Recorded with every set.

    Returns:
        Only questions whose passage exists, and that exist, in both languages are used, so every direction has
        the same questions (the counts are in each set's provenance).
    """
    langs = [PIVOT] if lang == PIVOT else [PIVOT, lang]
    keys = [k for k in questions[PIVOT] if all(k in questions[lg] for lg in langs)]
    keys = [k for k in keys if relevant.get(k) is not None and all(relevant[k] in passages[lg] for lg in langs)]
    pkeys = [p for p in passages[PIVOT] if all(p in passages[lg] for lg in langs)]
    base = {
        "builder": "crossalign.data.benchmarks",
        **(provenance or {}),
        "n_questions_used": len(keys),
        "n_passages_used": len(pkeys),
    }
    if not keys:
        return []
    return parallel_sets(
        task,
        lang,
        keys,
        pkeys,
        relevant.__getitem__,
        lambda lg, k: Query(record_id(lg, k), questions[lg][k], lg, {"xling_id": k}),
        lambda lg, p: Document(record_id(lg, p), passages[lg][p], lg, None, {"xling_id": p}),
        suites=suites,
        provenance=base,
        mixed_relevant="both parallel passages",
    )


def bitext_set(
    task: str,
    src: str,
    tgt: str,
    sources: Sequence[tuple[str, str]],
    targets: Sequence[tuple[str, str]],
    gold: Sequence[tuple[str, str]],
    *,
    provenance: Mapping[str, Any] | None = None,
) -> EvalSet:
    """A bitext-mining set.

    Args:
        task: Task name; the set is named ``<task>/<src>-<tgt>``.
        src, tgt: The two languages.
        sources, targets: ``(key, text)`` of each side, in the dataset's order (keys unique per side).
        gold: ``(source key, target key)`` pairs.
        provenance: Recorded with the set.
    """
    queries = [Query(record_id(src, k), t, src, {"xling_id": k}) for k, t in sources]
    docs = [Document(record_id(tgt, k), t, tgt, None, {"xling_id": k}) for k, t in targets]
    qrels: dict[str, dict[str, int]] = {}
    for s, t in gold:
        qrels.setdefault(record_id(src, s), {})[record_id(tgt, t)] = 1
    rs = RetrievalSet(queries, docs, qrels, name=f"{task}/{src}-{tgt}", validate=False)
    extra = {"builder": "crossalign.data.benchmarks", "kind": "bitext", **(provenance or {}), "gold_pairs": len(gold)}
    return EvalSet("bitext", task, finish_set(rs, extra))
