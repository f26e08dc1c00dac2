from __future__ import annotations

from crossalign.errors import CrossalignError, DataFormatError, MissingDependencyError


def test_data_format_error_names_file_line_field_and_fix() -> None:
    err = DataFormatError("text is empty", path="q.jsonl", line=7, field="text", hint="fill it in")
    assert str(err) == "q.jsonl:7, field 'text': text is empty\n  fix: fill it in"
    assert isinstance(err, ValueError) and isinstance(err, CrossalignError)
    assert (err.path, err.line, err.field) == ("q.jsonl", 7, "text")


def test_location_parts_are_optional() -> None:
    assert str(DataFormatError("bad", line=3)) == "line 3: bad"
    assert str(DataFormatError("bad", field="lang")) == "field 'lang': bad"
    assert str(DataFormatError("bad")) == "bad"


def test_missing_dependency_is_an_import_error() -> None:
    err = MissingDependencyError("faiss needed", hint="pip install faiss-cpu")
    assert isinstance(err, ImportError)
    assert "pip install faiss-cpu" in str(err)
