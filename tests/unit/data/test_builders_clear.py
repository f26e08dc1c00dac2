"""CLEAR and InfoNCE rows from synthetic sections with a fake encoder: columns, splits, negatives, caps, sources."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from builders_fixtures import FakeEncoder, page, section_corpus, sections

from crossalign.data.builders.clear import build_clear, build_infonce, clear_columns
from crossalign.data.builders.training import build_training_data
from crossalign.data.mining import TextEncoder
from crossalign.data.records import Document, ParallelCorpus, ParallelTuple, Query, RetrievalSet
from crossalign.data.splits import SplitSpec, assign_split, split_cap
from crossalign.data.text_rules import disambiguate_heading
from crossalign.errors import ConfigError, DataFormatError
from crossalign.losses.registry import build_loss

PAGE = re.compile(r"p(\d{3}) s(\d)")


@pytest.fixture(autouse=True)
def _quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CROSSALIGN_NO_PROGRESS", "1")


@pytest.fixture(scope="module")
def records():
    return sections(80)


@pytest.fixture(scope="module")
def clear(records):
    return build_clear(records, "de,km", model=FakeEncoder(), negatives=3, rank_range=(5, 20))


def origin(text: str) -> tuple[int, int] | None:
    """(page number, section) named in a synthetic text; None for shared headings ("Syntax:")."""
    m = PAGE.search(text)
    return (int(m.group(1)), int(m.group(2))) if m else None


def test_columns_are_exactly_what_the_loss_reads(clear) -> None:
    assert clear.columns == clear_columns(3)
    loss = build_loss("clear", torch.nn.Linear(1, 1))
    for split in ("train", "dev"):
        assert clear.rows[split], split
        for row in clear.rows[split]:
            assert list(row) == clear.columns
        assert loss.validate_columns(list(clear.rows[split][0])) == clear.columns
    ds = clear.to_datasets()
    assert ds["train"].column_names == clear.columns
    loss.validate_columns(ds["train"].column_names)


def test_rows_are_translations_of_one_section(clear, records) -> None:
    by_id = {r.id: r for r in records}
    for row, meta in zip(clear.rows["train"], clear.meta["train"]):
        rec = by_id[meta["id"]]
        x = meta["lang"]
        assert row["positive"] == rec.bodies["en"]
        assert row["anchor"] == disambiguate_heading(rec.headings["en"], rec.titles["en"], rec.heading_shared)
        assert row["cross_anchor"] == disambiguate_heading(rec.headings[x], rec.titles.get(x), rec.heading_shared)
        assert meta["group"] == rec.page


def test_no_test_page_anywhere(clear, records) -> None:
    spec = SplitSpec()
    test_pages = {r.page for r in records if assign_split(r.page, spec) == "test"}
    assert test_pages  # the fixture has some

    def texts(test: bool) -> set[str]:
        return {
            t for r in records if (r.page in test_pages) == test for t in (*r.headings.values(), *r.bodies.values())
        }

    test_texts = texts(True) - texts(False)  # "Drucken k" is on two pages, maybe one of them a train page
    for split in ("train", "dev"):
        for row, meta in zip(clear.rows[split], clear.meta[split]):
            assert assign_split(meta["group"], spec) == split
            for g in (*meta["negative_groups"], *meta["neg_query_groups"]):
                assert assign_split(g, spec) == split  # negatives from the row's own split, never test
            assert not (set(row.values()) & test_texts)
            for text in row.values():
                o = origin(text)
                assert o is None or page(o[0]) not in test_pages
    assert clear.manifest["split"]["test_groups_skipped"] == len(test_pages)


def test_negatives_are_other_pages_not_the_positive_and_equal_in_number(clear) -> None:
    for split in ("train", "dev"):
        for row, meta in zip(clear.rows[split], clear.meta[split]):
            negs = [row[f"negative_{i}"] for i in range(1, 4)]
            qnegs = [row[f"neg_query_{i}"] for i in range(1, 4)]
            assert len(negs) == len(qnegs) == 3
            assert len(set(negs)) == 3 and len(set(qnegs)) == 3
            assert row["positive"] not in negs and row["cross_anchor"] not in qnegs
            assert meta["group"] not in meta["negative_groups"] and meta["group"] not in meta["neg_query_groups"]
            for t in negs:  # English passages of other pages
                assert t.startswith("English text of ") and page(origin(t)[0]) != meta["group"]
            lang = meta["lang"]
            for t in qnegs:  # target-language queries
                assert not t.startswith("Topic") and (("ប្រធានបទ" in t or "វាក្យ" in t) if lang == "km" else True)
            assert meta["negative_ranks"] == sorted(meta["negative_ranks"])


def test_shared_headings_get_the_page_title_and_repeats_are_removed(clear, records) -> None:
    anchors = [r["anchor"] for r in clear.rows["train"]]
    assert "Syntax:" not in anchors and any(a.endswith(": Syntax:") for a in anchors)
    assert any(
        r["cross_anchor"].startswith("Seite ") and r["cross_anchor"].endswith("Syntax:") for r in clear.rows["train"]
    )
    for split in ("train", "dev"):
        for lang in ("de", "km"):
            qs = [r["cross_anchor"] for r, m in zip(clear.rows[split], clear.meta[split]) if m["lang"] == lang]
            assert len(qs) == len(set(qs))  # a query once per language per split
    removed = clear.manifest["selection"]["queries_removed_as_repeats"]["train"]
    assert removed.get("de", 0) > 0  # "Drucken k" on two pages of the same split
    # a Khmer shared heading without a Khmer title has no query
    km_anchor_ids = {m["id"] for m in clear.meta["train"] if m["lang"] == "km"}
    for r in records:
        if r.heading_shared > 1 and "km" in r.headings and "km" not in r.titles:
            assert r.id not in km_anchor_ids
    assert clear.manifest["selection"]["heading_rule_dropped"]["shared_heading_no_title"] > 0


def test_rule_skip_and_keep(records) -> None:
    skip = build_clear(records, "de", model=FakeEncoder(), negatives=2, rank_range=(2, 6), shared_headings="skip")
    assert not any("Syntax" in r["anchor"] for r in skip.rows["train"])
    with pytest.raises(ConfigError, match="shared-heading rule"):
        build_clear(records, "de", model=FakeEncoder(), shared_headings="prefix")


def test_seed_determinism(records, clear) -> None:
    again = build_clear(records, "de,km", model=FakeEncoder(), negatives=3, rank_range=(5, 20))
    assert again.rows == clear.rows and again.meta == clear.meta
    other = build_clear(records, "de,km", model=FakeEncoder(), negatives=3, rank_range=(5, 20), seed=14)
    assert other.rows != clear.rows
    assert sorted(map(str, other.rows["train"])) != sorted(map(str, clear.rows["train"]))  # other negatives too


def test_max_rows_per_language_and_proportional_dev(records) -> None:
    capped = build_clear(records, "de,km", model=FakeEncoder(), negatives=2, rank_range=(2, 8), max_rows=20)
    counts = capped.counts()
    assert counts["train"]["de"] == 20 and counts["train"]["km"] == 20
    assert counts["dev"]["de"] <= split_cap(20, "dev", SplitSpec()) == 3
    first_pages = sorted(int(m["group"][13:16]) for m in capped.meta["train"] if m["lang"] == "de")
    assert first_pages[-1] > 40  # a sample over the corpus, not its first pages


def test_each_text_is_encoded_once(records) -> None:
    enc = FakeEncoder()
    build_clear(records, "de,km", model=enc, negatives=2, rank_range=(2, 8))
    assert max(enc.calls.values()) == 1


def test_infonce_rows_are_the_clear_rows_projected(records, clear) -> None:
    info = build_infonce(records, "de,km", model=FakeEncoder(), negatives=3, rank_range=(5, 20))
    assert info.columns == ["anchor", "positive", "negative_1", "negative_2", "negative_3"]
    build_loss("infonce", torch.nn.Linear(1, 1)).validate_columns(info.columns)
    for split in ("train", "dev"):
        assert len(info.rows[split]) == len(clear.rows[split])
        for a, b in zip(info.rows[split], clear.rows[split]):
            assert a["anchor"] == b["cross_anchor"] and a["positive"] == b["positive"]
            assert [a[f"negative_{i}"] for i in (1, 2, 3)] == [b[f"negative_{i}"] for i in (1, 2, 3)]


def test_section_corpus_and_retrieval_set_sources(records, clear) -> None:
    from_corpus = build_training_data(
        "clear", section_corpus(80), "de,km", model=FakeEncoder(), negatives=3, rank_range=(5, 20)
    )
    assert from_corpus.rows == clear.rows  # the same sections through the parallel-JSONL route
    plain = ParallelCorpus([ParallelTuple("t1", {"en": "a b c d e", "de": "f g h i j"}, {"page": "x"})])
    with pytest.raises(DataFormatError, match="no queries"):
        build_clear(plain, "de", model=FakeEncoder())
    # retrieval set: queries linked by xling_id, passages by qrels
    queries, docs, qrels = [], [], {}
    for r in records:
        for lang in ("en", "de"):
            qid = f"{r.id}:{lang}"
            queries.append(Query(qid, r.headings[lang], lang, {"xling_id": r.id}))
            docs.append(Document(f"d:{qid}", r.bodies[lang], lang, meta={"page": r.page}))
            qrels[qid] = {f"d:{qid}": 1}
    rs = RetrievalSet(queries, docs, qrels, validate=False)
    built = build_clear(rs, "de", model=FakeEncoder(), negatives=2, rank_range=(3, 10))
    assert built.counts()["train"]["de"] > 50
    anchors = [row["anchor"] for row in built.rows["train"]]
    assert anchors.count("Syntax:") == 1  # a retrieval set's queries are used as they are, once per split
    for row, meta in zip(built.rows["train"], built.meta["train"]):
        if row["anchor"] == "Syntax:":
            continue
        assert origin(row["anchor"]) == origin(row["positive"])
        assert row["cross_anchor"].startswith("Drucken") or origin(row["cross_anchor"]) == origin(row["anchor"])
        assert meta["group"] == page(origin(row["anchor"])[0])
    bad = RetrievalSet([Query("q", "x", "en")], [Document("d", "y", "en")], {"q": {"d": 1}})
    with pytest.raises(DataFormatError, match="xling_id"):
        build_clear(bad, "de", model=FakeEncoder())


def test_argument_errors(records) -> None:
    with pytest.raises(ConfigError, match="fewer than the 5"):
        build_clear(records, "de", model=FakeEncoder(), negatives=5, rank_range=(1, 3))
    with pytest.raises(ConfigError, match="no target language"):
        build_clear(records, "en", model=FakeEncoder())
    with pytest.raises(ConfigError, match="unknown option"):
        build_training_data("jsd", records, "de", negatives=3)
    with pytest.raises(ConfigError, match="unknown training-data format"):
        build_training_data("mnrl", records, "de")


def test_text_encoder_is_shared_and_the_model_is_described(records) -> None:
    enc = TextEncoder(FakeEncoder())
    built = build_clear(records, "de", model=enc, negatives=2, rank_range=(2, 8))
    assert built.manifest["mining"]["texts_encoded"] == enc.n_encoded > 0
    assert built.manifest["model"]["fingerprint"] is None  # a plain function has no weights to hash
    scores = np.array([m["negative_ranks"] for m in built.meta["train"]])
    lo, hi = built.manifest["mining"]["per_split"]["train"]["negative"]["rank_range"]
    assert scores.min() >= lo and scores.max() <= hi


def test_a_different_number_of_query_negatives_needs_use_kl_false(records) -> None:
    built = build_clear(records, "de", model=FakeEncoder(), negatives=3, query_negatives=2, rank_range=(2, 9))
    assert built.columns == clear_columns(3, 2)
    assert built.columns[-3:] == ["cross_anchor", "neg_query_1", "neg_query_2"]
    build_loss("clear", torch.nn.Linear(1, 1), use_kl=False).validate_columns(built.columns)
    with pytest.raises(DataFormatError, match="as many neg_query"):
        build_loss("clear", torch.nn.Linear(1, 1)).validate_columns(built.columns)
    assert "use_kl=False" in built.manifest["notes"][0]
    assert built.manifest["mining"]["num_query_negatives"] == 2
    with pytest.raises(ConfigError, match="unknown option"):
        build_training_data("infonce", records, "de", model=FakeEncoder(), query_negatives=2)
