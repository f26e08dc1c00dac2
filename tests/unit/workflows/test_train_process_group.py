"""train() shuts down the process group its run created (torchrun): on success after a barrier, on error at once."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch.distributed

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "training"))

from training_testkit import FakeDist, tiny_config

from crossalign.errors import TrainingError
from crossalign.training.rundir import LOCK_FILE
from crossalign.workflows import train as train_module


def _fake_run(fake: FakeDist, error: Exception | None):
    def run(cfg, dataset, resume, *, overwrite, callbacks):
        fake.init()  # the trainer's arguments create the group (accelerate's PartialState)
        fake.calls.append("trained")
        if error is not None:
            raise error
        return "result"

    return run


def test_success_barrier_then_destroy(tmp_path, monkeypatch):
    fake = FakeDist()
    fake.install(monkeypatch)
    monkeypatch.setattr(train_module, "_train", _fake_run(fake, None))
    lock = tmp_path / "run" / LOCK_FILE
    locked_at_barrier = []
    real_barrier = fake.barrier

    def barrier(*args, **kwargs):
        locked_at_barrier.append(lock.exists())
        real_barrier()

    monkeypatch.setattr(torch.distributed, "barrier", barrier)
    cfg = tiny_config(tmp_path / "model", tmp_path / "run")
    assert train_module.train(cfg, show_progress=False) == "result"
    assert fake.calls == ["trained", "barrier", "destroy"]
    assert locked_at_barrier == [False]  # the run directory is free once the ranks wait for each other


def test_error_destroys_without_barrier(tmp_path, monkeypatch):
    fake = FakeDist()
    fake.install(monkeypatch)
    monkeypatch.setattr(train_module, "_train", _fake_run(fake, TrainingError("non-finite loss at step 2")))
    cfg = tiny_config(tmp_path / "model", tmp_path / "run")
    with pytest.raises(TrainingError, match="step 2"):
        train_module.train(cfg, show_progress=False)
    assert fake.calls == ["trained", "destroy"]
