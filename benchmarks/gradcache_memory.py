"""Benchmark 2: GradCache memory. Peak RSS growth of one CachedCLEARLoss step vs batch size, one process each.

Every batch size runs in a fresh child process (peak RSS is process-wide). The child loads the model, tokenises the
batch, runs one warm-up step at one mini-batch (gradients and AdamW state exist from then on, whatever the batch),
then measures the peak RSS of one full step minus the RSS just before it. With GradCache that growth should hardly
depend on the batch: activations live for one mini-batch at a time; only the cached embeddings, the features and
the ``mini_batch × candidates`` similarity chunks grow with it.

Columns: ``anchor, positive, cross_anchor`` (no hard negatives, to keep a 256-row step affordable on 2 cores).
"""

from __future__ import annotations

import json
import random
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.common import TextPool, pick, run_child, summarize

TARGET_MEMORY_RATIO = 1.3


def write_texts(pool: TextPool, max_batch: int, path: Path, seed: int = 7) -> None:
    """The columns (English heading query, English paragraph, heading in another language) for ``max_batch`` rows."""
    rng = random.Random(seed)
    x = rng.choice([lang for lang in pool.languages if lang != "en"])
    columns = [
        ["query: " + t for t in pick(pool.headings, "en", max_batch, rng)],
        ["passage: " + t for t in pick(pool.paragraphs, "en", max_batch, rng)],
        ["query: " + t for t in pick(pool.headings, x, max_batch, rng)],
    ]
    path.write_text(json.dumps({"names": ["anchor", "positive", "cross_anchor"], "columns": columns}))


def run(
    pool: TextPool,
    *,
    tiny: bool,
    batch_sizes: list[int],
    mini_batch_size: int,
    max_seq_length: int,
    repeats: int,
    threads: int,
    peer: bool = False,
) -> dict[str, Any]:
    """Benchmark 2: one child per (batch size, repeat), batch sizes interleaved across repeats.

    With ``peer``, sentence-transformers' CachedMultipleNegativesRankingLoss runs on the same columns and batches,
    interleaved with ours, and its growth is reported next to ours (``peer_rows``, ``peer_ratio``).
    """
    with tempfile.TemporaryDirectory(prefix="crossalign-bench-") as tmp:
        texts_file = Path(tmp) / "texts.json"
        write_texts(pool, max(batch_sizes), texts_file)
        losses = ["clear", "cmnrl"] if peer else ["clear"]
        all_runs: dict[str, dict[int, list[dict[str, Any]]]] = {k: {b: [] for b in batch_sizes} for k in losses}
        for r in range(repeats):
            order = batch_sizes if r % 2 == 0 else batch_sizes[::-1]
            for b in order:
                for loss in losses if r % 2 == 0 else losses[::-1]:
                    all_runs[loss][b].append(
                        run_child(
                            "gradcache",
                            {
                                "tiny": tiny,
                                "loss": loss,
                                "batch_size": b,
                                "mini_batch_size": mini_batch_size,
                                "max_seq_length": max_seq_length,
                                "texts_file": str(texts_file),
                                "threads": threads,
                            },
                        )
                    )
    runs = all_runs["clear"]
    rows = _rows(runs, batch_sizes)
    small, large = batch_sizes[0], batch_sizes[-1]
    extra: dict[str, Any] = {}
    if peer:
        peer_runs = all_runs["cmnrl"]
        extra = {
            "peer": "sentence-transformers CachedMultipleNegativesRankingLoss, same columns and batches",
            "peer_rows": _rows(peer_runs, batch_sizes),
            "peer_ratio": summarize(
                [a["extra_mib"] / max(s["extra_mib"], 1e-9) for a, s in zip(peer_runs[large], peer_runs[small])]
            ),
        }
    return _result(runs, rows, batch_sizes, mini_batch_size, max_seq_length) | extra


def _rows(runs: dict[int, list[dict[str, Any]]], batch_sizes: list[int]) -> list[dict[str, Any]]:
    rows = []
    for b in batch_sizes:
        rows.append(
            {
                "batch_size": b,
                "texts_per_step": runs[b][0]["texts"],
                "extra_mib": summarize([x["extra_mib"] for x in runs[b]]),
                "peak_mib": summarize([x["peak_mib"] for x in runs[b]]),
                "seconds_per_step": summarize([x["seconds"] for x in runs[b]]),
                "peak_reset": all(x["peak_reset"] for x in runs[b]),
            }
        )
    return rows


def _result(
    runs: dict[int, list[dict[str, Any]]],
    rows: list[dict[str, Any]],
    batch_sizes: list[int],
    mini_batch_size: int,
    max_seq_length: int,
) -> dict[str, Any]:
    small, large = batch_sizes[0], batch_sizes[-1]
    ratios = [a["extra_mib"] / max(s["extra_mib"], 1e-9) for a, s in zip(runs[large], runs[small])]
    ratio = summarize(ratios)
    return {
        "loss": "CachedCLEARLoss",
        "columns": ["anchor", "positive", "cross_anchor"],
        "mini_batch_size": mini_batch_size,
        "max_seq_length": max_seq_length,
        "measure": "peak RSS during one training step minus RSS before it (after a warm-up step), fresh process each;"
        " the table also shows the whole process's peak RSS (the issue's wording)",
        "rows": rows,
        "ratio": ratio,
        "ratio_of": f"batch {large} / batch {small}",
        "ratio_direction": "lower is better",
        "target": TARGET_MEMORY_RATIO,
        "passed": ratio["median"] <= TARGET_MEMORY_RATIO,
    }
