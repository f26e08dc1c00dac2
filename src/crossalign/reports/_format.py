"""Shared vocabulary of the reports: direction classes, row languages, fingerprints and file names.

Numbers, metric labels and better/worse arrows come from :mod:`crossalign.evaluation.format`, the one formatter of
every output.
"""

from __future__ import annotations

import re

from crossalign.evaluation.format import MISSING, PIVOT

__all__ = ["direction_class", "direction_classes", "row_language", "short_fingerprint", "slug"]


def direction_classes(pivot: str = PIVOT) -> tuple[str, ...]:
    """Direction classes of single-language pools, in table order: ``en→en``, ``x→x``, ``x→en``, ``en→x``."""
    return (f"{pivot}→{pivot}", "x→x", f"x→{pivot}", f"{pivot}→x")


def direction_class(query_lang: str | None, doc_lang: str | None, *, pivot: str = PIVOT) -> str:
    """Classify a direction by ``query_lang``/``doc_lang`` (never by a name): ``en→en``, ``x→x``, ``x→en``, ``en→x``,
    ``x→y`` (two different non-pivot languages) or ``mixed`` (a pool of several languages). ``en`` stands for the
    pivot language."""
    p = pivot
    if doc_lang is None:
        return "mixed"
    if query_lang == pivot and doc_lang == pivot:
        return f"{p}→{p}"
    if query_lang == doc_lang:
        return "x→x"
    if doc_lang == pivot:
        return f"x→{p}"
    if query_lang == pivot:
        return f"{p}→x"
    return "x→y"


def row_language(query_lang: str | None, doc_lang: str | None, *, pivot: str = PIVOT) -> str:
    """The non-pivot language a cell belongs to (the pivot itself for pivot→pivot)."""
    if query_lang is not None and query_lang != pivot:
        return query_lang
    if doc_lang is not None and doc_lang != pivot:
        return doc_lang
    return pivot


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
