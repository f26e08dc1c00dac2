"""Property tests of the readers and writers: random valid data written and read back is the same data.

Texts are random Unicode (tabs, newlines, line/paragraph separators, emoji, combining marks, right-to-left text)
wherever the format can hold them; only lone surrogates are left out (they cannot be encoded as UTF-8 at all).
"""

from __future__ import annotations

import json
import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from crossalign.data.io import (
    read_parallel_jsonl,
    read_parallel_text,
    read_qrels,
    read_retrieval_set,
    write_parallel_jsonl,
    write_retrieval_set,
)
from crossalign.data.records import Document, ParallelCorpus, ParallelTuple, Query, RetrievalSet
from crossalign.errors import DataFormatError
from crossalign.evaluation.evaluators.sts import read_sts_jsonl
from crossalign.evaluation.metrics.retrieval import read_trec_run, write_trec_run

LANGS = ["en", "de", "zh-CN", "hi", "km", "vi", "om", "eu"]
SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)

_chars = st.characters(blacklist_categories=("Cs",))
_special = st.sampled_from(
    [
        *("\t", "\n", "\r\n", "\u2028", "\u2029", "\x85", '"', "\\", "\x00"),
        *("\U0001f600", "\U0001f469\u200d\U0001f467", "e\u0301", "\u05e9\u05dc\u05d5\u05dd"),
    ]
)
#: Any text the JSON formats must carry: not blank, otherwise anything.
texts = st.lists(st.one_of(_chars, _special), min_size=1, max_size=30).map("".join).filter(lambda t: t.strip() != "")
#: Texts for line-based files: no line breaks (the format has none), anything else.
line_texts = texts.map(lambda t: "".join(c for c in t if c not in "\n\r")).filter(lambda t: t.strip() != "")
#: Ids that fit every format (TREC runs and qrels have whitespace-separated / tab-separated ids).
ids = st.text(string.ascii_letters + string.digits + "-_.:/#@é中", min_size=1, max_size=12)


@st.composite
def corpora(draw: st.DrawFn) -> ParallelCorpus:
    tuple_ids = draw(st.lists(ids, min_size=1, max_size=8, unique=True))
    tuples = []
    for tid in tuple_ids:
        langs = draw(st.lists(st.sampled_from(LANGS), min_size=1, max_size=4, unique=True))
        meta = draw(st.dictionaries(st.text(string.ascii_lowercase, min_size=1, max_size=5), texts, max_size=2))
        tuples.append(ParallelTuple(tid, {lang: draw(texts) for lang in langs}, meta))
    return ParallelCorpus(tuples, name="random")


@SETTINGS
@given(corpus=corpora())
def test_parallel_jsonl_round_trip(corpus: ParallelCorpus, tmp_path: Path) -> None:
    path = tmp_path / "parallel.jsonl"
    assert write_parallel_jsonl(corpus, path) == len(corpus)
    back = read_parallel_jsonl(path)
    assert [(t.id, dict(t.texts), dict(t.meta)) for t in back] == [(t.id, dict(t.texts), dict(t.meta)) for t in corpus]
    assert len(path.read_bytes().splitlines()) == len(corpus)  # one record per line, whatever the texts hold


@SETTINGS
@given(rows=st.lists(st.tuples(line_texts, line_texts), min_size=1, max_size=10))
def test_parallel_text_round_trip(rows: list[tuple[str, str]], tmp_path: Path) -> None:
    # Text mode reads "\r" alone as a line break too, so it cannot be inside a line either.
    rows = [(a.replace("\r", " "), b.replace("\r", " ")) for a, b in rows]
    assume(all(a.strip() and b.strip() for a, b in rows))
    files = {"en": tmp_path / "a.en", "zh-CN": tmp_path / "a.zh"}
    for i, path in enumerate(files.values()):
        path.write_text("".join(r[i] + "\n" for r in rows), encoding="utf-8", newline="")
    corpus = read_parallel_text(files, id_prefix="l")
    assert [(t.id, t.texts["en"], t.texts["zh-CN"]) for t in corpus] == [
        (f"l{i + 1}", a, b) for i, (a, b) in enumerate(rows)
    ]


@st.composite
def retrieval_sets(draw: st.DrawFn) -> RetrievalSet:
    qids = draw(st.lists(ids, min_size=1, max_size=6, unique=True))
    dids = draw(st.lists(ids, min_size=1, max_size=8, unique=True))
    meta_values = st.one_of(texts, st.integers(-5, 5), st.booleans(), st.none())
    meta = st.dictionaries(st.sampled_from(["xling_id", "page", "kind"]), meta_values, max_size=2)
    queries = [Query(q, draw(texts), draw(st.sampled_from(LANGS)), draw(meta)) for q in qids]
    docs = [
        Document(d, draw(texts), draw(st.sampled_from(LANGS)), draw(st.one_of(st.none(), texts)), draw(meta))
        for d in dids
    ]
    qrels = {
        q: draw(st.dictionaries(st.sampled_from(dids), st.integers(-1, 3), max_size=len(dids)))
        for q in draw(st.lists(st.sampled_from(qids), unique=True))
    }
    # A set with no relevant judgment at all is refused on reading (nothing to evaluate): keep one relevant pair.
    qrels.setdefault(qids[0], {})[draw(st.sampled_from(dids))] = draw(st.integers(1, 3))
    return RetrievalSet(queries, docs, qrels, name="random", provenance={"seed": draw(st.integers(0, 9))})


@SETTINGS
@given(rs=retrieval_sets())
def test_retrieval_set_round_trip(rs: RetrievalSet, tmp_path: Path) -> None:
    d = write_retrieval_set(rs, tmp_path / "set")
    back = read_retrieval_set(d)
    assert back.queries == rs.queries
    assert back.documents == rs.documents
    assert {q: j for q, j in back.qrels.items() if j} == {q: j for q, j in rs.qrels.items() if j}
    assert back.name == rs.name and back.provenance["seed"] == rs.provenance["seed"]
    back.validate()


@SETTINGS
@given(rows=st.lists(st.tuples(ids, ids, st.integers(-3, 1000)), max_size=20), header=st.booleans())
def test_qrels_round_trip(rows: list[tuple[str, str, int]], header: bool, tmp_path: Path) -> None:
    expected: dict[str, dict[str, int]] = {}
    lines = ["query_id\tdoc_id\trelevance"] if header else []
    for q, d, r in rows:
        if d in expected.get(q, {}):
            continue
        expected.setdefault(q, {})[d] = r
        lines.append(f"{q}\t{d}\t{r}")
    assume(header or not lines or lines[0].split("\t")[0].lower() not in {"query_id", "query-id", "qid", "query"})
    path = tmp_path / "qrels.tsv"
    path.write_text("".join(x + "\n" for x in lines), encoding="utf-8")
    assert read_qrels(path) == expected


@SETTINGS
@given(
    rows=st.lists(
        st.tuples(texts, texts, st.floats(-10, 10, allow_nan=False), st.sampled_from(LANGS), st.sampled_from(LANGS)),
        min_size=1,
        max_size=10,
    )
)
def test_sts_jsonl_round_trip(rows: list[tuple[str, str, float, str, str]], tmp_path: Path) -> None:
    path = tmp_path / "pairs.jsonl"
    keys = ("text1", "text2", "score", "lang1", "lang2")
    path.write_text("".join(json.dumps(dict(zip(keys, r)), ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    back = read_sts_jsonl(path)
    assert [(p.text1, p.text2, p.score, p.lang1, p.lang2) for p in back] == rows


@SETTINGS
@given(
    run=st.dictionaries(
        ids,
        st.dictionaries(ids, st.floats(allow_nan=False, allow_infinity=False, width=64), min_size=1, max_size=8),
        min_size=1,
        max_size=5,
    )
)
def test_trec_run_round_trip_is_bit_identical(run: dict[str, dict[str, float]], tmp_path: Path) -> None:
    path = tmp_path / "run.trec"
    write_trec_run(run, path, tag="prop")
    back = read_trec_run(path)
    assert back.to_dict() == run  # repr() of a float reads back to the same float, so ties stay ties


@pytest.mark.parametrize("bad", ["q\t1", "q\n1", " q1", "q1 "])
def test_writer_refuses_ids_qrels_cannot_hold_and_writes_nothing(bad: str, tmp_path: Path) -> None:
    rs = RetrievalSet([Query(bad, "Drucken", "de")], [Document("d1", "Print", "en")], {bad: {"d1": 1}})
    with pytest.raises(DataFormatError, match=r"cannot be written to qrels\.tsv") as info:
        write_retrieval_set(rs, tmp_path / "set")
    assert "field 'query_id'" in str(info.value) and "fix:" in str(info.value)
    assert not (tmp_path / "set").exists()


def test_writer_refuses_meta_keys_the_format_reserves(tmp_path: Path) -> None:
    rs = RetrievalSet([Query("q1", "Drucken", "de", {"lang": "en"})], [Document("d1", "Print", "en")], {})
    with pytest.raises(DataFormatError, match="meta key 'lang', which the format reserves"):
        write_retrieval_set(rs, tmp_path / "set")
    assert not (tmp_path / "set").exists()


def test_quoted_ids_in_qrels_are_kept_literally(tmp_path: Path) -> None:
    path = tmp_path / "qrels.tsv"
    path.write_text('"q1"\td"1\t1\n', encoding="utf-8")
    assert read_qrels(path) == {'"q1"': {'d"1': 1}}
