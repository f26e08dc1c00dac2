"""The markdown table and the scaling plot of a benchmark run."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from crossalign.utils.atomic import atomic_write_bytes


def _t(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def _mib(x: float) -> str:
    return f"{x:.0f} MiB" if x >= 10 else f"{x:.1f} MiB"


def _ratio(s: dict[str, Any], digits: int = 2) -> str:
    return f"{s['median']:.{digits}f}× [{s['q1']:.{digits}f}–{s['q3']:.{digits}f}]"


def _ok(passed: bool | None) -> str:
    if passed is None:
        return "—"
    return "pass" if passed else "**FAIL**"


def table_rows(results: dict[str, Any]) -> list[list[str]]:
    """One row per measured comparison: benchmark, configuration, ours, peer, ratio, target, pass/fail."""
    rows: list[list[str]] = []
    sec = results["sections"]
    if "training" in sec:
        t = sec["training"]
        for r in t["results"]:
            pad = r["padded_tokens_per_step"]
            if "per_token_ratio" not in r:  # results written before the natural-input peer
                rows.append(
                    [
                        "1 training step",
                        f"{r['loss']} vs MNRL, batch {r['batch_size']}, {r['texts_per_step']} texts/step, "
                        f"max_seq_length {r['max_seq_length']} (padded tokens {pad['ours']:.0f} vs {pad['peer']:.0f})",
                        _t(r["ours_seconds_per_step"]["median"]),
                        _t(r["peer_seconds_per_step"]["median"]),
                        _ratio(r["ratio"]) + " ours/peer time ↓",
                        f"≤ {r['target']:.2f}×",
                        _ok(r["passed"]),
                    ]
                )
                continue
            peer_cols = ", ".join(r["peer_columns"])
            rows.append(
                [
                    "1 training step",
                    f"{r['loss']} ({len(r['columns'])} columns, {r['texts_per_step']} texts, {pad['ours']:.0f} padded "
                    f"tokens) vs MNRL on ({peer_cols}: {r['peer_texts_per_step']} texts, {pad['peer']:.0f} padded "
                    f"tokens), batch {r['batch_size']}, max_seq_length {r['max_seq_length']}",
                    f"{_t(r['ours_seconds_per_step']['median'])} "
                    f"({r['ours_seconds_per_padded_token']['median'] * 1e3:.3g} ms/token)",
                    f"{_t(r['peer_seconds_per_step']['median'])} "
                    f"({r['peer_seconds_per_padded_token']['median'] * 1e3:.3g} ms/token)",
                    _ratio(r["per_token_ratio"]) + " per padded token ↓; step " + _ratio(r["ratio"]),
                    f"≤ {r['target']:.2f}× per token",
                    _ok(r["passed"]),
                ]
            )
    if "training-bf16" in sec:
        b = sec["training-bf16"]
        rows.append(
            [
                "1b training step, bf16",
                f"{b['loss']} step in fp32 vs bf16 autocast (train --bf16), batch {b['batch_size']}, max_seq_length "
                f"{b['max_seq_length']}, {b['padded_tokens']} padded tokens; gradient cosine to fp32 "
                f"{b['gradient_cosine']:.5f}, loss rel. difference {b['loss_relative_difference']:.1e}",
                _t(b["bf16_seconds"]["median"]),
                _t(b["fp32_seconds"]["median"]),
                _ratio(b["speedup"]) + " speed-up ↑",
                f"≥ {b['speedup_target']:.1f}×",
                _ok(b["speedup_passed"]),
            ]
        )
    if "memory" in sec:
        m = sec["memory"]
        first = m["rows"][0]
        for r in m["rows"][1:]:
            last = r is m["rows"][-1]
            rows.append(
                [
                    "2 GradCache memory",
                    f"CachedCLEAR batch {r['batch_size']} vs {first['batch_size']} (mini-batch {m['mini_batch_size']},"
                    f" {r['texts_per_step']} vs {first['texts_per_step']} texts), peak RSS growth of one step",
                    _mib(r["extra_mib"]["median"]),
                    _mib(first["extra_mib"]["median"]),
                    (_ratio(m["ratio"]) if last else f"{r['extra_mib']['median'] / first['extra_mib']['median']:.2f}×")
                    + " ↓",
                    f"≤ {m['target']:.1f}×" if last else "—",
                    _ok(m["passed"]) if last else "—",
                ]
            )
        if "peer_rows" in m:
            pf, pl = m["peer_rows"][0], m["peer_rows"][-1]
            rows.append(
                [
                    "2 GradCache memory (peer)",
                    f"CachedMNRL (sentence-transformers) batch {pl['batch_size']} vs {pf['batch_size']}, same columns:"
                    " peak RSS growth of one step",
                    _mib(pl["extra_mib"]["median"]),
                    _mib(pf["extra_mib"]["median"]),
                    _ratio(m["peer_ratio"]) + " ↓",
                    "—",
                    "—",
                ]
            )
        last = m["rows"][-1]
        peak_ratio = last["peak_mib"]["median"] / first["peak_mib"]["median"]
        rows.append(
            [
                "2 GradCache memory (whole process)",
                f"CachedCLEAR batch {last['batch_size']} vs {first['batch_size']}: the process's peak RSS (model, "
                "optimizer and step)",
                _mib(last["peak_mib"]["median"]),
                _mib(first["peak_mib"]["median"]),
                f"{peak_ratio:.2f}× ↓",
                f"≤ {m['target']:.1f}×",
                _ok(peak_ratio <= m["target"]),
            ]
        )
    if "encoding" in sec:
        e = sec["encoding"]
        rows.append(
            [
                "3 encoding",
                f"{e['texts']} mixed-length texts ({e['tokens']['total']} tokens, median {e['tokens']['median']:.0f},"
                f" max {e['tokens']['max']}) vs SentenceTransformer.encode",
                f"{e['ours_texts_per_second']['median']:.1f} texts/s",
                f"{e['peer_texts_per_second']['median']:.1f} texts/s",
                _ratio(e["speedup"]) + " speed-up ↑",
                f"≥ {e['speedup_target']:.1f}×",
                _ok(e["speedup_passed"]),
            ]
        )
        if "fast_speedup" in e:
            rows.append(
                [
                    "3 encoding, default path" if "fast_what" in e else "3 encoding, fast path",
                    ("the default encode() → " if "fast_what" in e else "encode")
                    + f"(backend={e['fast_backend']}, precision={e['fast_precision']}) vs crossalign fp32 torch "
                    f"encode, same texts; min cosine to fp32 {e['fast_min_cosine_to_fp32']:.6f} "
                    f"(gate ≥ {e['fast_cosine_target']})",
                    f"{e['fast_texts_per_second']['median']:.1f} texts/s",
                    f"{e['ours_texts_per_second']['median']:.1f} texts/s",
                    _ratio(e["fast_speedup"]) + " speed-up ↑",
                    f"≥ {e['fast_speedup_target']:.1f}×, cosine ≥ {e['fast_cosine_target']}",
                    _ok(e["fast_speedup_passed"] and e["fast_cosine_passed"]),
                ]
            )
        if "bf16_speedup" in e and "alt_speedup" not in e:  # results written before the default became bf16
            e = {**e, **{k.replace("bf16_", "alt_", 1): v for k, v in e.items() if k.startswith("bf16_")}}
            e["alt_precision"] = "bf16"
        if "alt_speedup" in e:
            vs_default = (
                f"; the default path is {_ratio(e['default_vs_alt_speedup'])} its speed"
                if "default_vs_alt_speedup" in e
                else ""
            )
            rows.append(
                [
                    f"3 encoding, OpenVINO {e['alt_precision']} (not the default)",
                    f"encode(backend={e['alt_backend']}, precision={e['alt_precision']}) vs crossalign fp32 torch "
                    f"encode, same texts; min cosine to fp32 {e['alt_min_cosine_to_fp32']:.6f}{vs_default}",
                    f"{e['alt_texts_per_second']['median']:.1f} texts/s",
                    f"{e['ours_texts_per_second']['median']:.1f} texts/s",
                    _ratio(e["alt_speedup"]) + " speed-up ↑",
                    "—",
                    "—",
                ]
            )
        fp32_roof = e.get("roofline_fp32_flops_per_second")
        bf16_roof = e.get("roofline_bf16_flops_per_second")
        what = (
            f"best of fp32 ({fp32_roof['median'] / 1e9:.0f}) and bf16 ({bf16_roof['median'] / 1e9:.0f} GFLOP/s) matmul"
            if fp32_roof and bf16_roof
            else "best measured fp32 matmul FLOP/s"
        )
        extra = (
            f"; of fp32 alone {e['roofline_fraction_of_fp32']['median'] * 100:.0f} %"
            if "roofline_fraction_of_fp32" in e
            else ""
        )
        fast = (
            f"; fast path {e['fast_roofline_fraction']['median'] * 100:.0f} %" if "fast_roofline_fraction" in e else ""
        )
        rows.append(
            [
                "3 encoding roofline",
                f"useful encoder FLOP/s vs {what}",
                f"{e['ours_flops_per_second']['median'] / 1e9:.1f} GFLOP/s",
                f"{e['roofline_flops_per_second']['median'] / 1e9:.1f} GFLOP/s",
                f"{e['roofline_fraction']['median'] * 100:.0f} % [{e['roofline_fraction']['q1'] * 100:.0f}–"
                f"{e['roofline_fraction']['q3'] * 100:.0f}] (ST.encode "
                f"{e['peer_roofline_fraction']['median'] * 100:.0f} %{extra}{fast}) ↑",
                f"≥ {e['roofline_fraction_target'] * 100:.0f} %",
                _ok(e["roofline_fraction_passed"]),
            ]
        )
    if "search" in sec:
        for r in sec["search"]["rows"]:
            rows.append(
                [
                    "4 search time",
                    f"exact chunked top-{r['k']} vs faiss IndexFlatIP, {r['n_queries']} queries × {r['n_docs']} docs",
                    _t(r["ours_seconds"]["median"]),
                    _t(r["peer_seconds"]["median"]),
                    _ratio(r["ratio"]) + " ↓",
                    f"≤ {r['target']:.1f}×",
                    _ok(r["passed"]),
                ]
            )
        for r in sec["search"]["rows"]:
            rows.append(
                [
                    "4 search memory",
                    f"{r['n_docs']} docs: peak RSS growth (chunk bound {_mib(r['chunk_bound_mib'])}; full score "
                    f"matrix {_mib(r['score_matrix_mib'])}, N×N {_mib(r['nxn_matrix_mib'])})",
                    _mib(r["ours_extra_mib"]),
                    _mib(r["peer_extra_mib"]),
                    f"{r['memory_ratio']:.2f}× ↓",
                    "≤ chunk bound",
                    _ok(r["memory_within_chunk_bound"]),
                ]
            )
    if "scaling" in sec:
        s = sec["scaling"]
        if "eval" in s:
            for r in s["eval"]["rows"]:
                rows.append(
                    [
                        "5 scaling: evaluation",
                        f"{r['n_queries']} queries × {r['n_docs']} docs (×{r['size_ratio_to_smallest']:.0f} pool)",
                        _t(r["seconds"]["median"]),
                        _mib(r["extra_mib"]["median"]),
                        _ratio(r["time_ratio_to_smallest"], 1) + " time vs smallest",
                        "—",
                        "—",
                    ]
                )
        if "training" in s:
            for r in s["training"]["rows"]:
                rows.append(
                    [
                        "5 scaling: training",
                        f"CLEAR vs MNRL, batch {r['batch_size']} ({r['texts_per_step']} vs "
                        f"{r.get('peer_texts_per_step', r['texts_per_step'])} texts/step)",
                        _t(r["ours_seconds_per_step"]["median"]),
                        _t(r["peer_seconds_per_step"]["median"]),
                        _ratio(r["ratio"]) + " ↓",
                        "—",
                        "—",
                    ]
                )
    return rows


def markdown(results: dict[str, Any]) -> str:
    """The run's markdown: machine line, the table, growth summary."""
    m = results["machine"]
    v = m["versions"]
    lines = [
        f"Benchmarks run {results['started']} ({results['mode']} mode, {results['duration_seconds']:.0f} s) on "
        f"{m['cpu_count']} cores ({m['cpu_model']}), torch threads {m['torch_threads']}, load average "
        f"{results['load_average']['start']} at start, {results['load_average']['end']} at end; torch {v['torch']},"
        f" transformers {v['transformers']}, sentence-transformers {v['sentence-transformers']}, "
        f"faiss-cpu {v['faiss-cpu']}. Model: {results['model']}; texts: {results['texts_source']}.",
        *(f"Note: {note}." for note in results.get("profile", {}).get("notes", [])),
        "",
        "Ratios are medians over interleaved repeats of per-repeat ratios, [q1–q3] the spread; ↓ lower is better, "
        "↑ higher is better. Peer = the column named in the configuration.",
        "",
        "| benchmark | configuration | ours | peer | ratio | target | result |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in table_rows(results):
        lines.append("| " + " | ".join(c.replace("|", "/") for c in row) + " |")
    s = results["sections"].get("scaling", {})
    if s:
        lines.append("")
        if "eval" in s:
            ev = s["eval"]
            lines.append(
                "Evaluation cost growth (log-log slope vs pool size, 1.0 = linear): "
                f"time {ev['time_slope']:.2f}, peak memory {ev['memory_slope']:.2f}."
            )
        if "training" in s:
            tr = s["training"]
            lines.append(
                "Training step time growth vs batch size (log-log slope): "
                f"CLEAR {tr['ours_time_slope']:.2f}, MNRL {tr['peer_time_slope']:.2f}."
            )
    lines.extend(profile_lines(results["sections"].get("profile")))
    lines.append("")
    return "\n".join(lines)


def profile_lines(p: dict[str, Any] | None) -> list[str]:
    """Markdown of the profile section: share of wall time per op category and the top ops, per block."""
    if not p:
        return []
    cats = [*p["encode"]["share_of_wall"]]
    out = [
        "",
        f"Where the time goes ({p['what']}; {p['threads']} threads; the profiler's own per-op cost falls into "
        "python_and_framework):",
        "",
        "| block | wall | " + " | ".join(cats) + " |",
        "|---|---|" + "---|" * len(cats),
    ]
    blocks = {
        f"encode {p['encode']['texts']} texts (fp32, torch)": p["encode"],
        f"CLEAR training step (batch {p['training_step']['batch_size']})": p["training_step"],
    }
    for name, b in blocks.items():
        shares = " | ".join(f"{b['share_of_wall'][c] * 100:.0f} %" for c in cats)
        out.append(f"| {name} | {_t(b['wall_seconds'])} | {shares} |")
    for name, b in blocks.items():
        top = ", ".join(f"{o['op']} {o['share_of_wall'] * 100:.0f} %" for o in b["top_ops"][:8])
        out.append("")
        out.append(f"Top ops, {name}: {top}.")
    return out


def plot(results: dict[str, Any], path: Path) -> Path | None:
    """PNG of the scaling section (evaluation time and memory vs pool size, step time vs batch size)."""
    s = results["sections"].get("scaling")
    if not s:
        return None
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:  # the plots extra is optional
        return None
    fig = Figure(figsize=(12, 3.8), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, 3)
    if "eval" in s:
        rows = s["eval"]["rows"]
        xs = [r["n_docs"] for r in rows]
        for ax, key, label in ((axes[0], "seconds", "wall time (s)"), (axes[1], "extra_mib", "peak RSS growth (MiB)")):
            med = [r[key]["median"] for r in rows]
            lo = [r[key]["median"] - r[key]["q1"] for r in rows]
            hi = [r[key]["q3"] - r[key]["median"] for r in rows]
            ax.errorbar(xs, med, yerr=[lo, hi], marker="o", capsize=3, label="measured")
            ax.plot(xs, [med[0] * x / xs[0] for x in xs], "--", color="grey", label="linear from smallest")
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel("pool size (documents)")
            ax.set_ylabel(label)
            ax.legend(fontsize=8)
        axes[0].set_title("evaluation time vs pool")
        axes[1].set_title("evaluation memory vs pool")
    if "training" in s:
        rows = s["training"]["rows"]
        xs = [r["batch_size"] for r in rows]
        for key, label in (("ours_seconds_per_step", "CLEARLoss"), ("peer_seconds_per_step", "MNRL")):
            med = [r[key]["median"] for r in rows]
            lo = [r[key]["median"] - r[key]["q1"] for r in rows]
            hi = [r[key]["q3"] - r[key]["median"] for r in rows]
            axes[2].errorbar(xs, med, yerr=[lo, hi], marker="o", capsize=3, label=label)
        axes[2].set_xscale("log", base=2)
        axes[2].set_yscale("log")
        axes[2].set_xlabel("batch size (rows)")
        axes[2].set_ylabel("seconds per step")
        axes[2].set_title("training step time vs batch")
        axes[2].legend(fontsize=8)
    for ax in axes:
        ax.grid(True, which="both", alpha=0.3)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    atomic_write_bytes(path, buf.getvalue())
    return path


def main(argv: list[str] | None = None) -> None:
    """``python -m benchmarks.report RESULTS.json``: re-render the markdown (and plot) next to a results file."""
    import json
    import sys

    from crossalign.utils.atomic import atomic_write_text

    for name in sys.argv[1:] if argv is None else argv:
        path = Path(name)
        results = json.loads(path.read_text())
        atomic_write_text(path.with_suffix(".md"), markdown(results))
        plot(results, path.with_suffix(".png"))


if __name__ == "__main__":
    main()
