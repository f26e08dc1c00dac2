"""owned_process_group: the process group a training run created is destroyed on success and on error, once."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import torch.distributed as dist
from training_testkit import FakeDist, gloo_threads

from crossalign.errors import TrainingError
from crossalign.training.distributed import owned_process_group


def test_success_meets_at_a_barrier_then_destroys(monkeypatch):
    fake = FakeDist()
    fake.install(monkeypatch)
    with owned_process_group():
        fake.init()
    assert fake.calls == ["barrier", "destroy"]
    assert not fake.initialized


def test_error_destroys_without_a_barrier_and_keeps_the_error(monkeypatch):
    fake = FakeDist()
    fake.install(monkeypatch)
    with pytest.raises(TrainingError, match="non-finite loss at step 2"), owned_process_group():
        fake.init()
        raise TrainingError("non-finite loss at step 2")
    assert fake.calls == ["destroy"]  # a barrier could wait forever for a rank that never arrives


def test_interrupt_destroys_too(monkeypatch):
    fake = FakeDist()
    fake.install(monkeypatch)
    with pytest.raises(KeyboardInterrupt), owned_process_group():
        fake.init()
        raise KeyboardInterrupt
    assert fake.calls == ["destroy"]


def test_a_failing_destroy_does_not_hide_the_run_error(monkeypatch):
    fake = FakeDist()
    fake.install(monkeypatch)

    def broken(group=None):
        raise RuntimeError("backend already gone")

    monkeypatch.setattr(dist, "destroy_process_group", broken)
    with pytest.raises(ValueError, match="bad row"), owned_process_group():
        fake.init()
        raise ValueError("bad row")


def test_a_peer_missing_at_the_barrier_is_a_training_error_and_still_destroys(monkeypatch):
    fake = FakeDist(barrier_error=RuntimeError("Connection closed by peer"))
    fake.install(monkeypatch)
    expected = r"rank 1 finished training, but another rank did not reach .*closed"
    with pytest.raises(TrainingError, match=expected), owned_process_group():
        fake.init()
    assert fake.calls == ["barrier", "destroy"]


def test_the_callers_group_is_left_alone(monkeypatch):
    fake = FakeDist(initialized=True)
    fake.install(monkeypatch)
    with owned_process_group():
        pass
    with pytest.raises(TrainingError), owned_process_group():
        raise TrainingError("x")
    assert fake.calls == [] and fake.initialized


def test_a_group_destroyed_inside_is_not_destroyed_again(monkeypatch):
    fake = FakeDist()
    fake.install(monkeypatch)
    with owned_process_group():
        fake.init()
        fake.destroy()  # e.g. Trainer.end() / Accelerator.end_training() in a user callback
    assert fake.calls == ["destroy"]


def test_no_group_no_calls(monkeypatch):
    fake = FakeDist()
    fake.install(monkeypatch)
    with owned_process_group():
        pass
    assert fake.calls == []


def test_nccl_barrier_names_this_ranks_device(monkeypatch):
    import torch

    fake = FakeDist()
    fake.install(monkeypatch)
    seen = []
    monkeypatch.setattr(dist, "get_backend", lambda group=None: "nccl")
    monkeypatch.setattr(dist, "barrier", lambda *args, **kwargs: seen.append(kwargs))
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 3)
    with owned_process_group():
        fake.init()
    assert seen == [{"device_ids": [3]}] and fake.calls == ["destroy"]


@pytest.mark.skipif(not Path("/proc/self/task").is_dir() or not dist.is_available(), reason="Linux /proc needed")
@pytest.mark.parametrize("fail", [False, True])
def test_a_real_gloo_group_and_its_threads_are_gone_afterwards(fail):
    assert not dist.is_initialized(), "another test left a process group behind"
    before = gloo_threads()

    def run() -> None:
        with owned_process_group():
            dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
            deadline = time.monotonic() + 10  # each thread names itself once it runs
            while gloo_threads() == before and time.monotonic() < deadline:
                time.sleep(0.01)
            assert gloo_threads() != before  # the backend's threads are running
            if fail:
                raise TrainingError("stop")

    if fail:
        with pytest.raises(TrainingError):
            run()
    else:
        run()
    assert not dist.is_initialized()
    assert gloo_threads() == before
