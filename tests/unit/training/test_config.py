"""TrainConfig: file round trips and errors that name the file and the key."""

from __future__ import annotations

import json

import pytest

from crossalign.errors import ConfigError
from crossalign.training import TrainConfig


def test_yaml_and_json_round_trip(tmp_path):
    cfg = TrainConfig(
        method="jsd",
        model="e5-small-q4",
        data="built/jsd",
        output_dir="runs/jsd",
        loss_kwargs={"lambda_jsd": 0.5},
        freeze=["word_embeddings", "layers:0-1"],
        max_steps=10,
        training_args={"dataloader_drop_last": True},
    )
    for name in ("train.yaml", "train.json"):
        cfg.to_file(tmp_path / name)
        assert TrainConfig.from_file(tmp_path / name) == cfg


def test_yaml_values_and_overrides(tmp_path):
    path = tmp_path / "train.yaml"
    path.write_text("method: clear\nlearning_rate: 1\nmax_steps: 5\nfreeze: word_embeddings\n")
    cfg = TrainConfig.from_file(path, max_steps=7)
    assert cfg.learning_rate == 1.0 and isinstance(cfg.learning_rate, float)
    assert cfg.max_steps == 7
    assert cfg.freeze == ["word_embeddings"]


def test_unknown_key_names_file_key_and_close_match(tmp_path):
    path = tmp_path / "train.yaml"
    path.write_text("method: clear\nlerning_rate: 0.001\n")
    with pytest.raises(ConfigError) as info:
        TrainConfig.from_file(path)
    text = str(info.value)
    assert str(path) in text and "'lerning_rate'" in text
    assert "Did you mean 'learning_rate'" in text
    assert "valid keys:" in text and "per_device_train_batch_size" in text


def test_wrong_type_names_file_key_and_type(tmp_path):
    path = tmp_path / "train.json"
    path.write_text(json.dumps({"max_steps": "ten"}))
    with pytest.raises(ConfigError) as info:
        TrainConfig.from_file(path)
    text = str(info.value)
    assert str(path) in text and "'max_steps'" in text and "an integer" in text and "'ten'" in text


def test_yaml_exponent_without_dot_is_a_number(tmp_path):
    path = tmp_path / "train.yaml"
    path.write_text("learning_rate: 2e-5\n")  # YAML 1.1 reads this as the string '2e-5'
    assert TrainConfig.from_file(path).learning_rate == 2e-5
    path.write_text("learning_rate: fast\n")
    with pytest.raises(ConfigError, match="'learning_rate' must be a number"):
        TrainConfig.from_file(path)


def test_bool_is_not_an_int(tmp_path):
    path = tmp_path / "train.yaml"
    path.write_text("seed: true\n")
    with pytest.raises(ConfigError, match="'seed' must be an integer"):
        TrainConfig.from_file(path)


def test_unparsable_and_missing_files(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("method: [unclosed\n")
    with pytest.raises(ConfigError, match="cannot parse"):
        TrainConfig.from_file(bad)
    with pytest.raises(ConfigError, match="not found"):
        TrainConfig.from_file(tmp_path / "missing.yaml")


def test_invalid_values():
    with pytest.raises(ConfigError, match="batch_sampler"):
        TrainConfig(batch_sampler="random")
    with pytest.raises(ConfigError, match="fp16 and bf16"):
        TrainConfig(fp16=True, bf16=True)
