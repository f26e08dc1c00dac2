"""Shared helpers for the training tests: the tiny BERT of the loss tests and small datasets per method.

Also a script entry point (``python training_testkit.py run CONFIG.json [--resume] [--sleep S]``) used by the
SIGKILL/resume test to run the training workflow in a subprocess, optionally slowed down so it can be killed
between checkpoints.
"""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "losses"))

from losses_testkit import random_texts, save_tiny_model

__all__ = [
    "COLUMNS",
    "FakeDist",
    "gloo_threads",
    "make_dataset",
    "make_rows",
    "save_tiny_model",
    "tiny_config",
    "write_jsonl",
]

COLUMNS: dict[str, list[str]] = {
    "clear": ["anchor", "positive", "negative_1", "cross_anchor", "neg_query_1"],
    "infonce": ["anchor", "positive", "negative_1"],
    "jsd": ["query", "positive", "query_en"],
    "multiway": ["en", "de", "fr"],
    "distill": ["source", "target"],
    "labse": ["source", "target"],
    "en-x": ["en", "x"],
    "symmetric": ["anchor", "positive", "negative_1"],
}


def make_rows(method: str, n: int = 24, seed: int = 0) -> list[dict[str, str]]:
    """``n`` rows of random distinct texts with the columns of ``method``."""
    rng = random.Random(seed)
    columns = {c: random_texts(n, rng, 3, 8) for c in COLUMNS[method]}
    # make every text unique so the no-duplicates sampler never has to skip a row
    return [{c: f"{columns[c][i]} w{(i * 7 + k) % 200}" for k, c in enumerate(COLUMNS[method])} for i in range(n)]


def make_dataset(method: str, n: int = 24, seed: int = 0) -> Any:
    """``make_rows`` as a ``datasets.Dataset``."""
    from datasets import Dataset

    rows = make_rows(method, n, seed)
    return Dataset.from_dict({c: [r[c] for r in rows] for c in COLUMNS[method]})


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    """Write rows as JSONL (no validation: tests write broken rows on purpose)."""
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def tiny_config(model_dir: Path, output_dir: Path, **overrides: Any) -> Any:
    """A TrainConfig for a few fast CPU steps on the tiny model."""
    from crossalign.training import TrainConfig

    values: dict[str, Any] = {
        "method": "clear",
        "model": str(model_dir),
        "output_dir": str(output_dir),
        "max_steps": 4,
        "per_device_train_batch_size": 4,
        "learning_rate": 1e-3,
        "warmup_ratio": 0.0,
        "logging_steps": 1,
        "save_steps": 2,
        "seed": 7,
    }
    values.update(overrides)
    return TrainConfig(**values)


class FakeDist:
    """Stands in for ``torch.distributed`` (``install`` patches it): records the barrier / destroy calls, and
    ``initialized`` flips like the real package's state (``init`` is what the trainer does inside a run)."""

    def __init__(self, initialized: bool = False, barrier_error: Exception | None = None) -> None:
        self.initialized = initialized
        self.barrier_error = barrier_error
        self.calls: list[str] = []

    def install(self, monkeypatch: Any) -> None:
        import torch.distributed as dist

        monkeypatch.setattr(dist, "is_available", lambda: True)
        monkeypatch.setattr(dist, "is_initialized", lambda: self.initialized)
        monkeypatch.setattr(dist, "get_rank", lambda: 1)
        monkeypatch.setattr(dist, "get_backend", lambda group=None: "gloo")
        monkeypatch.setattr(dist, "barrier", self.barrier)
        monkeypatch.setattr(dist, "destroy_process_group", self.destroy)

    def init(self) -> None:  # what the trainer does inside the run
        self.initialized = True

    def barrier(self, *args, **kwargs) -> None:
        self.calls.append("barrier")
        if self.barrier_error is not None:
            raise self.barrier_error

    def destroy(self, group=None) -> None:
        self.calls.append("destroy")
        self.initialized = False


def gloo_threads() -> list[str]:
    """The names of this process's gloo threads (``pt_gloo_runloop``, ``gloo_tcp_loop``), read from /proc (Linux)."""
    names = []
    for task in Path("/proc/self/task").iterdir():
        try:
            names.append((task / "comm").read_text().strip())
        except OSError:  # the thread ended while listing
            continue
    return [name for name in names if "gloo" in name]


def _main(argv: list[str]) -> int:
    import torch
    from transformers import TrainerCallback

    from crossalign.training import TrainConfig
    from crossalign.workflows.train import train

    torch.set_num_threads(1)
    config_path = argv[1]
    resume = "--resume" in argv
    sleep = float(argv[argv.index("--sleep") + 1]) if "--sleep" in argv else 0.0

    class Slow(TrainerCallback):
        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            time.sleep(sleep)

    cfg = TrainConfig.from_file(config_path)
    result = train(cfg, resume=resume, show_progress=False, callbacks=[Slow()] if sleep else None)
    print(json.dumps({"global_step": result.global_step, "resumed_from": str(result.resumed_from)}))
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
