"""LibreOfficeCorpus / load_libreoffice: parse cache, tuples, sections, filters, stats."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from libreoffice_fixtures import write_help_tree

from crossalign.data.libreoffice import corpus as corpus_mod
from crossalign.data.libreoffice import fetch
from crossalign.data.libreoffice.corpus import (
    LibreOfficeCorpus,
    count_chars,
    fetch_languages,
    load_libreoffice,
    parse_cache_path,
)
from crossalign.data.libreoffice.stats import corpus_stats, format_stats
from crossalign.data.records import ParallelCorpus
from crossalign.errors import ConfigError, UnknownLanguageError

PRINT = "text/swriter/guide/print_small.html"
SUM = "text/scalc/01/func_sum.html"
ABOUT = "text/shared/01/about.html"
ZW = "\u200b"


@pytest.fixture
def help_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(fetch, "DPKG_QUERY", "crossalign-test-no-dpkg-query")  # installed trees get local-<hash>
    return write_help_tree(tmp_path / "help")


@pytest.fixture
def opened(help_root: Path, tmp_path: Path) -> LibreOfficeCorpus:
    return LibreOfficeCorpus.open("en,de,km", cache_dir=tmp_path / "cache", help_root=help_root, workers=1)


def test_open_uses_installed_trees_and_records_provenance(opened: LibreOfficeCorpus, help_root: Path) -> None:
    assert opened.langs == ["en", "de", "km"]
    assert {lang: (t.source, t.path) for lang, t in opened.trees.items()} == {
        "en": ("installed", help_root / "en-US"),
        "de": ("installed", help_root / "de"),
        "km": ("installed", help_root / "km"),
    }
    prov = opened.provenance()
    assert prov["license"] == "MPL-2.0"
    assert prov["packages"]["km"]["package"] == "libreoffice-help-km"
    assert prov["packages"]["km"]["version"].startswith("local-")
    assert prov["rules"]["align_key"] == "(page path, element id)"


def test_english_is_loaded_even_when_not_asked_for(help_root: Path, tmp_path: Path) -> None:
    lo = LibreOfficeCorpus.open(["de", "km"], cache_dir=tmp_path, help_root=help_root, workers=1)
    assert lo.langs == ["de", "km"] and sorted(lo.trees) == ["de", "en", "km"]
    pc = lo.parallel("paragraph")
    assert pc.languages == ["de", "km"]
    # de+km paragraphs: both translated, >= 4 English words, not duplicates
    assert [t.id.rsplit("/", 1)[-1] for t in pc] == [
        "about.html#par_idabout",
        "about.html#par_idsyn",
        "print_small.html#par_id1",
        "print_small.html#par_id3",
        "print_small.html#par_id4",
        "print_small.html#par_id6",
        "print_small.html#par_id7",
        "print_small.html#par_id8",
    ]


def test_parallel_sections_exact(opened: LibreOfficeCorpus) -> None:
    pc = opened.parallel("section")
    assert isinstance(pc, ParallelCorpus)
    assert pc.name == "libreoffice/section"
    got = {t.id: sorted(t.texts) for t in pc}
    assert got == {
        f"{SUM}#hd_idsum/section": ["de", "en"],
        f"{ABOUT}#bm_id200/section": ["de", "en", "km"],
        f"{ABOUT}#hd_idsyn/section": ["en", "km"],
        f"{PRINT}#hd_id1/section": ["de", "en"],
        f"{PRINT}#hd_id2/section": ["en", "km"],
        f"{PRINT}#hd_id3/section": ["de", "en", "km"],
    }
    t = pc[f"{PRINT}#hd_id2/section"]
    assert t.texts == {
        "en": "Select the reverse option to print the last page first.\n"
        "The reverse order is kept for the next print job too.",
        "km": f"ជ្រើស{ZW}ជម្រើស{ZW}បញ្ច្រាស\nលំដាប់{ZW}បញ្ច្រាស{ZW}ត្រូវ{ZW}រក្សា",
    }
    assert t.meta == {
        "page": PRINT,
        "element_id": "hd_id2",
        "kind": "section",
        "level": 2,
        "headings": {"en": "Printing in reverse order", "km": f"បោះពុម្ព{ZW}បញ្ច្រាស"},
        "titles": {"en": "Printing Several Pages on One Sheet", "km": f"ការ{ZW}បោះពុម្ព{ZW}ទំព័រ{ZW}ច្រើន"},
        "paragraph_ids": ["par_id4", "par_id5"],
        "heading_shared": 1,
    }
    pc.validate()  # canonical tags, unique ids, non-blank texts


def test_parallel_all_kinds_and_meta(opened: LibreOfficeCorpus) -> None:
    pc = opened.parallel()
    kinds = [t.meta["kind"] for t in pc]
    assert (kinds.count("section"), kinds.count("paragraph"), kinds.count("heading")) == (6, 11, 6)
    p = pc[f"{PRINT}#par_id2"]
    assert p.texts == {
        "en": "Press Ctrl + P to open the print dialog quickly.",
        "de": "Drücken Sie Ctrl + P um den Druckdialog schnell zu öffnen.",
    }
    assert p.meta == {"page": PRINT, "element_id": "par_id2", "kind": "paragraph", "level": 1, "section": "hd_id1"}
    h = pc[f"{SUM}#hd_idsum"]
    assert h.texts == {"en": "SUM", "de": "SUMME"}  # one-word headings are not filtered by min_words
    assert h.meta == {"page": SUM, "element_id": "hd_idsum", "kind": "heading", "level": 1}
    assert pc.provenance["kinds"] == ["section", "paragraph", "heading"]
    assert pc.provenance["min_words"] == 4
    assert pc.coverage() == {"de": 19, "en": 23, "km": 18}


def test_min_words_require_all_and_duplicates(opened: LibreOfficeCorpus) -> None:
    # English word counts: par_idsum 7, par_idabout 8, par_idsyn 10, par_id1 16, par_id2 10, par_id3 10, par_id4 10,
    # par_id5 11, par_id6 11, par_id7 10, par_id8 6
    long = opened.parallel("paragraph", min_words=10)
    assert sorted(t.meta["element_id"] for t in long) == [
        "par_id1",
        "par_id2",
        "par_id3",
        "par_id4",
        "par_id5",
        "par_id6",
        "par_id7",
        "par_idsyn",
    ]
    full = opened.parallel("paragraph", require_all=True)
    assert sorted(t.meta["element_id"] for t in full) == [
        "par_id1",
        "par_id3",
        "par_id4",
        "par_id6",
        "par_id7",
        "par_id8",
        "par_idabout",
        "par_idsyn",
    ]
    dup = opened.parallel("heading", include_duplicates=True)
    assert len(dup) == 6  # the embedded "Syntax" heading has English only, so it is dropped anyway
    dup_p = opened.parallel("paragraph", include_duplicates=True)
    assert f"{SUM}#par_idsyn" in {t.id for t in dup_p}
    assert f"{SUM}#par_idsyn" not in {t.id for t in opened.parallel("paragraph")}
    only_de = opened.parallel("heading", langs=["de"])
    assert only_de.languages == ["de"] and len(only_de) == 5


def test_parallel_rejects_bad_kinds_and_unloaded_languages(opened: LibreOfficeCorpus) -> None:
    with pytest.raises(ConfigError, match=r"unknown tuple kind\(s\) \['sentence'\]"):
        opened.parallel(["paragraph", "sentence"])
    with pytest.raises(ConfigError, match=r"languages \['vi'\] were not loaded"):
        opened.parallel("paragraph", langs="de,vi")
    with pytest.raises(UnknownLanguageError):
        opened.sections("de,xx")


def test_sections_records_for_heading_to_section_pairs(opened: LibreOfficeCorpus) -> None:
    recs = opened.sections(["de", "en"])
    assert [r.element_id for r in recs] == ["hd_idsum", "bm_id200", "hd_id1", "hd_id3"]
    r = recs[2]
    assert r.headings == {"de": "Mehrere Seiten auf ein Blatt drucken", "en": "Printing Several Pages on One Sheet"}
    assert r.bodies["de"].split("\n") == [
        "Im Seitenlayout Bereich des Druckdialogs legen Sie mehrere Seiten auf ein Blatt.",
        "Drücken Sie Ctrl + P um den Druckdialog schnell zu öffnen.",
        "Öffnen Sie Format - Seite & legen Sie die Spaltenzahl fest.",
    ]
    assert r.paragraph_ids == ("par_id1", "par_id2", "par_id3")
    assert [x.element_id for x in opened.sections(["de", "km"], require_all=True)] == ["bm_id200", "hd_id3"]
    assert [x.element_id for x in opened.sections(["km"])] == ["bm_id200", "hd_idsyn", "hd_id2", "hd_id3"]
    assert opened.sections(["de", "en"], min_words=12) == [x for x in recs if x.element_id in ("hd_id1", "hd_id3")]


def test_parse_cache_makes_the_second_load_read_only(
    help_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = LibreOfficeCorpus.open("de,km", cache_dir=tmp_path, help_root=help_root, workers=1)
    for tree in first.trees.values():
        path = parse_cache_path(tree, tmp_path)
        assert path.parent.name == "parsed" and path.name == f"{tree.folder}.p1.jsonl"
        header = json.loads(path.read_text(encoding="utf-8").splitlines()[0])
        assert header["parser_version"] == 1 and header["package"] == tree.package

    def boom(*args: object, **kw: object) -> None:
        raise AssertionError("parsed again although cached")

    monkeypatch.setattr(corpus_mod, "parse_file", boom)
    second = LibreOfficeCorpus.open("de,km", cache_dir=tmp_path, help_root=help_root, workers=1)
    assert [t.id for t in second.parallel()] == [t.id for t in first.parallel()]
    assert second.summaries == first.summaries


def test_corrupt_parse_cache_is_rebuilt(help_root: Path, tmp_path: Path) -> None:
    lo = LibreOfficeCorpus.open("de", cache_dir=tmp_path, help_root=help_root, workers=1)
    path = parse_cache_path(lo.trees["de"], tmp_path)
    path.write_text('{"parser_version": 1}\n{"path": "text/a.html", "elem', encoding="utf-8")
    again = LibreOfficeCorpus.open("de", cache_dir=tmp_path, help_root=help_root, workers=1)
    assert len(again.parallel("paragraph")) == len(lo.parallel("paragraph")) == 10
    assert len(path.read_text(encoding="utf-8").splitlines()) == 1 + 3


def test_parallel_parsing_in_worker_processes(help_root: Path, tmp_path: Path) -> None:
    results = fetch_languages("de,km", cache_dir=tmp_path, help_root=help_root, workers=2, show_progress=False)
    assert [(r.tree.lang, r.pages, r.parsed_now) for r in results] == [
        ("en", 3, True),
        ("de", 3, True),
        ("km", 2, True),
    ]
    assert all(r.parse_cache.is_file() and r.seconds >= 0 for r in results)
    again = fetch_languages("km", cache_dir=tmp_path, help_root=help_root, show_progress=False)
    assert [(r.tree.lang, r.parsed_now) for r in again] == [("en", False), ("km", False)]


def test_load_libreoffice_shortcut(help_root: Path, tmp_path: Path) -> None:
    pc = load_libreoffice("en,km", cache_dir=tmp_path, help_root=help_root, kinds="heading", show_progress=False)
    assert [t.texts["km"] for t in pc] == [
        f"អំពី{ZW}ឈុត",
        "វាក្យសម្ព័ន្ធ",
        f"ការ{ZW}បោះពុម្ព{ZW}ទំព័រ{ZW}ច្រើន",
        f"បោះពុម្ព{ZW}បញ្ច្រាស",
        "ចំណាំ",
    ]
    assert pc.pairs("en", "km")[0] == (f"{ABOUT}#bm_id200", "About the office suite", f"អំពី{ZW}ឈុត")


def test_stats_exact(opened: LibreOfficeCorpus) -> None:
    st = corpus_stats(opened)
    assert st["languages"] == ["en", "de", "km"]
    per = st["per_language"]
    assert {lang: per[lang]["own"] for lang in per} == {
        "en": {"pages": 3, "headings": 7, "sections": 7, "paragraphs": 12, "words": 137, "chars": 625},
        "de": {"pages": 3, "headings": 7, "sections": 7, "paragraphs": 12, "words": 121, "chars": 686},
        "km": {"pages": 2, "headings": 5, "sections": 5, "paragraphs": 10, "words": 31, "chars": 300},
    }
    assert {lang: {k: v for k, v in per[lang]["aligned"].items() if "_" not in k} for lang in per} == {
        "en": {"sections": 6, "paragraphs": 11, "headings": 6},
        "de": {"sections": 4, "paragraphs": 10, "headings": 5},
        "km": {"sections": 4, "paragraphs": 9, "headings": 5},
    }
    assert per["de"]["dropped"] == {
        "untranslated_headings": 1,
        "untranslated_paragraphs": 0,
        "untranslated_paragraphs_ge4w": 0,
        "missing_id": 1,
        "missing_page": 0,
        "kind_mismatch": 0,
    }
    assert per["km"]["dropped"] == {
        "untranslated_headings": 0,
        "untranslated_paragraphs": 1,
        "untranslated_paragraphs_ge4w": 1,
        "missing_id": 0,
        "missing_page": 2,
        "kind_mismatch": 0,
    }
    assert per["km"]["unspaced"] is True and per["de"]["unspaced"] is False
    assert st["pairwise"] == {
        "en|de": {"sections": 4, "paragraphs": 10},
        "en|km": {"sections": 4, "paragraphs": 9},
        "de|km": {"sections": 2, "paragraphs": 8},
    }
    assert st["totals"]["boilerplate_dropped"] == {"howtoget": 1, "code": 1, "related": 1}
    assert st["totals"]["duplicate_units_dropped"] == 2
    assert st["totals"]["duplicate_sections_dropped"] == 1
    assert (st["totals"]["sections_all_languages"], st["totals"]["paragraphs_all_languages"]) == (2, 8)
    json.dumps(st)  # JSON-ready


def test_format_stats_table(opened: LibreOfficeCorpus) -> None:
    text = format_stats(corpus_stats(opened))
    lines = text.splitlines()
    assert lines[1].split() == [
        "lang",
        "pages",
        "sections",
        "paragraphs",
        "words",
        "chars",
        "al.sect",
        "al.para>=4w",
        "al.head",
        "untr.head",
        "untr.para",
        "missing",
    ]
    assert lines[3].split() == ["en", "3", "7", "12", "137", "625", "6", "11", "6", "0", "0", "0"]
    assert lines[4].split() == ["de", "3", "7", "12", "121", "686", "4", "10", "5", "1", "0", "1"]
    assert lines[5].split() == ["km", "2", "5", "10", "31*", "300", "4", "9", "5", "0", "1", "2"]
    assert "Pairwise aligned sections" in text
    assert "All 3 languages: 2 sections, 8 paragraphs." in text


def test_count_chars_ignores_spaces_and_zero_width() -> None:
    assert count_chars(f"ab c{ZW}d\u00a0e\n") == 5
    assert count_chars("") == 0


def test_format_stats_leaves_wide_matrices_to_json(opened: LibreOfficeCorpus) -> None:
    text = format_stats(corpus_stats(opened), max_matrix=2)
    assert "(pairwise matrices for 3 languages are in the JSON output, key 'pairwise')" in text
    assert "Pairwise aligned sections" not in text
