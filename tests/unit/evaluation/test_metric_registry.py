"""Metric-name parsing: ir_measures style, case-insensitive, trec_eval spellings, clear errors."""

from __future__ import annotations

import pytest

from crossalign.errors import ConfigError
from crossalign.evaluation.metrics import available_metrics, lower_is_better, parse_metric, parse_metrics, score_info


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
        ("xSIM", "xsim_error", None),
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


@pytest.mark.parametrize(
    ("key", "label", "lower", "ratio", "per_query", "neutral"),
    [
        ("ndcg@10", "nDCG@10", False, True, True, False),
        ("recall@100", "Recall@100", False, True, True, False),
        ("complete@10", "Complete@10", False, True, True, False),
        ("max_rank_mean", "Max@R mean", True, False, True, False),
        ("max_rank_median", "Max@R median", True, False, True, False),
        ("min_rank_median", "Min@R median", True, False, True, False),
        ("pivot_first@1", "EnglishFirst@1", True, True, True, False),
        ("pivot_first_wrong@1", "EnglishFirst wrong@1", True, True, True, False),
        ("pivot_above_gold_mean", "English above gold", True, False, True, False),
        ("lang_share@10:en", "en share of top 10", False, True, True, True),
        ("p@1_src2tgt", "P@1 src→tgt", False, True, True, False),
        ("p@1_tgt2src", "P@1 tgt→src", False, True, True, False),
        ("xsim_error", "xSIM error", True, True, True, False),
        ("xsim_absolute", "xSIM error (cosine)", True, True, True, False),
        ("bucc_f1", "BUCC F1", False, True, False, False),
        ("bucc_threshold", "BUCC threshold", False, False, False, True),
        ("spearman", "Spearman", False, True, False, False),
        ("pearson", "Pearson", False, True, False, False),
    ],
)
def test_score_facts_come_from_the_registry(key, label, lower, ratio, per_query, neutral) -> None:
    info = score_info(key)
    assert info.info is not None
    assert (info.label(), info.lower_is_better, info.ratio, info.per_query, info.neutral) == (
        label,
        lower,
        ratio,
        per_query,
        neutral,
    )


def test_unknown_score_keys_get_the_defaults_and_the_pivot_names_labels() -> None:
    info = score_info("my_custom_score")
    assert info.info is None and info.label() == "my_custom_score"
    assert (info.lower_is_better, info.ratio, info.per_query, info.neutral) == (False, True, True, False)
    assert score_info("pivot_first@1").label(pivot="fr") == "frFirst@1"
    assert score_info("pivot_above_gold_mean").label(pivot="de") == "de above gold"
    assert not lower_is_better("ndcg@10") and lower_is_better("max_rank_median")


def test_every_suite_column_is_a_registered_score() -> None:
    """The suites' table columns name scores the registry knows (label, direction, scale come from it)."""
    from crossalign.evaluation.metrics import SUITE_COLUMNS
    from crossalign.reports.tables import BITEXT_COLUMNS

    assert SUITE_COLUMNS["bitext"] == BITEXT_COLUMNS
    for suite, columns in SUITE_COLUMNS.items():
        for key in columns:
            assert score_info(key).info is not None, (suite, key)
