"""``crossalign evaluate``: evaluate one or more models on the LibreOffice sets and/or your own data.

Examples::

    crossalign evaluate --model e5-small-q4 --suite all --langs de,zh-CN,hi,km --output eval-base
    crossalign evaluate --model e5-small-q4 --model runs/clear-de/model --label base --label clear-de \\
        --suite retrieval --langs de --output cmp
    crossalign evaluate --model e5-small-q4 --suite bitext --langs de,zh-CN,eu,km --non-english-pairs 6 --output bx
    crossalign evaluate --model runs/clear-de/model --data my-retrieval-set/ --data my-sts.jsonl --output mine
    crossalign evaluate --model e5-small-q4 --data beir/scifact --query-lang en --doc-lang en --split test --output sf
    crossalign evaluate --model e5-small-q4 --benchmark belebele:de,km --benchmark tatoeba --output bench
    crossalign evaluate --model e5-small-q4 --benchmark flores:de --benchmark-path ./flores_plus --output fl

Writes, for each model, ``DIR/<label>/`` with ``results.json`` (everything, per-query values included),
``report.md``, MTEB result files (``mteb/``) and TREC runs (``runs/``); then ``DIR/report.md`` (tables, plots,
comparison against the first model) and ``DIR/evaluation.json`` (labels and what was written). The layout is the
same for one model or several. A non-empty ``--output`` is refused unless ``--overwrite``. Prints the short tables
and, as the last line of standard output, the output directory.

Threads: ``crossalign`` sets ``OMP_WAIT_POLICY=PASSIVE`` unless it is already set (see :mod:`crossalign.cli.main`).
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from crossalign.cli._text import CACHE_DIR_HELP, add_command, command_line, int_at_least

SUITES = ("retrieval", "mixed-pool", "bitext", "sts", "all")


_positive_int, _non_negative_int = int_at_least(1), int_at_least(0)


def register(subparsers: Any) -> None:
    """Add the ``evaluate`` command to the top-level sub-parsers.

    Args:
        subparsers: The ``add_subparsers()`` object of the ``crossalign`` parser.
    """
    p = add_command(
        subparsers,
        "evaluate",
        __doc__,
        "evaluate models: retrieval in four directions, mixed pools, bitext mining, STS",
    )
    p.add_argument(
        "--model",
        action="append",
        required=True,
        metavar="SPEC",
        help="built-in name (e5-small-q4), model directory or Hugging Face id; repeat to compare models",
    )
    p.add_argument(
        "--suite",
        default="all",
        metavar="SUITE",
        help="retrieval, mixed-pool (with the inclination pool), bitext, sts (needs --data FILE.jsonl) or all; "
        "comma-separated for several (default: all)",
    )
    p.add_argument(
        "--langs",
        default=None,
        help="LibreOffice languages, e.g. de,zh-CN,hi,km (default: de,zh-CN,hi,km unless --data or --benchmark is "
        "given)",
    )
    p.add_argument(
        "--data",
        action="append",
        default=None,
        metavar="PATH",
        help="your data: a retrieval-set directory (queries.jsonl, corpus.jsonl, qrels.tsv) or an STS .jsonl file; "
        "repeatable",
    )
    p.add_argument(
        "--benchmark",
        action="append",
        default=None,
        metavar="NAME[:LANGS]",
        help="a standard benchmark read from the Hugging Face hub (or --benchmark-path): belebele, xquad-r, mlqa, "
        "tatoeba, bucc, flores, with languages after a colon (belebele:de,zh-CN; default: the benchmark's own), or "
        "an MTEB task as mteb:NAME[:SUBSETS] (needs mteb); repeatable",
    )
    p.add_argument(
        "--benchmark-path",
        action="append",
        default=None,
        metavar="[NAME=]DIR",
        help="read a --benchmark from a local copy in the hub's layout (huggingface-cli download --repo-type dataset "
        "ID --local-dir DIR) instead of the hub; NAME= says which benchmark when several are given; repeatable",
    )
    p.add_argument(
        "--query-lang",
        default=None,
        metavar="LANG",
        help="language of --data queries without a 'lang' field (BEIR folders have none), e.g. de",
    )
    p.add_argument(
        "--doc-lang",
        default=None,
        metavar="LANG",
        help="language of --data documents without a 'lang' field, e.g. en",
    )
    p.add_argument(
        "--split",
        default=None,
        metavar="NAME",
        help="split of a BEIR folder given with --data (its qrels/NAME.tsv, default test) and of each --benchmark "
        "(default: the benchmark's evaluation split)",
    )
    p.add_argument(
        "--label",
        action="append",
        default=None,
        metavar="NAME",
        help="the model's name in tables, plots, TREC tags and its output folder DIR/NAME/; repeat once per --model, "
        "in order (default: built-in name, or the model's folder: runs/clear-de/model -> clear-de)",
    )
    p.add_argument(
        "--query-prompt",
        default=None,
        metavar="TEXT",
        help="prefix of every query, overriding the model's prompts ('' for none; default: the model's own, else its "
        "family's from crossalign.models.prompts, e.g. 'query: ' for E5; the choice is printed and recorded)",
    )
    p.add_argument(
        "--passage-prompt",
        default=None,
        metavar="TEXT",
        help="prefix of every document / passage ('' for none; default as for --query-prompt)",
    )
    p.add_argument(
        "--output",
        required=True,
        metavar="DIR",
        help="output directory, created; must be empty or missing unless --overwrite. Layout: DIR/<label>/ per model "
        "(results.json, report.md, mteb/, runs/), DIR/report.md, DIR/plots/, DIR/evaluation.json",
    )
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="replace a previous evaluation in --output: removes only what it wrote (listed in DIR/evaluation.json)",
    )
    p.add_argument(
        "--base-model",
        default=None,
        metavar="SPEC",
        help="the model the --model(s) were trained from: evaluated too (label base); each model's held-out panel "
        "is compared with it (per-language deltas with 95%% bootstrap CIs) and the regression verdict is printed",
    )
    p.add_argument(
        "--holdout-langs",
        default="default",
        metavar="LANGS",
        help="held-out panel: LibreOffice languages not in --langs, evaluated on x->en and en->en retrieval and "
        "x<->en paragraph bitext (default: ja,ko,ru,el,tr,id minus --langs; none: no panel)",
    )
    p.add_argument(
        "--holdout-size",
        type=_positive_int,
        default=200,
        help="sections, gold paragraph pairs and distractors per side per held-out language (default 200)",
    )
    p.add_argument("--batch-size", type=_positive_int, default=32, help="model inputs per forward pass (default 32)")
    p.add_argument(
        "--max-sections", type=_positive_int, default=500, help="sections per language (default 500; all if fewer)"
    )
    p.add_argument(
        "--max-bitext-pairs", type=_positive_int, default=500, help="gold paragraph pairs per bitext set (default 500)"
    )
    p.add_argument(
        "--bitext-distractors",
        type=_non_negative_int,
        default=500,
        help="distractor paragraphs per side of a bitext set (default 500)",
    )
    p.add_argument(
        "--non-english-pairs",
        default="auto",
        metavar="PAIRS",
        help="bitext pairs without English, besides every x-en pair: auto (default: the first two --langs), none, a "
        "number N (N pairs of --langs in a fixed order: 1st:2nd, 3rd:4th, ..., then 2nd:3rd, ..., then farther apart; "
        "every language is in one of the first pairs), or SRC:TGT pairs separated by commas, e.g. "
        "de:zh-CN,eu:km (':' inside a pair, since tags contain '-')",
    )
    p.add_argument("--seed", type=int, default=13, help="sampling seed of the LibreOffice sets (default 13)")
    p.add_argument(
        "--metrics",
        default=None,
        help="retrieval metrics, comma-separated; the first is the main score "
        "(default: ndcg@10,recall@1,recall@10,recall@100,mrr@10,map@100)",
    )
    p.add_argument("--faiss", action="store_true", help="search retrieval pools with faiss (needs faiss-cpu)")
    p.add_argument(
        "--long-text", choices=("truncate", "window"), default="truncate", help="texts longer than the model: "
        "truncate (default) or average windows"
    )  # fmt: skip
    p.add_argument(
        "--precision",
        choices=("fp32", "bf16", "auto"),
        default="auto",
        help="encoder arithmetic: auto (default: bf16 on the openvino backend on a CPU with avx512_bf16/amx_bf16, "
        "else fp32; $CROSSALIGN_PRECISION overrides), fp32, or bf16; recorded in the results",
    )
    p.add_argument(
        "--backend",
        choices=("torch", "openvino", "auto"),
        default="auto",
        help="encoder runtime: auto (default: openvino when installed and the model converts, else torch; "
        "$CROSSALIGN_BACKEND overrides), torch, or openvino (the transformer compiled by OpenVINO, exported once per "
        "model fingerprint; needs crossalign[openvino]); recorded in the results",
    )
    p.add_argument("--device", default=None, help="torch device (default: sentence-transformers' choice)")
    p.add_argument("--cache-dir", default=None, help=CACHE_DIR_HELP)
    p.add_argument(
        "--no-embedding-cache", action="store_true", help="do not keep embeddings on disk for later evaluations"
    )
    p.add_argument("--write-sets", action="store_true", help="also write the evaluation sets to DIR/eval_sets/")
    p.add_argument("--no-trec", action="store_true", help="do not write TREC run files")
    p.add_argument(
        "--trec-depth", type=_positive_int, default=None, help="documents per query in the TREC runs (default 100)"
    )
    p.add_argument("--no-mteb", action="store_true", help="do not write MTEB result files")
    p.set_defaults(func=run_evaluate, parser=p)


def _benchmark_paths(args: argparse.Namespace) -> dict[str, str]:
    """``--benchmark-path`` values by benchmark name (a bare DIR belongs to the only --benchmark)."""
    from crossalign.data.benchmarks import parse_benchmark_spec
    from crossalign.errors import ConfigError

    names = [parse_benchmark_spec(b)[0] for b in args.benchmark or []]
    out: dict[str, str] = {}
    for item in args.benchmark_path or []:
        name, sep, path = item.partition("=")
        if not sep:
            if len(names) != 1:
                raise ConfigError(
                    f"--benchmark-path {item} does not say which of {len(names)} benchmarks it is for",
                    hint="write it as NAME=DIR, e.g. --benchmark-path belebele=./belebele",
                )
            name, path = names[0], item
        name = name.strip().lower() if not name.lower().startswith("mteb:") else name.strip()
        if name not in names:
            raise ConfigError(
                f"--benchmark-path names {name!r}, which no --benchmark asks for",
                hint=f"add --benchmark {name}, or fix the name (given: {', '.join(names) or 'none'})",
            )
        out[name] = path
    return out


def _read_data(args: argparse.Namespace) -> list[Any] | None:
    """Read every ``--data`` path and ``--benchmark`` once, with the default languages and split (errors before any
    model loads)."""
    from crossalign.data.benchmarks import parse_benchmark_spec
    from crossalign.errors import ConfigError
    from crossalign.evaluation.suites import benchmark_user_data, load_user_data

    given = [f"--{k.replace('_', '-')}" for k in ("query_lang", "doc_lang") if getattr(args, k, None)]
    if given and not args.data:
        raise ConfigError(
            f"{', '.join(given)} applies to --data, and no --data is given",
            hint="add --data DIR (a retrieval set or a BEIR folder), or drop " + ", ".join(given),
        )
    if args.split and not args.data and not args.benchmark:
        raise ConfigError(
            "--split applies to --data (a BEIR folder) and --benchmark, and neither is given",
            hint="add --data DIR or --benchmark NAME, or drop --split",
        )
    if args.benchmark_path and not args.benchmark:
        raise ConfigError(
            "--benchmark-path needs a --benchmark", hint="add --benchmark NAME, e.g. --benchmark belebele"
        )
    paths = _benchmark_paths(args)
    out: list[Any] = []
    for p in args.data or []:
        out.append(load_user_data(p, query_lang=args.query_lang, doc_lang=args.doc_lang, split=args.split))
    for b in args.benchmark or []:
        name = parse_benchmark_spec(b)[0]
        u = benchmark_user_data(b, split=args.split, path=paths.get(name), cache_dir=None)
        skipped = (u.benchmark or {}).get("source", {}).get("skipped_subsets")
        if skipped:
            names = skipped["subsets"]
            print(
                f"note: {name}: {len(names)} subsets left out ({skipped['why']}): {', '.join(names[:12])}"
                f"{', ...' if len(names) > 12 else ''}",
                file=sys.stderr,
            )
        out.append(u)
    return out or None


def run_evaluate(args: argparse.Namespace) -> int:
    """Run the evaluation, print the short tables, and print the output directory last.

    Args:
        args: Parsed arguments.

    Returns:
        Exit code 0.

    Raises:
        CrossalignError: Bad options, models or data (printed by the CLI without a traceback).
    """
    from crossalign.reports.tables import summary_tables
    from crossalign.utils.table import print_tables
    from crossalign.workflows.evaluate import EvaluateConfig, check_model_specs, check_output, evaluate

    # before any data is read: the labels, the output directory and the model paths
    check_output(args.output, args.model, args.label, overwrite=args.overwrite)
    check_model_specs(args.model, args.cache_dir)
    # every option is checked before any data is read; the data entries stand in for what _read_data returns (one
    # dataset per --data and --benchmark), so the default languages are decided the same way
    config = EvaluateConfig(
        suites=args.suite,
        langs=args.langs,
        data=[*(args.data or []), *(args.benchmark or [])],
        output_dir=args.output,
        labels=args.label,
        batch_size=args.batch_size,
        long_text=args.long_text,
        precision=args.precision,
        backend=args.backend,
        max_sections=args.max_sections,
        max_bitext_pairs=args.max_bitext_pairs,
        bitext_distractors=args.bitext_distractors,
        non_english_pairs=args.non_english_pairs,
        seed=args.seed,
        use_faiss=args.faiss,
        cache_dir=args.cache_dir,
        persist_embeddings=not args.no_embedding_cache,
        device=args.device,
        write_trec=not args.no_trec,
        trec_depth=args.trec_depth,
        write_mteb=not args.no_mteb,
        write_sets=args.write_sets,
        overwrite=args.overwrite,
        query_prompt=args.query_prompt,
        passage_prompt=args.passage_prompt,
        reproduce=command_line("crossalign evaluate", args.parser, args),
        holdout_langs=args.holdout_langs,
        holdout_size=args.holdout_size,
        **({"metrics": args.metrics} if args.metrics else {}),
    )
    config = EvaluateConfig.from_options(config, data=_read_data(args) or [])
    t0 = time.perf_counter()
    results = evaluate(
        args.model, config, base_model=args.base_model, log=lambda line: print(line, file=sys.stderr, flush=True)
    )
    wall = time.perf_counter() - t0
    for r in results:
        stages = ", ".join(f"{k} {v:.1f}s" for k, v in r.timing.items() if k != "total")
        print_tables(
            [
                f"== {r.label} (fingerprint {str(r.model.get('fingerprint') or '')[:12]})",
                *summary_tables(r),
                f"time: {stages}; total {r.timing.get('total', 0.0):.1f}s",
                "",
            ]
        )
    skipped = results[0].config.get("suites_skipped") if results else None
    if skipped:
        for suite, why in skipped.items():
            print(f"note: suite {suite} skipped: {why}", file=sys.stderr)
    for r in results:
        verdict = r.holdout.get("verdict") if r.holdout else None
        if verdict:
            print(f"{r.label}: {verdict['claim']}: {'yes' if verdict['holds'] else 'NO'} ({verdict['detail']})")
    print(f"wall time {wall:.1f}s")
    sys.stdout.flush()
    print(args.output)
    return 0
