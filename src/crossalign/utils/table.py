"""The one table model of crossalign's output, rendered by ``rich`` (terminal, plain text) and as GitHub markdown.

Every table crossalign shows — evaluation summaries, report tables, comparisons, the demo summary, corpus and
training-data statistics — is a :class:`Table` of already formatted cells (numbers go through
:func:`crossalign.evaluation.format.format_value` first), so a cell reads the same in the terminal, in a text file and
in ``report.md``.

Example:
    >>> t = Table("rows", ["split", "de", "total"], [["train", "3", "3"], ["dev", "0", "0"]], caption=["n = rows"])
    >>> print(t.to_text(), end="")
    rows
    split   de   total
    ──────────────────
    train    3       3
    dev      0       0
    n = rows
    >>> print(t.to_markdown(heading=None), end="")
    | split | de | total |
    |---|---:|---:|
    | train | 3 | 3 |
    | dev | 0 | 0 |
    <BLANKLINE>
    _n = rows_
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

__all__ = ["Table", "print_tables"]


@dataclass
class Table:
    """A table of formatted cells.

    Attributes:
        title: One line saying what the table shows ("" for none).
        columns: Header labels.
        rows: Formatted cells (``len(columns)`` strings per row).
        caption: Lines printed under the table (units, counts, legends).
        label_columns: How many leading columns are labels (left-aligned); the rest are right-aligned numbers.
        align: Optional explicit alignment per column (``"l"``/``"r"``), overriding ``label_columns``.
    """

    title: str
    columns: list[str]
    rows: list[list[str]]
    caption: list[str] = field(default_factory=list)
    label_columns: int = 1
    align: list[str] | None = None

    def _left(self, i: int) -> bool:
        if self.align is not None:
            return self.align[i] == "l"
        return i < self.label_columns

    def column(self, name: str) -> list[str]:
        """The cells of the column whose header is ``name``."""
        i = self.columns.index(name)
        return [r[i] for r in self.rows]

    def row(self, *labels: str) -> list[str]:
        """The first row whose leading cells equal ``labels``."""
        for r in self.rows:
            if list(r[: len(labels)]) == list(labels):
                return r
        raise KeyError(labels)

    def to_markdown(self, *, heading: str | None = "####") -> str:
        """GitHub-flavoured markdown: optional heading with the title, the table, the caption as an italic note."""
        esc = [[c.replace("|", "\\|") for c in row] for row in [self.columns, *self.rows]]
        align = ["---" if self._left(i) else "---:" for i in range(len(self.columns))]
        lines = []
        if heading and self.title:
            lines += [f"{heading} {self.title}", ""]
        lines.append("| " + " | ".join(esc[0]) + " |")
        lines.append("|" + "|".join(align) + "|")
        lines += ["| " + " | ".join(r) + " |" for r in esc[1:]]
        notes = [f"_{c.strip().replace('_', chr(92) + '_')}_" for c in self.caption if c.strip()]
        if notes:
            lines += ["", "\\\n".join(notes)]
        return "\n".join(lines) + "\n"

    def to_rich(self, *, caption: bool = True) -> Any:
        """A ``rich.table.Table``: title above, header rule, caption lines below (wrapped to the table's width; pass
        ``caption=False`` to print them yourself), all left-justified."""
        from rich import box
        from rich.table import Table as RichTable
        from rich.text import Text

        note = "\n".join(c for c in self.caption if c) if caption else ""
        t = RichTable(  # cells are Text, never parsed as rich markup ("[1/5]" stays as written)
            title=Text(self.title) if self.title else None,
            title_justify="left",
            caption=Text(note) if note else None,
            caption_justify="left",
            box=box.SIMPLE_HEAD,
            show_edge=False,
            pad_edge=False,
        )
        for i, c in enumerate(self.columns):
            t.add_column(Text(c), justify="left" if self._left(i) else "right", no_wrap=True)
        for r in self.rows:
            t.add_row(*(Text(c) for c in r))
        return t

    def to_text(self) -> str:
        """The rich rendering as plain text (no colour, no wrapping; for logs, files and tests)."""
        return render_text([self])


def _renderables(items: Iterable[Table | str]) -> Iterable[tuple[Any, bool]]:
    """(renderable, is_text) pairs: each table, then its caption lines unwrapped, and the strings between them."""
    for item in items:
        if isinstance(item, Table):
            yield item.to_rich(caption=False), False
            yield from ((c, True) for c in item.caption if c)
        else:
            yield item, True


def _console(file: IO[str], *, plain: bool) -> Any:
    from rich.console import Console

    if plain:
        return Console(file=file, width=100_000, color_system=None, force_terminal=False, highlight=False)
    return Console(file=file, highlight=False)


def render_text(items: Iterable[Table | str]) -> str:
    """Tables (and lines of text between them) rendered by rich as plain text, trailing spaces removed."""
    buf = io.StringIO()
    console = _console(buf, plain=True)
    for renderable, text in _renderables(items):
        console.print(renderable, soft_wrap=text, markup=False)
    return "\n".join(line.rstrip() for line in buf.getvalue().splitlines()) + "\n"


def print_tables(items: Sequence[Table | str], file: IO[str] | None = None) -> None:
    """Print tables (and lines of text) to ``file`` (stdout): styled by rich on a terminal, plain text otherwise
    (pipes, logs, tests), never wrapped or squeezed to the terminal's width."""
    out = file if file is not None else sys.stdout
    if out.isatty():
        console = _console(out, plain=False)
        for renderable, text in _renderables(items):
            if not text:
                console.width = max(console.width, console.measure(renderable).maximum)
            console.print(renderable, soft_wrap=text, markup=False)
        return
    out.write(render_text(items))
    out.flush()
