"""The CLI tests share the evaluation test doubles (tests/unit/evaluation/evaluation_testkit.py) and the benchmark
copies (tests/unit/data/benchmark_fixtures.py)."""

from __future__ import annotations

import sys
from pathlib import Path

for _sub in ("evaluation", "data"):
    _dir = str(Path(__file__).resolve().parents[1] / _sub)
    if _dir not in sys.path:
        sys.path.insert(0, _dir)
