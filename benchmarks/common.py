"""Shared benchmark plumbing: interleaved timing, robust summaries, machine info, per-process peak memory, texts.

Every figure the suite reports is a ratio of two measurements taken side by side in the same run: the machines are
shared, so absolute times drift with other people's load, but two things timed alternately (ABBA order) see the same
load. :func:`interleaved` runs the candidates in alternating order, :func:`summarize` reports median and quartiles,
and :func:`paired_ratios` divides the measurements of one repeat by each other before taking the median.

Peak memory is process-wide (``ru_maxrss`` never goes down), so :func:`run_child` measures each configuration in a
fresh ``python -m benchmarks._child`` process: the child reports its peak RSS during the measured call minus its RSS
just before it (after imports, model load and data set-up).
"""

from __future__ import annotations

import gc
import json
import math
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
MIB = 1024.0 * 1024.0


# ------------------------------------------------------------------------------------------------------ summaries
def summarize(samples: Sequence[float]) -> dict[str, Any]:
    """Median, quartiles, IQR, min and max of ``samples`` (and the samples themselves)."""
    xs = sorted(float(x) for x in samples)
    if not xs:
        raise ValueError("no samples")
    if len(xs) == 1:
        q1 = q3 = xs[0]
    else:
        q1, _, q3 = statistics.quantiles(xs, n=4, method="inclusive")
    return {
        "median": statistics.median(xs),
        "q1": q1,
        "q3": q3,
        "iqr": q3 - q1,
        "min": xs[0],
        "max": xs[-1],
        "n": len(xs),
        "samples": [float(x) for x in samples],
    }


def paired_ratios(numerator: Sequence[float], denominator: Sequence[float]) -> dict[str, Any]:
    """Summary of ``numerator[i] / denominator[i]`` over repeats measured side by side."""
    if len(numerator) != len(denominator):
        raise ValueError("paired ratios need equally many samples")
    return summarize([a / b for a, b in zip(numerator, denominator)])


def interleaved(
    candidates: dict[str, Callable[[], Any]],
    *,
    repeats: int,
    warmup: int = 1,
    measure: Callable[[Callable[[], Any]], float] | None = None,
) -> dict[str, list[float]]:
    """Time each candidate ``repeats`` times, alternating their order (ABBA...) so drift hits all alike.

    Args:
        candidates: Name -> zero-argument callable.
        repeats: Measured runs per candidate.
        warmup: Unmeasured runs per candidate first (allocator, caches, lazy initialisation).
        measure: How to measure one call (default: wall seconds with ``time.perf_counter``).

    Returns:
        Name -> the measured values, in repeat order (index ``i`` of every list belongs to the same round).
    """

    def wall(fn: Callable[[], Any]) -> float:
        gc.collect()
        t0 = time.perf_counter()
        fn()
        return time.perf_counter() - t0

    how = measure or wall
    names = list(candidates)
    for _ in range(warmup):
        for name in names:
            candidates[name]()
    out: dict[str, list[float]] = {name: [] for name in names}
    for r in range(repeats):
        order = names if r % 2 == 0 else names[::-1]
        for name in order:
            out[name].append(how(candidates[name]))
    return out


def finite(x: Any) -> bool:
    """True when ``x`` is a finite real number."""
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


# ---------------------------------------------------------------------------------------------------- machine info
def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages (empty where unavailable)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:  # pragma: no cover - not on Linux/macOS
        return []


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:  # pragma: no cover
        pass
    return platform.processor() or "unknown"


def library_versions() -> dict[str, str]:
    """Versions of the libraries the figures depend on."""
    from crossalign.utils.deps import package_versions

    dists = ("torch", "transformers", "sentence-transformers", "tokenizers", "numpy", "faiss-cpu", "matplotlib")
    versions = package_versions((*dists, "crossalign"))
    return {"python": platform.python_version(), **{k: v or "not installed" for k, v in versions.items()}}


def machine_info() -> dict[str, Any]:
    """Core count, CPU model, torch threads, platform, load average and library versions."""
    import torch

    return {
        "cpu_count": os.cpu_count(),
        "affinity_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu_model": _cpu_model(),
        "torch_threads": torch.get_num_threads(),
        "platform": platform.platform(),
        "memory_total_mib": _mem_total_mib(),
        "versions": library_versions(),
    }


def _mem_total_mib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024.0, 1)
    except OSError:  # pragma: no cover
        pass
    return None


# ---------------------------------------------------------------------------------------------------------- memory
def current_rss_mib() -> float:
    """Resident set size now (``/proc/self/statm``; falls back to the peak where unavailable)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / MIB
    except (OSError, ValueError):  # pragma: no cover - not Linux
        return peak_rss_mib()


def peak_rss_mib() -> float:
    """Peak resident set size of this process so far (``VmHWM``, else ``ru_maxrss``)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:  # pragma: no cover
        pass
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / MIB if sys.platform == "darwin" else rss / 1024.0


def reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS mark to the current RSS (Linux ``clear_refs`` 5); False where not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


@dataclass
class MemoryProbe:
    """Measures the peak RSS growth of one block: ``with MemoryProbe() as m: ...; m.extra_mib``.

    Before the block: garbage collection, the current RSS as baseline, and the peak mark reset to it (where the
    kernel allows; otherwise ``extra`` is relative to the process's earlier peak, which can only under-report, and
    ``peak_reset`` says so).
    """

    baseline_mib: float = 0.0
    peak_mib: float = 0.0
    peak_reset: bool = False

    def __enter__(self) -> MemoryProbe:
        gc.collect()
        self.peak_reset = reset_peak_rss()
        self.baseline_mib = current_rss_mib()
        return self

    def __exit__(self, *exc: object) -> None:
        self.peak_mib = peak_rss_mib()

    @property
    def extra_mib(self) -> float:
        """Peak RSS during the block minus the RSS just before it."""
        return max(self.peak_mib - self.baseline_mib, 0.0)


def run_child(task: str, params: dict[str, Any], *, timeout: float = 900.0) -> dict[str, Any]:
    """Run ``python -m benchmarks._child TASK PARAMS_JSON`` in a fresh process and return its JSON result.

    The child inherits the environment (``PYTHONPATH``, thread settings) and runs from the repository root.
    """
    env = dict(os.environ)
    paths = [str(ROOT), *(p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p)]
    env["PYTHONPATH"] = os.pathsep.join(paths)
    cmd = [sys.executable, "-m", "benchmarks._child", task, json.dumps(params)]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark child {task} {params} failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    for line in reversed(proc.stdout.strip().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError(f"benchmark child {task} printed no JSON:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")


# ---------------------------------------------------------------------------------------------------------- texts
_SYNTHETIC_TEXT = (
    "file open save print table chart cell sheet document format style page insert menu dialog option "
    "Datei öffnen speichern drucken Tabelle Diagramm Zelle 文件 打开 保存 打印 表格 图表 फ़ाइल खोलें सहेजें "
    "tệp mở lưu in bảng biểu đồ fitxategia ireki gorde inprimatu taula ឯកសារ បើក រក្សាទុក"
)
_SYNTHETIC_WORDS = _SYNTHETIC_TEXT.split()


@dataclass
class TextPool:
    """Texts for the benchmarks: short queries (headings), passages (paragraphs) and long texts (sections).

    ``parallel`` holds tuples of the same unit in several languages (for the multi-way loss); ``source`` says
    whether the texts are the LibreOffice help (``"libreoffice-help"``) or synthetic.
    """

    headings: list[dict[str, str]]
    paragraphs: list[dict[str, str]]
    sections: list[dict[str, str]]
    source: str
    languages: list[str]


LANGUAGES = ["en", "de", "zh-CN", "hi", "km", "ja", "ru", "eu"]


def _synthetic_pool(seed: int = 0, n: int = 3000) -> TextPool:
    rng = random.Random(seed)

    def text(lo: int, hi: int) -> str:
        return " ".join(rng.choices(_SYNTHETIC_WORDS, k=rng.randint(lo, hi)))

    def tuples(lo: int, hi: int) -> list[dict[str, str]]:
        return [{lang: text(lo, hi) for lang in LANGUAGES[:4]} for _ in range(n)]

    return TextPool(tuples(2, 8), tuples(10, 60), tuples(60, 300), "synthetic", LANGUAGES[:4])


def load_texts(*, synthetic: bool = False) -> TextPool:
    """The LibreOffice help (cached languages only, no download), or synthetic mixed-length text when unavailable."""
    if synthetic:
        return _synthetic_pool()
    try:
        from crossalign.data.libreoffice import LibreOfficeCorpus

        corpus = LibreOfficeCorpus.open(LANGUAGES, download=False, workers=1, show_progress=False)
        langs = LANGUAGES
        by_kind: dict[str, list[dict[str, str]]] = {"heading": [], "paragraph": [], "section": []}
        for t in corpus.parallel(["heading", "paragraph", "section"], langs=langs).tuples:
            if "en" in t.texts and len(t.texts) >= 3:
                by_kind[t.meta["kind"]].append(dict(t.texts))
        if min(len(v) for v in by_kind.values()) < 500:
            raise RuntimeError(f"too few texts: { {k: len(v) for k, v in by_kind.items()} }")
        return TextPool(by_kind["heading"], by_kind["paragraph"], by_kind["section"], "libreoffice-help", langs)
    except Exception as exc:  # the corpus is not cached here: fall back, and say so in the results
        print(f"[benchmarks] LibreOffice corpus unavailable ({exc}); using synthetic text", file=sys.stderr)
        return _synthetic_pool()


def pick(rows: list[dict[str, str]], lang: str, n: int, rng: random.Random) -> list[str]:
    """``n`` texts in ``lang`` (rows without it are skipped), sampled with a fixed generator."""
    have = [r[lang] for r in rows if lang in r]
    if len(have) >= n:
        return rng.sample(have, n)
    return [have[i % len(have)] for i in range(n)]


def mixed_texts(pool: TextPool, n: int, seed: int = 0) -> list[str]:
    """``n`` mixed-length, mixed-language texts: 40 % headings, 45 % paragraphs, 15 % sections, shuffled."""
    rng = random.Random(seed)
    n_head, n_sec = int(0.40 * n), int(0.15 * n)
    n_par = n - n_head - n_sec
    out: list[str] = []
    for rows, count in ((pool.headings, n_head), (pool.paragraphs, n_par), (pool.sections, n_sec)):
        for _ in range(count):
            row = rng.choice(rows)
            out.append(row[rng.choice(list(row))])
    rng.shuffle(out)
    return out


def unit_vectors(n: int, dim: int, seed: int, chunk: int = 16384) -> np.ndarray:
    """``[n, dim]`` float32 L2-normalised random vectors, generated in chunks (no large temporaries)."""
    rng = np.random.default_rng(seed)
    out = np.empty((n, dim), dtype=np.float32)
    for a in range(0, n, chunk):
        block = rng.standard_normal((min(chunk, n - a), dim), dtype=np.float32)
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        out[a : a + block.shape[0]] = block
    return out
