"""Benchmark 3: crossalign's ``encode`` vs ``SentenceTransformer.encode`` on the same mixed-length texts, and the
fraction of the machine's matrix-multiply throughput (the roofline) the encoder achieves.

Both encode the same texts with the ``passage`` prompt, batch size 32, the model's own ``max_seq_length``; each
repeat runs both (alternating order) and measures the roofline right next to them: the best of a few fp32 ``torch.mm``
shapes like the encoder's (tokens × 384 × 1536) and a square one, same threads. Encoder FLOPs are counted from the
texts' real token counts (padding excluded: useful work only), so the fraction says how much of the machine's
matrix-multiply rate reaches useful encoder arithmetic.

The roofline is measured in fp32 and in bf16 (on CPUs with native bf16 a bf16 product runs several times faster);
the fraction is reported against the best of the two (the machine's real limit) and against fp32 alone.

``ours`` is crossalign's encode pinned to ``backend="torch"`` in fp32 (the path every stage used before
``backend="auto"`` became the default). The **default path**, ``encode(model, texts)`` with no backend or precision
given (:mod:`crossalign.models.backends`: OpenVINO when the ``openvino`` package is installed, else torch; bf16 on
OpenVINO where the CPU has native bf16, else fp32), and OpenVINO at the *other* precision (fp32 when the default is
bf16; bf16 when it is fp32 and the CPU has native bf16) run in the same rounds; their speed-ups are over ``ours``
on the same texts, and their vectors are compared with ``ours`` (minimum cosine over all texts).
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
TARGET_FAST_SPEEDUP = 1.5
TARGET_FAST_COSINE = 0.9999


def matmul_flops_per_second(
    hidden: int, ffn: int, min_seconds: float = 0.4, dtype: torch.dtype = torch.float32
) -> dict[str, float]:
    """``torch.mm`` throughput in ``dtype`` over encoder-like shapes and a square one (FLOP/s per shape)."""
    shapes = {
        f"2048x{hidden}x{ffn}": (2048, hidden, ffn),
        f"2048x{ffn}x{hidden}": (2048, ffn, hidden),
        "1024x1024x1024": (1024, 1024, 1024),
    }
    out = {}
    for name, (m, k, n) in shapes.items():
        a, b = torch.randn(m, k, dtype=dtype), torch.randn(k, n, dtype=dtype)
        c = torch.empty(m, n, dtype=dtype)
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
        return encode(model, texts, prompt_name="passage", batch_size=batch_size, show_progress=False, backend="torch")

    def peer() -> np.ndarray:
        return model.encode(texts, prompt_name="passage", batch_size=batch_size, show_progress_bar=False)

    from crossalign.models import model_fingerprint
    from crossalign.models.backends import cpu_has_bf16, openvino_available, resolve_backend, resolve_precision

    fast_backend = resolve_backend("auto", model)
    fast_precision = resolve_precision("auto", fast_backend)
    alt_precision = "fp32" if fast_precision == "bf16" else "bf16"
    fingerprint = model_fingerprint(model)

    def fast() -> np.ndarray:  # the default path: no backend or precision given
        return encode(model, texts, prompt_name="passage", batch_size=batch_size, show_progress=False)

    def alt() -> np.ndarray:  # OpenVINO at the precision the default does not use
        return encode(
            model,
            texts,
            prompt_name="passage",
            batch_size=batch_size,
            show_progress=False,
            backend="openvino",
            precision=alt_precision,
            fingerprint=fingerprint,
        )

    # warm-up on a slice, and an equality check: both paths must give the same vectors
    a = encode(model, texts[:64], prompt_name="passage", batch_size=batch_size, show_progress=False, backend="torch")
    b = model.encode(texts[:64], prompt_name="passage", batch_size=batch_size, show_progress_bar=False)
    max_diff = float(np.abs(np.asarray(a) - np.asarray(b)).max())
    fast()  # warm-up: the OpenVINO export (cached per model fingerprint) and compilation happen here
    reference, fast_vectors = ours(), fast()
    fast_cosine = np.sum(reference.astype(np.float64) * fast_vectors, axis=1)
    fns = {"ours": ours, "peer": peer, "fast": fast}
    with_alt = openvino_available() and (alt_precision == "fp32" or cpu_has_bf16())
    if with_alt:
        alt_cosine = np.sum(reference.astype(np.float64) * alt(), axis=1)
        fns["alt"] = alt

    shape = encoder_shape(model)
    times: dict[str, list[float]] = {name: [] for name in fns}
    rooflines: dict[str, list[float]] = {"fp32": [], "bf16": []}
    roofline_shapes: list[dict[str, dict[str, float]]] = []

    def measure_roofline() -> None:
        shapes = {
            name: matmul_flops_per_second(shape["hidden"], shape["ffn"], dtype=dtype)
            for name, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16))
        }
        roofline_shapes.append(shapes)
        for name, per_shape in shapes.items():
            rooflines[name].append(max(per_shape.values()))

    for r in range(repeats):
        measure_roofline()
        order = list(fns) if r % 2 == 0 else list(fns)[::-1]
        for name in order:
            t0 = time.perf_counter()
            fns[name]()
            times[name].append(time.perf_counter() - t0)
    measure_roofline()
    # the roofline of repeat r: the mean of the measurements before and after it
    roof_fp32 = [(rooflines["fp32"][r] + rooflines["fp32"][r + 1]) / 2 for r in range(repeats)]
    roof_bf16 = [(rooflines["bf16"][r] + rooflines["bf16"][r + 1]) / 2 for r in range(repeats)]
    roof_r = [max(x, y) for x, y in zip(roof_fp32, roof_bf16)]
    roofline = [max(x, y) for x, y in zip(rooflines["fp32"], rooflines["bf16"])]
    frac_ours = [flops / t / roof for t, roof in zip(times["ours"], roof_r)]
    frac_peer = [flops / t / roof for t, roof in zip(times["peer"], roof_r)]
    frac_fast = [flops / t / roof for t, roof in zip(times["fast"], roof_r)]
    frac_ours_fp32 = [flops / t / roof for t, roof in zip(times["ours"], roof_fp32)]
    speedup = paired_ratios(times["peer"], times["ours"])
    fast_speedup = paired_ratios(times["ours"], times["fast"])
    fraction = summarize(frac_ours)
    alt_fields: dict[str, Any] = {}
    if with_alt:
        alt_fields = {
            "alt_backend": "openvino",
            "alt_precision": alt_precision,
            "alt_texts_per_second": summarize([n_texts / t for t in times["alt"]]),
            "alt_speedup": paired_ratios(times["ours"], times["alt"]),
            "alt_min_cosine_to_fp32": float(alt_cosine.min()),
            "alt_roofline_fraction": summarize([flops / t / roof for t, roof in zip(times["alt"], roof_r)]),
            "default_vs_alt_speedup": paired_ratios(times["alt"], times["fast"]),
        }
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
        "roofline_what": "best of the fp32 and bf16 torch.mm rates (encoder-like shapes and 1024^3), same threads",
        "roofline_fp32_flops_per_second": summarize(rooflines["fp32"]),
        "roofline_bf16_flops_per_second": summarize(rooflines["bf16"]),
        "roofline_per_shape": roofline_shapes,
        "ours_flops_per_second": summarize([flops / t for t in times["ours"]]),
        "roofline_fraction": fraction,
        "roofline_fraction_of_fp32": summarize(frac_ours_fp32),
        "peer_roofline_fraction": summarize(frac_peer),
        "fast_backend": fast_backend,
        "fast_precision": fast_precision,
        "fast_texts_per_second": summarize([n_texts / t for t in times["fast"]]),
        "fast_speedup": fast_speedup,
        "fast_what": "the default path: encode(model, texts) with no backend or precision given",
        "fast_speedup_direction": "crossalign fp32 torch time / default path time, higher is better",
        "fast_speedup_target": TARGET_FAST_SPEEDUP,
        "fast_speedup_passed": fast_speedup["median"] >= TARGET_FAST_SPEEDUP,
        "fast_min_cosine_to_fp32": float(fast_cosine.min()),
        "fast_cosine_target": TARGET_FAST_COSINE,
        "fast_cosine_passed": float(fast_cosine.min()) >= TARGET_FAST_COSINE,
        "fast_roofline_fraction": summarize(frac_fast),
        "roofline_fraction_target": TARGET_ROOFLINE_FRACTION,
        "roofline_fraction_passed": fraction["median"] >= TARGET_ROOFLINE_FRACTION,
        **alt_fields,
    }
