"""Resumable stages for multi-step workflows (``demo``, ``reproduce``).

A workflow writes every stage's output atomically and records it in ``<output>/stages.json`` as
``name -> {"digest", "seconds", "outputs"}``, where ``digest`` hashes the settings that decide the stage's result.
A rerun with the same settings finds the entry (and its outputs on disk) and reuses them, so an interrupted workflow
resumes at the first unfinished stage; changed settings run the stage again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from crossalign.utils.atomic import atomic_write_json

logger = logging.getLogger(__name__)

__all__ = ["Log", "StageLog", "evaluate_stage", "format_seconds", "settings_digest"]

Log = Callable[[str], None]


def settings_digest(obj: Any) -> str:
    """16 hex digits of the SHA-256 of ``obj`` as sorted JSON (non-JSON values by ``str``)."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode("utf-8")).hexdigest()[:16]


def format_seconds(s: float) -> str:
    """``"42 s"`` below 90 seconds, else ``"1.6 min"``."""
    return f"{s:.0f} s" if s < 90 else f"{s / 60:.1f} min"


class StageLog:
    """``stages.json``: stage name -> digest of its settings, seconds, outputs. Written after each stage.

    Args:
        root: The workflow's output directory.
        redo: Ignore the recorded stages (every stage runs again).
    """

    def __init__(self, root: Path, redo: bool) -> None:
        self.path = root / "stages.json"
        self.data: dict[str, Any] = {}
        if self.path.is_file() and not redo:
            try:
                self.data = json.loads(self.path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError):
                logger.warning("ignoring unreadable %s; every stage runs again", self.path)
                self.data = {}

    def done(self, name: str, digest: str, outputs: Sequence[Path]) -> bool:
        """True when ``name`` finished with these settings and its outputs still exist."""
        entry = self.data.get(name)
        return bool(entry and entry.get("digest") == digest and all(p.exists() for p in outputs))

    def mark(self, name: str, digest: str, seconds: float, outputs: Sequence[Path]) -> None:
        """Record ``name`` as finished (written atomically at once)."""
        self.data[name] = {"digest": digest, "seconds": round(seconds, 1), "outputs": [str(p) for p in outputs]}
        atomic_write_json(self.path, self.data)

    def started(self, name: str, digest: str) -> bool:
        """Record that ``name`` starts with ``digest``; True when an earlier run had started it with the same one
        (its partial output may be resumed)."""
        key = f"{name}:started"
        same = self.data.get(key) == digest
        self.data[key] = digest
        atomic_write_json(self.path, self.data)
        return same


def evaluate_stage(
    label: str,
    model: Any,
    out: Path,
    stages: StageLog,
    key_obj: dict[str, Any],
    eval_kwargs: dict[str, Any],
    seconds: dict[str, float],
    say: Log,
    *,
    target: Path | None = None,
) -> Any:
    """Evaluate ``model`` with :func:`~crossalign.workflows.evaluate.prepare_evaluation` ``(**eval_kwargs)`` into
    ``target`` (default ``<out>/eval/<label>``: ``results.json``, ``report.md``), or reuse a finished stage
    ``eval-<label>`` whose settings ``key_obj`` are unchanged. Returns the EvaluationResult."""
    from crossalign.evaluation.results import EvaluationResult
    from crossalign.utils.progress import progress_scope
    from crossalign.workflows.evaluate import evaluate_model, prepare_evaluation, write_report

    target = target if target is not None else out / "eval" / label
    results_file = target / "results.json"
    # what decides the numbers; not the opened corpus object or whether progress bars show
    key = settings_digest({k: v for k, v in key_obj.items() if k not in ("corpus", "show_progress")})
    name = f"eval-{label}"
    if stages.done(name, key, [results_file]):
        say(f"[eval] {label}: reusing {results_file}")
        seconds[name] = 0.0
        return EvaluationResult.from_dict(
            json.loads(results_file.read_text(encoding="utf-8")), source=str(results_file)
        )
    t0 = time.perf_counter()
    say(f"[eval] {label}: {eval_kwargs['suites']} on the test pages")
    with progress_scope(eval_kwargs.get("show_progress")):
        plan = prepare_evaluation(**{k: v for k, v in eval_kwargs.items() if k != "show_progress"})
        result, _ = evaluate_model(model, plan, output_dir=target, label=label, log=say)
    write_report([result], target, title=f"crossalign evaluation: {label}")
    seconds[name] = time.perf_counter() - t0
    stages.mark(name, key, seconds[name], [results_file])
    say(f"[eval] {label} done in {format_seconds(seconds[name])}")
    return result
