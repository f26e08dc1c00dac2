"""The default corpus: the LibreOffice help in 33 languages (English + 32 translations) from Debian packages.

The packages are ``libreoffice-help-<lang>``.

An offline, multi-way parallel corpus of a technical domain (MPL-2.0). Each language's help is 2,560 HTML pages with
the same paths in every language; headings and paragraphs carry ids that are identical across languages, so text
aligns by (page path, element id) with English as the reference.

Modules:

- :mod:`.langs` — the 33 languages: canonical tags <-> Debian package names <-> help folder names;
- :mod:`.fetch` — obtain a language's tree: installed, cached, or ``apt-get download`` (version-keyed cache);
- :mod:`.parse` — a page's headings and paragraphs, visible text only (switch variants rendered for Linux);
- :mod:`.align` — alignment, boilerplate, untranslated text, sections, de-duplication;
- :mod:`.corpus` — :class:`LibreOfficeCorpus` and :func:`load_libreoffice` (parse results cached as JSONL);
- :mod:`.stats` — per-language and pairwise counts.

Example:
    >>> from crossalign.data.libreoffice import LibreOfficeCorpus
    >>> lo = LibreOfficeCorpus.open("en,de,zh-CN")  # doctest: +SKIP
    >>> pairs = lo.parallel("paragraph").pairs("de", "en")  # doctest: +SKIP
    >>> records = lo.sections(["de", "en"])  # heading -> section text, per language  # doctest: +SKIP
"""

from __future__ import annotations

from crossalign.data.libreoffice.align import BOILERPLATE_FLAGS, Alignment, SectionRecord, Unit, align_pages
from crossalign.data.libreoffice.corpus import (
    DEFAULT_MIN_WORDS,
    KINDS,
    FetchResult,
    LanguageSummary,
    LibreOfficeCorpus,
    fetch_languages,
    load_libreoffice,
    load_pages,
)
from crossalign.data.libreoffice.fetch import HelpTree, obtain_help_tree
from crossalign.data.libreoffice.langs import (
    LIBREOFFICE_LANGUAGES,
    help_folder,
    lo_lang,
    lo_lang_list,
    package_name,
)
from crossalign.data.libreoffice.parse import Element, Page, parse_page
from crossalign.data.libreoffice.stats import corpus_stats, format_stats

__all__ = [
    "BOILERPLATE_FLAGS",
    "DEFAULT_MIN_WORDS",
    "KINDS",
    "LIBREOFFICE_LANGUAGES",
    "Alignment",
    "Element",
    "FetchResult",
    "HelpTree",
    "LanguageSummary",
    "LibreOfficeCorpus",
    "Page",
    "SectionRecord",
    "Unit",
    "align_pages",
    "corpus_stats",
    "fetch_languages",
    "format_stats",
    "help_folder",
    "lo_lang",
    "lo_lang_list",
    "load_libreoffice",
    "load_pages",
    "obtain_help_tree",
    "package_name",
    "parse_page",
]
