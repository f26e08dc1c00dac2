"""``crossalign reproduce``: each paper's central claim tested on the built-in model and corpus, with verdicts.

Claim 1 (CLEAR vs InfoNCE, x→en retrieval) and claim 2 (JSD+InfoNCE vs InfoNCE, Max@R in mixed-language pools) on
reference-like training rows (5 mined passage and 5 query negatives per row, ranks 30-100, cosine schedule with 5 %
warm-up); claim 3 (multi-way vs En-X, bitext mining between non-English languages) on eight languages. Every model
is evaluated at every budget (checkpoints along each run), with the held-out panel; every verdict comes from a
paired bootstrap interval and says at which budgets and seeds it holds. Writes REPRODUCTION.md, reproduce.json, the
training data, models and per-model evaluations, and prints the verdicts and tables; the last line of standard
output is the report directory. Stages are reused on a rerun with the same settings (an interrupted run resumes).

Examples::

    crossalign reproduce                                 # the default budget (README gives its measured wall time)
    crossalign reproduce --quick                         # minutes: checks the machinery, decides nothing
    crossalign reproduce --seeds 13,14 --budget steps=40,120
    crossalign reproduce --preset paper --nproc-per-node 4  # 4 GPUs, the reference's scale
    crossalign reproduce --experiments parallel --parallel-langs de,zh-CN,eu,km,hi,fi,vi,pl,cs,sv
    crossalign reproduce --experiments retrieval,per-language  # claim 1 also with one model per language
"""

from __future__ import annotations

import argparse
from typing import Any

from crossalign.cli._text import add_command, add_workflow_options, print_workflow_result, workflow_output

DEFAULT_OUTPUT = "crossalign-reproduce"


def _int_list(text: str) -> list[int]:
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None


def register(subparsers: Any) -> None:
    """Add the ``reproduce`` command to the top-level sub-parsers."""
    from crossalign.workflows.reproduce import DEFAULT_EXPERIMENTS, DEFAULT_PARALLEL_LANGS, PRESETS, ReproduceBudget

    p = add_command(
        subparsers,
        "reproduce",
        __doc__,
        help="test the three papers' central claims (CLEAR, JSD+InfoNCE, multi-way) with computed verdicts",
    )
    p.add_argument(
        "--preset",
        choices=list(PRESETS),
        default="default",
        help="budget: default (sized for about 90 min on 2 CPU cores), quick (checks the machinery in minutes, decides "
        "nothing), paper (the CLEAR reference's scale, for GPUs: batch 64, GradCache, 512 tokens, bf16)",
    )
    p.add_argument("--quick", action="store_true", help="shorthand for --preset quick")
    p.add_argument(
        "--nproc-per-node",
        type=int,
        default=1,
        metavar="N",
        help="train under torchrun with N processes (one per GPU; the reference used 4); default 1",
    )
    p.add_argument(
        "--experiments",
        default=",".join(DEFAULT_EXPERIMENTS),
        help="which experiments run: retrieval (claims 1-2), parallel (claim 3), per-language (claim 1 with one CLEAR "
        "and one InfoNCE model per language, as the paper trains them; two more training runs per language) "
        f"(default: {','.join(DEFAULT_EXPERIMENTS)})",
    )
    p.add_argument("--langs", default="de,zh-CN,eu,km", help="languages of claims 1-2 (default: de,zh-CN,eu,km)")
    p.add_argument(
        "--parallel-langs",
        default=",".join(DEFAULT_PARALLEL_LANGS),
        help=f"languages of claim 3, at least 4 (default: {','.join(DEFAULT_PARALLEL_LANGS)})",
    )
    p.add_argument(
        "--holdout-langs",
        default="default",
        metavar="LANGS",
        help="held-out panel of untrained languages (default: ja,ko,ru,el,tr,id minus every trained language; none)",
    )
    p.add_argument("--seeds", type=_int_list, default=[13], help="training seeds, comma-separated (default: 13)")
    p.add_argument(
        "--sts-data",
        action="append",
        default=[],
        metavar="FILE.jsonl",
        help="STS pairs scored for claim 3 (there is no built-in STS data); repeatable",
    )
    add_workflow_options(p, default_output=DEFAULT_OUTPUT, budget_fields=ReproduceBudget.__dataclass_fields__)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``reproduce`` from parsed arguments; prints the verdicts and tables, then the report directory."""
    from crossalign.workflows.reproduce import ReproduceConfig, run_reproduce

    output = workflow_output("reproduce", args.output)
    config = ReproduceConfig(
        output_dir=output,
        langs=args.langs,
        parallel_langs=args.parallel_langs,
        model=args.model,
        preset=args.preset,
        quick=args.quick,
        nproc_per_node=args.nproc_per_node,
        budget=dict(args.budget),
        seeds=tuple(args.seeds),
        holdout_langs=args.holdout_langs,
        experiments=tuple(x.strip() for x in args.experiments.split(",") if x.strip()),
        sts_data=tuple(args.sts_data),
        cache_dir=args.cache_dir,
        redo=args.redo,
    )
    result = run_reproduce(config)
    return print_workflow_result(result.text, result.report, result.output_dir)
