"""The LibreOffice evaluation sets, built from small synthetic section and paragraph records."""

from __future__ import annotations

from pathlib import Path

import pytest

from crossalign.data.eval_sets import (
    PARAGRAPHS_TASK,
    SECTIONS_TASK,
    EvalSetsConfig,
    build_eval_sets,
    choose_non_english_pairs,
    parse_non_english_pairs,
    select_sections,
)
from crossalign.data.io import read_retrieval_set
from crossalign.data.libreoffice.align import SectionRecord
from crossalign.data.records import ParallelTuple
from crossalign.data.splits import SplitSpec, assign_split
from crossalign.errors import ConfigError

SPEC = SplitSpec()


def _pages(split: str, n: int) -> list[str]:
    out, i = [], 0
    while len(out) < n:
        page = f"text/synthetic/page{i:04d}.html"
        if assign_split(page, SPEC) == split:
            out.append(page)
        i += 1
    return out


TEST_PAGES = _pages("test", 8)
TRAIN_PAGES = _pages("train", 8)


def _section(page: str, k: int, langs=("en", "de", "km"), *, shared: int = 1, heading: str | None = None,
             titles: dict[str, str] | None = None) -> SectionRecord:  # fmt: skip
    hid = f"hd_{k}"
    base = heading or f"Heading {page[-9:-5]} {k}"
    return SectionRecord(
        id=f"{page}#{hid}/section",
        page=page,
        element_id=hid,
        level=2,
        paragraph_ids=(f"par_{k}",),
        headings={lg: f"{base} [{lg}]" for lg in langs},
        bodies={lg: f"Body of section {k} on {page} in {lg} with enough words here" for lg in langs},
        titles=titles if titles is not None else {lg: f"Title {page[-9:-5]} [{lg}]" for lg in langs},
        heading_shared=shared,
    )


def _sections() -> list[SectionRecord]:
    recs = []
    for p in TEST_PAGES + TRAIN_PAGES:
        for k in range(4):
            recs.append(_section(p, k))
    # a section only in en+de (km lacks it)
    recs.append(_section(TEST_PAGES[0], 9, langs=("en", "de")))
    return recs


def _paragraphs() -> list[ParallelTuple]:
    out = []
    for p in TEST_PAGES + TRAIN_PAGES:
        for k in range(6):
            tid = f"{p}#par_{k}"
            out.append(
                ParallelTuple(tid, {lg: f"Paragraph {k} of {p} in {lg}" for lg in ("en", "de", "km")}, {"page": p})
            )
    return out


def _config(**kw) -> EvalSetsConfig:
    return EvalSetsConfig(langs=kw.pop("langs", ("de", "km")), **kw)


def test_only_test_pages_and_four_aligned_directions() -> None:
    sets = build_eval_sets(_sections(), _paragraphs(), _config())
    retrieval = sets.select("retrieval")
    assert [s.name for s in retrieval[:4]] == [
        f"{SECTIONS_TASK}/de/en-en",
        f"{SECTIONS_TASK}/de/de-de",
        f"{SECTIONS_TASK}/de/de-en",
        f"{SECTIONS_TASK}/de/en-de",
    ]
    for s in sets.sets:
        if s.suite == "bitext":
            gold = [q for q in s.data.queries if q.meta["role"] == "gold"]
            assert {q.meta["page"] for q in gold} <= set(TEST_PAGES)
            continue
        pages = {q.meta["page"] for q in s.data.queries} | {d.meta["page"] for d in s.data.documents}
        assert pages <= set(TEST_PAGES), s.name
    de_sets = [s for s in retrieval if s.task == f"{SECTIONS_TASK}/de"]
    xling = [sorted(q.meta["xling_id"] for q in s.data.queries) for s in de_sets]
    assert all(x == xling[0] for x in xling)  # the same sections in all four directions
    assert len(xling[0]) == 8 * 4 + 1  # every test section, the en+de-only one included
    for s in de_sets:
        q_lang, d_lang = s.name.rsplit("/", 1)[1].split("-")
        assert s.data.query_langs == [q_lang] and s.data.doc_langs == [d_lang]
        for q in s.data.queries:
            [(did, rel)] = s.data.qrels[q.id].items()
            doc = next(d for d in s.data.documents if d.id == did)
            assert rel == 1 and doc.meta["xling_id"] == q.meta["xling_id"]
    km_sets = [s for s in retrieval if s.task == f"{SECTIONS_TASK}/km"]
    assert len(km_sets[0].data.queries) == 8 * 4  # km lacks one section


def test_mixed_pool_has_both_parallels_relevant() -> None:
    sets = build_eval_sets(_sections(), _paragraphs(), _config(langs=("de",)))
    [mixed] = sets.select("mixed-pool")
    rs = mixed.data
    assert rs.query_langs == ["de", "en"] and rs.pool_composition() == {"de": 33, "en": 33}
    docs = {d.id: d for d in rs.documents}
    for q in rs.queries:
        rel = rs.relevant(q.id)
        assert len(rel) == 2
        assert {docs[d].lang for d in rel} == {"de", "en"}
        assert {docs[d].meta["xling_id"] for d in rel} == {q.meta["xling_id"]}


def test_inclination_pool_has_no_parallel_of_any_x_document() -> None:
    sets = build_eval_sets(_sections(), _paragraphs(), _config(langs=("de",)))
    [incl] = sets.select("inclination")
    rs = incl.data
    x_docs = {d.meta["xling_id"] for d in rs.documents if d.lang == "de"}
    en_docs = {d.meta["xling_id"] for d in rs.documents if d.lang == "en"}
    assert x_docs and en_docs and not (x_docs & en_docs)
    assert rs.query_langs == ["de"]
    for q in rs.queries:
        [(did, _)] = rs.relevant(q.id).items()
        assert did.startswith("de:") and q.meta["xling_id"] in x_docs
    assert len(rs.queries) == 17 and rs.pool_composition() == {"de": 17, "en": 16}


def test_cap_determinism_and_language_independence() -> None:
    secs, pars = _sections(), _paragraphs()
    a = build_eval_sets(secs, pars, _config(max_sections=10))
    b = build_eval_sets(list(reversed(secs)), list(reversed(pars)), _config(max_sections=10))
    assert [s.data.provenance["digest"] for s in a.sets] == [s.data.provenance["digest"] for s in b.sets]
    assert all(len(s.data.queries) == 10 for s in a.select("retrieval"))
    alone = build_eval_sets(secs, pars, _config(langs=("de",), max_sections=10))
    de_a = [s.data.provenance["digest"] for s in a.sets if s.task == f"{SECTIONS_TASK}/de"]
    de_alone = [s.data.provenance["digest"] for s in alone.sets if s.task == f"{SECTIONS_TASK}/de"]
    assert de_a == de_alone  # adding km does not change the German sets
    # both languages sample their English sections from the same order: they overlap
    en_de = {q.meta["xling_id"] for q in a.select("retrieval")[0].data.queries}
    en_km = {q.meta["xling_id"] for s in a.select("retrieval") if s.task.endswith("/km") for q in s.data.queries}
    assert len(en_de & en_km) >= 8
    other_seed = build_eval_sets(secs, pars, _config(max_sections=10, seed=99))
    assert other_seed.sets[0].data.provenance["digest"] != a.sets[0].data.provenance["digest"]


def test_shared_headings_get_the_page_title_or_are_dropped() -> None:
    page = TEST_PAGES[0]
    secs = [
        _section(page, 0, shared=3, heading="Syntax"),
        _section(TEST_PAGES[1], 0, shared=3, heading="Syntax"),
        _section(TEST_PAGES[2], 0, shared=3, heading="Syntax", titles={"en": "Only English title"}),
        _section(TEST_PAGES[3], 0, heading="Unique"),
        _section(TEST_PAGES[3], 1, heading="Unique"),  # same query text twice: the second is dropped
    ]
    selected, counts = select_sections(secs, "de", _config(langs=("de",)))
    queries = sorted(s.queries["de"] for s in selected)
    assert f"Title {page[-9:-5]} [de]: Syntax [de]" in queries
    assert "Unique [de]" in queries
    assert counts["shared_heading_no_title"] == 1
    assert counts["duplicate_query"] == 1
    assert counts["selected"] == 3
    dropped, counts2 = select_sections(secs, "de", _config(langs=("de",), shared_headings="drop"))
    assert [s.queries["de"] for s in dropped] == ["Unique [de]"]
    assert counts2["shared_heading_dropped"] == 3


def test_heading_equal_to_title_is_not_prefixed() -> None:
    rec = _section(TEST_PAGES[0], 0, shared=2, heading="Same", titles={"en": "Same [en]", "de": "Same [de]"})
    [sel], _ = select_sections([rec], "de", _config(langs=("de",)))
    assert sel.queries == {"en": "Same [en]", "de": "Same [de]"}


def test_bitext_gold_distractors_and_non_english_pair() -> None:
    sets = build_eval_sets(_sections(), _paragraphs(), _config(max_bitext_pairs=20, bitext_distractors=15))
    bitext = sets.select("bitext")
    assert [s.name for s in bitext] == [
        f"{PARAGRAPHS_TASK}/de-en",
        f"{PARAGRAPHS_TASK}/km-en",
        f"{PARAGRAPHS_TASK}/de-km",
    ]
    for s in bitext:
        rs = s.data
        gold_q = [q for q in rs.queries if q.meta["role"] == "gold"]
        src_d = [q for q in rs.queries if q.meta["role"] == "distractor"]
        tgt_d = [d for d in rs.documents if d.meta["role"] == "distractor"]
        assert len(gold_q) == 20 and len(rs.qrels) == 20
        assert 0 < len(src_d) <= 15 and 0 < len(tgt_d) <= 15
        assert all(q.meta["page"] in TRAIN_PAGES for q in src_d)
        assert all(d.meta["page"] in TRAIN_PAGES for d in tgt_d)
        # no distractor's translation is on the other side
        assert not ({q.meta["xling_id"] for q in src_d} & {d.meta["xling_id"] for d in tgt_d})
        for q in gold_q:
            [(did, _)] = rs.qrels[q.id].items()
            assert did.split(":", 1)[1] == q.meta["xling_id"].removeprefix("text/")
    en_targets = [{d.id for d in s.data.documents if d.meta["role"] == "distractor"} for s in bitext[:2]]
    assert en_targets[0] == en_targets[1]  # English distractors are shared by the languages


def test_english_only_and_validation() -> None:
    sets = build_eval_sets(_sections(), [], _config(langs=("en",), suites=("retrieval",)))
    assert [s.name for s in sets.sets] == [f"{SECTIONS_TASK}/en/en-en"]
    with pytest.raises(ConfigError):
        _config(max_sections=0)
    with pytest.raises(ConfigError):
        _config(suites=("nope",))
    with pytest.raises(ConfigError, match="de:en includes English"):
        _config(non_english_pairs=[("de", "en")])


def test_small_language_is_reported_honestly() -> None:
    secs = [_section(TEST_PAGES[0], k, langs=("en", "hi")) for k in range(3)] + _sections()
    sets = build_eval_sets(secs, [], _config(langs=("hi",), suites=("retrieval", "inclination")))
    assert all(len(s.data.queries) == 3 for s in sets.select("retrieval"))
    [incl] = sets.select("inclination")
    assert len(incl.data.queries) == 2 and incl.data.pool_composition() == {"en": 1, "hi": 2}
    assert sets.provenance["per_language"]["hi"]["sections"]["selected"] == 3
    empty = build_eval_sets(secs, [], _config(langs=("fr",), suites=("retrieval",)))
    assert empty.sets == [] and "fr" in empty.provenance["skipped"]


def test_write_round_trip(tmp_path: Path) -> None:
    sets = build_eval_sets(_sections(), _paragraphs(), _config(langs=("de",), max_sections=5))
    root = sets.write(tmp_path / "sets")
    assert (root / "provenance.json").is_file()
    for s in sets.sets:
        back = read_retrieval_set(root / s.suite / s.name)
        assert [q.id for q in back.queries] == [q.id for q in s.data.queries]
        assert back.qrels == s.data.qrels
        assert [d.lang for d in back.documents] == [d.lang for d in s.data.documents]


def test_dev_split_for_model_selection() -> None:
    dev_pages = _pages("dev", 3)
    secs = _sections() + [_section(p, k) for p in dev_pages for k in range(2)]
    pars = _paragraphs() + [
        ParallelTuple(f"{p}#par_{k}", {lg: f"Dev paragraph {k} of {p} {lg}" for lg in ("en", "de")}, {"page": p})
        for p in dev_pages
        for k in range(3)
    ]
    sets = build_eval_sets(secs, pars, _config(langs=("de",), split_name="dev"))
    for s in sets.sets:
        gold_pages = {q.meta["page"] for q in s.data.queries if q.meta.get("role", "gold") == "gold"}
        assert gold_pages <= set(dev_pages), s.name
        distractor_pages = {q.meta["page"] for q in s.data.queries if q.meta.get("role") == "distractor"}
        assert distractor_pages <= set(TRAIN_PAGES)  # never test pages
    assert sets.provenance["split"] == "dev"
    with pytest.raises(ConfigError):
        _config(split_name="train")


# ------------------------------------------------------------------------------------ pairs without English
SIX = ("de", "zh-CN", "eu", "km", "hi", "ja")


def _non_en(cfg: EvalSetsConfig) -> list[tuple[str, str]]:
    return [p for p in cfg.bitext_pairs() if "en" not in p]


def test_non_english_pairs_forms() -> None:
    assert _non_en(_config(langs=SIX)) == [("de", "zh-CN")]  # "auto": the first two languages
    assert _non_en(_config(langs=("de",))) == []  # "auto" with one language: none
    for none in (None, (), "none", 0, ""):
        assert _non_en(_config(langs=SIX, non_english_pairs=none)) == []
    explicit = _config(langs=SIX, non_english_pairs=[("eu", "km"), ("ja", "de")])
    assert _non_en(explicit) == [("eu", "km"), ("ja", "de")]
    assert explicit.bitext_pairs()[:6] == [(x, "en") for x in SIX]  # every pair with English stays
    assert _config(langs=SIX, non_english_pairs="eu:km, ja:de") == explicit  # the CLI form, parsed the same
    assert _config(langs=SIX, non_english_pairs=["eu:km", "ja:de"]) == explicit
    assert _config(langs=SIX, non_english_pairs="6") == _config(langs=SIX, non_english_pairs=6)
    assert explicit.to_dict()["bitext_pairs"][-2:] == [["eu", "km"], ["ja", "de"]]


def test_int_form_follows_the_documented_rule() -> None:
    # distance 1 from even starts, then odd starts (wrapping), then distance 2: the first three cover all six
    assert choose_non_english_pairs(SIX, 9) == [
        ("de", "zh-CN"), ("eu", "km"), ("hi", "ja"),
        ("zh-CN", "eu"), ("km", "hi"), ("ja", "de"),
        ("de", "eu"), ("eu", "hi"), ("hi", "de"),
    ]  # fmt: skip
    assert _non_en(_config(langs=SIX, non_english_pairs=6)) == choose_non_english_pairs(SIX, 6)
    assert choose_non_english_pairs(SIX, 1) == _non_en(_config(langs=SIX))  # 1 == "auto"
    for k in range(2, 9):
        langs = [f"l{i}" for i in range(k)]
        every = choose_non_english_pairs(langs, k * (k - 1) // 2)
        assert len({frozenset(p) for p in every}) == len(every) == k * (k - 1) // 2  # each pair once, all reachable
        first = choose_non_english_pairs(langs, (k + 1) // 2)
        assert {lg for p in first for lg in p} == set(langs)  # the first ceil(k/2) pairs cover every language
    with pytest.raises(ConfigError, match=r"non_english_pairs=16: 6 non-English languages .* at most 15 pairs"):
        _config(langs=SIX, non_english_pairs=16)
    with pytest.raises(ConfigError, match="at most 0 pairs"):
        _config(langs=("de",), non_english_pairs=1)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ([("de", "de")], "de:de has the same language twice"),
        ("zh-CN:en", "zh-CN:en includes English"),
        ("de:fr", r"de:fr names fr, not among the evaluated languages \(de, zh-CN, eu, km, hi, ja\)"),
        ("de:zh-cn", "names zh-cn, not among"),
        ("de:km,km:de", r"km:de repeats de:km"),
        ("de-zh-CN", "'de-zh-CN' is not a \\(source, target\\) pair"),
        (("de", "km"), "'de' is not a \\(source, target\\) pair"),
        ("de:km:eu", "is not a"),
        (-1, "must be >= 0"),
        (True, "not a pair count"),
        (2.5, "cannot read"),
    ],
)
def test_bad_non_english_pairs_are_named(value: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        _config(langs=SIX, non_english_pairs=value)


def test_parse_non_english_pairs_keeps_order() -> None:
    assert parse_non_english_pairs(" auto ") == "auto"
    assert parse_non_english_pairs("pt-BR:zh-CN,de:km") == (("pt-BR", "zh-CN"), ("de", "km"))


def test_several_non_english_bitext_sets_are_built() -> None:
    langs = ("de", "km", "hi")
    secs = [_section(p, k, langs=("en", *langs)) for p in TEST_PAGES + TRAIN_PAGES for k in range(2)]
    paras = [
        ParallelTuple(f"{p}#par_{k}", {lg: f"Paragraph {k} of {p} in {lg}" for lg in ("en", *langs)}, {"page": p})
        for p in TEST_PAGES + TRAIN_PAGES
        for k in range(4)
    ]
    cfg = _config(langs=langs, suites=("bitext",), non_english_pairs=3, max_bitext_pairs=10, bitext_distractors=5)
    sets = build_eval_sets(secs, paras, cfg)
    names = [s.name.removeprefix(f"{PARAGRAPHS_TASK}/") for s in sets.select("bitext")]
    assert names == ["de-en", "km-en", "hi-en", "de-km", "hi-de", "km-hi"]
    [hi_de] = [s for s in sets.select("bitext") if s.name.endswith("/hi-de")]
    assert hi_de.data.query_langs == ["hi"] and hi_de.data.doc_langs == ["de"]
    assert len(hi_de.data.qrels) == 10
