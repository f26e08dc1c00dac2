"""The LibreOffice help as an aligned multi-way corpus: obtain, parse (cached), align, and hand out tuples.

The parsed pages are cached per (package version, language, parser version) as JSONL next to the tree
(``<cache>/corpora/libreoffice/<version>/parsed/<FOLDER>.p<N>.jsonl``, written atomically under a file lock).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crossalign.data.io import write_jsonl
from crossalign.data.libreoffice.align import (
    BOILERPLATE_FLAGS,
    Alignment,
    SectionRecord,
    align_pages,
    is_boilerplate,
)
from crossalign.data.libreoffice.fetch import LICENSE, HelpTree, corpus_root, obtain_help_tree, version_key
from crossalign.data.libreoffice.langs import SOURCE_LANGUAGE, lo_lang_list
from crossalign.data.libreoffice.parse import PARSER_VERSION, Page, iter_page_files, parse_file
from crossalign.data.records import ParallelCorpus, ParallelTuple
from crossalign.errors import ConfigError, CorruptFileError
from crossalign.utils.atomic import file_lock
from crossalign.utils.progress import progress, progress_scope

logger = logging.getLogger(__name__)

#: Tuple kinds :meth:`LibreOfficeCorpus.parallel` can produce.
KINDS: tuple[str, ...] = ("section", "paragraph", "heading")
#: Default minimum English words of a paragraph / section body (headings are never filtered by length).
DEFAULT_MIN_WORDS = 4

PathLike = str | os.PathLike[str]

_NOT_CHAR_RE = re.compile(r"[\s\u200b\u200c\u200d\ufeff]+")


# ---------------------------------------------------------------------------------------------------- parse cache
def parse_cache_path(tree: HelpTree, cache_dir: PathLike | None = None) -> Path:
    """Where the parsed pages of ``tree`` are cached: ``<root>/<version>/parsed/<FOLDER>.p<N>.jsonl``."""
    return corpus_root(cache_dir) / version_key(tree.version) / "parsed" / f"{tree.folder}.p{PARSER_VERSION}.jsonl"


def parse_tree(tree: HelpTree) -> list[Page]:
    """Parse every ``text/**.html`` page of a help tree (sorted by path)."""
    return [parse_file(f, tree.path) for f in progress(iter_page_files(tree.path), desc=f"parse {tree.lang}")]


def _write_parse_cache(path: Path, tree: HelpTree, pages: Sequence[Page]) -> None:
    header = {
        "_crossalign": "libreoffice-parse",
        "parser_version": PARSER_VERSION,
        "n_pages": len(pages),
        **tree.provenance(),
    }
    write_jsonl(path, [header, *(p.to_json() for p in pages)])


def _read_parse_cache(path: Path) -> list[Page]:
    pages: list[Page] = []
    expected: int | None = None
    with path.open("r", encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            try:
                obj = json.loads(line)
                if lineno == 1:
                    if obj.get("parser_version") != PARSER_VERSION:
                        raise ValueError("parser version mismatch")
                    expected = obj.get("n_pages")  # absent in caches written before the count was recorded
                    continue
                pages.append(Page.from_json(obj))
            except (ValueError, KeyError, TypeError) as exc:
                raise CorruptFileError(
                    f"{path}:{lineno}: parse cache entry is unreadable ({exc})",
                    hint=f"delete {path}; it is rebuilt on the next load",
                ) from None
    if expected is not None and len(pages) != expected:
        raise CorruptFileError(
            f"{path}: parse cache is incomplete ({len(pages)} of {expected} pages)",
            hint=f"delete {path}; it is rebuilt on the next load",
        )
    return pages


def load_pages(tree: HelpTree, *, cache_dir: PathLike | None = None) -> dict[str, Page]:
    """The parsed pages of ``tree`` (page path -> :class:`Page`), from the parse cache or parsed now and cached.

    A corrupt cache file is reparsed and replaced (with a warning).
    """
    path = parse_cache_path(tree, cache_dir)
    cached = _cached_pages(path, warn=True)
    if cached is not None:
        return cached
    with file_lock(path):
        cached = _cached_pages(path, warn=False)  # another process finished it while we waited
        if cached is not None:
            return cached
        pages = parse_tree(tree)
        _write_parse_cache(path, tree, pages)
    return {p.path: p for p in pages}


def _cached_pages(path: Path, *, warn: bool) -> dict[str, Page] | None:
    """The parse cache's pages by path; None when it is missing or corrupt."""
    if path.is_file():
        try:
            return {p.path: p for p in _read_parse_cache(path)}
        except CorruptFileError as exc:
            if warn:
                logger.warning("%s; reparsing", exc)
    return None


def _parse_worker(tree: HelpTree, cache_dir: str | None) -> float:
    t0 = time.perf_counter()
    with progress_scope(False):
        load_pages(tree, cache_dir=cache_dir)
    return time.perf_counter() - t0


@dataclass(frozen=True)
class FetchResult:
    """What :func:`fetch_languages` did for one language.

    Attributes:
        tree: The help tree (its ``source`` says installed / cache / download).
        pages: Pages in the parse cache.
        parsed_now: The pages were parsed in this call (False: the parse cache already had them).
        seconds: Wall time spent on this language (obtaining + parsing; parallel parses overlap).
        parse_cache: The parse-cache file.
    """

    tree: HelpTree
    pages: int
    parsed_now: bool
    seconds: float
    parse_cache: Path


def fetch_languages(
    langs: str | Iterable[str],
    *,
    cache_dir: PathLike | None = None,
    help_root: PathLike | None = None,
    refresh: bool = False,
    workers: int | None = None,
    show_progress: bool | None = None,
) -> list[FetchResult]:
    """Obtain and parse the help in ``langs`` (English always included, first) so later loads are offline and fast.

    The arguments and errors are those of :meth:`LibreOfficeCorpus.open` (the help is always downloaded when
    missing)."""
    with progress_scope(show_progress):
        _, trees, seconds, todo = _obtain(langs, cache_dir, help_root, True, refresh, workers)
    out = []
    for lang, tree in trees.items():
        path = parse_cache_path(tree, cache_dir)
        with path.open("r", encoding="utf-8") as fh:
            n_pages = sum(1 for _ in fh) - 1
        out.append(FetchResult(tree, n_pages, tree in todo, seconds[lang], path))
    return out


def _obtain(
    langs: str | Iterable[str],
    cache_dir: PathLike | None,
    help_root: PathLike | None,
    download: bool,
    refresh: bool,
    workers: int | None,
) -> tuple[list[str], dict[str, HelpTree], dict[str, float], list[HelpTree]]:
    """Obtain English and ``langs`` and fill their parse caches (in parallel processes when there are several).

    Returns:
        ``(canonical langs, lang -> tree, lang -> seconds, the trees parsed now)``.
    """
    wanted = lo_lang_list(langs)
    trees: dict[str, HelpTree] = {}
    times: dict[str, float] = {}
    for lang in progress([SOURCE_LANGUAGE, *(x for x in wanted if x != SOURCE_LANGUAGE)], desc="obtain help"):
        t0 = time.perf_counter()
        trees[lang] = obtain_help_tree(
            lang, cache_dir=cache_dir, help_root=help_root, download=download, refresh=refresh
        )
        times[lang] = time.perf_counter() - t0
    todo = [t for t in trees.values() if not parse_cache_path(t, cache_dir).is_file()]
    n_workers = max(1, min(workers or os.cpu_count() or 1, len(todo)))
    if len(todo) > 1 and n_workers > 1:
        cd = None if cache_dir is None else str(cache_dir)
        with ProcessPoolExecutor(max_workers=n_workers) as pool:
            futures = [pool.submit(_parse_worker, t, cd) for t in todo]
            for t, fut in zip(todo, progress(futures, desc=f"parse {len(todo)} languages")):
                times[t.lang] += fut.result()
    else:
        for t in todo:
            t0 = time.perf_counter()
            load_pages(t, cache_dir=cache_dir)
            times[t.lang] += time.perf_counter() - t0
    return wanted, trees, times, todo


# ------------------------------------------------------------------------------------------------------- summaries
@dataclass(frozen=True)
class LanguageSummary:
    """Counts of one language's own pages (boilerplate removed, before alignment and de-duplication).

    Attributes:
        lang: Canonical tag.
        pages: Pages parsed.
        headings: Headings.
        sections: Headings followed by at least one paragraph.
        paragraphs: Paragraphs.
        words: Whitespace tokens in headings and paragraphs.
        chars: Non-space characters in headings and paragraphs (the size measure for zh/ja/km/dz).
        duplicate_ids: Elements dropped because their id repeated on the same page.
    """

    lang: str
    pages: int
    headings: int
    sections: int
    paragraphs: int
    words: int
    chars: int
    duplicate_ids: int


def count_chars(text: str) -> int:
    """Characters that are neither whitespace nor zero-width (U+200B–U+200D, U+FEFF: Khmer's word separator).

    Example:
        >>> count_chars("ការ\\u200bបោះ ពុម្ព")
        11
    """
    return len(_NOT_CHAR_RE.sub("", text))


def summarize_pages(
    lang: str, pages: Mapping[str, Page], skip_flags: Iterable[str] = BOILERPLATE_FLAGS
) -> LanguageSummary:
    """Count a language's pages, sections, paragraphs, words and characters (see :class:`LanguageSummary`)."""
    skip = frozenset(skip_flags)
    headings = sections = paragraphs = words = chars = dups = 0
    for page in pages.values():
        dups += page.duplicate_ids
        open_heading = False
        for e in page.elements:
            if is_boilerplate(e, skip):
                continue
            words += len(e.text.split())
            chars += count_chars(e.text)
            if e.kind == "heading":
                headings += 1
                open_heading = True
            else:
                paragraphs += 1
                if open_heading:
                    sections += 1
                    open_heading = False
    return LanguageSummary(lang, len(pages), headings, sections, paragraphs, words, chars, dups)


# ---------------------------------------------------------------------------------------------------------- corpus
class LibreOfficeCorpus:
    """The LibreOffice help in several languages, aligned to English by (page, element id).

    Build it with :meth:`open`. English is always loaded (it is the reference for alignment, for dropping
    untranslated text and for the word-count filters); the tuples and records it hands out hold only the languages
    asked for.

    Attributes:
        langs: The languages asked for (canonical tags, in the order given).
        trees: Language -> :class:`HelpTree` (English included).
        alignment: The :class:`Alignment` of all loaded languages.
        summaries: Language -> :class:`LanguageSummary` of its own pages.

    Example:
        >>> corpus = LibreOfficeCorpus.open(["en", "de"])  # doctest: +SKIP
        >>> corpus.parallel(["paragraph"]).pairs("de", "en")[0]  # doctest: +SKIP
        ('text/sbasic/guide/access2base.html#par_id3146957', 'Was ist Access2Base?', 'What is Access2Base?')
        >>> rec = corpus.sections(["de", "en"])[0]  # doctest: +SKIP
        >>> rec.headings["de"], rec.bodies["en"][:40]  # doctest: +SKIP
    """

    def __init__(
        self,
        langs: Sequence[str],
        trees: Mapping[str, HelpTree],
        alignment: Alignment,
        summaries: Mapping[str, LanguageSummary],
    ) -> None:
        self.langs = list(langs)
        self.trees = dict(trees)
        self.alignment = alignment
        self.summaries = dict(summaries)

    # -- construction
    @classmethod
    def open(
        cls,
        langs: str | Iterable[str],
        *,
        cache_dir: PathLike | None = None,
        help_root: PathLike | None = None,
        download: bool = True,
        refresh: bool = False,
        workers: int | None = None,
        show_progress: bool | None = None,
    ) -> LibreOfficeCorpus:
        """Obtain, parse (or read the parse cache) and align the help in ``langs``.

        Args:
            langs: Languages (``"de,zh-CN"`` or a list; ``"all"`` for all 33). English is loaded in any case.
            cache_dir: crossalign cache root (default ``$CROSSALIGN_CACHE`` or ``~/.cache/crossalign``).
            help_root: Folder of installed help trees (default ``/usr/share/libreoffice/help``).
            download: Allow ``apt-get download`` for languages neither installed nor cached.
            refresh: Download the archive's current version even if a tree is cached.
            workers: Processes parsing languages in parallel (default: CPU count; 1 parses in this process).
            show_progress: Force progress bars on/off (default: on unless ``CROSSALIGN_NO_PROGRESS``).

        Raises:
            UnknownLanguageError: A language is not one of the 33.
            CorpusError: A tree cannot be obtained (the message says how to fix it).
        """
        with progress_scope(show_progress):
            wanted, trees, _, _ = _obtain(langs, cache_dir, help_root, download, refresh, workers)
            pages = {lang: load_pages(tree, cache_dir=cache_dir) for lang, tree in trees.items()}
        summaries = {lang: summarize_pages(lang, p) for lang, p in pages.items()}
        return cls(wanted, trees, align_pages(pages), summaries)

    # -- provenance
    def provenance(self) -> dict[str, Any]:
        """Where the data came from and which rules shaped it (JSON-ready)."""
        return {
            "corpus": "libreoffice-help",
            "license": LICENSE,
            "packages": {lang: tree.provenance() for lang, tree in self.trees.items()},
            "parser_version": PARSER_VERSION,
            "reference_language": SOURCE_LANGUAGE,
            "rules": {
                "align_key": "(page path, element id)",
                "boilerplate_dropped": sorted(BOILERPLATE_FLAGS),
                "untranslated": "translation identical to English after whitespace normalisation is dropped "
                "(not applied to en-GB)",
                "sections": "heading + following paragraphs up to the next heading of any level; a language has "
                "a section when it has the heading and every body paragraph translated",
                "duplicates": "headings/paragraphs unique by English text, sections by English heading+body",
                "switch_variants": "system UNIX, module of the page, else default (as help2.js renders on Linux)",
            },
        }

    # -- views
    def _check_langs(self, langs: str | Iterable[str] | None) -> list[str]:
        if langs is None:
            return list(self.langs)
        chosen = lo_lang_list(langs)
        loaded = set(self.trees)
        extra = [lang for lang in chosen if lang not in loaded]
        if extra:
            raise ConfigError(
                f"languages {extra} were not loaded (loaded: {sorted(loaded)})",
                hint="open the corpus with these languages",
            )
        return chosen

    def sections(
        self,
        langs: str | Iterable[str] | None = None,
        *,
        min_words: int = DEFAULT_MIN_WORDS,
        require_all: bool = False,
        include_duplicates: bool = False,
    ) -> list[SectionRecord]:
        """Sections with their heading and text per language — the material for "heading → section" pairs.

        Each record keeps only the languages (of ``langs``) that have the whole section: the heading and every
        body paragraph translated.

        Args:
            langs: Languages to keep (default: those the corpus was opened with).
            min_words: Minimum whitespace tokens of the English body.
            require_all: Keep only sections every language of ``langs`` has (default: at least two of them, or
                one when a single language is asked for).
            include_duplicates: Also return repeated sections (same English heading and body).

        Returns:
            :class:`SectionRecord` objects in page order.
        """
        chosen = self._check_langs(langs)
        need = len(chosen) if require_all else min(2, len(chosen))
        out: list[SectionRecord] = []
        for s in self.alignment.sections:
            if (s.duplicate and not include_duplicates) or s.english_words() < min_words:
                continue
            have = [lang for lang in chosen if lang in s.headings and lang in s.bodies]
            if len(have) < need:
                continue
            out.append(
                dataclasses.replace(
                    s,
                    headings={lang: s.headings[lang] for lang in have},
                    bodies={lang: s.bodies[lang] for lang in have},
                    titles={lang: s.titles[lang] for lang in have if lang in s.titles},
                )
            )
        return out

    def parallel(
        self,
        kinds: str | Iterable[str] = KINDS,
        *,
        langs: str | Iterable[str] | None = None,
        min_words: int = DEFAULT_MIN_WORDS,
        require_all: bool = False,
        include_duplicates: bool = False,
    ) -> ParallelCorpus:
        """The aligned texts as a :class:`~crossalign.data.records.ParallelCorpus`.

        Tuple ids are ``<page>#<element id>`` (headings, paragraphs) and ``<page>#<heading id>/section``; ``meta``
        holds ``page``, ``element_id``, ``kind``, ``level`` and, for paragraphs, ``section`` (the heading id), for
        sections ``headings``/``titles`` (language -> text), ``paragraph_ids`` and ``heading_shared``.

        Args:
            kinds: Any of ``"section"`` (texts = section bodies), ``"paragraph"``, ``"heading"``.
            langs, require_all, include_duplicates: As for :meth:`sections`, per tuple.
            min_words: Minimum whitespace tokens of the English paragraph / section body (headings: no minimum).

        Returns:
            The corpus, with :meth:`provenance` (plus the filters) as its ``provenance``.

        Raises:
            ConfigError: An unknown kind, or a language the corpus was not opened with.
        """
        kind_list = [kinds] if isinstance(kinds, str) else list(kinds)
        bad = [k for k in kind_list if k not in KINDS]
        if bad or not kind_list:
            raise ConfigError(f"unknown tuple kind(s) {bad or kind_list}", hint=f"choose from {', '.join(KINDS)}")
        chosen = self._check_langs(langs)
        need = len(chosen) if require_all else min(2, len(chosen))
        tuples: list[ParallelTuple] = []
        if "section" in kind_list:
            for s in self.sections(
                chosen, min_words=min_words, require_all=require_all, include_duplicates=include_duplicates
            ):
                meta = {
                    "page": s.page,
                    "element_id": s.element_id,
                    "kind": "section",
                    "level": s.level,
                    "headings": s.headings,
                    "titles": s.titles,
                    "paragraph_ids": list(s.paragraph_ids),
                    "heading_shared": s.heading_shared,
                }
                tuples.append(ParallelTuple(s.id, dict(s.bodies), meta))
        unit_kinds = {k for k in kind_list if k != "section"}
        if unit_kinds:
            for u in self.alignment.units:
                if u.kind not in unit_kinds or (u.duplicate and not include_duplicates):
                    continue
                if u.kind == "paragraph" and len(u.texts[SOURCE_LANGUAGE].split()) < min_words:
                    continue
                texts = {lang: u.texts[lang] for lang in chosen if lang in u.texts}
                if len(texts) < need:
                    continue
                meta = {"page": u.page, "element_id": u.element_id, "kind": u.kind, "level": u.level}
                if u.kind == "paragraph":
                    meta["section"] = u.section
                tuples.append(ParallelTuple(u.id, texts, meta))
        name = "libreoffice/" + "+".join(kind_list)
        prov = {
            **self.provenance(),
            "kinds": kind_list,
            "languages": chosen,
            "min_words": min_words,
            "require_all": require_all,
            "include_duplicates": include_duplicates,
        }
        return ParallelCorpus(tuples, name=name, provenance=prov, validate=False)


def load_libreoffice(
    langs: str | Iterable[str],
    *,
    cache_dir: PathLike | None = None,
    min_words: int = DEFAULT_MIN_WORDS,
    kinds: str | Iterable[str] = KINDS,
    require_all: bool = False,
    download: bool = True,
    help_root: PathLike | None = None,
    show_progress: bool | None = None,
) -> ParallelCorpus:
    """``LibreOfficeCorpus.open(langs, ...).parallel(kinds, ...)``: the help as an aligned ParallelCorpus.

    English is loaded anyway (the alignment reference) but appears in the tuples only when asked for; the arguments
    are those of :meth:`LibreOfficeCorpus.open` and :meth:`LibreOfficeCorpus.parallel`.

    Example:
        >>> corpus = load_libreoffice("en,de", kinds="paragraph")  # doctest: +SKIP
        >>> corpus.pairs("en", "de")[0][1:]  # doctest: +SKIP
        ('What is Access2Base?', 'Was ist Access2Base?')
    """
    lo = LibreOfficeCorpus.open(
        langs, cache_dir=cache_dir, help_root=help_root, download=download, show_progress=show_progress
    )
    return lo.parallel(kinds, min_words=min_words, require_all=require_all)
