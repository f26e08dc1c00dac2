"""Typed records: multi-way parallel text and retrieval sets.

Two shapes of data run through crossalign:

- :class:`ParallelCorpus` of :class:`ParallelTuple` — one meaning in several languages (a tuple id and
  ``lang -> text``). Training pairs, multi-way tuples and bitext-mining sets are views of it.
- :class:`RetrievalSet` — :class:`Query` and :class:`Document` records, each with its own language, plus graded
  relevance judgments (``qrels[query_id][doc_id] = relevance``). Its query and document languages are data, never
  hidden in a name: a German-query/English-document set says ``query_langs == ["de"]`` and
  ``doc_langs == ["en"]``, and a mixed pool reports its composition per language.

Records are plain frozen dataclasses; validation happens once in the containers' ``validate()`` (called by the
readers) and raises :class:`~crossalign.errors.DataFormatError` naming the record and field.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from crossalign.errors import DataFormatError
from crossalign.languages import normalize_lang


def check_text(value: Any, *, field: str, path: str | None = None, line: int | None = None) -> str:
    """Return ``value`` if it is a non-blank string, else raise :class:`DataFormatError` naming the field."""
    if value is None:
        raise DataFormatError(
            "value is null", path=path, line=line, field=field, hint="fill in the text or drop the record"
        )
    if not isinstance(value, str):
        raise DataFormatError(
            f"expected a string, got {type(value).__name__} ({value!r:.60})",
            path=path,
            line=line,
            field=field,
            hint="texts must be JSON strings",
        )
    if not value.strip():
        raise DataFormatError(
            "text is empty or whitespace only",
            path=path,
            line=line,
            field=field,
            hint="fill in the text or drop the record (empty texts have no meaningful embedding)",
        )
    return value


def check_id(value: Any, *, field: str = "id", path: str | None = None, line: int | None = None) -> str:
    """Ids are non-empty strings (integers are accepted and converted)."""
    if isinstance(value, bool) or value is None:
        raise DataFormatError(
            "id is missing or null", path=path, line=line, field=field, hint="give every record a unique id"
        )
    if isinstance(value, int):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise DataFormatError(
            f"id must be a non-empty string, got {value!r:.60}",
            path=path,
            line=line,
            field=field,
            hint="give every record a unique string id",
        )
    return value


def _check_unique_id(value: Any, seen: dict[str, int], i: int, *, kind: str, field: str) -> None:
    """Record ``i`` (0-based) has a valid id not in ``seen`` (id -> first record); then it is."""
    check_id(value, line=i + 1, field=field)
    if value in seen:
        raise DataFormatError(
            f"duplicate {kind} id {value!r} (first seen at {kind} {seen[value] + 1})",
            line=i + 1,
            field=field,
            hint=f"{kind} ids must be unique",
        )
    seen[value] = i


def _check_canonical(lang: str, i: int, *, what: str, field: str) -> None:
    canon = normalize_lang(lang, field=what)
    if canon != lang:
        raise DataFormatError(
            f"language code {lang!r} is not canonical (expected {canon!r})",
            line=i + 1,
            field=field,
            hint="build records through the readers, or normalise codes with normalize_lang()",
        )


@dataclass(frozen=True, slots=True)
class ParallelTuple:
    """One meaning in several languages.

    Attributes:
        id: Tuple id, unique in its corpus.
        texts: Canonical BCP-47 tag -> text.
        meta: Free-form provenance (page path, element id, kind, ...).
    """

    id: str
    texts: Mapping[str, str]
    meta: Mapping[str, Any] = field(default_factory=dict)

    @property
    def languages(self) -> list[str]:
        """The languages this tuple has text for, sorted."""
        return sorted(self.texts)


class ParallelCorpus:
    """A collection of :class:`ParallelTuple` with unique ids.

    Args:
        tuples: The tuples.
        name: A short name for reports.
        provenance: Where the data came from (package names and versions, files, filters applied).
        validate: Check ids, language codes and texts now (raises :class:`DataFormatError`).

    Example:
        >>> corpus = ParallelCorpus([ParallelTuple("t1", {"en": "Print", "de": "Drucken"})])
        >>> corpus.pairs("de", "en")
        [('t1', 'Drucken', 'Print')]
    """

    def __init__(
        self,
        tuples: Iterable[ParallelTuple],
        *,
        name: str = "parallel",
        provenance: Mapping[str, Any] | None = None,
        validate: bool = True,
    ) -> None:
        self.tuples: list[ParallelTuple] = list(tuples)
        self.name = name
        self.provenance: dict[str, Any] = dict(provenance or {})
        self._index: dict[str, int] | None = None
        if validate:
            self.validate()

    def validate(self) -> None:
        """Unique non-empty ids, canonical known language codes, non-blank texts, at least one language per tuple."""
        seen: dict[str, int] = {}
        for i, tup in enumerate(self.tuples):
            _check_unique_id(tup.id, seen, i, kind="tuple", field="id")
            if not tup.texts:
                raise DataFormatError(
                    f"tuple {tup.id!r} has no texts",
                    line=i + 1,
                    field="texts",
                    hint="give every tuple at least one text, or drop it",
                )
            for lang, text in tup.texts.items():
                _check_canonical(lang, i, what=f"tuple {tup.id!r} language", field=f"texts.{lang}")
                check_text(text, field=f"texts.{lang}", line=i + 1)
        self._index = seen

    def __len__(self) -> int:
        return len(self.tuples)

    def __iter__(self) -> Iterator[ParallelTuple]:
        return iter(self.tuples)

    def __getitem__(self, tuple_id: str) -> ParallelTuple:
        if self._index is None:
            self._index = {t.id: i for i, t in enumerate(self.tuples)}
        return self.tuples[self._index[tuple_id]]

    def __repr__(self) -> str:
        return f"ParallelCorpus(name={self.name!r}, tuples={len(self)}, languages={self.languages})"

    @property
    def languages(self) -> list[str]:
        """Every language present in at least one tuple, sorted."""
        return sorted({lang for t in self.tuples for lang in t.texts})

    def coverage(self) -> dict[str, int]:
        """Number of tuples that have text in each language."""
        counts = Counter(lang for t in self.tuples for lang in t.texts)
        return dict(sorted(counts.items()))

    def pairs(self, src_lang: str, tgt_lang: str) -> list[tuple[str, str, str]]:
        """``(tuple id, text in src_lang, text in tgt_lang)`` for every tuple that has both languages."""
        return [
            (t.id, t.texts[src_lang], t.texts[tgt_lang])
            for t in self.tuples
            if src_lang in t.texts and tgt_lang in t.texts
        ]

    def filter(self, predicate: Callable[[ParallelTuple], bool], *, name: str | None = None) -> ParallelCorpus:
        """A new corpus with the tuples for which ``predicate`` holds."""
        return ParallelCorpus(
            (t for t in self.tuples if predicate(t)), name=name or self.name, provenance=self.provenance, validate=False
        )

    def restrict(self, langs: Iterable[str], *, require_all: bool = False) -> ParallelCorpus:
        """Keep only ``langs`` in every tuple; drop tuples left with fewer than two languages (or, with
        ``require_all``, tuples missing any of ``langs``)."""
        keep = list(langs)
        out = []
        for t in self.tuples:
            texts = {lang: t.texts[lang] for lang in keep if lang in t.texts}
            if (require_all and len(texts) < len(keep)) or len(texts) < min(2, len(keep)):
                continue
            out.append(ParallelTuple(t.id, texts, t.meta))
        return ParallelCorpus(
            out, name=self.name, provenance={**self.provenance, "restricted_to": keep}, validate=False
        )


@dataclass(frozen=True, slots=True)
class Query:
    """A query with its language.

    Attributes:
        id: Unique query id.
        text: The query text (no model prompt: prompts are applied at encoding time).
        lang: Canonical BCP-47 tag of the text.
        meta: Free-form provenance (e.g. the parallel tuple id ``xling_id``).
    """

    id: str
    text: str
    lang: str
    meta: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Document:
    """A document (passage) with its language.

    Attributes:
        id: Unique document id.
        text: The passage text.
        lang: Canonical BCP-47 tag of the text.
        title: Optional title (kept separate; evaluators decide whether to prepend it).
        meta: Free-form provenance (e.g. ``xling_id`` linking parallel documents, page path).
    """

    id: str
    text: str
    lang: str
    title: str | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)


class RetrievalSet:
    """Queries, documents and relevance judgments, with every language explicit.

    Args:
        queries: The queries.
        documents: The pool of documents searched for every query.
        qrels: ``qrels[query_id][doc_id] = relevance`` (int; > 0 is relevant).
        name: Short name for reports (``libreoffice/de-en``).
        provenance: Where the data came from and how it was built.
        validate: Check now (ids unique, languages known, texts non-blank, qrels point at known ids).

    Example:
        >>> rs = RetrievalSet([Query("q1", "Drucken", "de")], [Document("d1", "Printing ...", "en")], {"q1": {"d1": 1}})
        >>> rs.query_langs, rs.doc_langs
        (['de'], ['en'])
    """

    def __init__(
        self,
        queries: Iterable[Query],
        documents: Iterable[Document],
        qrels: Mapping[str, Mapping[str, int]],
        *,
        name: str = "retrieval",
        provenance: Mapping[str, Any] | None = None,
        validate: bool = True,
    ) -> None:
        self.queries: list[Query] = list(queries)
        self.documents: list[Document] = list(documents)
        self.qrels: dict[str, dict[str, int]] = {q: dict(d) for q, d in qrels.items()}
        self.name = name
        self.provenance: dict[str, Any] = dict(provenance or {})
        if validate:
            self.validate()

    def __repr__(self) -> str:
        return (
            f"RetrievalSet(name={self.name!r}, queries={len(self.queries)} {self.query_langs}, "
            f"documents={len(self.documents)} {self.pool_composition()})"
        )

    def validate(self) -> None:
        """Raise :class:`DataFormatError` on duplicate ids, unknown languages, blank texts or dangling qrels."""
        for kind, records in (("query", self.queries), ("document", self.documents)):
            seen: dict[str, int] = {}
            for i, rec in enumerate(records):
                _check_unique_id(rec.id, seen, i, kind=kind, field=f"{kind}.id")
                check_text(rec.text, field=f"{kind}.text", line=i + 1)
                _check_canonical(rec.lang, i, what=f"{kind} {rec.id!r} lang", field=f"{kind}.lang")
        qids = {q.id for q in self.queries}
        dids = {d.id for d in self.documents}
        for qid, judged in self.qrels.items():
            if qid not in qids:
                raise DataFormatError(
                    f"qrels name query {qid!r}, which is not among the queries",
                    field="qrels.query_id",
                    hint="drop the judgment or add the query",
                )
            for did, rel in judged.items():
                if did not in dids:
                    raise DataFormatError(
                        f"qrels for query {qid!r} name document {did!r}, which is not in the corpus",
                        field="qrels.doc_id",
                        hint="drop the judgment or add the document to the corpus",
                    )
                if isinstance(rel, bool) or not isinstance(rel, int):
                    raise DataFormatError(
                        f"relevance for ({qid!r}, {did!r}) must be an integer, got {rel!r}",
                        field="qrels.relevance",
                        hint="use integer grades (0 = not relevant, 1, 2, ... = relevant)",
                    )

    @property
    def query_langs(self) -> list[str]:
        """Languages of the queries, sorted."""
        return sorted({q.lang for q in self.queries})

    @property
    def doc_langs(self) -> list[str]:
        """Languages of the documents in the pool, sorted."""
        return sorted({d.lang for d in self.documents})

    def pool_composition(self) -> dict[str, int]:
        """Number of documents per language in the pool."""
        return dict(sorted(Counter(d.lang for d in self.documents).items()))

    def relevant(self, query_id: str) -> dict[str, int]:
        """The judged-relevant documents (relevance > 0) of a query."""
        return {d: r for d, r in self.qrels.get(query_id, {}).items() if r > 0}

    def describe(self) -> dict[str, Any]:
        """A JSON-ready summary: sizes, languages, pool composition, judgments."""
        judged = sum(len(self.relevant(q.id)) for q in self.queries)
        return {
            "name": self.name,
            "n_queries": len(self.queries),
            "n_documents": len(self.documents),
            "query_langs": self.query_langs,
            "doc_langs": self.doc_langs,
            "pool_composition": self.pool_composition(),
            "n_relevant_judgments": judged,
            "queries_without_relevant": sum(1 for q in self.queries if not self.relevant(q.id)),
        }
