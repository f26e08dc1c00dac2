"""The dataset directory: files, manifest contents, per-language layout, loading with ``datasets``."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
import torch
from builders_fixtures import FakeEncoder, paragraph_corpus, sections

from crossalign import __version__
from crossalign.data.builders.clear import build_clear
from crossalign.data.builders.multiway import build_enx
from crossalign.data.builders.output import BuiltData
from crossalign.data.splits import SplitSpec, assign_split
from crossalign.losses.registry import build_loss


@pytest.fixture(autouse=True)
def _quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CROSSALIGN_NO_PROGRESS", "1")


@pytest.fixture(scope="module")
def built() -> BuiltData:
    return build_clear(sections(60), "de,km", model=FakeEncoder(), negatives=2, rank_range=(3, 12), seed=5)


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_directory_and_manifest(built: BuiltData, tmp_path: Path) -> None:
    out = built.write(tmp_path / "clear")
    assert sorted(p.name for p in out.iterdir()) == ["dev.jsonl", "manifest.json", "provenance", "train.jsonl"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary left behind
    mask = os.umask(0)
    os.umask(mask)
    assert (out.stat().st_mode & 0o777) == 0o777 & ~mask  # readable like any directory, not mkdtemp's 0700
    assert ((out / "train.jsonl").stat().st_mode & 0o777) == 0o666 & ~mask
    m = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert m["format"] == "clear" and m["loss"] == "clear"
    assert m["columns"] == [
        "anchor",
        "positive",
        "negative_1",
        "negative_2",
        "cross_anchor",
        "neg_query_1",
        "neg_query_2",
    ]
    assert m["languages"] == ["en", "de", "km"] and m["row_languages"] == ["de", "km"]
    for split in ("train", "dev"):
        rows = read_jsonl(out / f"{split}.jsonl")
        prov = read_jsonl(out / "provenance" / f"{split}.jsonl")
        assert rows == built.rows[split] and len(prov) == len(rows)
        assert [list(r) for r in rows] == [m["columns"]] * len(rows)  # key order survives the file
        assert m["counts"][split]["total"] == len(rows)
        assert m["counts"][split]["de"] + m["counts"][split]["km"] == len(rows)
    assert m["split"]["spec"] == SplitSpec().to_dict()
    groups = json.loads((out / "provenance" / "groups.json").read_text(encoding="utf-8"))
    for split in ("train", "dev"):
        assert all(assign_split(g, SplitSpec()) == split for g in groups[split])
        digest = hashlib.sha256("\n".join(sorted(groups[split])).encode()).hexdigest()
        assert m["split"]["groups"][split] == {"n": len(groups[split]), "sha256": digest}
    assert "test" not in groups and m["split"]["test_groups_skipped"] > 0
    mining = m["mining"]
    assert mining["num_negatives"] == 2 and mining["rank_range"] == [3, 12] and mining["seed"] == 5
    assert mining["reference_pool"] == 1000 and mining["max_score_ratio"] is None
    assert set(mining["per_split"]["train"]["neg_query"]) == {"de", "km"}
    assert m["model"]["spec"] == "FakeEncoder" and "fingerprint" in m["model"]
    assert m["source"]["min_words"] == 4
    assert m["versions"]["crossalign"] == __version__ and m["versions"]["torch"]
    assert m["seed"] == 5 and m["created"].endswith("Z") and m["build_seconds"] >= 0
    assert m["load"].startswith('datasets.load_dataset("json", data_files={"train": ')
    assert str(out / "train.jsonl") in m["load"]


def test_loads_with_datasets_in_column_order(built: BuiltData, tmp_path: Path, monkeypatch) -> None:
    import datasets

    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    out = built.write(tmp_path / "d")
    ds = datasets.load_dataset(
        "json",
        data_files={"train": str(out / "train.jsonl"), "dev": str(out / "dev.jsonl")},
        cache_dir=str(tmp_path / "hf"),
    )
    assert ds["train"].column_names == built.columns and len(ds["dev"]) == len(built.rows["dev"])
    build_loss("clear", torch.nn.Linear(1, 1)).validate_columns(ds["train"].column_names)
    assert ds["train"][0] == built.rows["train"][0]


def test_per_language_directories(built: BuiltData, tmp_path: Path) -> None:
    out = built.write(tmp_path / "per", per_language=True)
    top = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert set(top["per_language"]) == {"de", "km"}
    for lang in ("de", "km"):
        sub = json.loads((out / lang / "manifest.json").read_text(encoding="utf-8"))
        assert sub["row_languages"] == [lang] and sub["languages"] == ["en", lang]
        rows = read_jsonl(out / lang / "train.jsonl")
        prov = read_jsonl(out / lang / "provenance" / "train.jsonl")
        assert {p["lang"] for p in prov} == {lang} and len(rows) == built.counts()["train"][lang]
        assert sub["counts"]["train"] == {lang: len(rows), "total": len(rows)}


def test_overwrite_rules(built: BuiltData, tmp_path: Path) -> None:
    out = built.write(tmp_path / "o")
    with pytest.raises(FileExistsError):
        built.write(out)
    (out / "stale.txt").write_text("old")
    built.write(out, overwrite=True)
    assert not (out / "stale.txt").exists()


def test_summary_table_and_an_empty_split(tmp_path: Path) -> None:
    enx = build_enx(paragraph_corpus(40), "de,km", split=SplitSpec(1.0, 0.0, 0.0))
    assert enx.rows["dev"] == []
    lines = enx.summary_table().splitlines()
    assert lines[0].split() == ["split", "de", "km", "total"]
    train = enx.counts()["train"]
    assert lines[2].split() == ["train", str(train["de"]), str(train["km"]), str(len(enx.rows["train"]))]
    assert lines[3].split() == ["dev", "0", "0", "0"]
    out = enx.write(tmp_path / "e")
    m = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert (out / "dev.jsonl").read_text() == "" and '"dev"' not in m["load"]  # load_dataset rejects empty splits
