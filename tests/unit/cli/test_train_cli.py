"""``crossalign train``: flags, config files (flags win), help text, errors, the printed model directory."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "training"))

from training_testkit import make_rows, save_tiny_model, write_jsonl

from crossalign.cli.main import build_parser, main
from crossalign.cli.train import config_from_args


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory):
    return save_tiny_model(tmp_path_factory.mktemp("tiny") / "model")


def _cfg(argv):
    return config_from_args(build_parser().parse_args(["train", *argv]))


def test_help_lists_options_without_rst(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = capsys.readouterr().out
    for flag in ("--method", "--loss-arg", "--training-arg", "--resume", "--overwrite", "--freeze", "--cached"):
        assert flag in text
    assert "``" not in text and ":class:" not in text


def test_commands_order():
    from crossalign.cli.main import COMMANDS

    assert COMMANDS.index("train") == COMMANDS.index("data") + 1


def test_flags_override_config_file(tmp_path):
    path = tmp_path / "train.yaml"
    path.write_text(
        "method: jsd\nmodel: m\ndata: d.jsonl\noutput_dir: out\nlearning_rate: 0.1\nmax_steps: 9\n"
        "loss_kwargs: {lambda_jsd: 0.3}\ntraining_args: {dataloader_drop_last: true}\n"
    )
    cfg = _cfg(
        [
            "--config",
            str(path),
            "--lr",
            "0.5",
            "--batch-size",
            "8",
            "--loss-arg",
            "scale=10",
            "--training-arg",
            "optim=adamw_torch",
            "--freeze",
            "word_embeddings,layers:0-1",
            "--bf16",
        ]
    )
    assert (cfg.method, cfg.model, cfg.data, cfg.output_dir) == ("jsd", "m", "d.jsonl", "out")
    assert cfg.learning_rate == 0.5 and cfg.max_steps == 9 and cfg.per_device_train_batch_size == 8
    assert cfg.loss_kwargs == {"lambda_jsd": 0.3, "scale": 10}
    assert cfg.training_args == {"dataloader_drop_last": True, "optim": "adamw_torch"}
    assert cfg.freeze == ["word_embeddings", "layers:0-1"] and cfg.bf16


def test_config_file_error_is_reported(tmp_path, capsys):
    path = tmp_path / "train.yaml"
    path.write_text("methd: clear\n")
    assert main(["train", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "'methd'" in err and "'method'" in err


def test_train_prints_model_dir_last(tmp_path, tiny_model_dir, capsys, monkeypatch):
    monkeypatch.setenv("CROSSALIGN_NO_PROGRESS", "1")
    data = write_jsonl(tmp_path / "train.jsonl", make_rows("infonce", 12))
    out = tmp_path / "run"
    argv = ["train", "--method", "infonce", "--model", str(tiny_model_dir), "--data", str(data)]
    argv += ["--output", str(out), "--max-steps", "2", "--batch-size", "4", "--logging-steps", "1", "--lr", "1e-3"]
    assert main(argv) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1] == str(out / "model")
    assert json.loads((out / "train_summary.json").read_text())["global_step"] == 2
    # the model is named by its run, not by its folder "model", in later evaluations
    from crossalign.workflows.evaluate import model_label

    assert json.loads((out / "model" / "crossalign_training.json").read_text())["label"] == "run"
    assert model_label(out / "model") == "run"
    assert main(argv) == 2
    assert "--resume" in capsys.readouterr().err
    assert main([*argv, "--resume"]) == 0
    assert "already finished" in capsys.readouterr().out


def test_label_is_recorded_in_the_model(tmp_path, tiny_model_dir, capsys, monkeypatch):
    monkeypatch.setenv("CROSSALIGN_NO_PROGRESS", "1")
    from crossalign.workflows.evaluate import model_label

    data = write_jsonl(tmp_path / "train.jsonl", make_rows("infonce", 8))
    out = tmp_path / "run"
    argv = ["train", "--method", "infonce", "--model", str(tiny_model_dir), "--data", str(data), "--label", "clear de"]
    assert main([*argv, "--output", str(out), "--max-steps", "1", "--batch-size", "4"]) == 0
    assert json.loads((out / "train_summary.json").read_text())["label"] == "clear de"
    assert model_label(out / "model") == "clear de"


def test_prompts_of_a_snapshot_without_them_and_the_flags(tmp_path, tiny_model_dir, capsys, monkeypatch):
    import shutil

    from sentence_transformers import SentenceTransformer

    monkeypatch.setenv("CROSSALIGN_NO_PROGRESS", "1")
    snap = tmp_path / "multilingual-e5-small"  # an E5 snapshot whose configuration has no prompts
    shutil.copytree(tiny_model_dir, snap)
    st_config = snap / "config_sentence_transformers.json"
    if st_config.is_file():
        st_config.write_text(json.dumps({**json.loads(st_config.read_text()), "prompts": {}}))
    data = write_jsonl(tmp_path / "train.jsonl", make_rows("infonce", 8))
    argv = ["train", "--method", "infonce", "--model", str(snap), "--data", str(data), "--max-steps", "1"]
    argv += ["--batch-size", "4"]
    assert main([*argv, "--output", str(tmp_path / "a")]) == 0
    assert "prompts: query 'query: ' (family e5)" in capsys.readouterr().err
    summary = json.loads((tmp_path / "a" / "train_summary.json").read_text())
    assert summary["prompt_choice"]["family"] == "e5"
    assert set(summary["prompts"].values()) == {"query: ", "passage: "}
    assert SentenceTransformer(str(tmp_path / "a" / "model"), device="cpu").prompts["query"] == "query: "
    # the flags override the family's prompts
    assert main([*argv, "--query-prompt", "q: ", "--passage-prompt", "", "--output", str(tmp_path / "b")]) == 0
    summary = json.loads((tmp_path / "b" / "train_summary.json").read_text())
    assert summary["prompt_choice"]["query_source"] == "flag" and set(summary["prompts"].values()) == {"q: ", ""}


def test_missing_column_error_names_file(tmp_path, tiny_model_dir, capsys):
    data = write_jsonl(tmp_path / "train.jsonl", make_rows("infonce", 4))
    argv = ["train", "--method", "clear", "--model", str(tiny_model_dir), "--data", str(data)]
    assert main([*argv, "--output", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert str(data) in err and "'cross_anchor'" in err


def test_output_is_required(tmp_path, capsys):
    path = tmp_path / "train.yaml"
    path.write_text("method: clear\ndata: d.jsonl\n")
    assert main(["train", "--config", str(path)]) == 2
    assert "no output directory" in capsys.readouterr().err


def test_disk_full_during_the_run_is_one_clear_error(tmp_path, monkeypatch, capsys):
    """A disk that fills up mid-run gave a traceback (issue #11 item 9); a full disk at the start is refused before
    the work (tests/unit/workflows/test_train_rundir.py)."""
    import errno

    def full(*_args, **_kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "run" / "model.safetensors"))

    monkeypatch.setattr("crossalign.workflows.train.train", full)
    rows = write_jsonl(tmp_path / "train.jsonl", make_rows("infonce", 4))
    argv = ["train", "--method", "infonce", "--data", str(rows), "--output", str(tmp_path / "run")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"crossalign train: error: no space left on the device ({tmp_path / 'run' / 'model.safetensors'})" in err
    assert "fix: free some space" in err and "Traceback" not in err
