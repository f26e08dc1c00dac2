"""Result writers: ``results.json``, MTEB ``TaskResult`` JSON files, TREC run files.

Layout under an evaluation's output directory::

    results.json                                     EvaluationResult.save (crossalign's own, complete record)
    mteb/<model_name>/<revision>/model_meta.json     {"name", "revision", ...}
    mteb/<model_name>/<revision>/<TaskName>.json     one MTEB TaskResult per task
    runs/<suite>/<task>/<query_lang>-<target>.trec   one TREC run per (task, direction)

**MTEB format** (checked against ``mteb`` 2.26's ``TaskResult`` model, ``mteb/results/task_result.py``; the tests
load our files with ``mteb.TaskResult.from_disk`` when mteb is importable, and check the same fields otherwise)::

    {"dataset_revision": "<sha256 of the eval set content, 16 hex>", "task_name": "LibreofficeSectionsRetrieval",
     "mteb_version": "2.26.24", "evaluation_time": 1.23, "kg_co2_emissions": null, "date": <unix time>,
     "scores": {"test": [{"hf_subset": "de:de-en", "languages": ["deu-Latn", "eng-Latn"], "main_score": 0.61,
                          "ndcg_at_10": 0.61, "recall_at_100": 0.97, ...}, ...]}}

- One file per (suite, task family): the task name is the family in CamelCase plus the suite's kind
  (``Retrieval``, ``MixedPoolRetrieval``, ``InclinationRetrieval``, ``BitextMining``, ``STS``).
- Each direction is one ``hf_subset`` entry: ``"<set>:<query_lang>-<target>"`` where ``<set>`` is the part of the
  task after ``/`` (the language the LibreOffice set belongs to) and ``<target>`` the document language, or the pool's
  languages joined by ``+`` for a mixed pool. ``languages`` are ISO 639-3 + script (``cmn-Hans`` for ``zh-CN``).
- Metric names follow MTEB's spelling: ``@`` becomes ``_at_`` (``ndcg@10`` -> ``ndcg_at_10``), ``:`` becomes ``_``.
  Values are raw (0–1, ranks as ranks), like MTEB's.
- ``evaluation_time`` is the task's search and scoring seconds; the encoding, done once up front for all tasks, is
  ``timing.encode`` in ``results.json``.
- ``main_score`` is higher-is-better, as MTEB assumes when it ranks and averages: a task whose own main score is
  lower-is-better (the inclination suite's PivotFirst@1) gets the first of :data:`MTEB_MAIN_FALLBACKS` it has
  (nDCG@1 there: the same-language gold document ranked first); its own main score stays among the metrics and in
  ``results.json``.
- ``mteb_version`` is the installed mteb's version, null only when mteb is not installed (the numbers are
  crossalign's either way). ``model_meta.json`` carries the name and revision that MTEB's result loaders read; the
  revision is the model fingerprint's first 16 hex digits.

**TREC runs**: ``qid Q0 docid rank score tag`` in trec_eval's order (score descending, doc id descending), via
:func:`crossalign.evaluation.metrics.retrieval.write_trec_run`; ``trec_eval qrels run`` reproduces our numbers with
the qrels of the set (written with ``--write-sets``).
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from crossalign.evaluation.evaluators.base import EvaluatorOutput
from crossalign.evaluation.format import slug
from crossalign.evaluation.metrics import lower_is_better
from crossalign.evaluation.metrics.retrieval import write_trec_run
from crossalign.evaluation.results import EvaluationResult, TaskScore
from crossalign.languages import mteb_code
from crossalign.utils.atomic import atomic_write_json
from crossalign.utils.deps import package_versions

__all__ = [
    "MTEB_MAIN_FALLBACKS",
    "MTEB_SPLIT",
    "mteb_hf_subset",
    "mteb_main_score",
    "mteb_metric_name",
    "mteb_task_name",
    "mteb_task_results",
    "write_mteb_results",
    "write_results_json",
    "write_trec_runs",
]

#: The split name of every MTEB entry (the LibreOffice sets are built from the test split only).
MTEB_SPLIT = "test"

_MTEB_KIND = {
    "retrieval": "Retrieval",
    "mixed-pool": "MixedPoolRetrieval",
    "inclination": "InclinationRetrieval",
    "bitext": "BitextMining",
    "sts": "STS",
}


def write_results_json(result: EvaluationResult, directory: str | os.PathLike[str]) -> Path:
    """Write ``<directory>/results.json`` (atomically; NaN scores are rejected)."""
    return result.save(Path(directory) / "results.json")


# ---------------------------------------------------------------------------------------------------------- MTEB
def mteb_task_name(suite: str, task: str) -> str:
    """MTEB task name of a crossalign (suite, task): the task family in CamelCase plus the suite's kind.

    Example:
        >>> mteb_task_name("retrieval", "libreoffice-sections/de"), mteb_task_name("bitext", "libreoffice-paragraphs")
        ('LibreofficeSectionsRetrieval', 'LibreofficeParagraphsBitextMining')
    """
    family = task.split("/")[0]
    camel = "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", family) if part)
    return (camel or "Crossalign") + _MTEB_KIND.get(
        suite, "".join(p.title() for p in re.split(r"[^A-Za-z0-9]+", suite))
    )


def mteb_hf_subset(t: TaskScore) -> str:
    """``"<set>:<query_lang>-<target>"`` (``de:de-en``, ``de:de-de+en``; ``de-en`` for a task without a set part)."""
    target = t.doc_lang if t.doc_lang is not None else "+".join(sorted(t.pool))
    direction = f"{t.query_lang}-{target}"
    _, _, set_part = t.task.partition("/")
    return f"{set_part}:{direction}" if set_part else direction


def mteb_metric_name(metric: str) -> str:
    """MTEB's spelling of a metric name: ``ndcg@10`` -> ``ndcg_at_10``, ``lang_share@10:en`` ->
    ``lang_share_at_10_en``."""
    return metric.replace("@", "_at_").replace(":", "_")


def _languages(t: TaskScore) -> list[str]:
    langs = [t.query_lang] if t.query_lang else []
    langs += [t.doc_lang] if t.doc_lang is not None else sorted(t.pool)
    out: list[str] = []
    for lang in langs:
        code = mteb_code(lang)
        if code not in out:
            out.append(code)
    return out


def _seconds(scores: Iterable[TaskScore]) -> float:
    """Search + score (+ encode beyond the up-front batch) seconds, counted once per evaluated set."""
    seen: dict[str, float] = {}
    for t in scores:
        key = str(t.meta.get("set", id(t)))
        seen[key] = float(sum((t.meta.get("seconds") or {}).values()))
    return round(sum(seen.values()), 4)


def mteb_task_results(result: EvaluationResult) -> dict[str, dict[str, Any]]:
    """The MTEB ``TaskResult`` dicts of a result, by MTEB task name (see the module docs for the layout)."""
    groups: dict[str, list[TaskScore]] = defaultdict(list)
    for t in result.tasks:
        groups[mteb_task_name(t.suite, t.task)].append(t)
    try:
        date = datetime.fromisoformat(result.created).timestamp()
    except ValueError:
        date = None
    version = _mteb_version()
    out: dict[str, dict[str, Any]] = {}
    for name, scores in groups.items():
        entries = []
        digests = []
        for t in scores:
            entry: dict[str, Any] = {
                "hf_subset": mteb_hf_subset(t),
                "languages": _languages(t),
                "main_score": float(t.scores[mteb_main_score(t)]),
            }
            for metric, value in t.scores.items():
                entry[mteb_metric_name(metric)] = float(value)
            entries.append(entry)
            if t.meta.get("digest"):
                digests.append(str(t.meta["digest"]))
        revision = _combined_digest(digests) if digests else "unknown"
        out[name] = {
            "dataset_revision": revision,
            "task_name": name,
            "mteb_version": version,
            "scores": {MTEB_SPLIT: entries},
            "evaluation_time": _seconds(scores),
            "kg_co2_emissions": None,
            "date": date,
        }
    return out


#: Higher-is-better metrics that stand in as MTEB's ``main_score`` when a task's own main score is lower-is-better
#: (MTEB ranks and averages main scores assuming higher is better), in order of preference.
MTEB_MAIN_FALLBACKS: tuple[str, ...] = ("ndcg@1", "complete@10", "ndcg@10", "recall@10")


def mteb_main_score(t: TaskScore) -> str:
    """The metric written as MTEB's ``main_score`` for ``t``: its own main score when higher is better, else the first
    of :data:`MTEB_MAIN_FALLBACKS` it has (the inclination suite's PivotFirst@1 becomes nDCG@1: the
    same-language gold document ranked first). ``results.json`` keeps the task's own main score."""
    if not lower_is_better(t.main_score):
        return t.main_score
    for metric in MTEB_MAIN_FALLBACKS:
        if metric in t.scores and not lower_is_better(metric):
            return metric
    raise ValueError(f"{t.suite}/{t.task}: no higher-is-better metric for MTEB's main_score among {sorted(t.scores)}")


def _mteb_version() -> str | None:
    """The installed mteb's version (None when mteb is not installed)."""
    return package_versions(("mteb",))["mteb"]


def _combined_digest(digests: Sequence[str]) -> str:
    import hashlib

    if len(set(digests)) == 1:
        return digests[0][:16]
    return hashlib.sha256("\0".join(sorted(set(digests))).encode()).hexdigest()[:16]


def write_mteb_results(result: EvaluationResult, directory: str | os.PathLike[str]) -> list[Path]:
    """Write ``<directory>/mteb/<model_name>/<revision>/`` with ``model_meta.json`` and one JSON file per task.

    Args:
        result: The evaluation result.
        directory: The evaluation's output directory.

    Returns:
        The task files written.
    """
    name = str(result.model.get("label") or result.model.get("spec") or "model")
    fingerprint = result.model.get("fingerprint")
    revision = str(fingerprint)[:16] if fingerprint else "no_revision_available"  # MTEB's placeholder
    folder = Path(directory) / "mteb" / slug(name.replace("/", "__")) / slug(revision)
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_json(
        folder / "model_meta.json",
        {
            "name": name,
            "revision": revision,
            "loader": "crossalign",
            "framework": ["Sentence Transformers"],
            "languages": [mteb_code(lang) for lang in result.languages] if result.languages else None,
            "crossalign": {
                "spec": result.model.get("spec"),
                "path": result.model.get("path"),
                "fingerprint": result.model.get("fingerprint"),
                "version": result.crossalign_version,
            },
        },
    )
    paths = []
    for task_name, obj in mteb_task_results(result).items():
        path = folder / f"{task_name}.json"
        atomic_write_json(path, obj)
        paths.append(path)
    return paths


# ---------------------------------------------------------------------------------------------------------- TREC
def write_trec_runs(
    outputs: Iterable[EvaluatorOutput],
    directory: str | os.PathLike[str],
    *,
    tag: str = "crossalign",
    depth: int | None = None,
) -> list[Path]:
    """One TREC run file per (task, direction): ``<directory>/runs/<suite>/<task>/<query_lang>-<target>.trec``.

    Args:
        outputs: Evaluator outputs; those without a run (bitext, STS) are skipped.
        directory: The evaluation's output directory.
        tag: Run tag (the model label; whitespace is replaced).
        depth: Documents per query to write (default: all the run holds, 100 for the built-in suites).

    Returns:
        The files written.
    """
    paths = []
    clean_tag = slug(tag)
    for o in outputs:
        if o.run is None:
            continue
        t = o.score
        target = t.doc_lang if t.doc_lang is not None else "+".join(sorted(t.pool))
        path = Path(directory) / "runs" / slug(t.suite) / Path(*[slug(p) for p in t.task.split("/")])
        path = path / f"{slug(str(t.query_lang))}-{slug(target)}.trec"
        write_trec_run(o.run if depth is None else o.run.truncate(depth), path, tag=clean_tag)
        paths.append(path)
    return paths
