"""Loading training data: build directories, files, in-memory datasets; errors name file, line and column."""

from __future__ import annotations

import json

import pytest
from training_testkit import make_dataset, make_rows, write_jsonl

from crossalign.errors import ConfigError, DataFormatError
from crossalign.training.data import load_training_data


def test_jsonl_loads_and_max_rows(tmp_path):
    path = write_jsonl(tmp_path / "train.jsonl", make_rows("clear", 10))
    data = load_training_data(path, "clear", max_rows=4)
    assert len(data.dataset) == 4 and data.rows_total == 10
    assert data.dataset.column_names == ["anchor", "positive", "negative_1", "cross_anchor", "neg_query_1"]


def test_missing_column_names_file_column_and_expected(tmp_path):
    rows = [{k: v for k, v in r.items() if k != "cross_anchor"} for r in make_rows("clear", 3)]
    path = write_jsonl(tmp_path / "train.jsonl", rows)
    with pytest.raises(DataFormatError) as info:
        load_training_data(path, "clear")
    err = info.value
    assert err.path == str(path) and err.field == "cross_anchor"
    assert "expects ['anchor', 'positive', 'cross_anchor']" in str(err)


@pytest.mark.parametrize(("value", "message"), [("", "empty"), ("   ", "empty"), (None, "null"), (3, "string")])
def test_bad_text_names_file_line_and_column(tmp_path, value, message):
    rows = make_rows("infonce", 4)
    rows[2]["positive"] = value
    path = write_jsonl(tmp_path / "train.jsonl", rows)
    with pytest.raises(DataFormatError) as info:
        load_training_data(path, "infonce")
    assert (info.value.path, info.value.line, info.value.field) == (str(path), 3, "positive")
    assert message in str(info.value)
    assert f"{path}:3, field 'positive'" in str(info.value)


def test_broken_jsonl_line(tmp_path):
    path = tmp_path / "train.jsonl"
    lines = [json.dumps(r) for r in make_rows("infonce", 3)]
    lines[1] = lines[1][:-5]
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataFormatError) as info:
        load_training_data(path, "infonce")
    assert info.value.line == 2 and "not valid JSON" in str(info.value)


def test_csv_empty_cell_names_line(tmp_path):
    path = tmp_path / "train.csv"
    path.write_text("anchor,positive\nw1 w2,w3 w4\nw5,\n")
    with pytest.raises(DataFormatError) as info:
        load_training_data(path, "infonce")
    assert (info.value.line, info.value.field) == (3, "positive")


def test_in_memory_dataset_row_errors():
    ds = make_dataset("jsd", 4)
    ds = ds.map(lambda row, i: {"query_en": "  " if i == 1 else row["query_en"]}, with_indices=True)
    with pytest.raises(DataFormatError, match="row 2") as info:
        load_training_data(None, "jsd", dataset=ds)
    assert info.value.field == "query_en"


def _build_dir(tmp_path, fmt, rows, columns):
    from crossalign.data.builders.output import BuiltData

    built = BuiltData(
        fmt,
        columns,
        {"train": rows, "dev": rows[:2]},
        {"train": [{"lang": "de"}] * len(rows), "dev": [{"lang": "de"}] * 2},
        {"format": fmt, "columns": columns, "row_languages": ["de"]},
    )
    return built, built.write(tmp_path / "built")


def test_build_directory_reads_manifest(tmp_path):
    rows = make_rows("clear", 6)
    built, directory = _build_dir(tmp_path, "clear", rows, list(rows[0]))
    data = load_training_data(directory, "clear")
    assert len(data.dataset) == 6 and data.manifest["format"] == "clear"
    in_memory = load_training_data(None, "clear", dataset=built)
    assert in_memory.dataset.to_list() == data.dataset.to_list()


def test_build_directory_of_another_method_is_refused(tmp_path):
    rows = make_rows("jsd", 4)
    _, directory = _build_dir(tmp_path, "jsd", rows, list(rows[0]))
    with pytest.raises(ConfigError, match="built for method 'jsd', not 'clear'") as info:
        load_training_data(directory, "clear")
    assert "--method jsd" in info.value.hint


def test_nothing_to_load():
    with pytest.raises(ConfigError, match="no training data"):
        load_training_data(None, "clear")


def test_parquet_file(tmp_path):
    ds = make_dataset("infonce", 5)
    ds.to_parquet(str(tmp_path / "train.parquet"))
    data = load_training_data(tmp_path / "train.parquet", "infonce")
    assert data.dataset.to_list() == ds.to_list()


def test_saved_hf_dataset_directory(tmp_path):
    import datasets

    ds = make_dataset("jsd", 5)
    datasets.DatasetDict({"train": ds}).save_to_disk(str(tmp_path / "hf"))
    assert load_training_data(tmp_path / "hf", "jsd").dataset.to_list() == ds.to_list()


def test_per_language_build_points_at_a_language(tmp_path):
    from crossalign.data.builders.output import BuiltData

    rows = make_rows("clear", 4)
    meta = [{"lang": "de"}, {"lang": "km"}] * 2
    built = BuiltData("clear", list(rows[0]), {"train": rows}, {"train": meta}, {"row_languages": ["de", "km"]})
    directory = built.write(tmp_path / "built", per_language=True)
    with pytest.raises(ConfigError, match="one dataset per language") as info:
        load_training_data(directory, "clear")
    assert f"--data {directory}/<lang>" in info.value.hint
    assert len(load_training_data(directory / "de", "clear").dataset) == 2


def test_missing_path_versus_hub_name(tmp_path, monkeypatch):
    with pytest.raises(DataFormatError, match="file not found"):
        load_training_data(str(tmp_path / "nope.jsonl"), "clear")
    seen = []

    def fake_load_dataset(name, split):
        seen.append((name, split))
        raise ConnectionError("offline")

    import datasets

    monkeypatch.setattr(datasets, "load_dataset", fake_load_dataset)
    with pytest.raises(ConfigError, match="Hugging Face dataset"):
        load_training_data("someone/parallel-sentences", "multiway")
    assert seen == [("someone/parallel-sentences", "train")]


# ---------------------------------------------------------------------------------------- issue #11 (Reliability II)
def test_csv_row_with_more_fields_than_the_header_names_the_line(tmp_path):
    """An unquoted comma used to cut the positive silently (the extra field was dropped)."""
    path = tmp_path / "train.csv"
    path.write_text("anchor,positive\nDrucken,To print\nSpeichern,To save labels, choose File.\n", encoding="utf-8")
    with pytest.raises(DataFormatError) as info:
        load_training_data(path, "infonce")
    assert f"{path}:3: 3 fields, but the header has 2 (anchor, positive)" in str(info.value)
    assert "quote every text that contains a ','" in str(info.value)
    path.write_text("anchor,positive\nDrucken,To print\nSpeichern\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"train.csv:3: 1 fields, but the header has 2"):
        load_training_data(path, "infonce")
    path.write_text('anchor,positive\nDrucken,"To print, choose File."\n', encoding="utf-8")
    assert load_training_data(path, "infonce").dataset["positive"] == ["To print, choose File."]


def test_csv_and_jsonl_byte_order_mark_is_dropped(tmp_path):
    csv_path = tmp_path / "train.csv"
    csv_path.write_bytes("\ufeffanchor,positive\nDrucken,Print\nSpeichern,Save\n".encode())
    assert load_training_data(csv_path, "infonce").dataset.column_names == ["anchor", "positive"]
    jsonl = tmp_path / "train.jsonl"
    jsonl.write_bytes(b"\xef\xbb\xbf" + b'{"anchor": "Drucken", "positive": "Print"}\n')
    assert load_training_data(jsonl, "infonce").dataset.column_names == ["anchor", "positive"]


def test_latin1_csv_names_line_and_fix(tmp_path):
    path = tmp_path / "train.csv"
    path.write_bytes("anchor,positive\nDrucken,Print\nCaf\xe9,Caf\xe9\n".encode("latin-1"))
    with pytest.raises(DataFormatError) as info:
        load_training_data(path, "infonce")
    assert f"{path}:3: not UTF-8 (byte 0xe9 at column 4)" in str(info.value) and "iconv" in str(info.value)


def test_pretty_printed_json_array_is_read_with_lines(tmp_path):
    path = tmp_path / "train.json"
    rows = [{"anchor": "Drucken", "positive": "Print"}, {"anchor": "Speichern", "positive": ""}]
    path.write_text(json.dumps(rows, indent=2), encoding="utf-8")
    with pytest.raises(DataFormatError) as info:
        load_training_data(path, "infonce")
    assert (info.value.line, info.value.field) == (6, "positive")
    rows[1]["positive"] = "Save"
    path.write_text(json.dumps(rows, indent=2), encoding="utf-8")
    assert load_training_data(path, "infonce").dataset["positive"] == ["Print", "Save"]


def test_parquet_that_is_not_parquet_or_has_no_rows(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "train.parquet"
    path.write_text("anchor,positive\nDrucken,Print\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"train.parquet: not a readable Parquet file"):
        load_training_data(path, "infonce")
    pq.write_table(pa.table({"anchor": pa.array([], pa.string()), "positive": pa.array([], pa.string())}), path)
    with pytest.raises(DataFormatError, match=r"train.parquet: the file has no rows \(columns: anchor, positive\)"):
        load_training_data(path, "infonce")
    pq.write_table(pa.table({"anchor": ["Drucken"], "positive": ["Print"]}), path)
    assert load_training_data(path, "infonce").dataset["positive"] == ["Print"]


def test_multiway_columns_must_be_language_tags(tmp_path):
    """A junk column used to be trained as one more language (a constant one gave loss 0.0)."""
    rows = [{"en": f"Print {i}", "de": f"Drucken {i}", "note": "x"} for i in range(4)]
    path = write_jsonl(tmp_path / "train.jsonl", rows)
    with pytest.raises(DataFormatError) as info:
        load_training_data(path, "multiway")
    assert f"{path}, field 'note': multiway: column 'note' is not a language tag" in str(info.value)
    assert "drop the column 'note'" in str(info.value)
    # an id (and meta) column is bookkeeping: used as such, not trained
    rows = [{"id": i, "en": f"Print {i}", "de": f"Drucken {i}", "meta": {"page": "p"}} for i in range(4)]
    data = load_training_data(write_jsonl(tmp_path / "ids.jsonl", rows), "multiway")
    assert data.dataset.column_names == ["en", "de"]
    both = [{"en": "a", "de": "b", "DE": "c"}]
    with pytest.raises(DataFormatError, match="columns 'de' and 'DE' are the same language"):
        load_training_data(write_jsonl(tmp_path / "dup.jsonl", both), "multiway")
