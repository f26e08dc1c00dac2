"""The held-out panel: language resolution, per-language deltas with bootstrap CIs, and the regression verdict."""

from __future__ import annotations

import pytest

from crossalign.errors import ConfigError
from crossalign.evaluation.holdout import (
    DEFAULT_HOLDOUT_LANGS,
    holdout_comparison,
    holdout_langs_of,
    resolve_holdout_langs,
)
from crossalign.evaluation.results import EvaluationResult, TaskScore
from crossalign.reports.holdout import format_holdout


def test_default_panel_excludes_trained_languages_and_has_six_or_more():
    assert len(DEFAULT_HOLDOUT_LANGS) >= 6
    assert resolve_holdout_langs(None, ["de", "ja"]) == [x for x in DEFAULT_HOLDOUT_LANGS if x != "ja"]
    assert resolve_holdout_langs("none", ["de"]) == []
    assert resolve_holdout_langs("ko,el", ["de"]) == ["ko", "el"]
    with pytest.raises(ConfigError, match="names de, which is trained"):
        resolve_holdout_langs("ko,de", ["de"])


def _result(label: str, ndcg: dict[str, list[float]], fwd: dict[str, list[float]], bwd: dict[str, list[float]]):
    tasks = [TaskScore("retrieval", "libreoffice-sections/de", "de", "en", {"en": 3}, 3, "ndcg@10", {"ndcg@10": 0.5})]
    for lang, vals in ndcg.items():
        pq = {f"{lang}:{i}": v for i, v in enumerate(vals)}
        mean = sum(vals) / len(vals)
        for q in (lang, "en"):
            tasks.append(
                TaskScore(
                    "retrieval",
                    f"holdout/libreoffice-sections/{lang}",
                    q,
                    "en",
                    {"en": len(vals)},
                    len(vals),
                    "ndcg@10",
                    {"ndcg@10": mean if q == lang else 0.8},
                    per_query={"ndcg@10": pq if q == lang else {k: 0.8 for k in pq}},
                )
            )
        f, b = fwd[lang], bwd[lang]
        ids = [f"{lang}:p{i}" for i in range(len(f))]
        tasks.append(
            TaskScore(
                "bitext",
                "holdout/libreoffice-paragraphs",
                lang,
                "en",
                {"en": len(f)},
                len(f),
                "bucc_f1",
                {"p@1_src2tgt": sum(f) / len(f), "p@1_tgt2src": sum(b) / len(b), "bucc_f1": 0.9, "xsim_error": 0.1},
                per_query={"p@1_src2tgt": dict(zip(ids, f)), "p@1_tgt2src": dict(zip(ids, b))},
            )
        )
    return EvaluationResult(model={"label": label}, data={}, config={"langs": ["de"]}, tasks=tasks)


def test_comparison_deltas_cis_and_the_verdict_naming_the_losing_language():
    ones = [1.0] * 50
    base = _result("base", {"ja": [0.6] * 40, "ko": [0.5] * 40}, {"ja": ones, "ko": ones}, {"ja": ones, "ko": ones})
    # ja: x→en unchanged, bitext loses 2 of 50 pairs in one direction (−2.0 points of the two-way mean);
    # ko: x→en loses 0.005 (−0.5 point, within the threshold), bitext unchanged
    tuned = _result(
        "tuned",
        {"ja": [0.6] * 40, "ko": [0.495] * 40},
        {"ja": [0.0, 0.0] + [1.0] * 48, "ko": ones},
        {"ja": ones, "ko": ones},
    )
    assert holdout_langs_of(base) == ["ja", "ko"]
    cmp = holdout_comparison(base, {"tuned": tuned}, n_resamples=500)
    ja = cmp["models"]["tuned"]["ja"]
    assert ja["bitext_p@1"]["delta"] == pytest.approx(-0.02)
    assert ja["bitext_p@1"]["ci_low"] < -0.02 < ja["bitext_p@1"]["ci_high"] <= 0.0
    assert ja["x>en"]["delta"] == pytest.approx(0.0)
    assert cmp["models"]["tuned"]["ko"]["x>en"]["delta"] == pytest.approx(-0.005)
    verdict = cmp["verdicts"]["tuned"]
    assert not verdict["holds"]
    assert [(f["lang"], f["metric"]) for f in verdict["failing"]] == [("ja", "bitext_p@1")]
    assert "ja bitext P@1 -2.0" in verdict["detail"]
    text = format_holdout(cmp, trained=["de"])
    assert "tuned: no held-out language loses more than 1.0 point" in text and ": NO (" in text

    same = holdout_comparison(base, {"base-again": base}, n_resamples=100)
    assert same["verdicts"]["base-again"]["holds"]
    assert same["mean"]["base-again"]["x>en"]["delta"] == 0.0


def test_a_missing_panel_language_makes_the_verdict_fail():
    ones = [1.0] * 10
    base = _result("base", {"ja": [0.5] * 10}, {"ja": ones}, {"ja": ones})
    other = _result("m", {}, {}, {})
    cmp = holdout_comparison(base, {"m": other}, n_resamples=50)
    assert not cmp["verdicts"]["m"]["holds"] and cmp["verdicts"]["m"]["missing"]
    # the panel table goes through the one formatter: base values ×100 as everywhere, a missing cell is MISSING
    from crossalign.evaluation.format import MISSING, format_value
    from crossalign.reports.holdout import holdout_table

    table = holdout_table(cmp)
    assert table.rows[0][:3] == ["ja", "base", format_value("ndcg@10", 0.5)] == ["ja", "base", "50.0"]
    assert table.rows[1][2] == MISSING and cmp["verdicts"]["m"]["detail"].startswith(f"worst: {MISSING}")
