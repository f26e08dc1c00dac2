"""Trainer callbacks and the trainer subclass that make a run observable and safe to interrupt.

- :class:`JsonlLogCallback`: one JSON line per logged step (loss, learning rate, loss components), appended and
  flushed at once, so a killed run's log is complete up to its last logged step.
- :class:`CheckpointMarkerCallback`: writes :data:`COMPLETE_MARKER` into a checkpoint directory after the trainer
  has finished writing it. Hugging Face writes checkpoints file by file; a directory without the marker may be
  half-written and is never resumed from (see :func:`last_complete_checkpoint`).
- :class:`CrossalignTrainer`: stops at the first non-finite loss or loss component (and, before the optimizer step,
  at non-finite gradients) with a :class:`~crossalign.errors.TrainingError` naming the step and the component.
  Nothing is saved at or after that step, so the last checkpoint on disk is the last good one.
- :class:`ProgressCallback`: a progress bar whose postfix shows the loss and its components.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import torch
from sentence_transformers import SentenceTransformerTrainer
from transformers import TrainerCallback

from crossalign.errors import TrainingError
from crossalign.utils.atomic import atomic_write_json

logger = logging.getLogger(__name__)

#: File written into a checkpoint (and the final model) directory once it is complete.
COMPLETE_MARKER = ".crossalign-complete"
_CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")
#: Keys of a log entry that are not loss components.
NON_COMPONENT_KEYS = {"loss", "learning_rate", "grad_norm", "epoch", "step", "lr", "num_input_tokens_seen"}


def mark_complete(directory: str | os.PathLike[str], **info: Any) -> None:
    """Write the completion marker into ``directory`` (atomically, after everything else)."""
    atomic_write_json(Path(directory) / COMPLETE_MARKER, {"complete": True, **info})


def is_complete(directory: str | os.PathLike[str]) -> bool:
    """Whether ``directory`` carries the completion marker."""
    return (Path(directory) / COMPLETE_MARKER).is_file()


def checkpoints(folder: str | os.PathLike[str]) -> list[tuple[int, Path]]:
    """``(step, path)`` of every ``checkpoint-N`` directory in ``folder``, by step."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found = []
    for child in folder.iterdir():
        match = _CHECKPOINT.match(child.name)
        if match and child.is_dir():
            found.append((int(match.group(1)), child))
    return sorted(found)


def last_complete_checkpoint(folder: str | os.PathLike[str]) -> Path | None:
    """The checkpoint with the highest step that carries the completion marker (unmarked ones are ignored)."""
    complete = [path for _, path in checkpoints(folder) if is_complete(path)]
    return complete[-1] if complete else None


def remove_incomplete_checkpoints(folder: str | os.PathLike[str]) -> list[Path]:
    """Delete checkpoint directories without the marker (left by a crash mid-save); returns what was removed."""
    removed = []
    for _, path in checkpoints(folder):
        if not is_complete(path):
            logger.warning("removing incomplete checkpoint %s (interrupted while it was written)", path)
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def step_entry(logs: dict[str, Any], step: int) -> dict[str, Any] | None:
    """A training log entry as crossalign records it: ``step``, ``loss``, ``lr``, the components, ``epoch``."""
    if "loss" not in logs:
        return None
    entry: dict[str, Any] = {"step": step, "loss": float(logs["loss"])}
    if "learning_rate" in logs:
        entry["lr"] = float(logs["learning_rate"])
    for key, value in logs.items():
        if key not in NON_COMPONENT_KEYS and isinstance(value, int | float):
            entry[key] = float(value)
    if "grad_norm" in logs and logs["grad_norm"] is not None:
        entry["grad_norm"] = float(logs["grad_norm"])
    if "epoch" in logs:
        entry["epoch"] = float(logs["epoch"])
    return entry


def read_log(path: str | os.PathLike[str], *, up_to_step: int | None = None) -> list[dict[str, Any]]:
    """The entries of a JSONL step log (a torn last line, from a kill mid-write, is skipped)."""
    p = Path(path)
    if not p.is_file():
        return []
    out = []
    for raw in p.read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(raw)
        except json.JSONDecodeError:
            continue
        if up_to_step is None or entry.get("step", 0) <= up_to_step:
            out.append(entry)
    return out


def truncate_log(path: str | os.PathLike[str], step: int) -> None:
    """Keep only entries up to ``step`` (used on resume: the steps after the checkpoint are trained again)."""
    from crossalign.utils.atomic import atomic_write_text

    if Path(path).is_file():
        entries = read_log(path, up_to_step=step)
        atomic_write_text(path, "".join(json.dumps(e) + "\n" for e in entries))


class JsonlLogCallback(TrainerCallback):
    """Append each training log entry (see :func:`step_entry`) to a JSONL file and flush it immediately."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.history: list[dict[str, Any]] = []

    def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kwargs: Any) -> None:
        if not state.is_world_process_zero or not logs:
            return
        entry = step_entry(logs, state.global_step)
        if entry is None:
            return
        self.history.append(entry)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry) + "\n")
            fh.flush()
            os.fsync(fh.fileno())


class CheckpointMarkerCallback(TrainerCallback):
    """Mark ``checkpoint-N`` complete once the trainer has written it (``on_save`` runs after the save), then
    apply ``save_total_limit``.

    The limit is applied here rather than by Hugging Face, which deletes old checkpoints *before* the new one could
    be marked: a kill in between would leave no complete checkpoint. Here only complete checkpoints count and are
    deleted, oldest first, after the new one is marked.

    With ``base_model_dir`` the base model's ``model_kwargs`` (e.g. the built-in model's ``add_pooling_layer:
    false``) are copied into each checkpoint first: sentence-transformers does not save them, and without them the
    checkpoint reloads with a pooler its weights do not have (resuming failed on "Unexpected key(s)").
    """

    def __init__(self, save_total_limit: int | None = None, *, base_model_dir: str | None = None) -> None:
        self.save_total_limit = save_total_limit
        self.base_model_dir = base_model_dir

    def on_save(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if not state.is_world_process_zero:
            return
        directory = Path(args.output_dir) / f"checkpoint-{state.global_step}"
        if not directory.is_dir():
            return
        if self.base_model_dir is not None:  # so the checkpoint loads as the model it is (resume reloads it)
            from crossalign.models.loading import carry_model_kwargs

            carry_model_kwargs(self.base_model_dir, directory)
        mark_complete(directory, step=state.global_step)
        if self.save_total_limit:
            complete = [path for _, path in checkpoints(args.output_dir) if is_complete(path)]
            for old in complete[: max(0, len(complete) - self.save_total_limit)]:
                shutil.rmtree(old, ignore_errors=True)


class NonFiniteGuard:
    """Shared state of the non-finite checks: what the loss check saw, for the pre-optimizer-step check.

    In a single process a bad loss raises at once. Under DDP a rank that raised inside the forward would leave the
    other ranks waiting in the backward all-reduce, so there the loss check only records the bad value; before the
    optimizer step every rank combines its own finding (and its gradients' finiteness) with an all-reduce, and all
    ranks raise together.
    """

    def __init__(self) -> None:
        self.pending: tuple[int, str, float] | None = None

    @staticmethod
    def distributed() -> bool:
        import torch.distributed as dist

        return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1

    def check(self, values: dict[str, Any], step: int) -> None:
        """Raise (single process) or record (DDP) the first non-finite value of ``values``."""
        for name, value in values.items():
            tensor = value.detach() if isinstance(value, torch.Tensor) else torch.tensor(value)
            if bool(torch.isfinite(tensor).all()):
                continue
            shown = float(tensor.float().reshape(-1)[0]) if tensor.numel() else math.nan
            if self.distributed():
                if self.pending is None:
                    self.pending = (step, name, shown)
                return
            raise non_finite_error(step, name, shown)


def non_finite_error(step: int, component: str, value: float | None = None) -> TrainingError:
    """The error for a non-finite ``component`` at ``step`` (1-based optimizer step)."""
    shown = "" if value is None else f" is {value}"
    return TrainingError(
        f"non-finite loss at step {step}: component {component!r}{shown}. Training stopped before the optimizer "
        f"step; no checkpoint was written at or after step {step}, the last one on disk is the last good state.",
        hint="lower the learning rate, check the data for degenerate rows, or use bf16 instead of fp16; "
        "resume with --resume from the last checkpoint",
    )


class GradientGuardCallback(TrainerCallback):
    """Before each optimizer step: stop on a recorded non-finite loss (DDP) or on NaN/Inf gradients.

    The gradient check is skipped with fp16, whose loss scaler expects and handles infinite gradients.
    """

    def __init__(self, guard: NonFiniteGuard | None = None) -> None:
        self.guard = guard or NonFiniteGuard()

    def on_pre_optimizer_step(self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any) -> None:
        step = state.global_step + 1
        grads_ok = True
        if model is not None and not args.fp16:
            grads = [p.grad for p in model.parameters() if p.grad is not None]
            if grads:  # one fused pass; a non-finite entry makes its norm non-finite
                grads_ok = bool(torch.isfinite(torch.stack(torch._foreach_norm(grads))).all())
        pending = self.guard.pending
        bad = pending is not None or not grads_ok
        if self.guard.distributed():
            import torch.distributed as dist

            flag = torch.tensor([1.0 if bad else 0.0], device=next(model.parameters()).device if model else "cpu")
            dist.all_reduce(flag, op=dist.ReduceOp.MAX)
            bad = bool(flag.item() > 0)
        if not bad:
            return
        if pending is not None:
            raise non_finite_error(*pending)
        if not grads_ok:
            raise non_finite_error(step, "gradients")
        raise non_finite_error(step, "loss on another rank")


class ProgressCallback(TrainerCallback):
    """A tqdm bar over the optimizer steps; its postfix shows the last logged loss and components."""

    def __init__(self) -> None:
        from crossalign.utils.progress import progress_enabled

        self.enabled = progress_enabled()
        self.bar: Any = None

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if self.enabled and state.is_world_process_zero:
            from tqdm.auto import tqdm

            self.bar = tqdm(
                total=state.max_steps, initial=state.global_step, desc="train", file=sys.stderr, dynamic_ncols=True
            )

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if self.bar is not None:
            self.bar.update(state.global_step - self.bar.n)

    def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kwargs: Any) -> None:
        if self.bar is not None and logs and "loss" in logs:
            entry = step_entry(logs, state.global_step) or {}
            shown = {k: f"{v:.4g}" for k, v in entry.items() if k not in ("step", "epoch", "grad_norm")}
            self.bar.set_postfix(shown, refresh=False)

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class CrossalignTrainer(SentenceTransformerTrainer):
    """``SentenceTransformerTrainer`` that raises :class:`TrainingError` on a non-finite loss or loss component.

    The check runs on every training forward, before sentence-transformers' ``logging_nan_inf_filter`` would
    quietly replace the value, and before the backward pass and the optimizer step.
    """

    #: Set by the workflow (shared with :class:`GradientGuardCallback`); a fresh one otherwise.
    non_finite_guard: NonFiniteGuard | None = None

    def _guard(self) -> NonFiniteGuard:
        if self.non_finite_guard is None:
            self.non_finite_guard = NonFiniteGuard()
        return self.non_finite_guard

    def track_loss_components(self, loss: dict[str, torch.Tensor]) -> None:
        if self.model.training:
            self._guard().check(loss, self.state.global_step + 1)
        super().track_loss_components(loss)

    def _load_from_checkpoint(self, checkpoint_path: str, *args: Any, **kwargs: Any) -> None:
        # sentence-transformers reloads a checkpoint as a fresh model, which drops LoRA adapters: load them in place
        from crossalign.training.lora import has_lora, load_lora_checkpoint

        if has_lora(self.model):
            load_lora_checkpoint(self.model, checkpoint_path)
            return
        super()._load_from_checkpoint(checkpoint_path, *args, **kwargs)

    def compute_loss(self, model: Any, inputs: Any, return_outputs: bool = False, num_items_in_batch: Any = None):
        out = super().compute_loss(model, inputs, return_outputs=return_outputs, num_items_in_batch=num_items_in_batch)
        if self.model.training:
            loss = out[0] if return_outputs else out
            self._guard().check({"loss": loss}, self.state.global_step + 1)
        return out
