"""``merge_base`` (WiSE-FT after training): λ given, the merged model saved beside the trained one; bad values and
``auto`` without languages are refused before training."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch

TRAINING_TESTS = Path(__file__).resolve().parents[1] / "training"
sys.path.insert(0, str(TRAINING_TESTS))

from training_testkit import make_dataset, tiny_config  # noqa: E402

from crossalign.errors import ConfigError  # noqa: E402
from crossalign.training import TrainConfig  # noqa: E402
from crossalign.workflows.train import train  # noqa: E402


def _state(path):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(path), device="cpu").state_dict()


def test_merge_base_lambda_saves_the_interpolated_model(tmp_path, tiny_model_dir, monkeypatch):
    monkeypatch.setenv("CROSSALIGN_NO_PROGRESS", "1")
    cfg = tiny_config(tiny_model_dir, tmp_path / "run", max_steps=2, save_steps=10, merge_base=0.5)
    result = train(cfg, dataset=make_dataset("clear", n=8), show_progress=False)
    merged_dir = Path(result.summary["merged_model_dir"])
    assert merged_dir == tmp_path / "run" / "model-merged" and result.summary["merge_lambda"] == 0.5
    base, tuned, merged = _state(tiny_model_dir), _state(result.model_dir), _state(merged_dir)
    # the tiny test model has no pooler weights: its (unused) pooler is drawn at random on every load
    floats = [k for k in base if torch.is_floating_point(base[k]) and "pooler" not in k]
    moved = [k for k in floats if not torch.equal(base[k], tuned[k])]
    assert moved  # training changed something, so the midpoint is a real test
    for k in moved:
        assert torch.allclose(merged[k], 0.5 * base[k] + 0.5 * tuned[k], atol=1e-6)
    info = json.loads((merged_dir / "crossalign_merge.json").read_text())
    assert info["lambda"] == 0.5


@pytest.mark.parametrize("value", [1.5, -1, "half"])
def test_bad_merge_base_is_a_config_error(value):
    with pytest.raises(ConfigError, match="merge_base"):
        TrainConfig(merge_base=value)


def test_auto_without_languages_is_refused_before_training(tmp_path, tiny_model_dir):
    cfg = tiny_config(tiny_model_dir, tmp_path / "run", max_steps=2, merge_base="auto")
    with pytest.raises(ConfigError, match="names no languages"):
        train(cfg, dataset=make_dataset("clear", n=8), show_progress=False)
    assert not (tmp_path / "run" / "model").exists()
