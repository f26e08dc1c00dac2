"""``crossalign train`` under torchrun: 2 gloo ranks, 2 steps of CLEAR with gathered candidates, on the tiny model."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE.parent / "unit" / "training"))

from launch import run_torchrun  # noqa: E402
from training_testkit import make_rows, save_tiny_model, write_jsonl  # noqa: E402

pytestmark = pytest.mark.distributed


def test_crossalign_train_two_ranks(tmp_path):
    model_dir = save_tiny_model(tmp_path / "model")
    data = write_jsonl(tmp_path / "train.jsonl", make_rows("clear", 24))
    out = tmp_path / "run"
    env = dict(os.environ, OMP_NUM_THREADS="1", CROSSALIGN_NO_PROGRESS="1")
    env["PYTHONPATH"] = os.pathsep.join(p for p in [str(ROOT / "src"), env.get("PYTHONPATH", "")] if p)
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]
    command += ["-m", "crossalign.cli.main", "train", "--method", "clear", "--model", str(model_dir)]
    command += ["--data", str(data), "--output", str(out), "--max-steps", "2", "--batch-size", "4"]
    command += ["--logging-steps", "1", "--save-steps", "1", "--gather-across-devices", "--lr", "1e-3"]
    completed = run_torchrun(command, env=env, timeout=300)
    assert completed.returncode == 0, f"torchrun failed:\n{completed.stdout[-3000:]}\n{completed.stderr[-6000:]}"
    assert (out / "model" / "model.safetensors").is_file()
    summary = json.loads((out / "train_summary.json").read_text())
    assert summary["world_size"] == 2 and summary["global_step"] == 2
    log = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    assert [e["step"] for e in log] == [1, 2] and all("kl" in e for e in log)
    assert (out / "checkpoints" / "checkpoint-2" / ".crossalign-complete").is_file()
    assert completed.stdout.strip().splitlines()[-1] == str(out / "model")


def test_nan_on_one_rank_stops_every_rank(tmp_path):
    from crossalign.training import TrainConfig

    model_dir = save_tiny_model(tmp_path / "model")
    data = write_jsonl(tmp_path / "train.jsonl", make_rows("clear", 24))
    out = tmp_path / "run"
    config = TrainConfig(
        method="clear",
        model=str(model_dir),
        data=str(data),
        output_dir=str(out),
        max_steps=4,
        per_device_train_batch_size=4,
        logging_steps=1,
        save_steps=1,
        learning_rate=1e-3,
    )
    config.to_file(tmp_path / "train.json")
    env = dict(os.environ, OMP_NUM_THREADS="1", CROSSALIGN_NO_PROGRESS="1")
    env["PYTHONPATH"] = os.pathsep.join(p for p in [str(ROOT / "src"), env.get("PYTHONPATH", "")] if p)
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]
    command += [str(HERE / "train_nan_worker.py"), str(tmp_path / "train.json"), str(tmp_path)]
    completed = run_torchrun(command, env=env, timeout=240)
    assert completed.returncode == 0, f"torchrun failed:\n{completed.stdout[-3000:]}\n{completed.stderr[-6000:]}"
    ranks = {r: json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)}
    errors = {r: ranks[r]["error"] for r in (0, 1)}
    # the failed run shut its process group down: no gloo thread is left to be torn down at interpreter exit
    assert all(not ranks[r]["initialized"] and ranks[r]["gloo_threads"] == [] for r in (0, 1)), ranks
    assert "step 2" in errors[1] and "'kl'" in errors[1]
    # rank 0 sees the NaN through the all-reduced gradients (or through the flag, whichever comes first)
    assert "step 2" in errors[0] and ("gradients" in errors[0] or "another rank" in errors[0])
    assert (out / "checkpoints" / "checkpoint-1" / ".crossalign-complete").is_file()
    assert not (out / "checkpoints" / "checkpoint-2").exists()
    assert not (out / "model").exists()
