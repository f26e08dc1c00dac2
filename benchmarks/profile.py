"""Benchmark 6: where the time goes. ``torch.profiler`` over encoding and over one CLEAR training step.

Each op's *self* CPU time (time inside the op, not in ops it calls) is summed by category:

- ``matmul``: dense products (``aten::addmm``, ``mm``, ``bmm``, ``linear``'s kernels, ``matmul``);
- ``attention``: scaled-dot-product attention and its pieces (``_scaled_dot_product*``, ``softmax``, ``baddbmm``);
- ``norm_gelu``: layer norm and GELU (forward and backward);
- ``elementwise``: adds, multiplies, copies, casts, views, ``masked_fill`` and the other small ops;
- ``optimizer``: AdamW's foreach/fused kernels (training only);
- ``other``: everything else (embedding lookups, reductions, loss arithmetic);
- ``python_and_framework``: the wall time of the profiled block minus all ops' self time: the Python interpreter,
  sentence-transformers/transformers module code, autograd bookkeeping and dispatch between ops.

Shares are of the block's wall time. The top ops by self time are listed too. The profiler itself adds overhead per
op (counted in ``python_and_framework``), so that share is an upper bound.
"""

from __future__ import annotations

import time
from typing import Any

import torch

from benchmarks.common import TextPool, mixed_texts

CATEGORIES = ("matmul", "attention", "norm_gelu", "elementwise", "optimizer", "other")
_MATMUL = ("addmm", "aten::mm", "aten::bmm", "aten::matmul", "aten::linear", "mkldnn_", "onednn")
_ATTENTION = ("scaled_dot_product", "softmax", "baddbmm", "flash_attention")
_NORM_GELU = ("layer_norm", "gelu")
_OPTIMIZER = ("_foreach", "adam", "_fused")
_ELEMENTWISE = (
    "aten::add",
    "aten::mul",
    "aten::div",
    "aten::sub",
    "aten::copy_",
    "aten::to",
    "aten::_to_copy",
    "aten::clone",
    "aten::contiguous",
    "aten::masked_fill",
    "aten::where",
    "aten::fill_",
    "aten::zero_",
    "aten::empty",
    "aten::view",
    "aten::transpose",
    "aten::permute",
    "aten::expand",
    "aten::reshape",
    "aten::t",
    "aten::slice",
    "aten::select",
    "aten::cat",
    "aten::dropout",
    "aten::native_dropout",
    "aten::bernoulli",
)


def category(name: str) -> str:
    """The category of profiler op ``name`` (see the module docs)."""
    low = name.lower()
    if any(k in low for k in _OPTIMIZER):
        return "optimizer"
    if any(k in low for k in _ATTENTION):
        return "attention"
    if any(k in low for k in _NORM_GELU):
        return "norm_gelu"
    if any(k in low for k in _MATMUL):
        return "matmul"
    if any(low.startswith(k) for k in _ELEMENTWISE):
        return "elementwise"
    return "other"


def profile_block(fn: Any, *, top: int = 12) -> dict[str, Any]:
    """Run ``fn`` once under ``torch.profiler`` and summarise its ops' self CPU time by category."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU]) as prof:
        t0 = time.perf_counter()
        fn()
        wall = time.perf_counter() - t0
    by_cat = dict.fromkeys(CATEGORIES, 0.0)
    ops = []
    for evt in prof.key_averages():
        seconds = evt.self_cpu_time_total / 1e6
        if seconds <= 0:
            continue
        by_cat[category(evt.key)] += seconds
        ops.append((seconds, evt.key, evt.count))
    ops.sort(reverse=True)
    in_ops = sum(by_cat.values())
    shares = {k: v / wall for k, v in by_cat.items()}
    shares["python_and_framework"] = max(wall - in_ops, 0.0) / wall
    return {
        "wall_seconds": wall,
        "ops_self_seconds": in_ops,
        "seconds_by_category": by_cat,
        "share_of_wall": shares,
        "top_ops": [{"op": name, "self_seconds": s, "share_of_wall": s / wall, "calls": n} for s, name, n in ops[:top]],
    }


def run(model: Any, pool: TextPool, *, n_texts: int, train_batch: int, max_seq_length: int) -> dict[str, Any]:
    """Profiles of encoding ``n_texts`` mixed texts (fp32, torch) and of one CLEAR training step."""
    from benchmarks.training_step import column_texts, make_loss, optimizer_for, tokenize_columns, train_step
    from crossalign.models import encode

    texts = mixed_texts(pool, n_texts, seed=5)
    model.eval()
    encode(model, texts[:32], prompt_name="passage", show_progress=False, backend="torch")  # warm-up
    enc = profile_block(lambda: encode(model, texts, prompt_name="passage", show_progress=False, backend="torch"))

    saved = model.max_seq_length
    model.max_seq_length = max_seq_length
    try:
        names, cols = column_texts(pool, "clear", train_batch, seed=7)
        features = tokenize_columns(model, cols)
        loss = make_loss("clear", model, names)
        optimizer = optimizer_for(model)
        model.train()
        train_step(model, loss, optimizer, features)  # warm-up (AdamW state, allocator)
        step = profile_block(lambda: train_step(model, loss, optimizer, features))
    finally:
        model.max_seq_length = saved
        model.eval()
    return {
        "what": "torch.profiler self CPU time by op category, as a share of the block's wall time",
        "threads": torch.get_num_threads(),
        "encode": {"texts": n_texts, "backend": "torch", "precision": "fp32", **enc},
        "training_step": {"loss": "clear", "batch_size": train_batch, "max_seq_length": max_seq_length, **step},
    }
