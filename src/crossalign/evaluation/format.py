"""The one number formatter of crossalign's output: every value a table, comparison, plot label, verdict or
summary shows goes through :func:`format_value` / :func:`format_delta`, so it reads the same in the terminal, in
``summary.txt`` and in ``report.md``.

Ratios (nDCG, recall, Complete@k, P@1, xSIM, correlations, ...) are multiplied by 100 and shown with one decimal;
ranks and counts (Max@R, Min@R, English above gold) are shown as they are, with one decimal. Rounding is half away
from zero on the value as written in ``results.json`` (``0.8125`` → ``81.3``), not the round-half-even of binary
floats that ``f"{81.25:.1f}"`` would give.

>>> format_value("ndcg@10", 0.8125), format_value("max_rank_mean", 7.25), format_delta("ndcg@10", -0.015)
('81.3', '7.3', '-1.5')
"""

from __future__ import annotations

import math
import re
from decimal import ROUND_HALF_UP, Decimal

from crossalign.evaluation.metrics import lower_is_better, score_info

__all__ = [
    "CORRECTIONS",
    "MISSING",
    "PIVOT",
    "TESTS",
    "arrow",
    "direction_class",
    "direction_classes",
    "format_ci",
    "format_delta",
    "format_p",
    "format_value",
    "header_label",
    "is_neutral",
    "is_ratio",
    "metric_label",
    "row_language",
    "scaled",
    "short_fingerprint",
    "slug",
    "unit",
]

#: The pivot language of the labels (``pivot_first@1`` is ``EnglishFirst@1`` for ``en``).
PIVOT = "en"

#: Placeholder for a missing value.
MISSING = "—"

#: The paired tests of :mod:`crossalign.evaluation.significance` and the multiple-comparison corrections that
#: ``crossalign compare`` offers (here, away from numpy, so that ``--help`` stays light).
TESTS = ("bootstrap", "randomization")
CORRECTIONS = ("holm", "none")


def is_neutral(metric: str) -> bool:
    """True for descriptive metrics with no better direction (``lang_share@k:<lang>``); from the metric registry."""
    return score_info(metric).neutral


def is_ratio(metric: str) -> bool:
    """True when the metric is a share or correlation (printed ×100); False for ranks and counts (the registry's
    :attr:`~crossalign.evaluation.metrics.MetricInfo.ratio`)."""
    return score_info(metric).ratio


def scaled(metric: str, value: float) -> float:
    """The value as tables show it: ×100 for ratios, unchanged for ranks."""
    return value * 100.0 if is_ratio(metric) else value


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def format_value(metric: str, value: float | None) -> str:
    """``0.80125`` → ``"80.1"`` for ratios; ``7.25`` → ``"7.3"`` for ranks; None/NaN → ``"—"``."""
    if _missing(value):
        return MISSING
    if math.isinf(value):  # type: ignore[arg-type]
        return "inf" if value > 0 else "-inf"  # type: ignore[operator]
    d = Decimal(repr(float(value)))  # type: ignore[arg-type]
    if is_ratio(metric):
        d = d.scaleb(2)
    return str(d.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def format_delta(metric: str, delta: float | None) -> str:
    """Signed difference in table units (points for ratios): ``+3.2``, ``-0.4``, ``±0.0``."""
    if _missing(delta):
        return MISSING
    d = Decimal(repr(float(delta)))  # type: ignore[arg-type]
    if is_ratio(metric):
        d = d.scaleb(2)
    r = d.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    if r == 0:
        return "±0.0"
    return f"+{r}" if r > 0 else str(r)


def format_ci(metric: str, low: float | None, high: float | None) -> str:
    """A confidence interval of a difference in table units: ``[+0.4, +3.1]``; ``"—"`` when there is none."""
    if _missing(low) or _missing(high):
        return MISSING
    return f"[{format_delta(metric, low)}, {format_delta(metric, high)}]"


def format_p(p: float | None) -> str:
    """p-values: ``0.032``, ``<0.001``; None → ``"—"``."""
    if _missing(p):
        return MISSING
    if p < 0.001:  # type: ignore[operator]
        return "<0.001"
    return f"{p:.3f}"


def unit(metric: str) -> str:
    """``"points"`` for ratios (differences of ×100 values), ``""`` for ranks."""
    return "points" if is_ratio(metric) else ""


def metric_label(metric: str, *, pivot: str = PIVOT) -> str:
    """Human label of a score key, from the metric registry: ``ndcg@10`` → ``nDCG@10``, ``max_rank_mean`` →
    ``Max@R mean``, ``pivot_first@1`` → ``EnglishFirst@1`` (for pivot ``en``), ``xsim_error`` → ``xSIM error``."""
    return score_info(metric).label(pivot)


def arrow(metric: str) -> str:
    """``↑`` (higher is better), ``↓`` (lower is better) or ``""`` (neutral)."""
    if is_neutral(metric):
        return ""
    return "↓" if lower_is_better(metric) else "↑"


def header_label(metric: str, *, pivot: str = PIVOT) -> str:
    """Column header: label plus direction arrow (``nDCG@10 ↑``, ``Max@R mean ↓``)."""
    a = arrow(metric)
    return f"{metric_label(metric, pivot=pivot)} {a}".rstrip()


def direction_classes(pivot: str = PIVOT) -> tuple[str, ...]:
    """Direction classes of single-language pools, in table order: ``en→en``, ``x→x``, ``x→en``, ``en→x``."""
    return (f"{pivot}→{pivot}", "x→x", f"x→{pivot}", f"{pivot}→x")


def direction_class(query_lang: str | None, doc_lang: str | None, *, pivot: str = PIVOT) -> str:
    """Classify a direction by ``query_lang``/``doc_lang`` (never by a name): ``en→en``, ``x→x``, ``x→en``, ``en→x``,
    ``x→y`` (two different non-pivot languages) or ``mixed`` (a pool of several languages). ``en`` stands for the
    pivot language."""
    p = pivot
    if doc_lang is None:
        return "mixed"
    if query_lang == pivot and doc_lang == pivot:
        return f"{p}→{p}"
    if query_lang == doc_lang:
        return "x→x"
    if doc_lang == pivot:
        return f"x→{p}"
    if query_lang == pivot:
        return f"{p}→x"
    return "x→y"


def row_language(query_lang: str | None, doc_lang: str | None, *, pivot: str = PIVOT) -> str:
    """The non-pivot language a cell belongs to (the pivot itself for pivot→pivot)."""
    if query_lang is not None and query_lang != pivot:
        return query_lang
    if doc_lang is not None and doc_lang != pivot:
        return doc_lang
    return pivot


def short_fingerprint(fp: object, n: int = 12) -> str:
    """First ``n`` hex characters of a fingerprint (a ``sha256:`` style prefix is dropped)."""
    if not fp:
        return MISSING
    text = str(fp)
    if ":" in text:
        text = text.split(":", 1)[1]
    return text[:n]


def slug(text: str) -> str:
    """File-name-safe version of a label (``zh-CN→{en,zh-CN}`` → ``zh-CN-en-zh-CN``)."""
    return re.sub(r"[^A-Za-z0-9_.+-]+", "-", text).strip("-.") or "x"
