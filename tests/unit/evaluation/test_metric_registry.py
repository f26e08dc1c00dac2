"""Metric-name parsing: ir_measures style, case-insensitive, trec_eval spellings, clear errors."""

from __future__ import annotations

import pytest

from crossalign.errors import ConfigError
from crossalign.evaluation.metrics import available_metrics, parse_metric, parse_metrics


@pytest.mark.parametrize(
    ("text", "key", "trec"),
    [
        ("nDCG@10", "ndcg@10", "ndcg_cut_10"),
        ("ndcg_cut_10", "ndcg@10", "ndcg_cut_10"),
        ("NDCG", "ndcg", "ndcg"),
        ("R@100", "recall@100", "recall_100"),
        ("recall_5", "recall@5", "recall_5"),
        ("P@10", "precision@10", "P_10"),
        ("P_5", "precision@5", "P_5"),
        ("MRR@10", "mrr@10", None),
        ("recip_rank", "mrr", "recip_rank"),
        ("RR", "mrr", "recip_rank"),
        ("MAP", "map", "map"),
        ("AP@100", "map@100", "map_cut_100"),
        ("map_cut_100", "map@100", "map_cut_100"),
        ("Success@1", "success@1", "success_1"),
        ("success_10", "success@10", "success_10"),
        ("Max@R", "max_rank", None),
        ("Complete@10", "complete@10", None),
        ("EnglishFirst@1", "pivot_first@1", None),
        ("xSIM", "xsim", None),
        ("bucc_f1", "bucc_f1", None),
        ("Spearman", "spearman", None),
    ],
)
def test_parse(text: str, key: str, trec: str | None) -> None:
    spec = parse_metric(text)
    assert spec.key == key
    assert spec.trec_measure == trec


def test_errors_list_the_valid_names() -> None:
    with pytest.raises(ConfigError) as err:
        parse_metric("nDGC@10")
    assert "unknown metric 'nDGC@10'" in str(err.value) and "ndcg[@k]" in str(err.value)
    with pytest.raises(ConfigError, match="needs a cutoff"):
        parse_metric("success")
    with pytest.raises(ConfigError, match="takes no cutoff"):
        parse_metric("xsim@5")
    with pytest.raises(ConfigError, match="cutoffs must be >= 1"):
        parse_metric("ndcg@0")
    with pytest.raises(ConfigError, match="not a retrieval metric"):
        parse_metric("Complete@10", kind="retrieval")
    with pytest.raises(ConfigError, match="no metric"):
        parse_metrics("")


def test_lists_and_listing() -> None:
    assert [s.key for s in parse_metrics("ndcg@10, R@100,mrr@10")] == ["ndcg@10", "recall@100", "mrr@10"]
    expected = ["ndcg[@k]", "recall[@k]", "precision@k", "mrr[@k]", "map[@k]", "success@k"]
    assert available_metrics("retrieval") == expected
