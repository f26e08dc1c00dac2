"""Parsing help pages: visible text, switch variants, boilerplate context, ids."""

from __future__ import annotations

from pathlib import Path

import pytest
from libreoffice_fixtures import EN, render, write_help_tree

from crossalign.data.libreoffice.parse import (
    Element,
    Page,
    iter_page_files,
    normalize_space,
    page_module,
    parse_file,
    parse_page,
    visible_variants,
)

PRINT = "text/swriter/guide/print_small.html"
SUM = "text/scalc/01/func_sum.html"
ABOUT = "text/shared/01/about.html"


def _els(page: Page) -> list[tuple[str, str, int, str, tuple[str, ...]]]:
    return [(e.id, e.kind, e.level, e.text, e.flags) for e in page.elements]


def test_print_page_english_exact_elements() -> None:
    page = parse_page(render("en-US", PRINT), PRINT)
    assert page.path == PRINT
    assert page.title == "Printing Several Pages on One Sheet"
    assert _els(page) == [
        ("hd_id1", "heading", 1, "Printing Several Pages on One Sheet", ()),
        (
            "par_id1",
            "paragraph",
            0,
            "The Page Layout area of the print dialog lets you place several pages on one sheet.",
            (),
        ),
        ("par_idhow", "paragraph", 0, "Choose File - Print", ("howtoget",)),
        # switchinline: the MAC variant "Command" is hidden, the default "Ctrl" shown (no UNIX variant exists)
        ("par_id2", "paragraph", 0, "Press Ctrl + P to open the print dialog quickly.", ()),
        # &nbsp; and &amp; decoded, nested <a><span> flattened, whitespace collapsed
        ("par_id3", "paragraph", 0, "Open Format - Page & set the number of columns.", ()),
        ("hd_id2", "heading", 2, "Printing in reverse order", ()),
        # the <script> inside the paragraph contributes nothing
        ("par_id4", "paragraph", 0, "Select the reverse option to print the last page first.", ()),
        ("par_id5", "paragraph", 0, "The reverse order is kept for the next print job too.", ()),
        ("par_idcode", "paragraph", 0, "Sub Main : Print 42 : End Sub", ("code",)),
        ("hd_id3", "heading", 3, "Notes", ()),
        # <br> is a space; the icon's alt text is not text
        ("par_id6", "paragraph", 0, "Small printers may not support every paper size in this list.", ("note",)),
        # block switch: the UNIX variant is shown, the MAC one (par_id9) dropped
        ("par_id7", "paragraph", 0, "On Linux the printer list comes from the print system.", ()),
        ("par_id8", "paragraph", 0, "Pages per sheet and their order", ()),
        ("par_idrel", "paragraph", 0, "Previewing a page before printing", ("related",)),
    ]
    # the embedded repeat of par_id1 is dropped and counted; empty heading and bm_ placeholder never appear
    assert page.duplicate_ids == 1
    ids = {e.id for e in page.elements}
    assert not ids & {"par_id9", "par_idhidden", "hd_idempty", "bm_id101", "hd_idchrome", "bm_module", "bm_system"}


def test_module_switch_shows_the_page_module_variant_else_default() -> None:
    calc = parse_page(render("en-US", SUM), SUM)
    assert _els(calc) == [
        ("hd_idsum", "heading", 1, "SUM", ()),
        ("par_idsum", "paragraph", 0, "Adds all numbers in the selected cells.", ()),
        ("hd_idsyn", "heading", 2, "Syntax", ("embedded",)),
        ("par_idsyn", "paragraph", 0, "Write the function name followed by its arguments in brackets.", ("embedded",)),
    ]
    shared = parse_page(render("en-US", ABOUT), ABOUT)
    assert shared.elements[1].text == "This page describes the suite and its objects."
    # the same markup forced to another module
    writer = parse_page(render("en-US", SUM), SUM, module="WRITER")
    assert writer.elements[1].text == "Adds all numbers in the selected table cells."


def test_heading_with_bookmark_id_keeps_its_text() -> None:
    page = parse_page(render("en-US", ABOUT), ABOUT)
    assert page.elements[0] == Element("bm_id200", "heading", 1, "About the office suite", ())


def test_system_choice_is_configurable() -> None:
    mac = parse_page(render("en-US", PRINT), PRINT, system="MAC")
    texts = {e.id: e.text for e in mac.elements}
    assert texts["par_id2"] == "Press Command + P to open the print dialog quickly."
    assert texts["par_id9"] == EN["p9"]
    assert "par_id7" not in texts


def test_visible_variants_follow_help2js() -> None:
    html = render("en-US", PRINT)
    assert visible_variants(html, module="WRITER") == {"defaulttextswriterguide_1", "UNIXtextswriterguide_2"}
    assert visible_variants(html, module=None, system="WIN") == {
        "defaulttextswriterguide_1",
        "defaulttextswriterguide_2",
    }


@pytest.mark.parametrize(
    ("path", "module"),
    [
        ("text/scalc/01/x.html", "CALC"),
        ("text/swriter/guide/x.html", "WRITER"),
        ("text/sbasic/shared/03/x.html", "BASIC"),
        ("text/sdatabase/x.html", "BASE"),
        ("text/shared/01/x.html", None),
        ("x.html", None),
    ],
)
def test_page_module(path: str, module: str | None) -> None:
    assert page_module(path) == module


def test_khmer_text_keeps_zero_width_spaces() -> None:
    page = parse_page(render("km", PRINT), PRINT)
    assert page.elements[0].text == "ការ\u200bបោះពុម្ព\u200bទំព័រ\u200bច្រើន"
    assert page.title == "ការ\u200bបោះពុម្ព\u200bទំព័រ\u200bច្រើន"


def test_tolerates_unclosed_and_stray_tags() -> None:
    html = '<div id="DisplayArea"><p id="a">one <b>two</p></i><p id="b">three</p><h2 id="c">four'
    page = parse_page(html, "t.html")
    assert [(e.id, e.text) for e in page.elements] == [("a", "one two"), ("b", "three"), ("c", "four")]


def test_outside_display_area_is_ignored() -> None:
    assert parse_page('<p id="a">chrome</p><div id="x"><h1 id="b">more chrome</h1></div>', "t.html").elements == []


def test_normalize_space() -> None:
    assert normalize_space(" a\n\t b\u00a0c  ") == "a b c"
    assert normalize_space("\u200b") == "\u200b"  # zero-width space is not whitespace


def test_element_and_page_json_round_trip(tmp_path: Path) -> None:
    write_help_tree(tmp_path)
    root = tmp_path / "en-US"
    files = iter_page_files(root)
    assert [f.relative_to(root).as_posix() for f in files] == [SUM, ABOUT, PRINT]
    page = parse_file(files[2], root)
    assert page.path == PRINT
    back = Page.from_json(page.to_json())
    assert back == page
