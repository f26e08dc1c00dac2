"""``crossalign data``: obtain corpora and describe them.

Actions:

- ``crossalign data fetch --source libreoffice --langs de,zh-CN,hi,km [--cache-dir DIR]`` obtains the help trees
  (installed, cached or ``apt-get download``), parses them and fills the parse cache, then says what it did;
- ``crossalign data stats [--source libreoffice] --langs en,de,km [--json FILE]`` prints per-language and pairwise
  counts of the aligned corpus (and writes them as JSON);
- ``crossalign data build --format clear|jsd|multiway|en-x|infonce|distill --langs de,zh-CN,hi,km --output DIR``
  builds training rows (hard negatives mined with ``--model`` for clear/infonce) from the train and dev pages and
  writes ``DIR/train.jsonl``, ``DIR/dev.jsonl`` and ``DIR/manifest.json``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from crossalign.cli._text import CACHE_DIR_HELP, add_command, help_and_fail

#: Corpora the ``--source`` option knows.
SOURCES: tuple[str, ...] = ("libreoffice",)


def _corpus_action(sub: Any, name: str, help: str, description: str) -> argparse.ArgumentParser:
    """The parser of an action over a corpus, with the options ``fetch`` and ``stats`` share."""
    p = sub.add_parser(name, help=help, description=description)
    p.add_argument("--source", choices=SOURCES, default="libreoffice", help="corpus to use (default: %(default)s)")
    p.add_argument(
        "--langs",
        required=True,
        help="comma-separated languages, BCP-47 (de,zh-CN,pt-BR) or 'all'; English is always loaded as the reference",
    )
    p.add_argument("--cache-dir", default=None, help=CACHE_DIR_HELP)
    p.add_argument(
        "--help-root",
        default=None,
        help="folder with installed help trees <LANG>/text/ (default: /usr/share/libreoffice/help)",
    )
    p.add_argument("--workers", type=int, default=None, help="parallel parsing processes (default: CPU count)")
    return p


def _register_fetch(sub: Any) -> None:
    p = _corpus_action(
        sub,
        "fetch",
        "obtain and parse a corpus so later loads are offline and fast",
        "Obtain each language's LibreOffice help (installed tree, crossalign cache, or `apt-get download` + "
        "`dpkg-deb -x` into the cache), parse its pages and cache the result.",
    )
    p.add_argument("--refresh", action="store_true", help="download the archive's current version even if cached")
    p.set_defaults(func=run_fetch)


def _register_stats(sub: Any) -> None:
    p = _corpus_action(
        sub,
        "stats",
        "per-language and pairwise counts of a corpus",
        "Load (fetching if needed) and align the corpus, then print pages, sections, paragraphs, words/characters "
        "per language, what aligns with English, what was dropped as untranslated, and pairwise aligned counts.",
    )
    p.add_argument("--min-words", type=int, default=4, help="minimum English words of aligned paragraphs/sections")
    p.add_argument("--json", metavar="FILE", default=None, help="also write the stats as JSON to FILE")
    p.add_argument("--no-download", action="store_true", help="fail instead of downloading missing languages")
    p.set_defaults(func=run_stats)


def _register_build(sub: Any) -> None:
    from crossalign.models.registry import DEFAULT_MODEL

    p = sub.add_parser(
        "build",
        help="build training rows for a method (clear, jsd, multiway, en-x, infonce, distill)",
        description=BUILD_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--format", required=True, choices=BUILD_FORMATS, help="row format = training method")
    p.add_argument("--langs", required=True, help="target languages, comma-separated (English is the pivot)")
    p.add_argument("--output", "-o", required=True, metavar="DIR", help="output directory (written atomically)")
    p.add_argument(
        "--source",
        default="libreoffice",
        metavar="libreoffice|PATH",
        help="'libreoffice' (default; every format), a parallel JSONL file (multiway, en-x, distill; clear, infonce "
        "and jsd when its tuples are sections with meta.headings) or a retrieval-set directory (clear, infonce, jsd)",
    )
    p.add_argument(
        "--max-rows",
        type=int,
        default=None,
        help="train rows per target language (multiway, en-x: train tuples); dev gets the same share as its pages",
    )
    p.add_argument("--seed", type=int, default=13, help="row sampling, negative sampling, shuffling (default 13)")
    p.add_argument("--min-words", type=int, default=4, help="minimum English words of a passage/paragraph")
    p.add_argument(
        "--split",
        default="0.8,0.1,0.1",
        metavar="TRAIN,DEV,TEST",
        help="page fractions (default 0.8,0.1,0.1 = SplitSpec(); use your evaluation sets' spec); rows come from train "
        "and dev pages only",
    )
    p.add_argument("--split-seed", type=int, default=13, help="seed of the page split (default 13)")
    p.add_argument("--per-language", action="store_true", help="one dataset directory per target language")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output directory")
    mined = p.add_argument_group("hard-negative mining (clear, infonce)")
    mined.add_argument("--model", default=None, metavar="SPEC", help=f"mining encoder (default {DEFAULT_MODEL})")
    mined.add_argument(
        "--negatives", type=int, default=None, help=f"negatives per row (default {DEFAULT_NUM_NEGATIVES})"
    )
    mined.add_argument(
        "--query-negatives",
        type=int,
        default=None,
        help="clear: a different number of query negatives (then train with use_kl=False; default: --negatives)",
    )
    mined.add_argument(
        "--rank-range",
        default=None,
        metavar="LO,HI",
        help=f"eligible ranks to sample from (default {DEFAULT_RANK_RANGE[0]},{DEFAULT_RANK_RANGE[1]}; scaled down "
        f"for pools under --reference-pool)",
    )
    mined.add_argument(
        "--reference-pool",
        type=int,
        default=None,
        help=f"pool size the rank range is meant for (default {DEFAULT_REFERENCE_POOL}; 0 = never scale)",
    )
    mined.add_argument(
        "--max-score-ratio", type=float, default=None, help="drop candidates above RATIO x the positive's score (0.95)"
    )
    mined.add_argument("--max-pool", type=int, default=None, help="cap each candidate pool (seeded sample)")
    mined.add_argument("--batch-size", type=int, default=None, help="encoding batch size (default 64)")
    mined.add_argument(
        "--query-prompt",
        default=None,
        metavar="TEXT",
        help="mining: prefix of queries, overriding the model's prompts ('' for none; default: the model's own, else "
        "its family's, e.g. 'query: ' for E5; printed and recorded in manifest.json). The rows carry no prompt",
    )
    mined.add_argument(
        "--passage-prompt",
        default=None,
        metavar="TEXT",
        help="mining: prefix of passages ('' for none; default as for --query-prompt)",
    )
    queries = p.add_argument_group("query formats (clear, infonce, jsd)")
    queries.add_argument(
        "--shared-headings",
        choices=SHARED_HEADING_RULES,
        default=None,
        help="headings shared by several sections: 'title' prefixes the page title (default), 'skip', 'keep'",
    )
    queries.add_argument("--no-positive-x", action="store_true", help="jsd: leave out the positive_x column")
    par = p.add_argument_group("parallel formats (multiway, en-x, distill)")
    par.add_argument("--units", default=None, help="paragraph (default), section, heading; comma-separated")
    par.add_argument("--no-english", action="store_true", help="multiway: leave English out of the tuples")
    p.add_argument("--cache-dir", default=None, help=CACHE_DIR_HELP)
    p.add_argument("--help-root", default=None, help="folder with installed help trees (libreoffice source)")
    p.add_argument("--no-download", action="store_true", help="fail instead of downloading missing languages")
    p.set_defaults(func=run_build)


#: The ``data`` actions, in ``--help`` order.
ACTIONS: list[Callable[[Any], None]] = [_register_fetch, _register_stats, _register_build]

#: Formats ``data build`` writes (the keys of crossalign.data.builders.training.FORMATS).
BUILD_FORMATS: tuple[str, ...] = ("clear", "jsd", "multiway", "en-x", "infonce", "distill")
# The library's defaults, repeated here so that `crossalign --help` does not import torch (crossalign.data.mining
# does); tests/unit/data/test_builders_cli.py checks they agree.
DEFAULT_NUM_NEGATIVES = 5
DEFAULT_RANK_RANGE = (30, 100)
DEFAULT_REFERENCE_POOL = 1000
SHARED_HEADING_RULES = ("title", "skip", "keep")

BUILD_DESCRIPTION = """\
Build training rows for one method from the train and dev pages of a corpus (never its test pages).

  format    columns                                                  source needs     mining
  clear     anchor, positive, negative_1..n, cross_anchor,           queries+passages yes
            neg_query_1..n
  infonce   anchor (q_x), positive (English), negative_1..n          queries+passages yes (same as clear)
  jsd       query, positive, query_en, positive_x                    queries+passages no
  multiway  one column per language (en, de, zh-CN, ...)             parallel text    no
  en-x      en, x  (same tuples and text budget as multiway)         parallel text    no
  distill   source, target  (add the teacher's label when training)  parallel text    no

Writes DIR/train.jsonl, DIR/dev.jsonl, DIR/manifest.json (+ DIR/provenance/). Load with
  datasets.load_dataset("json", data_files={"train": "DIR/train.jsonl", "dev": "DIR/dev.jsonl"})
"""


def register(subparsers: Any) -> None:
    """Add the ``data`` command and its actions to the top-level sub-parsers."""
    parser = add_command(subparsers, "data", __doc__, "obtain corpora (LibreOffice help) and describe them")
    sub = parser.add_subparsers(dest="data_command", metavar="ACTION", title="actions")
    for add in ACTIONS:
        add(sub)
    parser.set_defaults(func=lambda args: help_and_fail(parser))


def run_fetch(args: argparse.Namespace) -> int:
    """``crossalign data fetch``: obtain + parse + cache; prints one line per language."""
    from crossalign.data.libreoffice.corpus import fetch_languages
    from crossalign.utils.table import Table, print_tables

    t0 = time.perf_counter()
    results = fetch_languages(
        args.langs,
        cache_dir=args.cache_dir,
        help_root=args.help_root,
        refresh=args.refresh,
        workers=args.workers,
    )
    print(f"LibreOffice help: {len(results)} languages ready in {time.perf_counter() - t0:.1f} s")
    header = ("lang", "package", "version", "from", "pages", "parse", "seconds")
    rows = [
        (
            r.tree.lang,
            r.tree.package,
            r.tree.version,
            r.tree.source,
            str(r.pages),
            "parsed" if r.parsed_now else "cached",
            f"{r.seconds:.1f}",
        )
        for r in results
    ]
    print_tables([Table("", list(header), [list(r) for r in rows], align=list("llllrlr"))])
    if results:
        print(f"licence MPL-2.0; parse cache: {results[0].parse_cache.parent}")
        roots = sorted({str(r.tree.path.parent) for r in results})
        print(f"help trees: {', '.join(roots)} (one folder per language)")
    return 0


def run_stats(args: argparse.Namespace) -> int:
    """``crossalign data stats``: print the stats tables; with ``--json`` also write them."""
    from crossalign.data.libreoffice.corpus import LibreOfficeCorpus
    from crossalign.data.libreoffice.stats import corpus_stats, format_stats
    from crossalign.utils.atomic import atomic_write_json

    t0 = time.perf_counter()
    corpus = LibreOfficeCorpus.open(
        args.langs,
        cache_dir=args.cache_dir,
        help_root=args.help_root,
        download=not args.no_download,
        workers=args.workers,
    )
    stats = corpus_stats(corpus, min_words=args.min_words)
    stats["load_seconds"] = round(time.perf_counter() - t0, 2)
    print(format_stats(stats))
    per = stats["per_language"].values()
    versions = sorted({p["version"] for p in per})
    if len(versions) == 1:
        what = f"{len(stats['per_language'])} packages, all version {versions[0]}"
    else:
        what = ", ".join(sorted(f"{p['package'].removeprefix('libreoffice-help-')}={p['version']}" for p in per))
    print(f"\nPackages (MPL-2.0): {what}; loaded in {stats['load_seconds']} s.")
    if args.json:
        atomic_write_json(args.json, stats)
        print(f"wrote {args.json}")
    return 0


#: ``data build`` options passed to the builder as the BuildOptions field of the same name, and the switches that
#: set a field (field, value); the formats each applies to are ``FORMAT_OPTIONS``'.
_BUILD_OPTIONS: tuple[str, ...] = (
    "model", "negatives", "query_negatives", "rank_range", "reference_pool", "max_score_ratio", "max_pool",
    "batch_size", "query_prompt", "passage_prompt", "shared_headings", "units",
)  # fmt: skip
_BUILD_SWITCHES: dict[str, tuple[str, bool]] = {
    "no_positive_x": ("with_positive_x", False),
    "no_english": ("include_english", False),
}


def _split_spec(text: str, seed: int) -> Any:
    from crossalign.data.splits import SplitSpec
    from crossalign.errors import ConfigError

    try:
        parts = [float(x) for x in text.split(",")]
    except ValueError:
        parts = []
    if len(parts) != 3:
        raise ConfigError(
            f"--split must be three fractions TRAIN,DEV,TEST, got {text!r}", hint="e.g. --split 0.8,0.1,0.1"
        )
    return SplitSpec(parts[0], parts[1], parts[2], seed=seed)


def run_build(args: argparse.Namespace) -> int:
    """``crossalign data build``: build the rows, write the directory, print the rows per split and language."""
    from crossalign.data.builders.options import FORMAT_OPTIONS
    from crossalign.data.builders.training import build_training_data
    from crossalign.errors import ConfigError

    fmt = args.format
    kwargs: dict[str, Any] = {
        "max_rows": args.max_rows,
        "seed": args.seed,
        "min_words": args.min_words,
        "split": _split_spec(args.split, args.split_seed),
        "cache_dir": args.cache_dir,
        "help_root": args.help_root,
        "download": not args.no_download,
    }
    given = {o: (o, getattr(args, o)) for o in _BUILD_OPTIONS if getattr(args, o) is not None}
    given |= {o: field for o, field in _BUILD_SWITCHES.items() if getattr(args, o)}
    for option, (field, value) in given.items():
        if field not in FORMAT_OPTIONS[fmt]:
            flag = "--" + option.replace("_", "-")
            formats = ", ".join(sorted(f for f, fields in FORMAT_OPTIONS.items() if field in fields))
            raise ConfigError(f"{flag} does not apply to --format {fmt}", hint=f"{flag} is for {formats}")
        kwargs[field] = value
    if "rank_range" in kwargs:  # fail before loading a corpus or a model
        from crossalign.data.mining import parse_rank_range

        kwargs["rank_range"] = parse_rank_range(kwargs["rank_range"])
    if kwargs.get("reference_pool") == 0:
        kwargs["reference_pool"] = None
    if args.per_language and fmt == "multiway":
        raise ConfigError("--per-language does not apply to multiway rows (each row holds every language)")
    output = Path(args.output).expanduser()
    if output.exists() and not args.overwrite:
        raise ConfigError(f"{output} already exists", hint="choose another --output or pass --overwrite")

    t0 = time.perf_counter()
    data = build_training_data(fmt, args.source, args.langs, **kwargs)
    written = data.write(output, overwrite=args.overwrite, per_language=args.per_language)
    seconds = time.perf_counter() - t0
    print(f"{fmt}: {len(data.rows['train'])} train and {len(data.rows['dev'])} dev rows in {seconds:.1f} s")
    print(f"columns: {', '.join(data.columns)}")
    print(data.summary_table())
    mining = data.manifest.get("mining")
    if mining:
        model = data.manifest.get("model") or {}
        fp = (model.get("fingerprint") or "")[:12]
        print(
            f"negatives: {mining['num_negatives']} per kind from ranks {mining['rank_range'][0]}-"
            f"{mining['rank_range'][1]} (scaled for pools under {mining['reference_pool']}), mined with "
            f"{model.get('spec')} ({fp}); {mining['texts_encoded']} texts encoded in {mining['encode_seconds']} s"
        )
    budget = data.manifest.get("budget")
    if fmt == "en-x" and budget:
        train = budget["train"]
        print(
            f"budget: {train['en_x']['texts']} train texts = multiway's {train['multiway']['texts']}; use an en-x "
            f"batch of {budget['batch_size_ratio']:g} x the multiway batch (rows) for equal steps"
        )
    where = "one directory per language under " if args.per_language else ""
    print(f"wrote {where}{written} (manifest.json describes it)")
    return 0
