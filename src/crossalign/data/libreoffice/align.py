"""Align parsed help pages across languages by (page path, element id), with English as the reference.

Rules (each one decided from the data; see the package docstring for the numbers behind them):

- **Units.** Every English heading and paragraph is a unit, keyed ``<page path>#<element id>``. A language has a text
  for the unit when its page has an element with that id and the same kind. Elements present only in a translation
  have no English reference and are ignored.
- **Boilerplate** (dropped before anything else, by the context :mod:`.parse` records): the "Related Topics" block
  (``related``: link lists to other pages), the "To access this command…" block (``howtoget``: menu paths such as
  "Choose Insert - Chart…", icon labels, "On the Standard bar, click"), and code samples (``code``: Basic/SQL/Math
  source, not language).
- **Untranslated.** A translation identical to the English text (after whitespace normalisation) is the English
  fallback the help build inserts for untranslated strings: it is dropped for that language and counted. Not applied
  to ``en-GB``, where "identical" means "same spelling", not "untranslated".
- **Sections.** A section is a heading plus the paragraphs after it up to the next heading of *any* level (the
  rendered structure: a sub-heading starts a new section, so no text is in two sections). Paragraphs before the
  first heading belong to no section. A language has the section when it has the heading *and every* paragraph of
  the body translated — otherwise its body would be a fragment of the English one, not a translation of it.
- **Duplicates.** The help embeds shared snippets into many pages (``<div class="embedded">``: the "Syntax:" /
  "Example:" / "Parameters:" headings of ~200 Basic pages, the "Reset" note of 60 options pages, the function lists
  of the Calc categories). Headings and paragraphs are therefore unique by their English text (per kind), sections by
  (English heading, English body); the kept occurrence is the page's own (not embedded) one if any, else the first in
  path order. Duplicates stay inside the section bodies they belong to.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from crossalign.data.libreoffice.langs import SOURCE_LANGUAGE, is_english
from crossalign.data.libreoffice.parse import Element, Page

#: Element contexts that are boilerplate, not content (see the module docstring).
BOILERPLATE_FLAGS: frozenset[str] = frozenset({"related", "howtoget", "code"})

#: Reasons a language lacks a unit's text.
MISSING_PAGE = "missing_page"
MISSING_ID = "missing_id"
KIND_MISMATCH = "kind_mismatch"
UNTRANSLATED = "untranslated"


@dataclass(slots=True)
class Unit:
    """One English heading or paragraph and its translations.

    Attributes:
        id: ``<page>#<element id>``.
        page: Page path relative to the language folder.
        element_id: The element's id.
        kind: ``"heading"`` or ``"paragraph"``.
        level: Heading level 1–6; for a paragraph, the level of its section's heading (0 before the first heading).
        section: Element id of the heading whose section holds this paragraph (None for headings and for paragraphs
            before the first heading).
        texts: Language -> text, English included; untranslated texts are not here.
        missing: Language -> why it has no text (``missing_page``, ``missing_id``, ``kind_mismatch``,
            ``untranslated``).
        embedded: The English element is embedded from another page.
        duplicate: Another unit with the same English text (and kind) was kept instead.
    """

    id: str
    page: str
    element_id: str
    kind: str
    level: int
    section: str | None
    texts: dict[str, str]
    missing: dict[str, str]
    embedded: bool
    duplicate: bool = False


@dataclass(slots=True)
class SectionRecord:
    """A heading with its section text, per language — what "heading → section text" retrieval pairs are made of.

    Attributes:
        id: ``<page>#<heading id>/section``.
        page: Page path.
        element_id: Heading id.
        level: Heading level 1–6.
        paragraph_ids: Ids of the body paragraphs, in order.
        headings: Language -> heading text (translated ones only; English always).
        bodies: Language -> section text, its paragraphs joined by newlines (only languages with every paragraph
            translated; English always).
        titles: Language -> page title (translated ones only; English always).
        heading_shared: How many kept sections have the same English heading (1 = the heading is unique; "Syntax:"
            heads hundreds of sections, so builders should add the page title to such queries or skip them).
        embedded: The heading is embedded from another page.
        duplicate: An identical section (same English heading and body) was kept instead.
    """

    id: str
    page: str
    element_id: str
    level: int
    paragraph_ids: tuple[str, ...]
    headings: dict[str, str]
    bodies: dict[str, str]
    titles: dict[str, str]
    heading_shared: int = 1
    embedded: bool = False
    duplicate: bool = False

    @property
    def languages(self) -> list[str]:
        """Languages that have both the heading and the complete body, sorted."""
        return sorted(set(self.headings) & set(self.bodies))

    def english_words(self) -> int:
        """Whitespace tokens in the English body."""
        return len(self.bodies[SOURCE_LANGUAGE].split())


@dataclass
class Alignment:
    """Every unit and section of the English help with its translations in the loaded languages.

    Attributes:
        langs: Languages aligned (English first).
        units: Headings and paragraphs (duplicates included, flagged).
        sections: Sections (duplicates included, flagged).
        boilerplate: English elements dropped as boilerplate, per flag.
        only_in_translation: Language -> elements whose id the English page does not have.
    """

    langs: list[str]
    units: list[Unit] = field(default_factory=list)
    sections: list[SectionRecord] = field(default_factory=list)
    boilerplate: dict[str, int] = field(default_factory=dict)
    only_in_translation: dict[str, int] = field(default_factory=dict)

    def kept_units(self, kind: str | None = None) -> list[Unit]:
        """Non-duplicate units, optionally of one kind."""
        return [u for u in self.units if not u.duplicate and (kind is None or u.kind == kind)]

    def kept_sections(self) -> list[SectionRecord]:
        """Non-duplicate sections."""
        return [s for s in self.sections if not s.duplicate]


def is_boilerplate(element: Element, skip_flags: Iterable[str] = BOILERPLATE_FLAGS) -> bool:
    """True when the element sits in a boilerplate context (related topics, how-to-get, code)."""
    return bool(set(element.flags) & set(skip_flags))


def _translated(lang: str, text: str, english: str) -> bool:
    return is_english(lang) or text != english


def align_pages(pages: Mapping[str, Mapping[str, Page]], *, skip_flags: Iterable[str] = BOILERPLATE_FLAGS) -> Alignment:
    """Align the parsed pages of several languages to English.

    Args:
        pages: Language -> (page path -> :class:`Page`); must include ``"en"``.
        skip_flags: Element contexts dropped as boilerplate.

    Returns:
        The :class:`Alignment` (with duplicates flagged and ``heading_shared`` filled in).

    Raises:
        KeyError: English is not among ``pages``.

    Example:
        >>> from crossalign.data.libreoffice.parse import parse_page
        >>> html = '<div id="DisplayArea"><h1 id="h">{}</h1><p id="p">Print a page now.</p></div>'
        >>> en = parse_page(html.format("Print"), "t.html")
        >>> de = parse_page(html.format("Drucken"), "t.html")
        >>> al = align_pages({"en": {"t.html": en}, "de": {"t.html": de}})
        >>> [(u.id, u.texts, u.missing) for u in al.units]  # doctest: +NORMALIZE_WHITESPACE
        [('t.html#h', {'en': 'Print', 'de': 'Drucken'}, {}),
         ('t.html#p', {'en': 'Print a page now.'}, {'de': 'untranslated'})]
    """
    skip = frozenset(skip_flags)
    en_pages = pages[SOURCE_LANGUAGE]
    others = [lang for lang in pages if lang != SOURCE_LANGUAGE]
    al = Alignment(langs=[SOURCE_LANGUAGE, *others])
    boiler: dict[str, int] = defaultdict(int)
    only: dict[str, int] = defaultdict(int)
    index: dict[str, dict[str, dict[str, Element]]] = {
        lang: {path: {e.id: e for e in page.elements} for path, page in pages[lang].items()} for lang in others
    }
    for path in sorted(en_pages):
        page = en_pages[path]
        en_ids = {e.id for e in page.elements}
        for lang in others:
            if path in index[lang]:
                only[lang] += sum(1 for eid in index[lang][path] if eid not in en_ids)
        titles = {SOURCE_LANGUAGE: page.title}
        for lang in others:
            other = pages[lang].get(path)
            if other is not None and other.title and _translated(lang, other.title, page.title):
                titles[lang] = other.title
        current: tuple[Unit, list[Unit]] | None = None
        page_sections: list[tuple[Unit, list[Unit]]] = []
        for e in page.elements:
            if skip.intersection(e.flags):
                for flag in skip.intersection(e.flags):
                    boiler[flag] += 1
                continue
            texts = {SOURCE_LANGUAGE: e.text}
            missing: dict[str, str] = {}
            for lang in others:
                by_id = index[lang].get(path)
                if by_id is None:
                    missing[lang] = MISSING_PAGE
                    continue
                el = by_id.get(e.id)
                if el is None:
                    missing[lang] = MISSING_ID
                elif el.kind != e.kind:
                    missing[lang] = KIND_MISMATCH
                elif not _translated(lang, el.text, e.text):
                    missing[lang] = UNTRANSLATED
                else:
                    texts[lang] = el.text
            is_heading = e.kind == "heading"
            unit = Unit(
                id=f"{path}#{e.id}",
                page=path,
                element_id=e.id,
                kind=e.kind,
                level=e.level if is_heading else (current[0].level if current else 0),
                section=None if is_heading or current is None else current[0].element_id,
                texts=texts,
                missing=missing,
                embedded="embedded" in e.flags,
            )
            al.units.append(unit)
            if is_heading:
                current = (unit, [])
                page_sections.append(current)
            elif current is not None:
                current[1].append(unit)
        for heading, body in page_sections:
            if body:
                al.sections.append(_section(path, heading, body, titles, al.langs))
    al.boilerplate = dict(boiler)
    al.only_in_translation = {lang: only.get(lang, 0) for lang in others}
    _mark_duplicates(al)
    return al


def _section(path: str, heading: Unit, body: list[Unit], titles: dict[str, str], langs: list[str]) -> SectionRecord:
    bodies = {lang: "\n".join(u.texts[lang] for u in body) for lang in langs if all(lang in u.texts for u in body)}
    return SectionRecord(
        id=f"{path}#{heading.element_id}/section",
        page=path,
        element_id=heading.element_id,
        level=heading.level,
        paragraph_ids=tuple(u.element_id for u in body),
        headings=dict(heading.texts),
        bodies=bodies,
        titles=titles,
        embedded=heading.embedded,
    )


def _mark_duplicates(al: Alignment) -> None:
    """Flag repeated units (by kind and English text) and sections (by English heading and body)."""
    best: dict[tuple[str, str], Unit] = {}
    for u in al.units:  # path order: the first embedded one wins only if no own occurrence exists
        key = (u.kind, u.texts[SOURCE_LANGUAGE])
        kept = best.get(key)
        if kept is None or (kept.embedded and not u.embedded):
            best[key] = u
    for u in al.units:
        u.duplicate = best[(u.kind, u.texts[SOURCE_LANGUAGE])] is not u
    best_s: dict[tuple[str, str], SectionRecord] = {}
    for s in al.sections:
        key = (s.headings[SOURCE_LANGUAGE], s.bodies[SOURCE_LANGUAGE])
        kept_s = best_s.get(key)
        if kept_s is None or (kept_s.embedded and not s.embedded):
            best_s[key] = s
    shared: dict[str, int] = defaultdict(int)
    for s in al.sections:
        s.duplicate = best_s[(s.headings[SOURCE_LANGUAGE], s.bodies[SOURCE_LANGUAGE])] is not s
        if not s.duplicate:
            shared[s.headings[SOURCE_LANGUAGE]] += 1
    for s in al.sections:
        s.heading_shared = shared[s.headings[SOURCE_LANGUAGE]]
