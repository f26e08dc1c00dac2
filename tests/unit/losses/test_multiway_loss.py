"""Multi-way contrastive loss (METHODS.md §3, our reading) against a hand-computed reference."""

from __future__ import annotations

import pytest
import torch
from losses_testkit import embed, make_features, random_texts, trainable_gradients
from reference_math import pairwise_reference, supcon_reference, symmetric_reference
from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

from crossalign.errors import ConfigError, DataFormatError
from crossalign.losses import MultiWayContrastiveLoss, multiway_pairwise_loss, multiway_supcon_loss

B, DIM = 4, 6


def _columns(generator, k: int, parallel: bool = True):
    """k columns; with ``parallel`` each row's texts are noisy copies of one meaning (so positives are close)."""
    base = torch.randn(B, DIM, generator=generator, dtype=torch.float64)
    noise = [torch.randn(B, DIM, generator=generator, dtype=torch.float64) for _ in range(k)]
    return [base + 0.5 * n if parallel else n for n in noise]


@pytest.mark.parametrize("k", [2, 3, 4])
def test_pairwise_matches_reference(generator, k):
    columns = _columns(generator, k)
    got = multiway_pairwise_loss(columns, scale=20.0)
    assert got.item() == pytest.approx(pairwise_reference(columns, 20.0), rel=1e-10)
    assert got.item() > 0.01


def test_pairwise_with_two_columns_is_symmetric_infonce(generator):
    a, b = _columns(generator, 2)
    got = multiway_pairwise_loss([a, b]).item()
    assert got == pytest.approx(symmetric_reference(a, b), rel=1e-10)
    # ... and equals sentence-transformers' symmetric MNRL on the same embeddings.
    mnrl = MultipleNegativesRankingLoss(
        torch.nn.Identity(), directions=("query_to_doc", "doc_to_query"), partition_mode="per_direction"
    )
    assert got == pytest.approx(mnrl.compute_loss_from_embeddings([a, b], None).item(), rel=1e-10)


@pytest.mark.parametrize("k", [2, 3])
def test_supcon_matches_reference_and_masks_other_positives(generator, k):
    columns = _columns(generator, k)
    got = multiway_supcon_loss(columns, scale=20.0).item()
    assert got == pytest.approx(supcon_reference(columns, 20.0, mask_other_positives=True), rel=1e-10)
    unmasked = supcon_reference(columns, 20.0, mask_other_positives=False)
    if k == 2:
        # One positive per anchor: nothing else of the tuple to mask, the two readings agree.
        assert unmasked == pytest.approx(got, rel=1e-10)
    else:
        # With 3 languages the other parallel text would compete with each positive: clearly different.
        assert unmasked - got > 0.1


def test_modes_give_different_values(generator):
    columns = _columns(generator, 3)
    assert multiway_pairwise_loss(columns).item() != pytest.approx(multiway_supcon_loss(columns).item(), rel=1e-3)


@pytest.mark.parametrize("mode", ["pairwise", "supcon"])
def test_forward_on_tiny_model(tiny_model, rng, mode):
    columns = {"en": random_texts(3, rng), "de": random_texts(3, rng), "fr": random_texts(3, rng)}
    loss = MultiWayContrastiveLoss(tiny_model, mode=mode)
    assert loss.validate_columns(list(columns)) == ["en", "de", "fr"]
    value = loss(make_features(tiny_model, columns), None)
    with torch.no_grad():
        embeddings = embed(tiny_model, make_features(tiny_model, columns))
    reference = pairwise_reference(embeddings) if mode == "pairwise" else supcon_reference(embeddings)
    assert value.item() == pytest.approx(reference, rel=1e-5)
    value.backward()
    trainable_gradients(tiny_model)


def test_columns_and_config():
    loss = MultiWayContrastiveLoss(torch.nn.Identity(), columns=("en", "x"))
    with pytest.raises(DataFormatError, match="'x' is missing"):
        loss.validate_columns(["en", "de"])
    with pytest.raises(DataFormatError, match="wrong order"):
        loss.validate_columns(["x", "en"])
    assert loss.validate_columns(["en", "x"]) == ["en", "x"]
    assert loss.get_config_dict() == {
        "mode": "pairwise",
        "scale": 20.0,
        "similarity_fct": "cos_sim",
        "gather_across_devices": False,
        "columns": ["en", "x"],
    }
    free = MultiWayContrastiveLoss(torch.nn.Identity(), mode="supcon")
    with pytest.raises(DataFormatError, match="at least two"):
        free.validate_columns(["en", "label"])
    assert free.validate_columns(["en", "de", "zh"]) == ["en", "de", "zh"]
    with pytest.raises(ValueError, match="expects 3 columns"):
        free.compute_loss_from_embeddings([torch.zeros(2, 3)] * 2)
    with pytest.raises(ConfigError, match="mode"):
        MultiWayContrastiveLoss(torch.nn.Identity(), mode="triplet")
    with pytest.raises(ConfigError, match="columns"):
        MultiWayContrastiveLoss(torch.nn.Identity(), columns=("en",))
    assert "2602.21543" in free.citation
