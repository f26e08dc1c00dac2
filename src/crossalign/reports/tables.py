"""Tidy tables from one or more :class:`~crossalign.evaluation.results.EvaluationResult`.

Every table is built from the scores' ``query_lang`` / ``doc_lang`` / ``pool`` — never from task names — and rendered
as a GitHub markdown table (:meth:`Table.to_markdown`), plain text (:meth:`Table.to_text`) or a ``rich`` table
(:meth:`Table.to_rich`). Ratios are shown ×100 with one decimal, ranks as they are (see :mod:`._format`).

One table per (suite, task[, metric]):

- ``retrieval``: language × direction (``en→en``, ``x→x``, ``x→en``, ``en→x``, where ``x`` is the row's language),
  one row per language (and model), plus the mean over languages of each direction. Directions between two
  non-pivot languages (``x→y``) go to a second table.
- ``mixed-pool``: one row per query language and pool: Max@R mean/median, Complete@10/100, nDCG@1.
- ``inclination``: EnglishFirst@1 (pivot first), the wrong ones, English above gold, nDCG@1, English share of the
  top 10.
- ``bitext``: P@1 in both directions, xSIM error, BUCC F1.
- ``sts``: Spearman and Pearson.
- any other suite: every metric of its scores.

The number of queries behind each cell is stated in the caption; a cell whose count differs from the table's usual
one carries it (``80.1 (n=480)``).
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from crossalign.evaluation.format import (
    MISSING,
    PIVOT,
    direction_class,
    direction_classes,
    format_value,
    header_label,
    is_ratio,
    metric_label,
    row_language,
)
from crossalign.evaluation.metrics import SUITE_COLUMNS, lower_is_better
from crossalign.evaluation.results import SUITES, EvaluationResult, TaskScore, unique_labels
from crossalign.reports._format import short_fingerprint
from crossalign.utils.table import Table as BaseTable

__all__ = [
    "Table",
    "TidyRow",
    "bitext_tables",
    "build_tables",
    "describe_results",
    "inclination_tables",
    "mixed_pool_tables",
    "other_tables",
    "retrieval_tables",
    "sts_tables",
    "tidy",
]


# ------------------------------------------------------------------------------------------------------------ table
@dataclass
class Table(BaseTable):
    """A report table (:class:`crossalign.utils.table.Table`) that also says which suite, task and metric it shows.

    Attributes:
        suite: The suite the table belongs to.
        task: The task it shows.
        metric: The metric when the table shows one (retrieval), else None.
    """

    suite: str = ""
    task: str = ""
    metric: str | None = None


# ------------------------------------------------------------------------------------------------------------- tidy
@dataclass(frozen=True)
class TidyRow:
    """One value of one metric of one task score of one model (long format, raw values)."""

    model: str
    suite: str
    task: str
    query_lang: str | None
    doc_lang: str | None
    direction: str
    direction_class: str
    language: str
    metric: str
    value: float
    n_queries: int
    lower_is_better: bool
    main: bool


def tidy(results: EvaluationResult | Sequence[EvaluationResult], *, pivot: str = PIVOT) -> list[TidyRow]:
    """Long-format rows, one per (model, task score, metric), with raw values and the direction spelled out."""
    out = []
    for r in _as_list(results):
        for t in r.tasks:
            for metric, value in t.scores.items():
                out.append(
                    TidyRow(
                        model=r.label,
                        suite=t.suite,
                        task=t.task,
                        query_lang=t.query_lang,
                        doc_lang=t.doc_lang,
                        direction=t.direction,
                        direction_class=direction_class(t.query_lang, t.doc_lang, pivot=pivot),
                        language=row_language(t.query_lang, t.doc_lang, pivot=pivot),
                        metric=metric,
                        value=float(value),
                        n_queries=t.n_queries,
                        lower_is_better=lower_is_better(metric),
                        main=metric == t.main_score,
                    )
                )
    return out


# ---------------------------------------------------------------------------------------------------------- helpers
def _as_list(results: EvaluationResult | Sequence[EvaluationResult]) -> list[EvaluationResult]:
    return [results] if isinstance(results, EvaluationResult) else list(results)


def model_labels(results: Sequence[EvaluationResult]) -> list[str]:
    """Distinct labels for the results' models (``label``, then ``label-2`` for repeats; see
    :func:`~crossalign.evaluation.results.unique_labels`)."""
    return unique_labels([r.label for r in results])


def _tasks_in_order(results: Sequence[EvaluationResult], suite: str) -> list[str]:
    names: list[str] = []
    for r in results:
        for t in r.tasks:
            if t.suite == suite and t.task not in names:
                names.append(t.task)
    return names


def _lang_order(results: Sequence[EvaluationResult], langs: Iterable[str]) -> list[str]:
    """Languages in the order the results list them, then the others alphabetically."""
    listed: list[str] = []
    for r in results:
        for lang in r.languages:
            if lang not in listed:
                listed.append(lang)
    rest = sorted(set(langs) - set(listed))
    wanted = set(langs)
    return [lang for lang in listed if lang in wanted] + rest


class _Counts:
    """Collects n_queries of the cells shown in one table, to state them in the caption."""

    def __init__(self) -> None:
        self.cells: list[tuple[int, int, int]] = []  # (row, col, n)

    def add(self, row: int, col: int, n: int) -> None:
        self.cells.append((row, col, n))

    def apply(self, rows: list[list[str]], unit: str = "queries") -> list[str]:
        if not self.cells:
            return []
        counts = Counter(n for _, _, n in self.cells)
        usual = counts.most_common(1)[0][0]
        if len(counts) == 1:
            return [f"n = {usual} {unit} per cell"]
        for r, c, n in self.cells:
            if n != usual and rows[r][c] != MISSING:
                rows[r][c] = f"{rows[r][c]} (n={n})"
        return [f"n = {usual} {unit} per cell unless marked (n=…)"]


def _mean(values: list[float]) -> float | None:
    return statistics.fmean(values) if values else None


def _value(t: TaskScore | None, metric: str) -> float | None:
    if t is None or metric not in t.scores:
        return None
    return float(t.scores[metric])


def _ratio_note(metrics: Iterable[str]) -> str:
    ms = list(metrics)
    ratios = [m for m in ms if is_ratio(m)]
    ranks = [m for m in ms if not is_ratio(m)]
    if ratios and ranks:
        return "shares ×100; ranks and counts as they are; ↑ higher is better, ↓ lower is better"
    if ranks:
        return "ranks as they are; ↓ lower is better"
    return "values ×100" + ("; ↑ higher is better, ↓ lower is better" if any(lower_is_better(m) for m in ms) else "")


# -------------------------------------------------------------------------------------------------------- retrieval
def retrieval_tables(
    results: EvaluationResult | Sequence[EvaluationResult],
    *,
    metrics: Sequence[str] | None = None,
    pivot: str = PIVOT,
    suite: str = "retrieval",
) -> list[Table]:
    """Language × direction tables of single-language-pool retrieval.

    Args:
        results: One or more results (several: one row per language and model).
        metrics: Metrics to tabulate (one table each); default: the main score(s) of the suite's scores.
        pivot: The pivot language ("en").
        suite: The suite to read (``retrieval``).

    Returns:
        Per task and metric, the language × direction table, then (if any) a table of the ``x→y`` directions.
    """
    res = _as_list(results)
    labels = model_labels(res)
    multi = len(res) > 1
    tables: list[Table] = []
    for task in _tasks_in_order(res, suite):
        cells = [[t for t in r.tasks if t.suite == suite and t.task == task and t.doc_lang is not None] for r in res]
        wanted = list(metrics) if metrics else list(dict.fromkeys(t.main_score for ts in cells for t in ts))
        for metric in wanted:
            if not any(metric in t.scores for ts in cells for t in ts):
                continue
            tables.extend(_retrieval_metric_tables(res, labels, cells, task, metric, multi, pivot, suite))
    return tables


def _retrieval_metric_tables(
    res: list[EvaluationResult],
    labels: list[str],
    cells: list[list[TaskScore]],
    task: str,
    metric: str,
    multi: bool,
    pivot: str,
    suite: str,
) -> list[Table]:
    classes = direction_classes(pivot)
    pp = f"{pivot}→{pivot}"
    grid: list[dict[tuple[str, str], TaskScore]] = []
    others: list[list[TaskScore]] = []
    langs: set[str] = set()
    for ts in cells:
        g: dict[tuple[str, str], TaskScore] = {}
        o: list[TaskScore] = []
        for t in ts:
            if metric not in t.scores:
                continue
            cls = direction_class(t.query_lang, t.doc_lang, pivot=pivot)
            if cls == "x→y":
                o.append(t)
                continue
            lang = row_language(t.query_lang, t.doc_lang, pivot=pivot)
            g[(lang, cls)] = t
            if lang != pivot:
                langs.add(lang)
        grid.append(g)
        others.append(o)
    order = _lang_order(res, langs)
    used = [
        c for c in classes if any((c == pp and (pivot, pp) in g) or any((lg, c) in g for lg in order) for g in grid)
    ]
    lead = ["language", "model"] if multi else ["language"]
    rows: list[list[str]] = []
    counts = _Counts()
    for lang in order:
        for mi, g in enumerate(grid):
            row = [lang, labels[mi]] if multi else [lang]
            for c in used:
                t = g.get((pivot, pp)) if c == pp else g.get((lang, c))
                row.append(format_value(metric, _value(t, metric)))
                if t is not None:
                    counts.add(len(rows), len(row) - 1, t.n_queries)
            rows.append(row)
    if not order:  # only the pivot→pivot evaluation has this metric
        for mi, g in enumerate(grid):
            t = g.get((pivot, pp))
            rows.append([pivot, labels[mi]] if multi else [pivot])
            rows[-1].append(format_value(metric, _value(t, metric)))
            if t is not None:
                counts.add(len(rows) - 1, len(rows[-1]) - 1, t.n_queries)
    # Means over languages, per direction.
    n_lang = len(order)
    partial = False
    for mi, g in enumerate(grid if order else []):
        row = [f"mean ({n_lang} lang{'s' if n_lang != 1 else ''})", labels[mi]] if multi else [f"mean ({n_lang} langs)"]
        if n_lang == 1:
            row[0] = "mean (1 lang)"
        for c in used:
            if c == pp:
                row.append(format_value(metric, _value(g.get((pivot, pp)), metric)))
                continue
            vals = [v for lg in order if (v := _value(g.get((lg, c)), metric)) is not None]
            cell = format_value(metric, _mean(vals))
            if vals and len(vals) < n_lang:
                cell += "*"
                partial = True
            row.append(cell)
        rows.append(row)
    direction_note = (
        f"x = the row's language; columns are query_lang→doc_lang (x→{pivot}: queries in x, documents in {pivot})"
    )
    if pp in used:
        direction_note += f"; {pp} is one evaluation, repeated on every row"
    caption = [
        f"{metric_label(metric, pivot=pivot)} ×100" if is_ratio(metric) else metric_label(metric),
        direction_note,
    ]
    caption[0] = caption[0] + ("" if not lower_is_better(metric) else " (lower is better)")
    caption += counts.apply(rows)
    if partial:
        caption.append("* mean over the languages that have this direction")
    out = [
        Table(
            title=f"{suite} · {task} · {header_label(metric, pivot=pivot)}",
            columns=lead + used,
            rows=rows,
            caption=caption,
            suite=suite,
            task=task,
            metric=metric,
            label_columns=len(lead),
        )
    ]
    if any(others):
        orows: list[list[str]] = []
        ocounts = _Counts()
        dirs = sorted({t.direction for o in others for t in o})
        for d in dirs:
            for mi, o in enumerate(others):
                t = next((t for t in o if t.direction == d), None)
                row = [d, labels[mi]] if multi else [d]
                row.append(format_value(metric, _value(t, metric)))
                if t is not None:
                    ocounts.add(len(orows), len(row) - 1, t.n_queries)
                orows.append(row)
        out.append(
            Table(
                title=f"{suite} · {task} · {header_label(metric, pivot=pivot)} · between non-{pivot} languages",
                columns=(["query_lang→doc_lang", "model"] if multi else ["query_lang→doc_lang"])
                + [header_label(metric, pivot=pivot)],
                rows=orows,
                caption=[_ratio_note([metric]), *ocounts.apply(orows)],
                suite=suite,
                task=task,
                metric=metric,
                label_columns=2 if multi else 1,
            )
        )
    return out


# ------------------------------------------------------------------------------------------- suites with columns
def _suite_table(
    res: list[EvaluationResult],
    *,
    suite: str,
    task: str,
    columns: Sequence[str],
    pivot: str,
    row_label: str,
    means: str,
    label_of: Any = None,
    extra_caption: Sequence[str] = (),
) -> Table | None:
    """Rows = task scores (direction, model), columns = the metric keys present in any of them."""
    labels = model_labels(res)
    multi = len(res) > 1
    per_model = [[t for t in r.tasks if t.suite == suite and t.task == task] for r in res]
    dirs: list[str] = []
    by_dir: list[dict[str, TaskScore]] = []
    for ts in per_model:
        m = {}
        for t in ts:
            m[t.direction] = t
            if t.direction not in dirs:
                dirs.append(t.direction)
        by_dir.append(m)
    present = [k for k in columns if any(k in t.scores for m in by_dir for t in m.values())]
    if not present:
        return None

    def sort_key(d: str) -> tuple[int, str]:
        q = d.split("→", 1)[0]
        return (1 if q == pivot else 0, d)

    dirs.sort(key=sort_key)
    lead = [row_label, "model"] if multi else [row_label]
    rows: list[list[str]] = []
    counts = _Counts()
    shown_metrics: list[str] = []
    for d in dirs:
        for mi, m in enumerate(by_dir):
            t = m.get(d)
            row = (
                [label_of(t) if (label_of and t) else d, labels[mi]]
                if multi
                else [label_of(t) if (label_of and t) else d]
            )
            for key in present:
                row.append(format_value(key, _value(t, key)))
                if t is not None and key in t.scores:
                    counts.add(len(rows), len(row) - 1, t.n_queries)
                    if key not in shown_metrics:
                        shown_metrics.append(key)
            rows.append(row)
    groups: dict[str, list[str]] = {}
    partial_any = False
    if means == "pivot":
        groups = {
            "x": [d for d in dirs if d.split("→", 1)[0] != pivot],
            pivot: [d for d in dirs if d.split("→", 1)[0] == pivot],
        }
    elif means == "all":
        groups = {"": dirs}
    for gname, gdirs in groups.items():
        if len(gdirs) < 2:
            continue
        for mi, m in enumerate(by_dir):
            label = f"mean {gname}→… ({len(gdirs)})" if gname else f"mean ({len(gdirs)})"
            row = [label, labels[mi]] if multi else [label]
            for key in present:
                vals = [v for d in gdirs if (v := _value(m.get(d), key)) is not None]
                partial = bool(vals) and len(vals) < len(gdirs)
                partial_any = partial_any or partial
                row.append(format_value(key, _mean(vals)) + ("*" if partial else ""))
            rows.append(row)
    caption = [
        _ratio_note(shown_metrics),
        *extra_caption,
        *counts.apply(rows, "queries" if suite != "sts" else "pairs"),
    ]
    if partial_any:
        caption.append("* mean over the rows that have this metric")
    return Table(
        title=f"{suite} · {task}",
        columns=lead + [header_label(k, pivot=pivot) for k in present],
        rows=rows,
        caption=caption,
        suite=suite,
        task=task,
        label_columns=len(lead),
    )


def _per_task(res: list[EvaluationResult], suite: str, **layout: Any) -> list[Table]:
    """One :func:`_suite_table` per task of ``suite`` (tasks without any of the columns give none)."""
    tables = [_suite_table(res, suite=suite, task=task, **layout) for task in _tasks_in_order(res, suite)]
    return [t for t in tables if t is not None]


def _pool_text(t: TaskScore) -> str:
    return " + ".join(f"{n} {lang}" for lang, n in sorted(t.pool.items()))


def _pool_label(t: TaskScore) -> str:
    return f"{t.direction} ({_pool_text(t)})"


def mixed_pool_tables(
    results: EvaluationResult | Sequence[EvaluationResult], *, pivot: str = PIVOT, suite: str = "mixed-pool"
) -> list[Table]:
    """Mixed-pool tables: one row per query language and pool (``de→{de,en}``), Max@R mean/median, Complete@10,
    Complete@100 and nDCG@1, with means over the non-pivot and the pivot query languages."""
    return _per_task(
        _as_list(results),
        suite,
        columns=("max_rank_mean", "max_rank_median", "complete@10", "complete@100", "ndcg@1"),
        pivot=pivot,
        row_label="query_lang→pool",
        means="pivot",
        label_of=_pool_label,
        extra_caption=[
            "Max@R = depth needed to retrieve every parallel document of a query; Complete@k = share "
            "of queries with Max@R ≤ k"
        ],
    )


def inclination_tables(
    results: EvaluationResult | Sequence[EvaluationResult], *, pivot: str = PIVOT, suite: str = "inclination"
) -> list[Table]:
    """Pivot-language inclination: x queries over ``D_x ∪ D_en`` with only the x document relevant."""
    return _per_task(
        _as_list(results),
        suite,
        columns=("pivot_first@1", "pivot_first_wrong@1", "pivot_above_gold_mean", "ndcg@1", f"lang_share@10:{pivot}"),
        pivot=pivot,
        row_label="query_lang→pool",
        means="pivot",
        label_of=_pool_label,
        extra_caption=[f"only the query-language document is relevant; {pivot} documents are distractors"],
    )


#: Bitext columns (score keys; labels and directions come from the metric registry).
BITEXT_COLUMNS = SUITE_COLUMNS["bitext"]


def bitext_tables(
    results: EvaluationResult | Sequence[EvaluationResult], *, pivot: str = PIVOT, suite: str = "bitext"
) -> list[Table]:
    """Bitext mining: rows ``src→tgt`` (query_lang = source, doc_lang = target), P@1 both ways, xSIM, BUCC F1."""
    return _per_task(_as_list(results), suite, columns=BITEXT_COLUMNS, pivot=pivot, row_label="src→tgt", means="all")


def sts_tables(
    results: EvaluationResult | Sequence[EvaluationResult], *, pivot: str = PIVOT, suite: str = "sts"
) -> list[Table]:
    """STS: Spearman and Pearson of cosine (×100) per language pair (first text → second text)."""
    return _per_task(
        _as_list(results), suite, columns=SUITE_COLUMNS["sts"], pivot=pivot, row_label="lang pair", means="all"
    )


def other_tables(
    results: EvaluationResult | Sequence[EvaluationResult], *, pivot: str = PIVOT, known: Iterable[str] = SUITES
) -> list[Table]:
    """Suites this module has no layout for: rows = direction (and model), columns = every metric they report."""
    res = _as_list(results)
    skip = set(known)
    suites = list(dict.fromkeys(t.suite for r in res for t in r.tasks if t.suite not in skip))
    out = []
    for suite in suites:
        for task in _tasks_in_order(res, suite):
            metrics: list[str] = []
            for r in res:
                for t in r.tasks:
                    if t.suite == suite and t.task == task:
                        for m in [t.main_score, *t.scores]:
                            if m not in metrics:
                                metrics.append(m)
            t = _suite_table(
                res, suite=suite, task=task, columns=metrics, pivot=pivot, row_label="direction", means="none"
            )
            if t is not None:
                out.append(t)
    return out


def build_tables(
    results: EvaluationResult | Sequence[EvaluationResult],
    *,
    retrieval_metrics: Sequence[str] | None = None,
    pivot: str = PIVOT,
) -> list[Table]:
    """All tables for the results, suite by suite (retrieval, mixed-pool, inclination, bitext, sts, others).

    Args:
        results: One or more results.
        retrieval_metrics: Metrics of the retrieval language × direction tables (default: the main score; pass
            e.g. ``["ndcg@10", "recall@10", "mrr@10"]`` for more).
        pivot: The pivot language.
    """
    res = _as_list(results)
    return [
        *retrieval_tables(res, metrics=retrieval_metrics, pivot=pivot),
        *mixed_pool_tables(res, pivot=pivot),
        *inclination_tables(res, pivot=pivot),
        *bitext_tables(res, pivot=pivot),
        *sts_tables(res, pivot=pivot),
        *other_tables(res, pivot=pivot),
    ]


# ----------------------------------------------------------------------------------------------------------- header
def describe_results(results: EvaluationResult | Sequence[EvaluationResult]) -> str:
    """Markdown lines saying what was evaluated: each model (label, spec, short fingerprint), the data (source,
    provenance, split), languages, crossalign version and date; a warning when the results used different data."""
    res = _as_list(results)
    labels = model_labels(res)
    lines = ["**Model" + ("s" if len(res) > 1 else "") + "**", ""]
    for label, r in zip(labels, res):
        spec = r.model.get("spec") or MISSING
        fp = short_fingerprint(r.model.get("fingerprint"))
        extra = f", path `{r.model['path']}`" if r.model.get("path") and r.model.get("path") != spec else ""
        lines.append(
            f"- **{label}**: spec `{spec}`, fingerprint `{fp}`{extra} — crossalign {r.crossalign_version}, {r.created}"
        )
    lines += ["", "**Data**", ""]
    datas = [_data_text(r) for r in res]
    if len(set(datas)) == 1:
        lines.append(f"- {datas[0]}")
    else:
        for label, d in zip(labels, datas):
            lines.append(f"- {label}: {d}")
        lines += [
            "",
            "> **Warning:** the results were evaluated on different data; numbers are not comparable "
            "and paired tests are refused where the query sets differ.",
        ]
    langs = list(dict.fromkeys(lg for r in res for lg in r.languages))
    if langs:
        lines += [f"- languages: {', '.join(langs)}"]
    suites = list(dict.fromkeys(t.suite for r in res for t in r.tasks))
    lines += [f"- suites: {', '.join(suites)}"]
    return "\n".join(lines) + "\n"


def _data_text(r: EvaluationResult) -> str:
    d = r.data
    parts = [f"source `{d.get('source', MISSING)}`"]
    prov = d.get("provenance")
    if prov:
        if isinstance(prov, dict):
            prov = ", ".join(f"{k}={v}" for k, v in prov.items())
        parts.append(f"provenance {prov}")
    parts.append(f"split `{d.get('split', MISSING)}`")
    return ", ".join(parts)
