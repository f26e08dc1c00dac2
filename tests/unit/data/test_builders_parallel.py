"""Multi-way, En–X and distillation rows from a synthetic parallel corpus; JSD rows from synthetic sections."""

from __future__ import annotations

import re
from collections import Counter

import pytest
import torch
from builders_fixtures import page, paragraph_corpus, sections

from crossalign.data.builders.jsd import build_jsd
from crossalign.data.builders.multiway import build_distill, build_enx, build_multiway, enx_pairs_per_tuple
from crossalign.data.records import Document, Query, RetrievalSet
from crossalign.data.splits import SplitSpec, assign_split
from crossalign.errors import ConfigError, DataFormatError
from crossalign.losses.registry import build_loss

TAG = re.compile(r"p(\d{3}) [ns](\d)")
LANGS = "de,km,hi"


@pytest.fixture(autouse=True)
def _quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CROSSALIGN_NO_PROGRESS", "1")


@pytest.fixture(scope="module")
def corpus():
    return paragraph_corpus(120)


def tag(text: str) -> tuple[str, str]:
    m = TAG.search(text)
    assert m, text
    return m.group(1), m.group(2)


def model() -> torch.nn.Module:
    return torch.nn.Linear(1, 1)


def test_multiway_rows_are_complete_and_limited_by_the_rarest_language(corpus) -> None:
    mw = build_multiway(corpus, LANGS)
    assert mw.columns == ["en", "de", "km", "hi"]
    build_loss("multiway", model()).validate_columns(mw.columns)
    for split in ("train", "dev"):
        for row, meta in zip(mw.rows[split], mw.meta[split]):
            assert list(row) == mw.columns and all(row.values())
            assert len({tag(t) for t in row.values()}) == 1  # one meaning in every column
            assert assign_split(meta["group"], SplitSpec()) == split
    cov = mw.manifest["coverage"]
    train = cov["tuples_with_language"]["train"]
    assert train["hi"] < train["km"] < train["de"] == train["en"]
    assert cov["complete_tuples"]["train"] == len(mw.rows["train"])
    # complete = pages with Hindi (k % 4 == 0) and Khmer (k % 3 != 0)
    hi_km_pages = {page(k) for k in range(120) if k % 4 == 0 and k % 3}
    assert {m["group"] for m in mw.meta["train"]} <= hi_km_pages
    assert "must be complete" in cov["rule"]
    assert mw.manifest["budget"]["train"]["texts"] == 4 * len(mw.rows["train"])


def test_multiway_without_english_and_with_a_cap(corpus) -> None:
    mw = build_multiway(corpus, "de,km", include_english=False, max_rows=10)
    assert mw.columns == ["de", "km"] and len(mw.rows["train"]) == 10 and len(mw.rows["dev"]) <= 2
    with pytest.raises(ConfigError, match="at least two languages"):
        build_multiway(corpus, "de", include_english=False)
    with pytest.raises(ConfigError, match="cannot be split per language"):
        mw.write("/tmp/never-written", per_language=True)


def test_enx_has_the_same_text_budget_and_balanced_languages(corpus) -> None:
    mw = build_multiway(corpus, LANGS)
    enx = build_enx(corpus, LANGS)
    assert enx.columns == ["en", "x"]
    build_loss("en-x", model()).validate_columns(enx.columns)
    n = len(mw.columns)
    for split in ("train", "dev"):
        t = len(mw.rows[split])
        r = len(enx.rows[split])
        assert r == t * n // 2
        assert 2 * r in (t * n, t * n - 1)  # equal texts (one fewer when T·N is odd)
        b = enx.manifest["budget"][split]
        assert b["en_x"]["texts"] == 2 * r and b["multiway"]["texts"] == t * n
        # same tuples
        assert {m["id"] for m in enx.meta[split]} == {m["id"] for m in mw.meta[split]}
        per_lang = Counter(m["lang"] for m in enx.meta[split])
        assert max(per_lang.values()) - min(per_lang.values()) <= 1 and set(per_lang) == {"de", "km", "hi"}
        per_tuple = Counter(m["id"] for m in enx.meta[split])
        assert set(per_tuple.values()) <= {n // 2, -(-n // 2)}
        pairs = Counter((m["id"], m["lang"]) for m in enx.meta[split])
        assert max(pairs.values()) == 1  # no tuple repeats a language
        for row in enx.rows[split]:
            assert tag(row["en"]) == tag(row["x"])
    assert enx.manifest["budget"]["batch_size_ratio"] == n / 2
    assert enx_pairs_per_tuple(4, 5) == [2, 3, 2, 3] and sum(enx_pairs_per_tuple(7, 2)) == 7


def test_distill_rows_per_language(corpus) -> None:
    d = build_distill(corpus, LANGS, max_rows=30)
    assert d.columns == ["source", "target"]
    build_loss("distill", model()).validate_columns([*d.columns, "label"])
    counts = d.counts()
    assert counts["train"]["de"] == counts["train"]["km"] == 30 and 0 < counts["train"]["hi"] <= 30
    for row, meta in zip(d.rows["train"], d.meta["train"]):
        assert meta["lang"] in ("de", "km", "hi") and row["source"].startswith("English")
        assert tag(row["source"]) == tag(row["target"])
    assert "add_teacher_embeddings" in d.manifest["notes"][0]


def test_parallel_formats_need_parallel_text() -> None:
    rs = RetrievalSet([Query("q", "x", "en")], [Document("d", "y", "en")], {"q": {"d": 1}})
    with pytest.raises(DataFormatError, match="no parallel text"):
        build_multiway(rs, "de")


def test_parallel_dedupe_drops_tuples_with_a_repeated_text() -> None:
    from crossalign.data.records import ParallelCorpus, ParallelTuple

    tuples = [
        ParallelTuple(
            f"t{i}",
            {"en": f"English sentence number {i} here", "de": "Gleich" if i < 3 else f"Satz {i}"},
            {"page": "p"},
        )
        for i in range(6)
    ]
    mw = build_multiway(ParallelCorpus(tuples), "de", split=SplitSpec(1.0, 0.0, 0.0))
    assert [r["de"] for r in sorted(mw.rows["train"], key=lambda r: r["en"])] == [
        "Gleich",
        "Satz 3",
        "Satz 4",
        "Satz 5",
    ]
    assert mw.manifest["coverage"]["removed_as_repeats"]["train"] == {"de": 2}


def test_jsd_rows() -> None:
    records = sections(80)
    jsd = build_jsd(records, "de,km")
    assert jsd.columns == ["query", "positive", "query_en", "positive_x"]
    build_loss("jsd", model()).validate_columns(jsd.columns)
    by_id = {r.id: r for r in records}
    for split in ("train", "dev"):
        assert jsd.rows[split]
        for row, meta in zip(jsd.rows[split], jsd.meta[split]):
            rec, x = by_id[meta["id"]], meta["lang"]
            assert row["positive"] == rec.bodies["en"] and row["positive_x"] == rec.bodies[x]
            assert row["query_en"].endswith(rec.headings["en"]) and row["query"].endswith(rec.headings[x])
            assert assign_split(rec.page, SplitSpec()) == split
    no_x = build_jsd(records, "de", with_positive_x=False, max_rows=5)
    assert no_x.columns == ["query", "positive", "query_en"] and len(no_x.rows["train"]) == 5
    build_loss("jsd", model()).validate_columns(no_x.columns)
    assert no_x.manifest["mining"] is None
