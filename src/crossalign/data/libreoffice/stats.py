"""Per-language and pairwise counts of the aligned LibreOffice help, as a dict and as a readable table."""

from __future__ import annotations

from itertools import combinations
from typing import TYPE_CHECKING, Any

from crossalign.data.libreoffice.align import KIND_MISMATCH, MISSING_ID, MISSING_PAGE, UNTRANSLATED
from crossalign.data.libreoffice.corpus import DEFAULT_MIN_WORDS, count_chars
from crossalign.data.libreoffice.langs import SOURCE_LANGUAGE, UNSPACED_LANGUAGES
from crossalign.utils.table import Table

if TYPE_CHECKING:
    from crossalign.data.libreoffice.corpus import LibreOfficeCorpus


def corpus_stats(corpus: LibreOfficeCorpus, *, min_words: int = DEFAULT_MIN_WORDS) -> dict[str, Any]:
    """Count what the corpus holds, per language and per language pair.

    Per language (English first, then the languages asked for):

    - ``own``: its own pages (boilerplate removed, before alignment): ``pages``, ``headings``, ``sections`` (headings
      followed by a paragraph), ``paragraphs``, ``words`` (whitespace tokens), ``chars`` (non-space characters —
      the meaningful size for zh/ja/km/dz, whose words are not space-separated);
    - ``aligned`` with English, after de-duplication: ``sections`` (heading and whole body translated, English body
      >= ``min_words`` words), ``paragraphs`` (English >= ``min_words`` words), ``headings``, and the ``words``/
      ``chars`` of those aligned paragraphs in this language;
    - ``dropped``: English units this language lacks, by reason — ``untranslated`` (identical to English) headings
      and paragraphs (all lengths, and paragraphs >= ``min_words``), ``missing_id``, ``missing_page``,
      ``kind_mismatch``.

    ``pairwise``: for every pair of the languages above, the number of sections and of paragraphs (>= ``min_words``
    English words) both have.

    Args:
        corpus: An opened :class:`~crossalign.data.libreoffice.corpus.LibreOfficeCorpus`.
        min_words: Minimum English words for aligned paragraphs and sections.

    Returns:
        A JSON-ready dict with ``languages``, ``per_language``, ``pairwise``, ``totals`` and ``provenance``.
    """
    al = corpus.alignment
    langs = [SOURCE_LANGUAGE, *(lang for lang in corpus.langs if lang != SOURCE_LANGUAGE)]
    units = al.kept_units()
    heads = [u for u in units if u.kind == "heading"]
    paras = [u for u in units if u.kind == "paragraph"]
    long_paras = [u for u in paras if len(u.texts[SOURCE_LANGUAGE].split()) >= min_words]
    sections = [s for s in al.kept_sections() if s.english_words() >= min_words]
    section_langs = [set(s.headings) & set(s.bodies) for s in sections]
    per: dict[str, Any] = {}
    for lang in langs:
        summ = corpus.summaries[lang]
        aligned_p = [u for u in long_paras if lang in u.texts]
        dropped = {
            "untranslated_headings": sum(1 for u in heads if u.missing.get(lang) == UNTRANSLATED),
            "untranslated_paragraphs": sum(1 for u in paras if u.missing.get(lang) == UNTRANSLATED),
            f"untranslated_paragraphs_ge{min_words}w": sum(
                1 for u in long_paras if u.missing.get(lang) == UNTRANSLATED
            ),
            "missing_id": sum(1 for u in units if u.missing.get(lang) == MISSING_ID),
            "missing_page": sum(1 for u in units if u.missing.get(lang) == MISSING_PAGE),
            "kind_mismatch": sum(1 for u in units if u.missing.get(lang) == KIND_MISMATCH),
        }
        per[lang] = {
            "package": corpus.trees[lang].package,
            "version": corpus.trees[lang].version,
            "source": corpus.trees[lang].source,
            "unspaced": lang in UNSPACED_LANGUAGES,
            "own": {
                "pages": summ.pages,
                "headings": summ.headings,
                "sections": summ.sections,
                "paragraphs": summ.paragraphs,
                "words": summ.words,
                "chars": summ.chars,
            },
            "aligned": {
                "sections": sum(1 for have in section_langs if lang in have),
                "paragraphs": len(aligned_p),
                "headings": sum(1 for u in heads if lang in u.texts),
                "paragraph_words": sum(len(u.texts[lang].split()) for u in aligned_p),
                "paragraph_chars": sum(count_chars(u.texts[lang]) for u in aligned_p),
            },
            "dropped": dropped,
        }
    pairwise: dict[str, dict[str, int]] = {}
    for a, b in combinations(langs, 2):
        pairwise[f"{a}|{b}"] = {
            "sections": sum(1 for have in section_langs if a in have and b in have),
            "paragraphs": sum(1 for u in long_paras if a in u.texts and b in u.texts),
        }
    all_have = set(langs)
    totals = {
        "english_units": len(al.units),
        "duplicate_units_dropped": sum(1 for u in al.units if u.duplicate),
        "duplicate_sections_dropped": sum(1 for s in al.sections if s.duplicate),
        "boilerplate_dropped": al.boilerplate,
        "sections_all_languages": sum(1 for have in section_langs if all_have <= have),
        "paragraphs_all_languages": sum(1 for u in long_paras if all_have <= set(u.texts)),
        "sections_unique_heading": sum(1 for s in sections if s.heading_shared == 1),
    }
    return {
        "min_words": min_words,
        "languages": langs,
        "per_language": per,
        "pairwise": pairwise,
        "totals": totals,
        "provenance": corpus.provenance(),
    }


def _table(header: list[str], rows: list[list[str]]) -> str:
    return Table("", header, rows).to_text().rstrip("\n")


def format_stats(stats: dict[str, Any], *, max_matrix: int = 12) -> str:
    """Render :func:`corpus_stats` as plain-text tables (per language, then pairwise sections / paragraphs).

    The pairwise matrices are printed for up to ``max_matrix`` languages (wider ones do not fit a terminal).

    Example:
        >>> print(format_stats(corpus_stats(corpus)))  # doctest: +SKIP
    """
    n = stats["min_words"]
    langs = stats["languages"]
    header = [
        "lang",
        "pages",
        "sections",
        "paragraphs",
        "words",
        "chars",
        "al.sect",
        f"al.para>={n}w",
        "al.head",
        "untr.head",
        "untr.para",
        "missing",
    ]
    rows = []
    for lang in langs:
        p = stats["per_language"][lang]
        own, al, dr = p["own"], p["aligned"], p["dropped"]
        words = f"{own['words']:,}" + ("*" if p["unspaced"] else "")
        rows.append(
            [
                lang,
                f"{own['pages']:,}",
                f"{own['sections']:,}",
                f"{own['paragraphs']:,}",
                words,
                f"{own['chars']:,}",
                f"{al['sections']:,}",
                f"{al['paragraphs']:,}",
                f"{al['headings']:,}",
                f"{dr['untranslated_headings']:,}",
                f"{dr['untranslated_paragraphs']:,}",
                f"{dr['missing_id'] + dr['missing_page'] + dr['kind_mismatch']:,}",
            ]
        )
    parts = [
        f"LibreOffice help: per language (own pages; aligned with English after clean-up; min {n} English words)",
        _table(header, rows),
        "  * words are not space-separated in this language: use chars as its size.",
        "  al.* = aligned with English (de-duplicated); untr.* = dropped as identical to English; missing = id or "
        "page absent.",
    ]
    matrices = (("sections", "sections"), ("paragraphs", f"paragraphs >= {n} English words"))
    if len(langs) > max_matrix:
        parts += ["", f"(pairwise matrices for {len(langs)} languages are in the JSON output, key 'pairwise')"]
        matrices = ()
    for key, what in matrices:
        mrows = []
        for a in langs:
            row = [a]
            for b in langs:
                if a == b:
                    row.append("-")
                else:
                    k = f"{a}|{b}" if f"{a}|{b}" in stats["pairwise"] else f"{b}|{a}"
                    row.append(f"{stats['pairwise'][k][key]:,}")
            mrows.append(row)
        parts += ["", f"Pairwise aligned {what}", _table(["", *langs], mrows)]
    t = stats["totals"]
    parts += [
        "",
        f"All {len(langs)} languages: {t['sections_all_languages']:,} sections, "
        f"{t['paragraphs_all_languages']:,} paragraphs. Dropped as duplicates (embedded snippets, repeated text): "
        f"{t['duplicate_units_dropped']:,} headings/paragraphs, {t['duplicate_sections_dropped']:,} sections; as "
        "boilerplate: " + ", ".join(f"{k} {v:,}" for k, v in sorted(t["boilerplate_dropped"].items())) + ".",
    ]
    return "\n".join(parts)
