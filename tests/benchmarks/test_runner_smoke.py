"""Smoke test of the benchmark runner: ``python -m benchmarks --tiny`` on a tiny BERT, tiny sizes, in a subprocess."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SECTIONS = ("training", "memory", "encoding", "search", "scaling", "profile")


def _numbers(obj: Any) -> list[float]:
    if isinstance(obj, bool):
        return []
    if isinstance(obj, int | float):
        return [float(obj)]
    if isinstance(obj, dict):
        return [x for v in obj.values() for x in _numbers(v)]
    if isinstance(obj, list):
        return [x for v in obj for x in _numbers(v)]
    return []


def _ratios(section: dict[str, Any]) -> list[dict[str, Any]]:
    """Every ratio summary (dicts with a median) under keys naming a ratio or speed-up."""
    found = []

    def walk(obj: Any) -> None:
        if isinstance(obj, dict):
            for key, value in obj.items():
                if ("ratio" in key or key == "speedup") and isinstance(value, dict) and "median" in value:
                    found.append(value)
                walk(value)
        elif isinstance(obj, list):
            for value in obj:
                walk(value)

    walk(section)
    return found


@pytest.mark.timeout(600)
def test_runner_tiny(tmp_path: Path) -> None:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), str(ROOT), env.get("PYTHONPATH", "")])
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--tiny", "--output", str(tmp_path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=580,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads((tmp_path / "latest.json").read_text())
    assert (tmp_path / "latest.md").is_file()
    md = (tmp_path / "latest.md").read_text()
    assert "| benchmark | configuration | ours | peer | ratio | target | result |" in md
    assert results["machine"]["cpu_count"] >= 1
    assert results["machine"]["versions"]["torch"]
    assert len(results["load_average"]["start"]) == 3
    for name in SECTIONS:
        section = results["sections"][name]
        numbers = _numbers(section)
        assert numbers and all(math.isfinite(x) for x in numbers), name
        if name == "profile":  # shares of wall time, not ratios: every block's categories add up to its wall time
            for block in ("encode", "training_step"):
                shares = section[block]["share_of_wall"]
                assert sum(shares.values()) == pytest.approx(1.0, abs=0.02) or shares["python_and_framework"] == 0
                assert shares["matmul"] > 0 and section[block]["top_ops"], block
            assert "Where the time goes" in md
            continue
        ratios = _ratios(section)
        assert ratios, f"{name} has no ratio"
        assert all(math.isfinite(r["median"]) and r["median"] > 0 for r in ratios), name
    assert list(tmp_path.glob("*.png")), "the scaling plot is missing"
