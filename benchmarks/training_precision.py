"""Benchmark 1b: one CLEAR training step in fp32 vs bf16 mixed precision (``torch.autocast``), the CPU's bf16 limit.

Both steps run the same pre-tokenised CLEAR batch on the same model and optimizer: zero_grad, loss forward, backward,
AdamW step, dropout on (train mode). The bf16 step wraps the forward pass and the loss in
``torch.autocast("cpu", dtype=torch.bfloat16)`` and runs backward and the optimizer outside it, which is what
``TrainingArguments(bf16=True)`` (``crossalign train --bf16``) does on a CPU; master weights and optimizer state stay
fp32. The two alternate within every repeat (ABBA); the ratio is fp32 seconds / bf16 seconds per repeat.

Correctness proxy (one batch, dropout off, no optimizer step): the relative difference of the loss value and the
cosine between the fp32 and bf16 gradients over all trainable parameters. It says whether a bf16 step points where
the fp32 step does; whether a whole training run ends at the same metrics is a separate, much longer check.
"""

from __future__ import annotations

import contextlib
from typing import Any

import numpy as np
import torch

from benchmarks.common import TextPool, interleaved, paired_ratios, summarize
from benchmarks.training_step import column_texts, make_loss, optimizer_for, tokenize_columns

TARGET_SPEEDUP = 1.5


def _step(
    model: Any, loss: torch.nn.Module, optimizer: torch.optim.Optimizer, features: list[dict], bf16: bool
) -> float:
    optimizer.zero_grad(set_to_none=True)
    ctx = torch.autocast("cpu", dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()
    with ctx:
        out = loss([dict(f) for f in features], None)
        total = torch.stack(list(out.values())).sum() if isinstance(out, dict) else out
    total.backward()
    optimizer.step()
    return float(total.detach())


def _gradients(model: Any, loss: torch.nn.Module, features: list[dict], bf16: bool) -> tuple[float, np.ndarray]:
    params = [p for p in model.parameters() if p.requires_grad]
    for p in params:
        p.grad = None
    ctx = torch.autocast("cpu", dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()
    with ctx:
        out = loss([dict(f) for f in features], None)
        total = torch.stack(list(out.values())).sum() if isinstance(out, dict) else out
    total.backward()
    grad = (
        torch.cat([p.grad.detach().float().flatten() for p in params if p.grad is not None]).numpy().astype(np.float64)
    )
    for p in params:
        p.grad = None
    return float(total.detach()), grad


def run(model: Any, pool: TextPool, *, batch_size: int, max_seq_length: int, repeats: int) -> dict[str, Any]:
    """Benchmark 1b (CLEAR, ``batch_size`` rows, ``max_seq_length`` tokens)."""
    saved = model.max_seq_length
    model.max_seq_length = max_seq_length
    try:
        names, cols = column_texts(pool, "clear", batch_size, seed=11)
        features = tokenize_columns(model, cols)
        loss = make_loss("clear", model, names)
        optimizer = optimizer_for(model)

        model.eval()  # dropout off: the two gradients differ only by arithmetic
        loss_fp32, grad_fp32 = _gradients(model, loss, features, bf16=False)
        loss_bf16, grad_bf16 = _gradients(model, loss, features, bf16=True)
        cosine = float(grad_fp32 @ grad_bf16 / (np.linalg.norm(grad_fp32) * np.linalg.norm(grad_bf16)))

        model.train()
        times = interleaved(
            {
                "fp32": lambda: _step(model, loss, optimizer, features, bf16=False),
                "bf16": lambda: _step(model, loss, optimizer, features, bf16=True),
            },
            repeats=repeats,
        )
    finally:
        model.max_seq_length = saved
        model.eval()
    speedup = paired_ratios(times["fp32"], times["bf16"])
    return {
        "loss": "clear",
        "batch_size": batch_size,
        "max_seq_length": max_seq_length,
        "padded_tokens": int(sum(f["input_ids"].numel() for f in features)),
        "fp32_seconds": summarize(times["fp32"]),
        "bf16_seconds": summarize(times["bf16"]),
        "speedup": speedup,
        "speedup_direction": "fp32 step time / bf16 autocast step time, higher is better",
        "speedup_target": TARGET_SPEEDUP,
        "speedup_passed": speedup["median"] >= TARGET_SPEEDUP,
        "loss_relative_difference": abs(loss_bf16 - loss_fp32) / max(abs(loss_fp32), 1e-12),
        "gradient_cosine": cosine,
    }
