"""Compare several models' results cell by cell, with paired significance tests where per-query values exist.

A *cell* is one evaluation unit present in every result: the same ``(suite, task, query_lang, doc_lang)``
(:attr:`~crossalign.evaluation.results.TaskScore.key`). For each cell and metric the comparison holds every model's
value, the difference to the baseline model (``model − baseline``), and — when both sides kept per-query values for
that metric on the same queries — a paired test (:mod:`crossalign.evaluation.significance`) whose p-values are
Holm–Bonferroni corrected over the cells compared on the same metric for the same model.

Per-query conventions (what an evaluation must write into ``TaskScore.per_query`` for a metric to be tested):

- ``per_query[<metric>]`` — ``{query id: value}`` whose mean is ``scores[<metric>]``: retrieval metrics
  (``ndcg@10``, ``recall@10``, ``mrr@10``, ...), ``pivot_first@1``, bitext ``p@1_src2tgt``/``xsim``, ...
- ``per_query["<name>"]`` for an aggregate ``<name>_mean`` / ``<name>_median``: the mean/median of those values
  (``pivot_above_gold`` → ``pivot_above_gold_mean``);
- mixed pool: ``per_query["max_rank"]`` and ``per_query["min_rank"]`` — the 1-based Max@R and Min@R of each query.
  From them: ``max_rank_mean``/``_median`` (mean/median), ``complete@k`` (``[max_rank ≤ k]``), and in the
  ``mixed-pool`` suite ``ndcg@1`` (``[min_rank = 1]``).

Query ids are matched across results; different query sets are refused (the tests are paired). Values derived from
``per_query`` must reproduce the stored aggregate (to 1e-6), otherwise the metric is reported untested with a note —
a mismatch means the per-query values do not belong to that score. Correlations (STS) and BUCC F1 are not means over
queries and are compared without a test.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from crossalign.errors import ConfigError, CrossalignError
from crossalign.evaluation.format import (
    CORRECTIONS,
    MISSING,
    TESTS,
    format_ci,
    format_delta,
    format_p,
    format_value,
    header_label,
    is_neutral,
    metric_label,
    short_fingerprint,
)
from crossalign.evaluation.metrics import lower_is_better, parse_metric, score_info
from crossalign.evaluation.results import EvaluationResult, TaskScore, unique_labels
from crossalign.evaluation.significance import PairedTestResult, align_per_query, holm, paired_test
from crossalign.reports.tables import Table
from crossalign.utils.table import render_text

__all__ = [
    "CORRECTIONS",
    "TESTS",
    "CellComparison",
    "Comparison",
    "ComparisonError",
    "MetricComparison",
    "compare_results",
    "per_query_values",
]

_TEST_NAMES = {"bootstrap": "paired bootstrap", "randomization": "paired randomisation (sign-flip permutation)"}
_VERDICT_ORDER = ("better", "worse", "higher", "lower", "no significant difference")


class ComparisonError(CrossalignError, ValueError):
    """Results cannot be compared (no common cells, unknown metric, bad baseline)."""


# ---------------------------------------------------------------------------------------------- per-query values
_COMPLETE = re.compile(r"^complete@(\d+)$")


def per_query_values(task: TaskScore, metric: str) -> tuple[dict[str, float], str] | None:
    """The per-query values behind ``task.scores[metric]`` and the statistic that aggregates them.

    Returns:
        ``({query id: value}, "mean" | "median")``, or None when the task kept no per-query values for the metric
        (see the module docstring for the key conventions).
    """
    pq = task.per_query or {}
    if metric in pq:
        return dict(pq[metric]), "mean"
    for agg in ("mean", "median"):
        if metric.endswith(f"_{agg}") and metric[: -len(agg) - 1] in pq:
            return dict(pq[metric[: -len(agg) - 1]]), agg
    m = _COMPLETE.match(metric)
    if m and "max_rank" in pq:
        k = int(m.group(1))
        return {q: float(v <= k) for q, v in pq["max_rank"].items()}, "mean"
    if metric == "ndcg@1" and task.suite == "mixed-pool" and "min_rank" in pq:
        return {q: float(v == 1) for q, v in pq["min_rank"].items()}, "mean"
    return None


def _reproduces(values: dict[str, float], statistic: str, score: float) -> bool:
    agg = (np.mean if statistic == "mean" else np.median)(list(values.values())) if values else math.nan
    return math.isclose(float(agg), score, rel_tol=1e-6, abs_tol=1e-6)


# ------------------------------------------------------------------------------------------------- data classes
@dataclass
class MetricComparison:
    """One metric of one cell across the models.

    Attributes:
        metric: Metric key (``ndcg@10``).
        lower_is_better: Direction of "better".
        statistic: ``"mean"``/``"median"`` aggregate tested, or None when no model could be tested.
        values: Raw value per model (None where a model lacks the metric).
        deltas: ``value − baseline value`` per model (None for the baseline and where a value is missing).
        tests: The paired test per model (None for the baseline and untested models).
        p_adjusted: Holm-adjusted p-value per model (raw p-value when ``correction="none"``).
        verdicts: Per model: ``baseline``, ``better``, ``worse``, ``higher``/``lower`` (neutral metrics),
            ``no significant difference``, or ``not tested``.
        notes: Per model: why it was not tested (empty string otherwise).
    """

    metric: str
    lower_is_better: bool
    statistic: str | None
    values: list[float | None]
    deltas: list[float | None]
    tests: list[PairedTestResult | None]
    p_adjusted: list[float | None] = field(default_factory=list)
    verdicts: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def significant(self, i: int, alpha: float) -> bool:
        """True when model ``i`` differs significantly from the baseline (adjusted p < alpha)."""
        p = self.p_adjusted[i] if i < len(self.p_adjusted) else None
        return p is not None and p < alpha


@dataclass
class CellComparison:
    """One evaluation unit present in every result."""

    suite: str
    task: str
    query_lang: str | None
    doc_lang: str | None
    direction: str
    pool: dict[str, int]
    n_queries: list[int]
    metrics: list[MetricComparison]


@dataclass
class Comparison:
    """Everything :func:`compare_results` found; render with :meth:`to_markdown`, :meth:`to_text`, :meth:`to_dict`.

    Attributes:
        labels: Model labels, in the order of the results.
        models: ``{"label", "spec", "fingerprint", "fingerprint_short", "path"}`` per model.
        baseline: Index of the baseline model.
        test: ``"bootstrap"`` or ``"randomization"``.
        alpha: Significance level.
        correction: ``"holm"`` or ``"none"``.
        n_resamples: Resamples per test.
        seed: Generator seed of the tests.
        cells: The compared cells.
        not_compared: Cells present in some results only (``"suite/task direction: only in A, B"``).
        notes: Warnings (different data, untested metrics, ...).
    """

    labels: list[str]
    models: list[dict[str, Any]]
    baseline: int
    test: str
    alpha: float
    correction: str
    n_resamples: int
    seed: int | None
    cells: list[CellComparison]
    not_compared: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def others(self) -> list[int]:
        """Indices of the models compared against the baseline."""
        return [i for i in range(len(self.labels)) if i != self.baseline]

    def metrics(self) -> list[str]:
        """Every compared metric, in first-seen order."""
        return list(dict.fromkeys(m.metric for c in self.cells for m in c.metrics))

    def find(
        self, suite: str | None = None, metric: str | None = None, **where: Any
    ) -> list[tuple[CellComparison, MetricComparison]]:
        """``(cell, metric comparison)`` pairs filtered by suite, metric and cell attributes (``query_lang="de"``)."""
        return [
            (c, m)
            for c in self.cells
            if suite in (None, c.suite) and all(getattr(c, k) == v for k, v in where.items())
            for m in c.metrics
            if metric in (None, m.metric)
        ]

    def method_text(self) -> str:
        """One paragraph stating the test, its parameters, the correction and how to read the marks."""
        name = _TEST_NAMES[self.test]
        if self.test == "bootstrap":
            how = (
                f"{name} over queries ({self.n_resamples:,} resamples, seed {self.seed}), two-sided; 95 % CI = "
                "percentile interval of the bootstrap difference, per cell (not adjusted for multiple comparisons)"
            )
        else:
            how = (
                f"{name} over queries ({self.n_resamples:,} random sign flips, seed {self.seed}, exact for "
                f"n ≤ {self.n_resamples.bit_length() - 1}), two-sided"
            )
        corr = (
            "Holm–Bonferroni correction over the cells compared on the same metric (per compared model)"
            if self.correction == "holm"
            else "no multiple-comparison correction"
        )
        return (
            f"Δ = model − {self.labels[self.baseline]} (points ×100 for shares, ranks for Max@R). "
            f"Test: {how}; {corr}; † = significant at α = {self.alpha:g}. "
            "'no significant difference' means these queries do not show a difference at that level — not that the "
            "models are equal. Cells without per-query values are compared without a test."
        )

    def summary(self) -> list[str]:
        """One line per compared model and metric: how many cells are better / worse / not significant."""
        lines = []
        base = self.labels[self.baseline]
        for i in self.others:
            for metric in self.metrics():
                verdicts = [m.verdicts[i] for _, m in self.find(metric=metric)]
                counts = Counter(verdicts)
                untested = counts.pop("not tested", 0)
                head = f"{self.labels[i]} vs {base}, {metric_label(metric)}"
                if not counts:
                    lines.append(f"{head}: {_cells(untested)}, none tested")
                    continue
                parts = [f"{k} in {counts[k]}" for k in _VERDICT_ORDER if counts[k]]
                tail = f" ({untested} untested)" if untested else ""
                lines.append(f"{head}: {', '.join(parts)} of {_cells(counts.total())}{tail}")
        return lines

    # ---------------------------------------------------------------------------------------------- rendering
    def tables(self, *, markdown: bool = False) -> list[Table]:
        """One table per (suite, task): rows = cell × metric; per compared model its value, Δ, CI, p and verdict."""
        out: list[Table] = []
        groups: dict[tuple[str, str], list[CellComparison]] = {}
        for c in self.cells:
            groups.setdefault((c.suite, c.task), []).append(c)
        base = self.labels[self.baseline]
        p_head = "p (Holm)" if self.correction == "holm" else "p"
        cols = ["direction", "metric", base]
        for i in self.others:
            sfx = f" {self.labels[i]}" if len(self.others) > 1 else ""
            ci = ["95% CI" + sfx] if self.test == "bootstrap" else []
            cols += [self.labels[i], "Δ" + sfx, *ci, p_head + sfx, "verdict" + sfx]
        for (suite, task), cells in groups.items():
            rows = []
            ns: set[int] = set()
            for c in cells:
                ns.update(c.n_queries)
                for m in c.metrics:
                    row = [c.direction, header_label(m.metric), format_value(m.metric, m.values[self.baseline])]
                    for i in self.others:
                        sig = m.significant(i, self.alpha)
                        val = format_value(m.metric, m.values[i])
                        delta = format_delta(m.metric, m.deltas[i])
                        if sig:
                            delta += " †"
                            if markdown:
                                val, delta = f"**{val}**", f"**{delta}**"
                        row += [val, delta]
                        t = m.tests[i]
                        if self.test == "bootstrap":
                            row.append(MISSING if t is None else format_ci(m.metric, t.ci_low, t.ci_high))
                        row += [format_p(m.p_adjusted[i]), m.verdicts[i]]
                    rows.append(row)
            what = "pairs" if suite == "sts" else "queries"
            n_text = (
                f"n = {ns.pop()} {what} per cell"
                if len(ns) == 1
                else "n differs between cells: "
                + ", ".join(f"{c.direction} {'/'.join(map(str, dict.fromkeys(c.n_queries)))}" for c in cells)
            )
            untested = sorted({m.notes[i] for c in cells for m in c.metrics for i in self.others if m.notes[i]})
            out.append(
                Table(
                    title=f"{suite} · {task}: {', '.join(self.labels[i] for i in self.others)} vs {base}",
                    columns=list(cols),
                    rows=rows,
                    caption=[n_text, *(f"not tested: {n}" for n in untested)],
                    suite=suite,
                    task=task,
                    label_columns=2,
                    align=["l", "l", *("l" if c.startswith("verdict") else "r" for c in cols[2:])],
                )
            )
        return out

    def to_markdown(self, *, heading: str = "###") -> str:
        """The comparison as markdown: method paragraph, summary, one table per suite/task, what was not compared."""
        parts = [f"{heading} Comparison with {self.labels[self.baseline]}", "", self.method_text(), ""]
        summary = self.summary()
        if summary:
            parts += [f"- {s}" for s in summary] + [""]
        sub = heading + "#"
        parts += [t.to_markdown(heading=sub) for t in self.tables(markdown=True)]
        for title, lines in self._lists():
            parts += [f"{sub} {title}", "", *[f"- {n}" for n in lines], ""]
        return "\n".join(parts).rstrip() + "\n"

    def _lists(self) -> list[tuple[str, list[str]]]:
        """The notes and the cells not compared, under their titles, where there are any."""
        named = [("Notes", self.notes), ("Not compared (not in every result)", self.not_compared)]
        return [(title, lines) for title, lines in named if lines]

    def text_items(self) -> list[Table | str]:
        """The terminal rendering's parts in order: lines of text and tables (see
        :func:`crossalign.utils.table.print_tables`)."""
        items: list[Table | str] = [self.method_text(), "", *self.summary()]
        for t in self.tables():
            items += ["", t]
        for title, lines in self._lists():
            items += ["", f"{title}:", *[f"  - {n}" for n in lines]]
        return items

    def to_text(self) -> str:
        """Plain-text rendering (rich, no colour) for logs and files."""
        return render_text(self.text_items())

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (the ``comparison.json`` layout); values raw (not ×100)."""

        def comparison(m: MetricComparison, i: int) -> dict[str, Any]:
            t = m.tests[i]
            return {
                "model": self.labels[i],
                "value": m.values[i],
                "delta": m.deltas[i],
                "test": t.to_dict() if t is not None else None,
                "p_value": t.p_value if t is not None else None,
                "p_adjusted": m.p_adjusted[i],
                "significant": m.significant(i, self.alpha),
                "verdict": m.verdicts[i],
                "note": m.notes[i] or None,
            }

        cells = [
            {
                **{f: getattr(c, f) for f in ("suite", "task", "query_lang", "doc_lang", "direction", "pool")},
                "n_queries": dict(zip(self.labels, c.n_queries)),
                "metrics": [
                    {
                        "metric": m.metric,
                        "lower_is_better": m.lower_is_better,
                        "statistic": m.statistic,
                        "baseline_value": m.values[self.baseline],
                        "comparisons": [comparison(m, i) for i in self.others],
                    }
                    for m in c.metrics
                ],
            }
            for c in self.cells
        ]
        return {
            "format": "crossalign.comparison",
            "version": 1,
            "models": self.models,
            "baseline": self.labels[self.baseline],
            "method": {
                "test": self.test,
                "description": _TEST_NAMES[self.test],
                "n_resamples": self.n_resamples,
                "seed": self.seed,
                "alpha": self.alpha,
                "correction": self.correction,
                "correction_family": "cells compared on the same metric, per compared model",
                "confidence": 0.95 if self.test == "bootstrap" else None,
                "text": self.method_text(),
            },
            "summary": self.summary(),
            "cells": cells,
            "not_compared": self.not_compared,
            "notes": self.notes,
        }


def _cells(n: int) -> str:
    return f"{n} cell" if n == 1 else f"{n} cells"


# ---------------------------------------------------------------------------------------------------- compare
def _resolve_metrics(requested: Sequence[str] | str | None) -> list[str] | None:
    if requested is None:
        return None
    names = [m.strip() for m in (requested.split(",") if isinstance(requested, str) else requested) if m.strip()]
    if [m.lower() for m in names] == ["all"]:
        return ["all"]
    if not names:
        raise ConfigError("no metric given", hint="e.g. --metrics ndcg@10,complete@10 (or 'all')")
    return names


def _canonical(name: str, available: set[str]) -> str | None:
    """Match a user metric name to a score key: exact, case-insensitive, or via the metric registry."""
    if name in available:
        return name
    same = [a for a in available if a.lower() == name.lower()]
    if same:
        return same[0]
    try:
        key = parse_metric(name).key
    except CrossalignError:
        return None
    return key if key in available else None


def _wanted(main: str, shared: set[str], requested: list[str] | None) -> list[str]:
    """The metrics one cell compares: its main score (default), every shared one (``all``), or those requested."""
    if requested is None:
        return [main] if main in shared else []
    if requested == ["all"]:
        return [m for m in (main, *sorted(shared - {main})) if m in shared]
    return list(dict.fromkeys(c for c in (_canonical(name, shared) for name in requested) if c is not None))


def compare_results(
    results: Sequence[EvaluationResult],
    *,
    metrics: Sequence[str] | str | None = None,
    baseline: int = 0,
    test: str = "bootstrap",
    alpha: float = 0.05,
    correction: str = "holm",
    n_resamples: int = 10_000,
    seed: int | None = 0,
    labels: Sequence[str] | None = None,
) -> Comparison:
    """Compare results cell by cell against a baseline, with paired tests where per-query values exist.

    Args:
        results: Two or more results (one per model) of the same evaluation.
        metrics: Metric keys to compare (``["ndcg@10", "complete@10"]`` or ``"ndcg@10,complete@10"``; spellings
            such as ``nDCG@10`` are accepted; ``"all"``: every metric the cells share). Default: each cell's main
            score.
        baseline: Index of the baseline result (deltas are ``model − baseline``).
        test: ``"bootstrap"`` (paired bootstrap, with CI) or ``"randomization"`` (sign-flip permutation).
        alpha: Significance level for the marks and verdicts.
        correction: ``"holm"`` (Holm–Bonferroni over the cells of one metric per compared model) or ``"none"``.
        n_resamples: Resamples per test (default 10,000).
        seed: Seed of every test's generator (reproducible reports).
        labels: Model labels (default: the results' labels, made distinct).

    Raises:
        ComparisonError: fewer than two results, a bad baseline, no cell common to all results, or none of the
            requested metrics in the common cells.
        DataFormatError: per-query values of one cell cover different queries in two results.
    """
    res = list(results)
    if len(res) < 2:
        raise ComparisonError(
            f"a comparison needs at least two results, got {len(res)}",
            hint="pass the baseline's results.json and the results.json of each model to compare with it",
        )
    if not -len(res) <= baseline < len(res):
        raise ComparisonError(
            f"baseline {baseline} is not a result index (0..{len(res) - 1})",
            hint="--baseline is the position of the baseline's file among the arguments, counting from 0",
        )
    baseline %= len(res)
    if test not in TESTS:
        raise ConfigError(f"unknown test {test!r}", hint=f"use one of: {', '.join(TESTS)}")
    if correction not in CORRECTIONS:
        raise ConfigError(f"unknown correction {correction!r}", hint=f"use one of: {', '.join(CORRECTIONS)}")
    if not 0 < alpha < 1:
        raise ConfigError(f"alpha must be in (0, 1), got {alpha}", hint="e.g. 0.05")
    if n_resamples < 100:
        raise ConfigError(f"n_resamples must be at least 100, got {n_resamples}", hint="the default is 10000")
    names = list(labels) if labels is not None else unique_labels([r.label for r in res])
    if len(names) != len(res) or len(set(names)) != len(names):
        raise ConfigError("labels must be distinct, one per result", hint="pass one unique label per results file")

    by_key = [{t.key: t for t in r.tasks} for r in res]
    common = [k for k in by_key[baseline] if all(k in m for m in by_key)]
    first: dict[Any, TaskScore] = {}
    for m in by_key:
        for k, t in m.items():
            first.setdefault(k, t)
    not_compared = [
        f"{t.suite}/{t.task} {t.direction}: only in {', '.join(n for n, m in zip(names, by_key) if k in m)}"
        for k, t in first.items()
        if k not in common
    ]
    if not common:
        per = "; ".join(
            f"{names[i]}: {', '.join(sorted({f'{t.suite}/{t.task}' for t in r.tasks})) or 'no tasks'}"
            for i, r in enumerate(res)
        )
        raise ComparisonError(
            "the results share no evaluation cell (same suite, task, query_lang and doc_lang)",
            hint=f"compare results of the same evaluation (suites, tasks, languages); found {per}",
        )

    requested = _resolve_metrics(metrics)
    notes: list[str] = []
    datas = {
        repr(sorted((k, str(v)) for k, v in r.data.items() if k in ("source", "provenance", "split"))) for r in res
    }
    if len(datas) > 1:
        notes.append(
            "the results were evaluated on different data (source/provenance/split differ): deltas compare different "
            "queries unless per-query ids match"
        )
    cells: list[CellComparison] = []
    for key in common:
        ts = [m[key] for m in by_key]
        t0 = ts[baseline]
        wanted = _wanted(t0.main_score, set(t0.scores).intersection(*(t.scores for t in ts)), requested)
        if wanted:
            mcs = [_compare_metric(ts, names, baseline, m, test, n_resamples, seed) for m in wanted]
            n_queries = [t.n_queries for t in ts]
            cells.append(
                CellComparison(
                    t0.suite, t0.task, t0.query_lang, t0.doc_lang, t0.direction, dict(t0.pool), n_queries, mcs
                )
            )
    if not cells:
        avail = sorted({m for k in common for m in by_key[baseline][k].scores})
        raise ComparisonError(
            f"none of the metrics {', '.join(requested or [])} is reported in the cells the results share",
            hint=f"choose among: {', '.join(avail)}",
        )
    if requested and requested != ["all"]:
        found = {m.metric for c in cells for m in c.metrics}
        missing = [r for r in requested if _canonical(r, found) is None]
        if missing:
            notes.append(f"not reported in any common cell: {', '.join(missing)}")
    notes += _adjust(cells, names, baseline, correction, alpha)
    return Comparison(
        labels=names,
        models=[
            {
                "label": names[i],
                "spec": r.model.get("spec"),
                "fingerprint": r.model.get("fingerprint"),
                "fingerprint_short": short_fingerprint(r.model.get("fingerprint")),
                "path": r.model.get("path"),
            }
            for i, r in enumerate(res)
        ],
        baseline=baseline,
        test=test,
        alpha=alpha,
        correction=correction,
        n_resamples=n_resamples,
        seed=seed,
        cells=cells,
        not_compared=not_compared,
        notes=notes,
    )


def _compare_metric(
    ts: list[TaskScore], names: list[str], baseline: int, metric: str, test: str, n_resamples: int, seed: int | None
) -> MetricComparison:
    values = [float(t.scores[metric]) for t in ts]
    deltas: list[float | None] = [None if i == baseline else v - values[baseline] for i, v in enumerate(values)]
    tests: list[PairedTestResult | None] = [None] * len(ts)
    notes = [""] * len(ts)
    statistic: str | None = None
    base_pq = per_query_values(ts[baseline], metric)
    t0 = ts[baseline]
    for i, t in enumerate(ts):
        if i == baseline:
            continue
        other_pq = per_query_values(t, metric)
        if not score_info(metric).per_query and (base_pq is None or other_pq is None):
            notes[i] = f"{metric} is not a mean over queries (no paired per-query test)"
            continue
        if base_pq is None or other_pq is None:
            missing = [names[j] for j, p in ((baseline, base_pq), (i, other_pq)) if p is None]
            notes[i] = f"no per-query values of {metric} in {' and '.join(missing)}"
            continue
        bad = [
            names[j]
            for j, (vals, stat) in ((baseline, base_pq), (i, other_pq))
            if not _reproduces(vals, stat, float(ts[j].scores[metric]))
        ]
        if bad:
            notes[i] = f"per-query values of {metric} in {', '.join(bad)} do not reproduce the stored score"
            continue
        what = f"{t0.suite}/{t0.task} {t0.direction} {metric} ({names[i]} vs {names[baseline]})"
        _, a, b = align_per_query(base_pq[0], other_pq[0], what=what)
        statistic = base_pq[1]
        tests[i] = paired_test(a, b, test=test, n_resamples=n_resamples, seed=seed, statistic=statistic)  # type: ignore[arg-type]
    return MetricComparison(
        metric=metric,
        lower_is_better=lower_is_better(metric),
        statistic=statistic,
        values=values,  # type: ignore[arg-type]
        deltas=deltas,
        tests=tests,
        notes=notes,
    )


def _adjust(cells: list[CellComparison], names: list[str], baseline: int, correction: str, alpha: float) -> list[str]:
    """Fill ``p_adjusted`` (Holm per metric and compared model) and the verdicts; return a note for each family that
    cannot reach significance at all: the smallest p-value a test can return is 1/(R+1) (Monte Carlo) or 2/2^n (exact
    sign flips), times the family size under Holm."""
    mcs = [m for c in cells for m in c.metrics]
    for mc in mcs:
        mc.p_adjusted = [None] * len(names)
    notes = []
    for i in (j for j in range(len(names)) if j != baseline):
        for metric in dict.fromkeys(m.metric for m in mcs):
            family = [m for m in mcs if m.metric == metric]
            raw = [m.tests[i].p_value if m.tests[i] is not None else None for m in family]  # type: ignore[union-attr]
            for m, p in zip(family, holm(raw) if correction == "holm" else raw):
                m.p_adjusted[i] = p
            tests: list[PairedTestResult] = [m.tests[i] for m in family if m.tests[i] is not None]  # type: ignore[misc]
            if not tests:
                continue
            factor = len(tests) if correction == "holm" else 1
            best = factor * min(2.0 / t.n_resamples if t.exact else 1.0 / (t.n_resamples + 1) for t in tests)
            if best >= alpha:
                notes.append(
                    f"{names[i]} vs {names[baseline]}, {metric}: with {tests[0].n_resamples} resamples "
                    f"and {len(tests)} tested cells the smallest attainable adjusted p-value is {best:.3g} >= α = "
                    f"{alpha:g}, so no cell can be significant: raise the resamples (--resamples)"
                )
    for mc in mcs:
        mc.verdicts = [_verdict(mc, i, baseline, alpha) for i in range(len(names))]
    return notes


def _verdict(m: MetricComparison, i: int, baseline: int, alpha: float) -> str:
    if i == baseline:
        return "baseline"
    if m.tests[i] is None:
        return "not tested"
    if not m.significant(i, alpha):
        return "no significant difference"
    d = m.deltas[i] or 0.0
    if is_neutral(m.metric):
        return "higher" if d > 0 else "lower"
    return "better" if (d < 0) == m.lower_is_better else "worse"
