"""The workflow tests share the evaluation test doubles (tests/unit/evaluation/evaluation_testkit.py)."""

from __future__ import annotations

import sys
from pathlib import Path

_EVAL_TESTS = str(Path(__file__).resolve().parents[1] / "evaluation")
if _EVAL_TESTS not in sys.path:
    sys.path.insert(0, _EVAL_TESTS)
