from __future__ import annotations

import json
from pathlib import Path

import pytest

from crossalign.errors import DataFormatError
from crossalign.evaluation.results import EvaluationResult, TaskScore, load_results


def _result() -> EvaluationResult:
    return EvaluationResult(
        model={"spec": "e5-small-q4", "path": "/x", "fingerprint": "abc", "label": "base"},
        data={"source": "libreoffice", "split": "test"},
        config={"suites": ["retrieval"]},
        languages=["de"],
        tasks=[
            TaskScore(
                "retrieval",
                "lo",
                "de",
                "en",
                {"en": 3},
                2,
                "ndcg@10",
                {"ndcg@10": 0.5},
                per_query={"ndcg@10": {"q1": 1.0, "q2": 0.0}},
            ),
            TaskScore(
                "mixed-pool",
                "lo",
                "de",
                None,
                {"de": 3, "en": 3},
                2,
                "complete@10",
                {"complete@10": 0.5, "max_rank_mean": 7.5},
            ),
        ],
    )


def test_round_trip_and_directions(tmp_path: Path) -> None:
    r = _result()
    path = r.save(tmp_path / "results.json")
    back = load_results(tmp_path)
    assert back.to_dict() == r.to_dict()
    assert [t.direction for t in back.tasks] == ["de→en", "de→{de,en}"]
    assert back.find("retrieval", query_lang="de")[0].scores == {"ndcg@10": 0.5}
    assert back.find(doc_lang=None)[0].suite == "mixed-pool"
    assert json.loads(path.read_text())["schema_version"] == "1.0"


def test_nan_scores_are_refused(tmp_path: Path) -> None:
    r = _result()
    r.tasks[0].scores["ndcg@10"] = float("nan")
    with pytest.raises(ValueError):
        r.save(tmp_path / "results.json")
    assert not (tmp_path / "results.json").exists()


def test_bad_files(tmp_path: Path) -> None:
    with pytest.raises(DataFormatError, match="results file not found"):
        load_results(tmp_path)
    (tmp_path / "results.json").write_text("{not json")
    with pytest.raises(DataFormatError, match="not valid JSON"):
        load_results(tmp_path)
    d = _result().to_dict()
    d["schema_version"] = "2.0"
    (tmp_path / "results.json").write_text(json.dumps(d))
    with pytest.raises(DataFormatError, match=r"schema version '2\.0'"):
        load_results(tmp_path)
    d = _result().to_dict()
    del d["tasks"][0]["scores"]
    (tmp_path / "results.json").write_text(json.dumps(d))
    with pytest.raises(DataFormatError, match=r"tasks\[0\]"):
        load_results(tmp_path)


def test_main_score_must_exist() -> None:
    with pytest.raises(DataFormatError, match="main_score"):
        TaskScore("retrieval", "lo", "de", "en", {}, 1, "ndcg@10", {"mrr@10": 1.0})


def test_mixed_pools_of_different_languages_are_different_units() -> None:
    a = TaskScore("mixed-pool", "lo", "en", None, {"de": 3, "en": 3}, 2, "complete@10", {"complete@10": 0.5})
    b = TaskScore("mixed-pool", "lo", "en", None, {"en": 3, "zh-CN": 3}, 2, "complete@10", {"complete@10": 0.7})
    assert a.key != b.key


def test_unique_labels_number_repeats_folder_safely() -> None:
    from crossalign.evaluation.results import unique_labels

    assert unique_labels(["base", "clear", "base", "base"]) == ["base", "clear", "base-2", "base-3"]
    assert unique_labels([]) == []
