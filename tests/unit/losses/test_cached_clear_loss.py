"""CachedCLEARLoss equals CLEARLoss: value, components and the gradient of every parameter."""

from __future__ import annotations

import pytest
import torch
from losses_testkit import embed, load_tiny_model, make_features, random_texts, trainable_gradients
from reference_math import clear_reference

from crossalign.errors import ConfigError
from crossalign.losses import CachedCLEARLoss, CLEARLoss

BATCH = 6


def _columns(rng, n_neg: int = 2, n_qneg: int | None = None) -> dict[str, list[str]]:
    n_qneg = n_neg if n_qneg is None else n_qneg
    columns = {"anchor": random_texts(BATCH, rng), "positive": random_texts(BATCH, rng, 4, 10)}
    columns.update({f"negative_{k}": random_texts(BATCH, rng, 4, 10) for k in range(1, n_neg + 1)})
    columns["cross_anchor"] = random_texts(BATCH, rng)
    columns.update({f"neg_query_{k}": random_texts(BATCH, rng) for k in range(1, n_qneg + 1)})
    return columns


def _loss_and_grads(loss, model, columns):
    model.zero_grad(set_to_none=True)
    out = loss(make_features(model, columns), None)
    total = torch.stack(list(out.values())).sum()  # what the trainer does with a dict
    total.backward()
    return {k: v.item() for k, v in out.items()}, total.item(), trainable_gradients(model)


@pytest.mark.parametrize(
    ("mini_batch_size", "use_kl", "n_neg", "n_qneg"),
    [(4, True, 2, 2), (1, True, 1, 1), (4, False, 2, 1)],
)
def test_cached_equals_plain(tiny_model_dir, rng, mini_batch_size, use_kl, n_neg, n_qneg):
    columns = _columns(rng, n_neg, n_qneg)
    # float64, so that the comparison can be tight: in float32 the two orders of summation already differ by ~1e-4
    # relative on gradient entries that are sums of many cancelling terms.
    model = load_tiny_model(tiny_model_dir).to(torch.float64)
    assert model.training
    # Dropout is off: two forwards in train mode give identical embeddings (else GradCache replay would be the only
    # thing making the two losses agree, and this test would not compare like with like).
    with torch.no_grad():
        first = embed(model, make_features(model, columns))
        second = embed(model, make_features(model, columns))
    assert all(torch.equal(a, b) for a, b in zip(first, second))

    kwargs = {"alpha": 0.4, "beta": 0.2, "use_kl": use_kl}
    plain = CLEARLoss(model, **kwargs)
    cached = CachedCLEARLoss(model, mini_batch_size=mini_batch_size, **kwargs)
    for loss in (plain, cached):
        loss.validate_columns(list(columns))

    plain_components, plain_total, plain_grads = _loss_and_grads(plain, model, columns)
    cached_components, cached_total, cached_grads = _loss_and_grads(cached, model, columns)

    # Both equal the hand-computed reference on the model's embeddings.
    fwd, rev, kl = clear_reference(first[0], first[1], first[2 : 2 + n_neg], first[2 + n_neg], first[3 + n_neg :])
    expected = (0.4 * fwd + 0.4 * rev + 0.2 * kl) if use_kl else (0.6 * fwd + 0.4 * rev)
    assert plain_total == pytest.approx(expected, rel=1e-10)
    assert cached_total == pytest.approx(plain_total, rel=1e-10)
    assert cached_components.keys() == plain_components.keys()
    for name in plain_components:
        assert cached_components[name] == pytest.approx(plain_components[name], rel=1e-10, abs=1e-14)

    assert plain_grads.keys() == cached_grads.keys()
    for name, grad in plain_grads.items():
        assert torch.allclose(cached_grads[name], grad, rtol=1e-8, atol=1e-12), name


def test_cached_without_grad_returns_components(tiny_model, rng):
    columns = _columns(rng, 1)
    loss = CachedCLEARLoss(tiny_model, mini_batch_size=4)
    with torch.no_grad():
        out = loss(make_features(tiny_model, columns), None)
        plain = CLEARLoss(tiny_model)(make_features(tiny_model, columns), None)
    assert set(out) == {"forward", "reverse", "kl"}
    for name in out:
        assert out[name].item() == pytest.approx(plain[name].item(), rel=1e-5)


def test_cached_config_has_every_parameter(tiny_model):
    loss = CachedCLEARLoss(
        tiny_model, scale=10.0, alpha=0.3, beta=0.1, use_kl=True, mini_batch_size=8, gather_across_devices=True
    )
    config = loss.get_config_dict()
    assert config == {
        "scale": 10.0,
        "alpha": 0.3,
        "beta": 0.1,
        "use_kl": True,
        "similarity_fct": "cos_sim",
        "gather_across_devices": True,
        "num_negatives": None,
        "num_query_negatives": None,
        "columns": None,
        "mini_batch_size": 8,
        "mini_batch_num_tokens": None,
    }
    assert "2604.05821" in loss.citation and "2101.06983" in loss.citation


@pytest.mark.parametrize("bad", [0, -1, 2.5, True])
def test_cached_rejects_bad_mini_batch_size(tiny_model, bad):
    with pytest.raises(ConfigError, match="mini_batch_size"):
        CachedCLEARLoss(tiny_model, mini_batch_size=bad)
