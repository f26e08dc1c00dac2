"""compare_results: deltas, paired tests per cell, Holm over cells, lower-is-better verdicts, refusals."""

from __future__ import annotations

import json

import numpy as np
import pytest
from reports_testkit import make_result, result, task

from crossalign.errors import CrossalignError, DataFormatError
from crossalign.evaluation.significance import holm, paired_bootstrap, paired_randomization
from crossalign.reports.compare import ComparisonError, compare_results, per_query_values

IDS = [f"q{i:03d}" for i in range(200)]


def _pq(values: np.ndarray) -> dict[str, float]:
    return dict(zip(IDS, map(float, values)))


def _mixed(label: str, max_ranks: np.ndarray, min_ranks: np.ndarray, lang: str = "de") -> object:
    scores = {
        "max_rank_mean": float(max_ranks.mean()),
        "max_rank_median": float(np.median(max_ranks)),
        "complete@10": float((max_ranks <= 10).mean()),
        "ndcg@1": float((min_ranks == 1).mean()),
    }
    t = task(
        "mixed-pool",
        lang,
        None,
        scores,
        main="max_rank_mean",
        n=len(IDS),
        per_query={"max_rank": _pq(max_ranks), "min_rank": _pq(min_ranks)},
    )
    return result(label, [t])


def test_lower_is_better_metric_is_marked_correctly() -> None:
    rng = np.random.default_rng(0)
    mx = rng.integers(2, 60, 200)
    mn = np.ones(200, dtype=int)
    base = _mixed("base", mx, mn)
    better = _mixed("better", np.maximum(2, mx - 8), mn)  # lower Max@R: better
    worse = _mixed("worse", mx + 8, mn)
    c = compare_results([base, better, worse], metrics=["max_rank_mean", "complete@10"], seed=0)
    ((cell, m),) = c.find(metric="max_rank_mean")
    assert cell.direction == "de→{de,en}"
    assert m.lower_is_better
    assert m.deltas[1] < 0 and m.deltas[2] == pytest.approx(8.0)
    assert m.verdicts == ["baseline", "better", "worse"]
    ((_, comp),) = c.find(metric="complete@10")
    assert not comp.lower_is_better
    assert comp.deltas[1] >= 0 and comp.deltas[2] <= 0
    text = c.to_text()
    assert "Max@R mean ↓" in text and "better" in text and "worse" in text


def test_derived_per_query_values_reproduce_the_scores() -> None:
    rng = np.random.default_rng(1)
    mx = rng.integers(2, 40, 200)
    mn = np.where(rng.random(200) < 0.4, 1, 2)
    (t,) = _mixed("m", mx, mn).tasks
    vals, stat = per_query_values(t, "complete@10")
    assert stat == "mean" and np.mean(list(vals.values())) == pytest.approx(t.scores["complete@10"])
    vals, stat = per_query_values(t, "max_rank_median")
    assert stat == "median" and np.median(list(vals.values())) == pytest.approx(t.scores["max_rank_median"])
    vals, _ = per_query_values(t, "ndcg@1")
    assert np.mean(list(vals.values())) == pytest.approx(t.scores["ndcg@1"])
    assert per_query_values(t, "pivot_first@1") is None


def test_bootstrap_values_and_holm_family_per_metric() -> None:
    base = make_result("base", n=120)
    tuned = make_result("tuned", n=120, improve=0.8, seed=2)
    c = compare_results([base, tuned], n_resamples=2000, seed=3)
    pairs = c.find(suite="retrieval", metric="ndcg@10")
    assert len(pairs) == 7  # en→en + 3 directions × 2 languages
    # the p-values equal a direct paired bootstrap on the per-query values, and Holm runs over these 7 cells
    raw = []
    for cell, m in pairs:
        a = base.find("retrieval", query_lang=cell.query_lang, doc_lang=cell.doc_lang)[0].per_query["ndcg@10"]
        b = tuned.find("retrieval", query_lang=cell.query_lang, doc_lang=cell.doc_lang)[0].per_query["ndcg@10"]
        direct = paired_bootstrap(a, b, n_resamples=2000, seed=3)
        assert m.tests[1].p_value == pytest.approx(direct.p_value)
        assert m.deltas[1] == pytest.approx(direct.difference)
        raw.append(direct.p_value)
    assert [m.p_adjusted[1] for _, m in pairs] == pytest.approx(holm(raw))
    verdict = {c_.direction: m.verdicts[1] for c_, m in pairs}
    assert verdict["de→en"] == "better" and verdict["en→zh-CN"] == "better"
    assert verdict["en→en"] == "no significant difference"
    # mixed pools: English queries over two different pools are two cells, not one
    assert {c_.direction for c_, _ in c.find(suite="mixed-pool")} == {
        "de→{de,en}",
        "en→{de,en}",
        "zh-CN→{en,zh-CN}",
        "en→{en,zh-CN}",
    }
    md = c.to_markdown()
    assert "paired bootstrap over queries (2,000 resamples, seed 3)" in md
    assert "Holm–Bonferroni" in md and "no significant difference" in md
    assert "**+" in md and "†" in md
    # JSON is serialisable and carries raw + adjusted p-values
    data = json.loads(json.dumps(c.to_dict(), allow_nan=False))
    cell = next(
        x for x in data["cells"] if x["suite"] == "retrieval" and x["query_lang"] == "de" and x["doc_lang"] == "en"
    )
    comp = cell["metrics"][0]["comparisons"][0]
    assert comp["verdict"] == "better" and comp["significant"] and comp["p_adjusted"] >= comp["p_value"]
    assert data["method"]["correction"] == "holm" and data["method"]["n_resamples"] == 2000


def test_randomization_test_and_no_correction() -> None:
    base = make_result("base", n=60, suites=("retrieval",))
    tuned = make_result("tuned", n=60, improve=0.8, seed=2, suites=("retrieval",))
    c = compare_results([base, tuned], test="randomization", correction="none", n_resamples=1000)
    (_, m) = c.find(query_lang="de", doc_lang="en")[0]
    assert m.tests[1].test == "randomization" and m.tests[1].ci_low is None
    assert m.p_adjusted[1] == m.tests[1].p_value  # no correction
    assert "95% CI" not in c.tables()[0].columns
    assert "randomisation" in c.method_text()
    # the exact-enumeration bound follows the resamples (exact when 2^n <= R): 2^9 <= 1000 < 2^10
    assert "exact for n ≤ 9)" in c.method_text()
    r = paired_randomization(np.zeros(9), np.ones(9), n_resamples=1000)
    assert r.exact and not paired_randomization(np.zeros(10), np.ones(10), n_resamples=1000).exact


def test_metric_selection_and_untested_metrics() -> None:
    base = make_result("base", n=50)
    tuned = make_result("tuned", n=50, improve=0.5, seed=2)
    c = compare_results([base, tuned], metrics="nDCG@10, bucc_f1 ,spearman,nope@3", n_resamples=500)
    assert c.metrics() == ["ndcg@10", "bucc_f1", "spearman"]
    (_, bucc) = c.find(metric="bucc_f1")[0]
    assert bucc.verdicts[1] == "not tested" and bucc.tests[1] is None
    assert bucc.deltas[1] == pytest.approx(0.05)
    assert "not a mean over queries" in bucc.notes[1]
    assert any("nope@3" in n for n in c.notes)
    every = compare_results([base, tuned], metrics="ALL", n_resamples=200)
    (_, first), *_ = every.find(suite="retrieval")
    assert first.metric == "ndcg@10"  # the main score first, then the other shared metrics
    assert {m.metric for _, m in every.find(suite="retrieval")} == {"ndcg@10", "recall@10", "mrr@10"}
    # per-query values missing on one side: compared, not tested, and said so
    bare = make_result("bare", n=50, improve=0.5, seed=2, per_query=False)
    c2 = compare_results([base, bare], n_resamples=500)
    (_, m) = c2.find(suite="retrieval")[0]
    assert m.verdicts[1] == "not tested" and "no per-query values of ndcg@10 in bare" in m.notes[1]
    assert "none tested" in " ".join(c2.summary())


def test_per_query_values_that_do_not_match_the_score_are_not_tested() -> None:
    a = result("a", [task("retrieval", "de", "en", {"ndcg@10": 0.5}, per_query={"ndcg@10": {"q1": 1.0, "q2": 0.0}})])
    b = result("b", [task("retrieval", "de", "en", {"ndcg@10": 0.9}, per_query={"ndcg@10": {"q1": 1.0, "q2": 0.0}})])
    c = compare_results([a, b], n_resamples=200)
    (_, m) = c.find()[0]
    assert m.verdicts[1] == "not tested" and "do not reproduce the stored score" in m.notes[1]


def test_refusals() -> None:
    base = make_result("base", n=40, suites=("retrieval",))
    fewer = make_result("fewer", n=30, suites=("retrieval",))  # other query ids
    with pytest.raises(DataFormatError, match=r"query sets differ: 10 only in A \(e\.g\. q0030"):
        compare_results([base, fewer], n_resamples=200)
    bitext_only = make_result("bitext", n=40, suites=("bitext",))
    with pytest.raises(ComparisonError, match="share no evaluation cell") as exc:
        compare_results([base, bitext_only])
    assert "base: retrieval/lo-sections; bitext: bitext/lo-paragraphs" in str(exc.value)
    with pytest.raises(ComparisonError, match="at least two"):
        compare_results([base])
    with pytest.raises(ComparisonError, match="baseline 5"):
        compare_results([base, base], baseline=5)
    with pytest.raises(CrossalignError, match="unknown test"):
        compare_results([base, base], test="ttest")
    with pytest.raises(ComparisonError, match="none of the metrics bucc_f1") as exc:
        compare_results([base, base], metrics=["bucc_f1"])
    assert "choose among: mrr@10, ndcg@10, recall@10" in str(exc.value)


def test_cells_in_some_results_only_are_listed() -> None:
    a = make_result("a", n=30, suites=("retrieval", "sts"))
    b = make_result("b", n=30, suites=("retrieval",), seed=2)
    c = compare_results([a, b], n_resamples=200)
    assert c.not_compared == ["sts/sts17 de→en: only in a"]
    assert "Not compared" in c.to_markdown()


def test_too_few_resamples_for_the_family_is_said() -> None:
    base = make_result("base", n=60, suites=("retrieval",))
    tuned = make_result("tuned", n=60, improve=0.8, seed=2, suites=("retrieval",))
    # 7 cells x 1/(100+1) = 0.069 >= 0.05: even a huge effect cannot be significant after Holm
    c = compare_results([base, tuned], n_resamples=100)
    assert any("no cell can be significant" in n and "--resamples" in n for n in c.notes)
    assert all(m.verdicts[1] != "better" for _, m in c.find())
    assert not compare_results([base, tuned], n_resamples=1000).notes
