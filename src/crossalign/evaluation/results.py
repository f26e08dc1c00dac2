"""The self-describing results file every evaluation writes (``results.json``) and every report reads.

One :class:`EvaluationResult` per evaluated model: who made it (crossalign version, time, environment), what was
evaluated (model spec, local path, weight fingerprint), on what (data provenance, split) and how (config), and one
:class:`TaskScore` per (suite, task, query language, document pool). Directions are never hidden in names: each
score states its ``query_lang``, its ``doc_lang`` (``None`` for a pool mixing languages) and the pool's composition.

Scores are raw values (0–1 for ratios, ranks for Max@R); tables multiply ratios by 100 when they print them.
Per-query values are kept (``per_query``) so that :mod:`crossalign.reports.compare` can run paired significance
tests between two result files evaluated on the same queries.

Schema version: :data:`SCHEMA_VERSION`. :func:`load_results` rejects files of another major version with a clear
error.
"""

from __future__ import annotations

import json
import os
import platform
import sys
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from crossalign import __version__
from crossalign.errors import DataFormatError
from crossalign.utils.atomic import atomic_write_json

SCHEMA_VERSION = "1.0"

#: Suites and what their scores mean.
SUITES: dict[str, str] = {
    "retrieval": "query -> documents of one language (en->en, x->x, x->en, en->x)",
    "mixed-pool": "multi-reference pool D_en + D_x, both parallel documents relevant (Max@R, Complete@k)",
    "inclination": "x queries over D_x + non-parallel D_en, only d_x relevant (EnglishFirst@1, English above gold)",
    "bitext": "bitext mining between aligned texts with distractors (P@1, xSIM, BUCC F1)",
    "sts": "semantic textual similarity (Spearman/Pearson of cosine)",
}

#: Metrics where lower is better (everything else: higher is better).
LOWER_IS_BETTER: frozenset[str] = frozenset(
    {
        "max_rank_mean",
        "max_rank_median",
        "min_rank_mean",
        "min_rank_median",
        "xsim",
        "xsim_absolute",
        "xsim_error",
        "pivot_above_gold_mean",
        "pivot_first@1",
        "pivot_first_wrong@1",
    }
)


_LOWER_PREFIXES: tuple[str, ...] = ("max_rank", "min_rank", "xsim", "pivot_above_gold", "pivot_first")


def lower_is_better(metric: str) -> bool:
    """True for metrics where a smaller value is better: :data:`LOWER_IS_BETTER`, and the per-query names and
    variants of the same quantities (``max_rank``, ``min_rank``, ``xsim_absolute``, ``pivot_above_gold``, ...)."""
    return metric in LOWER_IS_BETTER or metric.startswith(_LOWER_PREFIXES)


def _environment() -> dict[str, Any]:
    from importlib.metadata import PackageNotFoundError, version

    env: dict[str, Any] = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
    }
    # Read versions from the installed metadata: importing torch just to print its version costs seconds.
    for dist in ("torch", "transformers", "sentence-transformers", "numpy"):
        try:
            env[dist.replace("-", "_")] = version(dist)
        except PackageNotFoundError:  # pragma: no cover - reporting only
            env[dist.replace("-", "_")] = None
    return env


@dataclass
class TaskScore:
    """The scores of one model on one evaluation unit.

    Attributes:
        suite: One of :data:`SUITES` (``retrieval``, ``mixed-pool``, ``inclination``, ``bitext``, ``sts``) or a
            user suite name.
        task: Task name (``libreoffice-sections``, a user dataset name, ...).
        query_lang: Language of the queries (bitext: the source side; STS: the first text).
        doc_lang: Language of the documents when the pool has one language (bitext: the target side), else None.
        pool: Documents per language in the searched pool (bitext: target candidates per language).
        n_queries: Number of queries scored (after dropping queries without relevant documents).
        main_score: Name of the headline metric in ``scores``.
        scores: Metric name -> aggregate value (raw, not ×100).
        per_query: Optional metric name -> {query id -> value}, for paired significance tests.
        meta: Anything else worth keeping (skipped queries, thresholds, k of the margin, ...).
    """

    suite: str
    task: str
    query_lang: str | None
    doc_lang: str | None
    pool: dict[str, int]
    n_queries: int
    main_score: str
    scores: dict[str, float]
    per_query: dict[str, dict[str, float]] | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str, str | None, str | None, tuple[str, ...]]:
        """What identifies this unit across result files: (suite, task, query_lang, doc_lang, pool languages).

        The pool's languages are part of the key: English queries over {de, en} and over {en, zh-CN} are different
        units even though both have ``doc_lang=None``.
        """
        return (self.suite, self.task, self.query_lang, self.doc_lang, tuple(sorted(self.pool)))

    @property
    def direction(self) -> str:
        """Human label of the direction: ``de→en``, ``de→{de,en}`` for a mixed pool."""
        target = self.doc_lang if self.doc_lang is not None else "{" + ",".join(sorted(self.pool)) + "}"
        return f"{self.query_lang}→{target}"

    def __post_init__(self) -> None:
        if self.main_score not in self.scores:
            raise DataFormatError(
                f"main_score {self.main_score!r} is not among the scores ({', '.join(sorted(self.scores))})",
                field="main_score",
            )


@dataclass
class EvaluationResult:
    """Everything one evaluation of one model produced.

    Attributes:
        model: ``{"spec": ..., "path": ..., "fingerprint": ..., "label": ...}``.
        data: ``{"source": ..., "provenance": ..., "split": ...}``.
        config: The evaluation configuration (suites, languages, metrics, batch size, prompts, ...).
        tasks: The scores.
        languages: The languages evaluated (canonical tags).
        crossalign_version: Version that wrote the file.
        created: ISO-8601 UTC timestamp.
        environment: Python/library versions and core count.
        timing: Seconds spent per stage (encode, search, score) — informative only.
    """

    model: dict[str, Any]
    data: dict[str, Any]
    config: dict[str, Any]
    tasks: list[TaskScore]
    languages: list[str] = field(default_factory=list)
    crossalign_version: str = __version__
    created: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    environment: dict[str, Any] = field(default_factory=_environment)
    timing: dict[str, float] = field(default_factory=dict)
    schema_version: str = SCHEMA_VERSION

    @property
    def label(self) -> str:
        """Short name of the model for tables and legends."""
        return str(self.model.get("label") or self.model.get("spec") or "model")

    def find(self, suite: str | None = None, **where: Any) -> list[TaskScore]:
        """Task scores of ``suite`` whose attributes equal ``where`` (e.g. ``query_lang="de"``)."""
        out = []
        for t in self.tasks:
            if suite is not None and t.suite != suite:
                continue
            if all(getattr(t, k) == v for k, v in where.items()):
                out.append(t)
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (the ``results.json`` layout)."""
        d = asdict(self)
        d["tasks"] = [asdict(t) for t in self.tasks]
        return d

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write ``results.json`` atomically; NaN/Inf scores are rejected (they would be silent wrong numbers)."""
        p = Path(path)
        atomic_write_json(p, self.to_dict())
        return p

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], *, source: str | None = None) -> EvaluationResult:
        """Rebuild from the JSON layout, validating required fields."""
        version = str(d.get("schema_version", ""))
        if version.split(".")[0] != SCHEMA_VERSION.split(".")[0]:
            raise DataFormatError(
                f"results schema version {version!r} is not supported (expected {SCHEMA_VERSION})",
                path=source,
                field="schema_version",
                hint="re-run the evaluation with this crossalign version",
            )
        for key in ("model", "data", "config", "tasks"):
            if key not in d:
                raise DataFormatError(
                    f"missing '{key}'", path=source, field=key, hint="is this a crossalign results.json?"
                )
        tasks = []
        for i, t in enumerate(d["tasks"]):
            try:
                tasks.append(TaskScore(**t))
            except TypeError as exc:
                raise DataFormatError(f"task {i}: {exc}", path=source, field=f"tasks[{i}]") from None
        fields = {k: d[k] for k in ("languages", "crossalign_version", "created", "environment", "timing") if k in d}
        return cls(
            model=dict(d["model"]),
            data=dict(d["data"]),
            config=dict(d["config"]),
            tasks=tasks,
            schema_version=version,
            **fields,
        )


def load_results(path: str | os.PathLike[str]) -> EvaluationResult:
    """Read a ``results.json`` (or a directory containing one) with a clear error for anything else."""
    p = Path(path)
    if p.is_dir():
        p = p / "results.json"
    if not p.is_file():
        raise DataFormatError("results file not found", path=p, hint="pass the results.json an evaluation wrote")
    try:
        d = json.loads(p.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataFormatError(f"not valid JSON ({exc.msg})", path=p, line=exc.lineno) from None
    if not isinstance(d, dict):
        raise DataFormatError("expected a JSON object", path=p)
    return EvaluationResult.from_dict(d, source=str(p))


def merge_results(results: Iterable[EvaluationResult]) -> list[TaskScore]:
    """All task scores of several results of the SAME model (e.g. suites evaluated separately), later ones win."""
    merged: dict[tuple[str, str, str | None, str | None, tuple[str, ...]], TaskScore] = {}
    for r in results:
        for t in r.tasks:
            merged[t.key] = t
    return list(merged.values())
