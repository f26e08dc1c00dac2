"""The one table model: rich-rendered text and markdown show the same cells, unwrapped and unparsed."""

from __future__ import annotations

import io

from crossalign.utils.table import Table, print_tables, render_text


def _table() -> Table:
    return Table(
        "a [bold]title[/bold] with | pipes",
        ["lang", "model", "nDCG@10 ↑", "Max@R mean ↓"],
        [["de (n=5)", "base", "81.3", "7.0"], ["", "a|b", "—", "1234.5"]],
        caption=["n_queries = 5; " + "a long caption line " * 20, ""],
        label_columns=2,
    )


def test_text_rendering_aligns_labels_left_and_numbers_right_and_never_wraps() -> None:
    lines = _table().to_text().splitlines()
    assert lines[0] == "a [bold]title[/bold] with | pipes"  # not parsed as rich markup
    assert lines[1].split() == ["lang", "model", "nDCG@10", "↑", "Max@R", "mean", "↓"]
    assert set(lines[2]) == {"─"}
    width = len(lines[2])
    assert lines[3].startswith("de (n=5)") and lines[3].endswith("7.0") and len(lines[3]) == width
    assert lines[4].split() == ["a|b", "—", "1234.5"] and lines[4].endswith("1234.5")
    assert lines[3].index("81.3") + 4 == lines[4].index("—") + 1  # right-aligned in the same column
    assert lines[5] == "n_queries = 5; " + ("a long caption line " * 20).rstrip()  # one line, not wrapped
    assert len(lines) == 6 and all(line == line.rstrip() for line in lines)


def test_markdown_shows_the_same_cells_with_pipes_escaped_and_caption_in_italics() -> None:
    md = _table().to_markdown(heading="###")
    assert md.startswith("### a [bold]title[/bold] with | pipes\n\n| lang | model | nDCG@10 ↑ | Max@R mean ↓ |\n")
    assert "|---|---|---:|---:|" in md
    assert "| de (n=5) | base | 81.3 | 7.0 |" in md and "|  | a\\|b | — | 1234.5 |" in md
    assert md.rstrip().endswith("_n\\_queries = 5; " + ("a long caption line " * 20).rstrip() + "_")


def test_print_tables_to_a_pipe_is_the_text_rendering_with_lines_between() -> None:
    buf = io.StringIO()
    print_tables(["== model [x]", _table(), "time: 1.0s"], file=buf)
    assert buf.getvalue() == render_text(["== model [x]", _table(), "time: 1.0s"])
    out = buf.getvalue().splitlines()
    assert out[0] == "== model [x]" and out[-1] == "time: 1.0s" and out[1:-1] == _table().to_text().splitlines()
