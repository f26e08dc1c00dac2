"""``crossalign compare``: compare models' results cell by cell with paired significance tests.

``crossalign compare BASE.json TUNED.json [...] [--metrics ndcg@10,complete@10] [--test bootstrap|randomization]
[--baseline 0] [--alpha 0.05] [--resamples 10000] [--seed 0] [--output DIR]`` prints, per suite and task, every
model's value, the difference to the baseline, the 95 % CI (bootstrap) and the Holm-corrected p-value; with
``--output`` it also writes ``comparison.md``, ``comparison.json`` and the plots.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from crossalign.cli._text import add_command, command_line
from crossalign.evaluation.format import CORRECTIONS, TESTS

EPILOG = """\
examples:
  crossalign compare runs/base/results.json runs/clear/results.json
  crossalign compare base.json clear.json jsd.json --metrics ndcg@10,complete@10,max_rank_median --output cmp/
  crossalign compare base.json clear.json --test randomization --alpha 0.01
  crossalign compare eval/base eval/clear-de --label base --label "CLEAR de"

Paired tests need per-query values (results.json 'per_query') on the same queries; cells without them are
compared without a test. Differences are model − baseline; ×100 for shares (points), raw for ranks.
"""


def register(subparsers: Any) -> None:
    """Add the ``compare`` command to the top-level sub-parsers."""
    p = add_command(
        subparsers, "compare", __doc__, "compare results.json files with paired significance tests", epilog=EPILOG
    )
    p.add_argument("results", nargs="+", metavar="RESULT", help="results.json files (or folders holding one)")
    p.add_argument(
        "--metrics",
        default=None,
        help="comma-separated metrics to compare, e.g. ndcg@10,complete@10 ('all': every shared metric; "
        "default: each cell's main score)",
    )
    p.add_argument("--test", choices=TESTS, default="bootstrap", help="paired test")
    p.add_argument("--baseline", type=int, default=0, help="position of the baseline among RESULT (default: 0)")
    p.add_argument("--alpha", type=float, default=0.05, help="significance level (default: %(default)s)")
    p.add_argument("--resamples", type=int, default=10_000, help="resamples per test (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="random seed of the tests (default: %(default)s)")
    p.add_argument(
        "--correction", choices=CORRECTIONS, default="holm", help="multiple-comparison correction (default: holm)"
    )
    p.add_argument(
        "--label",
        action="append",
        default=None,
        metavar="NAME",
        help="the name of each RESULT in tables and Δ lines, once per RESULT in order (default: the label recorded "
        "in each results.json)",
    )
    p.add_argument("--output", metavar="DIR", default=None, help="also write comparison.md, comparison.json, plots")
    p.add_argument("--no-plots", action="store_true", help="with --output: skip the PNG plots")
    p.set_defaults(func=run_compare, parser=p)


def _labels(paths: list[str], results: list[Any]) -> list[str]:
    """Model labels; when two results share one, the file's folder (or name) tells them apart, else a number
    (:func:`~crossalign.evaluation.results.unique_labels`)."""
    from crossalign.evaluation.results import unique_labels

    labels = [r.label for r in results]
    if len(set(labels)) == len(labels):
        return labels
    out = []
    for path, label in zip(paths, labels):
        p = Path(path)
        where = p.name if p.is_dir() else (p.parent.name if p.name == "results.json" else p.stem)
        out.append(f"{label} [{where}]" if where else label)
    return out if len(set(out)) == len(out) else unique_labels(labels)


def run_compare(args: argparse.Namespace) -> int:
    """``crossalign compare``: load, compare, print; with ``--output`` write the files."""
    from crossalign.errors import ConfigError
    from crossalign.evaluation.results import load_results
    from crossalign.reports.compare import compare_results
    from crossalign.utils.table import print_tables

    if len(args.results) < 2:
        raise ConfigError(
            f"compare needs at least two results files, got {len(args.results)}",
            hint="pass the baseline's results.json first, then the results of each model to compare with it",
        )
    if args.label is not None and len(args.label) != len(args.results):
        raise ConfigError(
            f"{len(args.label)} --label for {len(args.results)} results",
            hint="give one --label per RESULT, in the same order (or none)",
        )
    if args.label is not None and len(set(args.label)) != len(args.label):
        raise ConfigError(f"--label names a model twice ({', '.join(args.label)})", hint="give each RESULT its own")
    results = [load_results(p) for p in args.results]
    labels = list(args.label) if args.label is not None else _labels(args.results, results)
    comparison = compare_results(
        results,
        metrics=args.metrics,
        baseline=args.baseline,
        test=args.test,
        alpha=args.alpha,
        correction=args.correction,
        n_resamples=args.resamples,
        seed=args.seed,
        labels=labels,
    )
    print_tables(comparison.text_items())  # rich on a terminal, plain text in pipes, logs and tests
    if args.output:
        from crossalign.reports.markdown import write_comparison

        files = write_comparison(
            results,
            args.output,
            comparison=comparison,
            plots=not args.no_plots,
            command=command_line("crossalign compare", args.parser, args, every=True),
        )
        print(f"\nwrote {files['markdown']}")
        print(f"wrote {files['json']}")
        for p in files["plots"]:
            print(f"wrote {p}")
        if files["plots_skipped"]:
            print(files["plots_skipped"])
    return 0
