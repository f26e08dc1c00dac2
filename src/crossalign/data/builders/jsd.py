"""Rows for InfoNCE + JSD alignment (Hong et al. 2026; our reading of the unpublished loss).

One row per (section, target language x), in the order :class:`~crossalign.losses.JSDAlignmentLoss` reads them::

    query       the heading in x, q_x
    positive    the English section text d+
    query_en    the English heading q_en (its retrieval distribution is the JSD's reference)
    positive_x  the section text in x (optional column; the multi-reference pool has both d_en and d_x)

No mining: the loss's candidates are the batch's passages. Same splits, heading rule, de-duplication and caps as
CLEAR (:mod:`crossalign.data.builders.common`).

Example:
    >>> data = build_jsd("libreoffice", "de,km", max_rows=500)  # doctest: +SKIP
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from crossalign.data.builders.common import (
    BUILD_SPLITS,
    DEFAULT_SPLIT,
    ENGLISH,
    PathLike,
    QueryItem,
    SplitIndex,
    dedupe_queries,
    load_source,
    query_material,
    sample_in_order,
    seeded_rng,
    shuffle_rows,
    split_cap,
    target_languages,
)
from crossalign.data.builders.output import BuiltData, base_manifest
from crossalign.data.splits import SplitSpec

__all__ = ["build_jsd", "jsd_columns"]


def jsd_columns(with_positive_x: bool = True) -> list[str]:
    """``query, positive, query_en[, positive_x]``."""
    return ["query", "positive", "query_en", *(["positive_x"] if with_positive_x else [])]


def build_jsd(
    source: Any,
    langs: str | Iterable[str],
    *,
    with_positive_x: bool = True,
    max_rows: int | None = None,
    seed: int = 13,
    split: SplitSpec = DEFAULT_SPLIT,
    min_words: int = 4,
    shared_headings: str = "title",
    show_progress: bool | None = None,
    cache_dir: PathLike | None = None,
) -> BuiltData:
    """JSD + InfoNCE rows for the target languages ``langs``.

    Args:
        source: ``"libreoffice"``, a LibreOfficeCorpus, a ParallelCorpus of sections, a RetrievalSet or a path.
        langs: Target languages; English is the pivot.
        with_positive_x: Add ``positive_x`` (the section text in x); rows whose x passage is missing are dropped.
        max_rows: Train rows per target language (dev: proportional); None = all.
        seed: Row sampling and shuffling.
        split: Page-disjoint split; rows only from its train and dev pages.
        min_words: Minimum words of the English section text.
        shared_headings: ``"title"``, ``"skip"`` or ``"keep"`` (see :func:`~.common.disambiguate_heading`).
        show_progress: Progress bars (loading the corpus).
        cache_dir: crossalign cache root.

    Returns:
        :class:`~crossalign.data.builders.output.BuiltData` with columns ``query, positive, query_en[, positive_x]``.

    Raises:
        ConfigError, DataFormatError, UnknownLanguageError: As for :func:`~.clear.build_clear`.

    Example:
        >>> data = build_jsd("libreoffice", "hi")  # doctest: +SKIP
        >>> data.columns  # doctest: +SKIP
        ['query', 'positive', 'query_en', 'positive_x']
    """
    started = time.perf_counter()
    source = load_source(source, langs, cache_dir=cache_dir, show_progress=show_progress)
    targets = target_languages(source, langs)
    material = query_material(source, targets, min_words=min_words, shared_headings=shared_headings)
    sidx = SplitIndex(split)
    items_by: dict[str, list[QueryItem]] = {s: [] for s in BUILD_SPLITS}
    for it in material.items:
        s = sidx(it.group)
        if s in items_by:
            items_by[s].append(it)
    columns = jsd_columns(with_positive_x)
    rows: dict[str, list[dict[str, str]]] = {}
    meta: dict[str, list[dict[str, Any]]] = {}
    eligible: dict[str, dict[str, int]] = {}
    removed: dict[str, dict[str, int]] = {}
    for s in BUILD_SPLITS:
        items, removed[s] = dedupe_queries(items_by[s], [ENGLISH, *targets])
        cap = split_cap(max_rows, s, split)
        split_rows: list[dict[str, str]] = []
        split_meta: list[dict[str, Any]] = []
        eligible[s] = {}
        for x in targets:
            elig = [
                it
                for it in items
                if ENGLISH in it.queries
                and ENGLISH in it.passages
                and x in it.queries
                and (not with_positive_x or x in it.passages)
            ]
            eligible[s][x] = len(elig)
            for it in sample_in_order(elig, cap, seeded_rng(seed, "rows", s, x)):
                row = {"query": it.queries[x], "positive": it.passages[ENGLISH], "query_en": it.queries[ENGLISH]}
                if with_positive_x:
                    row["positive_x"] = it.passages[x]
                split_rows.append(row)
                split_meta.append({"lang": x, "id": it.id, "group": it.group})
        rows[s], meta[s] = shuffle_rows(split_rows, split_meta, seed, s)
    selection = {
        "unit": "one row per (section, target language)",
        "min_words": min_words,
        "shared_headings": shared_headings,
        "shared_heading_rule": "heading_shared > 1 -> 'Title: heading' in the same language (no title: no query)",
        "dedupe": "a query text (case/space-insensitive) is used once per language per split; the first section in "
        "corpus order keeps it",
        "with_positive_x": with_positive_x,
        "max_rows_per_language": {s: split_cap(max_rows, s, split) for s in BUILD_SPLITS},
        "eligible": eligible,
        "queries_removed_as_repeats": removed,
        "heading_rule_dropped": material.dropped,
    }
    col_langs = {"query": "x", "positive": "en", "query_en": "en"}
    if with_positive_x:
        col_langs["positive_x"] = "x"
    manifest, groups = base_manifest(
        fmt="jsd",
        columns=columns,
        row_languages=targets,
        languages=[ENGLISH, *targets],
        spec=split,
        split_index=sidx,
        source_provenance=material.provenance,
        seed=seed,
        started=started,
        selection=selection,
        column_languages=col_langs,
    )
    manifest["mining"] = None
    manifest["model"] = None
    manifest["notes"] = ["No hard negatives: the JSD compares retrieval distributions over the batch's passages."]
    return BuiltData("jsd", columns, rows, meta, manifest, groups)
