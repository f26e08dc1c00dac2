"""Benchmark 3: crossalign's ``encode`` vs ``SentenceTransformer.encode`` on the same mixed-length texts, and the
fraction of the machine's matrix-multiply throughput (the roofline) the encoder achieves.

Both encode the same texts with the ``passage`` prompt, batch size 32, the model's own ``max_seq_length``; each
repeat runs both (alternating order) and measures the roofline right next to them: the best of a few fp32 ``torch.mm``
shapes like the encoder's (tokens × 384 × 1536) and a square one, same threads. Encoder FLOPs are counted from the
texts' real token counts (padding excluded: useful work only), so the fraction says how much of the machine's
matrix-multiply rate reaches useful encoder arithmetic.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch

from benchmarks.common import TextPool, mixed_texts, paired_ratios, summarize
from benchmarks.models import encoder_flops, encoder_shape

TARGET_SPEEDUP = 1.0
TARGET_ROOFLINE_FRACTION = 0.5


def matmul_flops_per_second(hidden: int, ffn: int, min_seconds: float = 0.4) -> dict[str, float]:
    """Best fp32 ``torch.mm`` throughput over encoder-like shapes and a square one (FLOP/s per shape)."""
    shapes = {
        f"2048x{hidden}x{ffn}": (2048, hidden, ffn),
        f"2048x{ffn}x{hidden}": (2048, ffn, hidden),
        "1024x1024x1024": (1024, 1024, 1024),
    }
    out = {}
    for name, (m, k, n) in shapes.items():
        a, b = torch.randn(m, k), torch.randn(k, n)
        c = torch.empty(m, n)
        torch.mm(a, b, out=c)
        reps, t0 = 0, time.perf_counter()
        while True:
            torch.mm(a, b, out=c)
            reps += 1
            elapsed = time.perf_counter() - t0
            if elapsed >= min_seconds and reps >= 3:
                break
        out[name] = 2.0 * m * k * n * reps / elapsed
    return out


def token_counts(model: Any, texts: list[str], prompt: str) -> list[int]:
    """Real token counts (specials included) after truncation to the model's ``max_seq_length``."""
    tok = model.tokenizer
    enc = tok([prompt + t for t in texts], truncation=True, max_length=model.max_seq_length)
    return [len(ids) for ids in enc["input_ids"]]


def run(model: Any, pool: TextPool, *, n_texts: int, repeats: int, batch_size: int = 32) -> dict[str, Any]:
    """Benchmark 3."""
    from crossalign.models import encode

    texts = mixed_texts(pool, n_texts, seed=3)
    prompt = (model.prompts or {}).get("passage", "")
    lengths = token_counts(model, texts, prompt)
    flops = encoder_flops(lengths, encoder_shape(model))
    model.eval()

    def ours() -> np.ndarray:
        return encode(model, texts, prompt_name="passage", batch_size=batch_size, show_progress=False)

    def peer() -> np.ndarray:
        return model.encode(texts, prompt_name="passage", batch_size=batch_size, show_progress_bar=False)

    # warm-up on a slice, and an equality check: both paths must give the same vectors
    a = encode(model, texts[:64], prompt_name="passage", batch_size=batch_size, show_progress=False)
    b = model.encode(texts[:64], prompt_name="passage", batch_size=batch_size, show_progress_bar=False)
    max_diff = float(np.abs(np.asarray(a) - np.asarray(b)).max())

    shape = encoder_shape(model)
    times: dict[str, list[float]] = {"ours": [], "peer": []}
    roofline: list[float] = []
    roofline_shapes: list[dict[str, float]] = []
    for r in range(repeats):
        per_shape = matmul_flops_per_second(shape["hidden"], shape["ffn"])
        roofline_shapes.append(per_shape)
        roofline.append(max(per_shape.values()))
        for name in ["ours", "peer"] if r % 2 == 0 else ["peer", "ours"]:
            fn = ours if name == "ours" else peer
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    per_shape = matmul_flops_per_second(shape["hidden"], shape["ffn"])
    roofline_shapes.append(per_shape)
    roofline.append(max(per_shape.values()))
    # the roofline of repeat r: the mean of the measurements before and after it
    roof_r = [(roofline[r] + roofline[r + 1]) / 2 for r in range(repeats)]
    frac_ours = [flops / t / roof for t, roof in zip(times["ours"], roof_r)]
    frac_peer = [flops / t / roof for t, roof in zip(times["peer"], roof_r)]
    speedup = paired_ratios(times["peer"], times["ours"])
    fraction = summarize(frac_ours)
    return {
        "texts": n_texts,
        "mix": "40% headings, 45% paragraphs, 15% sections, 8 languages",
        "batch_size": batch_size,
        "max_seq_length": model.max_seq_length,
        "tokens": {"total": int(sum(lengths)), "median": float(np.median(lengths)), "max": int(max(lengths))},
        "max_abs_diff_vs_peer": max_diff,
        "ours_seconds": summarize(times["ours"]),
        "peer_seconds": summarize(times["peer"]),
        "ours_texts_per_second": summarize([n_texts / t for t in times["ours"]]),
        "peer_texts_per_second": summarize([n_texts / t for t in times["peer"]]),
        "speedup": speedup,
        "speedup_direction": "peer time / ours time, higher is better",
        "speedup_target": TARGET_SPEEDUP,
        "speedup_passed": speedup["median"] >= TARGET_SPEEDUP,
        "encoder_flops": flops,
        "roofline_flops_per_second": summarize(roofline),
        "roofline_per_shape": roofline_shapes,
        "ours_flops_per_second": summarize([flops / t for t in times["ours"]]),
        "roofline_fraction": fraction,
        "peer_roofline_fraction": summarize(frac_peer),
        "roofline_fraction_target": TARGET_ROOFLINE_FRACTION,
        "roofline_fraction_passed": fraction["median"] >= TARGET_ROOFLINE_FRACTION,
    }
