"""CLEAR (METHODS.md §1) against a hand-computed reference, on embeddings and through a tiny model."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from losses_testkit import embed, make_features, random_texts, trainable_gradients
from reference_math import clear_reference
from sentence_transformers.util import cos_sim

from crossalign.losses import CLEARLoss, clear_components, clear_weights

B, N_NEG, DIM = 3, 2, 6


def _embeddings(generator: torch.Generator, batch: int = B, n_neg: int = N_NEG, n_qneg: int | None = None):
    n_qneg = n_neg if n_qneg is None else n_qneg

    def rand():
        return torch.randn(batch, DIM, generator=generator, dtype=torch.float64)

    return rand(), rand(), [rand() for _ in range(n_neg)], rand(), [rand() for _ in range(n_qneg)]


def test_components_match_hand_computed_reference(generator):
    q_en, d_pos, d_negs, q_x, q_negs = _embeddings(generator)
    got = clear_components(q_en, d_pos, d_negs, q_x, q_negs, scale=20.0, use_kl=True)
    fwd, rev, kl = clear_reference(q_en, d_pos, d_negs, q_x, q_negs, scale=20.0)
    assert set(got) == {"forward", "reverse", "kl"}
    assert got["forward"].item() == pytest.approx(fwd, rel=1e-10)
    assert got["reverse"].item() == pytest.approx(rev, rel=1e-10)
    assert got["kl"].item() == pytest.approx(kl, rel=1e-10)
    # The numbers are not degenerate: every term is clearly positive.
    assert min(fwd, rev, kl) > 1e-3


def test_kl_direction_is_rev_given_fwd_and_matches_the_pytorch_expression(generator):
    q_en, d_pos, d_negs, q_x, q_negs = _embeddings(generator)
    got = clear_components(q_en, d_pos, d_negs, q_x, q_negs)["kl"].item()
    _, _, kl_rev_fwd = clear_reference(q_en, d_pos, d_negs, q_x, q_negs, kl_direction="rev||fwd")
    _, _, kl_fwd_rev = clear_reference(q_en, d_pos, d_negs, q_x, q_negs, kl_direction="fwd||rev")
    assert got == pytest.approx(kl_rev_fwd, rel=1e-10)
    # The swapped direction is a different number, so this test would catch a swap.
    assert abs(kl_fwd_rev - kl_rev_fwd) > 1e-3
    assert got != pytest.approx(kl_fwd_rev, rel=1e-3)
    # METHODS.md's PyTorch expression, literally.
    fwd_logits = 20.0 * cos_sim(q_en, torch.cat([d_pos, *d_negs]))
    rev_logits = 20.0 * cos_sim(d_pos, torch.cat([q_x, *q_negs]))
    literal = F.kl_div(F.log_softmax(fwd_logits, dim=1), F.softmax(rev_logits, dim=1), reduction="batchmean")
    assert got == pytest.approx(literal.item(), rel=1e-10)


def test_weights_with_and_without_kl():
    assert clear_weights(0.4, 0.2, True) == pytest.approx({"forward": 0.4, "reverse": 0.4, "kl": 0.2})
    assert clear_weights(0.4, 0.2, False) == pytest.approx({"forward": 0.6, "reverse": 0.4})
    assert clear_weights(0.3, 0.1, True) == pytest.approx({"forward": 0.6, "reverse": 0.3, "kl": 0.1})


@pytest.mark.parametrize("use_kl", [True, False])
def test_loss_returns_weighted_components_that_sum_to_the_formula(generator, use_kl):
    q_en, d_pos, d_negs, q_x, q_negs = _embeddings(generator)
    loss = CLEARLoss(model=torch.nn.Identity(), alpha=0.3, beta=0.15, use_kl=use_kl)
    out = loss.compute_loss_from_embeddings([q_en, d_pos, *d_negs, q_x, *q_negs])
    fwd, rev, kl = clear_reference(q_en, d_pos, d_negs, q_x, q_negs)
    if use_kl:
        assert set(out) == {"forward", "reverse", "kl"}
        assert out["forward"].item() == pytest.approx((1 - 0.3 - 0.15) * fwd, rel=1e-10)
        assert out["reverse"].item() == pytest.approx(0.3 * rev, rel=1e-10)
        assert out["kl"].item() == pytest.approx(0.15 * kl, rel=1e-10)
        total = (1 - 0.3 - 0.15) * fwd + 0.3 * rev + 0.15 * kl
    else:
        assert set(out) == {"forward", "reverse"}
        assert out["forward"].item() == pytest.approx(0.7 * fwd, rel=1e-10)
        assert out["reverse"].item() == pytest.approx(0.3 * rev, rel=1e-10)
        total = 0.7 * fwd + 0.3 * rev
    assert sum(v.item() for v in out.values()) == pytest.approx(total, rel=1e-10)


def test_no_negatives_and_unequal_negatives_without_kl(generator):
    q_en, d_pos, _, q_x, _ = _embeddings(generator, n_neg=0)
    got = clear_components(q_en, d_pos, [], q_x, [])
    assert [got[k].item() for k in ("forward", "reverse", "kl")] == pytest.approx(
        list(clear_reference(q_en, d_pos, [], q_x, [])), rel=1e-10
    )
    q_en, d_pos, d_negs, q_x, q_negs = _embeddings(generator, n_neg=2, n_qneg=1)
    got = clear_components(q_en, d_pos, d_negs, q_x, q_negs, use_kl=False)
    fwd, rev, _ = clear_reference(q_en, d_pos, d_negs, q_x, q_negs)
    assert "kl" not in got
    assert (got["forward"].item(), got["reverse"].item()) == pytest.approx((fwd, rev), rel=1e-10)
    with pytest.raises(ValueError, match="equal width"):
        clear_components(q_en, d_pos, d_negs, q_x, q_negs, use_kl=True)


def test_kl_has_no_stop_gradient(generator):
    """With alpha = 0 the reverse side (q_x, query negatives) only gets gradient through the KL term."""
    q_en, d_pos, d_negs, q_x, q_negs = _embeddings(generator)
    for t in (q_en, d_pos, q_x, *d_negs, *q_negs):
        t.requires_grad_(True)
    loss = CLEARLoss(model=torch.nn.Identity(), alpha=0.0, beta=0.5)
    out = loss.compute_loss_from_embeddings([q_en, d_pos, *d_negs, q_x, *q_negs])
    assert out["reverse"].item() == 0.0
    sum(out.values()).backward()
    assert q_x.grad is not None and q_x.grad.abs().sum() > 0
    assert all(t.grad.abs().sum() > 0 for t in q_negs)
    assert q_en.grad.abs().sum() > 0


def test_forward_on_tiny_model_matches_reference(tiny_model, rng):
    columns = {
        "anchor": random_texts(4, rng),
        "positive": random_texts(4, rng, 4, 9),
        "negative_1": random_texts(4, rng, 4, 9),
        "negative_2": random_texts(4, rng, 4, 9),
        "cross_anchor": random_texts(4, rng),
        "neg_query_1": random_texts(4, rng),
        "neg_query_2": random_texts(4, rng),
    }
    loss = CLEARLoss(tiny_model)
    loss.validate_columns(list(columns))
    features = make_features(tiny_model, columns)
    out = loss(features, None)
    with torch.no_grad():
        q_en, d_pos, n1, n2, q_x, m1, m2 = embed(tiny_model, make_features(tiny_model, columns))
    fwd, rev, kl = clear_reference(q_en, d_pos, [n1, n2], q_x, [m1, m2])
    assert out["forward"].item() == pytest.approx(0.4 * fwd, rel=1e-5)
    assert out["reverse"].item() == pytest.approx(0.4 * rev, rel=1e-5)
    assert out["kl"].item() == pytest.approx(0.2 * kl, rel=1e-4, abs=1e-7)
    assert fwd > 0.1 and rev > 0.1 and kl > 1e-4
    sum(out.values()).backward()
    trainable_gradients(tiny_model)  # every parameter receives a (non-zero) gradient


def test_forward_without_validation_infers_equal_split(tiny_model, rng):
    columns = {
        "anchor": random_texts(3, rng),
        "positive": random_texts(3, rng),
        "negative_1": random_texts(3, rng),
        "cross_anchor": random_texts(3, rng),
        "neg_query_1": random_texts(3, rng),
    }
    out = CLEARLoss(tiny_model)(make_features(tiny_model, columns), None)
    with torch.no_grad():
        q_en, d_pos, n1, q_x, m1 = embed(tiny_model, make_features(tiny_model, columns))
    fwd, rev, kl = clear_reference(q_en, d_pos, [n1], q_x, [m1])
    assert sum(v.item() for v in out.values()) == pytest.approx(0.4 * fwd + 0.4 * rev + 0.2 * kl, rel=1e-5)
    with pytest.raises(ValueError, match="validate_columns"):
        CLEARLoss(tiny_model)(make_features(tiny_model, dict(list(columns.items())[:4])), None)


def test_config_and_citation():
    loss = CLEARLoss(torch.nn.Identity(), scale=10.0, alpha=0.3, beta=0.1, use_kl=True, gather_across_devices=True)
    loss.validate_columns(["anchor", "positive", "negative_1", "cross_anchor", "neg_query_1"])
    config = loss.get_config_dict()
    assert config == {
        "scale": 10.0,
        "alpha": 0.3,
        "beta": 0.1,
        "use_kl": True,
        "similarity_fct": "cos_sim",
        "gather_across_devices": True,
        "num_negatives": 1,
        "num_query_negatives": 1,
        "columns": ["anchor", "positive", "negative_1", "cross_anchor", "neg_query_1"],
    }
    assert loss.temperature == pytest.approx(0.1)
    assert "2604.05821" in loss.citation and loss.citation.strip().startswith("@")
