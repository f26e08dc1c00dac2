"""Reports: results.json → markdown tables, PNG plots and statistically honest comparisons.

- :mod:`.tables` — language × direction tables (retrieval), mixed-pool, inclination, bitext and STS tables; markdown,
  plain text and rich renderings; :func:`describe_results` says what was evaluated.
- :mod:`.plots` — heatmaps, delta heatmaps, grouped bars and the Max@R ECDF (optional ``plots`` extra: matplotlib).
- :mod:`crossalign.evaluation.significance` (re-exported) — paired bootstrap, randomisation, Holm–Bonferroni.
- :mod:`.compare` — :func:`compare_results`: cell-by-cell deltas and paired tests against a baseline.
- :mod:`.markdown` — :func:`write_report` (``report.md``) and :func:`write_comparison` (``comparison.md`` + JSON).

Conventions the evaluation writes so that tests are possible (see :mod:`.compare`): per-query values live in
``TaskScore.per_query[<metric key>]`` as ``{query id: value}``; mixed pools store ``per_query["max_rank"]`` and
``per_query["min_rank"]``, from which Max@R mean/median, Complete@k and nDCG@1 are derived.
"""

from __future__ import annotations

from crossalign.evaluation.significance import PairedTestResult, holm, paired_bootstrap, paired_randomization
from crossalign.reports.compare import Comparison, ComparisonError, compare_results
from crossalign.reports.markdown import write_comparison, write_report
from crossalign.reports.tables import Table, build_tables, describe_results

__all__ = [
    "Comparison",
    "ComparisonError",
    "PairedTestResult",
    "Table",
    "build_tables",
    "compare_results",
    "describe_results",
    "holm",
    "paired_bootstrap",
    "paired_randomization",
    "write_comparison",
    "write_report",
]
