"""Markdown reports: ``report.md`` for one or more results, ``comparison.md`` + ``comparison.json`` for a comparison.

Two calls, used by ``crossalign evaluate``, ``crossalign demo`` and ``crossalign compare``:

>>> write_report(result, "out/", title="e5-small-q4", reproduce="crossalign evaluate ...")  # doctest: +SKIP
PosixPath('out/report.md')
>>> write_comparison([base, tuned], "out/")  # doctest: +SKIP
{'markdown': PosixPath('out/comparison.md'), 'json': PosixPath('out/comparison.json'), 'plots': [...]}

Plots go to ``<output_dir>/plots/`` and are linked relatively, so the folder can be moved or published as is. Without
matplotlib (the optional ``plots`` extra) the markdown is still written and says the plots were skipped and how to get
them. Every file is written atomically.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from crossalign import __version__
from crossalign.errors import CrossalignError
from crossalign.evaluation.format import PIVOT, short_fingerprint
from crossalign.evaluation.results import SUITES, EvaluationResult
from crossalign.reports.compare import Comparison, compare_results
from crossalign.reports.plots import PlotFile, plot_all
from crossalign.reports.tables import _as_list, build_tables, describe_results
from crossalign.utils.atomic import atomic_write_json, atomic_write_text
from crossalign.utils.deps import is_available

__all__ = ["write_comparison", "write_report"]

#: Retrieval metrics tabulated in reports when present (the main score always comes first).
REPORT_RETRIEVAL_METRICS: tuple[str, ...] = ("ndcg@10", "recall@10", "mrr@10", "recall@100")

PLOTS_DIR = "plots"


def _retrieval_metrics(res: list[EvaluationResult]) -> list[str]:
    mains = list(dict.fromkeys(t.main_score for r in res for t in r.tasks if t.suite == "retrieval"))
    present = {m for r in res for t in r.tasks if t.suite == "retrieval" for m in t.scores}
    return mains + [m for m in REPORT_RETRIEVAL_METRICS if m in present and m not in mains]


def _plots(
    res: list[EvaluationResult], out: Path, *, baseline: int, comparison: Comparison | None, pivot: str
) -> tuple[list[PlotFile], str | None]:
    """Write the plots; returns them and, when they were skipped, why."""
    if not is_available("matplotlib"):
        return [], (
            "Plots skipped: matplotlib is not installed (`pip install 'crossalign[plots]'` or "
            "`pip install matplotlib`); the tables above hold every number."
        )
    return plot_all(res, out / PLOTS_DIR, baseline=baseline, comparison=comparison, pivot=pivot), None


def _plots_markdown(plots: list[PlotFile], out: Path, skipped: str | None, heading: str) -> list[str]:
    lines = [f"{heading} Plots", ""]
    if skipped:
        return [*lines, f"_{skipped}_", ""]
    if not plots:
        return [*lines, "_No data to plot (no retrieval scores, no per-query Max@R)._", ""]
    for p in plots:
        rel = p.path.relative_to(out).as_posix()
        lines += [f"![{p.title}]({rel})", "", f"_{p.caption}_", ""]
    return lines


def write_report(
    results: EvaluationResult | Sequence[EvaluationResult],
    output_dir: str | os.PathLike[str],
    *,
    title: str,
    notes: str | Sequence[str] | None = None,
    reproduce: str | None = None,
    baseline: int = 0,
    test: str = "bootstrap",
    plots: bool = True,
    pivot: str = PIVOT,
    sections: Sequence[str] = (),
) -> Path:
    """Write ``<output_dir>/report.md`` (and its plots) for one or more results.

    Sections: what was evaluated (models with short fingerprints, data provenance and split, suites), notes, one
    table per suite and task, the plots (relative links), with two or more results a comparison against
    ``results[baseline]`` (paired tests where per-query values exist), and "How to reproduce" with ``reproduce``.

    Args:
        results: One result, or several (one per model, same evaluation).
        output_dir: Folder to write into (created).
        title: The report's title (first heading).
        notes: Free text (a string or one string per bullet) shown under the description.
        reproduce: The command(s) that produced the results, shown verbatim in a code block.
        baseline: Index of the baseline result for the comparison.
        test: ``"bootstrap"`` or ``"randomization"`` for the comparison.
        plots: False to skip the plots.
        pivot: The pivot language of the direction classes.
        sections: Extra markdown sections (each starting with its ``##`` heading), placed before "How to reproduce".

    Returns:
        The path of ``report.md``.
    """
    res = _as_list(results)
    if not res:
        raise CrossalignError("no results to report", hint="pass at least one EvaluationResult")
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    comparison: Comparison | None = None
    comparison_error: str | None = None
    if len(res) >= 2:
        try:
            comparison = compare_results(res, baseline=baseline, test=test)
        except CrossalignError as exc:
            comparison_error = str(exc)
    lines = [
        f"# {title}",
        "",
        f"_crossalign {__version__} report of {len(res)} result{'s' if len(res) > 1 else ''}._",
        "",
    ]
    lines += ["## What was evaluated", "", describe_results(res)]
    suites = list(dict.fromkeys(t.suite for r in res for t in r.tasks))
    lines += [f"- **{s}**: {SUITES[s]}" for s in suites if s in SUITES] + [""]
    if notes:
        items = [notes] if isinstance(notes, str) else list(notes)
        lines += ["## Notes", "", *[f"- {n}" for n in items], ""]
    lines += ["## Results", ""]
    current = None
    for table in build_tables(res, retrieval_metrics=_retrieval_metrics(res), pivot=pivot):
        if table.suite != current:
            current = table.suite
            lines += [f"### {current}", ""]
        lines.append(table.to_markdown(heading="####"))
    if comparison is not None:
        lines.append(comparison.to_markdown(heading="##"))
    elif comparison_error:
        lines += ["## Comparison", "", "No comparison was made:", "", "```", comparison_error, "```", ""]
    if plots:
        written, skipped = _plots(res, out, baseline=baseline, comparison=comparison, pivot=pivot)
        lines += _plots_markdown(written, out, skipped, "##")
    for section in sections:
        lines += [section.rstrip(), ""]
    lines += ["## How to reproduce", ""]
    if reproduce:
        lines += ["```bash", reproduce.rstrip(), "```", ""]
    else:
        lines += ["_No command was recorded._", ""]
    lines += [_model_lines(res), ""]
    path = out / "report.md"
    atomic_write_text(path, "\n".join(lines).rstrip() + "\n")
    return path


def _model_lines(res: list[EvaluationResult]) -> str:
    parts = []
    for r in res:
        fp = r.model.get("fingerprint")
        parts.append(
            f"- {r.label}: `{r.model.get('spec')}` (weights fingerprint `{short_fingerprint(fp)}`; full: `{fp}`), "
            f"evaluated {r.created} with crossalign {r.crossalign_version}"
        )
    return "Check that the weights match before comparing numbers:\n\n" + "\n".join(parts)


def write_comparison(
    results: Sequence[EvaluationResult],
    output_dir: str | os.PathLike[str],
    *,
    comparison: Comparison | None = None,
    plots: bool = True,
    command: str | None = None,
    pivot: str = PIVOT,
    **compare_kwargs: Any,
) -> dict[str, Any]:
    """Write ``comparison.md``, ``comparison.json`` and the plots for a comparison of results.

    Args:
        results: The compared results (as passed to :func:`~crossalign.reports.compare.compare_results`).
        output_dir: Folder to write into (created).
        comparison: A comparison already computed for ``results`` (else computed with ``compare_kwargs``).
        plots: False to skip the plots.
        command: The command line that made the comparison (shown under "How to reproduce").
        pivot: The pivot language.
        **compare_kwargs: Passed to :func:`~crossalign.reports.compare.compare_results` (metrics, baseline, test,
            alpha, ...).

    Returns:
        ``{"markdown": Path, "json": Path, "plots": [Path, ...], "plots_skipped": str | None}``.
    """
    res = list(results)
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    comp = comparison if comparison is not None else compare_results(res, **compare_kwargs)
    written: list[PlotFile] = []
    skipped: str | None = None
    if plots:
        written, skipped = _plots(res, out, baseline=comp.baseline, comparison=comp, pivot=pivot)
    others = ", ".join(comp.labels[i] for i in comp.others)
    lines = [f"# {others} vs {comp.labels[comp.baseline]}", "", describe_results(res), comp.to_markdown(heading="##")]
    if plots:
        lines += _plots_markdown(written, out, skipped, "##")
    if command:
        lines += ["## How to reproduce", "", "```bash", command, "```", ""]
    md = out / "comparison.md"
    js = out / "comparison.json"
    data = comp.to_dict()
    data["plots"] = [p.path.relative_to(out).as_posix() for p in written]
    data["plots_skipped"] = skipped
    data["crossalign_version"] = __version__
    atomic_write_json(js, data)
    atomic_write_text(md, "\n".join(lines).rstrip() + "\n")
    return {"markdown": md, "json": js, "plots": [p.path for p in written], "plots_skipped": skipped}
