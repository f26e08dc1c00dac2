"""``crossalign data fetch`` / ``crossalign data stats`` on a tiny installed help tree."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from crossalign.cli.main import main
from crossalign.data.libreoffice import fetch

PAGE = """<html><head><title>{title}</title></head><body>
<header><p dir="auto">Help</p></header>
<div id="DisplayArea">
<h1 id="hd_id1" dir="auto">{h1}</h1>
<p id="par_id1" class="paragraph" dir="auto">{p1}</p>
<p id="par_id2" class="paragraph" dir="auto">Keep the default settings here.</p>
<h2 id="hd_id2" dir="auto">{h2}</h2>
<p id="par_id3" class="paragraph" dir="auto">{p3}</p>
</div></body></html>
"""

TEXTS = {
    "en-US": {
        "title": "Page styles",
        "h1": "Page styles",
        "p1": "Page styles define the layout of every page.",
        "h2": "Margins",
        "p3": "Set the four margins of the page here.",
    },
    "de": {
        "title": "Seitenvorlagen",
        "h1": "Seitenvorlagen",
        "p1": "Seitenvorlagen legen das Layout jeder Seite fest.",
        "h2": "Ränder",
        "p3": "Legen Sie hier die vier Seitenränder fest.",
    },
}


@pytest.fixture
def help_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(fetch, "DPKG_QUERY", "crossalign-test-no-dpkg-query")
    monkeypatch.setenv("CROSSALIGN_NO_PROGRESS", "1")
    root = tmp_path / "help"
    for folder, texts in TEXTS.items():
        f = root / folder / "text/swriter/guide/styles.html"
        f.parent.mkdir(parents=True)
        f.write_text(PAGE.format(**texts), encoding="utf-8")
    return root


def test_fetch_prints_what_it_did(help_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["data", "fetch", "--langs", "de", "--help-root", str(help_root), "--cache-dir", str(tmp_path / "c")]
    assert main(args) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("LibreOffice help: 2 languages ready in ")
    assert out[1].split() == ["lang", "package", "version", "from", "pages", "parse", "seconds"]
    assert set(out[2]) == {"─"}  # the header rule
    assert out[3].split()[:4] == ["en", "libreoffice-help-en-us", out[3].split()[2], "installed"]
    assert out[3].split()[2].startswith("local-")
    assert out[3].split()[4:6] == ["1", "parsed"]
    assert out[4].split()[:2] == ["de", "libreoffice-help-de"] and out[4].split()[4:6] == ["1", "parsed"]
    assert out[5].startswith(f"licence MPL-2.0; parse cache: {tmp_path / 'c' / 'corpora' / 'libreoffice'}")
    assert out[5].endswith("/parsed")
    assert out[6] == f"help trees: {help_root} (one folder per language)"
    assert main(args) == 0  # second time: from the parse cache
    again = capsys.readouterr().out.splitlines()
    assert again[4].split()[4:6] == ["1", "cached"]


def test_stats_table_and_json(help_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_json = tmp_path / "stats.json"
    args = ["data", "stats", "--langs", "en,de", "--help-root", str(help_root), "--cache-dir", str(tmp_path)]
    assert main([*args, "--json", str(out_json)]) == 0
    text = capsys.readouterr().out
    lines = text.splitlines()
    assert lines[3].split() == ["en", "1", "2", "3", "24", lines[3].split()[5], "2", "3", "2", "0", "0", "0"]
    # par_id2 is the same in German: dropped as untranslated, so the first section is incomplete in de
    assert lines[4].split()[6:] == ["1", "2", "2", "0", "1", "0"]
    assert f"wrote {out_json}" in text
    assert re.search(r"Packages \(MPL-2.0\): de=local-[0-9a-f]{16}, en-us=local-[0-9a-f]{16}; loaded in", text)
    st = json.loads(out_json.read_text(encoding="utf-8"))
    assert st["languages"] == ["en", "de"]
    assert st["pairwise"] == {"en|de": {"sections": 1, "paragraphs": 2}}
    assert st["per_language"]["de"]["dropped"]["untranslated_paragraphs"] == 1
    assert st["provenance"]["license"] == "MPL-2.0"
    assert st["load_seconds"] >= 0


def test_stats_min_words_option(help_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["data", "stats", "--langs", "de", "--help-root", str(help_root), "--cache-dir", str(tmp_path)]
    assert main([*args, "--min-words", "9"]) == 0
    line_en = capsys.readouterr().out.splitlines()[3].split()
    # English paragraphs have 8, 5 and 8 words; section bodies 13 and 8 words
    assert line_en[6:8] == ["1", "0"]


def test_unknown_language_is_a_clean_error(help_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data", "stats", "--langs", "de,xx", "--cache-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("crossalign data: error: --langs: 'xx' is not a language of the LibreOffice help")
    assert "fix: choose from the 33 languages:" in err


def test_missing_tree_without_download(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    args = ["data", "stats", "--langs", "om", "--no-download", "--help-root", str(empty), "--cache-dir", str(tmp_path)]
    assert main(args) == 2
    assert "neither installed nor cached, and downloading is off" in capsys.readouterr().err


def test_data_without_action_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data"]) == 2
    out = capsys.readouterr().out
    assert "fetch" in out and "stats" in out
