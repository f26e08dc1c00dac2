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


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("learning_rate", -1.0, "learning_rate must be a finite number > 0, got -1.0"),
        ("learning_rate", float("nan"), "learning_rate must be a finite number > 0, got nan"),
        ("learning_rate", float("inf"), "learning_rate must be a finite number > 0, got inf"),
        ("learning_rate", 0.0, "learning_rate must be a finite number > 0"),
        ("warmup_ratio", 1.0, "warmup_ratio must be a finite number >= 0 and < 1 (a fraction of the steps)"),
        ("warmup_ratio", 5.0, "warmup_ratio must be"),
        ("warmup_ratio", -0.1, "warmup_ratio must be"),
        ("max_seq_length", 0, "max_seq_length must be an integer >= 1"),
        ("max_seq_length", -5, "max_seq_length must be an integer >= 1"),
        ("gradient_accumulation_steps", 0, "gradient_accumulation_steps must be an integer >= 1"),
        ("num_train_epochs", 0.0, "num_train_epochs must be a finite number > 0"),
        ("num_train_epochs", -1.0, "num_train_epochs must be a finite number > 0"),
        ("max_rows", 0, "max_rows must be an integer >= 1"),
        ("max_rows", -1, "max_rows must be an integer >= 1"),
        ("max_steps", -3, "max_steps must be an integer >= 1 (-1 means: run num_train_epochs)"),
        ("max_steps", 0, "max_steps must be an integer >= 1"),
        ("per_device_train_batch_size", 0, "per_device_train_batch_size must be an integer >= 1"),
        ("seed", -1, "seed must be an integer >= 0"),
        ("logging_steps", 0, "logging_steps must be"),
        ("save_steps", -2, "save_steps must be"),
        ("save_total_limit", 0, "save_total_limit must be"),
        ("mini_batch_size", 0, "mini_batch_size must be"),
        ("weight_decay", -0.5, "weight_decay must be"),
        ("max_grad_norm", float("nan"), "max_grad_norm must be"),
        ("freeze", ["layers:x"], "unknown freeze spec 'layers:x'"),
        ("freeze", ["bogus"], "unknown freeze spec 'bogus'"),
    ],
)
def test_numeric_arguments_are_checked_at_the_boundary(field, value, message):
    """Issue #11 items 4, 7, 10: each value used to reach torch/transformers (a traceback, or a run that trained
    nothing, or a warm-up "ratio" of 5 passed on as 5 steps); the config refuses it with the accepted range."""
    with pytest.raises(ConfigError) as info:
        TrainConfig(**{field: value})
    assert message in str(info.value)
    # the same check holds for a config file and for command-line overrides
    with pytest.raises(ConfigError, match=field if field != "freeze" else "freeze spec"):
        TrainConfig.from_dict({field: value})


def test_boundary_values_are_accepted():
    cfg = TrainConfig(warmup_ratio=0.0, max_steps=-1, max_seq_length=1, max_rows=1, seed=0, max_grad_norm=0.0)
    assert cfg.warmup_ratio == 0.0 and cfg.max_rows == 1
    assert TrainConfig(warmup_ratio=0.999, freeze="word_embeddings,layers:0-1").freeze == [
        "word_embeddings",
        "layers:0-1",
    ]


@pytest.mark.parametrize(
    ("training_args", "message"),
    [
        ({"per_device_train_batch_size": "abc"}, "'per_device_train_batch_size' must be an integer, got str 'abc'"),
        ({"dataloader_drop_last": "yes"}, "'dataloader_drop_last' must be a boolean"),
        ({"learning_rate": -1.0}, "learning_rate must be a finite number > 0, got -1.0"),
        ({"warmup_ratio": 1.0}, "warmup_ratio must be"),
        ({"per_device_train_batch_sise": 4}, "Did you mean 'per_device_train_batch_size'"),
    ],
)
def test_training_args_are_checked_at_the_boundary(training_args, message):
    with pytest.raises(ConfigError) as info:
        TrainConfig(training_args=training_args)
    assert message in str(info.value)


def test_good_training_args_pass():
    assert TrainConfig(training_args={"dataloader_drop_last": True, "optim": "adamw_torch"}).training_args
