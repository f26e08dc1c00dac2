"""The held-out panel in reports: a per-language table of deltas against the base model, the verdict, a plot.

Input is :func:`crossalign.evaluation.holdout.holdout_comparison`'s dict (numbers on the 0–1 scale; shown ×100 as
points). The plot draws, per panel language, each model's delta against the base model with its 95 % bootstrap
interval for x→en nDCG@10 and bitext P@1, with the verdict's −1-point line.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from crossalign.evaluation.format import format_ci, format_delta, format_value
from crossalign.utils.table import Table, render_text

__all__ = ["format_holdout", "holdout_table", "plot_holdout", "verdict_lines"]


def _delta_cell(metric: str, cell: dict[str, Any]) -> str:
    text = format_delta(metric, cell["delta"])
    if cell["delta"] is not None and cell.get("ci_low") is not None:
        text += " " + format_ci(metric, cell["ci_low"], cell["ci_high"])
    return text


def holdout_table(comparison: dict[str, Any], *, trained: list[str] | None = None) -> Table:
    """The panel as one :class:`~crossalign.utils.table.Table`: per language the base model's values (×100), then
    each model's change in points with its 95 % paired bootstrap interval; the mean change last."""
    metrics = comparison["metrics"]
    key = {k: m.get("key", "p@1_src2tgt") for k, m in metrics.items()}  # the registry key gives scale and format
    labels = list(comparison["models"])
    rows: list[list[str]] = []
    for lang in comparison["langs"]:
        first = comparison["models"][labels[0]][lang] if labels else {}
        rows.append([lang, "base", *(format_value(key[k], first.get(k, {}).get("base")) for k in metrics)])
        for label in labels:
            cells = comparison["models"][label][lang]
            rows.append(["", label, *(_delta_cell(key[k], cells[k]) for k in metrics)])
    for label in labels:
        mean = comparison["mean"].get(label, {})
        rows.append(
            [
                "mean" if label == labels[0] else "",
                label,
                *(format_delta(key[k], mean.get(k, {}).get("delta")) for k in metrics),
            ]
        )
    what = "held-out languages (never trained" + (f"; trained: {', '.join(trained)})" if trained else ")")
    return Table(
        what,
        ["lang", "model", *(metrics[k]["label"] for k in metrics)],
        rows,
        caption=[
            "base values ×100, then each model's change in points [95 % paired bootstrap CI]; bitext P@1 = mean of "
            "both directions; xSIM error lower is better"
        ],
        label_columns=2,
    )


def verdict_lines(comparison: dict[str, Any], *, markdown: bool = False) -> list[str]:
    """One line per model: the regression verdict and its detail."""
    return [
        f"{'- ' if markdown else ''}{label}: {v['claim']}: {'yes' if v['holds'] else 'NO'} ({v['detail']})"
        for label, v in comparison["verdicts"].items()
    ]


def format_holdout(comparison: dict[str, Any], *, markdown: bool = False, trained: list[str] | None = None) -> str:
    """The panel table and the verdicts, as rich-rendered text or markdown."""
    table = holdout_table(comparison, trained=trained)
    lines = verdict_lines(comparison, markdown=markdown)
    if markdown:
        return table.to_markdown(heading=None) + "\n" + "\n".join(lines)
    return render_text([table, *lines]).rstrip("\n")


def plot_holdout(comparison: dict[str, Any], path: str | os.PathLike[str]) -> Path:
    """Bars of each model's delta against the base model per panel language (x→en nDCG@10 and bitext P@1), with
    95 % bootstrap intervals and the verdict's threshold line; returns the PNG path."""
    import numpy as np

    from crossalign.reports.plots import _figure, _save

    langs = comparison["langs"]
    labels = list(comparison["models"])
    keys = ("x>en", "bitext_p@1")
    fig = _figure(max(6.0, 1.0 + 0.9 * len(langs) * max(1, len(labels)) / 2), 3.2 * len(keys))
    axes = fig.subplots(len(keys), 1, squeeze=False)[:, 0]
    width = 0.8 / max(1, len(labels))
    x = np.arange(len(langs))
    for ax, key in zip(axes, keys):
        for i, label in enumerate(labels):
            cells = [comparison["models"][label][lang][key] for lang in langs]
            d = np.array([100 * (c["delta"] or 0.0) for c in cells])
            lo = np.array([100 * (c["delta"] - c["ci_low"]) if c.get("ci_low") is not None else 0 for c in cells])
            hi = np.array([100 * (c["ci_high"] - c["delta"]) if c.get("ci_high") is not None else 0 for c in cells])
            ax.bar(x + (i - (len(labels) - 1) / 2) * width, d, width, yerr=[lo, hi], capsize=2, label=label)
        ax.axhline(0, color="black", linewidth=0.8)
        ax.axhline(-comparison["threshold_points"], color="red", linestyle="--", linewidth=0.8)
        ax.set_xticks(x, langs)
        ax.set_ylabel("points vs base")
        ax.set_title(f"held-out languages: {comparison['metrics'][key]['label']} vs base", fontsize=9)
    axes[0].legend(fontsize=8, ncols=max(1, len(labels)))
    return _save(fig, path)
