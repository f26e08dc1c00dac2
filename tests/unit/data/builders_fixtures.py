"""Synthetic help-like material for the training-data builder tests (no LibreOffice text).

:func:`sections` makes ``n_pages`` pages of three sections each in English, German and Khmer, with the features the
builders must handle:

- every text names its page and section (``p007 s1``), so a test can tell which section a row came from;
- Khmer lacks every third page and the Khmer title of every fourth page;
- section 0 of every fifth page has the shared heading "Syntax:" (``heading_shared`` = their number);
- the German heading of section 2 is the same on pages 2k and 2k+1 ("Drucken 2k") — a repeat the per-language
  de-duplication must remove when both pages land in the same split.

:func:`fake_encoder` embeds a text as a fixed pseudo-random unit vector (SHA-256 seeded), counting its calls.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from crossalign.data.libreoffice.align import SectionRecord
from crossalign.data.records import ParallelCorpus, ParallelTuple

LANGS = ("en", "de", "km")


def page(k: int) -> str:
    return f"text/shared/p{k:03d}.html"


def sections(n_pages: int = 80) -> list[SectionRecord]:
    n_syntax = len([k for k in range(n_pages) if k % 5 == 0])
    out = []
    for k in range(n_pages):
        titles = {"en": f"Page {k}", "de": f"Seite {k}"}
        if k % 3 and k % 4:
            titles["km"] = f"ទំព័រ {k}"
        for j in range(3):
            shared = j == 0 and k % 5 == 0
            headings = {
                "en": "Syntax:" if shared else f"Topic p{k:03d} s{j}",
                "de": "Syntax:" if shared else (f"Drucken {k // 2}" if j == 2 else f"Thema p{k:03d} s{j}"),
            }
            bodies = {
                "en": f"English text of p{k:03d} s{j}: open the dialog and choose the options you need here.",
                "de": f"Deutscher Text von p{k:03d} s{j}: Öffnen Sie den Dialog und wählen Sie die Optionen.",
            }
            if k % 3:
                headings["km"] = "វាក្យសម្ពន្ធ:" if shared else f"ប្រធានបទ p{k:03d} s{j}"
                bodies["km"] = f"អត្ថបទខ្មែរ p{k:03d} s{j} បើក\u200bប្រអប់"
            out.append(
                SectionRecord(
                    id=f"{page(k)}#hd_{j}/section",
                    page=page(k),
                    element_id=f"hd_{j}",
                    level=2,
                    paragraph_ids=(f"par_{j}",),
                    headings=headings,
                    bodies=bodies,
                    titles=titles,
                    heading_shared=n_syntax if shared else 1,
                )
            )
    return out


def section_corpus(n_pages: int = 80) -> ParallelCorpus:
    """The sections as a parallel corpus of section tuples (what ``LibreOfficeCorpus.parallel("section")`` gives)."""
    tuples = [
        ParallelTuple(
            s.id,
            dict(s.bodies),
            {
                "page": s.page,
                "kind": "section",
                "headings": dict(s.headings),
                "titles": dict(s.titles),
                "heading_shared": s.heading_shared,
            },
        )
        for s in sections(n_pages)
    ]
    return ParallelCorpus(tuples, name="synthetic-sections")


def paragraph_corpus(n_pages: int = 80, langs: Sequence[str] = ("en", "de", "km", "hi")) -> ParallelCorpus:
    """Four paragraphs per page; Khmer on 2 pages of 3, Hindi on every 4th page only (the low-resource limit)."""
    tuples = []
    for k in range(n_pages):
        for j in range(4):
            texts = {
                "en": f"English paragraph p{k:03d} n{j} explains one setting in a few words.",
                "de": f"Deutscher Absatz p{k:03d} n{j} erklärt eine Einstellung.",
            }
            if k % 3:
                texts["km"] = f"កថាខណ្ឌ p{k:03d} n{j}"
            if k % 4 == 0:
                texts["hi"] = f"अनुच्छेद p{k:03d} n{j} एक सेटिंग"
            tuples.append(
                ParallelTuple(
                    f"{page(k)}#par_{j}",
                    {lang: t for lang, t in texts.items() if lang in langs},
                    {"page": page(k), "kind": "paragraph"},
                )
            )
    return ParallelCorpus(tuples, name="synthetic-paragraphs")


class FakeEncoder:
    """``fn(texts, prompt_name)`` -> fixed pseudo-random unit vectors; records how often each text was encoded."""

    def __init__(self, dim: int = 32) -> None:
        self.dim = dim
        self.calls: dict[tuple[str | None, str], int] = {}

    def vector(self, text: str) -> np.ndarray:
        seed = int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")
        v = np.random.default_rng(seed).standard_normal(self.dim)
        return (v / np.linalg.norm(v)).astype(np.float32)

    def __call__(self, texts: list[str], prompt_name: str | None) -> np.ndarray:
        for t in texts:
            self.calls[(prompt_name, t)] = self.calls.get((prompt_name, t), 0) + 1
        return np.stack([self.vector(t) for t in texts]) if texts else np.zeros((0, self.dim), dtype=np.float32)
