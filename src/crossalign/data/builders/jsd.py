"""Rows for InfoNCE + JSD alignment (Hong et al. 2026; our reading of the unpublished loss).

One row per (section, target language x), in the order :class:`~crossalign.losses.JSDAlignmentLoss` reads them::

    query       the heading in x, q_x
    positive    the English section text d+
    query_en    the English heading q_en (its retrieval distribution is the JSD's reference)
    positive_x  the section text in x (optional column; the multi-reference pool has both d_en and d_x)

No mining: the loss's candidates are the batch's passages. Same splits, heading rule, de-duplication and caps as
CLEAR (:func:`~crossalign.data.builders.clear.query_rows`).

Example:
    >>> data = build_jsd("libreoffice", ["de", "km"], max_rows=500)  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

from crossalign.data.builders.clear import query_rows
from crossalign.data.builders.options import BuildOptions, builder
from crossalign.data.builders.output import BuiltData, base_manifest
from crossalign.data.sources import ENGLISH, query_material
from crossalign.data.splits import BUILD_SPLITS, SplitIndex, shuffle_rows

__all__ = ["build_jsd", "jsd_columns"]


def jsd_columns(with_positive_x: bool = True) -> list[str]:
    """``query, positive, query_en[, positive_x]``."""
    return ["query", "positive", "query_en", *(["positive_x"] if with_positive_x else [])]


@builder("jsd")
def build_jsd(source: Any, targets: list[str], opts: BuildOptions, started: float) -> BuiltData:
    """JSD + InfoNCE rows for the target languages ``langs``.

    Args:
        source, langs, options, show_progress: As for :func:`~crossalign.data.builders.clear.build_clear`.
        **overrides: :class:`~crossalign.data.builders.options.BuildOptions` fields: ``max_rows``, ``seed``,
            ``split``, ``min_words``, ``shared_headings``, ``with_positive_x``, ``cache_dir``, ``help_root``,
            ``download``.

    Returns:
        :class:`~crossalign.data.builders.output.BuiltData` with columns ``query, positive, query_en[, positive_x]``.

    Raises:
        ConfigError, DataFormatError, UnknownLanguageError: As for :func:`~crossalign.data.builders.clear.build_clear`.

    Example:
        >>> build_jsd("libreoffice", ["hi"]).columns  # doctest: +SKIP
        ['query', 'positive', 'query_en', 'positive_x']
    """
    material = query_material(source, targets, min_words=opts.min_words, shared_headings=opts.shared_headings)
    sidx = SplitIndex(opts.split)
    with_x = opts.with_positive_x
    chosen = query_rows(material, targets, opts, sidx, lambda it, x: not with_x or x in it.passages)
    rows: dict[str, list[dict[str, str]]] = {}
    meta: dict[str, list[dict[str, Any]]] = {}
    for s in BUILD_SPLITS:
        split_rows: list[dict[str, str]] = []
        split_meta: list[dict[str, Any]] = []
        for x in targets:
            for it in chosen["selected"][s][x]:
                row = {"query": it.queries[x], "positive": it.passages[ENGLISH], "query_en": it.queries[ENGLISH]}
                if with_x:
                    row["positive_x"] = it.passages[x]
                split_rows.append(row)
                split_meta.append({"lang": x, "id": it.id, "group": it.group})
        rows[s], meta[s] = shuffle_rows(split_rows, split_meta, opts.seed, s)
    selection = {**chosen["selection"], "with_positive_x": with_x}
    col_langs = {"query": "x", "positive": "en", "query_en": "en", **({"positive_x": "x"} if with_x else {})}
    columns = jsd_columns(with_x)
    manifest, groups = base_manifest(
        "jsd", columns, targets, [ENGLISH, *targets], opts, sidx, material.provenance, started, selection, col_langs
    )
    manifest["notes"] = ["No hard negatives: the JSD compares retrieval distributions over the batch's passages."]
    return BuiltData("jsd", columns, rows, meta, manifest, groups)
