"""Rows from parallel text: multi-way tuples, the En–X baseline with the same budget, and distillation pairs.

**Multi-way** (Fazili & Goswami 2026): one row per meaning, one column per language code (``en, de, zh-CN, hi,
km``), from aligned paragraphs (≥ ``min_words`` English words; default) and/or section texts. Rows are complete:
a tuple missing any requested language is dropped — there is deliberately no option to allow gaps, because the loss
reads every column of every row. A low-resource language therefore limits the whole set (Hindi has ~2,000 translated
help paragraphs against ~23,500 German ones); the manifest reports how many tuples each language has and how many
survive.

**En–X with the same budget.** The baseline trains on English-centric pairs ``(en, x)`` from the *same* tuples,
with ``x`` drawn from the same language pool. "Same budget" here means **the same number of texts per optimisation
step and the same number of steps** (hence the same number of texts per epoch): for ``T`` multi-way rows of ``N``
languages (``T·N`` texts), En–X has ``R = ⌊T·N/2⌋`` rows of 2 texts. The training side honours it by using an En–X
batch of ``N/2`` times the multi-way batch in rows (multi-way 32 rows × 5 texts = 160 texts per step ↔ En–X 80 rows
× 2 texts); both then run ``T / batch`` steps per epoch. Construction: tuples in seeded order, tuple ``i`` gives
``⌊(i+1)R/T⌋ − ⌊iR/T⌋`` pairs (``⌊N/2⌋`` or ``⌈N/2⌉``), their languages taken in turn from a seeded cycle of the
target languages, so every tuple's English is used 2–3 times, no tuple repeats a language, and the languages get
equal shares (±1). The manifest's ``budget`` block gives the numbers per split.

**Distillation** (Reimers & Gurevych 2020): rows ``(source = English, target = x)`` for every tuple and target
language it has (tuples need not be complete). The training side adds the teacher's embedding of ``source`` as the
``label`` column (:func:`crossalign.losses.distillation.add_teacher_embeddings`).

Example:
    >>> mw = build_multiway("libreoffice", ["de", "zh-CN", "hi", "km"])  # doctest: +SKIP
    >>> enx = build_enx("libreoffice", ["de", "zh-CN", "hi", "km"])  # doctest: +SKIP
    >>> enx.manifest["budget"]["train"]["texts"] == mw.manifest["budget"]["train"]["texts"]  # doctest: +SKIP
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from crossalign.data.builders.options import BuildOptions, builder
from crossalign.data.builders.output import BuiltData, base_manifest
from crossalign.data.records import ParallelCorpus, ParallelTuple
from crossalign.data.sources import ENGLISH, parallel_material, tuple_group
from crossalign.data.splits import BUILD_SPLITS, SplitIndex, sample_in_order, seeded_rng, shuffle_rows, split_cap
from crossalign.data.text_rules import dedupe_tuples
from crossalign.errors import ConfigError
from crossalign.utils.progress import stage

__all__ = ["build_distill", "build_enx", "build_multiway", "enx_pairs_per_tuple"]

_BUDGET_DEFINITION = (
    "same number of texts per step and same number of steps as the multiway build with the same arguments: "
    "en-x rows R = floor(T*N/2) for T multiway rows of N languages; train en-x with a batch of N/2 x the multiway "
    "batch (in rows), e.g. multiway 32 rows x 5 texts = en-x 80 rows x 2 texts = 160 texts per step"
)


def _columns(targets: list[str], include_english: bool) -> list[str]:
    columns = [ENGLISH, *targets] if include_english else targets
    if len(columns) < 2:
        raise ConfigError(
            f"multi-way rows need at least two languages, got {columns}",
            hint="add target languages or keep English (include_english=True)",
        )
    return columns


def _selection(opts: BuildOptions) -> dict[str, Any]:
    return {
        "units": list(opts.units),
        "min_words": opts.min_words,
        "dedupe": "a text (case/space-insensitive) is used once per language per split; a tuple repeating any of "
        "its texts is dropped",
        "max_rows": {s: split_cap(opts.max_rows, s, opts.split) for s in BUILD_SPLITS},
    }


def _complete_tuples(
    source: Any, columns: Sequence[str], opts: BuildOptions, sidx: SplitIndex
) -> tuple[dict[str, list[ParallelTuple]], dict[str, Any], dict[str, Any]]:
    """Complete tuples per split (de-duplicated, capped), the coverage block and the provenance."""
    kw = {"units": opts.units, "min_words": opts.min_words}
    full = parallel_material(source, columns, require_all=True, **kw)
    by_split = sidx.partition(full, tuple_group)
    available: dict[str, dict[str, int]] = {s: dict.fromkeys(columns, 0) for s in BUILD_SPLITS}
    for s, ts in sidx.partition(parallel_material(source, columns, require_all=False, **kw), tuple_group).items():
        for t in ts:
            for lang in columns:
                available[s][lang] += lang in t.texts
    out: dict[str, list[ParallelTuple]] = {}
    removed: dict[str, dict[str, int]] = {}
    complete: dict[str, int] = {}
    for s in BUILD_SPLITS:
        kept, removed[s] = dedupe_tuples(by_split[s], columns)
        complete[s] = len(kept)
        cap = split_cap(opts.max_rows, s, opts.split)
        out[s] = sample_in_order(kept, cap, seeded_rng(opts.seed, "rows", s, "multiway"))
    if not any(complete.values()):
        have = {lang: _tuples_with(source, lang, opts.units) for lang in columns}
        missing = [lang for lang, n in have.items() if n == 0]
        counts = ", ".join(f"{lang} {n if n >= 0 else '?'}" for lang, n in have.items())
        raise ConfigError(
            f"no tuple of the source has every language of {', '.join(columns)} (tuples with each: {counts}), so "
            "the dataset would be empty.",
            hint=f"drop {', '.join(missing)} from --langs, or add texts in it to the source"
            if missing
            else "choose languages that occur in the same tuples",
        )
    coverage = {
        "tuples_with_language": available,
        "complete_tuples": complete,
        "removed_as_repeats": removed,
        "rule": "rows must be complete: a tuple missing any requested language is dropped (no option to allow "
        "missing languages: the loss reads every column of every row)",
    }
    return out, coverage, {**full.provenance}


def _tuples_with(source: Any, lang: str, units: Sequence[str]) -> int:
    """How many tuples of ``source`` have a text in ``lang`` (for the error when no tuple has them all)."""
    if isinstance(source, ParallelCorpus):
        return sum(1 for t in source.tuples if lang in t.texts)
    try:
        return len(parallel_material(source, [lang], units=units, min_words=0, require_all=True))
    except Exception:  # a source that cannot count one language alone: reported as unknown
        return -1


def enx_pairs_per_tuple(n_tuples: int, n_languages: int) -> list[int]:
    """How many En–X pairs each of ``n_tuples`` tuples of ``n_languages`` languages gives under the same budget.

    The total is ``⌊T·N/2⌋`` and every tuple gives ``⌊N/2⌋`` or ``⌈N/2⌉`` pairs.

    Example:
        >>> enx_pairs_per_tuple(4, 5), sum(enx_pairs_per_tuple(3, 5))
        ([2, 3, 2, 3], 7)
    """
    total = n_tuples * n_languages // 2
    return [(i + 1) * total // n_tuples - i * total // n_tuples for i in range(n_tuples)]


@builder("multiway")
def build_multiway(source: Any, targets: list[str], opts: BuildOptions, started: float) -> BuiltData:
    """Multi-way parallel rows: one column per language (English first), complete rows only.

    Args:
        source: ``"libreoffice"``, a LibreOfficeCorpus, a ParallelCorpus or a parallel JSONL path.
        langs, options, show_progress: As for :func:`~crossalign.data.builders.clear.build_clear`.
        **overrides: :class:`~crossalign.data.builders.options.BuildOptions` fields: ``include_english``,
            ``units``, ``min_words``, ``max_rows`` (train tuples), ``seed``, ``split``, ``cache_dir``,
            ``help_root``, ``download``.

    Returns:
        :class:`~crossalign.data.builders.output.BuiltData`, columns = language codes; the manifest's ``coverage``
        says how many tuples each language has and how many are complete; ``budget`` the text counts.

    Raises:
        ConfigError: Fewer than two languages, unknown units.
        DataFormatError: A source without parallel text (a retrieval set).

    Example:
        >>> build_multiway("libreoffice", ["de", "km"]).columns  # doctest: +SKIP
        ['en', 'de', 'km']
    """
    columns = _columns(targets, opts.include_english)
    stage(f"multiway: complete tuples over {', '.join(columns)}")
    sidx = SplitIndex(opts.split)
    tuples, coverage, prov = _complete_tuples(source, columns, opts, sidx)
    key = "+".join(columns)
    rows: dict[str, list[dict[str, str]]] = {}
    meta: dict[str, list[dict[str, Any]]] = {}
    for s in BUILD_SPLITS:
        r = [{lang: t.texts[lang] for lang in columns} for t in tuples[s]]
        m = [{"lang": key, "id": t.id, "group": tuple_group(t)} for t in tuples[s]]
        rows[s], meta[s] = shuffle_rows(r, m, opts.seed, s)
    manifest, groups = base_manifest(
        "multiway", columns, [key], columns, opts, sidx, prov, started, _selection(opts), {c: c for c in columns}
    )
    manifest["coverage"] = coverage
    manifest["budget"] = {
        s: {"rows": len(rows[s]), "texts_per_row": len(columns), "texts": len(rows[s]) * len(columns)}
        for s in BUILD_SPLITS
    }
    manifest["budget"]["definition"] = _BUDGET_DEFINITION
    return BuiltData("multiway", columns, rows, meta, manifest, groups)


@builder("en-x")
def build_enx(source: Any, targets: list[str], opts: BuildOptions, started: float) -> BuiltData:
    """English-centric ``(en, x)`` rows from the same tuples as :func:`build_multiway`, with the same text budget.

    Takes the tuples :func:`build_multiway` keeps for the same options (English included) and turns ``T`` tuples
    of ``N`` languages into ``⌊T·N/2⌋`` pairs (see the module docstring for the budget and the construction).

    Args:
        source, langs, options, show_progress, **overrides: As for :func:`build_multiway` (without
            ``include_english``; ``max_rows`` caps the *tuples*, so both builds draw on the same ones).

    Returns:
        :class:`~crossalign.data.builders.output.BuiltData` with columns ``en, x``; the manifest's ``budget`` block
        has, per split, the En–X and multi-way rows and texts and the batch-size ratio.

    Raises:
        ConfigError, DataFormatError: As for :func:`build_multiway`.
    """
    columns = _columns(targets, True)
    sidx = SplitIndex(opts.split)
    tuples, coverage, prov = _complete_tuples(source, columns, opts, sidx)
    n_lang = len(columns)
    rows: dict[str, list[dict[str, str]]] = {}
    meta: dict[str, list[dict[str, Any]]] = {}
    budget: dict[str, Any] = {}
    for s in BUILD_SPLITS:
        ts = tuples[s]
        order = seeded_rng(opts.seed, "enx-order", s).permutation(len(ts))
        cycle = [targets[i] for i in seeded_rng(opts.seed, "enx-langs", s).permutation(len(targets))]
        pointer = 0
        r: list[dict[str, str]] = []
        m: list[dict[str, Any]] = []
        for count, ti in zip(enx_pairs_per_tuple(len(ts), n_lang), order):
            t = ts[int(ti)]
            for _ in range(count):
                x = cycle[pointer % len(cycle)]
                pointer += 1
                r.append({"en": t.texts[ENGLISH], "x": t.texts[x]})
                m.append({"lang": x, "id": t.id, "group": tuple_group(t)})
        rows[s], meta[s] = shuffle_rows(r, m, opts.seed, s)
        budget[s] = {
            "en_x": {"rows": len(r), "texts_per_row": 2, "texts": 2 * len(r)},
            "multiway": {"rows": len(ts), "texts_per_row": n_lang, "texts": len(ts) * n_lang},
            "distinct_english_texts": len(ts),
        }
    budget["batch_size_ratio"] = n_lang / 2
    budget["definition"] = _BUDGET_DEFINITION
    col_langs = {"en": "en", "x": "x (one of the target languages, per row)"}
    manifest, groups = base_manifest(
        "en-x", ["en", "x"], targets, columns, opts, sidx, prov, started, _selection(opts), col_langs
    )
    manifest["coverage"] = coverage
    manifest["budget"] = budget
    manifest["notes"] = [
        "Drawn from the same complete tuples as 'multiway' with the same arguments; each tuple's English appears "
        "in 2-3 rows (use the no-duplicates batch sampler)."
    ]
    return BuiltData("en-x", ["en", "x"], rows, meta, manifest, groups)


@builder("distill")
def build_distill(source: Any, targets: list[str], opts: BuildOptions, started: float) -> BuiltData:
    """Distillation rows ``(source = English text, target = its translation in x)``.

    Args:
        source, langs, options, show_progress, **overrides: As for :func:`build_enx`; ``max_rows`` caps the train
            rows per target language (dev: proportional).

    Returns:
        :class:`~crossalign.data.builders.output.BuiltData` with columns ``source, target``; add the teacher's
        ``label`` column before training (:func:`crossalign.losses.distillation.add_teacher_embeddings`).

    Raises:
        ConfigError, DataFormatError: As for :func:`build_multiway`.
    """
    columns = _columns(targets, True)
    pc = parallel_material(source, columns, units=opts.units, min_words=opts.min_words, require_all=False)
    sidx = SplitIndex(opts.split)
    by_split = sidx.partition(pc, tuple_group)
    rows: dict[str, list[dict[str, str]]] = {}
    meta: dict[str, list[dict[str, Any]]] = {}
    eligible: dict[str, dict[str, int]] = {}
    removed: dict[str, dict[str, int]] = {}
    for s in BUILD_SPLITS:
        r: list[dict[str, str]] = []
        m: list[dict[str, Any]] = []
        eligible[s], removed[s] = {}, {}
        for x in targets:
            kept, rem = dedupe_tuples([t for t in by_split[s] if ENGLISH in t.texts and x in t.texts], [ENGLISH, x])
            eligible[s][x] = len(kept)
            removed[s][x] = sum(rem.values())
            cap = split_cap(opts.max_rows, s, opts.split)
            for t in sample_in_order(kept, cap, seeded_rng(opts.seed, "rows", s, x)):
                r.append({"source": t.texts[ENGLISH], "target": t.texts[x]})
                m.append({"lang": x, "id": t.id, "group": tuple_group(t)})
        rows[s], meta[s] = shuffle_rows(r, m, opts.seed, s)
    selection = {
        **_selection(opts),
        "max_rows_per": "target language",
        "eligible": eligible,
        "removed_as_repeats": removed,
    }
    col_langs = {"source": "en", "target": "x"}
    manifest, groups = base_manifest(
        "distill",
        ["source", "target"],
        targets,
        columns,
        opts,
        sidx,
        {**pc.provenance},
        started,
        selection,
        col_langs,
    )
    manifest["notes"] = [
        "Add the teacher's embedding of 'source' as the 'label' column before training: "
        "crossalign.losses.distillation.add_teacher_embeddings(dataset, teacher)."
    ]
    return BuiltData("distill", ["source", "target"], rows, meta, manifest, groups)
