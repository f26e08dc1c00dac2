"""The method registry: names, columns, parameters, errors."""

from __future__ import annotations

import inspect

import pytest
import torch

from crossalign.errors import ConfigError
from crossalign.losses import (
    LOSSES,
    AdditiveMarginRankingLoss,
    CachedCLEARLoss,
    CLEARLoss,
    InfoNCELoss,
    JSDAlignmentLoss,
    MultilingualDistillationLoss,
    MultiWayContrastiveLoss,
    SymmetricInfoNCELoss,
    build_loss,
    get_spec,
)

EXPECTED_TYPES = {
    "clear": CLEARLoss,
    "jsd": JSDAlignmentLoss,
    "multiway": MultiWayContrastiveLoss,
    "en-x": MultiWayContrastiveLoss,
    "infonce": InfoNCELoss,
    "symmetric": SymmetricInfoNCELoss,
    "distill": MultilingualDistillationLoss,
    "labse": AdditiveMarginRankingLoss,
}

#: A dataset's text columns for each method, in order, as the spec describes them.
EXAMPLE_COLUMNS = {
    "clear": ["anchor", "positive", "negative_1", "cross_anchor", "neg_query_1"],
    "jsd": ["query", "positive", "query_en", "positive_x"],
    "multiway": ["en", "de", "fr"],
    "en-x": ["en", "x"],
    "infonce": ["anchor", "positive", "negative_1"],
    "symmetric": ["anchor", "positive"],
    "distill": ["source", "target", "label"],
    "labse": ["source", "target"],
}


def test_registry_has_the_methods():
    assert set(LOSSES) == set(EXPECTED_TYPES)


@pytest.mark.parametrize("method", sorted(EXPECTED_TYPES))
def test_build_every_method_and_validate_its_example_columns(tiny_model, method):
    spec = get_spec(method)
    loss = build_loss(method, tiny_model)
    assert type(loss) is EXPECTED_TYPES[method]
    assert spec.description and spec.citation.strip().startswith("@")
    assert loss.citation.strip().startswith("@")
    columns = EXAMPLE_COLUMNS[method]
    text = [c for c in columns if c != spec.labels]
    assert loss.validate_columns(columns) == text
    # The spec's required columns are a prefix-respecting subset of a valid layout.
    fixed = [c for c in spec.required_columns if not c.startswith("<")]
    assert all(c in text for c in fixed)
    # get_config_dict covers every constructor parameter except the model (and the cached-only knobs).
    config = loss.get_config_dict()
    parameters = [p for p in inspect.signature(type(loss).__init__).parameters if p not in ("self", "model")]
    missing = [p for p in parameters if p not in config]
    assert not missing, missing


def test_clear_mini_batch_size_selects_the_cached_loss(tiny_model):
    loss = build_loss("clear", tiny_model, mini_batch_size=16, alpha=0.3, beta=0.1)
    assert isinstance(loss, CachedCLEARLoss)
    assert loss.get_config_dict()["mini_batch_size"] == 16
    assert (loss.alpha, loss.beta) == (0.3, 0.1)
    with pytest.raises(ConfigError, match="needs mini_batch_size"):
        build_loss("clear", tiny_model, mini_batch_num_tokens=100)


def test_en_x_requires_en_and_x(tiny_model):
    loss = build_loss("en-x", tiny_model)
    assert loss.mode == "pairwise"
    assert get_spec("en-x").required_columns == ("en", "x")


def test_unknown_method_lists_the_valid_ones():
    with pytest.raises(ConfigError, match="unknown training method 'clearr'") as error:
        build_loss("clearr", torch.nn.Identity())
    assert "clear, jsd, multiway, en-x, infonce, symmetric, distill" in error.value.hint


def test_unknown_parameter_lists_the_valid_ones(tiny_model):
    with pytest.raises(ConfigError, match="unknown parameter\\(s\\) lambda_") as error:
        build_loss("jsd", tiny_model, lambda_=0.5)
    assert "jsd_weight" in error.value.hint and "jsd_mode" in error.value.hint
    assert "alpha" in get_spec("clear").parameters and "mini_batch_size" in get_spec("clear").parameters


def test_invalid_values_surface_as_config_errors(tiny_model):
    with pytest.raises(ConfigError, match="alpha \\+ beta"):
        build_loss("clear", tiny_model, alpha=0.9, beta=0.9)
    with pytest.raises(ConfigError, match=r"hardness_mode must be one of"):
        build_loss("infonce", tiny_model, hardness_mode="bogus")


def test_clear_takes_the_cached_loss_parameters():
    assert get_spec("clear").parameters == tuple(inspect.signature(CachedCLEARLoss).parameters)[1:]
    assert get_spec("en-x").parameters == ("scale", "similarity_fct", "gather_across_devices")


@pytest.mark.parametrize("method", ["clear", "jsd", "multiway", "en-x", "infonce", "symmetric", "labse"])
def test_similarity_fct_none_means_the_loss_default(tiny_model, method):
    loss = build_loss(method, tiny_model, similarity_fct=None, scale=10.0)
    assert loss.get_config_dict()["similarity_fct"] == "cos_sim"
    assert loss.temperature == pytest.approx(0.1)


def test_symmetric_shares_the_infonce_columns_but_not_its_name_or_loss():
    infonce, symmetric = get_spec("infonce"), get_spec("symmetric")
    assert symmetric.required_columns == infonce.required_columns == ("anchor", "positive")
    assert symmetric.query_columns == ("anchor",) and symmetric.data_formats == ("infonce",)
    assert (symmetric.name, symmetric.factory) == ("symmetric", SymmetricInfoNCELoss)
    assert symmetric.description != infonce.description
