"""Alignment by (page, id): untranslated and missing text, sections, boilerplate, duplicates."""

from __future__ import annotations

from pathlib import Path

import pytest
from libreoffice_fixtures import write_help_tree

from crossalign.data.libreoffice.align import Alignment, align_pages
from crossalign.data.libreoffice.parse import Page, iter_page_files, parse_file, parse_page

ZW = "\u200b"
PRINT = "text/swriter/guide/print_small.html"
SUM = "text/scalc/01/func_sum.html"
ABOUT = "text/shared/01/about.html"
FOLDER = {"en": "en-US", "de": "de", "km": "km"}


def _pages(root: Path, langs: tuple[str, ...]) -> dict[str, dict[str, Page]]:
    out = {}
    for lang in langs:
        base = root / FOLDER[lang]
        out[lang] = {p.path: p for p in (parse_file(f, base) for f in iter_page_files(base))}
    return out


@pytest.fixture(scope="module")
def alignment(tmp_path_factory: pytest.TempPathFactory) -> Alignment:
    root = write_help_tree(tmp_path_factory.mktemp("help"))
    return align_pages(_pages(root, ("en", "de", "km")))


def test_units_in_path_order_with_translations_and_reasons(alignment: Alignment) -> None:
    got = [(u.id.split("/")[-1], u.kind, sorted(u.texts), u.missing, u.duplicate) for u in alignment.units]
    miss_page = {"km": "missing_page"}
    assert got == [
        ("func_sum.html#hd_idsum", "heading", ["de", "en"], miss_page, False),
        ("func_sum.html#par_idsum", "paragraph", ["de", "en"], miss_page, False),
        ("func_sum.html#hd_idsyn", "heading", ["en"], {"de": "untranslated", "km": "missing_page"}, True),
        ("func_sum.html#par_idsyn", "paragraph", ["de", "en"], miss_page, True),
        ("about.html#bm_id200", "heading", ["de", "en", "km"], {}, False),
        ("about.html#par_idabout", "paragraph", ["de", "en", "km"], {}, False),
        ("about.html#hd_idsyn", "heading", ["en", "km"], {"de": "untranslated"}, False),
        ("about.html#par_idsyn", "paragraph", ["de", "en", "km"], {}, False),
        ("print_small.html#hd_id1", "heading", ["de", "en", "km"], {}, False),
        ("print_small.html#par_id1", "paragraph", ["de", "en", "km"], {}, False),
        ("print_small.html#par_id2", "paragraph", ["de", "en"], {"km": "untranslated"}, False),
        ("print_small.html#par_id3", "paragraph", ["de", "en", "km"], {}, False),
        ("print_small.html#hd_id2", "heading", ["de", "en", "km"], {}, False),
        ("print_small.html#par_id4", "paragraph", ["de", "en", "km"], {}, False),
        ("print_small.html#par_id5", "paragraph", ["en", "km"], {"de": "missing_id"}, False),
        ("print_small.html#hd_id3", "heading", ["de", "en", "km"], {}, False),
        ("print_small.html#par_id6", "paragraph", ["de", "en", "km"], {}, False),
        ("print_small.html#par_id7", "paragraph", ["de", "en", "km"], {}, False),
        ("print_small.html#par_id8", "paragraph", ["de", "en", "km"], {}, False),
    ]


def test_unit_texts_and_structure(alignment: Alignment) -> None:
    by_id = {u.id: u for u in alignment.units}
    u = by_id[f"{PRINT}#par_id2"]
    assert u.texts == {
        "en": "Press Ctrl + P to open the print dialog quickly.",
        "de": ("Drücken Sie Ctrl + P um den Druckdialog schnell zu öffnen."),
    }
    assert (u.page, u.element_id, u.level, u.section, u.embedded) == (PRINT, "par_id2", 1, "hd_id1", False)
    assert by_id[f"{ABOUT}#par_idabout"].texts["km"] == f"ទំព័រ{ZW}នេះ{ZW}ពិពណ៌នា វត្ថុ."
    assert by_id[f"{SUM}#par_idsum"].texts["de"] == "Addiert alle Zahlen in den ausgewählten Zellen."
    assert by_id[f"{SUM}#hd_idsyn"].embedded is True
    assert by_id[f"{PRINT}#hd_id3"].level == 3 and by_id[f"{PRINT}#par_id7"].level == 3


def test_boilerplate_and_translation_only_elements_are_counted(alignment: Alignment) -> None:
    assert alignment.boilerplate == {"howtoget": 1, "code": 1, "related": 1}
    assert alignment.only_in_translation == {"de": 1, "km": 0}
    assert not any("par_idonlyde" in u.id or "par_idhow" in u.id or "par_idrel" in u.id for u in alignment.units)


def test_sections_need_heading_and_every_paragraph_translated(alignment: Alignment) -> None:
    got = [
        (s.page.rsplit("/", 1)[-1] + "#" + s.element_id, s.paragraph_ids, sorted(s.languages), s.duplicate)
        for s in alignment.sections
    ]
    assert got == [
        ("func_sum.html#hd_idsum", ("par_idsum",), ["de", "en"], False),
        ("func_sum.html#hd_idsyn", ("par_idsyn",), ["en"], True),  # embedded copy of the shared page's section
        ("about.html#bm_id200", ("par_idabout",), ["de", "en", "km"], False),
        ("about.html#hd_idsyn", ("par_idsyn",), ["en", "km"], False),  # de heading "Syntax" is untranslated
        ("print_small.html#hd_id1", ("par_id1", "par_id2", "par_id3"), ["de", "en"], False),  # km par_id2 untranslated
        ("print_small.html#hd_id2", ("par_id4", "par_id5"), ["en", "km"], False),  # de lacks par_id5
        ("print_small.html#hd_id3", ("par_id6", "par_id7", "par_id8"), ["de", "en", "km"], False),
    ]


def test_section_record_fields(alignment: Alignment) -> None:
    s = next(s for s in alignment.sections if s.element_id == "hd_id3")
    assert s.id == f"{PRINT}#hd_id3/section"
    assert s.level == 3
    assert s.headings == {"en": "Notes", "de": "Hinweise", "km": "ចំណាំ"}
    assert s.bodies["en"] == (
        "Small printers may not support every paper size in this list.\n"
        "On Linux the printer list comes from the print system.\n"
        "Pages per sheet and their order"
    )
    assert s.bodies["de"].split("\n")[1] == "Unter Linux kommt die Druckerliste vom Drucksystem."
    assert s.titles == {
        "en": "Printing Several Pages on One Sheet",
        "de": "Mehrere Seiten auf ein Blatt drucken",
        "km": f"ការ{ZW}បោះពុម្ព{ZW}ទំព័រ{ZW}ច្រើន",
    }
    assert s.heading_shared == 1
    assert s.english_words() == 11 + 10 + 6
    # km has the body of hd_id1 incomplete, so only its heading is recorded
    first = next(s for s in alignment.sections if s.element_id == "hd_id1")
    assert "km" in first.headings and "km" not in first.bodies


def test_kept_views_drop_duplicates(alignment: Alignment) -> None:
    assert len(alignment.units) == 19
    assert len(alignment.kept_units()) == 17
    assert len(alignment.kept_units("heading")) == 6
    assert len(alignment.kept_sections()) == 6


def test_en_gb_identical_text_is_not_untranslated() -> None:
    html = '<div id="DisplayArea"><h1 id="h">Colour</h1><p id="p">Choose a colour for the page.</p></div>'
    en = parse_page(html.replace("Colour", "Color").replace("colour", "color"), "t.html")
    gb = parse_page(html, "t.html")
    same = parse_page(html.replace("Colour", "Color").replace("colour", "color"), "t.html")
    al = align_pages({"en": {"t.html": en}, "en-GB": {"t.html": gb}})
    assert [u.texts for u in al.units] == [
        {"en": "Color", "en-GB": "Colour"},
        {"en": "Choose a color for the page.", "en-GB": "Choose a colour for the page."},
    ]
    al2 = align_pages({"en": {"t.html": en}, "en-GB": {"t.html": same}})
    assert all(u.missing == {} and "en-GB" in u.texts for u in al2.units)


def test_kind_mismatch_and_shared_headings() -> None:
    en = parse_page(
        '<div id="DisplayArea"><h2 id="a">Example</h2><p id="b">First example text here.</p>'
        '<h2 id="c">Example</h2><p id="d">Second example text here.</p></div>',
        "t.html",
    )
    de = parse_page(
        '<div id="DisplayArea"><p id="a">Beispiel</p><p id="b">Erster Beispieltext hier.</p>'
        '<h2 id="c">Beispiel</h2><p id="d">Zweiter Beispieltext hier.</p></div>',
        "t.html",
    )
    al = align_pages({"en": {"t.html": en}, "de": {"t.html": de}})
    assert al.units[0].missing == {"de": "kind_mismatch"}
    # the second "Example" heading unit is a duplicate (same English text), but both sections are kept
    assert [u.duplicate for u in al.units] == [False, False, True, False]
    assert [(s.element_id, s.heading_shared, s.languages) for s in al.sections] == [
        ("a", 2, ["en"]),
        ("c", 2, ["de", "en"]),
    ]


def test_english_is_required() -> None:
    with pytest.raises(KeyError):
        align_pages({"de": {}})
