"""`crossalign reproduce --quick` end to end at tiny sizes: the real built-in model and LibreOffice help, training
with budget checkpoints, evaluation of every checkpoint, the verdicts and the report — then a rerun that reuses every
stage. The default run does the parallel experiment (claim 3, four languages); the ``slow`` test both experiments
(mining with query negatives, all five methods). Asserted: what must hold whatever the numbers are (every model and
budget evaluated, verdicts consistent with their intervals, files written)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.integration

TINY = [
    "steps=1,2",
    "batch_size=4",
    "rows_per_lang=16",
    "parallel_rows=16",
    "max_pool=60",
    "negatives=1",
    "query_negatives=1",
    "max_seq_length=32",
    "eval_sections=30",
    "bitext_pairs=20",
    "bitext_distractors=20",
    "holdout_size=15",
    "bf16=false",
]


def _expected(sides: list[str | None]) -> str:
    if all(s == "better" for s in sides):
        return "holds"
    if all(s == "worse" for s in sides):
        return "reversed"
    if all(s is None for s in sides):
        return "not shown"
    return "mixed"


def _run(tmp_path: Path, cache_dir: Path, capsys: pytest.CaptureFixture[str], experiments: str) -> tuple[Any, ...]:
    from crossalign.cli.main import main

    out = tmp_path / "repro"
    argv = ["--no-progress", "reproduce", "--quick", "--experiments", experiments, "--langs", "de"]
    argv += ["--parallel-langs", "de,zh-CN,eu,km", "--holdout-langs", "ja", "--output", str(out)]
    argv += ["--cache-dir", str(cache_dir)]
    for item in TINY:
        argv += ["--budget", item]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert printed.strip().splitlines()[-1] == str(out)
    assert (out / "REPRODUCTION.md").is_file()
    summary = json.loads((out / "reproduce.json").read_text())
    for c in summary["claims"]:
        assert [(x["steps"], x["seed"]) for x in c["cells"]] == [(1, 13), (2, 13)]
        assert c["verdict"] == _expected([x["primary"]["side"] for x in c["cells"]])
        for x in c["cells"]:
            p = x["primary"]
            assert p["ci_low"] <= p["delta"] <= p["ci_high"] and p["n"] > 0
    return out, argv, summary, printed


def _reruns_nothing(argv: list[str], out: Path, summary: dict[str, Any]) -> None:
    from crossalign.cli.main import main

    assert main(argv) == 0
    again = json.loads((out / "reproduce.json").read_text())
    ran = {k: v for k, v in again["seconds"].items() if k.startswith(("train-", "eval-")) and v > 0}
    assert not ran, f"stages ran again: {ran}"
    assert again["claims"] == summary["claims"]


def test_reproduce_quick_parallel_and_resume(tmp_path, cache_dir, capsys):
    out, argv, summary, printed = _run(tmp_path, cache_dir, capsys, "parallel")
    assert [c["name"] for c in summary["claims"]] == ["multiway"]
    # the claim rests on the six pairs without English of four languages, both directions
    assert summary["claims"][0]["cells"][0]["primary"]["n"] == 6 * 2 * 20
    assert len(summary["en_en"]) == 2 * 2 and set(summary["holdout"]) == {"parallel"}
    ckpt = out / "models" / "multiway-s13" / "checkpoints"
    assert [p.name for p in ckpt.iterdir()] == ["checkpoint-1"]  # the last one is model/, pruned
    assert "Multi-way parallel contrastive alignment" in printed and "Δ [95 % CI]" in printed
    _reruns_nothing(argv, out, summary)


@pytest.mark.slow
def test_reproduce_quick_both_experiments(tmp_path, cache_dir, capsys):
    out, argv, summary, _ = _run(tmp_path, cache_dir, capsys, "retrieval,parallel")
    assert [c["name"] for c in summary["claims"]] == ["clear", "jsd", "multiway"]
    assert len(summary["en_en"]) == (3 + 2) * 2  # every method at every budget
    assert set(summary["holdout"]) == {"retrieval", "parallel"}
    _reruns_nothing(argv, out, summary)


@pytest.mark.slow
def test_reproduce_quick_per_language(tmp_path, cache_dir, capsys):
    out, argv, summary, _ = _run(tmp_path, cache_dir, capsys, "retrieval,per-language")
    assert [c["name"] for c in summary["claims"]] == ["clear", "clear-per-language", "jsd"]
    # the per-language claim rests on the de-only models' de queries, as many as the multilingual claim's
    multi, per_lang = (summary["claims"][i]["cells"][0]["primary"]["n"] for i in (0, 1))
    assert per_lang == multi > 0
    assert {c["model"] for c in summary["en_en"]} >= {"only-de/clear@2/s13", "only-de/infonce@1/s13"}
    assert set(summary["holdout"]) == {"retrieval", "only-de"}
    assert (out / "models" / "clear-only-de-s13" / "model").is_dir()
    assert "per-language" in summary["models"]
    _reruns_nothing(argv, out, summary)
