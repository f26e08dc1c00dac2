"""Where training rows come from: a source opened by name or path, and the material the builders read from it.

A builder reads one of:

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

Languages are parsed once, by :func:`target_languages` at the builder's entry; below it they are canonical lists.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crossalign.data.records import ParallelCorpus, ParallelTuple, RetrievalSet
from crossalign.data.text_rules import check_heading_rule, disambiguate_heading
from crossalign.errors import ConfigError, DataFormatError
from crossalign.languages import parse_lang_list

if TYPE_CHECKING:
    pass

PathLike = str | os.PathLike[str]

__all__ = [
    "ENGLISH",
    "QueryItem",
    "QueryMaterial",
    "load_source",
    "parallel_material",
    "query_material",
    "target_languages",
    "tuple_group",
]

#: The pivot language.
ENGLISH = "en"


@dataclass(frozen=True)
class QueryItem:
    """One retrieval unit in several languages: a query (heading) and the passage (section text) it leads to.

    Attributes:
        id: Unique id (``<page>#<heading id>/section`` for the help).
        group: Split unit (the page path).
        queries: Language -> query text (after :func:`~crossalign.data.text_rules.disambiguate_heading`).
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

    return isinstance(source, LibreOfficeCorpus) or (isinstance(source, str) and source == "libreoffice")


def target_languages(source: Any, langs: str | Iterable[str]) -> list[str]:
    """Canonical target languages (English removed: it is the pivot of every format); the builders' one parse.

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


def tuple_group(t: ParallelTuple) -> str:
    """Split unit of a parallel tuple: ``meta.page``, ``meta.group``, else the tuple id."""
    return _group_of(t.meta, t.id)


def _query_item(
    id: str,
    group: str,
    headings: Mapping[str, Any],
    texts: Mapping[str, str],
    titles: Any,
    shared: int,
    langs: Sequence[str],
    rule: str,
    dropped: Counter[str],
) -> QueryItem:
    """The item of one section: every language with a heading and a text; queries after the heading rule."""
    titles = titles if isinstance(titles, Mapping) else {}
    queries: dict[str, str] = {}
    passages: dict[str, str] = {}
    for lang in (ENGLISH, *langs):
        h, p = headings.get(lang), texts.get(lang)
        if not isinstance(h, str) or not h.strip() or p is None:
            continue
        passages[lang] = p
        q = disambiguate_heading(h, titles.get(lang), shared, rule)
        if q is None:
            dropped["shared_heading_skipped" if rule == "skip" else "shared_heading_no_title"] += 1
        else:
            queries[lang] = q
    return QueryItem(id, group, queries, passages)


def query_material(
    source: Any, targets: Sequence[str], *, min_words: int = 4, shared_headings: str = "title"
) -> QueryMaterial:
    """The query items and the English passage pool of a source (see the module docstring for the sources).

    Args:
        source: A LibreOfficeCorpus, a ParallelCorpus of sections (``meta.headings``), a RetrievalSet, or a list of
            :class:`~crossalign.data.libreoffice.SectionRecord`.
        targets: Canonical target languages (English is added as the pivot).
        min_words: Minimum whitespace tokens of the English passage.
        shared_headings: Rule for shared headings (:data:`~crossalign.data.text_rules.SHARED_HEADING_RULES`).

    Raises:
        DataFormatError: The source has no queries (a plain parallel corpus), or a retrieval set lacks ``xling_id``.
        ConfigError: An unknown rule or source type.
    """
    from crossalign.data.libreoffice import LibreOfficeCorpus, SectionRecord

    rule = check_heading_rule(shared_headings)
    dropped: Counter[str] = Counter()
    if isinstance(source, LibreOfficeCorpus) or (
        isinstance(source, list | tuple) and all(isinstance(r, SectionRecord) for r in source)
    ):
        if isinstance(source, LibreOfficeCorpus):
            records = source.sections([ENGLISH, *targets], min_words=min_words)
            pool = [(s.page, s.bodies[ENGLISH]) for s in source.sections([ENGLISH], min_words=min_words)]
            prov = {**source.provenance(), "min_words": min_words}
        else:
            records = [r for r in source if len(r.bodies.get(ENGLISH, "").split()) >= min_words]
            pool = [(r.page, r.bodies[ENGLISH]) for r in records]
            prov = {"source": "section records", "min_words": min_words}
        items = [
            _query_item(r.id, r.page, r.headings, r.bodies, r.titles, r.heading_shared, targets, rule, dropped)
            for r in records
        ]
    elif isinstance(source, ParallelCorpus):
        items, pool = _items_from_parallel(source, targets, min_words, rule, dropped)
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
    for t in corpus:
        en = t.texts.get(ENGLISH)
        if en is None or len(en.split()) < min_words:
            continue
        group = tuple_group(t)
        pool.append((group, en))
        headings = t.meta.get("headings")
        if isinstance(headings, Mapping):
            shared = int(t.meta.get("heading_shared", 1) or 1)
            items.append(
                _query_item(t.id, group, headings, t.texts, t.meta.get("titles"), shared, targets, rule, dropped)
            )
    if not items:
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
    keep = (ENGLISH, *targets)
    items: list[QueryItem] = []
    for xid, qs in groups.items():
        queries: dict[str, str] = {}
        for q in qs:
            queries.setdefault(q.lang, q.text)
        # the most relevant judged document per language (ties: the first judged)
        best: dict[str, tuple[int, Any]] = {}
        for q in qs:
            for did, rel in rs.relevant(q.id).items():
                d = docs[did]
                if d.lang not in best or rel > best[d.lang][0]:
                    best[d.lang] = (rel, d)
        en = best.get(ENGLISH)
        if en is None or len(en[1].text.split()) < min_words:
            continue
        items.append(
            QueryItem(
                xid,
                _group_of(en[1].meta, xid),
                {k: v for k, v in queries.items() if k in keep},
                {k: d.text for k, (_, d) in best.items() if k in keep},
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


def load_source(
    source: Any,
    targets: Sequence[str],
    *,
    cache_dir: PathLike | None = None,
    help_root: PathLike | None = None,
    download: bool = True,
) -> Any:
    """Open a source given by name or path; objects pass through unchanged.

    Args:
        source: ``"libreoffice"``, a parallel JSONL file, a retrieval-set directory, a directory holding
            ``parallel.jsonl``, or an already loaded corpus.
        targets: Canonical target languages (the help opens English plus these).
        cache_dir, help_root, download: For the LibreOffice help.

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

        langs = [ENGLISH, *(lang for lang in targets if lang != ENGLISH)]
        return LibreOfficeCorpus.open(langs, cache_dir=cache_dir, help_root=help_root, download=download)
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
