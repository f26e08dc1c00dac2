"""Benchmark 4: exact chunked top-k (``crossalign.search.exact_topk``) vs faiss ``IndexFlatIP``.

Random L2-normalised 384-d vectors, ``n_queries`` queries against pools of 10k, 100k and 200k documents, top-10.
Time: both in this process, alternating within each repeat, same thread count (torch and faiss OpenMP). Memory: one
fresh child process per (method, pool size): peak RSS during the search minus the RSS before it (the data already
allocated, and a tiny search run first so one-off library set-up is in the baseline). The chunk bound is the search's
own working set: ``4·(qt·dt + qt·dim + dt·dim)`` bytes for its tiles, ``12·nq·k`` for the results and ``8·nd`` for
the per-document tie-break key; it passes when the measured growth is at most 1.25× the bound + 8 MiB (allocator
slack). The full score matrix would be ``4·nq·nd`` bytes (an ``N×N`` matrix ``4·nd²``).
"""

from __future__ import annotations

from typing import Any

from benchmarks.common import interleaved, paired_ratios, run_child, summarize, unit_vectors

TARGET_TIME_RATIO = 1.5
DIM = 384
K = 10


def chunk_bound_mib(n_queries: int, n_docs: int, dim: int, k: int) -> float:
    """The working set the chunked search is designed to stay within (tiles + results), in MiB."""
    from crossalign.search import DEFAULT_DOC_CHUNK, DEFAULT_QUERY_CHUNK, _tile_size

    qt = _tile_size(max(n_queries, 1), DEFAULT_QUERY_CHUNK)
    dt = _tile_size(n_docs, DEFAULT_DOC_CHUNK)
    tiles = 4 * (qt * dt + qt * dim + dt * dim)
    results = 12 * n_queries * k
    order_ranks = 8 * n_docs  # the tie-break key per document (int64), 0.5 % of the documents' own size
    return (tiles + results + order_ranks) / 2**20


def run(*, pool_sizes: list[int], n_queries: int, repeats: int, threads: int) -> dict[str, Any]:
    """Benchmark 4."""
    import faiss

    from crossalign.search import exact_topk, faiss_topk

    faiss.omp_set_num_threads(threads)
    queries = unit_vectors(n_queries, DIM, seed=2)
    rows = []
    for n in pool_sizes:
        docs = unit_vectors(n, DIM, seed=1)
        times = interleaved(
            {"ours": lambda d=docs: exact_topk(queries, d, K), "peer": lambda d=docs: faiss_topk(queries, d, K)},
            repeats=repeats,
            warmup=1,
        )
        _, ours_i = exact_topk(queries, docs, K)
        _, peer_i = faiss_topk(queries, docs, K)
        agree = float((ours_i == peer_i).mean())
        del docs
        mem: dict[str, list[float]] = {"ours": [], "peer": []}
        for method, key in (("exact", "ours"), ("faiss", "peer")):
            res = run_child(
                "search",
                {"method": method, "n_docs": n, "n_queries": n_queries, "dim": DIM, "k": K, "threads": threads},
            )
            mem[key].append(res["extra_mib"])
        ratio = paired_ratios(times["ours"], times["peer"])
        bound = chunk_bound_mib(n_queries, n, DIM, K)
        full = 4.0 * n_queries * n / 2**20
        ours_mem = mem["ours"][0]
        rows.append(
            {
                "n_docs": n,
                "n_queries": n_queries,
                "k": K,
                "dim": DIM,
                "ours_seconds": summarize(times["ours"]),
                "peer_seconds": summarize(times["peer"]),
                "ratio": ratio,
                "ratio_direction": "ours / faiss time, lower is better",
                "target": TARGET_TIME_RATIO,
                "passed": ratio["median"] <= TARGET_TIME_RATIO,
                "topk_index_agreement": agree,
                "ours_extra_mib": ours_mem,
                "peer_extra_mib": mem["peer"][0],
                "memory_ratio": ours_mem / max(mem["peer"][0], 1e-9),
                "chunk_bound_mib": bound,
                "score_matrix_mib": full,
                "nxn_matrix_mib": 4.0 * n * n / 2**20,
                "memory_within_chunk_bound": ours_mem <= 1.25 * bound + 8.0,
            }
        )
    return {"peer": "faiss IndexFlatIP (faiss_topk)", "threads": threads, "rows": rows}
