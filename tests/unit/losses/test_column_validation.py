"""Columns validated by name; hyper-parameters validated eagerly with actionable errors."""

from __future__ import annotations

import logging

import pytest
import torch
from datasets import Dataset

from crossalign.errors import ConfigError, DataFormatError
from crossalign.losses import CLEARLoss, InfoNCELoss, JSDAlignmentLoss, MultilingualDistillationLoss
from crossalign.losses._common import strip_foreign_keys

CLEAR_COLUMNS = ["anchor", "positive", "negative_1", "negative_2", "cross_anchor", "neg_query_1", "neg_query_2"]


def _clear(**kwargs) -> CLEARLoss:
    return CLEARLoss(torch.nn.Identity(), **kwargs)


def test_clear_accepts_the_documented_order_and_binds_the_layout():
    loss = _clear()
    assert loss.validate_columns(CLEAR_COLUMNS) == CLEAR_COLUMNS
    assert (loss.num_negatives, loss.num_query_negatives) == (2, 2)
    assert CLEARLoss.expected_columns(2) == CLEAR_COLUMNS
    # No hard negatives at all is valid too.
    assert _clear().validate_columns(["anchor", "positive", "cross_anchor"]) == ["anchor", "positive", "cross_anchor"]


@pytest.mark.parametrize(
    ("columns", "message", "field"),
    [
        (["anchor", "positive", "negative_1", "neg_query_1"], "'cross_anchor' is missing", "cross_anchor"),
        (["anchr", "positive", "cross_anchor"], "is 'anchr' meant to be it", "anchor"),
        (["anchor", "positive", "cross_anchor", "query_en"], "unexpected column 'query_en'", "query_en"),
        (["anchor", "positive", "negatives_1", "cross_anchor", "neg_query_1"], "did you mean 'negative_1'", None),
        (["anchor", "positive", "negative_1", "negative_3", "cross_anchor"], "not numbered 1..3", "negative_2"),
        (["anchor", "positive", "negative_01", "cross_anchor", "neg_query_1"], "no leading zeros", "negative_01"),
    ],
)
def test_clear_rejects_missing_misnamed_and_extra_columns(columns, message, field):
    with pytest.raises(DataFormatError, match=message) as error:
        _clear(use_kl=False).validate_columns(columns)
    if field is not None:
        assert error.value.field == field
    assert error.value.hint


def test_clear_rejects_reordered_columns_and_says_how_to_fix():
    reordered = ["anchor", "cross_anchor", "positive", "negative_1", "negative_2", "neg_query_1", "neg_query_2"]
    with pytest.raises(DataFormatError, match="wrong order: position 1 holds 'cross_anchor'") as error:
        _clear().validate_columns(reordered)
    assert "select_columns" in error.value.hint and "'positive'" in error.value.hint
    # The same mistake is fixed by select_columns.
    dataset = Dataset.from_dict({name: ["w1"] for name in reordered})
    loss = _clear()
    fixed = loss.select_columns(dataset)
    assert fixed.column_names == CLEAR_COLUMNS
    assert loss.columns == CLEAR_COLUMNS


def test_clear_unequal_negative_counts_need_kl_off():
    columns = ["anchor", "positive", "negative_1", "negative_2", "cross_anchor", "neg_query_1"]
    with pytest.raises(DataFormatError, match="as many neg_query_\\* as negative_\\*") as error:
        _clear(use_kl=True).validate_columns(columns)
    assert "use_kl=False" in error.value.hint
    loss = _clear(use_kl=False)
    assert loss.validate_columns(columns) == columns
    assert (loss.num_negatives, loss.num_query_negatives) == (2, 1)
    with pytest.raises(ConfigError, match="as many query negatives"):
        _clear(use_kl=True, num_negatives=2, num_query_negatives=1)


def test_clear_label_and_dataset_name_columns_do_not_count(caplog):
    columns = ["anchor", "positive", "label", "cross_anchor", "dataset_name"]
    with caplog.at_level(logging.WARNING):
        assert _clear().validate_columns(columns) == ["anchor", "positive", "cross_anchor"]
    assert "takes no labels" in caplog.text


def test_clear_forward_checks_the_batch_against_the_validated_layout():
    loss = _clear()
    loss.validate_columns(CLEAR_COLUMNS)
    with pytest.raises(ValueError, match="expects 7 columns"):
        loss.compute_loss_from_embeddings([torch.randn(2, 4)] * 5)
    built = _clear(num_negatives=1)
    with pytest.raises(DataFormatError, match="built for 1 negative_"):
        built.validate_columns(CLEAR_COLUMNS)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"alpha": 0.7, "beta": 0.4}, "alpha \\+ beta must be <= 1"),
        ({"alpha": -0.1}, "alpha must be non-negative"),
        ({"beta": -0.2}, "beta must be non-negative"),
        ({"alpha": 1.2, "use_kl": False}, "alpha must be <= 1 without KL"),
        ({"scale": 0.0}, "scale must be a positive number"),
        ({"scale": float("nan")}, "scale must be a positive number"),
        ({"alpha": "0.4"}, "alpha must be a number"),
        ({"use_kl": 1}, "use_kl must be True or False"),
        ({"num_negatives": -1}, "num_negatives must be a non-negative integer"),
        ({"similarity_fct": "cos"}, "similarity_fct must be callable"),
    ],
)
def test_clear_rejects_bad_hyperparameters(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        _clear(**kwargs)


def test_alpha_plus_beta_equal_to_one_is_allowed():
    assert _clear(alpha=0.5, beta=0.5).weights == pytest.approx({"forward": 0.0, "reverse": 0.5, "kl": 0.5})


def test_jsd_columns():
    loss = JSDAlignmentLoss(torch.nn.Identity())
    assert loss.validate_columns(["query", "positive", "query_en", "positive_x"]) == [
        "query",
        "positive",
        "query_en",
        "positive_x",
    ]
    assert loss.multi_reference is True
    with pytest.raises(DataFormatError, match="'query_en' is missing"):
        JSDAlignmentLoss(torch.nn.Identity()).validate_columns(["query", "positive"])
    with pytest.raises(DataFormatError, match="wrong order"):
        JSDAlignmentLoss(torch.nn.Identity()).validate_columns(["query", "query_en", "positive"])
    with pytest.raises(DataFormatError, match="unexpected column 'anchor'"):
        JSDAlignmentLoss(torch.nn.Identity()).validate_columns(["query", "positive", "query_en", "anchor"])
    with pytest.raises(DataFormatError, match="multi_reference=True"):
        JSDAlignmentLoss(torch.nn.Identity(), multi_reference=True).validate_columns(["query", "positive", "query_en"])


def test_infonce_rejects_an_extra_parallel_column_that_mnrl_would_take_as_a_negative():
    with pytest.raises(DataFormatError, match="unexpected column 'positive_x'"):
        InfoNCELoss(torch.nn.Identity()).validate_columns(["anchor", "positive", "positive_x"])
    with pytest.raises(ConfigError, match="hardness_strength"):
        InfoNCELoss(torch.nn.Identity(), hardness_mode="hard_negatives", hardness_strength=-1.0)


def test_strip_foreign_keys_only_drops_another_columns_keys():
    ids = torch.ones(2, 3, dtype=torch.long)
    features = {
        "input_ids": ids,
        "attention_mask": ids,
        "modality": "text",
        "en_input_ids": ids,
        "en_attention_mask": ids,
        "en_modality": "text",
        "pixel_attention_mask": ids,  # a model feature that merely ends like one: kept
    }
    assert set(strip_foreign_keys(features)) == {"input_ids", "attention_mask", "modality", "pixel_attention_mask"}
    clean = {"input_ids": ids, "attention_mask": ids}
    assert strip_foreign_keys(clean) is clean


def test_reorder_hint_keeps_the_label_column():
    loss = MultilingualDistillationLoss(torch.nn.Identity())
    with pytest.raises(DataFormatError, match="position 0 holds 'target'") as error:
        loss.validate_columns(["label", "target", "source"])
    assert "['source', 'target', 'label']" in error.value.hint
    dataset = Dataset.from_dict({"label": [[0.0, 1.0]], "target": ["w1"], "source": ["w2"]})
    assert loss.select_columns(dataset).column_names == ["source", "target", "label"]
