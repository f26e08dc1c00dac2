"""Module docstrings double as ``--help`` descriptions: this turns their reStructuredText markup into plain text."""

from __future__ import annotations

import argparse
import json
import re
from typing import Any

__all__ = ["CACHE_DIR_HELP", "help_text", "key_value"]

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
