"""The demo's summary table and verdicts are computed from the results (never assumed), and the budget validates."""

from __future__ import annotations

import pytest

from crossalign.errors import ConfigError
from crossalign.evaluation.results import EvaluationResult, TaskScore
from crossalign.workflows.demo import PRESETS, DemoConfig, demo_summary, format_summary


def _result(label: str, x_en: dict[str, float], en_en: float, max_r: dict[str, float]) -> EvaluationResult:
    """Each language has its own sets: en→en is ``en_en`` + 0.1 × the language's position (different per row)."""
    tasks = []
    for i, (lang, v) in enumerate(x_en.items()):
        task = f"libreoffice-sections/{lang}"
        tasks += [
            TaskScore("retrieval", task, "en", "en", {"en": 50}, 50, "ndcg@10", {"ndcg@10": en_en + 0.1 * i}),
            TaskScore("retrieval", task, lang, "en", {"en": 50}, 50, "ndcg@10", {"ndcg@10": v}),
            TaskScore("retrieval", task, lang, lang, {lang: 50}, 50, "ndcg@10", {"ndcg@10": 0.5}),
            TaskScore("retrieval", task, "en", lang, {lang: 50}, 50, "ndcg@10", {"ndcg@10": 0.3}),
            TaskScore(
                "mixed-pool",
                task,
                lang,
                None,
                {"en": 50, lang: 50},
                50,
                "max_rank_mean",
                {"max_rank_mean": max_r[lang], "max_rank_median": max_r[lang] / 2, "complete@10": 0.2},
            ),
            # the English-query view of the same pool must not be mistaken for the x queries
            TaskScore(
                "mixed-pool",
                task,
                "en",
                None,
                {"en": 50, lang: 50},
                50,
                "max_rank_mean",
                {"max_rank_mean": 999.0, "max_rank_median": 999.0, "complete@10": 0.9},
            ),
        ]
    return EvaluationResult(model={"label": label}, data={}, config={}, tasks=tasks)


def test_summary_numbers_and_verdicts_follow_the_results():
    results = {
        "base": _result("base", {"de": 0.30, "km": 0.10}, 0.670, {"de": 120.0, "km": 230.0}),
        "infonce": _result("infonce", {"de": 0.40, "km": 0.20}, 0.660, {"de": 80.0, "km": 150.0}),
        "clear": _result("clear", {"de": 0.45, "km": 0.08}, 0.655, {"de": 60.0, "km": 140.0}),
    }
    s = demo_summary(results, ["de", "km"])
    assert s["table"]["clear"]["de"]["x>en"] == pytest.approx(0.45)
    assert s["table"]["base"]["km"]["max_r_mean"] == pytest.approx(230.0)
    assert s["mean"]["infonce"]["x>en"] == pytest.approx(0.30)
    verdicts = {v["claim"]: v for v in s["verdicts"]}
    every = next(v for k, v in verdicts.items() if "every language" in k)
    assert every["holds"] is False and "not for km" in every["detail"]
    beats = next(v for k, v in verdicts.items() if "InfoNCE" in k)
    assert beats["holds"] is False  # mean x→en: CLEAR 0.265 < InfoNCE 0.30
    keeps = next(v for k, v in verdicts.items() if "within 1 point" in k)
    assert keeps["holds"] is False and "de -1.5" in keeps["detail"] and "km -1.5" in keeps["detail"]
    # en→en is read from each language's own sets, not repeated from the first one
    assert s["table"]["base"]["de"]["en>en"] == pytest.approx(0.670)
    assert s["table"]["base"]["km"]["en>en"] == pytest.approx(0.770)
    text = format_summary(s)
    assert "NO" in text and "de (n=50)" in text and "45.0" in text


def test_verdicts_hold_when_clear_wins():
    results = {
        "base": _result("base", {"de": 0.30}, 0.670, {"de": 120.0}),
        "infonce": _result("infonce", {"de": 0.40}, 0.668, {"de": 80.0}),
        "clear": _result("clear", {"de": 0.45}, 0.665, {"de": 60.0}),
    }
    s = demo_summary(results, ["de"])
    assert all(v["holds"] for v in s["verdicts"]), s["verdicts"]
    md = format_summary(s, markdown=True)
    assert md.startswith("| lang | model |") and "| mean |" in md


def test_budget_overrides_are_validated():
    assert DemoConfig(output_dir="x", quick=True).resolved_budget() == PRESETS["quick"]
    b = DemoConfig(output_dir="x", budget={"steps": 3, "freeze": "word_embeddings"}).resolved_budget()
    assert b.steps == 3 and b.freeze == ("word_embeddings",)
    with pytest.raises(ConfigError, match="stepz"):
        DemoConfig(output_dir="x", budget={"stepz": 3}).resolved_budget()
    with pytest.raises(ConfigError, match="batch_size"):
        DemoConfig(output_dir="x", budget={"batch_size": 0}).resolved_budget()


@pytest.mark.parametrize(
    ("budget", "message"),
    [
        ({"learning_rate": "abc"}, "demo budget: learning_rate must be a finite number > 0, got 'abc'"),
        ({"learning_rate": float("inf")}, "demo budget: learning_rate must be a finite number > 0, got inf"),
        ({"eval_sections": 0}, "demo budget: eval_sections must be an integer >= 1, got 0"),
        ({"bitext_pairs": -1}, "demo budget: bitext_pairs must be an integer >= 1"),
        ({"freeze": "bogus"}, "demo budget: unknown freeze spec 'bogus'"),
    ],
)
def test_budget_values_fail_at_once_and_make_no_directory(tmp_path, budget, message):
    """Issue #11 item 8: these passed validation and failed minutes later (learning_rate=abc with a traceback,
    after making an empty output directory)."""
    from crossalign.workflows.demo import run_demo

    out = tmp_path / "demo"
    with pytest.raises(ConfigError) as info:
        run_demo(DemoConfig(output_dir=out, budget=budget))
    assert message in str(info.value)
    assert not out.exists()


def test_languages_are_canonical_and_english_is_the_pivot():
    assert DemoConfig(output_dir="x", langs="en,DE,zh-cn").lang_list() == ["de", "zh-CN"]
    with pytest.raises(ConfigError, match="non-English"):
        DemoConfig(output_dir="x", langs="en").lang_list()


def test_guard_sweep_prints_each_candidate_and_its_worst_held_out_change():
    """The guard line names every candidate (plain and +center), its dev gain and its worst held-out change against
    the uncentered base (λ = 0), the chosen candidate and the label; the report's table lists the same rows."""
    from crossalign.workflows.demo import guarded_label
    from crossalign.workflows.merge_select import choose_lambda

    curve = [
        {"lambda": 0.0, "centered": False, "gain": 0.30, "holdout": {"ja": 0.90, "ko": 0.80}},
        {"lambda": 0.0, "centered": True, "gain": 0.35, "holdout": {"ja": 0.92, "ko": 0.81}},
        {"lambda": 0.5, "centered": False, "gain": 0.45, "holdout": {"ja": 0.87, "ko": 0.80}},
        {"lambda": 0.5, "centered": True, "gain": 0.50, "holdout": {"ja": 0.895, "ko": 0.82}},
    ]
    choice = choose_lambda(curve)
    label = guarded_label(choice["lambda"], choice["centered"])
    assert label == "clear+merge+center"
    assert guarded_label(1.0, True) == "clear+center" and guarded_label(0.5, False) == "clear+merge"
    results = {"base": _result("base", {"de": 0.30}, 0.670, {"de": 120.0})}
    summary = {
        **demo_summary(results, ["de"]),
        "languages": ["de"],
        "merge": {**choice, "curve": curve, "label": label, "holdout_langs": ["ja", "ko"]},
    }
    text = format_summary(summary)
    assert "clear+merge+center: λ 0.5+center chosen" in text
    # λ 0.5 plain: ja −3.0 points; λ 0.5+center: ja −0.5; λ 0+center: ko +1.0 is its smallest change
    assert "λ 0.5: 45.0 / -3.0" in text and "λ 0.5+center: 50.0 / -0.5" in text and "λ 0+center: 35.0 / +1.0" in text


def test_training_settings_ignore_evaluation_only_fields_and_fp32(monkeypatch):
    """A demo training stage is reused when only evaluation sizes change, or when it trains in fp32 (the key of runs
    trained before the precision field existed); training in bf16 trains again, and ``auto`` keys what it resolves
    to."""
    from dataclasses import replace

    from crossalign.models.backends import PRECISION_ENV
    from crossalign.workflows.demo import PRESETS, DemoConfig, train_settings
    from crossalign.workflows.stages import settings_digest

    config = DemoConfig(output_dir="x")
    fp32 = replace(PRESETS["default"], precision="fp32")
    key = settings_digest(train_settings("clear", config, fp32, "d"))
    assert "bf16" not in train_settings("clear", config, fp32, "d")["budget"]
    assert "precision" not in train_settings("clear", config, fp32, "d")["budget"]
    assert settings_digest(train_settings("clear", config, replace(fp32, holdout_size=7), "d")) == key
    bf16_key = settings_digest(train_settings("clear", config, replace(fp32, precision="bf16"), "d"))
    assert bf16_key != key and train_settings("clear", config, replace(fp32, precision="bf16"), "d")["budget"]["bf16"]
    assert settings_digest(train_settings("clear", config, replace(fp32, steps=41), "d")) != key
    monkeypatch.setenv(PRECISION_ENV, "bf16")  # auto resolves to bf16: the same run as an explicit bf16
    assert settings_digest(train_settings("clear", config, replace(fp32, precision="auto"), "d")) == bf16_key
    monkeypatch.setenv(PRECISION_ENV, "fp32")
    assert settings_digest(train_settings("clear", config, replace(fp32, precision="auto"), "d")) == key


def test_demo_budget_precision_is_checked_before_work(tmp_path):
    from crossalign.errors import ConfigError
    from crossalign.workflows.demo import DemoConfig

    assert DemoConfig(output_dir=tmp_path / "o").resolved_budget().precision == "auto"
    assert DemoConfig(output_dir=tmp_path / "o", budget={"precision": "fp32"}).resolved_budget().precision == "fp32"
    with pytest.raises(ConfigError, match="precision must be one of"):
        DemoConfig(output_dir=tmp_path / "o", budget={"precision": "fp16"}).resolved_budget()
    assert not (tmp_path / "o").exists()


def test_the_demo_reports_what_its_precision_resolves_to(monkeypatch):
    """The header line and summary.json say what ``auto`` became; the demo's own setting wins over the environment."""
    from crossalign.models.backends import PRECISION_ENV, precision_scope
    from crossalign.workflows.demo import resolved_precisions

    monkeypatch.setenv(PRECISION_ENV, "bf16")
    assert resolved_precisions() == {"training": "bf16", "encoding": "bf16"}
    with precision_scope("fp32"):
        assert resolved_precisions() == {"training": "fp32", "encoding": "fp32"}
