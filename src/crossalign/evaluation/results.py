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
from collections.abc import Mapping, Sequence
from dataclasses import MISSING, asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from crossalign import __version__
from crossalign.data.io import check_fields, load_json_object
from crossalign.errors import DataFormatError
from crossalign.utils.atomic import atomic_write_json
from crossalign.utils.deps import package_versions

SCHEMA_VERSION = "1.0"

#: Suites and what their scores mean.
SUITES: dict[str, str] = {
    "retrieval": "query -> documents of one language (en->en, x->x, x->en, en->x)",
    "mixed-pool": "multi-reference pool D_en + D_x, both parallel documents relevant (Max@R, Complete@k)",
    "inclination": "x queries over D_x + non-parallel D_en, only d_x relevant (EnglishFirst@1, English above gold)",
    "bitext": "bitext mining between aligned texts with distractors (P@1, xSIM, BUCC F1)",
    "sts": "semantic textual similarity (Spearman/Pearson of cosine)",
}


def suite_table() -> str:
    """:data:`SUITES` as a markdown table (README "Evaluate" holds it; a test keeps the two equal)."""
    return "\n".join(["| suite | what it measures |", "|---|---|", *(f"| `{s}` | {d} |" for s, d in SUITES.items())])


def unique_labels(labels: Sequence[str]) -> list[str]:
    """The labels with repeats numbered, usable as folder names: ``["a", "a", "b"]`` → ``["a", "a-2", "b"]``."""
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        out.append(label if seen[label] == 1 else f"{label}-{seen[label]}")
    return out


def _environment() -> dict[str, Any]:
    env: dict[str, Any] = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
    }
    return {**env, **package_versions(("torch", "transformers", "sentence_transformers", "numpy"))}


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
                hint="name one of the scores as main_score",
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
        holdout: The held-out panel compared with the base model (per-language deltas with bootstrap CIs and the
            regression verdict, :func:`crossalign.evaluation.holdout.holdout_comparison`); empty when no base
            model was given.
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
    holdout: dict[str, Any] = field(default_factory=dict)
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
        check_fields(d, _RESULT_FIELDS, path=source, **_FIELD_HINTS)
        tasks = []
        for i, t in enumerate(d["tasks"]):
            where = f"tasks[{i}]"
            if not isinstance(t, Mapping):
                raise DataFormatError(
                    f"expected an object, got {type(t).__name__}",
                    path=source,
                    field=where,
                    hint="each task is an object with suite, task, scores, ...",
                )
            missing = [k for k in _REQUIRED_TASK_FIELDS if k not in t]
            if missing:
                raise DataFormatError(
                    f"missing {', '.join(repr(k) for k in missing)}",
                    path=source,
                    field=where,
                    hint="is this a crossalign results.json? re-run the evaluation to rewrite it",
                )
            check_fields(t, _TASK_FIELDS, path=source, where=f"{where}.", **_FIELD_HINTS)
            try:
                tasks.append(TaskScore(**t))
            except DataFormatError as exc:
                raise DataFormatError(exc.message, path=source, field=f"{where}.{exc.field}", hint=exc.hint) from None
        keys = ("languages", "crossalign_version", "created", "environment", "timing", "holdout")
        optional = {k: d[k] for k in keys if k in d}
        return cls(
            model=dict(d["model"]),
            data=dict(d["data"]),
            config=dict(d["config"]),
            tasks=tasks,
            schema_version=version,
            **optional,
        )


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _is_str_or_none(v: Any) -> bool:
    return v is None or isinstance(v, str)


def _is_score_map(v: Any) -> bool:
    return isinstance(v, dict) and all(isinstance(k, str) and (x is None or _is_number(x)) for k, x in v.items())


#: results.json top-level keys: (check, what the value must be).
_RESULT_FIELDS: dict[str, tuple[Any, str]] = {
    "model": (lambda v: isinstance(v, dict), "an object"),
    "data": (lambda v: isinstance(v, dict), "an object"),
    "config": (lambda v: isinstance(v, dict), "an object"),
    "tasks": (lambda v: isinstance(v, list), "a list of task objects"),
    "languages": (lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v), "a list of strings"),
    "crossalign_version": (lambda v: isinstance(v, str), "a string"),
    "created": (lambda v: isinstance(v, str), "a string"),
    "environment": (lambda v: isinstance(v, dict), "an object"),
    "timing": (lambda v: isinstance(v, dict) and all(_is_number(x) for x in v.values()), "an object of numbers"),
    "holdout": (lambda v: isinstance(v, dict), "an object"),
    "schema_version": (lambda v: isinstance(v, str), "a string"),
}

#: The fields a task must have: :class:`TaskScore`'s without a default.
_REQUIRED_TASK_FIELDS: tuple[str, ...] = tuple(
    f.name for f in fields(TaskScore) if f.default is MISSING and f.default_factory is MISSING
)

#: One task of results.json: (check, what the value must be).
_TASK_FIELDS: dict[str, tuple[Any, str]] = {
    "suite": (lambda v: isinstance(v, str), "a string"),
    "task": (lambda v: isinstance(v, str), "a string"),
    "query_lang": (_is_str_or_none, "a language code or null"),
    "doc_lang": (_is_str_or_none, "a language code or null"),
    "pool": (
        lambda v: isinstance(v, dict) and all(isinstance(x, int) and not isinstance(x, bool) for x in v.values()),
        "an object of language -> document count",
    ),
    "n_queries": (lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0, "a non-negative integer"),
    "main_score": (lambda v: isinstance(v, str), "a metric name"),
    "scores": (_is_score_map, "an object of metric -> number"),
    "per_query": (
        lambda v: v is None or (isinstance(v, dict) and all(_is_score_map(x) for x in v.values())),
        "null or an object of metric -> {query id -> number}",
    ),
    "meta": (lambda v: isinstance(v, dict), "an object"),
}


_FIELD_HINTS = {
    "unknown_hint": "remove it; results.json is written by crossalign evaluate and read back as written",
    "wrong_hint": "fix the value, or re-run the evaluation to rewrite the file",
}


def load_results(path: str | os.PathLike[str]) -> EvaluationResult:
    """Read a ``results.json`` with a clear error for anything else.

    ``path`` may also be a directory holding one (``OUT/<label>/``), or an ``evaluate`` output directory of a single
    model (``OUT/``, read through its ``evaluation.json``); an output directory of several models is an error that
    lists their folders.
    """
    p = Path(path)
    if p.is_dir():
        p = _results_in(p)
    if not p.is_file():
        raise DataFormatError("results file not found", path=p, hint="pass the results.json an evaluation wrote")
    d = load_json_object(p, hint="pass the results.json an evaluation wrote (re-run the evaluation if it is damaged)")
    return EvaluationResult.from_dict(d, source=str(p))


def _results_in(directory: Path) -> Path:
    """The ``results.json`` a directory stands for (itself holding one, or an evaluate output of one model)."""
    direct = directory / "results.json"
    manifest = directory / "evaluation.json"
    if direct.is_file() or not manifest.is_file():
        return direct
    try:
        models = json.loads(manifest.read_text(encoding="utf-8")).get("models") or []
        files = [directory / m["results"] for m in models]
    except (ValueError, OSError, AttributeError, KeyError, TypeError):
        return direct
    if len(files) == 1:
        return files[0]
    raise DataFormatError(
        f"this evaluation holds {len(files)} models' results",
        path=directory,
        hint="pass one of them: " + ", ".join(str(f) for f in files),
    )
