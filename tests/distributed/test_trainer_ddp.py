"""CLEAR with gather_across_devices inside the real sentence-transformers trainer under DDP (2 gloo ranks)."""

from __future__ import annotations

import json
import math
import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE.parent / "unit" / "losses"))

from launch import run_torchrun  # noqa: E402
from losses_testkit import save_tiny_model  # noqa: E402

pytestmark = pytest.mark.distributed


@pytest.mark.parametrize("variant", ["plain", "cached"])
def test_ddp_training_logs_components_averaged_over_ranks(tmp_path, variant):
    model_dir = save_tiny_model(tmp_path / "model")
    out = tmp_path / "log.json"
    env = dict(os.environ)
    paths = [str(ROOT / "src"), str(HERE.parent / "unit" / "losses"), env.get("PYTHONPATH", "")]
    env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    env["OMP_NUM_THREADS"] = "1"
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=2",
        str(HERE / "trainer_worker.py"),
        str(out),
        str(model_dir),
        variant,
    ]
    completed = run_torchrun(command, env=env, timeout=300)
    assert completed.returncode == 0, f"torchrun failed:\n{completed.stdout[-3000:]}\n{completed.stderr[-6000:]}"
    result = json.loads(out.read_text())
    assert result["world"] == 2
    steps = [entry for entry in result["log"] if "loss" in entry]
    assert len(steps) == 2
    for entry in steps:
        assert math.isfinite(entry["loss"]) and entry["loss"] > 0
        assert {"forward", "reverse", "kl"} <= set(entry)
        # Components are gathered over ranks and averaged, like the loss: their sum is the logged loss.
        assert entry["forward"] + entry["reverse"] + entry["kl"] == pytest.approx(entry["loss"], abs=3e-4)
