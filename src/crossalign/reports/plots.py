"""PNG plots of results (matplotlib, Agg canvas; the optional ``plots`` extra).

- :func:`plot_heatmap` — one model: language × direction of a retrieval metric, every cell annotated with its value
  and its actual ``query_lang→doc_lang``.
- :func:`plot_delta_heatmap` — two or more models: the difference to the baseline model per language × direction,
  diverging colour map centred at 0 (blue = better, whatever the metric's direction), annotated in points; cells that a
  :class:`~crossalign.reports.compare.Comparison` found significant carry a †.
- :func:`plot_grouped_bars` — the absolute values of every model side by side per ``query_lang→doc_lang``.
- :func:`plot_max_rank_ecdf` — the distribution behind Max@R: per query language and mixed pool, the ECDF of the
  per-query Max@R (``TaskScore.per_query["max_rank"]``) of each model on a log axis, with lines at k = 1, 10, 100:
  the ECDF at k is Complete@k.
- :func:`plot_all` — the standard set for a report.

Figures are drawn on a :class:`matplotlib.figure.Figure` with an explicit Agg canvas (no pyplot, no global backend
switch, safe in threads and notebooks) and written atomically: a crash never leaves half a PNG. Every function returns
the path it wrote.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from crossalign.errors import DataFormatError
from crossalign.evaluation.format import (
    PIVOT,
    direction_class,
    direction_classes,
    is_ratio,
    metric_label,
    row_language,
    scaled,
    slug,
)
from crossalign.evaluation.metrics import lower_is_better
from crossalign.evaluation.results import EvaluationResult, TaskScore, unique_labels
from crossalign.utils.atomic import atomic_write_bytes
from crossalign.utils.deps import require

if TYPE_CHECKING:
    from crossalign.reports.compare import Comparison

__all__ = [
    "PlotFile",
    "plot_all",
    "plot_delta_heatmap",
    "plot_grouped_bars",
    "plot_heatmap",
    "plot_max_rank_ecdf",
]

_DPI = 150
_LANGS_PER_ROW = 3
_ECDF_CAPTION = (
    "Share of queries whose parallel documents are all within the top x (ECDF of per-query Max@R); the curve at k is "
    "Complete@k."
)


@dataclass(frozen=True)
class PlotFile:
    """A written plot and the sentence that explains it (used as the caption in reports)."""

    path: Path
    title: str
    caption: str


# ------------------------------------------------------------------------------------------------------- plumbing
def _figure(width: float, height: float) -> Any:
    require("matplotlib", feature="plots")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Any, path: str | os.PathLike[str]) -> Path:
    p = Path(path)
    if p.suffix.lower() != ".png":
        p = p.with_suffix(".png")
    buf = io.BytesIO()
    # "tight": the saved area grows to hold every title and label, so a figure narrowed to one language or one
    # direction does not clip a title longer than its axes
    fig.savefig(buf, format="png", dpi=_DPI, bbox_inches="tight", pad_inches=0.12)
    atomic_write_bytes(p, buf.getvalue())
    return p


def _cmap(name: str) -> Any:
    return require("matplotlib", feature="plots").colormaps[name]


def _text_color(rgba: Sequence[float]) -> str:
    r, g, b = rgba[:3]
    return "black" if 0.299 * r + 0.587 * g + 0.114 * b > 0.55 else "white"


def _labels(results: Sequence[EvaluationResult]) -> list[str]:
    return unique_labels([r.label for r in results])


def _has_max_rank(t: TaskScore) -> bool:
    return bool(t.per_query) and "max_rank" in t.per_query  # type: ignore[operator]


def _retrieval_tasks(results: Sequence[EvaluationResult]) -> list[str]:
    """Retrieval tasks with single-language pools, in first-seen order."""
    return list(dict.fromkeys(t.task for r in results for t in r.find("retrieval") if t.doc_lang))


def _ecdf_tasks(results: Sequence[EvaluationResult]) -> list[str]:
    """Mixed-pool tasks, in first-seen order, that kept per-query Max@R in some result."""
    ok = {t.task for r in results for t in r.find("mixed-pool") if _has_max_rank(t)}
    return [n for n in dict.fromkeys(t.task for r in results for t in r.find("mixed-pool")) if n in ok]


def _retrieval_task(results: Sequence[EvaluationResult], task: str | None) -> str:
    names = _retrieval_tasks(results)
    if task is not None:
        if task not in names:
            raise DataFormatError(
                f"no retrieval task {task!r} in the results",
                field="task",
                hint=f"choose one of: {', '.join(names) or '(none: evaluate the retrieval suite)'}",
            )
        return task
    if not names:
        raise DataFormatError(
            "the results have no retrieval scores to plot", field="tasks", hint="evaluate the retrieval suite"
        )
    return names[0]


def _grid(
    result: EvaluationResult, task: str, metric: str, pivot: str, langs: list[str] | None = None
) -> tuple[list[str], list[str], dict[tuple[str, str], TaskScore]]:
    """(languages, direction classes, {(lang, class): task score}) of one model's retrieval task."""
    pp = f"{pivot}→{pivot}"
    cells: dict[tuple[str, str], TaskScore] = {}
    for t in result.tasks:
        if t.suite != "retrieval" or t.task != task or t.doc_lang is None or metric not in t.scores:
            continue
        cls = direction_class(t.query_lang, t.doc_lang, pivot=pivot)
        if cls == "x→y":
            continue
        cells[(row_language(t.query_lang, t.doc_lang, pivot=pivot), cls)] = t
    if langs is None:
        found = {lang for lang, _ in cells if lang != pivot}
        langs = [lg for lg in result.languages if lg in found] + sorted(found - set(result.languages))
    classes = [c for c in direction_classes(pivot) if any(k[1] == c for k in cells)]
    grid = {}
    for lang in langs:
        for c in classes:
            t = cells.get((pivot, pp)) if c == pp else cells.get((lang, c))
            if t is not None:
                grid[(lang, c)] = t
    return langs, classes, grid


def _actual_direction(lang: str, cls: str, pivot: str) -> str:
    return cls.replace("x", lang) if cls != f"{pivot}→{pivot}" else cls


def _draw_grid(
    ax: Any,
    values: np.ndarray,
    fmt: str,
    cmap: Any,
    norm: Any,
    langs: list[str],
    classes: list[str],
    pivot: str,
    *,
    marks: np.ndarray | None = None,
    row_labels: bool = True,
) -> Any:
    """Language × direction-class image; each cell shows its value (``fmt``, then " †" where ``marks`` is set) over
    its actual direction, "—" where there is no value. Returns the image (for the colour bar)."""
    im = ax.imshow(np.ma.masked_invalid(values), cmap=cmap, norm=norm, aspect="auto")
    for (i, j), v in np.ndenumerate(values):
        if np.isnan(v):
            ax.text(j, i, "—", ha="center", va="center", color="0.4", fontsize=11)
            continue
        color = _text_color(cmap(norm(v)))
        text = format(v, fmt) + (" †" if marks is not None and marks[i, j] else "")
        ax.text(j, i - 0.1, text, ha="center", va="center", color=color, fontsize=12, fontweight="bold")
        direction = _actual_direction(langs[i], classes[j], pivot)
        ax.text(j, i + 0.25, direction, ha="center", va="center", color=color, fontsize=8)
    ax.set_xticks(range(len(classes)), classes)
    ax.set_yticks(range(len(langs)), langs if row_labels else [""] * len(langs))
    ax.tick_params(length=0)
    return im


def _default_metric(results: Sequence[EvaluationResult], task: str) -> str:
    return next(t.main_score for r in results for t in r.find("retrieval", task=task))


def _n_text(ts: Sequence[TaskScore]) -> str:
    ns = sorted({t.n_queries for t in ts})
    if not ns:
        return ""
    return f"n = {ns[0]} queries per cell" if len(ns) == 1 else f"n = {ns[0]}–{ns[-1]} queries per cell"


# -------------------------------------------------------------------------------------------------------- heatmap
def plot_heatmap(
    result: EvaluationResult,
    path: str | os.PathLike[str],
    *,
    metric: str | None = None,
    task: str | None = None,
    pivot: str = PIVOT,
) -> Path:
    """Heatmap of one model's retrieval metric: rows = languages, columns = direction classes.

    Each cell shows the value (×100 for ratios) and the actual ``query_lang→doc_lang`` it was measured on; the
    ``en→en`` column repeats the single English evaluation on every row. The colour scale is fixed to 0–100 for
    ratios, so heatmaps of different models are comparable by eye.

    Args:
        result: The model's results.
        path: Where to write the PNG.
        metric: Metric key (default: the task's main score).
        task: Retrieval task (default: the first one).
        pivot: The pivot language.

    Returns:
        The path written.
    """
    task = _retrieval_task([result], task)
    metric = metric or _default_metric([result], task)
    langs, classes, grid = _grid(result, task, metric, pivot)
    if not grid:
        raise DataFormatError(f"no {metric} scores in retrieval task {task!r}", field="scores")
    values = np.full((len(langs), len(classes)), np.nan)
    for (lang, c), t in grid.items():
        values[langs.index(lang), classes.index(c)] = scaled(metric, float(t.scores[metric]))
    ratio = is_ratio(metric)
    cmap = _cmap("viridis_r" if lower_is_better(metric) else "viridis")
    vmin, vmax = (0.0, 100.0) if ratio else (float(np.nanmin(values)), float(np.nanmax(values)))
    fig = _figure(1.6 * len(classes) + 2.8, 0.8 * len(langs) + 2.2)
    ax = fig.add_subplot()
    from matplotlib.colors import Normalize

    norm = Normalize(vmin=vmin, vmax=vmax)
    im = _draw_grid(ax, values, ".1f", cmap, norm, langs, classes, pivot)
    ax.set_xlabel("direction: query_lang → doc_lang (x = the row's language)")
    ax.set_ylabel("language x")
    unit_text = " ×100" if ratio else ""
    ax.set_title(
        f"{result.label}: {metric_label(metric, pivot=pivot)}{unit_text} by query_lang → doc_lang\n"
        f"retrieval · {task} · {_n_text(list(grid.values()))}",
        fontsize=11,
    )
    cb = fig.colorbar(im, ax=ax, shrink=0.9)
    cb.set_label(
        f"{metric_label(metric, pivot=pivot)}{unit_text}" + (" (lower is better)" if lower_is_better(metric) else "")
    )
    return _save(fig, path)


def plot_delta_heatmap(
    results: Sequence[EvaluationResult],
    path: str | os.PathLike[str],
    *,
    baseline: int = 0,
    metric: str | None = None,
    task: str | None = None,
    comparison: Comparison | None = None,
    pivot: str = PIVOT,
) -> Path:
    """Difference to the baseline, language × direction, one panel per compared model.

    Diverging colour map centred at 0 with a symmetric range (at least ±1 point); blue always means better (the map is
    reversed for lower-is-better metrics). Cells show the difference in points (×100) and the actual direction; with a
    ``comparison`` (same results, same baseline) a † marks differences significant after its correction.

    Returns:
        The path written.
    """
    res = list(results)
    if len(res) < 2:
        raise DataFormatError("a delta heatmap needs at least two results", field="results")
    baseline %= len(res)
    labels = _labels(res)
    task = _retrieval_task(res, task)
    metric = metric or _default_metric(res, task)
    langs, classes, base_grid = _grid(res[baseline], task, metric, pivot)
    others = [i for i in range(len(res)) if i != baseline]
    deltas = np.full((len(others), len(langs), len(classes)), np.nan)
    sig = np.zeros_like(deltas, dtype=bool)
    sig_cells = set()
    if comparison is not None:  # (model, task, query_lang, doc_lang) of every significant retrieval cell
        sig_cells = {
            (comparison.labels[i], c.task, c.query_lang, c.doc_lang)
            for c, m in comparison.find(suite="retrieval", metric=metric)
            for i in comparison.others
            if m.significant(i, comparison.alpha)
        }
    for k, i in enumerate(others):
        _, _, grid = _grid(res[i], task, metric, pivot, langs)
        for (lang, c), t in grid.items():
            b = base_grid.get((lang, c))
            if b is None or c not in classes:
                continue
            r, col = langs.index(lang), classes.index(c)
            deltas[k, r, col] = scaled(metric, float(t.scores[metric]) - float(b.scores[metric]))
            sig[k, r, col] = (labels[i], t.task, t.query_lang, t.doc_lang) in sig_cells
    if np.all(np.isnan(deltas)):
        raise DataFormatError(f"no {metric} cell is present in the baseline and another result", field="scores")
    lim = max(1.0, float(np.nanmax(np.abs(deltas))))
    cmap = _cmap("RdBu_r" if lower_is_better(metric) else "RdBu")
    from matplotlib.colors import TwoSlopeNorm

    norm = TwoSlopeNorm(vcenter=0.0, vmin=-lim, vmax=lim)
    fig = _figure((1.7 * len(classes) + 1.0) * len(others) + 1.8, 0.85 * len(langs) + 2.4)
    axes = fig.subplots(1, len(others), squeeze=False)[0]
    for k, ax in enumerate(axes):
        im = _draw_grid(ax, deltas[k], "+.1f", cmap, norm, langs, classes, pivot, marks=sig[k], row_labels=k == 0)
        ax.set_title(f"{labels[others[k]]} − {labels[baseline]}", fontsize=11)
        ax.set_xlabel("query_lang → doc_lang (x = row language)")
    axes[0].set_ylabel("language x")
    pts = "points" if is_ratio(metric) else "rank"
    cb = fig.colorbar(im, ax=list(axes), shrink=0.9)
    cb.set_label(f"Δ {metric_label(metric, pivot=pivot)} ({pts}); blue = better")
    sig_text = ""
    if comparison is not None:
        corr = "Holm-corrected" if comparison.correction == "holm" else "uncorrected"
        sig_text = f"; † p < {comparison.alpha:g} ({comparison.test}, {corr})"
    fig.suptitle(
        f"Δ {metric_label(metric, pivot=pivot)} vs {labels[baseline]} by query_lang → doc_lang · retrieval · {task}"
        f"{sig_text}",
        fontsize=11,
    )
    return _save(fig, path)


# ----------------------------------------------------------------------------------------------------------- bars
def plot_grouped_bars(
    results: Sequence[EvaluationResult],
    path: str | os.PathLike[str],
    *,
    metric: str | None = None,
    task: str | None = None,
    pivot: str = PIVOT,
) -> Path:
    """Grouped bars: per ``query_lang→doc_lang`` (grouped by language), one bar per model, values annotated.

    Returns:
        The path written.
    """
    res = list(results)
    labels = _labels(res)
    task = _retrieval_task(res, task)
    metric = metric or _default_metric(res, task)
    own = [_grid(r, task, metric, pivot) for r in res]
    langs = list(dict.fromkeys(lg for lgs, _, _ in own for lg in lgs))
    classes = [c for c in direction_classes(pivot) if any(c in cls for _, cls, _ in own)]
    pp = f"{pivot}→{pivot}"
    slots: list[tuple[str, str]] = []  # (lang, class) in display order; en→en once, first
    if pp in classes:
        slots.append((pivot, pp))
    for lang in langs:
        slots += [(lang, c) for c in classes if c != pp]
    grids = [_grid(r, task, metric, pivot, langs)[2] for r in res]
    values = np.full((len(res), len(slots)), np.nan)
    for m, g in enumerate(grids):
        for s, (lang, c) in enumerate(slots):
            t = g.get((langs[0], pp)) if c == pp and langs else g.get((lang, c))
            if t is not None:
                values[m, s] = scaled(metric, float(t.scores[metric]))
    n_models = len(res)
    ratio = is_ratio(metric)
    top = float(np.nanmax(values)) if np.isfinite(values).any() else 1.0
    # Small multiples: at most LANGS_PER_ROW languages per row, so many languages wrap instead of stretching.
    row_langs = [langs[i : i + _LANGS_PER_ROW] for i in range(0, len(langs), _LANGS_PER_ROW)] or [[]]
    rows = [
        [s for s, (lang, c) in enumerate(slots) if (c == pp and k == 0) or (lang in group and c != pp)]
        for k, group in enumerate(row_langs)
    ]
    per_row = max(len(r) for r in rows)
    fig = _figure(max(6.5, 0.42 * per_row * n_models + 2.8), 3.9 * len(rows) + 0.7)
    axes = fig.subplots(len(rows), 1, squeeze=False)[:, 0]
    colors = _cmap("tab10")
    width = 0.8 / n_models
    annotate = per_row * n_models <= 45
    for ax, idx in zip(axes, rows):
        x = np.arange(len(idx))
        for m in range(n_models):
            vals = values[m, idx]
            bars = ax.bar(
                x - 0.4 + width * (m + 0.5), np.nan_to_num(vals), width * 0.92, label=labels[m], color=colors(m % 10)
            )
            if annotate:
                texts = ["" if np.isnan(v) else f"{v:.1f}" for v in vals]
                ax.bar_label(bars, texts, padding=2, fontsize=7, rotation=90 if n_models > 2 else 0)
        ax.set_xticks(x, [_actual_direction(*slots[s], pivot) for s in idx], rotation=30, ha="right")
        ax.set_xlim(-0.6, per_row - 0.4)
        ax.set_ylim(0, top * 1.25 + 1)  # headroom for the value labels and the legend
        if ratio:
            ax.set_yticks(np.arange(0, min(100.0, top * 1.25) + 1, 20))
        ax.set_ylabel(metric_label(metric, pivot=pivot) + (" ×100" if ratio else ""))
        for j in range(1, len(idx)):  # light separators between language groups
            if slots[idx[j]][0] != slots[idx[j - 1]][0]:
                ax.axvline(j - 0.5, color="0.8", lw=0.8, zorder=0)
        ax.grid(axis="y", color="0.92")
        ax.set_axisbelow(True)
    axes[0].legend(title="model", fontsize=8, title_fontsize=8, loc="upper right", ncols=min(n_models, 4))
    axes[-1].set_xlabel("query_lang → doc_lang")
    fig.suptitle(
        f"{metric_label(metric, pivot=pivot)}{' ×100' if ratio else ''} per model by query_lang → doc_lang · "
        f"retrieval · {task}",
        fontsize=11,
    )
    return _save(fig, path)


# ----------------------------------------------------------------------------------------------------------- ecdf
def plot_max_rank_ecdf(
    results: EvaluationResult | Sequence[EvaluationResult],
    path: str | os.PathLike[str],
    *,
    task: str | None = None,
    ks: Sequence[int] = (1, 10, 100),
    pivot: str = PIVOT,
) -> Path:
    """ECDF of per-query Max@R per mixed pool (one panel per query language and pool), one line per model.

    The curve's height at rank k is the share of queries with ``Max@R ≤ k``, i.e. Complete@k; vertical lines mark
    ``ks`` and the legend gives each model's Complete@10 read off its own per-query values. Uses
    ``TaskScore.per_query["max_rank"]``.

    Raises:
        DataFormatError: when no mixed-pool score has per-query Max@R.

    Returns:
        The path written.
    """
    res = [results] if isinstance(results, EvaluationResult) else list(results)
    labels = _labels(res)
    if task is None:
        task = next(iter(_ecdf_tasks(res)), None)
    panels: dict[str, list[tuple[int, TaskScore]]] = {}
    for m, r in enumerate(res):
        for t in r.find("mixed-pool", task=task):
            if _has_max_rank(t):
                panels.setdefault(t.direction, []).append((m, t))
    if not panels:
        raise DataFormatError(
            "no mixed-pool score has per-query Max@R to plot",
            field="per_query",
            hint="evaluate the mixed-pool suite with per-query values kept (TaskScore.per_query['max_rank'])",
        )
    names = sorted(panels, key=lambda d: (d.split("→", 1)[0] == pivot, d))
    ncols = min(2 if len(names) <= 4 else 3 if len(names) <= 9 else 4, len(names))
    nrows = -(-len(names) // ncols)
    fig = _figure(5.0 * ncols + 0.6, 3.5 * nrows + 1.0)
    axes = fig.subplots(nrows, ncols, squeeze=False, sharey=True)
    colors = _cmap("tab10")
    ks = sorted({int(k) for k in ks})
    for idx, name in enumerate(names):
        ax = axes[idx // ncols][idx % ncols]
        xmax = 1
        n_text = set()
        for m, t in panels[name]:
            v = np.sort(np.fromiter(t.per_query["max_rank"].values(), dtype=np.float64))  # type: ignore[index]
            if v.size == 0:
                continue
            y = np.arange(1, v.size + 1) / v.size
            xs = np.concatenate([[1.0], v, [1e12]])  # from rank 1 to beyond the axis: the whole ECDF
            ys = np.concatenate([[0.0], y, [1.0]])
            c10 = float((v <= 10).mean()) * 100
            ax.step(xs, ys, where="post", color=colors(m % 10), lw=1.8, label=f"{labels[m]} (Complete@10 = {c10:.1f})")
            xmax = max(xmax, float(v.max()))
            n_text.add(v.size)
        ax.set_xscale("log")
        ax.set_xlim(0.9, max(xmax * 1.3, max(ks) * 1.5))
        ax.set_ylim(0, 1.02)
        for k in ks:
            ax.axvline(k, color="0.45", ls="--", lw=0.9)
        top = ax.secondary_xaxis("top")
        top.set_xticks(ks, labels=[f"k={k}" for k in ks], fontsize=8, color="0.3")
        top.tick_params(length=0)
        pool = next(iter(panels[name]))[1].pool
        pool_text = " + ".join(f"{n} {lg}" for lg, n in sorted(pool.items()))
        nq = "/".join(str(n) for n in sorted(n_text))
        ax.set_title(
            f"queries {name.split('→', 1)[0]} → pool {name.split('→', 1)[1]}  ({pool_text}; n={nq})", fontsize=9.5
        )
        ax.grid(color="0.92")
        ax.legend(fontsize=8, loc="lower right")
    for idx in range(len(names), nrows * ncols):
        axes[idx // ncols][idx % ncols].set_visible(False)
    fig.supxlabel("Max@R = rank needed to retrieve every parallel document of a query (log scale)", fontsize=10)
    fig.supylabel("share of queries with Max@R ≤ x", fontsize=10)
    fig.suptitle(f"Max@R distribution · mixed-pool · {task} — the curve at k is Complete@k", fontsize=11)
    return _save(fig, path)


# ------------------------------------------------------------------------------------------------------------ all
def plot_all(
    results: EvaluationResult | Sequence[EvaluationResult],
    output_dir: str | os.PathLike[str],
    *,
    baseline: int = 0,
    comparison: Comparison | None = None,
    pivot: str = PIVOT,
) -> list[PlotFile]:
    """The standard plots for a report, written into ``output_dir``.

    One heatmap per model and retrieval task; with two or more models a delta heatmap and grouped bars per retrieval
    task; a Max@R ECDF per mixed-pool task whose scores kept per-query Max@R. Suites without data are skipped.

    Returns:
        The written plots with a caption each, in report order.
    """
    require("matplotlib", feature="plots")
    res = [results] if isinstance(results, EvaluationResult) else list(results)
    out_dir = Path(output_dir)
    labels = _labels(res)
    out: list[PlotFile] = []
    for task in _retrieval_tasks(res):
        metric = _default_metric(res, task)
        mlabel = metric_label(metric, pivot=pivot)
        opts = {"metric": metric, "task": task, "pivot": pivot}
        name = f"{slug(task)}_{slug(metric)}.png"
        for label, r in zip(labels, res):
            if any(metric in t.scores for t in r.find("retrieval", task=task)):
                p = plot_heatmap(r, out_dir / f"heatmap_{slug(label)}_{name}", **opts)
                what = f"{mlabel} ×100 of {label} per language (rows) and query_lang → doc_lang (columns)."
                out.append(PlotFile(p, f"{label}: {mlabel} by direction ({task})", what))
        if len(res) >= 2:
            base = labels[baseline % len(res)]
            p = plot_delta_heatmap(res, out_dir / f"delta_{name}", baseline=baseline, comparison=comparison, **opts)
            sig = "; † = significant" if comparison is not None else ""
            what = f"Difference to {base} in points; blue = better{sig}."
            out.append(PlotFile(p, f"Δ {mlabel} vs {base} ({task})", what))
            p = plot_grouped_bars(res, out_dir / f"bars_{name}", **opts)
            what = f"{mlabel} ×100 of every model per query_lang → doc_lang."
            out.append(PlotFile(p, f"{mlabel} per model ({task})", what))
    for task in _ecdf_tasks(res):
        p = plot_max_rank_ecdf(res, out_dir / f"max_rank_ecdf_{slug(task)}.png", task=task, pivot=pivot)
        out.append(PlotFile(p, f"Max@R distribution ({task})", _ECDF_CAPTION))
    return out
