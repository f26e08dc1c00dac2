"""Module docstrings double as ``--help`` descriptions: this turns their reStructuredText markup into plain text."""

from __future__ import annotations

import argparse
import json
import re
from typing import Any

__all__ = ["CACHE_DIR_HELP", "add_command", "command_line", "help_text", "key_value"]

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
