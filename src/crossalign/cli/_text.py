"""Module docstrings double as ``--help`` descriptions: this turns their reStructuredText markup into plain text."""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

__all__ = ["CACHE_DIR_HELP", "add_command", "command_line", "help_and_fail", "help_text", "int_at_least", "key_value"]

#: The one description of every command's ``--cache-dir`` (see :func:`crossalign.utils.cache.cache_root`).
CACHE_DIR_HELP = (
    "crossalign cache root: models, corpora, embeddings (default: $CROSSALIGN_CACHE, else ~/.cache/crossalign)"
)


def help_text(doc: str | None) -> str:
    """A docstring as terminal text: ``literal`` -> literal, a trailing ``::`` -> ``:``.

    Example:
        >>> help_text("Run ``crossalign demo``.\\n\\nExamples::\\n\\n    crossalign demo")
        'Run crossalign demo.\\n\\nExamples:\\n\\n    crossalign demo'
    """
    text = re.sub(r"``([^`]+)``", r"\1", doc or "")
    return re.sub(r"::$", ":", text, flags=re.MULTILINE)


def add_command(subparsers: Any, name: str, doc: str | None, help: str, **kwargs: Any) -> argparse.ArgumentParser:
    """Add the sub-command ``name``, whose ``--help`` description is the module docstring ``doc`` as plain text."""
    return subparsers.add_parser(
        name, help=help, description=help_text(doc), formatter_class=argparse.RawDescriptionHelpFormatter, **kwargs
    )


def help_and_fail(parser: argparse.ArgumentParser) -> int:
    """A command given without its action (or none at all): its help on standard output, exit code 2."""
    parser.print_help()
    return 2


def int_at_least(low: int) -> Any:
    """An argparse ``type``: an integer >= ``low``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < low:
            raise argparse.ArgumentTypeError(f"expected an integer >= {low}, got {text!r}")
        return value

    return parse


def key_value(text: str) -> tuple[str, Any]:
    """``KEY=VALUE`` (an argparse ``type``); VALUE is parsed as JSON when it can be (numbers, true/false, null,
    lists), else kept as a string."""
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    key, raw = text.split("=", 1)
    try:
        return key.strip(), json.loads(raw)
    except json.JSONDecodeError:
        return key.strip(), raw


def budget_item(text: str) -> tuple[str, Any]:
    """``KEY=VALUE`` of a workflow budget (an argparse ``type``): :func:`key_value` with ``-`` in KEY read as ``_``."""
    key, value = key_value(text)
    return key.replace("-", "_"), value


def add_workflow_options(p: argparse.ArgumentParser, *, default_output: str, budget_fields: Any) -> None:
    """The options every staged workflow (``demo``, ``reproduce``) takes: ``--budget``, ``--model``, ``--output``,
    ``--cache-dir``, ``--redo``."""
    p.add_argument(
        "--budget",
        action="append",
        type=budget_item,
        default=[],
        metavar="KEY=VALUE",
        help=f"override one budget field ({', '.join(budget_fields)}); lists as KEY=a,b; repeatable",
    )
    p.add_argument("--model", default="e5-small-q4", help="base model: built-in name, directory or HF id")
    p.add_argument("--output", default=default_output, help=f"report directory (default: ./{default_output})")
    p.add_argument("--cache-dir", default=None, help=CACHE_DIR_HELP)
    p.add_argument("--redo", action="store_true", help="ignore finished stages in --output and run everything again")


def workflow_output(name: str, output: str) -> Path:
    """The report directory of workflow ``name``, resolved and announced on standard error before any work."""
    path = Path(output).expanduser().resolve()
    print(f"crossalign {name}: writing the report to {path}", file=sys.stderr, flush=True)
    return path


def print_workflow_result(text: str, report: Path, output_dir: Path) -> int:
    """A finished workflow's printed text, report file and, as the last line of standard output, its directory."""
    print(f"\n{text}\n\nreport: {report}\n{output_dir}")
    return 0


def command_line(prog: str, parser: argparse.ArgumentParser, args: argparse.Namespace, *, every: bool = False) -> str:
    """The command that reproduces ``args`` (for a report's "How to reproduce"), built from ``parser``'s options in
    their order: positionals, then each option set to other than its default (``every``: each option with a value)."""
    import shlex

    parts = prog.split()
    for action in parser._actions:
        value = getattr(args, action.dest, None)
        if isinstance(action, argparse._HelpAction) or value is None:
            continue
        if not action.option_strings:
            parts += [str(v) for v in (value if isinstance(value, list) else [value])]
        elif isinstance(action, argparse._StoreTrueAction):
            parts += [action.option_strings[-1]] if value else []
        elif every or action.required or value != action.default:
            for v in value if isinstance(value, list) else [value]:
                parts += [action.option_strings[-1], f"{v:g}" if isinstance(v, float) else str(v)]
    return " ".join(shlex.quote(p) for p in parts)
