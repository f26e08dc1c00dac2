"""Freeze specs: what they match, the counts, and bad specs."""

from __future__ import annotations

import pytest

from crossalign.errors import ConfigError
from crossalign.training.freeze import apply_freeze


@pytest.fixture
def model(tiny_model_dir):
    from losses_testkit import load_tiny_model

    return load_tiny_model(tiny_model_dir)


def test_word_embeddings(model):
    report = apply_freeze(model, "word_embeddings")
    frozen = [n for n, p in model.named_parameters() if not p.requires_grad]
    assert frozen == report.frozen and len(frozen) == 1 and frozen[0].endswith("word_embeddings.weight")
    assert report.trainable == report.total - 205 * 32
    assert "trainable" in report.summary() and "word_embeddings" in report.summary()


def test_embeddings_and_layers(model):
    report = apply_freeze(model, ["embeddings", "layers:0-0"])
    names = set(report.frozen)
    assert any("position_embeddings" in n for n in names) and any("embeddings.LayerNorm" in n for n in names)
    assert any(".layer.0." in n for n in names) and not any(".layer.1." in n for n in names)


@pytest.mark.parametrize("spec", ["layer:0-1", "layers:3-1", "everything"])
def test_bad_specs(model, spec):
    with pytest.raises(ConfigError):
        apply_freeze(model, spec)


def test_layer_out_of_range(model):
    layers = 1 + max(int(n.split("layer.")[1].split(".")[0]) for n, _ in model.named_parameters() if "layer." in n)
    with pytest.raises(ConfigError, match=rf"the model has {layers} layers \(0-{layers - 1}\)"):
        apply_freeze(model, "layers:5-6")
    # a range that overlaps the model's layers but runs past the last is refused too (was silently accepted)
    with pytest.raises(ConfigError, match=f"layer {layers + 90} does not exist"):
        apply_freeze(model, f"layers:0-{layers + 90}")
    assert all(p.requires_grad for p in model.parameters())
