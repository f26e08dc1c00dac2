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
    >>> data = build_clear(LibreOfficeCorpus.open("de"), "de", max_rows=500)  # doctest: +SKIP
    >>> data.write("runs/data/clear-de")  # doctest: +SKIP
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
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
    mining_config,
    query_material,
    resolve_encoder,
    sample_in_order,
    seeded_rng,
    shuffle_rows,
    split_cap,
    target_languages,
)
from crossalign.data.builders.output import BuiltData, base_manifest
from crossalign.data.mining import DEFAULT_NUM_NEGATIVES, DEFAULT_RANK_RANGE, DEFAULT_REFERENCE_POOL, MinedNegatives
from crossalign.data.splits import SplitSpec
from crossalign.errors import ConfigError
from crossalign.models.registry import DEFAULT_MODEL
from crossalign.utils.progress import stage

__all__ = ["build_clear", "build_infonce", "clear_columns", "infonce_columns", "infonce_from_clear"]


def clear_columns(n: int, n_query: int | None = None) -> list[str]:
    """CLEAR's columns for ``n`` passage negatives and ``n_query`` (default ``n``) query negatives, in the loss's order.

    Example:
        >>> clear_columns(2)
        ['anchor', 'positive', 'negative_1', 'negative_2', 'cross_anchor', 'neg_query_1', 'neg_query_2']
    """
    nq = n if n_query is None else n_query
    return [
        "anchor",
        "positive",
        *(f"negative_{i}" for i in range(1, n + 1)),
        "cross_anchor",
        *(f"neg_query_{i}" for i in range(1, nq + 1)),
    ]


def infonce_columns(n: int) -> list[str]:
    """InfoNCE's columns: ``anchor, positive, negative_1..n``."""
    return ["anchor", "positive", *(f"negative_{i}" for i in range(1, n + 1))]


def _groups_of(text_groups: dict[str, list[str]], texts: Sequence[str]) -> list[Any]:
    return [g[0] if len(g) == 1 else list(g) for g in (text_groups[t] for t in texts)]


def _pool_groups(pool: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for g, t in pool:
        gs = out.setdefault(t, [])
        if g not in gs:
            gs.append(g)
    return out


def _mining_summary(m: MinedNegatives) -> dict[str, Any]:
    return {"pool": m.pool_size, "rank_range": list(m.rank_range), **m.stats}


def _build(
    fmt: str,
    source: Any,
    langs: str | Iterable[str],
    *,
    model: Any,
    negatives: int,
    query_negatives: int | None,
    max_rows: int | None,
    rank_range: Sequence[int] | str,
    reference_pool: int | None,
    max_score_ratio: float | None,
    max_pool: int | None,
    seed: int,
    split: SplitSpec,
    min_words: int,
    shared_headings: str,
    batch_size: int,
    show_progress: bool | None,
    cache_dir: PathLike | None,
    query_prompt: str | None = None,
    passage_prompt: str | None = None,
) -> BuiltData:
    started = time.perf_counter()
    config = mining_config(
        negatives=negatives,
        rank_range=rank_range,
        reference_pool=reference_pool,
        max_score_ratio=max_score_ratio,
        seed=seed,
        batch_size=batch_size,
    )
    q_config = config
    if query_negatives is not None and query_negatives != negatives:
        if fmt != "clear":
            raise ConfigError("query_negatives is a CLEAR option (InfoNCE rows have no query negatives)")
        q_config = mining_config(
            negatives=query_negatives,
            rank_range=rank_range,
            reference_pool=reference_pool,
            max_score_ratio=max_score_ratio,
            seed=seed,
            batch_size=batch_size,
        )
    if max_pool is not None and (not isinstance(max_pool, int) or max_pool < 1):
        raise ConfigError(f"max_pool must be a positive integer, got {max_pool!r}")
    source = load_source(source, langs, cache_dir=cache_dir, show_progress=show_progress)
    targets = target_languages(source, langs)
    material = query_material(source, targets, min_words=min_words, shared_headings=shared_headings)
    encoder, model_info = resolve_encoder(
        model,
        batch_size=batch_size,
        show_progress=show_progress,
        cache_dir=cache_dir,
        query_prompt=query_prompt,
        passage_prompt=passage_prompt,
    )
    sidx = SplitIndex(split)
    items_by: dict[str, list[QueryItem]] = {s: [] for s in BUILD_SPLITS}
    for it in material.items:
        s = sidx(it.group)
        if s in items_by:
            items_by[s].append(it)
    pool_by: dict[str, list[tuple[str, str]]] = {s: [] for s in BUILD_SPLITS}
    for g, text in material.pool:
        s = sidx(g)
        if s in pool_by:
            pool_by[s].append((g, text))

    n = config.num_negatives
    columns = clear_columns(n, q_config.num_negatives) if fmt == "clear" else infonce_columns(n)
    rows: dict[str, list[dict[str, str]]] = {}
    meta: dict[str, list[dict[str, Any]]] = {}
    eligible: dict[str, dict[str, int]] = {}
    removed: dict[str, dict[str, int]] = {}
    dropped: dict[str, dict[str, dict[str, int]]] = {}
    mining: dict[str, Any] = {}
    for s in BUILD_SPLITS:
        items, removed[s] = dedupe_queries(items_by[s], [ENGLISH, *targets])
        cap = split_cap(max_rows, s, split)
        selected: dict[str, list[QueryItem]] = {}
        eligible[s] = {}
        for x in targets:
            elig = [it for it in items if ENGLISH in it.queries and ENGLISH in it.passages and x in it.queries]
            eligible[s][x] = len(elig)
            selected[x] = sample_in_order(elig, cap, seeded_rng(seed, "rows", s, x))
        anchor_ids = {it.id for x in targets for it in selected[x]}
        anchors = [it for it in items if it.id in anchor_ids]
        pool = sample_in_order(pool_by[s], max_pool, seeded_rng(seed, "pool", s, ENGLISH))
        stage(f"{fmt} {s}: {len(anchors):,} sections, pool of {len(pool):,} English passages", show_progress)
        pool_groups = _pool_groups(pool)
        mined_p = encoder_mine(
            encoder,
            [it.queries[ENGLISH] for it in anchors],
            pool,
            groups=[it.group for it in anchors],
            positives=[it.passages[ENGLISH] for it in anchors],
            keys=[f"{it.id}\x00passage" for it in anchors],
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
            qpool = sample_in_order(qpool_all, max_pool, seeded_rng(seed, "pool", s, x))
            q_groups = _pool_groups(qpool)
            sel = selected[x]
            mined_q = encoder_mine(
                encoder,
                [it.queries[x] for it in sel],
                qpool,
                groups=[it.group for it in sel],
                positives=None,
                keys=[f"{it.id}\x00{x}" for it in sel],
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
                negs = mined_p.texts(r)
                q_negs = mined_q.texts(j)
                if fmt == "clear":
                    row = {"anchor": it.queries[ENGLISH], "positive": it.passages[ENGLISH]}
                    row.update({f"negative_{i}": t for i, t in enumerate(negs, 1)})
                    row["cross_anchor"] = it.queries[x]
                    row.update({f"neg_query_{i}": t for i, t in enumerate(q_negs, 1)})
                else:
                    row = {"anchor": it.queries[x], "positive": it.passages[ENGLISH]}
                    row.update({f"negative_{i}": t for i, t in enumerate(negs, 1)})
                m: dict[str, Any] = {
                    "lang": x,
                    "id": it.id,
                    "group": it.group,
                    "negative_groups": _groups_of(pool_groups, negs),
                    "negative_ranks": mined_p.ranks[r].tolist(),
                }
                if fmt == "clear":
                    m["neg_query_groups"] = _groups_of(q_groups, q_negs)
                    m["neg_query_ranks"] = mined_q.ranks[j].tolist()
                split_rows.append(row)
                split_meta.append(m)
            dropped[s]["too_few_negatives"][x] = short_p
            dropped[s]["too_few_query_negatives"][x] = short_q
        rows[s], meta[s] = shuffle_rows(split_rows, split_meta, seed, s)

    selection = {
        "unit": "one row per (section, target language)",
        "min_words": min_words,
        "shared_headings": shared_headings,
        "shared_heading_rule": "heading_shared > 1 -> 'Title: heading' in the same language (no title: no query)",
        "dedupe": "a query text (case/space-insensitive) is used once per language per split; the first section in "
        "corpus order keeps it",
        "max_rows_per_language": {s: split_cap(max_rows, s, split) for s in BUILD_SPLITS},
        "max_pool": max_pool,
        "eligible": eligible,
        "queries_removed_as_repeats": removed,
        "heading_rule_dropped": material.dropped,
        "dropped": dropped,
    }
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
        fmt=fmt,
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
    manifest["mining"] = {
        **config.to_dict(),
        "max_pool": max_pool,
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
    if q_config.num_negatives != n:
        notes_kl = [
            f"{n} passage negatives but {q_config.num_negatives} query negatives: train with CLEARLoss(use_kl=False) "
            "(the KL term compares the two distributions slot by slot and needs equal widths)."
        ]
    else:
        notes_kl = []
    manifest["notes"] = [
        *notes_kl,
        "Languages are mixed in one file and shuffled; the CLEAR paper trains one model per language "
        "(write with per_language=True / --per-language for one directory per language).",
        "The same English anchor appears once per target language; use the no-duplicates batch sampler.",
    ]
    if fmt == "infonce":
        manifest["notes"].append(
            "Built from the same sections, rows and mined passage negatives as 'clear' with the same arguments "
            "(the CLEAR paper's baseline: q_x -> English passage)."
        )
    manifest["build_seconds"] = round(time.perf_counter() - started, 2)
    return BuiltData(fmt, columns, rows, meta, manifest, groups)


def encoder_mine(
    encoder: Any,
    anchors: list[str],
    pool: Sequence[tuple[str, str]],
    *,
    groups: list[str],
    positives: list[str] | None,
    keys: list[str],
    candidate_prompt: str,
    config: Any,
    what: dict[str, str],
) -> MinedNegatives:
    """:func:`~crossalign.data.mining.mine_hard_negatives` over ``(group, text)`` pool entries."""
    from crossalign.data.mining import mine_hard_negatives

    return mine_hard_negatives(
        encoder,
        anchors,
        [t for _, t in pool],
        anchor_groups=groups,
        candidate_groups=[g for g, _ in pool],
        positives=positives,
        anchor_prompt="query",
        candidate_prompt=candidate_prompt,
        anchor_keys=keys,
        config=config,
        what=what,
    )


def build_clear(
    source: Any,
    langs: str | Iterable[str],
    *,
    model: Any = DEFAULT_MODEL,
    negatives: int = DEFAULT_NUM_NEGATIVES,
    query_negatives: int | None = None,
    max_rows: int | None = None,
    rank_range: Sequence[int] | str = DEFAULT_RANK_RANGE,
    reference_pool: int | None = DEFAULT_REFERENCE_POOL,
    max_score_ratio: float | None = None,
    max_pool: int | None = None,
    seed: int = 13,
    split: SplitSpec = DEFAULT_SPLIT,
    min_words: int = 4,
    shared_headings: str = "title",
    batch_size: int = 64,
    show_progress: bool | None = None,
    cache_dir: PathLike | None = None,
    query_prompt: str | None = None,
    passage_prompt: str | None = None,
) -> BuiltData:
    """CLEAR training rows (see the module docstring) for the target languages ``langs``.

    Args:
        source: ``"libreoffice"``, a LibreOfficeCorpus, a ParallelCorpus of sections, a RetrievalSet or a path
            (see :mod:`crossalign.data.builders.common`).
        langs: Target languages (``"de,zh-CN,hi,km"`` or a list); English is the pivot.
        model: The mining encoder: a model spec (default the built-in ``e5-small-q4``), a loaded SentenceTransformer,
            an encode function ``fn(texts, prompt_name)`` or a :class:`~crossalign.data.mining.TextEncoder`.
        negatives: Negatives per row, of each kind (passages and queries: CLEAR's KL needs equal widths).
        query_negatives: A different number of query negatives (then train with ``use_kl=False``); None: same.
        max_rows: Train rows per target language (dev: proportional); None = all.
        rank_range: ``(lo, hi)`` eligible ranks to sample negatives from (for pools >= ``reference_pool``).
        reference_pool: Pool size below which the window scales down (None: never).
        max_score_ratio: Positive-aware filter (e.g. 0.95); None: off.
        max_pool: Cap on each candidate pool (seeded sample; the window scales with it) to bound encoding time.
        seed: Sampling of rows, pools and negatives; row shuffling.
        split: Page-disjoint split; rows only from its train and dev pages.
        min_words: Minimum words of the English section text.
        shared_headings: ``"title"`` (default), ``"skip"`` or ``"keep"`` for headings shared by several sections.
        batch_size: Encoding batch size.
        show_progress: Progress bars and stage messages.
        cache_dir: crossalign cache root (corpus, built-in model).
        query_prompt, passage_prompt: Mining prompts overriding the model's own and its family's (None: not
            given; ``""``: none); see :func:`crossalign.models.prompts.apply_prompts`. The rows carry no prompt.

    Returns:
        :class:`~crossalign.data.builders.output.BuiltData` with columns ``anchor, positive, negative_1..n,
        cross_anchor, neg_query_1..n``.

    Raises:
        ConfigError: Invalid arguments (rank range narrower than ``negatives``, no target language, ...).
        DataFormatError: A source without queries.
        UnknownLanguageError: A language the source does not have.

    Example:
        >>> data = build_clear("libreoffice", "de", max_rows=100)  # doctest: +SKIP
        >>> print(data.summary_table())  # doctest: +SKIP
    """
    return _build(
        "clear",
        source,
        langs,
        model=model,
        negatives=negatives,
        query_negatives=query_negatives,
        max_rows=max_rows,
        rank_range=rank_range,
        reference_pool=reference_pool,
        max_score_ratio=max_score_ratio,
        max_pool=max_pool,
        seed=seed,
        split=split,
        min_words=min_words,
        shared_headings=shared_headings,
        batch_size=batch_size,
        show_progress=show_progress,
        cache_dir=cache_dir,
        query_prompt=query_prompt,
        passage_prompt=passage_prompt,
    )


def build_infonce(
    source: Any,
    langs: str | Iterable[str],
    *,
    model: Any = DEFAULT_MODEL,
    negatives: int = DEFAULT_NUM_NEGATIVES,
    max_rows: int | None = None,
    rank_range: Sequence[int] | str = DEFAULT_RANK_RANGE,
    reference_pool: int | None = DEFAULT_REFERENCE_POOL,
    max_score_ratio: float | None = None,
    max_pool: int | None = None,
    seed: int = 13,
    split: SplitSpec = DEFAULT_SPLIT,
    min_words: int = 4,
    shared_headings: str = "title",
    batch_size: int = 64,
    show_progress: bool | None = None,
    cache_dir: PathLike | None = None,
    query_prompt: str | None = None,
    passage_prompt: str | None = None,
) -> BuiltData:
    """InfoNCE baseline rows ``anchor = q_x, positive = English passage, negative_1..n = mined English passages``.

    The rows are CLEAR's rows for the same arguments, projected (same sections, same negatives); see
    :func:`build_clear` for the arguments.

    Returns:
        :class:`~crossalign.data.builders.output.BuiltData` with columns ``anchor, positive, negative_1..n``.

    Example:
        >>> data = build_infonce("libreoffice", "de,km", max_rows=100)  # doctest: +SKIP
    """
    return _build(
        "infonce",
        source,
        langs,
        model=model,
        negatives=negatives,
        query_negatives=None,
        max_rows=max_rows,
        rank_range=rank_range,
        reference_pool=reference_pool,
        max_score_ratio=max_score_ratio,
        max_pool=max_pool,
        seed=seed,
        split=split,
        min_words=min_words,
        shared_headings=shared_headings,
        batch_size=batch_size,
        show_progress=show_progress,
        cache_dir=cache_dir,
        query_prompt=query_prompt,
        passage_prompt=passage_prompt,
    )


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
