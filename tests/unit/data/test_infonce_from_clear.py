"""The InfoNCE baseline rows projected from CLEAR rows are the same rows with q_x as the anchor."""

from __future__ import annotations

import pytest

from crossalign.data.builders.clear import clear_columns, infonce_from_clear
from crossalign.data.builders.output import BuiltData
from crossalign.errors import ConfigError


def _clear() -> BuiltData:
    rows = [
        {
            "anchor": f"q{i}",
            "positive": f"p{i}",
            "negative_1": f"n{i}a",
            "negative_2": f"n{i}b",
            "cross_anchor": f"x{i}",
            "neg_query_1": f"y{i}a",
            "neg_query_2": f"y{i}b",
        }
        for i in range(3)
    ]
    meta = [{"lang": "de", "id": str(i), "group": f"g{i}", "neg_query_ranks": [1, 2]} for i in range(3)]
    manifest = {"format": "clear", "columns": clear_columns(2), "notes": ["KL needs equal widths", "other"]}
    return BuiltData("clear", clear_columns(2), {"train": rows, "dev": []}, {"train": meta, "dev": []}, manifest)


def test_projection_keeps_rows_and_negatives(tmp_path):
    clear = _clear()
    info = infonce_from_clear(clear)
    assert info.format == "infonce" and info.columns == ["anchor", "positive", "negative_1", "negative_2"]
    assert [r["anchor"] for r in info.rows["train"]] == ["x0", "x1", "x2"]
    assert [r["negative_2"] for r in info.rows["train"]] == ["n0b", "n1b", "n2b"]
    assert all("neg_query_ranks" not in m for m in info.meta["train"])
    assert info.manifest["format"] == "infonce" and "other" in info.manifest["notes"]
    assert not any("KL" in n for n in info.manifest["notes"])
    assert clear.rows["train"][0]["anchor"] == "q0"  # the CLEAR data is not modified
    out = info.write(tmp_path / "infonce")
    assert (out / "train.jsonl").read_text(encoding="utf-8").count("\n") == 3


def test_projection_rejects_other_formats():
    b = BuiltData("jsd", ["query"], {"train": []}, {"train": []}, {})
    with pytest.raises(ConfigError, match="CLEAR rows"):
        infonce_from_clear(b)
