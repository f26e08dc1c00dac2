"""Retrieval metrics: exact agreement with pytrec-eval-terrier (trec_eval) on runs with ties and graded judgments."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crossalign.errors import ConfigError, DataFormatError
from crossalign.evaluation.metrics import parse_metric
from crossalign.evaluation.metrics.retrieval import (
    Run,
    average_precision,
    dcg,
    evaluate_run,
    ndcg,
    precision,
    rank_documents,
    read_trec_run,
    recall,
    reciprocal_rank,
    success,
    write_trec_run,
)

pytrec_eval = pytest.importorskip("pytrec_eval")

METRICS = [
    "ndcg@1", "ndcg@3", "ndcg@5", "ndcg@10", "ndcg@100", "ndcg",
    "recall@1", "recall@5", "recall@10", "recall@100",
    "precision@1", "precision@5", "precision@10",
    "mrr", "map", "map@1", "map@5", "map@10",
    "success@1", "success@3", "success@10",
]  # fmt: skip


def random_case(seed: int, n_queries: int = 40) -> tuple[dict, dict]:
    """Runs with heavy score ties (5 levels) and graded qrels (-1..3), overlapping partially."""
    rng = np.random.default_rng(seed)
    run: dict[str, dict[str, float]] = {}
    qrels: dict[str, dict[str, int]] = {}
    for q in range(n_queries):
        qid = f"q{q}"
        n_docs = int(rng.integers(1, 60))
        docs = rng.choice(120, n_docs, replace=False)
        run[qid] = {f"d{int(d)}": float(rng.integers(0, 5)) / 4 for d in docs}
        judged = rng.choice(120, int(rng.integers(1, 25)), replace=False)
        qrels[qid] = {f"d{int(d)}": int(rng.integers(-1, 4)) for d in judged}
    return run, qrels


def trec(qrels: dict, run: dict, measures: set[str], relevance_level: int = 1) -> dict:
    return pytrec_eval.RelevanceEvaluator(qrels, measures, relevance_level=relevance_level).evaluate(run)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("relevance_level", [1, 2])
def test_agrees_with_pytrec_eval(seed: int, relevance_level: int) -> None:
    run, qrels = random_case(seed)
    ours = evaluate_run(run, qrels, METRICS, relevance_level=relevance_level, no_relevant="zero", missing="skip")
    measures = {parse_metric(m).trec_measure for m in METRICS}
    ref = trec(qrels, run, measures, relevance_level)
    assert set(ours.per_query) == set(ref)
    for qid, values in ref.items():
        for m in METRICS:
            t = values[parse_metric(m).trec_measure]
            assert abs(ours.per_query[qid][m] - t) <= 1e-9, (qid, m, ours.per_query[qid][m], t)
    for m in METRICS:
        mean = np.mean([v[parse_metric(m).trec_measure] for v in ref.values()])
        assert abs(ours.mean[m] - mean) <= 1e-9


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("k", [1, 3, 10])
def test_mrr_at_k_is_recip_rank_of_the_truncated_run(seed: int, k: int) -> None:
    run, qrels = random_case(100 + seed)
    ours = evaluate_run(run, qrels, [f"mrr@{k}"], no_relevant="zero")
    ref = trec(qrels, Run(run).truncate(k).to_dict(), {"recip_rank"})
    for qid, values in ref.items():
        assert abs(ours.per_query[qid][f"mrr@{k}"] - values["recip_rank"]) <= 1e-9


def test_tie_rule_is_doc_id_descending_like_trec_eval() -> None:
    run = {"q": {"a": 1.0, "c": 1.0, "b": 1.0, "z": 0.5}}
    assert [d for d, _ in rank_documents(run["q"])] == ["c", "b", "a", "z"]
    for relevant in "abc":
        qrels = {"q": {relevant: 1}}
        ours = evaluate_run(run, qrels, ["mrr"]).mean["mrr"]
        assert ours == trec(qrels, run, {"recip_rank"})["q"]["recip_rank"] == 1 / (3 - "abc".index(relevant))


def test_hand_computed_values() -> None:
    # ranked grades 0, 2, 1, 0; judged grades {2, 1, 3 (not retrieved)}
    rel = np.array([[0.0, 2.0, 1.0, 0.0]])
    ideal = np.array([[3.0, 2.0, 1.0]])
    dcg3 = 2 / math.log2(3) + 1 / 2
    idcg3 = 3 + 2 / math.log2(3) + 1 / 2
    assert dcg(rel, 3)[0] == pytest.approx(dcg3)
    assert ndcg(rel, ideal, 3)[0] == pytest.approx(dcg3 / idcg3)
    assert recall(rel, [3], 3)[0] == pytest.approx(2 / 3)
    assert precision(rel, 10)[0] == pytest.approx(0.2)  # divides by k even past the run's end
    assert reciprocal_rank(rel)[0] == 0.5
    assert reciprocal_rank(rel, 1)[0] == 0.0
    assert average_precision(rel, [3])[0] == pytest.approx((1 / 2 + 2 / 3) / 3)
    assert average_precision(rel, [3], 2)[0] == pytest.approx((1 / 2) / 3)  # denominator R = 3, not min(k, R)
    assert success(rel, 1)[0] == 0.0 and success(rel, 2)[0] == 1.0
    assert recall(rel, [3], relevance_level=2)[0] == pytest.approx(1 / 3)
    # no relevant documents: every metric 0, as in trec_eval
    zero = np.zeros((1, 3))
    assert ndcg(zero, zero)[0] == recall(zero, [0])[0] == average_precision(zero, [0])[0] == 0.0


def test_query_policies_are_applied_and_counted() -> None:
    run = {"a": {"d1": 1.0}, "b": {"d1": 1.0}, "extra": {"d1": 1.0}}
    qrels = {"a": {"d1": 1}, "b": {"d1": 0}, "missing": {"d1": 1}}
    ev = evaluate_run(run, qrels, ["ndcg@10"])
    assert ev.per_query == {"a": {"ndcg@10": 1.0}, "missing": {"ndcg@10": 0.0}}
    assert ev.mean["ndcg@10"] == 0.5 and ev.n_queries == 2
    assert ev.no_relevant == ["b"] and ev.missing_from_run == ["missing"] and ev.not_in_qrels == ["extra"]
    trec_like = evaluate_run(run, qrels, ["ndcg@10"], no_relevant="zero", missing="skip")
    assert trec_like.per_query == {"a": {"ndcg@10": 1.0}, "b": {"ndcg@10": 0.0}}
    ref = trec(qrels, run, {"ndcg_cut_10"})
    assert {q: v["ndcg_cut_10"] for q, v in ref.items()} == {"a": 1.0, "b": 0.0}
    d = ev.to_dict()
    assert d["n_no_relevant"] == 1 and d["n_missing_from_run"] == 1 and d["n_not_in_qrels"] == 1
    empty = evaluate_run({}, {"b": {"d": 0}}, ["map"])
    assert empty.n_queries == 0 and math.isnan(empty.mean["map"])


def test_metric_name_errors() -> None:
    with pytest.raises(ConfigError, match="unknown metric"):
        evaluate_run({}, {}, ["ndgc@10"])
    with pytest.raises(ConfigError, match="mixed_pool metric"):
        evaluate_run({}, {}, ["complete@10"])
    with pytest.raises(ConfigError, match="needs a cutoff"):
        evaluate_run({}, {}, ["precision"])


def test_nan_scores_are_rejected() -> None:
    with pytest.raises(DataFormatError, match="NaN"):
        evaluate_run({"q": {"d": float("nan")}}, {"q": {"d": 1}}, ["map"])


# --------------------------------------------------------------------------------------------- runs and files
def test_run_from_topk_and_trec_file_round_trip(tmp_path) -> None:
    scores = np.array([[0.5, 0.5, 0.25], [1.0, 0.1, 0.1]], dtype=np.float32)
    indices = np.array([[2, 0, 1], [1, 2, -1]])
    run = Run.from_topk(scores, indices, ["q1", "q2"], ["d0", "d1", "d2"], name="sys")
    assert run["q1"] == {"d2": 0.5, "d0": 0.5, "d1": 0.25}
    assert run["q2"] == {"d1": 1.0, "d2": pytest.approx(0.1)}  # -1 (padding) dropped
    path = tmp_path / "run.trec"
    write_trec_run(run, path)
    lines = path.read_text().splitlines()
    assert lines[0] == "q1 Q0 d2 1 0.5 sys" and lines[1] == "q1 Q0 d0 2 0.5 sys"
    back = read_trec_run(path)
    assert back.name == "sys" and back.to_dict() == run.to_dict()  # scores bit-identical, ties kept


def test_read_trec_run_errors_name_the_line(tmp_path) -> None:
    path = tmp_path / "bad.trec"
    path.write_text("q1 Q0 d1 1 0.5 t\nq1 Q0 d2 2 high t\n")
    with pytest.raises(DataFormatError, match=r"bad.trec:2.*score"):
        read_trec_run(path)
    path.write_text("q1 Q0 d1 1 0.5\n")
    with pytest.raises(DataFormatError, match=r"bad.trec:1.*6 fields"):
        read_trec_run(path)
    path.write_text("q1 Q0 d1 1 0.5 t\nq1 Q0 d1 2 0.4 t\n")
    with pytest.raises(DataFormatError, match="twice"):
        read_trec_run(path)


# --------------------------------------------------------------------------------------------- properties
rel_matrices = st.integers(1, 6).flatmap(
    lambda nq: st.integers(1, 12).flatmap(
        lambda depth: st.lists(st.lists(st.integers(-1, 3), min_size=depth, max_size=depth), min_size=nq, max_size=nq)
    )
)


@settings(max_examples=60, deadline=None)
@given(rel_matrices, st.integers(1, 15), st.integers(0, 5))
def test_metrics_are_in_unit_interval(rows: list[list[int]], k: int, extra: int) -> None:
    rel = np.array(rows, dtype=np.float64)
    # judged grades: the retrieved ones plus `extra` unretrieved relevant ones
    ideal = -np.sort(-np.concatenate([np.maximum(rel, 0), np.full((rel.shape[0], extra), 2.0)], axis=1), axis=1)
    n_rel = (rel >= 1).sum(axis=1) + extra
    for values in (
        ndcg(rel, ideal, k),
        ndcg(rel, ideal),
        recall(rel, n_rel, k),
        precision(rel, k),
        reciprocal_rank(rel, k),
        average_precision(rel, n_rel, k),
        average_precision(rel, n_rel),
        success(rel, k),
    ):
        assert np.all(values >= 0.0) and np.all(values <= 1.0 + 1e-12)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 30))
def test_document_order_in_the_run_does_not_matter(seed: int, n_docs: int) -> None:
    rnd = random.Random(seed)
    scores = rnd.sample(range(1000), n_docs)  # distinct scores
    docs = [f"d{i}" for i in range(n_docs)]
    qrels = {"q": {d: rnd.randint(0, 3) for d in docs if rnd.random() < 0.5} or {"d0": 1}}
    run = {"q": dict(zip(docs, map(float, scores)))}
    shuffled_items = list(run["q"].items())
    rnd.shuffle(shuffled_items)
    metrics = ["ndcg@5", "ndcg", "map", "mrr@3", "recall@5", "precision@3", "success@2"]
    a = evaluate_run(run, qrels, metrics, no_relevant="zero").mean
    b = evaluate_run({"q": dict(shuffled_items)}, qrels, metrics, no_relevant="zero").mean
    assert a == b
