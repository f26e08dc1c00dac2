"""``crossalign compare`` end to end through ``crossalign.cli.main.main`` on results files in tmp_path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from reports_testkit import make_result

from crossalign.cli.main import main
from crossalign.evaluation.format import format_delta, format_value


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    base = make_result("base", n=80)
    tuned = make_result("tuned", n=80, improve=0.8, seed=2)
    return base.save(tmp_path / "base" / "results.json"), tuned.save(tmp_path / "tuned" / "results.json")


def _row(out: str, direction: str, metric_header: str) -> list[str]:
    for line in out.splitlines():
        cells = line.split()
        if cells[:1] == [direction] and metric_header in line:
            return cells
    raise AssertionError(f"no row {direction} {metric_header} in:\n{out}")


def test_compare_prints_the_table_and_writes_files(
    files: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base, tuned = files
    out_dir = tmp_path / "cmp"
    rc = main(
        [
            "compare",
            str(base),
            str(tuned.parent),
            "--metrics",
            "ndcg@10,complete@10",
            "--resamples",
            "2000",
            "--output",
            str(out_dir),
        ]
    )
    assert rc == 0
    out = capsys.readouterr().out
    assert "retrieval · lo-sections: tuned vs base" in out
    assert "mixed-pool · lo-sections: tuned vs base" in out
    assert "paired bootstrap over queries (2,000 resamples, seed 0)" in out
    # the de→en row holds both values, the delta with its mark, and the verdict, computed from the files
    from crossalign.evaluation.results import load_results

    b = load_results(base).find("retrieval", query_lang="de", doc_lang="en")[0].scores["ndcg@10"]
    t = load_results(tuned).find("retrieval", query_lang="de", doc_lang="en")[0].scores["ndcg@10"]
    row = _row(out, "de→en", "nDCG@10")
    assert row[3:7] == [format_value("ndcg@10", b), format_value("ndcg@10", t), format_delta("ndcg@10", t - b), "†"]
    assert row[-1] == "better"
    en_row = _row(out, "en→en", "nDCG@10")
    assert " ".join(en_row[-3:]) == "no significant difference"
    # files
    data = json.loads((out_dir / "comparison.json").read_text())
    assert data["baseline"] == "base" and data["method"]["n_resamples"] == 2000
    cell = next(c for c in data["cells"] if c["query_lang"] == "de" and c["doc_lang"] == "en")
    assert cell["metrics"][0]["comparisons"][0]["delta"] == pytest.approx(t - b)
    md = (out_dir / "comparison.md").read_text()
    assert "## How to reproduce" in md and "crossalign compare" in md and "--resamples 2000" in md
    plots = sorted(p.name for p in (out_dir / "plots").glob("*.png"))
    assert "delta_lo-sections_ndcg-10.png" in plots and "max_rank_ecdf_lo-sections.png" in plots
    assert all(f"plots/{p}" in md for p in plots)
    assert f"wrote {out_dir / 'comparison.md'}" in out


def test_compare_randomization_without_output(files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    base, tuned = files
    assert (
        main(["compare", str(base), str(tuned), "--test", "randomization", "--resamples", "500", "--baseline", "1"])
        == 0
    )
    out = capsys.readouterr().out
    assert "base vs tuned" in out  # tuned is the baseline now
    assert "randomisation" in out and "95% CI" not in out
    assert _row(out, "de→en", "nDCG@10")[-1] == "worse"


def test_same_labels_are_told_apart_by_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = make_result("e5", n=30, suites=("retrieval",)).save(tmp_path / "run1" / "results.json")
    b = make_result("e5", n=30, seed=2, suites=("retrieval",)).save(tmp_path / "run2" / "results.json")
    assert main(["compare", str(a), str(b), "--resamples", "200"]) == 0
    assert "e5 [run2] vs e5 [run1]" in capsys.readouterr().out
    assert main(["compare", str(a), str(b), "--resamples", "200", "--label", "base", "--label", "clear-de"]) == 0
    out = capsys.readouterr().out
    assert "clear-de vs base" in out and "e5" not in out
    assert main(["compare", str(a), str(b), "--label", "base"]) == 2
    assert "1 --label for 2 results" in capsys.readouterr().err


def test_errors(files: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base, _ = files
    assert main(["compare", str(base), str(tmp_path / "missing.json")]) == 2
    err = capsys.readouterr().err
    assert "results file not found" in err and "fix:" in err

    assert main(["compare", str(base)]) == 2
    assert "at least two results files" in capsys.readouterr().err

    other = make_result("other", n=60).save(tmp_path / "other.json")  # 60 queries instead of 80
    assert main(["compare", str(base), str(other), "--resamples", "200"]) == 2
    err = capsys.readouterr().err
    assert "query sets differ" in err and "fix: paired tests need the same queries" in err

    sts = make_result("sts", n=80, suites=("sts",)).save(tmp_path / "sts.json")
    bt = make_result("bt", n=80, suites=("bitext",)).save(tmp_path / "bt.json")
    assert main(["compare", str(sts), str(bt)]) == 2
    err = capsys.readouterr().err
    assert "share no evaluation cell" in err and "fix: compare results of the same evaluation" in err

    assert main(["compare", str(base), str(base), "--metrics", "bogus@3"]) == 2
    err = capsys.readouterr().err
    assert "none of the metrics bogus@3" in err and "choose among:" in err and "ndcg@10" in err

    assert main(["compare", str(base), str(base), "--baseline", "3"]) == 2
    assert "baseline 3 is not a result index" in capsys.readouterr().err

    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    assert main(["compare", str(base), str(bad)]) == 2
    assert "not valid JSON" in capsys.readouterr().err


def test_help_lists_compare(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "compare" in capsys.readouterr().out
