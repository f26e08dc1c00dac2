"""torchrun worker for test_train_torchrun.py: the train workflow with a NaN CLEAR component on rank 1 only.

Usage: ``torchrun --standalone --nproc_per_node 2 train_nan_worker.py CONFIG.json OUT_DIR``. Each rank writes
``OUT_DIR/rank<r>.json`` with the TrainingError message it raised (the run must stop on every rank, not hang), and
whether the process group or any gloo thread is still alive afterwards (train() must have shut them down).
"""

from __future__ import annotations

import gc
import json
import os
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit" / "training"))

from training_testkit import gloo_threads

from crossalign.errors import TrainingError
from crossalign.training import TrainConfig
from crossalign.workflows import train as train_module


def main() -> None:
    config, out = sys.argv[1], Path(sys.argv[2])
    torch.set_num_threads(1)
    rank = int(os.environ["RANK"])
    real_build = train_module.build_loss

    def build(method, model, **kwargs):
        loss = real_build(method, model, **kwargs)
        forward, calls = loss.forward, {"n": 0}

        def patched(features, labels=None):
            calls["n"] += 1
            result = forward(features, labels)
            if rank == 1 and calls["n"] == 2:
                result["kl"] = result["kl"] * float("nan")
            return result

        loss.forward = patched
        return loss

    train_module.build_loss = build
    message = None
    try:
        train_module.train(TrainConfig.from_file(config), show_progress=False)
    except TrainingError as exc:
        message = str(exc)
    gc.collect()  # the exception is released: nothing references the trainer any more
    left = {
        "rank": rank,
        "error": message,
        # train() destroyed the group its run created, and with it gloo's threads: none outlives the run
        "initialized": torch.distributed.is_initialized(),
        "gloo_threads": gloo_threads(),
    }
    (out / f"rank{rank}.json").write_text(json.dumps(left))


if __name__ == "__main__":
    main()
