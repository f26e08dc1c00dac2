"""Tidy tables from one or more :class:`~crossalign.evaluation.results.EvaluationResult`.

Every table is built from the scores' ``query_lang`` / ``doc_lang`` / ``pool`` — never from task names — and rendered
as a GitHub markdown table (:meth:`Table.to_markdown`), plain text (:meth:`Table.to_text`) or a ``rich`` table
(:meth:`Table.to_rich`). Ratios are shown ×100 with one decimal, ranks as they are (see
:mod:`crossalign.evaluation.format`).

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

:func:`summary_tables` gives the short tables ``crossalign evaluate`` prints for one result: retrieval as task ×
direction class (main score), every other suite as one row per (task, direction) with its
:data:`~crossalign.evaluation.metrics.SUITE_COLUMNS` and ``n``. Rows and columns follow one direction order in every
table (``en→en``, ``x→x``, ``x→en``, ``en→x``, between two non-pivot languages, mixed pools with pivot queries last).
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
    short_fingerprint,
)
from crossalign.evaluation.metrics import SUITE_COLUMNS, lower_is_better
from crossalign.evaluation.results import SUITES, EvaluationResult, TaskScore, unique_labels
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
    "summary_tables",
    "summary_text",
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


def _direction_order(t: TaskScore, pivot: str = PIVOT) -> tuple[int, str]:
    """Rows and columns in table order: the direction classes (``en→en``, ``x→x``, ``x→en``, ``en→x``), directions
    between two non-pivot languages, then mixed pools with pivot-language queries last; by name within a class."""
    cls = direction_class(t.query_lang, t.doc_lang, pivot=pivot)
    rank = (*direction_classes(pivot), "x→y", "mixed").index(cls)
    return (rank + (cls == "mixed" and t.query_lang == pivot), t.direction)


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
    labels = unique_labels([r.label for r in res])
    multi = len(res) > 1
    tables: list[Table] = []
    for task in _tasks_in_order(res, suite):
        cells = [[t for t in ts if t.doc_lang is not None] for ts in _scores(res, suite, task)]
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
    for lang in order or [pivot]:  # [pivot]: only the pivot→pivot evaluation has this metric
        for mi, g in enumerate(grid):
            row = [lang, labels[mi]] if multi else [lang]
            for c in used:
                t = g.get((pivot, pp)) if c == pp else g.get((lang, c))
                row.append(format_value(metric, _value(t, metric)))
                if t is not None:
                    counts.add(len(rows), len(row) - 1, t.n_queries)
            rows.append(row)
    # Means over languages, per direction.
    n_lang = len(order)
    partial = False
    for mi, g in enumerate(grid if order else []):
        name = f"mean ({n_lang} lang{'s' if n_lang != 1 else ''})"
        row = [name, labels[mi]] if multi else [name]
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
    title = f"{suite} · {task} · {header_label(metric, pivot=pivot)}"
    out = [Table(title, lead + used, rows, caption, label_columns=len(lead), suite=suite, task=task, metric=metric)]
    if any(others):
        title += f" · between non-{pivot} languages"
        xy = _suite_table(others, labels, suite=suite, task=task, columns=[metric], pivot=pivot,
                          row_label="query_lang→doc_lang", means="none", title=title, metric=metric)  # fmt: skip
        out += [xy] if xy else []
    return out


# ------------------------------------------------------------------------------------------- suites with columns
def _suite_table(
    per_model: list[list[TaskScore]],
    labels: list[str],
    *,
    suite: str,
    task: str,
    columns: Sequence[str],
    pivot: str,
    row_label: str,
    means: str,
    label_of: Any = None,
    extra_caption: Sequence[str] = (),
    title: str | None = None,
    metric: str | None = None,
) -> Table | None:
    """Rows = task scores (direction, model; ``per_model[i]`` are model ``labels[i]``'s), columns = the metric keys
    present in any of them."""
    multi = len(per_model) > 1
    first: dict[str, TaskScore] = {}  # direction -> its first score, for the order
    by_dir: list[dict[str, TaskScore]] = []
    for ts in per_model:
        by_dir.append({t.direction: t for t in ts})
        for t in ts:
            first.setdefault(t.direction, t)
    present = [k for k in columns if any(k in t.scores for m in by_dir for t in m.values())]
    if not present:
        return None
    dirs = sorted(first, key=lambda d: _direction_order(first[d], pivot))
    lead = [row_label, "model"] if multi else [row_label]
    rows: list[list[str]] = []
    counts = _Counts()
    shown_metrics: list[str] = []
    for d in dirs:
        for mi, m in enumerate(by_dir):
            t = m.get(d)
            name = label_of(t) if (label_of and t) else d
            row = [name, labels[mi]] if multi else [name]
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
    elif means == "class":
        for d in dirs:
            t = first[d]
            groups.setdefault(direction_class(t.query_lang, t.doc_lang, pivot=pivot), []).append(d)
        if len(groups) == 1:
            groups = {"": dirs}
    for gname, gdirs in groups.items():
        if len(gdirs) < 2:
            continue
        for mi, m in enumerate(by_dir):
            if means == "class":
                label = f"mean {gname} ({len(gdirs)})" if gname else f"mean ({len(gdirs)})"
            else:
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
    header = lead + [header_label(k, pivot=pivot) for k in present]
    title = title or f"{suite} · {task}"
    return Table(title, header, rows, caption, label_columns=len(lead), suite=suite, task=task, metric=metric)


def _scores(res: list[EvaluationResult], suite: str, task: str) -> list[list[TaskScore]]:
    """Each result's scores of one (suite, task)."""
    return [[t for t in r.tasks if t.suite == suite and t.task == task] for r in res]


def _per_task(res: list[EvaluationResult], suite: str, **layout: Any) -> list[Table]:
    """One :func:`_suite_table` per task of ``suite`` (tasks without any of the columns give none)."""
    labels = unique_labels([r.label for r in res])
    tables = [_suite_table(_scores(res, suite, task), labels, suite=suite, task=task, **layout)
              for task in _tasks_in_order(res, suite)]  # fmt: skip
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
    """Bitext mining: rows ``src→tgt`` (query_lang = source, doc_lang = target), P@1 both ways, xSIM, BUCC F1.

    Rows go ``x→en`` first, then the pairs without English (``x→y``); the means are taken per kind of pair
    (``mean x→en (k)``, ``mean x→y (m)``, each over two or more rows) so that the two are never averaged together;
    with one kind only, one ``mean (n)``."""
    return _per_task(_as_list(results), suite, columns=BITEXT_COLUMNS, pivot=pivot, row_label="src→tgt", means="class")


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
    labels = unique_labels([r.label for r in res])
    out = []
    for suite in dict.fromkeys(t.suite for r in res for t in r.tasks if t.suite not in set(known)):
        for task in _tasks_in_order(res, suite):
            scores = _scores(res, suite, task)
            metrics = list(dict.fromkeys(m for ts in scores for t in ts for m in (t.main_score, *t.scores)))
            out.append(_suite_table(scores, labels, suite=suite, task=task, columns=metrics, pivot=pivot,
                                    row_label="direction", means="none"))  # fmt: skip
    return [t for t in out if t is not None]


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


# ---------------------------------------------------------------------------------------------------------- summary
def _summary_column(t: TaskScore, pivot: str) -> str:
    """The retrieval column of a score in the short tables: its direction class, the direction itself between two
    non-pivot languages, or ``<query_lang>→mixed``."""
    cls = direction_class(t.query_lang, t.doc_lang, pivot=pivot)
    return {"x→y": t.direction, "mixed": f"{t.query_lang}→mixed"}.get(cls, cls)


def summary_tables(result: EvaluationResult, *, pivot: str = PIVOT) -> list[Table]:
    """The short tables of one result (what ``crossalign evaluate`` prints), one per suite.

    - ``retrieval``: one row per task (language set), columns ``en→en``, ``x→x``, ``x→en``, ``en→x`` (other
      directions, e.g. of user data, get their own column) with the main score, and ``n``;
    - each suite of :data:`~crossalign.evaluation.metrics.SUITE_COLUMNS`: one row per (task, direction) with the
      suite's metrics and ``n``.

    Ratios are ×100; Max@R and "English above gold" are ranks/counts as they are.
    """
    out: list[Table] = []
    retrieval = sorted((t for t in result.tasks if t.suite == "retrieval"), key=lambda t: _direction_order(t, pivot))
    if retrieval:
        columns = list(dict.fromkeys(_summary_column(t, pivot) for t in retrieval))
        grid: dict[str, dict[str, TaskScore]] = {}
        for t in retrieval:
            grid.setdefault(t.task, {})[_summary_column(t, pivot)] = t
        rows: list[list[str]] = []
        for task, cells in grid.items():
            mains = [format_value(s.main_score, s.scores[s.main_score]) if (s := cells.get(c)) else MISSING
                     for c in columns]  # fmt: skip
            rows.append([task, *mains, "/".join(str(n) for n in sorted({c.n_queries for c in cells.values()}))])
        title = f"retrieval · {', '.join(sorted({t.main_score for t in retrieval}))} ×100"
        out.append(Table(title, ["task", *columns, "n"], rows, suite="retrieval"))
    for suite, keys in SUITE_COLUMNS.items():
        ts = sorted((t for t in result.tasks if t.suite == suite), key=lambda t: (t.task, _direction_order(t, pivot)))
        if ts:
            header = ["task", "direction", *(header_label(k, pivot=pivot) for k in keys), "n"]
            rows = [[t.task, t.direction, *(format_value(k, t.scores.get(k)) for k in keys), str(t.n_queries)]
                    for t in ts]  # fmt: skip
            out.append(Table(f"{suite} · ratios ×100, ranks as they are", header, rows, label_columns=2, suite=suite))
    return out


def summary_text(result: EvaluationResult, *, markdown: bool = False) -> str:
    """Every short table of a result, rendered as plain text (or markdown with ``###`` headings)."""
    tables = summary_tables(result)
    return "\n".join(t.to_markdown(heading="###") if markdown else t.to_text() for t in tables)


# ----------------------------------------------------------------------------------------------------------- header
def describe_results(results: EvaluationResult | Sequence[EvaluationResult]) -> str:
    """Markdown lines saying what was evaluated: each model (label, spec, short fingerprint), the data (source,
    provenance, split), languages, crossalign version and date; a warning when the results used different data."""
    res = _as_list(results)
    labels = unique_labels([r.label for r in res])
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
