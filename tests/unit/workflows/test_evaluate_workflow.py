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
    out = tmp_path / "out"
    back = load_results(out)
    assert back.to_dict() == result.to_dict()
    assert (out / "report.md").is_file()
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
