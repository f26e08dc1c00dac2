"""``crossalign data``: obtain corpora and describe them.

Actions (each registers itself on the ``data`` sub-parser; ``build`` is added by the data-builder module):

- ``crossalign data fetch --source libreoffice --langs de,zh-CN,hi,km [--cache-dir DIR]`` obtains the help trees
  (installed, cached or ``apt-get download``), parses them and fills the parse cache, then says what it did;
- ``crossalign data stats [--source libreoffice] --langs en,de,km [--json FILE]`` prints per-language and pairwise
  counts of the aligned corpus (and writes them as JSON).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

#: Corpora the ``--source`` option knows.
SOURCES: tuple[str, ...] = ("libreoffice",)


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--source", choices=SOURCES, default="libreoffice", help="corpus to use (default: %(default)s)")
    p.add_argument(
        "--langs",
        required=True,
        help="comma-separated languages, BCP-47 (de,zh-CN,pt-BR) or 'all'; English is always loaded as the reference",
    )
    p.add_argument("--cache-dir", default=None, help="crossalign cache root (default: $CROSSALIGN_CACHE or ~/.cache)")
    p.add_argument(
        "--help-root",
        default=None,
        help="folder with installed help trees <LANG>/text/ (default: /usr/share/libreoffice/help)",
    )
    p.add_argument("--workers", type=int, default=None, help="parallel parsing processes (default: CPU count)")


def _register_fetch(sub: Any) -> None:
    p = sub.add_parser(
        "fetch",
        help="obtain and parse a corpus so later loads are offline and fast",
        description="Obtain each language's LibreOffice help (installed tree, crossalign cache, or `apt-get "
        "download` + `dpkg-deb -x` into the cache), parse its pages and cache the result.",
    )
    _add_common(p)
    p.add_argument("--refresh", action="store_true", help="download the archive's current version even if cached")
    p.set_defaults(func=run_fetch)


def _register_stats(sub: Any) -> None:
    p = sub.add_parser(
        "stats",
        help="per-language and pairwise counts of a corpus",
        description="Load (fetching if needed) and align the corpus, then print pages, sections, paragraphs, "
        "words/characters per language, what aligns with English, what was dropped as untranslated, and "
        "pairwise aligned counts.",
    )
    _add_common(p)
    p.add_argument("--min-words", type=int, default=4, help="minimum English words of aligned paragraphs/sections")
    p.add_argument("--json", metavar="FILE", default=None, help="also write the stats as JSON to FILE")
    p.add_argument("--no-download", action="store_true", help="fail instead of downloading missing languages")
    p.set_defaults(func=run_stats)


#: The ``data`` actions, in ``--help`` order. The builder module appends its own registrar (``build``).
ACTIONS: list[Callable[[Any], None]] = [_register_fetch, _register_stats]


def register(subparsers: Any) -> None:
    """Add the ``data`` command and its actions to the top-level sub-parsers."""
    parser = subparsers.add_parser(
        "data",
        help="obtain corpora (LibreOffice help) and describe them",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="data_command", metavar="ACTION", title="actions")
    for add in ACTIONS:
        add(sub)
    parser.set_defaults(func=lambda args: (parser.print_help(), 2)[1])


def run_fetch(args: argparse.Namespace) -> int:
    """``crossalign data fetch``: obtain + parse + cache; prints one line per language."""
    from crossalign.data.libreoffice.corpus import fetch_languages

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
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(header)]
    for row in (header, *rows):
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
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
