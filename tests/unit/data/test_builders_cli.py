"""``crossalign data build`` end to end on a tiny installed help tree and on a parallel JSONL of sections."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from builders_fixtures import FakeEncoder, section_corpus

from crossalign.cli import data as cli_data
from crossalign.cli.main import main
from crossalign.data import write_parallel_jsonl
from crossalign.data.libreoffice import fetch
from crossalign.data.mining import DEFAULT_NUM_NEGATIVES, DEFAULT_RANK_RANGE, DEFAULT_REFERENCE_POOL
from crossalign.data.splits import SplitSpec, assign_split
from crossalign.data.text_rules import SHARED_HEADING_RULES
from crossalign.losses.registry import build_loss

PAGE = """<html><head><title>{title}</title></head><body>
<div id="DisplayArea">
<h1 id="hd_id1" dir="auto">{h1}</h1>
<p id="par_id1" class="paragraph" dir="auto">{p1}</p>
<h2 id="hd_id2" dir="auto">{h2}</h2>
<p id="par_id2" class="paragraph" dir="auto">{p2}</p>
</div></body></html>
"""

N_PAGES = 40


@pytest.fixture
def help_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """40 pages in en-US and de: two sections each, every text naming its page."""
    monkeypatch.setattr(fetch, "DPKG_QUERY", "crossalign-test-no-dpkg-query")
    monkeypatch.setenv("CROSSALIGN_NO_PROGRESS", "1")
    root = tmp_path / "help"
    for k in range(N_PAGES):
        texts = {
            "en-US": {
                "title": f"Page styles {k}",
                "h1": f"Page styles {k}",
                "p1": f"Page styles {k} define the layout of every page in the document.",
                "h2": f"Margins {k}",
                "p2": f"Set the four margins of page style {k} here, in centimetres.",
            },
            "de": {
                "title": f"Seitenvorlagen {k}",
                "h1": f"Seitenvorlagen {k}",
                "p1": f"Seitenvorlagen {k} legen das Layout jeder Seite im Dokument fest.",
                "h2": f"Ränder {k}",
                "p2": f"Legen Sie hier die vier Ränder der Seitenvorlage {k} fest.",
            },
        }
        for folder, t in texts.items():
            f = root / folder / f"text/swriter/guide/styles{k:02d}.html"
            f.parent.mkdir(parents=True, exist_ok=True)
            f.write_text(PAGE.format(**t), encoding="utf-8")
    return root


def base(help_root: Path, tmp_path: Path, fmt: str, out: Path) -> list[str]:
    return [
        "data",
        "build",
        "--format",
        fmt,
        "--langs",
        "de",
        "--output",
        str(out),
        "--help-root",
        str(help_root),
        "--cache-dir",
        str(tmp_path / "cache"),
    ]


def test_build_jsd_and_multiway_from_the_help(help_root: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "jsd"
    assert main(base(help_root, tmp_path, "jsd", out)) == 0
    text = capsys.readouterr().out
    lines = text.splitlines()
    assert lines[0].startswith("jsd: ") and " train and " in lines[0]
    assert lines[1] == "columns: query, positive, query_en, positive_x"
    assert lines[2].split() == ["split", "de", "total"]
    assert set(lines[3]) == {"─"}  # the header rule
    assert lines[4].split()[0] == "train" and lines[5].split()[0] == "dev"
    assert lines[-1] == f"wrote {out} (manifest.json describes it)"
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["source"]["corpus"] == "libreoffice-help" and "packages" in manifest["source"]
    rows = [json.loads(x) for x in (out / "train.jsonl").read_text(encoding="utf-8").splitlines()]
    prov = [json.loads(x) for x in (out / "provenance/train.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(rows) == manifest["counts"]["train"]["total"] > 20
    build_loss("jsd", torch.nn.Linear(1, 1)).validate_columns(list(rows[0]))
    for row, p in zip(rows, prov):
        assert assign_split(p["group"], SplitSpec()) == "train"
        k = p["group"].split("styles")[1][:2]
        assert str(int(k)) in row["query"] and str(int(k)) in row["positive"]
    out_mw = tmp_path / "mw"
    assert main([*base(help_root, tmp_path, "multiway", out_mw), "--units", "paragraph,section"]) == 0
    mw = json.loads((out_mw / "manifest.json").read_text(encoding="utf-8"))
    assert mw["columns"] == ["en", "de"] and mw["selection"]["units"] == ["paragraph", "section"]


def test_build_clear_from_a_section_jsonl_with_per_language(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("CROSSALIGN_NO_PROGRESS", "1")
    import crossalign.models

    loaded: list[str] = []

    def fake_load_model(spec, **kw):
        loaded.append(spec)
        return FakeEncoder()

    monkeypatch.setattr(crossalign.models, "load_model", fake_load_model)
    src = tmp_path / "sections.jsonl"
    write_parallel_jsonl(section_corpus(60), src)
    out = tmp_path / "clear"
    args = ["data", "build", "--format", "clear", "--langs", "de,km", "--source", str(src), "--output", str(out)]
    args += ["--model", "my-model", "--negatives", "2", "--rank-range", "3,12", "--max-rows", "15", "--per-language"]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert loaded == ["my-model"]
    assert "negatives: 2 per kind from ranks 3-12" in text and "mined with my-model" in text
    top = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert set(top["per_language"]) == {"de", "km"} and top["model"]["spec"] == "my-model"
    loss = build_loss("clear", torch.nn.Linear(1, 1))
    for lang in ("de", "km"):
        rows = [json.loads(x) for x in (out / lang / "train.jsonl").read_text(encoding="utf-8").splitlines()]
        assert len(rows) == 15
        loss.validate_columns(list(rows[0]))


def test_clean_errors(help_root: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "x"
    assert main([*base(help_root, tmp_path, "jsd", out), "--negatives", "3"]) == 2
    assert "--negatives does not apply to --format jsd" in capsys.readouterr().err
    assert main([*base(help_root, tmp_path, "jsd", out), "--query-prompt", "query: "]) == 2
    assert "--query-prompt does not apply to --format jsd" in capsys.readouterr().err
    assert main([*base(help_root, tmp_path, "multiway", out), "--per-language"]) == 2
    assert "--per-language does not apply to multiway" in capsys.readouterr().err
    assert main([*base(help_root, tmp_path, "jsd", out), "--split", "0.8,0.3"]) == 2
    assert "--split must be three fractions" in capsys.readouterr().err
    out.mkdir()
    assert main(base(help_root, tmp_path, "jsd", out)) == 2
    assert "already exists" in capsys.readouterr().err
    assert main([*base(help_root, tmp_path, "jsd", out), "--overwrite"]) == 0
    assert main([*base(help_root, tmp_path, "clear", tmp_path / "c"), "--rank-range", "5,1"]) == 2
    assert "rank range must be two integers" in capsys.readouterr().err
    bad = tmp_path / "nothing-here"
    new = str(tmp_path / "new")
    assert main(["data", "build", "--format", "jsd", "--langs", "de", "--output", new, "--source", str(bad)]) == 2
    assert "not a corpus" in capsys.readouterr().err


def test_cli_defaults_match_the_library() -> None:
    assert cli_data.DEFAULT_NUM_NEGATIVES == DEFAULT_NUM_NEGATIVES
    assert cli_data.DEFAULT_RANK_RANGE == DEFAULT_RANK_RANGE
    assert cli_data.DEFAULT_REFERENCE_POOL == DEFAULT_REFERENCE_POOL
    assert cli_data.SHARED_HEADING_RULES == SHARED_HEADING_RULES
    from crossalign.data.builders.training import FORMATS

    assert set(cli_data.BUILD_FORMATS) == set(FORMATS)
