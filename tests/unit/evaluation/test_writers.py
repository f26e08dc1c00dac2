"""Result writers: results.json round trip, MTEB TaskResult files, TREC runs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from evaluation_testkit import FakeModel, unit

from crossalign.data.records import Document, Query, RetrievalSet
from crossalign.evaluation.evaluators import MixedPoolEvaluator, RetrievalEvaluator
from crossalign.evaluation.metrics.retrieval import evaluate_run, read_trec_run
from crossalign.evaluation.results import EvaluationResult, TaskScore, load_results
from crossalign.evaluation.writers import (
    mteb_hf_subset,
    mteb_metric_name,
    mteb_task_name,
    mteb_task_results,
    write_mteb_results,
    write_results_json,
    write_trec_runs,
)

# Field names of mteb's TaskResult (mteb 2.26, mteb/results/task_result.py) and of each scores entry
# (TaskResult._validate_scores_dict). Copied as names only, to validate our files where mteb is not installed.
MTEB_TASK_RESULT_FIELDS = {"dataset_revision", "task_name", "mteb_version", "scores", "evaluation_time"}
MTEB_OPTIONAL_FIELDS = {"kg_co2_emissions", "date", "evaluation_phases"}
MTEB_SCORE_REQUIRED = {"main_score", "hf_subset", "languages"}
LANG_SCRIPT = re.compile(r"^[a-z]{3}-[A-Z][a-z]{3}$")


def _evaluate():
    vectors = {
        "d1": unit(1, 0, 0),
        "d2": unit(0, 1, 0),
        "d3": unit(0, 0, 1),
        "q1": unit(1, 0.2, 0),
        "q2": unit(0, 1, 1),  # d2 and d3 tie
    }
    model = FakeModel(vectors)
    de_en = RetrievalSet(
        [Query("de:1", "q1", "de"), Query("de:2", "q2", "de")],
        [Document(f"en:{k}", k, "en") for k in ("d1", "d2", "d3")],
        {"de:1": {"en:d1": 1}, "de:2": {"en:d2": 1}},
        name="lo/de/de-en",
        provenance={"digest": "a" * 64},
    )
    mixed = RetrievalSet(
        [Query("zh-CN:1", "q1", "zh-CN"), Query("en:1", "q2", "en")],
        [Document("en:d1", "d1", "en"), Document("zh-CN:d2", "d2", "zh-CN"), Document("zh-CN:d3", "d3", "zh-CN")],
        {"zh-CN:1": {"en:d1": 1, "zh-CN:d2": 1}, "en:1": {"en:d1": 1, "zh-CN:d2": 1}},
        name="lo/zh-CN/mixed",
        provenance={"digest": "b" * 64},
    )
    outputs = RetrievalEvaluator(de_en, task="lo-sections/de", metrics=["ndcg@10", "recall@100"]).evaluate_detailed(
        model
    )
    outputs += MixedPoolEvaluator(mixed, task="lo-sections/zh-CN").evaluate_detailed(model)
    result = EvaluationResult(
        model={"spec": "toy", "path": None, "fingerprint": "f" * 64, "label": "toy model"},
        data={"source": "synthetic", "provenance": "unit test", "split": "test"},
        config={"suites": ["retrieval", "mixed-pool"]},
        tasks=[o.score for o in outputs],
        languages=["en", "de", "zh-CN"],
    )
    return result, outputs, de_en


def test_results_json_round_trip(tmp_path: Path) -> None:
    result, _, _ = _evaluate()
    path = write_results_json(result, tmp_path)
    back = load_results(path)
    assert back.to_dict() == result.to_dict()
    mixed = back.find("mixed-pool", query_lang="zh-CN")[0]
    assert set(mixed.per_query) >= {"max_rank", "min_rank"}


def test_mteb_names() -> None:
    assert mteb_task_name("retrieval", "libreoffice-sections/de") == "LibreofficeSectionsRetrieval"
    assert mteb_task_name("mixed-pool", "libreoffice-sections/de") == "LibreofficeSectionsMixedPoolRetrieval"
    assert mteb_task_name("bitext", "libreoffice-paragraphs") == "LibreofficeParagraphsBitextMining"
    assert mteb_task_name("sts", "my_pairs") == "MyPairsSTS"
    assert mteb_metric_name("ndcg@10") == "ndcg_at_10"
    assert mteb_metric_name("lang_share@10:zh-CN") == "lang_share_at_10_zh-CN"
    t = TaskScore("mixed-pool", "lo/de", "de", None, {"de": 2, "en": 2}, 1, "ndcg@1", {"ndcg@1": 1.0})
    assert mteb_hf_subset(t) == "de:de-de+en"
    t2 = TaskScore("bitext", "paragraphs", "de", "en", {"en": 2}, 1, "bucc_f1", {"bucc_f1": 1.0})
    assert mteb_hf_subset(t2) == "de-en"


def _check_mteb_schema(obj: dict) -> None:
    assert MTEB_TASK_RESULT_FIELDS <= set(obj) <= MTEB_TASK_RESULT_FIELDS | MTEB_OPTIONAL_FIELDS
    assert isinstance(obj["dataset_revision"], str) and isinstance(obj["task_name"], str)
    assert obj["mteb_version"] is None or isinstance(obj["mteb_version"], str)
    assert isinstance(obj["evaluation_time"], float | int)
    assert isinstance(obj["scores"], dict) and obj["scores"]
    for split, entries in obj["scores"].items():
        assert isinstance(split, str) and isinstance(entries, list) and entries
        for e in entries:
            assert set(e) >= MTEB_SCORE_REQUIRED
            assert isinstance(e["hf_subset"], str)
            assert isinstance(e["languages"], list) and all(LANG_SCRIPT.match(x) for x in e["languages"])
            assert isinstance(e["main_score"], float)
            json.dumps(e)


def test_mteb_files_follow_the_task_result_schema(tmp_path: Path) -> None:
    result, _, _ = _evaluate()
    paths = write_mteb_results(result, tmp_path)
    folder = tmp_path / "mteb" / "toy-model" / ("f" * 16)
    assert {p.name for p in paths} == {"LoSectionsRetrieval.json", "LoSectionsMixedPoolRetrieval.json"}
    assert all(p.parent == folder for p in paths)
    meta = json.loads((folder / "model_meta.json").read_text())
    assert meta["name"] == "toy model" and meta["revision"] == "f" * 16
    retrieval = json.loads((folder / "LoSectionsRetrieval.json").read_text())
    _check_mteb_schema(retrieval)
    [entry] = retrieval["scores"]["test"]
    assert entry["hf_subset"] == "de:de-en"
    assert entry["languages"] == ["deu-Latn", "eng-Latn"]
    t = result.find("retrieval")[0]
    assert entry["main_score"] == t.scores["ndcg@10"] == entry["ndcg_at_10"]
    assert entry["recall_at_100"] == t.scores["recall@100"]
    assert retrieval["dataset_revision"] == "a" * 16
    mixed = json.loads((folder / "LoSectionsMixedPoolRetrieval.json").read_text())
    _check_mteb_schema(mixed)
    subsets = {e["hf_subset"]: e for e in mixed["scores"]["test"]}
    assert set(subsets) == {"zh-CN:zh-CN-en+zh-CN", "zh-CN:en-en+zh-CN"}
    assert subsets["zh-CN:zh-CN-en+zh-CN"]["languages"] == ["cmn-Hans", "eng-Latn"]
    assert "max_rank_mean" in subsets["zh-CN:en-en+zh-CN"] and "complete_at_10" in subsets["zh-CN:en-en+zh-CN"]
    assert set(mteb_task_results(result)) == {p.stem for p in paths}


def test_mteb_main_score_is_higher_is_better_and_the_version_recorded() -> None:
    from importlib.metadata import PackageNotFoundError, version

    from crossalign.evaluation.writers import mteb_main_score

    scores = {"pivot_first@1": 0.7, "ndcg@1": 0.25, "max_rank_mean": 3.0}
    incl = TaskScore("inclination", "lo/de", "de", None, {"de": 2, "en": 2}, 4, "pivot_first@1", scores)
    assert mteb_main_score(incl) == "ndcg@1"
    result = EvaluationResult(
        model={"spec": "toy", "fingerprint": None, "label": "toy"}, data={}, config={}, tasks=[incl], languages=[]
    )
    [obj] = mteb_task_results(result).values()
    [entry] = obj["scores"]["test"]
    assert entry["main_score"] == 0.25 and entry["pivot_first_at_1"] == 0.7  # the own main score is still there
    try:
        installed = version("mteb")
    except PackageNotFoundError:
        installed = None
    assert obj["mteb_version"] == installed
    retrieval = TaskScore("retrieval", "lo/de", "de", "en", {"en": 2}, 4, "ndcg@10", {"ndcg@10": 0.5})
    assert mteb_main_score(retrieval) == "ndcg@10"


def test_mteb_task_result_loads_our_files(tmp_path: Path) -> None:
    mteb = pytest.importorskip("mteb")
    result, _, _ = _evaluate()
    for path in write_mteb_results(result, tmp_path):
        loaded = mteb.TaskResult.from_disk(path)
        ours = json.loads(path.read_text())
        assert loaded.task_name == ours["task_name"]
        assert loaded.get_score() == pytest.approx(sum(e["main_score"] for e in ours["scores"]["test"]) / len(
            ours["scores"]["test"]
        ))  # fmt: skip
        assert sorted(loaded.hf_subsets) == sorted(e["hf_subset"] for e in ours["scores"]["test"])


def test_trec_runs_reproduce_the_scores(tmp_path: Path) -> None:
    result, outputs, de_en = _evaluate()
    paths = write_trec_runs(outputs, tmp_path, tag="toy model")
    names = sorted(p.relative_to(tmp_path).as_posix() for p in paths)
    assert names == [
        "runs/mixed-pool/lo-sections/zh-CN/en-en+zh-CN.trec",
        "runs/mixed-pool/lo-sections/zh-CN/zh-CN-en+zh-CN.trec",
        "runs/retrieval/lo-sections/de/de-en.trec",
    ]
    retrieval_file = tmp_path / "runs/retrieval/lo-sections/de/de-en.trec"
    lines = retrieval_file.read_text().splitlines()
    fields = [ln.split() for ln in lines]
    assert all(len(f) == 6 and f[1] == "Q0" and f[5] == "toy-model" for f in fields)
    q2 = [f for f in fields if f[0] == "de:2"]
    assert [f[2] for f in q2[:2]] == ["en:d3", "en:d2"]  # tied scores: doc id descending, as trec_eval
    assert [int(f[3]) for f in q2] == [1, 2, 3]
    run = read_trec_run(retrieval_file)
    ev = evaluate_run(run, de_en.qrels, ["ndcg@10", "recall@100"])
    assert ev.mean == pytest.approx(result.find("retrieval")[0].scores)
