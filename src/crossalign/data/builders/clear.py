"""CLEAR rows and the InfoNCE baseline rows built from the same sections and the same mined negatives.

One CLEAR row per (section, target language x), columns in the order :class:`~crossalign.losses.CLEARLoss` reads
them::

    anchor        English heading q_en (the query)
    positive      English section text d+
    negative_1..n English section texts of other pages, mined for q_en (ranks ~30–100, see crossalign.data.mining)
    cross_anchor  the heading in x, q_x
    neg_query_1..n headings in x of other pages, mined for q_x among the x headings (same n: the KL needs equal widths)

The InfoNCE baseline of the CLEAR paper (q_x → English passage) gets the *same* rows, projected::

    anchor = q_x, positive = d+, negative_1..n = the same mined English passages

so the two methods train on exactly the same sections and negatives (the query negatives are mined for InfoNCE too,
only so that the same rows survive).

Several target languages go into one file, shuffled together (seeded); the CLEAR paper trains one model per
language — :meth:`~crossalign.data.builders.output.BuiltData.write` with ``per_language=True`` (CLI
``--per-language``) writes one dataset directory per language instead.

Example:
    >>> from crossalign.data.libreoffice import LibreOfficeCorpus  # doctest: +SKIP
    >>> data = build_clear(LibreOfficeCorpus.open("de"), ["de"], max_rows=500)  # doctest: +SKIP
    >>> data.write("runs/data/clear-de")  # doctest: +SKIP
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from crossalign.data.builders.options import BuildOptions, builder
from crossalign.data.builders.output import BuiltData, base_manifest
from crossalign.data.mining import MinedNegatives, mine_hard_negatives, resolve_encoder
from crossalign.data.sources import ENGLISH, QueryItem, QueryMaterial, query_material
from crossalign.data.splits import BUILD_SPLITS, SplitIndex, sample_in_order, seeded_rng, shuffle_rows, split_cap
from crossalign.data.text_rules import dedupe_queries
from crossalign.errors import ConfigError
from crossalign.utils.progress import stage

__all__ = ["build_clear", "build_infonce", "clear_columns", "infonce_columns", "infonce_from_clear", "query_rows"]


def clear_columns(n: int, n_query: int | None = None) -> list[str]:
    """CLEAR's columns for ``n`` passage negatives and ``n_query`` (default ``n``) query negatives, in the loss's order.

    Example:
        >>> clear_columns(2)
        ['anchor', 'positive', 'negative_1', 'negative_2', 'cross_anchor', 'neg_query_1', 'neg_query_2']
    """
    nq = n if n_query is None else n_query
    return [*infonce_columns(n), "cross_anchor", *(f"neg_query_{i}" for i in range(1, nq + 1))]


def infonce_columns(n: int) -> list[str]:
    """InfoNCE's columns: ``anchor, positive, negative_1..n``."""
    return ["anchor", "positive", *(f"negative_{i}" for i in range(1, n + 1))]


def query_rows(
    material: QueryMaterial,
    targets: Sequence[str],
    opts: BuildOptions,
    sidx: SplitIndex,
    eligible_if: Callable[[QueryItem, str], bool] = lambda it, x: True,
) -> dict[str, Any]:
    """Per split: the de-duplicated items and, per target language, the sampled eligible ones.

    An item is eligible for ``x`` when it has the English query and passage, the ``x`` query and ``eligible_if``.

    Returns:
        ``{"items": {split: [...]}, "selected": {split: {x: [...]}}, "selection": <the manifest's selection block>}``.
    """
    by_split = sidx.partition(material.items, lambda it: it.group)
    items: dict[str, list[QueryItem]] = {}
    selected: dict[str, dict[str, list[QueryItem]]] = {}
    eligible: dict[str, dict[str, int]] = {}
    removed: dict[str, dict[str, int]] = {}
    for s in BUILD_SPLITS:
        items[s], removed[s] = dedupe_queries(by_split[s], [ENGLISH, *targets])
        selected[s], eligible[s] = {}, {}
        for x in targets:
            elig = [
                it
                for it in items[s]
                if ENGLISH in it.queries and ENGLISH in it.passages and x in it.queries and eligible_if(it, x)
            ]
            eligible[s][x] = len(elig)
            cap = split_cap(opts.max_rows, s, opts.split)
            selected[s][x] = sample_in_order(elig, cap, seeded_rng(opts.seed, "rows", s, x))
    selection = {
        "unit": "one row per (section, target language)",
        "min_words": opts.min_words,
        "shared_headings": opts.shared_headings,
        "shared_heading_rule": "heading_shared > 1 -> 'Title: heading' in the same language (no title: no query)",
        "dedupe": "a query text (case/space-insensitive) is used once per language per split; the first section in "
        "corpus order keeps it",
        "max_rows_per_language": {s: split_cap(opts.max_rows, s, opts.split) for s in BUILD_SPLITS},
        "eligible": eligible,
        "queries_removed_as_repeats": removed,
        "heading_rule_dropped": material.dropped,
    }
    return {"items": items, "selected": selected, "selection": selection}


def _pool_groups(pool: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for g, t in pool:
        gs = out.setdefault(t, [])
        if g not in gs:
            gs.append(g)
    return out


def _groups_of(text_groups: dict[str, list[str]], texts: Sequence[str]) -> list[Any]:
    return [g[0] if len(g) == 1 else list(g) for g in (text_groups[t] for t in texts)]


def _mine(encoder: Any, anchors: Sequence[QueryItem], lang: str, pool: Sequence[tuple[str, str]], **kw: Any) -> Any:
    """:func:`~crossalign.data.mining.mine_hard_negatives` for the ``lang`` queries of ``anchors`` over a pool."""
    return mine_hard_negatives(
        encoder,
        [it.queries[lang] for it in anchors],
        [t for _, t in pool],
        anchor_groups=[it.group for it in anchors],
        candidate_groups=[g for g, _ in pool],
        anchor_prompt="query",
        **kw,
    )


def _mining_summary(m: MinedNegatives) -> dict[str, Any]:
    return {"pool": m.pool_size, "rank_range": list(m.rank_range), **m.stats}


def _build(fmt: str, source: Any, targets: list[str], opts: BuildOptions, started: float) -> BuiltData:
    config = opts.mining()
    q_config = opts.mining(query=fmt == "clear")
    material = query_material(source, targets, min_words=opts.min_words, shared_headings=opts.shared_headings)
    encoder, model_info = resolve_encoder(
        opts.model,
        batch_size=opts.batch_size,
        cache_dir=opts.cache_dir,
        query_prompt=opts.query_prompt,
        passage_prompt=opts.passage_prompt,
    )
    sidx = SplitIndex(opts.split)
    chosen = query_rows(material, targets, opts, sidx)
    pool_by = sidx.partition(material.pool, lambda gt: gt[0])
    n = config.num_negatives
    columns = clear_columns(n, q_config.num_negatives) if fmt == "clear" else infonce_columns(n)
    rows: dict[str, list[dict[str, str]]] = {}
    meta: dict[str, list[dict[str, Any]]] = {}
    dropped: dict[str, dict[str, dict[str, int]]] = {}
    mining: dict[str, Any] = {}
    for s in BUILD_SPLITS:
        items, selected = chosen["items"][s], chosen["selected"][s]
        anchor_ids = {it.id for x in targets for it in selected[x]}
        anchors = [it for it in items if it.id in anchor_ids]
        pool = sample_in_order(pool_by[s], opts.max_pool, seeded_rng(opts.seed, "pool", s, ENGLISH))
        stage(f"{fmt} {s}: {len(anchors):,} sections, pool of {len(pool):,} English passages")
        pool_groups = _pool_groups(pool)
        mined_p = _mine(
            encoder,
            anchors,
            ENGLISH,
            pool,
            positives=[it.passages[ENGLISH] for it in anchors],
            anchor_keys=[f"{it.id}\x00passage" for it in anchors],
            candidate_prompt="passage",
            config=config,
            what={"anchors": f"English queries ({s})", "candidates": f"English passages ({s})"},
        )
        row_of = {it.id: i for i, it in enumerate(anchors)}
        mining[s] = {"negative": _mining_summary(mined_p), "neg_query": {}}
        split_rows: list[dict[str, str]] = []
        split_meta: list[dict[str, Any]] = []
        dropped[s] = {"too_few_negatives": {}, "too_few_query_negatives": {}}
        for x in targets:
            qpool_all = [(it.group, it.queries[x]) for it in items if x in it.queries]
            qpool = sample_in_order(qpool_all, opts.max_pool, seeded_rng(opts.seed, "pool", s, x))
            q_groups = _pool_groups(qpool)
            sel = selected[x]
            mined_q = _mine(
                encoder,
                sel,
                x,
                qpool,
                positives=None,
                anchor_keys=[f"{it.id}\x00{x}" for it in sel],
                candidate_prompt="query",
                config=q_config,
                what={"anchors": f"{x} queries ({s})", "candidates": f"{x} queries ({s})"},
            )
            mining[s]["neg_query"][x] = _mining_summary(mined_q)
            short_p = short_q = 0
            for j, it in enumerate(sel):
                r = row_of[it.id]
                if not mined_p.ok[r]:
                    short_p += 1
                    continue
                if not mined_q.ok[j]:
                    short_q += 1
                    continue
                negs, q_negs = mined_p.texts(r), mined_q.texts(j)
                anchor = it.queries[ENGLISH] if fmt == "clear" else it.queries[x]
                row = {"anchor": anchor, "positive": it.passages[ENGLISH]}
                row.update({f"negative_{i}": t for i, t in enumerate(negs, 1)})
                m: dict[str, Any] = {
                    "lang": x,
                    "id": it.id,
                    "group": it.group,
                    "negative_groups": _groups_of(pool_groups, negs),
                    "negative_ranks": mined_p.ranks[r].tolist(),
                }
                if fmt == "clear":
                    row["cross_anchor"] = it.queries[x]
                    row.update({f"neg_query_{i}": t for i, t in enumerate(q_negs, 1)})
                    m["neg_query_groups"] = _groups_of(q_groups, q_negs)
                    m["neg_query_ranks"] = mined_q.ranks[j].tolist()
                split_rows.append(row)
                split_meta.append(m)
            dropped[s]["too_few_negatives"][x] = short_p
            dropped[s]["too_few_query_negatives"][x] = short_q
        rows[s], meta[s] = shuffle_rows(split_rows, split_meta, opts.seed, s)

    selection = {**chosen["selection"], "max_pool": opts.max_pool, "dropped": dropped}
    if fmt == "clear":
        col_langs = {
            "anchor": "en",
            "positive": "en",
            "negative_1..n": "en",
            "cross_anchor": "x",
            "neg_query_1..n": "x",
        }
    else:
        col_langs = {"anchor": "x", "positive": "en", "negative_1..n": "en"}
    manifest, groups = base_manifest(
        fmt, columns, targets, [ENGLISH, *targets], opts, sidx, material.provenance, started, selection, col_langs
    )
    manifest["mining"] = {
        **config.to_dict(),
        "max_pool": opts.max_pool,
        "negative": "English passages of other pages of the same split, ranked for the English query "
        "(query prompt) against passages (passage prompt)",
        "neg_query": "target-language queries of other pages of the same split, ranked for q_x (query prompt both)",
        "num_query_negatives": q_config.num_negatives,
        "excluded": "same page; the positive; any candidate whose text equals the positive or the anchor",
        "ranks": "1-based among eligible candidates; sampled uniformly from the window, written hardest first",
        "per_split": mining,
        "texts_encoded": encoder.n_encoded,
        "encode_seconds": round(encoder.seconds, 2),
    }
    manifest["model"] = model_info
    notes = []
    if q_config.num_negatives != n:
        notes.append(
            f"{n} passage negatives but {q_config.num_negatives} query negatives: train with CLEARLoss(use_kl=False) "
            "(the KL term compares the two distributions slot by slot and needs equal widths)."
        )
    notes += [
        "Languages are mixed in one file and shuffled; the CLEAR paper trains one model per language "
        "(write with per_language=True / --per-language for one directory per language).",
        "The same English anchor appears once per target language; use the no-duplicates batch sampler.",
    ]
    if fmt == "infonce":
        notes.append(
            "Built from the same sections, rows and mined passage negatives as 'clear' with the same arguments "
            "(the CLEAR paper's baseline: q_x -> English passage)."
        )
    manifest["notes"] = notes
    manifest["build_seconds"] = round(time.perf_counter() - started, 2)
    return BuiltData(fmt, columns, rows, meta, manifest, groups)


@builder("clear")
def build_clear(source: Any, targets: list[str], opts: BuildOptions, started: float) -> BuiltData:
    """CLEAR training rows (see the module docstring) for the target languages ``langs``.

    Args:
        source: ``"libreoffice"``, a LibreOfficeCorpus, a ParallelCorpus of sections, a RetrievalSet or a path
            (see :mod:`crossalign.data.sources`).
        langs: Target languages (``["de", "zh-CN"]`` or ``"de,zh-CN"``, parsed here once); English is the pivot.
        options: A :class:`~crossalign.data.builders.options.BuildOptions` (default: its defaults).
        show_progress: Progress bars and stage messages (None: the enclosing setting).
        **overrides: :class:`~crossalign.data.builders.options.BuildOptions` fields replacing those of ``options``
            (``max_rows=500``, ``negatives=5``, ``model=...``; the mined formats' fields and ``query_negatives``).

    Returns:
        :class:`~crossalign.data.builders.output.BuiltData` with columns ``anchor, positive, negative_1..n,
        cross_anchor, neg_query_1..n``.

    Raises:
        ConfigError: Invalid options (rank range narrower than ``negatives``, no target language, a field clear
            does not read, ...).
        DataFormatError: A source without queries.
        UnknownLanguageError: A language the source does not have.

    Example:
        >>> data = build_clear("libreoffice", ["de"], max_rows=100)  # doctest: +SKIP
        >>> print(data.summary_table())  # doctest: +SKIP
    """
    return _build("clear", source, targets, opts, started)


@builder("infonce")
def build_infonce(source: Any, targets: list[str], opts: BuildOptions, started: float) -> BuiltData:
    """InfoNCE baseline rows ``anchor = q_x, positive = English passage, negative_1..n = mined English passages``.

    The rows are CLEAR's rows for the same options, projected (same sections, same negatives); the arguments are
    :func:`build_clear`'s (without ``query_negatives``).

    Returns:
        :class:`~crossalign.data.builders.output.BuiltData` with columns ``anchor, positive, negative_1..n``.
    """
    return _build("infonce", source, targets, opts, started)


def infonce_from_clear(clear: BuiltData) -> BuiltData:
    """The InfoNCE baseline rows projected from built CLEAR rows, without mining again.

    Row for row: ``anchor = cross_anchor`` (q_x), ``positive`` and ``negative_1..n`` unchanged — the same rows,
    sections and mined passage negatives as :func:`build_infonce` with the same arguments would give, in the same
    order, at no encoding cost.

    Args:
        clear: :class:`~crossalign.data.builders.output.BuiltData` of format ``clear``.

    Returns:
        BuiltData of format ``infonce`` (columns ``anchor, positive, negative_1..n``; provenance and manifest kept,
        with the format, loss and columns updated and a note saying where the rows come from).

    Raises:
        ConfigError: ``clear`` is not CLEAR data.

    Example:
        >>> b = BuiltData("clear", clear_columns(1), {"train": [dict(anchor="Tables", positive="p", negative_1="n",
        ...               cross_anchor="Tabellen", neg_query_1="Bilder")]}, {"train": [{"lang": "de"}]}, {})
        >>> infonce_from_clear(b).rows["train"]
        [{'anchor': 'Tabellen', 'positive': 'p', 'negative_1': 'n'}]
    """
    if clear.format != "clear" or "cross_anchor" not in clear.columns:
        raise ConfigError(
            f"infonce_from_clear needs CLEAR rows, got format {clear.format!r}",
            hint="build them with build_clear (crossalign data build --format clear)",
        )
    n = sum(1 for c in clear.columns if c.startswith("negative_"))
    columns = infonce_columns(n)
    rows = {
        split: [{"anchor": r["cross_anchor"], **{c: r[c] for c in columns[1:]}} for r in split_rows]
        for split, split_rows in clear.rows.items()
    }
    meta = {
        split: [{k: v for k, v in m.items() if not k.startswith("neg_query")} for m in ms]
        for split, ms in clear.meta.items()
    }
    manifest = dict(clear.manifest)
    manifest.update(format="infonce", loss="infonce", columns=columns)
    if "column_languages" in manifest:
        manifest["column_languages"] = {"anchor": "x", "positive": "en", "negative_1..n": "en"}
    if "loss_description" in manifest:
        from crossalign.losses.registry import LOSSES

        manifest["loss_description"] = LOSSES["infonce"].description
    manifest["notes"] = [
        *[n for n in manifest.get("notes", []) if "KL" not in n],
        "Projected from CLEAR rows (anchor = cross_anchor): the same sections, rows and mined passage negatives "
        "(the CLEAR paper's baseline: q_x -> English passage).",
    ]
    return BuiltData("infonce", columns, rows, meta, manifest, dict(clear.groups))
