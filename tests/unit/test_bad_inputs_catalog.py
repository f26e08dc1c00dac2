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
    ConfigError,
    CorruptFileError,
    CrossalignError,
    DataFormatError,
    MissingDependencyError,
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


def _training_file(tmp: Path, name: str, data: bytes | str, method: str = "infonce") -> Thunk:
    from crossalign.training.data import load_training_data

    path = tmp / name
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    return lambda: load_training_data(path, method)


def _empty_parquet(tmp: Path) -> Thunk:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from crossalign.training.data import load_training_data

    pq.write_table(
        pa.table({"anchor": pa.array([], pa.string()), "positive": pa.array([], pa.string())}), tmp / "t.parquet"
    )
    return lambda: load_training_data(tmp / "t.parquet", "infonce")


def _train_config(**values: Any) -> Thunk:
    from crossalign.training import TrainConfig

    return lambda: TrainConfig(**values)


def _config_file(tmp: Path, data: bytes) -> Thunk:
    from crossalign.training import TrainConfig

    (tmp / "train.yaml").write_bytes(data)
    return lambda: TrainConfig.from_file(tmp / "train.yaml")


def _freeze_past_last_layer(tmp: Path) -> Thunk:
    from crossalign.training.freeze import apply_freeze

    torch = pytest.importorskip("torch")
    model = torch.nn.ModuleDict({"layer": torch.nn.ModuleList([torch.nn.Linear(2, 2) for _ in range(12)])})
    return lambda: apply_freeze(model, "layers:0-99")


def _deepspeed(tmp: Path) -> Thunk:
    import importlib.util

    if importlib.util.find_spec("deepspeed") is not None:
        pytest.skip("deepspeed is installed here")
    (tmp / "ds.json").write_text("{}", encoding="utf-8")
    return _train_config(deepspeed=str(tmp / "ds.json"))


def _output(tmp: Path, under_file: bool) -> Thunk:
    from crossalign.utils.atomic import check_output_location

    (tmp / "results").write_text("x", encoding="utf-8")
    target = tmp / "results" / "run" if under_file else tmp / "results"
    return lambda: check_output_location(target, what="--output")


def _resume_on_corrupt_summary(tmp: Path) -> Thunk:
    from crossalign.training import TrainConfig
    from crossalign.training.callbacks import mark_complete
    from crossalign.workflows.train import train

    run = tmp / "run"
    (run / "model").mkdir(parents=True)
    mark_complete(run / "model", step=2)
    (run / "train_summary.json").write_text('{"global_step": 2,', encoding="utf-8")
    cfg = TrainConfig(method="infonce", model=str(tmp / "no-model"), data="x.jsonl", output_dir=str(run))
    return lambda: train(cfg, resume=True)


def _demo_budget(**budget: Any) -> Thunk:
    from crossalign.workflows.demo import DemoConfig

    return lambda: DemoConfig(output_dir="demo", budget=budget).resolved_budget()


def _run_dir_as_model(tmp: Path) -> Thunk:
    from crossalign.models import load_model

    (tmp / "runs" / "base" / "model").mkdir(parents=True)
    (tmp / "runs" / "base" / "model" / "modules.json").write_text("[]", encoding="utf-8")
    (tmp / "runs" / "base" / "train_log.jsonl").write_text("", encoding="utf-8")
    return lambda: load_model(tmp / "runs" / "base", device="cpu")


def _device(name: str) -> Thunk:
    from crossalign.models.loading import check_device

    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    return lambda: check_device(name)


def _multiway_without_language(tmp: Path) -> Thunk:
    from crossalign.data.builders.multiway import build_multiway

    rows = [{"id": f"t{i}", "texts": {"en": f"Print page {i}", "de": f"Seite {i} drucken"}} for i in range(6)]
    path = _lines(tmp / "tuples.jsonl", *rows)
    return lambda: build_multiway(path, "km")


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
    # --- issue #11 (Reliability II): training files
    Case(
        "csv-row-with-an-unquoted-comma",
        lambda t: _training_file(t, "t.csv", "anchor,positive\nDrucken,To print labels, choose File.\n"),
        DataFormatError,
        ("t.csv:2", "3 fields, but the header has 2", "quote every text"),
    ),
    Case(
        "csv-latin1",
        lambda t: _training_file(t, "t.csv", "anchor,positive\nCaf\xe9,Caf\xe9\n".encode("latin-1")),
        DataFormatError,
        ("t.csv:2", "not UTF-8 (byte 0xe9", "iconv"),
    ),
    Case(
        "parquet-that-is-not-parquet",
        lambda t: _training_file(t, "t.parquet", "anchor,positive\na,b\n"),
        DataFormatError,
        ("t.parquet", "not a readable Parquet file"),
    ),
    Case("parquet-without-rows", _empty_parquet, DataFormatError, ("t.parquet", "the file has no rows")),
    Case(
        "json-pretty-printed-object",
        lambda t: _training_file(t, "t.jsonl", '{\n  "anchor": "a",\n  "positive": "b"\n}\n'),
        DataFormatError,
        ("t.jsonl:1", "looks pretty-printed", "JSONL expects one object per line"),
    ),
    Case(
        "multiway-column-that-is-not-a-language",
        lambda t: _training_file(t, "t.jsonl", '{"en": "Print", "de": "Drucken", "note": "x"}\n', "multiway"),
        DataFormatError,
        ("t.jsonl", "field 'note'", "column 'note' is not a language tag"),
    ),
    Case(
        "multiway-build-language-in-no-tuple",
        _multiway_without_language,
        ConfigError,
        ("no tuple of the source has every language of en, km", "km 0", "drop km from --langs"),
    ),
    # --- training arguments: ranges checked before anything is loaded or written
    Case("train-lr-negative", lambda t: _train_config(learning_rate=-1.0), ConfigError, ("learning_rate", "> 0")),
    Case("train-lr-nan", lambda t: _train_config(learning_rate=float("nan")), ConfigError, ("learning_rate", "nan")),
    Case("train-warmup-ratio-1", lambda t: _train_config(warmup_ratio=1.0), ConfigError, ("warmup_ratio", "< 1")),
    Case("train-warmup-ratio-5", lambda t: _train_config(warmup_ratio=5.0), ConfigError, ("warmup_ratio", "< 1")),
    Case("train-max-seq-length-0", lambda t: _train_config(max_seq_length=0), ConfigError, ("max_seq_length",)),
    Case("train-max-seq-length-negative", lambda t: _train_config(max_seq_length=-5), ConfigError, (">= 1",)),
    Case(
        "train-gradient-accumulation-0",
        lambda t: _train_config(gradient_accumulation_steps=0),
        ConfigError,
        ("gradient_accumulation_steps must be an integer >= 1",),
    ),
    Case(
        "train-training-arg-wrong-type",
        lambda t: _train_config(training_args={"per_device_train_batch_size": "abc"}),
        ConfigError,
        ("'per_device_train_batch_size' must be an integer, got str 'abc'",),
    ),
    Case("train-epochs-0", lambda t: _train_config(num_train_epochs=0.0), ConfigError, ("num_train_epochs",)),
    Case("train-epochs-negative", lambda t: _train_config(num_train_epochs=-1.0), ConfigError, ("num_train_epochs",)),
    Case("train-max-rows-0", lambda t: _train_config(max_rows=0), ConfigError, ("max_rows must be",)),
    Case("train-max-rows-negative", lambda t: _train_config(max_rows=-1), ConfigError, ("max_rows must be",)),
    Case("train-max-steps-minus-3", lambda t: _train_config(max_steps=-3), ConfigError, ("-1 means",)),
    Case(
        "train-freeze-past-the-last-layer",
        _freeze_past_last_layer,
        ConfigError,
        ("the model has 12 layers (0-11)", "layer 99 does not exist"),
    ),
    Case("train-deepspeed-not-installed", _deepspeed, MissingDependencyError, ("deepspeed", "pip install")),
    Case(
        "train-config-not-utf8",
        lambda t: _config_file(t, b"method: clear\nmodel: caf\xe9\n"),
        DataFormatError,
        ("train.yaml:2", "not UTF-8"),
    ),
    Case(
        "train-resume-corrupt-summary",
        _resume_on_corrupt_summary,
        CorruptFileError,
        ("train_summary.json", "cannot be read", "rerun with --resume"),
    ),
    Case("output-is-a-file", lambda t: _output(t, False), ConfigError, ("--output", "is a file, not a directory")),
    Case("output-under-a-file", lambda t: _output(t, True), ConfigError, ("which is a file, not a directory",)),
    # --- demo budgets: checked before the output directory is made
    Case("demo-lr-not-a-number", lambda t: _demo_budget(learning_rate="abc"), ConfigError, ("learning_rate", "'abc'")),
    Case("demo-lr-inf", lambda t: _demo_budget(learning_rate=float("inf")), ConfigError, ("learning_rate", "inf")),
    Case("demo-eval-sections-0", lambda t: _demo_budget(eval_sections=0), ConfigError, ("eval_sections", ">= 1")),
    Case("demo-freeze-bogus", lambda t: _demo_budget(freeze="bogus"), ConfigError, ("unknown freeze spec 'bogus'",)),
    # --- evaluation
    Case(
        "qrels-nothing-relevant",
        lambda t: _read_set(t, qrels="q1\td1\t0\n"),
        DataFormatError,
        ("qrels.tsv", "field 'relevance'", "no query has a relevant document"),
    ),
    Case(
        "device-cuda-without-cuda",
        lambda t: _device("cuda"),
        ConfigError,
        ("--device cuda", "cannot use a cuda device", "pass --device cpu"),
    ),
    Case(
        "model-path-is-a-training-run",
        _run_dir_as_model,
        ModelError,
        ("runs/base is not a model directory but a training run", "runs/base/model"),
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


def test_readme_quotes_the_number_of_cases() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert readme.count(f"**{len(CASES)} bad inputs**") == 2


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
