"""``python -m benchmarks [--quick | --tiny] [--only SECTIONS] [--output DIR] [--repeats N]``.

Runs the benchmark suite of issue #6 and writes ``<timestamp>.json``, ``.md`` and ``.png`` (scaling plot) into the
output directory, atomically, plus copies as ``latest.*``. Sections: training, memory, encoding, search, scaling,
profile.

- default (full): the sizes of the README table, under 15 minutes on 2 shared cores;
- ``--quick``: smaller sizes, under 3 minutes;
- ``--tiny``: a tiny BERT built from a config and tiny sizes (seconds): the smoke test's mode.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SECTIONS = ("training", "memory", "encoding", "search", "scaling", "profile", "training-bf16")


@dataclass
class Profile:
    """Sizes of one run mode."""

    train_batch: int
    train_seq: int
    train_steps: int
    repeats: int
    search_repeats: int
    mem_batches: list[int]
    mem_mini_batch: int
    mem_seq: int
    mem_repeats: int
    encode_texts: int
    encode_repeats: int
    search_pools: list[int]
    search_queries: int
    eval_pools: list[int]
    eval_queries: int
    eval_repeats: int
    scale_batches: list[int]
    scale_repeats: int
    notes: list[str] = field(default_factory=list)
    profile_texts: int = 200


PROFILES = {
    "full": Profile(
        train_batch=8,
        train_seq=64,
        train_steps=1,
        repeats=5,
        search_repeats=3,
        mem_batches=[32, 128, 256],
        mem_mini_batch=16,
        mem_seq=32,
        mem_repeats=1,
        encode_texts=800,
        encode_repeats=3,
        search_pools=[10_000, 100_000, 200_000],
        search_queries=1000,
        eval_pools=[1_000, 10_000, 50_000],
        eval_queries=1000,
        eval_repeats=3,
        scale_batches=[4, 8, 16],
        scale_repeats=3,
        notes=[
            "encoding uses 800 texts, not the issue's 5k: SentenceTransformer.encode does ~16 texts/s on this mix on "
            "2 shared cores, so 5k texts x 2 paths x 3 repeats would take about 25 minutes, over the suite's budget"
        ],
    ),
    "quick": Profile(
        train_batch=4,
        train_seq=32,
        train_steps=1,
        repeats=3,
        search_repeats=3,
        mem_batches=[16, 32, 64],
        mem_mini_batch=8,
        mem_seq=16,
        mem_repeats=1,
        encode_texts=300,
        encode_repeats=3,
        search_pools=[10_000, 100_000, 200_000],
        search_queries=100,
        eval_pools=[1_000, 10_000, 50_000],
        eval_queries=100,
        eval_repeats=1,
        scale_batches=[2, 4, 8],
        scale_repeats=3,
        profile_texts=100,
        notes=["quick mode: smaller batches, sequences and text counts than the issue's sizes"],
    ),
    "tiny": Profile(
        train_batch=4,
        train_seq=32,
        train_steps=1,
        repeats=3,
        search_repeats=2,
        mem_batches=[8, 16],
        mem_mini_batch=4,
        mem_seq=32,
        mem_repeats=1,
        encode_texts=100,
        encode_repeats=3,
        search_pools=[2_000],
        search_queries=50,
        eval_pools=[500, 2_000],
        eval_queries=50,
        eval_repeats=1,
        scale_batches=[2, 4],
        scale_repeats=2,
        profile_texts=40,
        notes=["tiny mode: a randomly initialised 2-layer BERT and synthetic text; a smoke test, not a benchmark"],
    ),
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0])
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="smaller sizes (under 3 minutes)")
    mode.add_argument("--tiny", action="store_true", help="tiny model and sizes (the smoke test)")
    ap.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated subset of {','.join(SECTIONS)}")
    ap.add_argument("--output", default=str(Path(__file__).resolve().parent / "results"), help="output directory")
    ap.add_argument("--repeats", type=int, default=None, help="timed repeats per comparison (default: per mode)")
    ap.add_argument("--threads", type=int, default=None, help="torch/faiss threads (default: all cores)")
    ap.add_argument("--memory-batches", default=None, help="GradCache batch sizes, e.g. 32,256 (default: per mode)")
    ap.add_argument(
        "--memory-peer",
        action="store_true",
        help="also measure sentence-transformers' CachedMultipleNegativesRankingLoss in the memory benchmark",
    )
    return ap.parse_args(argv)


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def main(argv: list[str] | None = None) -> int:
    """Run the selected sections and write the results; returns the exit code."""
    args = parse_args(argv)
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    bad = [s for s in only if s not in SECTIONS]
    if bad:
        print(f"unknown section(s) {bad}; choose from {','.join(SECTIONS)}", file=sys.stderr)
        return 2
    mode = "tiny" if args.tiny else "quick" if args.quick else "full"
    prof = PROFILES[mode]
    repeats = args.repeats or prof.repeats
    os.environ.setdefault("CROSSALIGN_NO_PROGRESS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    # As the crossalign CLI does: OpenMP threads sleep instead of spinning while they wait (on a shared machine
    # spinning threads steal the other side's cores). Read once when torch loads; children inherit it.
    if "torch" not in sys.modules:
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

    import torch

    from benchmarks import common

    threads = args.threads or os.cpu_count() or 1
    torch.set_num_threads(threads)
    started, t_start = datetime.now(UTC), time.perf_counter()
    load_start = common.load_average()
    print(f"[benchmarks] {mode} mode, sections {only}, {threads} threads, load {load_start}", file=sys.stderr)

    pool = common.load_texts(synthetic=args.tiny)
    results: dict[str, Any] = {
        "started": started.isoformat(timespec="seconds"),
        "mode": mode,
        "command": " ".join(["python -m benchmarks", *(sys.argv[1:] if argv is None else argv)]),
        "machine": common.machine_info(),
        "model": "tiny BERT (2 layers, 32-d, random)" if args.tiny else "e5-small-q4",
        "texts_source": pool.source,
        "profile": prof.__dict__,
        "repeats": repeats,
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
        "sections": {},
        "section_seconds": {},
    }
    from benchmarks.models import bench_model, freeze_word_embeddings

    model = None
    native_max_seq_length = None
    if {"training", "encoding", "scaling", "profile", "training-bf16"} & set(only):
        model = bench_model(tiny=args.tiny)
        native_max_seq_length = model.max_seq_length

    def timed(name: str, fn: Any) -> None:
        t0 = time.perf_counter()
        print(f"[benchmarks] {name} ...", file=sys.stderr, flush=True)
        results["sections"][name] = fn()
        results["section_seconds"][name] = time.perf_counter() - t0
        print(f"[benchmarks] {name} done in {results['section_seconds'][name]:.0f} s", file=sys.stderr, flush=True)

    if "encoding" in only:
        from benchmarks import encoding

        assert model is not None
        timed(
            "encoding",
            lambda: encoding.run(model, pool, n_texts=prof.encode_texts, repeats=args.repeats or prof.encode_repeats),
        )
    if "training" in only or "scaling" in only:
        assert model is not None
        freeze_word_embeddings(model)
    if "training" in only:
        from benchmarks import training_step

        cfg = training_step.TrainingConfig(prof.train_batch, prof.train_seq, prof.train_steps, repeats)
        model.max_seq_length = prof.train_seq
        timed("training", lambda: training_step.run(model, pool, cfg))
    if "training-bf16" in only:
        from benchmarks import training_precision

        assert model is not None
        freeze_word_embeddings(model)  # as in the training benchmark
        timed(
            "training-bf16",
            lambda: training_precision.run(
                model, pool, batch_size=prof.train_batch, max_seq_length=prof.train_seq, repeats=repeats
            ),
        )
    if "profile" in only:
        from benchmarks import profile

        assert model is not None
        freeze_word_embeddings(model)  # as in the training benchmark
        model.max_seq_length = native_max_seq_length  # encoding as in the encoding benchmark
        timed(
            "profile",
            lambda: profile.run(
                model, pool, n_texts=prof.profile_texts, train_batch=prof.train_batch, max_seq_length=prof.train_seq
            ),
        )
    if "memory" in only:
        from benchmarks import gradcache_memory

        timed(
            "memory",
            lambda: gradcache_memory.run(
                pool,
                tiny=args.tiny,
                batch_sizes=[int(b) for b in args.memory_batches.split(",")]
                if args.memory_batches
                else prof.mem_batches,
                mini_batch_size=prof.mem_mini_batch,
                max_seq_length=prof.mem_seq,
                repeats=args.repeats or prof.mem_repeats,
                threads=threads,
                peer=args.memory_peer,
            ),
        )
    if "search" in only:
        from benchmarks import search

        timed(
            "search",
            lambda: search.run(
                pool_sizes=prof.search_pools,
                n_queries=prof.search_queries,
                repeats=args.repeats or prof.search_repeats,
                threads=threads,
            ),
        )
    if "scaling" in only:
        from benchmarks import scaling

        assert model is not None
        model.max_seq_length = prof.train_seq

        def scale() -> dict[str, Any]:
            return {
                "eval": scaling.run_eval(
                    pool_sizes=prof.eval_pools,
                    n_queries=prof.eval_queries,
                    repeats=args.repeats or prof.eval_repeats,
                    threads=threads,
                ),
                "training": scaling.run_training(
                    model,
                    pool,
                    batch_sizes=prof.scale_batches,
                    max_seq_length=prof.train_seq,
                    repeats=args.repeats or prof.scale_repeats,
                    steps_per_repeat=1,
                ),
            }

        timed("scaling", scale)

    results["duration_seconds"] = time.perf_counter() - t_start
    results["load_average"] = {"start": load_start, "end": common.load_average()}
    write_results(results, Path(args.output))
    return 0


def write_results(results: dict[str, Any], out: Path) -> dict[str, Path]:
    """``<stamp>.json/.md/.png`` and ``latest.*`` copies, each written atomically."""
    from benchmarks import report
    from crossalign.utils.atomic import atomic_write_json, atomic_write_text, ensure_writable_dir

    ensure_writable_dir(out, what="benchmark output directory")
    stamp = _stamp()
    paths = {"json": out / f"{stamp}.json", "md": out / f"{stamp}.md", "png": out / f"{stamp}.png"}
    atomic_write_json(paths["json"], results)
    md = report.markdown(results)
    atomic_write_text(paths["md"], md)
    png = report.plot(results, paths["png"])
    written = {k: p for k, p in paths.items() if k != "png" or png is not None}
    for kind, path in written.items():
        latest = out / f"latest.{kind}"
        tmp = out / f".latest.{kind}.tmp"
        shutil.copyfile(path, tmp)
        os.replace(tmp, latest)
    print(md)
    print(f"[benchmarks] wrote {', '.join(str(p) for p in written.values())}", file=sys.stderr)
    return written


if __name__ == "__main__":
    sys.exit(main())
