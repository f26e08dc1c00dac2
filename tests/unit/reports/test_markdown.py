"""write_report / write_comparison: sections, relative plot links, plots skipped without matplotlib."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
from reports_testkit import make_result

from crossalign.reports.markdown import write_comparison, write_report


def test_single_result_report(tmp_path: Path) -> None:
    r = make_result("e5-small-q4", n=40)
    path = write_report(r, tmp_path / "out", title="e5 on LibreOffice", reproduce="crossalign evaluate --langs de")
    assert path == tmp_path / "out" / "report.md"
    md = path.read_text()
    assert md.startswith("# e5 on LibreOffice\n")
    for section in (
        "## What was evaluated",
        "## Results",
        "### retrieval",
        "### mixed-pool",
        "### bitext",
        "## Plots",
        "## How to reproduce",
    ):
        assert section in md, section
    assert "## Comparison" not in md
    assert "```bash\ncrossalign evaluate --langs de\n```" in md
    assert "fingerprint `01ab12ab12ab`" in md and "split `test`" in md
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md)
    assert links and all(not Path(link).is_absolute() for link in links)
    assert all((path.parent / link).is_file() for link in links)
    # the retrieval table carries the real value of de→en
    de_en = r.find("retrieval", query_lang="de", doc_lang="en")[0].scores["ndcg@10"]
    from crossalign.evaluation.format import format_value

    row = next(line for line in md.splitlines() if line.startswith("| de |"))
    assert format_value("ndcg@10", de_en) in row.split("|")[4]


def test_two_results_report_has_a_comparison_and_notes(tmp_path: Path) -> None:
    a = make_result("base", n=40)
    b = make_result("tuned", n=40, improve=0.8, seed=2)
    md = write_report([a, b], tmp_path, title="t", notes=["synthetic data", "second note"]).read_text()
    assert "## Comparison with base" in md
    assert "- synthetic data\n- second note" in md
    assert "_No command was recorded._" in md
    assert "delta_lo-sections_ndcg-10.png" in md
    assert md.index("## Comparison with base") < md.index("## Plots")


def test_report_when_the_query_sets_differ(tmp_path: Path) -> None:
    a = make_result("base", n=40, suites=("retrieval",))
    b = make_result("other", n=30, suites=("retrieval",))
    md = write_report([a, b], tmp_path, title="t", plots=False).read_text()
    assert "No comparison was made" in md and "query sets differ" in md
    assert "## Plots" not in md


def test_plots_skipped_without_matplotlib(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    md = write_report(make_result("m", n=20), tmp_path, title="t").read_text()
    assert "Plots skipped: matplotlib is not installed" in md
    assert "crossalign[plots]" in md
    assert not (tmp_path / "plots").exists()
    assert "| de |" in md  # the tables are still there


def test_write_comparison_files(tmp_path: Path) -> None:
    a = make_result("base", n=40)
    b = make_result("tuned", n=40, improve=0.8, seed=2)
    files = write_comparison([a, b], tmp_path, command="crossalign compare a b", metrics="ndcg@10", n_resamples=500)
    md = files["markdown"].read_text()
    assert md.startswith("# tuned vs base")
    assert "crossalign compare a b" in md
    data = json.loads(files["json"].read_text())
    assert data["baseline"] == "base" and data["plots_skipped"] is None
    assert sorted(data["plots"]) == sorted(p.relative_to(tmp_path).as_posix() for p in files["plots"])
    assert {c["metrics"][0]["metric"] for c in data["cells"]} == {"ndcg@10"}
