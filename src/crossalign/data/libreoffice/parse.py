"""Parse one LibreOffice help page (``text/**.html``) into its headings and paragraphs, visible text only.

The help pages are generated from ``.xhp`` sources by an XSLT: every translatable heading is an ``<h1..h6>`` and every
translatable paragraph a ``<p>``, each with an ``id`` that is identical in every language (``hd_id3149694``,
``par_id3149829``, ``N0003``). Only the page body (``<div id="DisplayArea">``) is read; the header, the index/contents
side bars and the debug footer are navigation chrome.

What the text of an element is:

- The text a browser shows, whitespace collapsed to single spaces (entities decoded; ``<br>`` is a space); no
  ``<script>``/``<style>``, no ``alt`` text, no ``<a name>`` anchors.
- **Switch variants.** The XSLT writes every system- or module-specific variant of a passage into the page as
  ``<span hidden="true">`` children of a ``<span class="switch">``/``"switchinline"`` whose id starts with ``swlnsys``
  (system: ``MAC``/``WIN``/``UNIX``/``default`` variants) or ``swlnappl`` (module: ``CALC``/``WRITER``/… /``default``).
  The help's own script (``help2.js``) un-hides one variant: the one for the current system/module if the page has
  it, else ``default``. This parser does the same for a fixed, documented viewer — **Linux** (``UNIX``; the Debian
  packages are read on Linux) and **the page's own module** (``text/scalc/**`` → ``CALC``; ``text/shared/**`` has no
  module, so ``default``). In practice that keeps ``Ctrl``/``Tools - Options`` and drops the ``Command``/``LibreOffice -
  Preferences`` (macOS) variants. Every other ``hidden`` element stays hidden.

Each element also records where it sits (``flags``): inside the "Related Topics" block (``related``), the "To access
this command" block (``howtoget``), text embedded from another page (``embedded``), a table (``table``), a note/tip/
warning box (``note``), and whether it is a code sample (``code``: classes ``code``, ``codeintable``,
``smathcode``). The parser keeps everything with an id and non-empty text; what counts as boilerplate is decided in
:mod:`crossalign.data.libreoffice.align` from these flags, so a policy change needs no re-parse.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

#: Bump when the parse output changes: it is part of the parse-cache key.
PARSER_VERSION = 1

#: The system the switch variants are rendered for (``help2.js`` ``getSystem()`` answers ``UNIX`` on Linux).
DEFAULT_SYSTEM = "UNIX"

#: ``text/<folder>/`` -> the module name ``help2.js`` matches module-variant ids against.
MODULE_OF_FOLDER: dict[str, str] = {
    "swriter": "WRITER",
    "scalc": "CALC",
    "simpress": "IMPRESS",
    "sdraw": "DRAW",
    "schart": "CHART",
    "smath": "MATH",
    "sbasic": "BASIC",
    "sdatabase": "BASE",
}

_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"}
)
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_CODE_CLASSES = frozenset({"code", "codeintable", "smathcode"})
_NOTE_CLASSES = frozenset({"note", "tip", "warning", "notetext"})
_ID_RE = re.compile(r"""\bid\s*=\s*["']([^"']*)["']""")
_SWITCH_RE = re.compile(r"""\bid\s*=\s*["']swln(sys|appl)([^"']*)["']""")
_WS_RE = re.compile(r"\s+")


def normalize_space(text: str) -> str:
    """Collapse every run of whitespace (incl. no-break spaces) to one space and strip the ends.

    Example:
        >>> normalize_space("  Print\\n  the\\xa0page ")
        'Print the page'
    """
    return _WS_RE.sub(" ", text).strip()


@dataclass(frozen=True, slots=True)
class Element:
    """A heading or paragraph of a help page.

    Attributes:
        id: The element's ``id`` attribute, identical across languages.
        kind: ``"heading"`` or ``"paragraph"``.
        level: 1–6 for headings, 0 for paragraphs.
        text: Visible text, whitespace collapsed.
        flags: Context markers (``related``, ``howtoget``, ``embedded``, ``table``, ``note``, ``code``), sorted.
    """

    id: str
    kind: str
    level: int
    text: str
    flags: tuple[str, ...] = ()

    def to_json(self) -> list[Any]:
        """Compact JSON form: ``[id, kind, level, text, flags]``."""
        return [self.id, self.kind, self.level, self.text, list(self.flags)]

    @classmethod
    def from_json(cls, row: list[Any]) -> Element:
        """Inverse of :meth:`to_json`."""
        eid, kind, level, text, flags = row
        return cls(eid, kind, int(level), text, tuple(flags))


@dataclass(slots=True)
class Page:
    """One parsed help page.

    Attributes:
        path: Path relative to the language folder, ``/``-separated (``text/swriter/guide/print_small.html``).
        title: The ``<title>`` text.
        elements: Headings and paragraphs in document order; ids unique within the page (first occurrence kept).
        duplicate_ids: How many later elements repeated an id already seen on the page (dropped).
    """

    path: str
    title: str
    elements: list[Element] = field(default_factory=list)
    duplicate_ids: int = 0

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict (one line of the parse cache)."""
        return {
            "path": self.path,
            "title": self.title,
            "elements": [e.to_json() for e in self.elements],
            "duplicate_ids": self.duplicate_ids,
        }

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Page:
        """Inverse of :meth:`to_json`."""
        return cls(
            obj["path"],
            obj["title"],
            [Element.from_json(r) for r in obj["elements"]],
            int(obj.get("duplicate_ids", 0)),
        )


def page_module(path: str) -> str | None:
    """The module a page belongs to, from its path (``text/scalc/01/x.html`` -> ``CALC``; shared pages -> None)."""
    parts = path.replace("\\", "/").split("/")
    if len(parts) >= 2 and parts[0] == "text":
        return MODULE_OF_FOLDER.get(parts[1])
    return None


def visible_variants(html: str, *, module: str | None, system: str = DEFAULT_SYSTEM) -> set[str]:
    """The ids of the switch variants the help viewer would un-hide, as ``help2.js`` chooses them.

    For each ``swlnsys<suffix>`` switch: ``<system><suffix>`` if the page has that id, else ``default<suffix>``; for
    each ``swlnappl<suffix>`` switch the same with ``module`` (``default<suffix>`` when ``module`` is None).
    """
    ids = set(_ID_RE.findall(html))
    out: set[str] = set()
    for kind, suffix in _SWITCH_RE.findall(html):
        want = system if kind == "sys" else module
        if want and f"{want}{suffix}" in ids:
            out.add(f"{want}{suffix}")
        else:
            out.add(f"default{suffix}")
    return out


class _Frame:
    __slots__ = ("collector", "flags", "hidden", "tag")

    def __init__(self, tag: str, hidden: bool, flags: frozenset[str], collector: list[str] | None) -> None:
        self.tag = tag
        self.hidden = hidden
        self.flags = flags
        self.collector = collector


class _HelpPageParser(HTMLParser):
    def __init__(self, visible: set[str]) -> None:
        super().__init__(convert_charrefs=True)
        self.visible = visible
        self.stack: list[_Frame] = []
        self.title_parts: list[str] = []
        self.in_title = False
        self.in_display = 0  # depth of the DisplayArea frame in the stack, 0 = outside
        # (id, kind, level, flags, parts) in document order
        self.found: list[tuple[str, str, int, frozenset[str], list[str]]] = []

    # -- helpers
    def _top(self) -> _Frame | None:
        return self.stack[-1] if self.stack else None

    def _collector(self) -> list[str] | None:
        for frame in reversed(self.stack):
            if frame.collector is not None:
                return frame.collector
        return None

    # -- HTMLParser interface
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v or "") for k, v in attrs}
        if tag == "title":
            self.in_title = True
        if tag in _VOID:
            if tag == "br" and not self._hidden():
                coll = self._collector()
                if coll is not None:
                    coll.append(" ")
            return
        parent = self._top()
        hidden = parent.hidden if parent else False
        flags = parent.flags if parent else frozenset()
        eid = a.get("id", "")
        classes = set(a.get("class", "").split())
        if tag in ("script", "style", "noscript"):
            hidden = True
        if "hidden" in a and eid not in self.visible:
            hidden = True
        if tag == "div" and eid == "DisplayArea":
            self.in_display = len(self.stack) + 1
        extra = set()
        if "relatedtopics" in classes:
            extra.add("related")
        if "howtoget" in classes:
            extra.add("howtoget")
        if "embedded" in classes and tag == "div":
            extra.add("embedded")
        if tag in ("table", "td", "th") or "icontable" in classes:
            extra.add("table")
        if classes & _NOTE_CLASSES:
            extra.add("note")
        if extra:
            flags = flags | extra
        collector: list[str] | None = None
        if self.in_display and not hidden and eid and (tag == "p" or tag in _HEADINGS):
            collector = []
            kind = "heading" if tag in _HEADINGS else "paragraph"
            eflags = flags | {"code"} if classes & _CODE_CLASSES else flags
            self.found.append((eid, kind, _HEADINGS.get(tag, 0), eflags, collector))
        self.stack.append(_Frame(tag, hidden, flags, collector))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.in_title = False
        if tag in _VOID:
            return
        # pop to the matching open tag; a stray end tag with no open match is ignored
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                if self.in_display > len(self.stack):
                    self.in_display = 0
                return

    def _hidden(self) -> bool:
        top = self._top()
        return bool(top and top.hidden)

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title_parts.append(data)
            return
        if self._hidden():
            return
        coll = self._collector()
        if coll is not None:
            coll.append(data)


def parse_page(html: str, path: str, *, system: str = DEFAULT_SYSTEM, module: str | None = None) -> Page:
    """Parse the HTML of one help page.

    Args:
        html: The page source.
        path: The page's path relative to the language folder (``text/swriter/guide/print_small.html``).
        system: The system whose switch variants are shown (``UNIX``, ``WIN``, ``MAC``).
        module: The module whose variants are shown; default: the page's own module from ``path``.

    Returns:
        The :class:`Page` with every id-carrying heading and paragraph in the page body that has visible text.

    Example:
        >>> page = parse_page('<title>T</title><div id="DisplayArea"><h1 id="hd_1">Print</h1>'
        ...                   '<p id="par_1">Press <span class="keycode">Ctrl</span>+P.</p></div>', "text/a.html")
        >>> [(e.id, e.kind, e.text) for e in page.elements]
        [('hd_1', 'heading', 'Print'), ('par_1', 'paragraph', 'Press Ctrl+P.')]
    """
    mod = module if module is not None else page_module(path)
    parser = _HelpPageParser(visible_variants(html, module=mod, system=system))
    parser.feed(html)
    parser.close()
    page = Page(path=path, title=normalize_space("".join(parser.title_parts)))
    seen: set[str] = set()
    for eid, kind, level, flags, parts in parser.found:
        text = normalize_space("".join(parts))
        if not text:
            continue
        if eid in seen:
            page.duplicate_ids += 1
            continue
        seen.add(eid)
        page.elements.append(Element(eid, kind, level, text, tuple(sorted(flags))))
    return page


def parse_file(file: str | Path, root: str | Path) -> Page:
    """Parse the page at ``file``; its :attr:`Page.path` is taken relative to ``root`` (the language folder)."""
    f = Path(file)
    rel = f.relative_to(root).as_posix()
    return parse_page(f.read_text(encoding="utf-8", errors="replace"), rel)


def iter_page_files(root: str | Path) -> list[Path]:
    """Every ``text/**/*.html`` under a language folder, sorted by relative path."""
    base = Path(root) / "text"
    return sorted(base.rglob("*.html"), key=lambda p: p.relative_to(root).as_posix())
