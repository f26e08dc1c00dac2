"""One memory measurement per process: ``python -m benchmarks._child TASK PARAMS_JSON`` prints one JSON line.

Tasks:

- ``gradcache``: one CachedCLEARLoss training step at a batch size (texts from a JSON file the parent wrote);
- ``search``: exact chunked top-k or faiss ``IndexFlatIP`` over random unit vectors;
- ``eval_pool``: the retrieval evaluation core (top-k, exact gold ranks, MRR@10 / recall@100) at a pool size.

Each reports ``extra_mib``: the peak RSS during the measured call minus the RSS just before it (after imports, model
load and data set-up), measured with :class:`benchmarks.common.MemoryProbe`.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np


def _threads(n: int | None) -> None:
    import torch

    if n:
        torch.set_num_threads(n)


def gradcache(params: dict[str, Any]) -> dict[str, Any]:
    """Peak RSS growth of one CachedCLEARLoss step (mini-batch ``mini_batch_size``) at ``batch_size`` rows
    (``loss="cmnrl"``: sentence-transformers' CachedMultipleNegativesRankingLoss on the same columns instead)."""
    import torch

    from benchmarks.common import MemoryProbe, current_rss_mib
    from benchmarks.models import bench_model, freeze_word_embeddings
    from benchmarks.training_step import optimizer_for, tokenize_columns, train_step
    from crossalign.losses import CachedCLEARLoss

    _threads(params.get("threads"))
    torch.manual_seed(0)
    model = bench_model(tiny=params["tiny"], max_seq_length=params["max_seq_length"])
    if params.get("freeze_word_embeddings", True):
        freeze_word_embeddings(model)
    data = json.loads(Path(params["texts_file"]).read_text())
    names: list[str] = data["names"]
    b, mb = params["batch_size"], params["mini_batch_size"]
    features = tokenize_columns(model, [col[:b] for col in data["columns"]])
    warm = tokenize_columns(model, [col[:mb] for col in data["columns"]])
    loss: Any
    if params.get("loss", "clear") == "clear":
        loss = CachedCLEARLoss(model, mini_batch_size=mb)
        loss.validate_columns(names)
    else:  # the peer: sentence-transformers' own GradCache loss on the same columns
        from sentence_transformers.sentence_transformer.losses import CachedMultipleNegativesRankingLoss

        loss = CachedMultipleNegativesRankingLoss(model, mini_batch_size=mb)
    optimizer = optimizer_for(model)
    model.train()
    after_load = current_rss_mib()
    # A warm-up step at one mini-batch allocates what every step needs whatever the batch (gradients, AdamW state),
    # so the measured growth is what depends on the batch size.
    train_step(model, loss, optimizer, warm)
    with MemoryProbe() as probe:
        t0 = time.perf_counter()
        train_step(model, loss, optimizer, features)
        seconds = time.perf_counter() - t0
    return {
        "batch_size": b,
        "mini_batch_size": mb,
        "texts": b * len(names),
        "extra_mib": probe.extra_mib,
        "peak_mib": probe.peak_mib,
        "baseline_mib": probe.baseline_mib,
        "rss_after_load_mib": after_load,
        "peak_reset": probe.peak_reset,
        "seconds": seconds,
    }


def search(params: dict[str, Any]) -> dict[str, Any]:
    """Peak RSS growth of one top-k search (``method`` ``exact`` or ``faiss``)."""
    from benchmarks.common import MemoryProbe, unit_vectors
    from crossalign.search import exact_topk, faiss_topk

    _threads(params.get("threads"))
    if params["method"] == "faiss":
        import faiss

        if params.get("threads"):
            faiss.omp_set_num_threads(params["threads"])
    docs = unit_vectors(params["n_docs"], params["dim"], seed=1)
    queries = unit_vectors(params["n_queries"], params["dim"], seed=2)
    fn = exact_topk if params["method"] == "exact" else faiss_topk
    fn(queries[:16], docs[:64], params["k"])  # one-off library set-up (BLAS buffers, thread pools) into the baseline
    with MemoryProbe() as probe:
        t0 = time.perf_counter()
        scores, _ = fn(queries, docs, params["k"])
        seconds = time.perf_counter() - t0
    assert np.isfinite(scores).all()
    return {
        **params,
        "extra_mib": probe.extra_mib,
        "peak_mib": probe.peak_mib,
        "baseline_mib": probe.baseline_mib,
        "peak_reset": probe.peak_reset,
        "seconds": seconds,
    }


def evaluate_pool(queries: np.ndarray, docs: np.ndarray, k: int = 100) -> dict[str, float]:
    """The retrieval evaluation core on embeddings: top-k, exact gold ranks, MRR@10 and recall@100.

    Query ``i``'s gold document is document ``i`` (the pool's first ``nq`` documents are the golds).
    """
    from crossalign.search import exact_topk, gold_ranks

    _, top = exact_topk(queries, docs, k)
    gold = np.stack([np.arange(len(queries)), np.arange(len(queries))], axis=1)
    ranks = gold_ranks(queries, docs, gold)
    mrr10 = float(np.mean(np.where(ranks <= 10, 1.0 / ranks, 0.0)))
    recall = float(np.mean((top == np.arange(len(queries))[:, None]).any(axis=1)))
    return {"mrr@10": mrr10, "recall@100": recall}


def paired_pool(n_docs: int, n_queries: int, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """Random unit documents; each query is a noisy copy of its gold document (so metrics are non-trivial)."""
    from benchmarks.common import unit_vectors

    docs = unit_vectors(n_docs, dim, seed=3)
    noise = unit_vectors(n_queries, dim, seed=4)
    queries = docs[:n_queries] + 1.2 * noise
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    return np.ascontiguousarray(queries, dtype=np.float32), docs


def eval_pool(params: dict[str, Any]) -> dict[str, Any]:
    """Wall time and peak RSS growth of :func:`evaluate_pool` at one pool size."""
    from benchmarks.common import MemoryProbe

    _threads(params.get("threads"))
    queries, docs = paired_pool(params["n_docs"], params["n_queries"], params["dim"])
    evaluate_pool(queries[:16], docs[:64], k=10)  # one-off library set-up into the baseline
    with MemoryProbe() as probe:
        t0 = time.perf_counter()
        metrics = evaluate_pool(queries, docs)
        seconds = time.perf_counter() - t0
    return {
        **params,
        "metrics": metrics,
        "extra_mib": probe.extra_mib,
        "peak_mib": probe.peak_mib,
        "baseline_mib": probe.baseline_mib,
        "peak_reset": probe.peak_reset,
        "seconds": seconds,
    }


TASKS = {"gradcache": gradcache, "search": search, "eval_pool": eval_pool}


def main(argv: list[str] | None = None) -> None:
    """Entry point: ``TASK PARAMS_JSON``; prints the result as one JSON line."""
    args = sys.argv[1:] if argv is None else argv
    task, params = args[0], json.loads(args[1])
    result = TASKS[task](params)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
