"""``crossalign.data.benchmarks``: each loader reads a local copy in its benchmark's hub layout into evaluation sets."""

from __future__ import annotations

from pathlib import Path

import pytest
from benchmark_fixtures import belebele_copy, flores_copy, mlqa_copy, pair_bitext_copy, xquad_r_copy

from crossalign.data.benchmarks import BENCHMARKS, benchmark_table, load_benchmark, parse_benchmark_spec
from crossalign.errors import ConfigError, DataFormatError, UnknownLanguageError
from crossalign.languages import from_iso639_3


@pytest.fixture
def hf_cache(tmp_path: Path) -> Path:
    return tmp_path / "hf-cache"


def _by_name(bench):
    return {s.name: s for s in bench.sets}


def test_belebele_four_directions_and_mixed_pool(tmp_path: Path, hf_cache: Path) -> None:
    copy = belebele_copy(tmp_path / "belebele")
    bench = load_benchmark("belebele:de,km", path=copy, cache_dir=hf_cache)
    assert bench.langs == {"de": "deu_Latn", "km": "khm_Khmr"} and bench.split == "test"
    sets = _by_name(bench)
    assert sorted(sets) == sorted(
        [f"belebele/{x}/{d}" for x in ("de", "km") for d in ("en-en", f"{x}-{x}", f"{x}-en", f"en-{x}")]
        + ["belebele/de/mixed", "belebele/km/mixed"]
    )
    de_en = sets["belebele/de/de-en"]
    assert de_en.suite == "retrieval" and de_en.task == "belebele/de"
    rs = de_en.data
    assert (rs.query_langs, rs.doc_langs) == (["de"], ["en"])
    # 4 questions over 3 passages; passage 1 has two questions; keys follow the English file's order
    assert [q.id for q in rs.queries] == ["de:p1-q1", "de:p1-q2", "de:p2-q1", "de:p3-q1"]
    assert [d.text for d in rs.documents] == [f"Passage {p} in English about topic {p}." for p in (1, 2, 3)]
    assert rs.qrels == {
        "de:p1-q1": {"en:p1": 1},
        "de:p1-q2": {"en:p1": 1},
        "de:p2-q1": {"en:p2": 1},
        "de:p3-q1": {"en:p3": 1},
    }
    assert rs.queries[2].text == "Question 1 on passage 2 in German?"
    mixed = sets["belebele/de/mixed"]
    assert mixed.suite == "mixed-pool" and mixed.data.pool_composition() == {"de": 3, "en": 3}
    assert mixed.data.qrels["de:p2-q1"] == {"en:p2": 1, "de:p2": 1} == mixed.data.qrels["en:p2-q1"]
    assert bench.describe()["source"] == {"hub_id": "facebook/belebele", "local_copy": str(copy)}


def test_xquad_r_groups_questions_by_paragraph(tmp_path: Path, hf_cache: Path) -> None:
    copy = xquad_r_copy(tmp_path / "xquad_r")
    bench = load_benchmark("xquad-r", langs=["de"], path=copy, cache_dir=hf_cache)
    rs = _by_name(bench)["xquad-r/de/en-de"].data
    assert [q.id for q in rs.queries] == ["en:5a1c", "en:3f2e", "en:9b7d"]
    # paragraph key: the smallest English question id sharing the context
    assert [d.id for d in rs.documents] == ["de:3f2e", "de:9b7d"]
    assert rs.documents[0].text == "Paragraph 1 in German: a short text."
    assert rs.qrels == {"en:5a1c": {"de:3f2e": 1}, "en:3f2e": {"de:3f2e": 1}, "en:9b7d": {"de:9b7d": 1}}


def test_mlqa_uses_the_instances_parallel_with_english(tmp_path: Path, hf_cache: Path) -> None:
    copy = mlqa_copy(tmp_path / "xtreme")
    bench = load_benchmark("mlqa:de,hi", path=copy, cache_dir=hf_cache)
    sets = _by_name(bench)
    assert sorted(sets) == sorted(
        [f"mlqa/{x}/{d}" for x in ("de", "hi") for d in ("en-en", f"{x}-{x}", f"{x}-en", f"en-{x}")]
        + ["mlqa/de/mixed", "mlqa/hi/mixed"]
    )
    de_en = sets["mlqa/de/de-en"].data
    # c3 exists in German only: no English parallel, not used
    assert [q.id for q in de_en.queries] == ["de:a1", "de:b2", "de:d4"]
    assert [q.text for q in de_en.queries] == [
        "Question a1 in German?",
        "Question b2 in German?",
        "Question d4 in German?",
    ]
    assert [(d.id, d.text) for d in de_en.documents] == [
        ("en:a1", "Paragraph 1 in English (test)."),
        ("en:d4", "Paragraph 3 in English (test)."),
    ]
    assert de_en.qrels == {"de:a1": {"en:a1": 1}, "de:b2": {"en:a1": 1}, "de:d4": {"en:d4": 1}}
    hi_en = sets["mlqa/hi/hi-en"].data
    assert [q.id for q in hi_en.queries] == ["hi:a1", "hi:d4"]
    en_hi = sets["mlqa/hi/en-hi"].data
    assert [d.text for d in en_hi.documents] == ["Paragraph 1 in Hindi (test).", "Paragraph 3 in Hindi (test)."]
    val = load_benchmark("mlqa:de", split="validation", path=copy, cache_dir=hf_cache)
    assert val.sets[0].data.documents[0].text == "Paragraph 1 in English (validation)."


@pytest.mark.parametrize(("name", "pairs", "langs", "tags"), [
    ("tatoeba", {"deu-eng": 3, "khm-eng": 2, "fra-eng": 1}, "de,km", ["de", "km"]),
    ("bucc", {"de-en": 3, "zh-en": 2}, "de,zh-CN", ["de", "zh-CN"]),
])  # fmt: skip
def test_pair_bitext_layouts(tmp_path: Path, hf_cache: Path, name, pairs, langs, tags) -> None:
    copy = pair_bitext_copy(tmp_path / name, pairs)
    bench = load_benchmark(f"{name}:{langs}", path=copy, cache_dir=hf_cache)
    assert [(s.suite, s.name) for s in bench.sets] == [("bitext", f"{name}/{t}-en") for t in tags]
    first = bench.sets[0].data
    n = next(iter(pairs.values()))
    assert [q.text for q in first.queries] == [
        f"Sentence {i} in {next(iter(pairs)).split('-')[0]}." for i in range(1, n + 1)
    ]
    assert [d.text for d in first.documents] == [f"Sentence {i} in English." for i in range(1, n + 1)]
    assert first.qrels == {f"{tags[0]}:{i}": {f"en:{i}": 1} for i in range(1, n + 1)}
    assert first.provenance["config"] == next(iter(pairs))


def test_pair_bitext_per_pair_configurations_and_blank_rows(tmp_path: Path, hf_cache: Path) -> None:
    # a copy without the default configuration is read pair by pair
    copy = pair_bitext_copy(tmp_path / "per-pair", {"deu-eng": 3, "khm-eng": 2}, default_config=False)
    bench = load_benchmark("tatoeba:km", path=copy, cache_dir=hf_cache)
    assert [q.text for q in bench.sets[0].data.queries] == ["Sentence 1 in khm.", "Sentence 2 in khm."]
    # a blank sentence of a pair not asked for does not matter; of one asked for, it is named
    blank = pair_bitext_copy(tmp_path / "blank", {"deu-eng": 3, "khm-eng": 2}, blank=("deu-eng", 2))
    assert len(load_benchmark("tatoeba:km", path=blank, cache_dir=hf_cache).sets[0].data.queries) == 2
    with pytest.raises(DataFormatError) as exc:
        load_benchmark("tatoeba:de", path=blank, cache_dir=hf_cache)
    assert str(exc.value).startswith(
        "line 2, field 'sentence1': mteb/tatoeba-bitext-mining default/test, pair deu-eng:"
    )


def test_flores_aligns_by_id_and_adds_the_pair_without_english(tmp_path: Path, hf_cache: Path) -> None:
    copy = flores_copy(tmp_path / "flores_plus")
    bench = load_benchmark("flores", langs="de,km", path=copy, cache_dir=hf_cache)
    sets = _by_name(bench)
    assert sorted(sets) == ["flores/de-en", "flores/de-km", "flores/km-en"]
    km_en = sets["flores/km-en"].data
    # Khmer has no sentence 2 in devtest: the pair keeps the ids both sides have
    assert [q.id for q in km_en.queries] == ["km:1", "km:3", "km:4"]
    assert km_en.qrels == {f"km:{i}": {f"en:{i}": 1} for i in (1, 3, 4)}
    assert km_en.documents[0].text == "devtest sentence 1 in English."
    dev = load_benchmark("flores:de", split="dev", path=copy, cache_dir=hf_cache)
    assert dev.sets[0].data.queries[1].text == "dev sentence 2 in German."
    # a FLORES configuration name works as a language
    assert load_benchmark("flores:khm_Khmr", path=copy, cache_dir=hf_cache).langs == {"km": "khm_Khmr"}


def test_errors_name_the_place_and_the_fix(tmp_path: Path, hf_cache: Path) -> None:
    copy = belebele_copy(tmp_path / "belebele", drop_column="question")
    with pytest.raises(DataFormatError) as exc:
        load_benchmark("belebele:de", path=copy, cache_dir=hf_cache)
    assert str(exc.value).startswith("line 1, field 'question': facebook/belebele deu_Latn/test: missing column")
    good = belebele_copy(tmp_path / "good")
    with pytest.raises(DataFormatError, match=r"has no configuration 'fra_Latn' \(it has: eng_Latn, deu_Latn, khm"):
        load_benchmark("belebele:fr", path=good, cache_dir=hf_cache)
    with pytest.raises(UnknownLanguageError, match="xquad-r has no language 'km'") as lang_exc:
        load_benchmark("xquad-r:km", path=good)
    assert "choose from: ar, de, el, en, es, hi, ru, th, tr, vi, zh-CN" in str(lang_exc.value)
    with pytest.raises(ConfigError, match="unknown benchmark 'mkqa'"):
        load_benchmark("mkqa:de")
    with pytest.raises(ConfigError, match="flores has no split 'test'"):
        load_benchmark("flores:de", split="test")
    with pytest.raises(DataFormatError, match="field '--benchmark-path': not a directory"):
        load_benchmark("tatoeba:de", path=tmp_path / "nowhere")
    pairs = pair_bitext_copy(tmp_path / "tatoeba", {"deu-eng": 2})
    with pytest.raises(DataFormatError, match=r"no rows for khm-eng \(pairs present: deu-eng\)"):
        load_benchmark("tatoeba:km", path=pairs, cache_dir=hf_cache)


def test_spec_parsing_languages_and_registry() -> None:
    assert parse_benchmark_spec("Belebele:de, zh-CN") == ("belebele", ["de", "zh-CN"])
    assert parse_benchmark_spec("tatoeba") == ("tatoeba", None)
    assert parse_benchmark_spec("mteb:BUCC.v2:de-en,fr-en") == ("mteb:BUCC.v2", ["de-en", "fr-en"])
    assert [from_iso639_3(c) for c in ("zho_Hans", "kor_Hang", "arb_Arab", "cmn", "hin_Latn")] == [
        "zh-CN", "ko", "ar", "zh", "hi-Latn"
    ]  # fmt: skip
    assert BENCHMARKS["tatoeba"].configs["zh-CN"] == "cmn-eng" and BENCHMARKS["belebele"].configs["ko"] == "kor_Hang"
    table = benchmark_table()
    assert all(f"| `{name}` |" in table for name in BENCHMARKS)
    assert "`mteb/tatoeba-bitext-mining` (`69e8f12d`)" in table


def test_readme_table_is_the_registry() -> None:
    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text(encoding="utf-8")
    assert benchmark_table() in readme


def test_evaluate_help_names_every_benchmark(capsys) -> None:
    from crossalign.cli.main import build_parser

    with pytest.raises(SystemExit):
        build_parser().parse_args(["evaluate", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert all(name in text for name in BENCHMARKS)
    assert "--benchmark-path [NAME=]DIR" in text and "--query-lang LANG" in text and "--split NAME" in text


def test_hub_path_reads_the_registry_id_config_split_and_revision(tmp_path: Path, monkeypatch) -> None:
    """The hub branch of the loaders, with datasets.load_dataset and huggingface_hub.dataset_info replaced (no hub
    here): the call names the registry's hub id, configuration, split and revision; failures become one CorpusError."""
    from types import SimpleNamespace

    import datasets
    import huggingface_hub

    from crossalign.errors import CorpusError

    copy = belebele_copy(tmp_path / "belebele")
    real = datasets.load_dataset
    calls = []

    def fake_load_dataset(path, name=None, **kwargs):
        calls.append((path, name, kwargs.get("split"), kwargs.get("revision")))
        return real(str(copy), name, split=kwargs["split"], cache_dir=str(tmp_path / "hf-cache"))

    monkeypatch.setattr(datasets, "load_dataset", fake_load_dataset)
    monkeypatch.setattr(huggingface_hub, "dataset_info", lambda repo, revision=None: SimpleNamespace(sha="c0ffee" * 6))
    bench = load_benchmark("belebele:km")
    assert calls == [("facebook/belebele", "eng_Latn", "test", None), ("facebook/belebele", "khm_Khmr", "test", None)]
    assert bench.source == {
        "hub_id": "facebook/belebele",
        "revision": "default branch (not pinned)",
        "resolved_revision": "c0ffee" * 6,
    }

    def offline(*args, **kwargs):
        raise ConnectionError("no route to host")

    monkeypatch.setattr(datasets, "load_dataset", offline)
    with pytest.raises(CorpusError, match=r"cannot read facebook/belebele configuration 'eng_Latn', split 'test' "
                       r"from the Hugging Face hub: ConnectionError: no route to host") as exc:  # fmt: skip
        load_benchmark("belebele:km")
    assert "--benchmark-path" in str(exc.value)


@pytest.mark.parametrize(("hub_configs", "expect_names"), [
    (["default", "deu-eng", "khm-eng"], [None]),  # MTEB's pinned revision: the default configuration, rows by 'lang'
    (["deu-eng", "khm-eng"], ["khm-eng"]),  # a revision with per-pair configurations only
    (None, [None]),  # the hub cannot list them: read the default one
])  # fmt: skip
def test_hub_pair_bitext_picks_the_configuration(tmp_path: Path, monkeypatch, hub_configs, expect_names) -> None:
    import datasets

    copy = pair_bitext_copy(tmp_path / "tatoeba", {"deu-eng": 3, "khm-eng": 2})
    real = datasets.load_dataset
    names = []

    def fake_configs(path, revision=None, **kwargs):
        assert (path, revision) == ("mteb/tatoeba-bitext-mining", BENCHMARKS["tatoeba"].revision)
        if hub_configs is None:
            raise ConnectionError("offline")
        return hub_configs

    def fake_load_dataset(path, name=None, **kwargs):
        names.append(name)
        return real(str(copy), name, split=kwargs["split"], cache_dir=str(tmp_path / "hf-cache"))

    monkeypatch.setattr(datasets, "get_dataset_config_names", fake_configs)
    monkeypatch.setattr(datasets, "load_dataset", fake_load_dataset)
    monkeypatch.setattr("huggingface_hub.dataset_info", lambda *a, **k: (_ for _ in ()).throw(ConnectionError()))
    bench = load_benchmark("tatoeba:km")
    assert names == expect_names
    assert [q.text for q in bench.sets[0].data.queries] == ["Sentence 1 in khm.", "Sentence 2 in khm."]
