"""The real LibreOffice help (en + de) from Debian: fetched with apt into a temporary cache (or $CROSSALIGN_CACHE).

No LibreOffice text is stored in the repository: the checks are structural (counts in plausible ranges, aligned texts
that differ and look like English/German) rather than comparisons with known strings.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import time
from pathlib import Path

import pytest

from crossalign.data.libreoffice.corpus import LibreOfficeCorpus
from crossalign.data.libreoffice.fetch import INSTALLED_HELP_ROOT
from crossalign.data.libreoffice.stats import corpus_stats

pytestmark = pytest.mark.integration

GERMAN = re.compile(r"\b(die|der|das|und|Sie|ist|nicht|eine?n?|mit|werden)\b")
ENGLISH = re.compile(r"\b(the|and|you|is|not|with|of|to)\b")


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path | None:
    have_tree = (INSTALLED_HELP_ROOT / "de" / "text").is_dir() and (INSTALLED_HELP_ROOT / "en-US" / "text").is_dir()
    if shutil.which("apt-get") is None and not have_tree and not os.environ.get("CROSSALIGN_CACHE"):
        pytest.skip("needs Debian's apt (or an installed/cached LibreOffice help) to obtain the real corpus")
    return None if os.environ.get("CROSSALIGN_CACHE") else tmp_path_factory.mktemp("crossalign-cache")


@pytest.fixture(scope="module")
def corpus(cache_dir: Path | None) -> LibreOfficeCorpus:
    return LibreOfficeCorpus.open("en,de", cache_dir=cache_dir, workers=2, show_progress=False)


def test_real_packages_and_provenance(corpus: LibreOfficeCorpus) -> None:
    for lang, package, folder in (("en", "libreoffice-help-en-us", "en-US"), ("de", "libreoffice-help-de", "de")):
        tree = corpus.trees[lang]
        assert tree.package == package and tree.folder == folder
        assert re.fullmatch(r"(\d+:)?\d+\.\d+\.\d+[\w.+~-]*", tree.version), tree.version
        assert tree.license == "MPL-2.0"
        assert tree.source in ("installed", "cache", "download")
        assert (tree.path / "text").is_dir()
    assert corpus.trees["en"].version == corpus.trees["de"].version


def test_counts_are_plausible(corpus: LibreOfficeCorpus) -> None:
    st = corpus_stats(corpus)
    en, de = st["per_language"]["en"], st["per_language"]["de"]
    assert 2000 <= en["own"]["pages"] <= 4000
    assert de["own"]["pages"] == en["own"]["pages"]
    assert 20_000 <= en["own"]["paragraphs"] <= 80_000
    assert 5_000 <= de["aligned"]["sections"] <= en["aligned"]["sections"] <= 20_000
    assert de["aligned"]["sections"] > 1000
    assert 15_000 <= de["aligned"]["paragraphs"] <= en["aligned"]["paragraphs"] <= 40_000
    assert de["aligned"]["sections"] >= 0.8 * en["aligned"]["sections"]  # German is nearly fully translated
    assert 0 < de["dropped"]["untranslated_paragraphs"] < 0.2 * en["own"]["paragraphs"]
    assert st["pairwise"]["en|de"]["sections"] == de["aligned"]["sections"]
    assert all(st["totals"]["boilerplate_dropped"][k] > 100 for k in ("related", "howtoget", "code"))


def test_aligned_pairs_look_like_translations(corpus: LibreOfficeCorpus) -> None:
    pairs = corpus.parallel("paragraph", langs=["en", "de"], min_words=6, require_all=True).pairs("en", "de")
    assert len(pairs) > 10_000
    sample = random.Random(0).sample(pairs, 300)
    assert all(en != de for _, en, de in sample)
    ratio_ok = sum(0.5 <= len(de) / len(en) <= 2.5 for _, en, de in sample)
    german = sum(bool(GERMAN.search(de)) for _, _, de in sample)
    english_in_en = sum(bool(ENGLISH.search(en)) for _, en, _ in sample)
    english_in_de = sum(bool(re.search(r"\b(the|and|you)\b", de)) for _, _, de in sample)
    assert ratio_ok >= 0.9 * len(sample)
    assert german >= 0.6 * len(sample)
    assert english_in_en >= 0.8 * len(sample)
    assert english_in_de <= 0.1 * len(sample)
    # same id on both sides: the tuple id names one page and one element
    tid, _, _ = sample[0]
    assert re.fullmatch(r"text/[\w/.-]+\.html#[\w.-]+", tid)


def test_sections_give_heading_to_text_records(corpus: LibreOfficeCorpus) -> None:
    recs = corpus.sections(["en", "de"], require_all=True)
    assert len(recs) > 1000
    rec = next(r for r in recs if r.heading_shared == 1 and len(r.paragraph_ids) >= 2)
    assert rec.headings["en"] != rec.headings["de"]
    assert rec.bodies["en"].count("\n") == rec.bodies["de"].count("\n") == len(rec.paragraph_ids) - 1
    assert sum(r.heading_shared == 1 for r in recs) > 0.4 * len(recs)


def test_second_open_reads_the_parse_cache(corpus: LibreOfficeCorpus, cache_dir: Path | None) -> None:
    t0 = time.perf_counter()
    again = LibreOfficeCorpus.open("en,de", cache_dir=cache_dir, show_progress=False)
    seconds = time.perf_counter() - t0
    assert seconds < 15, seconds
    assert [t.id for t in again.parallel("section")] == [t.id for t in corpus.parallel("section")]
