"""``base_anchor`` (BaseAnchorLoss) in the training workflow: every method trains with it, the card records it."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest

TRAINING_TESTS = Path(__file__).resolve().parents[1] / "training"
sys.path.insert(0, str(TRAINING_TESTS))

from training_testkit import COLUMNS, make_dataset, tiny_config  # noqa: E402

from crossalign.errors import ConfigError  # noqa: E402
from crossalign.losses import LOSSES  # noqa: E402
from crossalign.training import TrainConfig  # noqa: E402
from crossalign.workflows.train import train  # noqa: E402


@pytest.fixture(autouse=True)
def _quiet(monkeypatch):
    monkeypatch.setenv("CROSSALIGN_NO_PROGRESS", "1")


def test_the_testkit_covers_every_method():
    assert set(COLUMNS) == set(LOSSES)


@pytest.mark.parametrize("method", sorted(LOSSES))
def test_every_method_trains_with_the_regulariser(tmp_path, tiny_model_dir, method):
    cfg = tiny_config(tiny_model_dir, tmp_path / "run", method=method, max_steps=2, save_steps=10, base_anchor=2.0)
    result = train(cfg, dataset=make_dataset(method, n=8), show_progress=False)
    assert result.global_step == 2
    for entry in result.history:
        assert math.isfinite(entry["base_anchor"]) and entry["base_anchor"] >= 0
        components = sum(v for k, v in entry.items() if k not in ("step", "loss", "lr", "grad_norm", "epoch"))
        assert components == pytest.approx(entry["loss"], abs=5e-4)
    # after one step the student has moved away from its frozen copy
    assert result.history[-1]["base_anchor"] > 0
    info = json.loads((result.model_dir / "crossalign_training.json").read_text())
    assert info["loss"] == "BaseAnchorLoss"
    assert info["loss_config"]["weight"] == 2.0 and info["config"]["base_anchor"] == 2.0
    assert "BaseAnchorLoss` weight 2.0" in (result.model_dir / "README.md").read_text()


def test_cached_clear_trains_with_the_regulariser(tmp_path, tiny_model_dir):
    cfg = tiny_config(tiny_model_dir, tmp_path / "run", max_steps=2, save_steps=10, base_anchor=1.0, cached=True)
    cfg.mini_batch_size = 2
    result = train(cfg, dataset=make_dataset("clear", n=8), show_progress=False)
    info = json.loads((result.model_dir / "crossalign_training.json").read_text())
    assert info["loss_config"]["loss"] == "CachedCLEARLoss"
    assert {"forward", "reverse", "kl", "base_anchor"} <= set(result.history[-1])


@pytest.mark.parametrize("value", [-0.5, float("inf"), True])
def test_bad_weight_is_a_config_error(value):
    with pytest.raises(ConfigError, match="base_anchor"):
        TrainConfig(base_anchor=value)
