"""One formatter: a score prints the same in the terminal (CLI tables, demo summary), summary.txt, the demo summary
in report.md, report.md's own tables and summary.json's verdicts.

0.8125 is the case that used to differ: ``f"{100 * 0.8125:.1f}"`` gives "81.2" (round-half-even of the binary
float), the reports' formatter "81.3" (half away from zero on the value as written).
"""

from __future__ import annotations

import io
import json
from pathlib import Path

from test_demo_summary import _result

from crossalign.reports.tables import summary_tables, summary_text
from crossalign.utils.table import print_tables
from crossalign.workflows.demo import DemoConfig, _write_report, demo_summary, format_summary


def _results() -> dict:
    return {
        "base": _result("base", {"de": 0.5}, 0.670, {"de": 120.25}),
        "infonce": _result("infonce", {"de": 0.6}, 0.668, {"de": 80.0}),
        "clear": _result("clear", {"de": 0.8125}, 0.665, {"de": 60.0}),
    }


def test_a_value_prints_identically_in_terminal_summary_and_report(tmp_path: Path) -> None:
    results = _results()
    summary = demo_summary(results, ["de"])
    text = format_summary(summary)
    config = DemoConfig(output_dir=tmp_path, langs=["de"])
    report = _write_report(tmp_path, results, summary, text, config, config.resolved_budget())
    md = report.read_text(encoding="utf-8")
    summary_txt = (tmp_path / "summary.txt").read_text(encoding="utf-8")

    # demo summary: terminal text == summary.txt, and the same row in report.md's copy of it
    clear_row = next(line for line in text.splitlines() if line.split()[:1] == ["clear"])
    assert clear_row.split()[3] == "81.3"  # x→en
    assert text + "\n" == summary_txt
    assert "|  | clear | 66.5 | 50.0 | 81.3 | 30.0 | 60.0 | 30.0 | 20.0 |" in md
    # Max@R 120.25 is a rank: as it is, one decimal, half away from zero, everywhere
    assert "| de (n=50) | base | 67.0 | 50.0 | 50.0 | 30.0 | 120.3 | 60.1 | 20.0 |" in md
    # report.md's own tables (language × direction of clear's evaluation)
    assert "| de | clear | 66.5 | 50.0 | 81.3 | 30.0 |" in md
    assert "| de→en | nDCG@10 ↑ | 50.0 | 60.0 | +10.0 |" in md and "| 81.3 | +31.3 |" in md  # the comparison
    # the CLI's evaluation tables, printed to a pipe and as markdown
    buf = io.StringIO()
    print_tables(summary_tables(results["clear"]), file=buf)
    assert "81.3" in buf.getvalue().split() and "81.3" in summary_text(results["clear"], markdown=True)
    # the verdicts (summary.json's details and the printed lines) use the same rounding for differences
    verdict = next(v for v in summary["verdicts"] if "every language" in v["claim"])
    assert verdict["detail"] == "de +31.3"  # 0.8125 - 0.5
    assert "(de +31.3)" in text and "(de +31.3)" in md
    json.dumps(summary)
    for rendering in (text, summary_txt, md, buf.getvalue()):
        assert "81.2" not in rendering and "+31.2" not in rendering
