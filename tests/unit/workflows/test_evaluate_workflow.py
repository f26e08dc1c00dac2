"""The evaluate workflow on a synthetic LibreOffice corpus with a fake encoder: suites, files, encode-once, timing."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from evaluation_testkit import FakeCorpus, FakeModel

from crossalign.errors import ConfigError
from crossalign.evaluation.results import load_results
from crossalign.evaluation.suites import parse_suites
from crossalign.workflows.evaluate import evaluate, prepare_evaluation


class FingerprintedFake(FakeModel):
    """A fake model with a state_dict, so the workflow fingerprints it and persists its vectors."""

    def __init__(self, tag: str = "w", **kw) -> None:
        super().__init__(**kw)
        self.tag = tag

    def state_dict(self) -> dict:
        import torch

        return {"w": torch.tensor([float(len(self.tag))])}

    def children(self):
        return iter(())


def test_parse_suites() -> None:
    assert parse_suites("all") == ["retrieval", "mixed-pool", "inclination", "bitext", "sts"]
    assert parse_suites("bitext, mixed-pool") == ["mixed-pool", "inclination", "bitext"]
    with pytest.raises(ConfigError, match="unknown suite"):
        parse_suites("retreival")


def test_all_suites_on_the_synthetic_corpus(tmp_path: Path) -> None:
    model = FakeModel(dim=16)
    lines: list[str] = []
    [result] = evaluate(
        model,
        suites="all",
        langs="de,km",
        output_dir=tmp_path / "out",
        corpus=FakeCorpus(("de", "km")),
        persist_embeddings=False,
        labels=["fake"],
        log=lines.append,
        show_progress=False,
    )
    suites = {t.suite for t in result.tasks}
    assert suites == {"retrieval", "mixed-pool", "inclination", "bitext"}
    assert result.config["suites_skipped"] == {"sts": "no STS data given (--data FILE.jsonl)"}
    directions = {(t.task, t.query_lang, t.doc_lang) for t in result.find("retrieval")}
    for x in ("de", "km"):
        task = f"libreoffice-sections/{x}"
        assert {(task, "en", "en"), (task, x, x), (task, x, "en"), (task, "en", x)} <= directions
    keys = [t.key for t in result.tasks]
    assert len(keys) == len(set(keys))  # every (suite, task, query_lang, doc_lang) is unique
    mixed = result.find("mixed-pool", task="libreoffice-sections/de")
    assert {t.query_lang for t in mixed} == {"de", "en"}
    assert all(set(t.per_query) >= {"max_rank", "min_rank"} for t in mixed)
    bitext = {(t.query_lang, t.doc_lang) for t in result.find("bitext")}
    assert bitext == {("de", "en"), ("km", "en"), ("de", "km")}
    # every text was encoded once, whatever the number of suites and directions
    encoded = model.encoded_texts
    assert len(encoded) == len(set(encoded))
    assert result.config["embedding_cache"]["stats"]["encoded"] == len(encoded)
    for stage in ("build_sets", "load_model", "encode", "retrieval", "mixed-pool", "bitext", "write", "total"):
        assert stage in result.timing
    out = tmp_path / "out" / "fake"  # one model: the same OUT/<label>/ layout as several
    assert load_results(tmp_path / "out").to_dict() == result.to_dict()  # through OUT/evaluation.json
    back = load_results(out)
    assert back.to_dict() == result.to_dict()
    assert (out / "report.md").is_file() and (tmp_path / "out" / "report.md").is_file()
    assert not (tmp_path / "out" / "results.json").exists()
    assert list((out / "runs" / "retrieval").rglob("*.trec"))
    # a model without weights has no fingerprint: MTEB's placeholder revision
    assert (out / "mteb" / "fake" / "no_revision_available" / "LibreofficeSectionsRetrieval.json").is_file()
    assert any(line.startswith("encode:") for line in lines)
    assert result.data["split"] == "test" and "libreoffice-help" in result.data["source"]
    assert result.data["details"]["libreoffice"]["caps"]["max_sections"] == 500


def test_two_models_persisted_cache_and_mteb(tmp_path: Path) -> None:
    corpus = FakeCorpus(("de",))
    a, b = FingerprintedFake("a", dim=8), FingerprintedFake("bb", dim=8)
    kwargs = dict(suites="retrieval", langs="de", corpus=corpus, cache_dir=tmp_path / "cache", show_progress=False)
    results = evaluate([a, b], output_dir=tmp_path / "two", labels=["base", "tuned"], **kwargs)
    assert [r.label for r in results] == ["base", "tuned"]
    assert results[0].model["fingerprint"] != results[1].model["fingerprint"]
    for label in ("base", "tuned"):
        d = tmp_path / "two" / label
        assert (d / "results.json").is_file() and (d / "report.md").is_file()
        [task_file] = [p for p in (d / "mteb" / label).rglob("*.json") if p.name != "model_meta.json"]
        assert json.loads(task_file.read_text())["task_name"] == "LibreofficeSectionsRetrieval"
    summary = (tmp_path / "two" / "report.md").read_text()
    sections = [ln for ln in summary.splitlines() if ln.startswith("## ")]
    assert "## Comparison with base" in sections  # two models: the report compares them
    assert "tuned" in summary
    # the same model again: every vector comes from disk
    again = FingerprintedFake("a", dim=8)
    [r] = evaluate(again, output_dir=None, **kwargs)
    assert again.encoded_texts == []
    assert r.config["embedding_cache"]["stats"]["disk_hits"] > 0
    np.testing.assert_allclose([t.scores["ndcg@10"] for t in r.tasks], [t.scores["ndcg@10"] for t in results[0].tasks])


def test_user_data_only_and_sts(tmp_path: Path) -> None:
    from crossalign.data.io import write_retrieval_set
    from crossalign.data.records import Document, Query, RetrievalSet

    rs = RetrievalSet(
        [Query("q1", "eins", "de"), Query("q2", "two", "en")],
        [Document("d1", "one", "en"), Document("d2", "zwei", "de"), Document("d3", "drei", "de")],
        {"q1": {"d1": 1, "d3": 1}, "q2": {"d2": 1}},
        name="mine",
    )
    write_retrieval_set(rs, tmp_path / "mine")
    sts = tmp_path / "pairs.jsonl"
    sts.write_text(
        "\n".join(
            json.dumps({"text1": f"a{i}", "text2": f"b{i}", "score": float(i), "lang1": "de", "lang2": "en"})
            for i in range(5)
        ),
        encoding="utf-8",
    )
    [result] = evaluate(
        FakeModel(dim=8),
        data=[tmp_path / "mine", sts],
        output_dir=tmp_path / "out",
        persist_embeddings=False,
        show_progress=False,
    )
    assert result.config["langs"] == []  # user data only: no LibreOffice languages by default
    got = {(t.suite, t.task, t.query_lang, t.doc_lang) for t in result.tasks}
    assert got == {
        ("retrieval", "mine", "de", None),
        ("retrieval", "mine", "en", None),
        ("mixed-pool", "mine", "de", None),
        ("mixed-pool", "mine", "en", None),
        ("sts", "pairs", "de", "en"),
    }
    assert result.languages == ["de", "en"]


def test_sts_without_data_and_nothing_to_do() -> None:
    with pytest.raises(ConfigError, match="STS data"):
        prepare_evaluation(suites="sts", langs="de", corpus=FakeCorpus(("de",)))
    with pytest.raises(ConfigError, match="nothing to evaluate"):
        prepare_evaluation(suites="bitext", langs="en", corpus=FakeCorpus(("de",)))


def test_model_label_from_folders(tmp_path: Path) -> None:
    from crossalign.workflows.evaluate import model_label

    run = tmp_path / "runs" / "clear-de"
    (run / "model").mkdir(parents=True)
    (run / "checkpoints" / "checkpoint-40").mkdir(parents=True)
    (tmp_path / "my-finetune").mkdir()
    assert model_label(run / "model") == "clear-de"  # not "model"
    assert model_label(str(run / "model") + "/") == "clear-de"
    assert model_label(run / "checkpoints" / "checkpoint-40") == "clear-de-checkpoint-40"
    assert model_label(tmp_path / "my-finetune") == "my-finetune"
    assert model_label("e5-small-q4") == "e5-small-q4" and model_label("BAAI/bge-m3") == "BAAI/bge-m3"
    # a trained model carries its run's label
    (run / "model" / "crossalign_training.json").write_text(json.dumps({"label": "CLEAR de"}))
    assert model_label(run / "model") == "CLEAR de"


def test_labels_name_the_output_folders(tmp_path: Path) -> None:
    kwargs = dict(suites="retrieval", langs="de", corpus=FakeCorpus(("de",)), persist_embeddings=False)
    models = [FakeModel(dim=8), FakeModel(dim=8)]
    results = evaluate(models, output_dir=tmp_path / "o", labels=["base", "CLEAR de"], show_progress=False, **kwargs)
    assert [r.label for r in results] == ["base", "CLEAR de"]
    manifest = json.loads((tmp_path / "o" / "evaluation.json").read_text())
    assert [m["folder"] for m in manifest["models"]] == ["base", "CLEAR-de"]
    assert (tmp_path / "o" / "CLEAR-de" / "results.json").is_file()
    with pytest.raises(Exception, match="holds 2 models"):
        load_results(tmp_path / "o")
    with pytest.raises(ConfigError, match="same output folder"):
        evaluate(models, output_dir=tmp_path / "p", labels=["a b", "a-b"], **kwargs)
    assert not (tmp_path / "p").exists()


def test_several_bitext_pairs_without_english(tmp_path: Path) -> None:
    from crossalign.reports.compare import compare_results
    from crossalign.reports.tables import bitext_tables

    langs = ("de", "zh-CN", "eu", "km")
    kwargs = dict(suites="bitext", langs=",".join(langs), corpus=FakeCorpus(langs), persist_embeddings=False)
    a, b = evaluate(
        [FakeModel(dim=16), FakeModel(dim=16, prompt_sensitive=False)],
        non_english_pairs=6,
        holdout_langs="none",
        output_dir=tmp_path / "out",
        labels=["a", "b"],
        show_progress=False,
        **kwargs,
    )
    without_en = [("de", "zh-CN"), ("eu", "km"), ("zh-CN", "eu"), ("km", "de"), ("de", "eu"), ("zh-CN", "km")]
    assert a.config["bitext_pairs"] == [[x, "en"] for x in langs] + [list(p) for p in without_en]
    got = [(t.query_lang, t.doc_lang) for t in a.find("bitext")]
    assert sorted(got) == sorted([(x, "en") for x in langs] + without_en)
    assert len({t.key for t in a.tasks}) == len(a.tasks) == 10  # one cell per pair
    (table,) = bitext_tables([a, b])
    assert {row[0] for row in table.rows} >= {"de→zh-CN", "km→de", "mean x→en (4)", "mean x→y (6)"}
    cells = compare_results([a, b], metrics="p@1_src2tgt").cells
    assert sorted((c.query_lang, c.doc_lang) for c in cells) == sorted(got)
    mteb = json.loads(
        next((tmp_path / "out" / "a" / "mteb").rglob("LibreofficeParagraphsBitextMining.json")).read_text()
    )
    assert {e["hf_subset"] for e in mteb["scores"]["test"]} >= {"de-zh-CN", "km-de", "zh-CN-km"}
    # the explicit form, as the CLI passes it
    [r] = evaluate(FakeModel(dim=16), non_english_pairs="km:zh-CN", output_dir=None, show_progress=False, **kwargs)
    assert [(t.query_lang, t.doc_lang) for t in r.find("bitext") if t.doc_lang != "en"] == [("km", "zh-CN")]
