"""BaseAnchorLoss: value and gradient against a hand computation, weight 0, the cached variant, sharing, errors."""

from __future__ import annotations

import pytest
import torch
from losses_testkit import load_tiny_model, make_features, random_texts, trainable_gradients
from reference_math import rows

from crossalign.errors import ConfigError
from crossalign.losses import BaseAnchorLoss, CachedCLEARLoss, CLEARLoss, InfoNCELoss
from crossalign.losses.base_anchor import frozen_copy

BATCH = 5


def _clear_columns(rng) -> dict[str, list[str]]:
    return {
        "anchor": random_texts(BATCH, rng),
        "positive": random_texts(BATCH, rng, 4, 10),
        "negative_1": random_texts(BATCH, rng, 4, 10),
        "cross_anchor": random_texts(BATCH, rng),
        "neg_query_1": random_texts(BATCH, rng),
    }


def _drift(model, seed: int = 0, size: float = 0.05) -> None:
    """Move the student away from the base copy, so the term and its gradient are not zero."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in model.parameters():
            if parameter.requires_grad:
                parameter.add_(size * torch.randn(parameter.shape, generator=generator, dtype=parameter.dtype))


def _backward(loss, model, columns):
    model.zero_grad(set_to_none=True)
    out = loss(make_features(model, columns), None)
    total = torch.stack(list(out.values())).sum()  # what the trainer does with a dict
    total.backward()
    return {k: v.item() for k, v in out.items()}, trainable_gradients(model)


def test_value_and_gradient_equal_a_hand_computation(tiny_model_dir, rng):
    model = load_tiny_model(tiny_model_dir).to(torch.float64)
    weight = 0.7
    columns = {"anchor": random_texts(BATCH, rng), "positive": random_texts(BATCH, rng, 4, 9)}
    loss = BaseAnchorLoss(model, InfoNCELoss(model), weight=weight)
    base = loss.base_model
    _drift(model)
    components, grads = _backward(loss, model, columns)
    assert set(components) == {"task", "base_anchor"}

    # By hand: the task loss alone, plus the term from explicit rows; its gradient w.r.t. each student embedding is
    # 2·w/N·(s_i − b_i), chained into the parameters by one backward of the embeddings.
    model.zero_grad(set_to_none=True)
    task = InfoNCELoss(model)(make_features(model, columns), None)
    students = [model(f)["sentence_embedding"] for f in make_features(model, columns)]
    with torch.no_grad():
        targets = [base(f)["sentence_embedding"] for f in make_features(model, columns)]
    n = sum(s.size(0) for s in students)
    value = 0.0
    for s, b in zip(students, targets):
        for s_row, b_row in zip(rows(s), rows(b)):
            value += sum((x - y) ** 2 for x, y in zip(s_row, b_row))
    value *= weight / n
    assert components["base_anchor"] == pytest.approx(value, rel=1e-10)
    assert value > 1e-4  # the drift made the term non-trivial
    assert components["task"] == pytest.approx(task.item(), rel=1e-12)
    upstream = [2 * weight / n * (s.detach() - b) for s, b in zip(students, targets)]
    torch.autograd.backward([task, *students], [torch.ones_like(task), *upstream])
    expected = trainable_gradients(model)
    for name, grad in grads.items():
        torch.testing.assert_close(grad, expected[name], rtol=1e-9, atol=1e-12, msg=name)


def test_base_copy_is_frozen_in_eval_mode_and_unchanged_by_training(tiny_model, rng):
    loss = BaseAnchorLoss(tiny_model, InfoNCELoss(tiny_model), weight=1.0)
    before = {k: v.clone() for k, v in loss.base_model.state_dict().items()}
    loss.train()
    assert not loss.base_model.training
    assert all(not p.requires_grad for p in loss.base_model.parameters())
    optimizer = torch.optim.SGD([p for p in loss.parameters() if p.requires_grad], lr=0.5)
    columns = {"anchor": random_texts(BATCH, rng), "positive": random_texts(BATCH, rng)}
    out = loss(make_features(tiny_model, columns), None)
    torch.stack(list(out.values())).sum().backward()
    optimizer.step()
    after = loss.base_model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert any(not torch.equal(a, b) for a, b in zip(tiny_model.parameters(), loss.base_model.parameters()))


def test_frozen_parameters_are_shared_not_copied(tiny_model):
    embeddings = tiny_model[0].auto_model.embeddings.word_embeddings.weight
    embeddings.requires_grad_(False)
    base, shared = frozen_copy(tiny_model)
    assert base[0].auto_model.embeddings.word_embeddings.weight is embeddings
    assert shared == [embeddings]
    query = base[0].auto_model.encoder.layer[0].attention.self.query.weight
    assert query is not tiny_model[0].auto_model.encoder.layer[0].attention.self.query.weight
    assert torch.equal(query, tiny_model[0].auto_model.encoder.layer[0].attention.self.query.weight)


def test_unfreezing_a_shared_parameter_is_an_error(tiny_model, rng):
    embeddings = tiny_model[0].auto_model.embeddings.word_embeddings.weight
    embeddings.requires_grad_(False)
    loss = BaseAnchorLoss(tiny_model, InfoNCELoss(tiny_model))
    embeddings.requires_grad_(True)
    columns = {"anchor": random_texts(2, rng), "positive": random_texts(2, rng)}
    with pytest.raises(ConfigError, match="unfrozen"):
        loss(make_features(tiny_model, columns), None)


@pytest.mark.parametrize("cached", [False, True])
def test_weight_zero_is_the_wrapped_loss_exactly(tiny_model_dir, rng, cached):
    columns = _clear_columns(rng)
    model = load_tiny_model(tiny_model_dir)
    inner = CachedCLEARLoss(model, mini_batch_size=2) if cached else CLEARLoss(model)
    inner_components, inner_grads = _backward(inner, model, columns)
    wrapped = BaseAnchorLoss(model, inner, weight=0.0)
    calls = []
    wrapped.base_model.register_forward_hook(lambda *args: calls.append(1))
    wrapped_components, wrapped_grads = _backward(wrapped, model, columns)
    assert wrapped_components == inner_components  # the same floats, the same keys
    assert calls == []  # the base model never ran
    for name, grad in inner_grads.items():
        assert torch.equal(grad, wrapped_grads[name]), name


@pytest.mark.parametrize("mini_batch_size", [2, 5])
def test_cached_variant_equals_the_plain_one(tiny_model_dir, rng, mini_batch_size):
    columns = _clear_columns(rng)
    model = load_tiny_model(tiny_model_dir).to(torch.float64)
    plain = BaseAnchorLoss(model, CLEARLoss(model), weight=2.0)
    cached = BaseAnchorLoss(model, CachedCLEARLoss(model, mini_batch_size=mini_batch_size), weight=2.0)
    assert cached.uses_gradient_cache and not plain.uses_gradient_cache
    base = plain.base_model
    cached.base_model = base  # the same target for both
    _drift(model, seed=3)
    for loss in (plain, cached):
        loss.validate_columns(list(columns))
    plain_components, plain_grads = _backward(plain, model, columns)
    cached_components, cached_grads = _backward(cached, model, columns)
    assert set(plain_components) == set(cached_components) == {"forward", "reverse", "kl", "base_anchor"}
    assert plain_components["base_anchor"] > 1e-4
    for key, value in plain_components.items():
        assert cached_components[key] == pytest.approx(value, rel=1e-9), key
    for name, grad in plain_grads.items():
        torch.testing.assert_close(cached_grads[name], grad, rtol=1e-7, atol=1e-10, msg=name)


def test_single_tensor_cached_loss_reports_the_term_apart(tiny_model_dir, rng):
    """sentence-transformers' own GradCache loss returns one tensor: its value is split into task + base_anchor."""
    from sentence_transformers.sentence_transformer.losses import (
        CachedMultipleNegativesRankingLoss,
        MultipleNegativesRankingLoss,
    )

    columns = {"anchor": random_texts(BATCH, rng), "positive": random_texts(BATCH, rng, 4, 9)}
    model = load_tiny_model(tiny_model_dir).to(torch.float64)
    plain = BaseAnchorLoss(model, MultipleNegativesRankingLoss(model), weight=1.5)
    cached = BaseAnchorLoss(model, CachedMultipleNegativesRankingLoss(model, mini_batch_size=2), weight=1.5)
    cached.base_model = plain.base_model
    _drift(model, seed=5)
    plain_components, plain_grads = _backward(plain, model, columns)
    cached_components, cached_grads = _backward(cached, model, columns)
    for key in ("task", "base_anchor"):
        assert cached_components[key] == pytest.approx(plain_components[key], rel=1e-9), key
    for name, grad in plain_grads.items():
        torch.testing.assert_close(cached_grads[name], grad, rtol=1e-7, atol=1e-10, msg=name)


def test_columns_config_and_citation_come_from_the_wrapped_loss(tiny_model):
    loss = BaseAnchorLoss(tiny_model, CLEARLoss(tiny_model, alpha=0.3), weight=0.5)
    columns = ["anchor", "positive", "negative_1", "cross_anchor", "neg_query_1"]
    assert loss.validate_columns(columns) == columns
    assert loss.columns == columns
    with pytest.raises(Exception, match="cross_anchor"):
        loss.validate_columns(["anchor", "positive"])
    config = loss.get_config_dict()
    assert config["loss"] == "CLEARLoss" and config["weight"] == 0.5 and config["loss_config"]["alpha"] == 0.3
    assert "lee2026clear" in loss.citation and "reimers-2020" in loss.citation and "li2018explicit" in loss.citation


@pytest.mark.parametrize("weight", [-1.0, float("nan"), True, "1"])
def test_bad_weight_is_rejected_before_any_copy(tiny_model, weight):
    with pytest.raises(ConfigError, match="weight"):
        BaseAnchorLoss(tiny_model, InfoNCELoss(tiny_model), weight=weight)
