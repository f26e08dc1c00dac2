"""Shared vocabulary of the reports: short fingerprints and file names.

Numbers, metric labels, better/worse arrows and direction classes come from :mod:`crossalign.evaluation.format`, the
one formatter of every output.
"""

from __future__ import annotations

import re

from crossalign.evaluation.format import MISSING

__all__ = ["short_fingerprint", "slug"]


def short_fingerprint(fp: object, n: int = 12) -> str:
    """First ``n`` hex characters of a fingerprint (a ``sha256:`` style prefix is dropped)."""
    if not fp:
        return MISSING
    text = str(fp)
    if ":" in text:
        text = text.split(":", 1)[1]
    return text[:n]


def slug(text: str) -> str:
    """File-name-safe version of a label (``zh-CN→{en,zh-CN}`` → ``zh-CN-en-zh-CN``)."""
    s = re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-.")
    return s or "x"
