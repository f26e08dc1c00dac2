"""Benchmark 5: how cost grows. Evaluation wall time and peak memory vs pool size; training step time vs batch size.

Evaluation: the retrieval evaluation core on cached embeddings (exact top-100 of every query, the exact rank of
every gold document in the whole pool, MRR@10 and recall@100) for ``n_queries`` queries against pools of 1k, 10k
and 50k documents, one fresh child process per (pool size, repeat), pool sizes interleaved across repeats. Encoding
the pool is not included (it is linear in the pool: ``N / texts-per-second`` of benchmark 3).

Training: CLEARLoss vs MNRL step time (benchmark 1's protocol) at several batch sizes.

Growth is reported as ratios to the smallest size and as the log-log slope (1.0 = linear).
"""

from __future__ import annotations

import math
from typing import Any

from benchmarks.common import TextPool, run_child, summarize
from benchmarks.training_step import TrainingConfig, compare_step, optimizer_for

DIM = 384


def slope(xs: list[float], ys: list[float]) -> float:
    """Least-squares slope of ``log y`` on ``log x``."""
    lx, ly = [math.log(x) for x in xs], [math.log(max(y, 1e-12)) for y in ys]
    mx, my = sum(lx) / len(lx), sum(ly) / len(ly)
    den = sum((a - mx) ** 2 for a in lx)
    return sum((a - mx) * (b - my) for a, b in zip(lx, ly)) / den if den else float("nan")


def run_eval(*, pool_sizes: list[int], n_queries: int, repeats: int, threads: int) -> dict[str, Any]:
    """Evaluation cost vs pool size."""
    runs: dict[int, list[dict[str, Any]]] = {n: [] for n in pool_sizes}
    for r in range(repeats):
        for n in pool_sizes if r % 2 == 0 else pool_sizes[::-1]:
            runs[n].append(
                run_child("eval_pool", {"n_docs": n, "n_queries": n_queries, "dim": DIM, "threads": threads})
            )
    base = pool_sizes[0]
    rows = []
    for n in pool_sizes:
        secs = [x["seconds"] for x in runs[n]]
        mems = [x["extra_mib"] for x in runs[n]]
        rows.append(
            {
                "n_docs": n,
                "n_queries": n_queries,
                "seconds": summarize(secs),
                "extra_mib": summarize(mems),
                "time_ratio_to_smallest": summarize([a["seconds"] / b["seconds"] for a, b in zip(runs[n], runs[base])]),
                "size_ratio_to_smallest": n / base,
                "metrics": runs[n][0]["metrics"],
            }
        )
    return {
        "what": "exact top-100 + exact gold ranks + MRR@10/recall@100 on cached embeddings (encoding excluded)",
        "rows": rows,
        "time_slope": slope([float(r["n_docs"]) for r in rows], [r["seconds"]["median"] for r in rows]),
        "memory_slope": slope([float(r["n_docs"]) for r in rows], [max(r["extra_mib"]["median"], 1e-3) for r in rows]),
    }


def run_training(
    model: Any, pool: TextPool, *, batch_sizes: list[int], max_seq_length: int, repeats: int, steps_per_repeat: int
) -> dict[str, Any]:
    """CLEARLoss vs MNRL step time at each batch size."""
    optimizer = optimizer_for(model)
    rows = []
    for b in batch_sizes:
        cfg = TrainingConfig(b, max_seq_length, steps_per_repeat, repeats)
        rec = compare_step(model, optimizer, pool, "clear", cfg, seed=1000 + b)
        rows.append(rec)
    xs = [float(r["batch_size"]) for r in rows]
    return {
        "loss": "clear",
        "rows": rows,
        "ours_time_slope": slope(xs, [r["ours_seconds_per_step"]["median"] for r in rows]),
        "peer_time_slope": slope(xs, [r["peer_seconds_per_step"]["median"] for r in rows]),
    }
