"""`reproduce --nproc-per-node 2`: a training stage runs under torchrun (2 gloo ranks, the tiny model), leaves the
final model and the budget checkpoints, and a rerun reuses the stage."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE.parent / "unit" / "training"))

from training_testkit import make_rows, save_tiny_model, write_jsonl  # noqa: E402

pytestmark = pytest.mark.distributed


def test_training_stage_under_torchrun(tmp_path, monkeypatch):
    from crossalign.workflows.reproduce import PRESETS, ReproduceConfig, _train, torchrun_command
    from crossalign.workflows.stages import StageLog

    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.setenv("CROSSALIGN_NO_PROGRESS", "1")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in [str(ROOT / "src"), os.environ.get("PYTHONPATH")] if p))
    model_dir = save_tiny_model(tmp_path / "model")
    data = write_jsonl(tmp_path / "train.jsonl", make_rows("clear", 24))
    budget = PRESETS["quick"].__class__(**{**PRESETS["quick"].__dict__, "steps": (1, 2), "batch_size": 4})
    config = ReproduceConfig(output_dir=tmp_path / "out", nproc_per_node=2)
    out = tmp_path / "out"
    out.mkdir()
    said: list[str] = []
    args = ("clear", "retrieval", 13, config, budget, str(model_dir), (data, "k"), out)
    run_dir, key = _train(*args, StageLog(out, False), {}, said.append, 1, run_name="clear-s13")
    assert (run_dir / "model" / "model.safetensors").is_file()
    assert (run_dir / "checkpoints" / "checkpoint-1" / ".crossalign-complete").is_file()
    assert (run_dir.parent / f"{run_dir.name}.json").is_file()  # the config torchrun trained from
    seconds: dict[str, float] = {}
    again, key2 = _train(*args, StageLog(out, False), seconds, said.append, 1, run_name="clear-s13")
    assert again == run_dir and key2 == key and seconds["train-clear-s13"] == 0.0
    assert any("reusing" in s for s in said)
    cmd = torchrun_command(Path("c.json"), 2, resume=True)
    assert cmd[-4:] == ["train", "--config", "c.json", "--resume"] and "--nproc_per_node=2" in cmd
