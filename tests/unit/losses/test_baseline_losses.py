"""Baselines: InfoNCE, symmetric InfoNCE, multilingual distillation, LaBSE additive-margin ranking."""

from __future__ import annotations

import pytest
import torch
from datasets import Dataset
from losses_testkit import embed, load_tiny_model, make_features, random_texts, trainable_gradients
from reference_math import distillation_reference, infonce_reference, margin_reference, symmetric_reference

from crossalign.errors import ConfigError, DataFormatError
from crossalign.losses import (
    AdditiveMarginRankingLoss,
    InfoNCELoss,
    MultilingualDistillationLoss,
    SymmetricInfoNCELoss,
    add_teacher_embeddings,
    additive_margin_ranking_components,
)


def test_infonce_on_tiny_model_matches_reference(tiny_model, rng):
    columns = {
        "anchor": random_texts(4, rng),
        "positive": random_texts(4, rng, 4, 9),
        "negative_1": random_texts(4, rng, 4, 9),
        "negative_2": random_texts(4, rng, 4, 9),
    }
    loss = InfoNCELoss(tiny_model)
    loss.validate_columns(list(columns))
    value = loss(make_features(tiny_model, columns), None)
    with torch.no_grad():
        anchor, positive, n1, n2 = embed(tiny_model, make_features(tiny_model, columns))
    assert value.item() == pytest.approx(infonce_reference(anchor, positive, [n1, n2]), rel=1e-5)
    value.backward()
    trainable_gradients(tiny_model)
    assert loss.get_config_dict()["num_negatives"] == 2
    assert loss.get_config_dict()["directions"] == ("query_to_doc",)
    with pytest.raises(ValueError, match="expects 4 columns"):
        loss(make_features(tiny_model, dict(list(columns.items())[:3])), None)


def test_infonce_accepts_a_single_bare_negative_column():
    loss = InfoNCELoss(torch.nn.Identity())
    assert loss.validate_columns(["anchor", "positive", "negative"]) == ["anchor", "positive", "negative"]
    with pytest.raises(DataFormatError, match="both 'negative'"):
        loss.validate_columns(["anchor", "positive", "negative", "negative_1"])


def test_symmetric_infonce_matches_reference(tiny_model, rng):
    columns = {"anchor": random_texts(4, rng), "positive": random_texts(4, rng)}
    loss = SymmetricInfoNCELoss(tiny_model)
    loss.validate_columns(list(columns))
    value = loss(make_features(tiny_model, columns), None)
    with torch.no_grad():
        anchor, positive = embed(tiny_model, make_features(tiny_model, columns))
    assert value.item() == pytest.approx(symmetric_reference(anchor, positive), rel=1e-5)
    # Asymmetric in the one-directional loss, symmetric here: swapping the columns gives the same value.
    swapped = loss(make_features(tiny_model, {"a": columns["positive"], "p": columns["anchor"]}), None)
    assert swapped.item() == pytest.approx(value.item(), rel=1e-5)


def test_symmetric_with_hard_negatives_uses_them_in_the_forward_direction_only(generator):
    a, p, n = (torch.randn(3, 5, generator=generator, dtype=torch.float64) for _ in range(3))
    loss = SymmetricInfoNCELoss(torch.nn.Identity())
    value = loss.compute_loss_from_embeddings([a, p, n], None).item()
    assert value == pytest.approx(symmetric_reference(a, p, [n]), rel=1e-10)


def test_margin_ranking_matches_reference(generator):
    s, t = (torch.randn(4, 5, generator=generator, dtype=torch.float64) for _ in range(2))
    got = additive_margin_ranking_components(s, t, margin=0.3, scale=20.0)
    forward, backward = margin_reference(s, t, margin=0.3, scale=20.0)
    assert got["source_to_target"].item() == pytest.approx(forward, rel=1e-10)
    assert got["target_to_source"].item() == pytest.approx(backward, rel=1e-10)
    # The margin is applied: margin 0 gives a smaller loss, equal to twice the symmetric InfoNCE.
    no_margin = additive_margin_ranking_components(s, t, margin=0.0)
    assert sum(v.item() for v in no_margin.values()) < forward + backward - 0.1
    assert sum(v.item() for v in no_margin.values()) == pytest.approx(2 * symmetric_reference(s, t), rel=1e-10)
    with pytest.raises(ConfigError, match="margin"):
        AdditiveMarginRankingLoss(torch.nn.Identity(), margin=-0.1)


def test_margin_ranking_on_tiny_model(tiny_model, rng):
    columns = {"source": random_texts(4, rng), "target": random_texts(4, rng)}
    loss = AdditiveMarginRankingLoss(tiny_model)
    loss.validate_columns(list(columns))
    out = loss(make_features(tiny_model, columns), None)
    with torch.no_grad():
        s, t = embed(tiny_model, make_features(tiny_model, columns))
    assert (out["source_to_target"].item(), out["target_to_source"].item()) == pytest.approx(
        margin_reference(s, t), rel=1e-5
    )


def test_distillation_with_teacher_labels(tiny_model_dir, rng):
    student = load_tiny_model(tiny_model_dir)
    teacher = load_tiny_model(tiny_model_dir)
    with torch.no_grad():  # a different teacher, so the loss is not zero
        for parameter in teacher.parameters():
            parameter.add_(0.05 * torch.randn_like(parameter))
    pairs = Dataset.from_dict({"source": random_texts(4, rng), "target": random_texts(4, rng)})
    dataset = add_teacher_embeddings(pairs, teacher, batch_size=2)
    assert dataset.column_names == ["source", "target", "label"]
    assert teacher.training  # restored after encoding
    teacher_embeddings = torch.tensor(dataset["label"])
    with torch.no_grad():
        teacher.eval()
        expected_teacher = teacher.encode(pairs["source"], convert_to_tensor=True)
    assert torch.allclose(teacher_embeddings, expected_teacher, atol=1e-6)

    loss = MultilingualDistillationLoss(student)
    assert loss.validate_columns(dataset.column_names) == ["source", "target"]
    features = make_features(student, {"source": pairs["source"], "target": pairs["target"]})
    value = loss(features, teacher_embeddings)
    with torch.no_grad():
        s_src, s_tgt = embed(student, make_features(student, {"s": pairs["source"], "t": pairs["target"]}))
    assert value.item() == pytest.approx(distillation_reference(s_src, s_tgt, teacher_embeddings), rel=1e-5)
    assert value.item() > 1e-6
    value.backward()
    trainable_gradients(student)

    with pytest.raises(ValueError, match="projection_dim=7"):
        loss(features, torch.zeros(4, 7))
    with pytest.raises(DataFormatError, match="already has"):
        add_teacher_embeddings(dataset, teacher)
    with pytest.raises(DataFormatError, match="'label'"):
        loss.validate_columns(["source", "target"])
    assert "2004.09813" in loss.citation
