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

from crossalign.evaluation.results import lower_is_better

__all__ = [
    "MISSING",
    "arrow",
    "format_delta",
    "format_p",
    "format_value",
    "header_label",
    "is_neutral",
    "is_ratio",
    "metric_label",
    "scaled",
    "unit",
]

#: The pivot language of the labels (``pivot_first@1`` is ``EnglishFirst@1`` for ``en``).
PIVOT = "en"

#: Placeholder for a missing value.
MISSING = "—"

# Metrics shown raw (not ×100): ranks and counts.
_RAW_PREFIXES: tuple[str, ...] = ("max_rank", "min_rank", "pivot_above_gold", "bucc_threshold", "bucc_n_", "n_")

# Metrics without a better direction (a language share is descriptive).
_NEUTRAL_PREFIXES: tuple[str, ...] = ("lang_share@",)


def is_neutral(metric: str) -> bool:
    """True for descriptive metrics with no better direction (``lang_share@k:<lang>``)."""
    return metric.startswith(_NEUTRAL_PREFIXES)


def is_ratio(metric: str) -> bool:
    """True when the metric is a share or correlation (printed ×100); False for ranks and counts."""
    return not metric.startswith(_RAW_PREFIXES)


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


_CUT = re.compile(r"^(?P<name>[a-z_]+)@(?P<k>\d+)$")
_PRETTY: dict[str, str] = {
    "ndcg": "nDCG",
    "recall": "Recall",
    "precision": "P",
    "mrr": "MRR",
    "map": "MAP",
    "success": "Success",
    "complete": "Complete",
}


def metric_label(metric: str, *, pivot: str = PIVOT) -> str:
    """Human label of a metric key: ``ndcg@10`` → ``nDCG@10``, ``max_rank_mean`` → ``Max@R mean``,
    ``pivot_first@1`` → ``EnglishFirst@1`` (for pivot ``en``), ``xsim`` → ``xSIM error``."""
    piv = "English" if pivot == "en" else pivot
    fixed = {
        "max_rank": "Max@R",
        "max_rank_mean": "Max@R mean",
        "max_rank_median": "Max@R median",
        "min_rank": "Min@R",
        "min_rank_mean": "Min@R mean",
        "min_rank_median": "Min@R median",
        "pivot_first@1": f"{piv}First@1",
        "pivot_first_wrong@1": f"{piv}First wrong@1",
        "pivot_above_gold_mean": f"{piv} above gold",
        "pivot_above_gold": f"{piv} above gold",
        "xsim": "xSIM error",
        "xsim_error": "xSIM error",
        "xsim_absolute": "xSIM error (cosine)",
        "bucc_f1": "BUCC F1",
        "p@1_src2tgt": "P@1 src→tgt",
        "p@1_tgt2src": "P@1 tgt→src",
        "bitext_p1": "P@1",
        "spearman": "Spearman",
        "pearson": "Pearson",
        "cosine_spearman": "Spearman",
        "cosine_pearson": "Pearson",
        "map": "MAP",
        "mrr": "MRR",
        "ndcg": "nDCG",
    }
    if metric in fixed:
        return fixed[metric]
    if metric.startswith("lang_share@") and ":" in metric:
        cut, lang = metric[len("lang_share@") :].split(":", 1)
        return f"{lang} share of top {cut}"
    m = _CUT.match(metric)
    if m and m.group("name") in _PRETTY:
        return f"{_PRETTY[m.group('name')]}@{m.group('k')}"
    return metric


def arrow(metric: str) -> str:
    """``↑`` (higher is better), ``↓`` (lower is better) or ``""`` (neutral)."""
    if is_neutral(metric):
        return ""
    return "↓" if lower_is_better(metric) else "↑"


def header_label(metric: str, *, pivot: str = PIVOT) -> str:
    """Column header: label plus direction arrow (``nDCG@10 ↑``, ``Max@R mean ↓``)."""
    a = arrow(metric)
    return f"{metric_label(metric, pivot=pivot)} {a}".rstrip()
