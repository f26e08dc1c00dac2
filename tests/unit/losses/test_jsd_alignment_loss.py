"""JSD + InfoNCE (METHODS.md §2, our reading) against a hand-computed reference."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from losses_testkit import embed, make_features, random_texts, trainable_gradients
from reference_math import embedding_jsd_reference, jsd, jsd_alignment_reference, softmax

from crossalign.errors import ConfigError
from crossalign.losses import JSDAlignmentLoss, jsd_alignment_components
from crossalign.losses._common import log_space_jsd

B, DIM = 4, 6


def _rand(generator, batch: int = B):
    return torch.randn(batch, DIM, generator=generator, dtype=torch.float64)


def test_single_reference_matches_hand_computed(generator):
    q_x, q_en, d_en = _rand(generator), _rand(generator), _rand(generator)
    got = jsd_alignment_components(q_x, q_en, d_en)
    infonce, divergence = jsd_alignment_reference(q_x, q_en, d_en)
    assert got["infonce"].item() == pytest.approx(infonce, rel=1e-10)
    assert got["jsd"].item() == pytest.approx(divergence, rel=1e-10)
    assert infonce > 0.1 and divergence > 1e-3


def test_multi_reference_masks_the_other_gold_passage(generator):
    q_x, q_en, d_en, d_x = (_rand(generator) for _ in range(4))
    # Parallel passages close to each other (as translations are) and queries near their golds: masking matters.
    d_x = d_en + 0.1 * d_x
    q_x = d_en + 0.3 * q_x
    got = jsd_alignment_components(q_x, q_en, d_en, d_x)
    masked, divergence = jsd_alignment_reference(q_x, q_en, d_en, d_x, mask_other_gold=True)
    unmasked, _ = jsd_alignment_reference(q_x, q_en, d_en, d_x, mask_other_gold=False)
    assert got["infonce"].item() == pytest.approx(masked, rel=1e-10)
    assert got["jsd"].item() == pytest.approx(divergence, rel=1e-10)
    # Without the mask the parallel passage competes with the gold: a clearly different (larger) number.
    assert masked < 2.0 and unmasked - masked > 0.3


def test_jsd_term_is_symmetric_bounded_and_zero_for_identical_queries(generator):
    q_x, d_en, d_x = _rand(generator), _rand(generator), _rand(generator)
    same = jsd_alignment_components(q_x, q_x.clone(), d_en, d_x)
    assert same["jsd"].item() == pytest.approx(0.0, abs=1e-12)
    q_en = _rand(generator)
    ab = jsd_alignment_components(q_x, q_en, d_en, d_x)["jsd"].item()
    ba = jsd_alignment_components(q_en, q_x, d_en, d_x)["jsd"].item()
    assert ab == pytest.approx(ba, rel=1e-12)
    assert 0 < ab <= math.log(2)


def test_log_space_jsd_is_stable_for_near_one_hot_distributions():
    # Logits 2000 apart: softmax underflows to exact zeros, the naive p * log(p / m) gives nan.
    logits_p = torch.tensor([[2000.0, 0.0, -5.0], [0.0, 3.0, 2000.0]], dtype=torch.float32, requires_grad=True)
    logits_q = torch.tensor([[0.0, 2000.0, 1.0], [0.0, 3.0, 1999.0]], dtype=torch.float32, requires_grad=True)
    value = log_space_jsd(F.log_softmax(logits_p, dim=1), F.log_softmax(logits_q, dim=1))
    assert torch.isfinite(value).all()
    # Disjoint one-hot rows: JSD = log 2. Same argmax (and softmax(1) vs softmax(0) nearly one-hot): ~0.
    assert value[0].item() == pytest.approx(math.log(2), rel=1e-6)
    p = softmax([0.0, 3.0, 2000.0])
    q = softmax([0.0, 3.0, 1999.0])
    assert value[1].item() == pytest.approx(jsd(p, q), abs=1e-7)
    value.sum().backward()
    assert torch.isfinite(logits_p.grad).all() and torch.isfinite(logits_q.grad).all()
    naive_p, naive_q = F.softmax(logits_p, dim=1), F.softmax(logits_q, dim=1)
    naive_m = 0.5 * (naive_p + naive_q)
    naive = 0.5 * (naive_p * (naive_p / naive_m).log()).sum(1) + 0.5 * (naive_q * (naive_q / naive_m).log()).sum(1)
    assert torch.isnan(naive).any()  # the reason for the log-space computation


def test_embedding_mode(generator):
    q_x, q_en, d_en = _rand(generator), _rand(generator), _rand(generator)
    got = jsd_alignment_components(q_x, q_en, d_en, jsd_mode="embedding", embedding_scale=5.0)
    infonce, candidate_jsd = jsd_alignment_reference(q_x, q_en, d_en)
    assert got["infonce"].item() == pytest.approx(infonce, rel=1e-10)
    assert got["jsd"].item() == pytest.approx(embedding_jsd_reference(q_x, q_en, 5.0), rel=1e-10)
    assert got["jsd"].item() != pytest.approx(candidate_jsd, rel=1e-3)


def test_weighted_components(generator):
    q_x, q_en, d_en, d_x = (_rand(generator) for _ in range(4))
    loss = JSDAlignmentLoss(torch.nn.Identity(), jsd_weight=0.5, scale=10.0)
    out = loss.compute_loss_from_embeddings([q_x, d_en, q_en, d_x])
    infonce, divergence = jsd_alignment_reference(q_x, q_en, d_en, d_x, scale=10.0)
    assert set(out) == {"infonce", "jsd"}
    assert out["infonce"].item() == pytest.approx(infonce, rel=1e-10)
    assert out["jsd"].item() == pytest.approx(0.5 * divergence, rel=1e-10)


def test_forward_on_tiny_model(tiny_model, rng):
    columns = {
        "query": random_texts(4, rng),
        "positive": random_texts(4, rng, 4, 9),
        "query_en": random_texts(4, rng),
        "positive_x": random_texts(4, rng, 4, 9),
    }
    loss = JSDAlignmentLoss(tiny_model)
    assert loss.validate_columns(list(columns)) == list(columns)
    out = loss(make_features(tiny_model, columns), None)
    with torch.no_grad():
        q_x, d_en, q_en, d_x = embed(tiny_model, make_features(tiny_model, columns))
    infonce, divergence = jsd_alignment_reference(q_x, q_en, d_en, d_x)
    assert out["infonce"].item() == pytest.approx(infonce, rel=1e-5)
    assert out["jsd"].item() == pytest.approx(divergence, rel=1e-4, abs=1e-7)
    sum(out.values()).backward()
    trainable_gradients(tiny_model)


def test_config_and_validation():
    loss = JSDAlignmentLoss(torch.nn.Identity(), jsd_weight=0.3, jsd_mode="embedding", embedding_scale=7.0)
    loss.validate_columns(["query", "positive", "query_en"])
    assert loss.get_config_dict() == {
        "jsd_weight": 0.3,
        "scale": 20.0,
        "jsd_mode": "embedding",
        "embedding_scale": 7.0,
        "similarity_fct": "cos_sim",
        "gather_across_devices": False,
        "multi_reference": False,
        "columns": ["query", "positive", "query_en"],
    }
    assert "2604.05684" in loss.citation
    with pytest.raises(ConfigError, match="jsd_mode"):
        JSDAlignmentLoss(torch.nn.Identity(), jsd_mode="kl")
    with pytest.raises(ConfigError, match="jsd_weight"):
        JSDAlignmentLoss(torch.nn.Identity(), jsd_weight=-1.0)
    with pytest.raises(ValueError, match="expects 3 columns"):
        loss.compute_loss_from_embeddings([torch.zeros(2, 3)] * 4)
