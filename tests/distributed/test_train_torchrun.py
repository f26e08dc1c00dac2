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
