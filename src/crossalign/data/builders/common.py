"""What every training-data builder shares: sources, splits, de-duplication, caps, the encoder.

**Sources.** A builder reads one of:

- the LibreOffice help (:class:`~crossalign.data.libreoffice.LibreOfficeCorpus`, or the string ``"libreoffice"``):
  every format;
- a parallel JSONL file (:class:`~crossalign.data.records.ParallelCorpus`, the format of :mod:`crossalign.data.io`):
  ``multiway``, ``en-x`` and ``distill`` from any such file; ``clear``, ``infonce`` and ``jsd`` only when its tuples
  are *sections*: ``texts`` are the passages and ``meta.headings`` (language -> query) the queries (what
  ``LibreOfficeCorpus.parallel("section")`` writes; optional ``meta.titles``, ``meta.heading_shared``, ``meta.page``);
- a retrieval-set directory (:class:`~crossalign.data.records.RetrievalSet`): ``clear``, ``infonce`` and ``jsd``.
  Translations of one query share ``xling_id`` (a key of ``queries.jsonl``); a language's passage is the most relevant
  document of that language among the judged documents of the group's queries; the group (split unit) is the English
  positive's ``page`` (or ``group``) key, else the ``xling_id``.

**Splits.** Rows come only from groups (pages) that :func:`crossalign.data.splits.assign_split` puts in ``train`` or
``dev``: train rows and their negatives from train pages, dev rows and their negatives from dev pages. Test pages are
never read into a row, a negative or a candidate pool.

**Queries from headings.** A heading shared by several sections (``heading_shared > 1``: "Syntax:", "Example:",
"With Python") is not a usable query: it matches hundreds of passages. :func:`disambiguate_heading` prefixes the
page title in the same language, ``"Title: heading"`` (rule ``"title"``, the default; the evaluation-set builder
should import this function so that training and test queries follow one rule); a language without a translated
title loses the query. Rules ``"skip"`` (drop such headings) and
``"keep"`` (use them as they are) are options.

**De-duplication.** Within a split a query text (after the rule above; compared case- and whitespace-insensitively)
is used once per language: the first section in corpus order keeps it, later ones lose that language. Parallel
tuples (multi-way, En–X, distillation) are likewise unique per language and split.

**Caps.** ``max_rows`` caps the *train* rows per target language (the CLEAR paper trains on 500 rows per language);
dev gets ``ceil(max_rows · dev / train)``. The kept rows are a seeded random sample of the eligible ones (not the
first pages in path order).

The output directory and its manifest: :mod:`crossalign.data.builders.output`.
"""

from __future__ import annotations

import hashlib
import math
import os
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from crossalign.data.libreoffice.parse import normalize_space
from crossalign.data.records import ParallelCorpus, ParallelTuple, RetrievalSet
from crossalign.data.splits import SplitSpec, assign_split
from crossalign.errors import ConfigError, DataFormatError, ModelError
from crossalign.languages import parse_lang_list

# workflows/train.py imports stage from here
from crossalign.utils.progress import stage as stage

if TYPE_CHECKING:
    from crossalign.data.libreoffice import SectionRecord
    from crossalign.data.mining import MiningConfig, TextEncoder

PathLike = str | os.PathLike[str]

__all__ = [
    "BUILD_SPLITS",
    "DEFAULT_SPLIT",
    "ENGLISH",
    "SHARED_HEADING_RULES",
    "QueryItem",
    "QueryMaterial",
    "disambiguate_heading",
    "load_source",
    "parallel_material",
    "query_material",
    "split_cap",
]

#: The splits a training build writes (the test split is never read).
BUILD_SPLITS: tuple[str, str] = ("train", "dev")
#: The pivot language.
ENGLISH = "en"
#: Rules for headings shared by several sections (see the module docstring).
SHARED_HEADING_RULES: tuple[str, ...] = ("title", "skip", "keep")
#: The default page split, ``SplitSpec()`` = 0.8/0.1/0.1, seed 13; evaluation sets must be built with the same spec.
DEFAULT_SPLIT = SplitSpec()


# ------------------------------------------------------------------------------------------------------- headings
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
    if rule not in SHARED_HEADING_RULES:
        raise ConfigError(
            f"unknown shared-heading rule {rule!r}", hint=f"choose one of {', '.join(SHARED_HEADING_RULES)}"
        )
    heading = normalize_space(heading)
    if shared <= 1 or rule == "keep":
        return heading
    if rule == "skip":
        return None
    title = normalize_space(title or "")
    if not title:
        return None
    if _norm(title).rstrip(":") == _norm(heading).rstrip(":"):
        return heading  # the heading is the page title; a prefix would only repeat it
    return f"{title}: {heading}"


def _norm(text: str) -> str:
    """Comparison key of a text: :func:`normalize_space`, case folded."""
    return normalize_space(text).casefold()


# ------------------------------------------------------------------------------------------------------- material
@dataclass(frozen=True)
class QueryItem:
    """One retrieval unit in several languages: a query (heading) and the passage (section text) it leads to.

    Attributes:
        id: Unique id (``<page>#<heading id>/section`` for the help).
        group: Split unit (the page path).
        queries: Language -> query text (after :func:`disambiguate_heading`).
        passages: Language -> passage text.
    """

    id: str
    group: str
    queries: Mapping[str, str]
    passages: Mapping[str, str]


@dataclass
class QueryMaterial:
    """What the query-based builders (CLEAR, InfoNCE, JSD) read.

    Attributes:
        items: The query items, in corpus order.
        pool: ``(group, English passage)`` for every English passage of the source (the candidate pool of passage
            negatives; includes passages whose section has no translated query).
        provenance: Where the material came from.
        dropped: Counters of what the heading rule removed (``shared_heading_no_title``, ``shared_heading_skipped``).
    """

    items: list[QueryItem]
    pool: list[tuple[str, str]]
    provenance: dict[str, Any]
    dropped: dict[str, int] = field(default_factory=dict)


def _is_libreoffice(source: Any) -> bool:
    from crossalign.data.libreoffice import LibreOfficeCorpus

    return isinstance(source, LibreOfficeCorpus)


def target_languages(source: Any, langs: str | Iterable[str]) -> list[str]:
    """Canonical target languages (English removed: it is the pivot of every format).

    Raises:
        UnknownLanguageError: An unknown code (for the help: not one of its 33 languages).
        ConfigError: Nothing left besides English.
    """
    if _is_libreoffice(source):
        from crossalign.data.libreoffice.langs import lo_lang_list

        chosen = lo_lang_list(langs)
    else:
        chosen = parse_lang_list(langs)
    targets = [lang for lang in chosen if lang != ENGLISH]
    if not targets:
        raise ConfigError(
            "no target language: English is the pivot of every training format",
            hint="pass one or more target languages, e.g. --langs de,zh-CN,hi,km",
        )
    return targets


def _group_of(meta: Mapping[str, Any], fallback: str) -> str:
    for key in ("page", "group"):
        value = meta.get(key)
        if isinstance(value, str) and value:
            return value
    return fallback


def _items_from_sections(
    records: Sequence[SectionRecord], langs: Sequence[str], rule: str, dropped: Counter[str]
) -> list[QueryItem]:
    items = []
    for rec in records:
        have = [lang for lang in (ENGLISH, *langs) if lang in rec.headings and lang in rec.bodies]
        queries: dict[str, str] = {}
        for lang in have:
            q = disambiguate_heading(rec.headings[lang], rec.titles.get(lang), rec.heading_shared, rule)
            if q is None:
                dropped["shared_heading_skipped" if rule == "skip" else "shared_heading_no_title"] += 1
            else:
                queries[lang] = q
        items.append(QueryItem(rec.id, rec.page, queries, {lang: rec.bodies[lang] for lang in have}))
    return items


def query_material(
    source: Any,
    langs: str | Iterable[str],
    *,
    min_words: int = 4,
    shared_headings: str = "title",
) -> QueryMaterial:
    """The query items and the English passage pool of a source (see the module docstring for the sources).

    Args:
        source: A LibreOfficeCorpus, a ParallelCorpus of sections (``meta.headings``), a RetrievalSet, or a list of
            :class:`~crossalign.data.libreoffice.SectionRecord`.
        langs: Target languages (English is added as the pivot).
        min_words: Minimum whitespace tokens of the English passage.
        shared_headings: Rule for shared headings (:data:`SHARED_HEADING_RULES`).

    Returns:
        The :class:`QueryMaterial`.

    Raises:
        DataFormatError: The source has no queries (a plain parallel corpus), or a retrieval set lacks ``xling_id``.
        ConfigError: An unknown rule or source type.
    """
    from crossalign.data.libreoffice import SectionRecord

    targets = target_languages(source, langs)
    disambiguate_heading("x", None, 1, shared_headings)  # validates the rule
    dropped: Counter[str] = Counter()
    if _is_libreoffice(source):
        records = source.sections([ENGLISH, *targets], min_words=min_words)
        items = _items_from_sections(records, targets, shared_headings, dropped)
        pool = [(s.page, s.bodies[ENGLISH]) for s in source.sections([ENGLISH], min_words=min_words)]
        prov = {**source.provenance(), "min_words": min_words}
    elif isinstance(source, list | tuple) and all(isinstance(r, SectionRecord) for r in source):
        records = [r for r in source if len(r.bodies.get(ENGLISH, "").split()) >= min_words]
        items = _items_from_sections(records, targets, shared_headings, dropped)
        pool = [(r.page, r.bodies[ENGLISH]) for r in records]
        prov = {"source": "section records", "min_words": min_words}
    elif isinstance(source, ParallelCorpus):
        items, pool = _items_from_parallel(source, targets, min_words, shared_headings, dropped)
        prov = {**source.provenance, "name": source.name, "min_words": min_words}
    elif isinstance(source, RetrievalSet):
        items, pool = _items_from_retrieval(source, targets, min_words)
        prov = {**source.provenance, "name": source.name, "min_words": min_words}
    else:
        raise ConfigError(
            f"cannot read queries from a {type(source).__name__}",
            hint="pass a LibreOfficeCorpus, a ParallelCorpus of sections, a RetrievalSet or SectionRecords",
        )
    return QueryMaterial(items, pool, prov, dict(dropped))


def _items_from_parallel(
    corpus: ParallelCorpus, targets: Sequence[str], min_words: int, rule: str, dropped: Counter[str]
) -> tuple[list[QueryItem], list[tuple[str, str]]]:
    items: list[QueryItem] = []
    pool: list[tuple[str, str]] = []
    with_headings = 0
    for t in corpus:
        en = t.texts.get(ENGLISH)
        if en is None or len(en.split()) < min_words:
            continue
        group = _group_of(t.meta, t.id)
        pool.append((group, en))
        headings = t.meta.get("headings")
        if not isinstance(headings, Mapping):
            continue
        with_headings += 1
        titles = t.meta.get("titles") or {}
        shared = int(t.meta.get("heading_shared", 1) or 1)
        queries: dict[str, str] = {}
        passages: dict[str, str] = {}
        for lang in (ENGLISH, *targets):
            h, p = headings.get(lang), t.texts.get(lang)
            if not isinstance(h, str) or not h.strip() or p is None:
                continue
            passages[lang] = p
            q = disambiguate_heading(h, titles.get(lang) if isinstance(titles, Mapping) else None, shared, rule)
            if q is None:
                dropped["shared_heading_skipped" if rule == "skip" else "shared_heading_no_title"] += 1
            else:
                queries[lang] = q
        items.append(QueryItem(t.id, group, queries, passages))
    if not with_headings:
        raise DataFormatError(
            f"parallel corpus {corpus.name!r} has no queries: no tuple has meta.headings",
            field="meta.headings",
            hint="clear, infonce and jsd need query->passage units: pass section tuples (texts = passages, "
            'meta.headings = {"en": ..., "de": ...}) or a retrieval-set directory; multiway, en-x and distill '
            "work on plain parallel text",
        )
    return items, pool


def _items_from_retrieval(
    rs: RetrievalSet, targets: Sequence[str], min_words: int
) -> tuple[list[QueryItem], list[tuple[str, str]]]:
    docs = {d.id: d for d in rs.documents}
    groups: dict[str, list[Any]] = {}
    for q in rs.queries:
        xid = q.meta.get("xling_id")
        if xid is None:
            raise DataFormatError(
                f"query {q.id!r} has no xling_id, so its translations cannot be found",
                field="xling_id",
                hint='add "xling_id" to every line of queries.jsonl: the same value for translations of one query',
            )
        groups.setdefault(str(xid), []).append(q)
    items: list[QueryItem] = []
    for xid, qs in groups.items():
        queries: dict[str, str] = {}
        for q in qs:
            queries.setdefault(q.lang, q.text)
        # the most relevant judged document per language (ties: the first judged)
        best: dict[str, tuple[int, str]] = {}
        for q in qs:
            for did, rel in rs.relevant(q.id).items():
                d = docs[did]
                if d.lang not in best or rel > best[d.lang][0]:
                    best[d.lang] = (rel, d.text)
        passages = {lang: text for lang, (_, text) in best.items()}
        en = passages.get(ENGLISH)
        if en is None or len(en.split()) < min_words:
            continue
        en_doc = next(
            (docs[did] for q in qs for did in rs.relevant(q.id) if docs[did].lang == ENGLISH and docs[did].text == en),
            None,
        )
        group = _group_of(en_doc.meta, xid) if en_doc is not None else xid
        keep = (ENGLISH, *targets)
        items.append(
            QueryItem(
                xid,
                group,
                {k: v for k, v in queries.items() if k in keep},
                {k: v for k, v in passages.items() if k in keep},
            )
        )
    pool = [
        (_group_of(d.meta, str(d.meta.get("xling_id", d.id))), d.text)
        for d in rs.documents
        if d.lang == ENGLISH and len(d.text.split()) >= min_words
    ]
    return items, pool


def parallel_material(
    source: Any,
    columns: Sequence[str],
    *,
    units: Sequence[str] = ("paragraph",),
    min_words: int = 4,
    require_all: bool = True,
) -> ParallelCorpus:
    """Aligned tuples restricted to ``columns`` (all of them with ``require_all``, else at least two).

    Args:
        source: A LibreOfficeCorpus (``units`` picks paragraphs and/or sections) or a ParallelCorpus.
        columns: Languages to keep (English included where wanted).
        units: For the help: ``"paragraph"``, ``"section"`` (section bodies), ``"heading"``.
        min_words: Minimum whitespace tokens of the English text (when English is among ``columns``).
        require_all: Keep only tuples with every language.

    Returns:
        The tuples; ``meta.page`` (or ``meta.group``, else the tuple id) is the split unit.

    Raises:
        DataFormatError: A retrieval set (it has no parallel text).
    """
    if _is_libreoffice(source):
        return source.parallel(list(units), langs=list(columns), min_words=min_words, require_all=require_all)
    if isinstance(source, ParallelCorpus):
        restricted = source.restrict(columns, require_all=require_all)
        if ENGLISH in columns:
            restricted = restricted.filter(lambda t: len(t.texts.get(ENGLISH, "x " * min_words).split()) >= min_words)
        restricted.provenance = {**source.provenance, "name": source.name, "min_words": min_words}
        return restricted
    raise DataFormatError(
        f"{type(source).__name__} has no parallel text",
        hint="multiway, en-x and distill need parallel text: the LibreOffice help or a parallel JSONL file",
    )


def tuple_group(t: ParallelTuple) -> str:
    """Split unit of a parallel tuple: ``meta.page``, ``meta.group``, else the tuple id."""
    return _group_of(t.meta, t.id)


def load_source(
    source: Any,
    langs: str | Iterable[str],
    *,
    cache_dir: PathLike | None = None,
    help_root: PathLike | None = None,
    download: bool = True,
    show_progress: bool | None = None,
) -> Any:
    """Open a source given by name or path; objects pass through unchanged.

    Args:
        source: ``"libreoffice"``, a parallel JSONL file, a retrieval-set directory, a directory holding
            ``parallel.jsonl``, or an already loaded corpus.
        langs: Target languages (the help opens English plus these).
        cache_dir, help_root, download, show_progress: For the LibreOffice help.

    Returns:
        A LibreOfficeCorpus, ParallelCorpus or RetrievalSet.

    Raises:
        DataFormatError: A path that is none of the above.
    """
    if not isinstance(source, str | os.PathLike):
        return source
    text = os.fspath(source)
    if text == "libreoffice":
        from crossalign.data.libreoffice import LibreOfficeCorpus
        from crossalign.data.libreoffice.langs import lo_lang_list

        wanted = lo_lang_list(langs)
        return LibreOfficeCorpus.open(
            [ENGLISH, *(lang for lang in wanted if lang != ENGLISH)],
            cache_dir=cache_dir,
            help_root=help_root,
            download=download,
            show_progress=show_progress,
        )
    from crossalign.data.io import read_parallel_jsonl, read_retrieval_set

    p = Path(text).expanduser()
    if p.is_file():
        return read_parallel_jsonl(p)
    if p.is_dir() and (p / "queries.jsonl").is_file():
        return read_retrieval_set(p)
    if p.is_dir() and (p / "parallel.jsonl").is_file():
        return read_parallel_jsonl(p / "parallel.jsonl")
    raise DataFormatError(
        "not a corpus: expected 'libreoffice', a parallel JSONL file or a retrieval-set directory",
        path=p,
        hint="see crossalign.data.io for the formats (parallel.jsonl; queries.jsonl + corpus.jsonl + qrels.tsv)",
    )


# ---------------------------------------------------------------------------------------------------- split, caps
class SplitIndex:
    """Split of each group under a spec (memoised), and the groups seen per split (for the manifest)."""

    def __init__(self, spec: SplitSpec) -> None:
        self.spec = spec
        self._cache: dict[str, str] = {}
        self.seen: dict[str, set[str]] = {"train": set(), "dev": set(), "test": set()}

    def __call__(self, group: str) -> str:
        s = self._cache.get(group)
        if s is None:
            s = self._cache[group] = assign_split(group, self.spec)
            self.seen[s].add(group)
        return s


def split_cap(max_rows: int | None, split: str, spec: SplitSpec) -> int | None:
    """Rows allowed in ``split`` for a train cap of ``max_rows``: dev gets ``ceil(max_rows · dev / train)``.

    Example:
        >>> spec = SplitSpec()
        >>> split_cap(500, "train", spec), split_cap(500, "dev", spec), split_cap(None, "dev", spec)
        (500, 63, None)
    """
    if max_rows is None:
        return None
    if not isinstance(max_rows, int) or max_rows < 1:
        raise ConfigError(f"max_rows must be a positive integer, got {max_rows!r}")
    if split == "train":
        return max_rows
    if spec.train <= 0:
        return max_rows
    return max(1, math.ceil(max_rows * getattr(spec, split) / spec.train - 1e-9))


def seeded_rng(seed: int, *parts: str) -> np.random.Generator:
    """A generator seeded by ``seed`` and some labels (so each split/language draws its own stream)."""
    h = int.from_bytes(hashlib.sha256("\x00".join(parts).encode("utf-8")).digest()[:8], "big")
    return np.random.default_rng([int(seed) & 0xFFFFFFFF, h])


def sample_in_order(items: Sequence[Any], cap: int | None, rng: np.random.Generator) -> list[Any]:
    """A uniform sample of at most ``cap`` items, kept in their original order (all of them when ``cap`` is None)."""
    if cap is None or len(items) <= cap:
        return list(items)
    keep = np.sort(rng.choice(len(items), size=cap, replace=False))
    return [items[i] for i in keep]


def dedupe_queries(items: Sequence[QueryItem], langs: Sequence[str]) -> tuple[list[QueryItem], dict[str, int]]:
    """Keep each query text (case/space-insensitive) once per language: the first item has it, later ones lose it.

    Args:
        items: The items of one split, in corpus order.
        langs: The languages to de-duplicate (others are dropped from the items' queries).

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
            key = _norm(text)
            if key in seen[lang]:
                removed[lang] += 1
                continue
            seen[lang].add(key)
            queries[lang] = text
        out.append(QueryItem(it.id, it.group, queries, it.passages))
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
        keys = {lang: _norm(t.texts[lang]) for lang in langs if lang in t.texts}
        clash = [lang for lang, k in keys.items() if k in seen[lang]]
        if clash:
            removed.update(clash)
            continue
        for lang, k in keys.items():
            seen[lang].add(k)
        out.append(t)
    return out, dict(removed)


# ----------------------------------------------------------------------------------------------------- encoder
def resolve_encoder(
    model: Any,
    *,
    batch_size: int = 64,
    show_progress: bool | None = None,
    cache_dir: PathLike | None = None,
    query_prompt: str | None = None,
    passage_prompt: str | None = None,
) -> tuple[TextEncoder, dict[str, Any]]:
    """A :class:`~crossalign.data.mining.TextEncoder` for ``model`` and the manifest's description of it.

    Args:
        model: A model spec (built-in name, directory, Hugging Face id), a loaded SentenceTransformer, an encode
            function ``fn(texts, prompt_name)``, or a TextEncoder.
        batch_size: Encoding batch size.
        show_progress: Progress bars.
        cache_dir: crossalign cache root (built-in models).
        query_prompt, passage_prompt: Prompts overriding the model's own and its family's (None: not given;
            ``""``: none). A model given as a spec always gets :func:`~crossalign.models.prompts.apply_prompts`; a
            loaded SentenceTransformer only when one of them is given (then its prompts change in place).

    Returns:
        ``(encoder, {"spec": ..., "fingerprint": ..., "prompts": ..., "prompt_choice": ...})``.
    """
    import torch

    from crossalign.data.mining import TextEncoder

    if isinstance(model, TextEncoder):
        enc = model
        spec: Any = getattr(model, "spec", None) or type(model.model).__name__
        loaded = model.model
    elif isinstance(model, str | os.PathLike):
        from crossalign.models import load_model

        spec = os.fspath(model)
        loaded = load_model(spec, cache_dir=cache_dir)
        enc = TextEncoder(loaded, batch_size=batch_size, show_progress=show_progress)
    else:
        spec = getattr(model, "__name__", None) or type(model).__name__
        loaded = model
        enc = TextEncoder(model, batch_size=batch_size, show_progress=show_progress)
    fingerprint: str | None = None
    if isinstance(loaded, torch.nn.Module):
        from crossalign.models import model_fingerprint

        try:
            fingerprint = model_fingerprint(spec) if isinstance(model, str | os.PathLike) else None
        except ModelError:  # an HF id is not a directory: hash the loaded weights instead
            fingerprint = None
        if fingerprint is None:
            fingerprint = model_fingerprint(loaded)
    choice = None
    explicit = query_prompt is not None or passage_prompt is not None
    if isinstance(loaded, torch.nn.Module) and (isinstance(model, str | os.PathLike) or explicit):
        from crossalign.models.prompts import apply_prompts

        choice = apply_prompts(
            loaded, spec if isinstance(model, str | os.PathLike) else None, query=query_prompt, passage=passage_prompt
        )
    elif explicit:
        raise ConfigError(
            "query_prompt/passage_prompt need a model (a spec or a SentenceTransformer), not an encode function",
            hint="prefix the texts in your encode function instead",
        )
    prompts = dict(getattr(loaded, "prompts", {}) or {})
    info = {"spec": spec, "fingerprint": fingerprint, "prompts": prompts}
    if choice is not None:
        info["prompt_choice"] = choice.to_dict()
    return enc, info


def shuffle_rows(
    rows: list[dict[str, str]], meta: list[dict[str, Any]], seed: int, split: str
) -> tuple[list[dict[str, str]], list[dict[str, Any]]]:
    """Shuffle rows and their provenance together (seeded per split): languages and pages mix in every batch."""
    order = seeded_rng(seed, "shuffle", split).permutation(len(rows))
    return [rows[i] for i in order], [meta[i] for i in order]


def mining_config(
    *,
    negatives: int,
    rank_range: Sequence[int] | str,
    reference_pool: int | None,
    max_score_ratio: float | None,
    seed: int,
    batch_size: int,
) -> MiningConfig:
    """A validated :class:`~crossalign.data.mining.MiningConfig` from builder arguments."""
    from crossalign.data.mining import MiningConfig, parse_rank_range

    return MiningConfig(
        num_negatives=negatives,
        rank_range=parse_rank_range(rank_range),
        reference_pool=reference_pool,
        max_score_ratio=max_score_ratio,
        seed=seed,
        batch_size=batch_size,
    )


def __getattr__(name: str) -> Any:
    """Names that moved to :mod:`crossalign.data.builders.output`, for code that imports them from here."""
    if name in {"BuiltData", "MANIFEST_VERSION", "base_manifest", "groups_hash", "json_safe"}:
        from crossalign.data.builders import output

        return getattr(output, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
