from __future__ import annotations

import pytest

from crossalign.data.records import Document, ParallelCorpus, ParallelTuple, Query, RetrievalSet
from crossalign.errors import DataFormatError, UnknownLanguageError


def _corpus() -> ParallelCorpus:
    return ParallelCorpus(
        [
            ParallelTuple("a", {"en": "Print", "de": "Drucken", "km": "បោះពុម្ព"}),
            ParallelTuple("b", {"en": "Save", "de": "Speichern"}),
            ParallelTuple("c", {"en": "Open", "km": "បើក"}),
        ],
        name="t",
    )


def test_parallel_views() -> None:
    c = _corpus()
    assert c.languages == ["de", "en", "km"]
    assert c.coverage() == {"de": 2, "en": 3, "km": 2}
    assert c.pairs("de", "en") == [("a", "Drucken", "Print"), ("b", "Speichern", "Save")]
    assert c["c"].texts["km"] == "បើក"
    full = c.restrict(["en", "de", "km"], require_all=True)
    assert [t.id for t in full] == ["a"]
    two = c.restrict(["en", "km"])
    assert [t.id for t in two] == ["a", "c"]
    assert c.filter(lambda t: "de" in t.texts).coverage() == {"de": 2, "en": 2, "km": 1}


def test_parallel_validation_errors() -> None:
    with pytest.raises(DataFormatError, match="duplicate tuple id 'a'"):
        ParallelCorpus([ParallelTuple("a", {"en": "x"}), ParallelTuple("a", {"en": "y"})])
    with pytest.raises(DataFormatError, match="empty or whitespace"):
        ParallelCorpus([ParallelTuple("a", {"en": "  "})])
    with pytest.raises(DataFormatError, match="not canonical"):
        ParallelCorpus([ParallelTuple("a", {"zh_cn": "打印"})])
    with pytest.raises(UnknownLanguageError):
        ParallelCorpus([ParallelTuple("a", {"xx": "?"})])


def test_retrieval_set_languages_and_composition() -> None:
    rs = RetrievalSet(
        [Query("q1", "Drucken", "de"), Query("q2", "Speichern", "de")],
        [Document("d1", "Printing", "en"), Document("d2", "Drucken von ...", "de"), Document("d3", "Saving", "en")],
        {"q1": {"d1": 1, "d2": 1}, "q2": {"d3": 1, "d2": 0}},
        name="mixed",
    )
    assert rs.query_langs == ["de"]
    assert rs.doc_langs == ["de", "en"]
    assert rs.pool_composition() == {"de": 1, "en": 2}
    assert rs.relevant("q2") == {"d3": 1}
    summary = rs.describe()
    assert summary["n_relevant_judgments"] == 3
    assert summary["queries_without_relevant"] == 0


def test_retrieval_set_rejects_dangling_qrels_and_duplicates() -> None:
    q = [Query("q1", "x", "de")]
    d = [Document("d1", "y", "en")]
    with pytest.raises(DataFormatError, match="not in the corpus"):
        RetrievalSet(q, d, {"q1": {"nope": 1}})
    with pytest.raises(DataFormatError, match="not among the queries"):
        RetrievalSet(q, d, {"q9": {"d1": 1}})
    with pytest.raises(DataFormatError, match="duplicate document id"):
        RetrievalSet(q, d + d, {})
    with pytest.raises(DataFormatError, match="must be an integer"):
        RetrievalSet(q, d, {"q1": {"d1": 1.5}})  # type: ignore[dict-item]
