"""The text rules training and evaluation sets share: queries from headings, and one use of each text.

**Queries from headings.** A heading shared by several sections (``heading_shared > 1``: "Syntax:", "Example:") is
not a usable query: it matches hundreds of passages. :func:`disambiguate_heading` prefixes the page title in the same
language, ``"Title: heading"`` (rule ``"title"``, the default); a language without a translated title loses the
query. Rules ``"skip"`` (drop such headings) and ``"keep"`` (use them as they are) are options.

**De-duplication.** Within a split a text (compared by :func:`text_key`: case- and whitespace-insensitively) is used
once per language: the first item in corpus order keeps it.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

from crossalign.data.libreoffice.parse import normalize_space
from crossalign.errors import ConfigError

if TYPE_CHECKING:
    from crossalign.data.records import ParallelTuple
    from crossalign.data.sources import QueryItem

__all__ = ["SHARED_HEADING_RULES", "dedupe_queries", "dedupe_tuples", "disambiguate_heading", "text_key"]

#: Rules for headings shared by several sections (see the module docstring).
SHARED_HEADING_RULES: tuple[str, ...] = ("title", "skip", "keep")


def text_key(text: str) -> str:
    """Comparison key of a text: :func:`~crossalign.data.libreoffice.parse.normalize_space`, case folded."""
    return normalize_space(text).casefold()


def check_heading_rule(rule: str) -> str:
    """``rule`` if it is one of :data:`SHARED_HEADING_RULES`, else :class:`ConfigError`."""
    if rule not in SHARED_HEADING_RULES:
        raise ConfigError(
            f"unknown shared-heading rule {rule!r}", hint=f"choose one of {', '.join(SHARED_HEADING_RULES)}"
        )
    return rule


def disambiguate_heading(heading: str, title: str | None, shared: int, rule: str = "title") -> str | None:
    """The query text of a section heading, or None when the section gives no usable query in this language.

    Args:
        heading: The heading in one language.
        title: The page title in the same language (None if untranslated).
        shared: How many sections share the English heading (``SectionRecord.heading_shared``).
        rule: ``"title"`` (prefix the title to shared headings), ``"skip"`` (drop shared headings), ``"keep"``.

    Returns:
        ``heading`` when it is unique (or ``rule="keep"``, or it already *is* the page title); ``"title: heading"``
        for a shared heading under ``"title"``; None for a shared heading under ``"skip"`` or without a title.

    Raises:
        ConfigError: Unknown rule.

    Example:
        >>> disambiguate_heading("Syntax:", "SUM", 212)
        'SUM: Syntax:'
        >>> disambiguate_heading("Printing labels", "Labels", 1), disambiguate_heading("Syntax:", None, 212)
        ('Printing labels', None)
    """
    check_heading_rule(rule)
    heading = normalize_space(heading)
    if shared <= 1 or rule == "keep":
        return heading
    if rule == "skip":
        return None
    title = normalize_space(title or "")
    if not title:
        return None
    if text_key(title).rstrip(":") == text_key(heading).rstrip(":"):
        return heading  # the heading is the page title; a prefix would only repeat it
    return f"{title}: {heading}"


def dedupe_queries(items: Sequence[QueryItem], langs: Sequence[str]) -> tuple[list[QueryItem], dict[str, int]]:
    """Keep each query text once per language: the first item has it, later ones lose it (and other languages).

    Returns:
        The items with repeated queries removed, and how many were removed per language.
    """
    seen: dict[str, set[str]] = {lang: set() for lang in langs}
    removed: Counter[str] = Counter()
    out = []
    for it in items:
        queries = {}
        for lang in langs:
            text = it.queries.get(lang)
            if text is None:
                continue
            key = text_key(text)
            if key in seen[lang]:
                removed[lang] += 1
                continue
            seen[lang].add(key)
            queries[lang] = text
        out.append(dataclasses.replace(it, queries=queries))
    return out, dict(removed)


def dedupe_tuples(tuples: Sequence[ParallelTuple], langs: Sequence[str]) -> tuple[list[ParallelTuple], dict[str, int]]:
    """Drop a tuple when any of its texts in ``langs`` was already used (per language) by an earlier tuple.

    Returns:
        The kept tuples and, per language, how many tuples were dropped because of a repeat in that language.
    """
    seen: dict[str, set[str]] = {lang: set() for lang in langs}
    removed: Counter[str] = Counter()
    out = []
    for t in tuples:
        keys = {lang: text_key(t.texts[lang]) for lang in langs if lang in t.texts}
        clash = [lang for lang, k in keys.items() if k in seen[lang]]
        if clash:
            removed.update(clash)
            continue
        for lang, k in keys.items():
            seen[lang].add(k)
        out.append(t)
    return out, dict(removed)
