"""Issue #7, bad input: one catalog of every kind of bad input crossalign reads, each tried for real.

Every case writes a small bad input under ``tmp_path``, feeds it to the public reader that meets it first and checks
that the error is *one clear error*: a :class:`~crossalign.errors.CrossalignError` (so the CLI prints it without a
traceback), whose message names the file, the 1-based line and the field where they apply, and whose ``fix:`` line
says what to do. The last tests run the CLI on bad input and check that nothing was written, not even half.

The README's "Reliability" section quotes ``len(CASES)`` as the number of bad inputs tried. Deeper tests of single
readers live next to them (``tests/unit/data/test_io.py``, ``tests/unit/losses/test_column_validation.py``,
``tests/unit/models/test_models_format.py``, ...); this module is the index.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from crossalign.errors import (
    CorruptFileError,
    CrossalignError,
    DataFormatError,
    ModelError,
    UnknownLanguageError,
)

Thunk = Callable[[], Any]


@dataclass(frozen=True)
class Case:
    """A bad input: ``make(tmp_path)`` writes it and returns the call that must fail."""

    id: str
    make: Callable[[Path], Thunk]
    error: type[CrossalignError]
    expect: tuple[str, ...]  # substrings the message must contain: file, line, field, what is wrong


# ------------------------------------------------------------------------------------------------------ writers
def _lines(path: Path, *rows: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in rows))
    return path


def _parallel(tmp: Path, *rows: Any) -> Thunk:
    from crossalign.data.io import read_parallel_jsonl

    path = _lines(tmp / "parallel.jsonl", *rows)
    return lambda: read_parallel_jsonl(path)


GOOD_TUPLE = {"id": "t1", "texts": {"en": "Print", "de": "Drucken"}}


def _retrieval_set(
    tmp: Path,
    *,
    queries: list[Any] | None = None,
    corpus: list[Any] | None = None,
    qrels: str = "query_id\tdoc_id\trelevance\nq1\td1\t1\n",
    meta: Any = None,
) -> Path:
    d = tmp / "set"
    _lines(d / "queries.jsonl", *(queries or [{"id": "q1", "text": "Drucken", "lang": "de"}]))
    _lines(d / "corpus.jsonl", *(corpus or [{"id": "d1", "text": "Printing a document", "lang": "en"}]))
    (d / "qrels.tsv").write_text(qrels, encoding="utf-8")
    if meta is not None:
        (d / "meta.json").write_text(meta if isinstance(meta, str) else json.dumps(meta), encoding="utf-8")
    return d


def _read_set(tmp: Path, **kw: Any) -> Thunk:
    from crossalign.evaluation.suites import load_user_data

    d = _retrieval_set(tmp, **kw)
    return lambda: load_user_data(d)


def _parallel_text(tmp: Path, files: dict[str, str]) -> Thunk:
    from crossalign.data.io import read_parallel_text

    paths = {}
    for lang, text in files.items():
        paths[lang] = tmp / f"corpus.{lang}"
        paths[lang].write_text(text, encoding="utf-8")
    return lambda: read_parallel_text(paths)


def _parallel_bytes(tmp: Path, data: bytes) -> Thunk:
    from crossalign.data.io import read_parallel_jsonl

    (tmp / "parallel.jsonl").write_bytes(data)
    return lambda: read_parallel_jsonl(tmp / "parallel.jsonl")


def _parallel_text_bytes(tmp: Path, en: bytes, de: bytes) -> Thunk:
    from crossalign.data.io import read_parallel_text

    (tmp / "corpus.en").write_bytes(en)
    (tmp / "corpus.de").write_bytes(de)
    return lambda: read_parallel_text({"en": tmp / "corpus.en", "de": tmp / "corpus.de"})


def _trec_run(tmp: Path, data: bytes) -> Thunk:
    from crossalign.evaluation.metrics.retrieval import read_trec_run

    (tmp / "run.trec").write_bytes(data)
    return lambda: read_trec_run(tmp / "run.trec")


def _lang_option(value: str) -> Thunk:
    from crossalign.languages import parse_lang_list

    return lambda: parse_lang_list(value)


def _model_file(tmp: Path) -> Thunk:
    from crossalign.models import load_model

    (tmp / "weights.bin").write_bytes(b"x")
    return lambda: load_model(tmp / "weights.bin")


def _sts(tmp: Path, row: dict[str, Any]) -> Thunk:
    from crossalign.evaluation.suites import load_user_data

    good = {"text1": "a cat", "text2": "eine Katze", "score": 4.5, "lang1": "en", "lang2": "de"}
    path = _lines(tmp / "pairs.jsonl", good, {**good, **row})
    return lambda: load_user_data(path)


def _results(tmp: Path, edit: Callable[[dict[str, Any]], None]) -> Thunk:
    from crossalign.evaluation.results import EvaluationResult, TaskScore, load_results

    result = EvaluationResult(
        model={"spec": "m"},
        data={"source": "x"},
        config={},
        tasks=[TaskScore("retrieval", "lo", "de", "en", {"en": 3}, 2, "ndcg@10", {"ndcg@10": 0.5})],
    )
    d = result.to_dict()
    edit(d)
    path = tmp / "run" / "results.json"
    path.parent.mkdir()
    path.write_text(json.dumps(d), encoding="utf-8")
    return lambda: load_results(path)


def _model_dir(tmp: Path, *, weights: bytes | None = None, files: tuple[str, ...] = ()) -> Thunk:
    from crossalign.models import load_model

    d = tmp / "my-model"
    d.mkdir()
    for name in files:
        (d / name).write_text("{}", encoding="utf-8")
    if weights is not None:
        (d / "model.safetensors").write_bytes(weights)
    return lambda: load_model(d, device="cpu")


def _safetensors_bytes() -> bytes:
    from safetensors.numpy import save

    return save({"embeddings.weight": np.arange(64, dtype=np.float32).reshape(8, 8)})


def _clear_columns(tmp: Path) -> Thunk:
    from crossalign.losses import build_loss

    torch = pytest.importorskip("torch")
    loss = build_loss("clear", torch.nn.Linear(1, 1))
    columns = ["anchor", "positive", "negative_1", "negative_2", "cross_anchor", "neg_query_1"]
    return lambda: loss.validate_columns(columns)


# -------------------------------------------------------------------------------------------------------- cases
CASES: list[Case] = [
    # --- JSONL framing
    Case(
        "jsonl-broken-line",
        lambda t: _parallel(t, GOOD_TUPLE, '{"id": "t2", "texts": {"en": "Save"'),
        DataFormatError,
        ("parallel.jsonl:2", "not valid JSON"),
    ),
    Case(
        "jsonl-line-not-an-object",
        lambda t: _parallel(t, GOOD_TUPLE, '["t2", "Save"]'),
        DataFormatError,
        ("parallel.jsonl:2", "expected a JSON object, got list"),
    ),
    Case(
        "jsonl-not-utf8",
        lambda t: _parallel_bytes(t, b'{"id": "t1", "texts": {"en": "caf\xe9", "de": "Caf\xe9"}}\n'),
        DataFormatError,
        ("parallel.jsonl:1", "not UTF-8", "0xe9"),
    ),
    Case("jsonl-empty-file", lambda t: _parallel(t, "   "), DataFormatError, ("parallel.jsonl", "no records")),
    # --- missing or misnamed columns
    Case(
        "missing-column",
        lambda t: _read_set(t, queries=[{"id": "q1", "text": "Drucken"}]),
        DataFormatError,
        ("queries.jsonl:1", "field 'lang'", "missing column 'lang'", "columns present: id, text"),
    ),
    Case(
        "misnamed-column-text",
        lambda t: _read_set(t, corpus=[{"id": "d1", "txt": "Printing", "lang": "en"}]),
        DataFormatError,
        ("corpus.jsonl:1", "field 'text'", "columns present: id, lang, txt"),
    ),
    Case(
        "misnamed-column-texts",
        lambda t: _parallel(t, GOOD_TUPLE, {"id": "t2", "text": {"en": "Save", "de": "Speichern"}}),
        DataFormatError,
        ("parallel.jsonl:2", "field 'texts'", "missing column 'texts'"),
    ),
    Case(
        "sts-missing-column",
        lambda t: _sts_missing(t),
        DataFormatError,
        ("pairs.jsonl:2", "field 'score'", "missing column 'score'"),
    ),
    # --- empty, whitespace-only and None values
    Case(
        "empty-text",
        lambda t: _read_set(t, corpus=[{"id": "d1", "text": "", "lang": "en"}]),
        DataFormatError,
        ("corpus.jsonl:1", "field 'text'", "empty or whitespace only"),
    ),
    Case(
        "whitespace-only-text",
        lambda t: _parallel(t, GOOD_TUPLE, {"id": "t2", "texts": {"en": "Save", "de": " \t\u3000"}}),
        DataFormatError,
        ("parallel.jsonl:2", "field 'texts.de'", "empty or whitespace only"),
    ),
    Case(
        "none-text",
        lambda t: _read_set(t, queries=[{"id": "q1", "text": None, "lang": "de"}]),
        DataFormatError,
        ("queries.jsonl:1", "field 'text'", "value is null"),
    ),
    Case(
        "none-id",
        lambda t: _parallel(t, {"id": None, "texts": {"en": "Print", "de": "Drucken"}}),
        DataFormatError,
        ("parallel.jsonl:1", "field 'id'", "id is missing or null"),
    ),
    Case(
        "none-language",
        lambda t: _read_set(t, corpus=[{"id": "d1", "text": "Printing", "lang": None}]),
        DataFormatError,
        ("corpus.jsonl:1", "field 'lang'", "language must be a string"),
    ),
    Case(
        "non-string-text",
        lambda t: _sts(t, {"text2": 42}),
        DataFormatError,
        ("pairs.jsonl:2", "field 'text2'", "expected a string, got int"),
    ),
    Case(
        "sts-score-not-a-number",
        lambda t: _sts(t, {"score": "high"}),
        DataFormatError,
        ("pairs.jsonl:2", "field 'score'", "finite number"),
    ),
    # --- unknown language codes
    Case(
        "unknown-language-parallel",
        lambda t: _parallel(t, GOOD_TUPLE, {"id": "t2", "texts": {"en": "Save", "xx": "Sp"}}),
        DataFormatError,
        ("parallel.jsonl:2", "field 'texts.xx'", "unknown language code 'xx'", "known languages"),
    ),
    Case(
        "unknown-language-query",
        lambda t: _read_set(t, queries=[{"id": "q1", "text": "Drucken", "lang": "german"}]),
        DataFormatError,
        ("queries.jsonl:1", "field 'lang'", "unknown language code 'german'"),
    ),
    Case(
        "unknown-language-sts",
        lambda t: _sts(t, {"lang2": "zz-top"}),
        DataFormatError,
        ("pairs.jsonl:2", "field 'lang2'", "unknown language code 'zz-top'"),
    ),
    Case(
        "unknown-language-option",
        lambda t: _lang_option("de,klingon"),
        UnknownLanguageError,
        ("--langs", "unknown language code 'klingon'"),
    ),
    # --- parallel files of different lengths, blank lines
    Case(
        "parallel-files-different-lengths",
        lambda t: _parallel_text(t, {"en": "Print\nSave\nOpen\n", "de": "Drucken\nSpeichern\n"}),
        DataFormatError,
        ("corpus.en (en): 3 lines", "corpus.de (de): 2 lines", "misaligned"),
    ),
    Case(
        "parallel-files-blank-line",
        lambda t: _parallel_text(t, {"en": "Print\nSave\n", "de": "Drucken\n  \n"}),
        DataFormatError,
        ("corpus.de:2", "field 'de'", "delete line 2 from every file"),
    ),
    Case(
        "parallel-file-not-utf8",
        lambda t: _parallel_text_bytes(t, b"Print\nSave\n", b"Drucken\nSpeichern unter \xe0\n"),
        DataFormatError,
        ("corpus.de:2", "not UTF-8", "column 17"),
    ),
    # --- TREC run files
    Case(
        "trec-run-not-utf8",
        lambda t: _trec_run(t, b"q1 Q0 d1 1 0.5 run\nq1 Q0 d\xff 2 0.4 run\n"),
        DataFormatError,
        ("run.trec:2", "not UTF-8"),
    ),
    Case(
        "trec-run-score-not-a-number",
        lambda t: _trec_run(t, b"q1 Q0 d1 1 0.5 run\nq1 Q0 d2 2 high run\n"),
        DataFormatError,
        ("run.trec:2", "field 'score'", "'high' is not a number"),
    ),
    # --- duplicate ids
    Case(
        "duplicate-tuple-id",
        lambda t: _parallel(t, GOOD_TUPLE, {"id": "t2", "texts": {"en": "A", "de": "B"}}, GOOD_TUPLE),
        DataFormatError,
        ("parallel.jsonl:3", "field 'id'", "duplicate tuple id 't1' (first at line 1)"),
    ),
    Case(
        "duplicate-document-id",
        lambda t: _read_set(
            t, corpus=[{"id": "d1", "text": "A b", "lang": "en"}, {"id": "d1", "text": "C d", "lang": "en"}]
        ),
        DataFormatError,
        ("corpus.jsonl:2", "field 'id'", "duplicate document id 'd1'"),
    ),
    Case(
        "duplicate-query-id",
        lambda t: _read_set(
            t, queries=[{"id": "q1", "text": "A", "lang": "de"}, {"_id": "q1", "text": "B", "lang": "de"}]
        ),
        DataFormatError,
        ("queries.jsonl:2", "field 'id'", "duplicate query id 'q1'"),
    ),
    # --- qrels
    Case(
        "qrels-unknown-document",
        lambda t: _read_set(t, qrels="q1\td1\t1\nq1\td9\t1\n"),
        DataFormatError,
        ("qrels.tsv:2", "field 'doc_id'", "document id 'd9' is not in the corpus"),
    ),
    Case(
        "qrels-unknown-query",
        lambda t: _read_set(t, qrels="query_id\tdoc_id\trelevance\nq7\td1\t1\n"),
        DataFormatError,
        ("qrels.tsv:2", "field 'query_id'", "query id 'q7' is not in the queries file"),
    ),
    Case(
        "qrels-relevance-not-integer",
        lambda t: _read_set(t, qrels="q1\td1\tyes\n"),
        DataFormatError,
        ("qrels.tsv:1", "field 'relevance'", "'yes' is not an integer"),
    ),
    Case(
        "qrels-wrong-column-count",
        lambda t: _read_set(t, qrels="q1\td1\t1\nq1\td1\n"),
        DataFormatError,
        ("qrels.tsv:2", "expected 3 tab-separated columns"),
    ),
    Case(
        "qrels-conflicting-duplicate",
        lambda t: _read_set(t, qrels="q1\td1\t1\nq1\td1\t0\n"),
        DataFormatError,
        ("qrels.tsv:2", "field 'relevance'", "judged twice", "(line 1)"),
    ),
    # --- descriptor and results JSON: unknown keys, wrong types
    Case(
        "meta-json-unknown-key",
        lambda t: _read_set(t, meta={"name": "x", "lang": "de"}),
        DataFormatError,
        ("meta.json", "field 'lang'", "unknown key 'lang'"),
    ),
    Case(
        "meta-json-wrong-type",
        lambda t: _read_set(t, meta={"name": "x", "provenance": "LibreOffice 7.4"}),
        DataFormatError,
        ("meta.json", "field 'provenance'", "must be an object, got str"),
    ),
    Case(
        "meta-json-broken",
        lambda t: _read_set(t, meta='{"name": "x",\n "provenance": }'),
        DataFormatError,
        ("meta.json:2", "not valid JSON"),
    ),
    Case(
        "results-json-broken",
        lambda t: _results_text(t, '{"model": {},\n  "tasks": [\n'),
        DataFormatError,
        ("results.json:3", "not valid JSON"),
    ),
    Case(
        "results-json-unknown-key",
        lambda t: _results(t, lambda d: d["tasks"][0].update(score=0.5)),
        DataFormatError,
        ("results.json", "field 'tasks[0].score'", "unknown key 'score'"),
    ),
    Case(
        "results-json-wrong-type",
        lambda t: _results(t, lambda d: d["tasks"][0].update(n_queries="two")),
        DataFormatError,
        ("results.json", "field 'tasks[0].n_queries'", "must be a non-negative integer, got str"),
    ),
    Case(
        "results-json-score-not-a-number",
        lambda t: _results(t, lambda d: d["tasks"][0]["scores"].update({"ndcg@10": "0.5"})),
        DataFormatError,
        ("results.json", "field 'tasks[0].scores'", "metric -> number"),
    ),
    Case(
        "results-json-main-score-missing",
        lambda t: _results(t, lambda d: d["tasks"][0].update(main_score="map")),
        DataFormatError,
        ("results.json", "field 'tasks[0].main_score'", "'map' is not among the scores"),
    ),
    # --- CLEAR: different numbers of passage and query negatives with the KL term on
    Case(
        "clear-unequal-negative-counts",
        _clear_columns,
        DataFormatError,
        ("field 'neg_query_2'", "found 2 negative_* and 1 neg_query_*", "use_kl=False"),
    ),
    # --- models
    Case(
        "model-path-not-a-model",
        lambda t: _model_dir(t, files=("notes.json",)),
        ModelError,
        ("my-model is not a model directory", "neither modules.json"),
    ),
    Case(
        "model-path-is-a-file",
        _model_file,
        ModelError,
        ("weights.bin is a file, not a model directory",),
    ),
    Case(
        "model-weights-truncated",
        lambda t: _model_dir(t, weights=_safetensors_bytes()[:-100], files=("config.json", "tokenizer.json")),
        CorruptFileError,
        ("my-model/model.safetensors", "truncated safetensors file", "the file has"),
    ),
    Case(
        "model-weights-cut-in-header",
        lambda t: _model_dir(t, weights=_safetensors_bytes()[:20], files=("config.json", "tokenizer.json")),
        CorruptFileError,
        ("my-model/model.safetensors", "the header alone needs"),
    ),
    Case(
        "model-weights-not-safetensors",
        lambda t: _model_dir(t, weights=b"<html>404</html>", files=("config.json", "tokenizer.json")),
        CorruptFileError,
        ("my-model/model.safetensors", "not a safetensors file"),
    ),
]


def _sts_missing(tmp: Path) -> Thunk:
    from crossalign.evaluation.suites import load_user_data

    good = {"text1": "a cat", "text2": "eine Katze", "score": 4.5, "lang1": "en", "lang2": "de"}
    bad = {k: v for k, v in good.items() if k != "score"} | {"similarity": 4.5}
    path = _lines(tmp / "pairs.jsonl", good, bad)
    return lambda: load_user_data(path)


def _results_text(tmp: Path, text: str) -> Thunk:
    from crossalign.evaluation.results import load_results

    path = tmp / "results.json"
    path.write_text(text, encoding="utf-8")
    return lambda: load_results(path)


def test_case_ids_are_unique() -> None:
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_gives_one_clear_error(case: Case, tmp_path: Path) -> None:
    call = case.make(tmp_path)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    with pytest.raises(CrossalignError) as info:
        call()
    err = info.value
    assert isinstance(err, case.error), f"{type(err).__name__}: {err}"
    text = str(err)
    for part in case.expect:
        assert part in text, f"{part!r} not in:\n{text}"
    # one clear error: the message on one line, then the fix on the next
    message, _, fix = text.partition("\n  fix: ")
    assert "\n" not in message and fix.strip() and "\n" not in fix, text
    # reading never writes: nothing appeared next to the input (no cache, no temporary file)
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


# ------------------------------------------------------------------------------------- the CLI writes nothing half
def _tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def test_data_build_on_a_broken_line_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from crossalign.cli.main import main

    rows = [{"id": f"t{i}", "texts": {"en": f"Print page {i}", "de": f"Seite {i} drucken"}} for i in range(30)]
    src = _lines(tmp_path / "in" / "tuples.jsonl", *rows[:20], '{"id": "t20", "texts": {', *rows[21:])
    out = tmp_path / "out" / "multiway"
    before = _tree(tmp_path)
    argv = ["--no-progress", "data", "build", "--format", "multiway", "--langs", "de", "--source", str(src)]
    assert main([*argv, "--output", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"{src}:21: not valid JSON" in err and "fix:" in err and "Traceback" not in err
    assert _tree(tmp_path) == before or _tree(tmp_path) == sorted([*before, "out"])
    assert not out.exists()


def test_evaluate_on_a_bad_set_writes_no_results(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sys.path.insert(0, str(Path(__file__).parent / "evaluation"))
    try:
        from evaluation_testkit import save_tiny_st_model
    finally:
        sys.path.pop(0)
    from crossalign.cli.main import main

    model = save_tiny_st_model(tmp_path / "model")
    bad = _retrieval_set(tmp_path, qrels="q1\td1\t1\nq1\tmissing-doc\t1\n")
    out = tmp_path / "eval-out"
    argv = ["--no-progress", "evaluate", "--model", str(model), "--data", str(bad), "--output", str(out)]
    assert main([*argv, "--cache-dir", str(tmp_path / "cache")]) == 2
    err = capsys.readouterr().err
    assert f"{bad / 'qrels.tsv'}:2, field 'doc_id'" in err and "fix:" in err
    assert not out.exists()
    assert not (tmp_path / "cache" / "embeddings").exists() or not any(
        (tmp_path / "cache" / "embeddings").rglob("*.npy")
    )
