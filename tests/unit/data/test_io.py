from __future__ import annotations

import json
from pathlib import Path

import datasets
import pytest

from crossalign.data.io import (
    parallel_from_hf,
    parallel_to_hf,
    read_parallel_jsonl,
    read_parallel_text,
    read_qrels,
    read_retrieval_set,
    write_parallel_jsonl,
    write_retrieval_set,
)
from crossalign.data.records import Document, ParallelCorpus, ParallelTuple, Query, RetrievalSet
from crossalign.errors import DataFormatError


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_parallel_jsonl_round_trip(tmp_path: Path) -> None:
    corpus = ParallelCorpus(
        [
            ParallelTuple("p1", {"en": "Print", "zh-CN": "打印"}, {"page": "a.html"}),
            ParallelTuple("p2", {"en": "Save", "de": "Speichern"}),
        ]
    )
    path = tmp_path / "parallel.jsonl"
    assert write_parallel_jsonl(corpus, path) == 2
    back = read_parallel_jsonl(path)
    assert [(t.id, dict(t.texts), dict(t.meta)) for t in back] == [(t.id, dict(t.texts), dict(t.meta)) for t in corpus]


def test_parallel_jsonl_normalises_codes(tmp_path: Path) -> None:
    path = _write(tmp_path / "p.jsonl", [json.dumps({"id": 1, "texts": {"EN": "a", "zh_cn": "b"}})])
    (t,) = read_parallel_jsonl(path)
    assert t.id == "1" and dict(t.texts) == {"en": "a", "zh-CN": "b"}


@pytest.mark.parametrize(
    ("line", "expect"),
    [
        ('{"id": "a", "texts": {"en": "x"', "not valid JSON"),
        ('["a"]', "expected a JSON object"),
        ('{"id": "a", "text": {"en": "x"}}', "missing column 'texts' (columns present: id, text)"),
        ('{"id": "a", "texts": {"en": "  "}}', "field 'texts.en': text is empty"),
        ('{"id": "a", "texts": {"en": null}}', "field 'texts.en': value is null"),
        ('{"id": "a", "texts": {"xx": "x"}}', "unknown language code 'xx'"),
        ('{"id": "", "texts": {"en": "x"}}', "id must be a non-empty string"),
        ('{"id": "a", "texts": {"en": "x", "EN": "y"}}', "appears twice"),
    ],
)
def test_parallel_jsonl_errors_name_file_and_line(tmp_path: Path, line: str, expect: str) -> None:
    path = _write(tmp_path / "bad.jsonl", ['{"id": "ok", "texts": {"en": "fine"}}', line])
    with pytest.raises(DataFormatError) as info:
        read_parallel_jsonl(path)
    assert f"{path}:2" in str(info.value)
    assert expect in str(info.value)
    assert "fix:" in str(info.value) or info.value.hint is None


def test_parallel_jsonl_duplicate_ids(tmp_path: Path) -> None:
    path = _write(tmp_path / "d.jsonl", ['{"id": "a", "texts": {"en": "x"}}', '{"id": "a", "texts": {"en": "y"}}'])
    with pytest.raises(DataFormatError, match=r"d.jsonl:2.*duplicate tuple id 'a' \(first at line 1\)"):
        read_parallel_jsonl(path)


def test_parallel_text_files(tmp_path: Path) -> None:
    en = _write(tmp_path / "a.en", ["Print", "Save"])
    de = _write(tmp_path / "a.de", ["Drucken", "Speichern"])
    corpus = read_parallel_text({"en": en, "de": de}, id_prefix="s")
    assert corpus.pairs("de", "en") == [("s1", "Drucken", "Print"), ("s2", "Speichern", "Save")]


def test_parallel_text_misaligned_names_both_files(tmp_path: Path) -> None:
    en = _write(tmp_path / "a.en", ["Print", "Save", "Open"])
    de = _write(tmp_path / "a.de", ["Drucken", "Speichern"])
    with pytest.raises(DataFormatError) as info:
        read_parallel_text({"en": en, "de": de})
    msg = str(info.value)
    assert "misaligned" in msg and f"{en} (en): 3 lines" in msg and f"{de} (de): 2 lines" in msg


def test_parallel_text_blank_line(tmp_path: Path) -> None:
    en = _write(tmp_path / "a.en", ["Print", "  "])
    de = _write(tmp_path / "a.de", ["Drucken", "Speichern"])
    with pytest.raises(DataFormatError, match=r"a.en:2, field 'en': text is empty"):
        read_parallel_text({"en": en, "de": de})


def test_hf_layouts() -> None:
    ds = datasets.Dataset.from_dict({"id": ["1", "2"], "en": ["a", "b"], "de": ["x", None]})
    corpus = parallel_from_hf(ds)
    assert [dict(t.texts) for t in corpus] == [{"en": "a", "de": "x"}, {"en": "b"}]
    tr = datasets.Dataset.from_dict({"translation": [{"en": "a", "fr": "b"}]})
    assert dict(parallel_from_hf(tr)["1"].texts) == {"en": "a", "fr": "b"}
    back = parallel_from_hf(parallel_to_hf(corpus))
    assert [dict(t.texts) for t in back] == [dict(t.texts) for t in corpus]
    with pytest.raises(DataFormatError, match="column 'foo'"):
        parallel_from_hf(datasets.Dataset.from_dict({"id": ["1"], "foo": ["a"]}))
    with pytest.raises(DataFormatError, match="row 1"):
        parallel_from_hf(datasets.Dataset.from_dict({"id": ["1"], "en": ["  "]}))


def _rs() -> RetrievalSet:
    return RetrievalSet(
        [Query("q1", "Drucken", "de", {"xling_id": "t1"})],
        [Document("d1", "Printing", "en", "Print"), Document("d2", "Drucken ...", "de")],
        {"q1": {"d1": 1, "d2": 2}},
        name="x",
        provenance={"built_by": "test"},
    )


def test_retrieval_set_round_trip(tmp_path: Path) -> None:
    write_retrieval_set(_rs(), tmp_path / "rs")
    back = read_retrieval_set(tmp_path / "rs")
    assert back.name == "x"
    assert back.queries == _rs().queries
    assert back.documents == _rs().documents
    assert back.qrels == {"q1": {"d1": 1, "d2": 2}}
    assert back.provenance["built_by"] == "test"
    # the same judgments in TREC's four columns, for trec_eval; and read back like the BEIR file
    assert (tmp_path / "rs" / "qrels.trec").read_text().splitlines() == ["q1 0 d1 1", "q1 0 d2 2"]
    assert read_qrels(tmp_path / "rs" / "qrels.trec") == back.qrels
    spaced = RetrievalSet([Query("q 1", "a", "de")], [Document("d1", "b", "en")], {"q 1": {"d1": 1}}, name="s")
    assert not (write_retrieval_set(spaced, tmp_path / "spaced") / "qrels.trec").exists()  # TREC cannot hold it


def test_retrieval_set_errors(tmp_path: Path) -> None:
    d = write_retrieval_set(_rs(), tmp_path / "rs")
    (d / "qrels.tsv").write_text("query_id\tdoc_id\trelevance\nq1\td9\t1\n")
    with pytest.raises(DataFormatError, match=r"qrels.tsv:2, field 'doc_id': document id 'd9' is not in the corpus"):
        read_retrieval_set(d)
    (d / "qrels.tsv").write_text("q1\td1\thigh\n")
    with pytest.raises(DataFormatError, match=r"qrels\.tsv:1, field 'relevance'"):
        read_retrieval_set(d)
    (d / "qrels.tsv").write_text("q1\td1\n")
    with pytest.raises(DataFormatError, match="expected 3 tab-separated columns"):
        read_retrieval_set(d)
    (d / "queries.jsonl").write_text('{"id": "q1", "text": "x"}\n')
    with pytest.raises(DataFormatError, match=r"queries.jsonl:1, field 'lang': missing column 'lang'"):
        read_retrieval_set(d)
    (d / "corpus.jsonl").unlink()
    with pytest.raises(DataFormatError, match=r"missing corpus\.jsonl"):
        read_retrieval_set(d)


def test_qrels_formats(tmp_path: Path) -> None:
    beir = _write(tmp_path / "beir.tsv", ["query-id\tcorpus-id\tscore", "q1\td1\t1"])
    trec = _write(tmp_path / "trec.txt", ["q1 0 d1 1", "q1 0 d2 0"])
    assert read_qrels(beir) == {"q1": {"d1": 1}}
    assert read_qrels(trec) == {"q1": {"d1": 1, "d2": 0}}


def _beir_folder(root: Path) -> Path:
    """A BEIR folder as BEIR's GenericDataLoader reads it: ``_id`` records without ``lang``, ``qrels/<split>.tsv``."""
    root.mkdir(parents=True)
    _write(
        root / "corpus.jsonl",
        [
            json.dumps({"_id": "d1", "title": "Labels", "text": "Choose File - New - Labels.", "metadata": {}}),
            json.dumps({"_id": "d2", "title": "", "text": "Press F1 for help."}),
            json.dumps({"_id": "d3", "title": "Only a title", "text": ""}),
        ],
    )
    _write(
        root / "queries.jsonl",
        [
            json.dumps({"_id": "q1", "text": "Etiketten drucken", "metadata": {}}),
            json.dumps({"_id": "q2", "text": "Hilfe öffnen"}),
            json.dumps({"_id": "q3", "text": "Nur im Dev-Split"}),
        ],
    )
    (root / "qrels").mkdir()
    _write(root / "qrels" / "test.tsv", ["query-id\tcorpus-id\tscore", "q1\td1\t1", "q2\td2\t1", "q2\td3\t0"])
    _write(root / "qrels" / "dev.tsv", ["query-id\tcorpus-id\tscore", "q3\td3\t2"])
    return root


def test_beir_folder_reads_with_default_languages(tmp_path: Path) -> None:
    d = _beir_folder(tmp_path / "toy-beir")
    rs = read_retrieval_set(d, query_lang="de", doc_lang="EN")
    # only the queries judged in the split, as BEIR's loader keeps them
    assert [(q.id, q.lang) for q in rs.queries] == [("q1", "de"), ("q2", "de")]
    assert rs.qrels == {"q1": {"d1": 1}, "q2": {"d2": 1, "d3": 0}}
    # passages are title + " " + text, as BEIR and MTEB encode them
    assert [(x.id, x.text, x.lang) for x in rs.documents] == [
        ("d1", "Labels Choose File - New - Labels.", "en"),
        ("d2", "Press F1 for help.", "en"),
        ("d3", "Only a title", "en"),
    ]
    assert rs.name == "toy-beir" and rs.provenance["format"] == "beir" and rs.provenance["split"] == "test"
    dev = read_retrieval_set(d, query_lang="de", doc_lang="en", split="dev")
    assert [q.id for q in dev.queries] == ["q3"] and dev.name == "toy-beir/dev"
    # a record's own lang wins over the default
    lines = (d / "queries.jsonl").read_text().splitlines()
    lines[0] = json.dumps({"_id": "q1", "text": "Imprimer des étiquettes", "lang": "fr"})
    _write(d / "queries.jsonl", lines)
    assert [q.lang for q in read_retrieval_set(d, query_lang="de", doc_lang="en").queries] == ["fr", "de"]


def test_beir_folder_errors_name_file_line_field_and_fix(tmp_path: Path) -> None:
    d = _beir_folder(tmp_path / "toy-beir")
    with pytest.raises(DataFormatError) as exc:
        read_retrieval_set(d, doc_lang="en")
    msg = str(exc.value)
    assert msg.startswith(f"{d / 'queries.jsonl'}:1, field 'lang': missing column 'lang'")
    assert "--query-lang CODE (Python: query_lang=CODE)" in msg
    with pytest.raises(DataFormatError, match=r"corpus\.jsonl:1, field 'lang'.*\n.*--doc-lang CODE"):
        read_retrieval_set(d, query_lang="de")
    with pytest.raises(DataFormatError, match=r"field 'split': no qrels for split 'train' .*splits present: dev, test"):
        read_retrieval_set(d, query_lang="de", doc_lang="en", split="train")
    with pytest.raises(DataFormatError, match=r"field '--query-lang': .*unknown language code 'xx-nope'"):
        read_retrieval_set(d, query_lang="xx-nope", doc_lang="en")
    _write(d / "qrels" / "test.tsv", ["query-id\tcorpus-id\tscore", "q1\td9\t1"])
    with pytest.raises(DataFormatError, match=r"test\.tsv:2, field 'doc_id': document id 'd9' is not in the corpus"):
        read_retrieval_set(d, query_lang="de", doc_lang="en")
    # a split asked of crossalign's one-file layout
    flat = write_retrieval_set(_rs(), tmp_path / "flat")
    with pytest.raises(DataFormatError, match=r"field 'split': split 'dev' asked for, but the directory has one"):
        read_retrieval_set(flat, split="dev")
    (flat / "qrels.tsv").unlink()
    with pytest.raises(DataFormatError, match=r"missing qrels\.tsv \(or BEIR's qrels/<split>\.tsv\)"):
        read_retrieval_set(flat)
