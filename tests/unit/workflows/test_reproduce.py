"""`reproduce`'s verdicts come from paired intervals on pooled per-query values, per budget and seed; its budget and
settings are checked before any work."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from crossalign.errors import ConfigError
from crossalign.evaluation.results import EvaluationResult, TaskScore
from crossalign.workflows.reproduce import (
    CLAIMS,
    ReproduceConfig,
    claim_verdicts,
    compare_pooled,
    en_en_checks,
    format_reproduction,
    pooled_values,
)

LANGS = ["de", "km"]


def _retrieval_task(lang: str, q: str, d: str, values: np.ndarray) -> TaskScore:
    pq = {f"q{i}": float(v) for i, v in enumerate(values)}
    return TaskScore(
        "retrieval",
        f"libreoffice-sections/{lang}",
        q,
        d,
        {d: 50},
        len(pq),
        "ndcg@10",
        {"ndcg@10": float(np.mean(values))},
        per_query={"ndcg@10": pq},
    )


def _result(label: str, x_en: float, en_en: float = 0.6, n: int = 60, noise: float = 0.0, seed: int = 0) -> Any:
    rng = np.random.default_rng(seed)
    tasks = []
    for lang in LANGS:
        vals = np.clip(x_en + noise * rng.standard_normal(n), 0, 1)
        tasks.append(_retrieval_task(lang, lang, "en", vals))
        tasks.append(_retrieval_task(lang, "en", "en", np.full(n, en_en)))
        # a held-out panel task of the same shape must never be pooled
        held = _retrieval_task("ja", "ja", "en", np.zeros(n))
        held.task = "holdout/libreoffice-sections/ja"
        tasks.append(held)
    return EvaluationResult(model=label, data={}, config={}, tasks=tasks)


def test_pooled_values_take_every_language_and_skip_the_panel():
    res = _result("m", 0.5, n=10)
    values = pooled_values(res, CLAIMS[0].primary, LANGS)
    assert len(values) == 20  # 10 queries × 2 languages, no held-out task
    assert all(v == pytest.approx(0.5) for v in values.values())
    assert pooled_values(res, CLAIMS[0].primary, ["de"]).keys() < values.keys()


def test_compare_pooled_sides_follow_the_interval():
    base = _result("b", 0.4, noise=0.05, seed=1)
    better = _result("m", 0.5, noise=0.05, seed=2)
    same = _result("s", 0.4, noise=0.05, seed=3)
    cm = CLAIMS[0].primary
    up = compare_pooled(base, better, cm, LANGS)
    assert (
        up is not None and up["side"] == "better" and up["ci_low"] > 0 and up["delta"] == pytest.approx(0.1, abs=0.02)
    )
    down = compare_pooled(better, base, cm, LANGS)
    assert down["side"] == "worse" and down["ci_high"] < 0
    assert compare_pooled(base, same, cm, LANGS)["side"] is None


def _results(clear_by_steps: dict[int, float]) -> dict[str, Any]:
    out = {"retrieval/base": _result("base", 0.2, noise=0.05, seed=0)}
    for i, (steps, clear) in enumerate(clear_by_steps.items()):
        out[f"retrieval/infonce@{steps}/s13"] = _result("infonce", 0.4, noise=0.05, seed=10 + i)
        out[f"retrieval/clear@{steps}/s13"] = _result("clear", clear, noise=0.05, seed=20 + i)
    return out


@pytest.mark.parametrize(
    ("clear", "verdict"),
    [
        ({40: 0.5, 80: 0.5}, "holds"),
        ({40: 0.3, 80: 0.3}, "reversed"),
        ({40: 0.4, 80: 0.4}, "not shown"),
        ({40: 0.5, 80: 0.4}, "mixed"),
    ],
)
def test_claim_verdict_needs_every_budget(clear, verdict):
    results = _results(clear)
    verdicts = claim_verdicts(results, {"retrieval": LANGS}, [40, 80], [13])
    by_name = {v["name"]: v for v in verdicts}
    v = by_name["clear"]
    assert v["verdict"] == verdict
    assert [c["steps"] for c in v["cells"]] == [40, 80]
    if verdict == "mixed":
        assert "holds at 40 steps, seed 13" in v["detail"] and "not shown at 80 steps, seed 13" in v["detail"]
    # the JSD claim has no JSD model here: measured nowhere, said so
    assert by_name["jsd"]["verdict"] == "not measured"
    text = format_reproduction({"claims": verdicts, "en_en": [], "holdout": {}})
    assert verdict.upper() in text


def test_en_en_check_flags_a_collapse():
    results = {
        "retrieval/base": _result("base", 0.2, en_en=0.66),
        "retrieval/clear@40/s13": _result("clear", 0.4, en_en=0.64),
        "retrieval/jsd@40/s13": _result("jsd", 0.4, en_en=0.55),
    }
    checks = {c["model"]: c for c in en_en_checks(results, {"retrieval": LANGS})}
    assert checks["retrieval/clear@40/s13"]["holds"]
    assert not checks["retrieval/jsd@40/s13"]["holds"]
    assert checks["retrieval/jsd@40/s13"]["delta"] == pytest.approx(-0.11)


def test_budget_overrides_and_errors():
    cfg = ReproduceConfig(output_dir="x", budget={"steps": "40,120", "rank_range": [10, 50]})
    b = cfg.resolved_budget()
    assert b.steps == (40, 120) and b.rank_range == (10, 50)
    with pytest.raises(ConfigError, match="unknown reproduce budget field"):
        ReproduceConfig(output_dir="x", budget={"stepz": 3}).resolved_budget()
    with pytest.raises(ConfigError, match="steps must be distinct"):
        ReproduceConfig(output_dir="x", budget={"steps": [40, 40]}).resolved_budget()
    with pytest.raises(ConfigError, match="rank_range"):
        ReproduceConfig(output_dir="x", budget={"rank_range": [50, 10]}).resolved_budget()


def test_settings_are_checked_before_any_work(tmp_path):
    with pytest.raises(ConfigError, match="at least 4"):
        ReproduceConfig(output_dir=tmp_path, parallel_langs="de,fi").checked()
    with pytest.raises(ConfigError, match="unknown experiment"):
        ReproduceConfig(output_dir=tmp_path, experiments=("retrieval", "sts")).checked()
    parsed = ReproduceConfig(output_dir=tmp_path).checked()
    trained = set(parsed["langs"]) | set(parsed["parallel"])
    assert parsed["panel"] and not trained & set(parsed["panel"])
    assert len(parsed["parallel"]) == 8


def test_finished_runs_keep_only_budget_checkpoints_without_resume_state(tmp_path):
    from crossalign.workflows.reproduce import _prune_checkpoints

    root = tmp_path / "checkpoints"
    for step in (40, 80):
        d = root / f"checkpoint-{step}"
        d.mkdir(parents=True)
        for name in ("model.safetensors", "config.json", "optimizer.pt", "scheduler.pt", "rng_state.pth"):
            (d / name).write_text("x")
    _prune_checkpoints(root, keep=[40])
    assert sorted(p.name for p in root.iterdir()) == ["checkpoint-40"]
    assert sorted(p.name for p in (root / "checkpoint-40").iterdir()) == ["config.json", "model.safetensors"]


def test_models_table_pools_every_query_and_plot_is_written(tmp_path):
    from crossalign.workflows.reproduce import models_summary, models_table, plot_claims

    results = _results({40: 0.5})
    summary = models_summary(results, {"retrieval": LANGS})
    rows = summary["retrieval"]["rows"]
    assert list(rows) == ["base", "infonce@40/s13", "clear@40/s13"]
    x_en = [label for label, _ in summary["retrieval"]["columns"]].index("x→en nDCG@10")
    assert rows["base"][x_en] == pytest.approx(0.2, abs=0.02) and rows["clear@40/s13"][x_en] == pytest.approx(
        0.5, abs=0.02
    )
    table = models_table("retrieval", summary["retrieval"], LANGS)
    from crossalign.evaluation.format import format_value

    assert table.rows[0][0] == "base" and table.rows[2][1 + x_en] == format_value("ndcg@10", rows["clear@40/s13"][x_en])
    pytest.importorskip("matplotlib")
    verdicts = claim_verdicts(results, {"retrieval": LANGS}, [40], [13])
    png = plot_claims(verdicts, tmp_path / "claims.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _only(lang: str, x_en: float, en_en: float = 0.6, seed: int = 0) -> Any:
    """A model trained on ``lang`` alone, evaluated on ``lang`` and the panel."""
    rng = np.random.default_rng(seed)
    held = _retrieval_task("ja", "ja", "en", np.full(60, 0.3))
    held.task = "holdout/libreoffice-sections/ja"
    tasks = [
        _retrieval_task(lang, lang, "en", np.clip(x_en + 0.05 * rng.standard_normal(60), 0, 1)),
        _retrieval_task(lang, "en", "en", np.full(60, en_en)),
        held,
    ]
    return EvaluationResult(model=lang, data={}, config={}, tasks=tasks)


def test_per_language_claim_pools_each_language_scored_by_its_own_model():
    from crossalign.workflows.reproduce import PER_LANGUAGE, _composites

    base = _result("base", 0.2, noise=0.05, seed=0)
    results = {"retrieval/base": base, f"{PER_LANGUAGE}/base": base}
    # CLEAR wins in de by 0.2 and loses in km by 0.05: pooled over both languages' queries it still wins
    for lang, clear, infonce in (("de", 0.6, 0.4), ("km", 0.35, 0.4)):
        results[f"only-{lang}/base"] = base
        results[f"only-{lang}/clear@40/s13"] = _only(lang, clear, seed=1)
        results[f"only-{lang}/infonce@40/s13"] = _only(lang, infonce, en_en=0.5 if lang == "km" else 0.6, seed=2)
    composites = _composites(results, LANGS, [40], [13])
    assert sorted(composites) == [f"{PER_LANGUAGE}/clear@40/s13", f"{PER_LANGUAGE}/infonce@40/s13"]
    clear = composites[f"{PER_LANGUAGE}/clear@40/s13"]
    assert {t.task for t in clear.tasks} == {"libreoffice-sections/de", "libreoffice-sections/km"}  # no panel task
    x_en = next(c for c in CLAIMS if c.name == "clear-per-language").primary
    assert pooled_values(clear, x_en, LANGS).keys() == pooled_values(base, x_en, LANGS).keys()
    results.update(composites)
    langs_of = {"retrieval": LANGS, PER_LANGUAGE: LANGS, "only-de": ["de"], "only-km": ["km"]}
    by_name = {v["name"]: v for v in claim_verdicts(results, langs_of, [40], [13])}
    cell = by_name["clear-per-language"]["cells"][0]["primary"]
    assert by_name["clear-per-language"]["verdict"] == "holds"
    assert cell["delta"] == pytest.approx((0.2 - 0.05) / 2, abs=0.02) and cell["n"] == 120
    # en→en is checked per language model against the base on its own language; composites are not checked twice
    checks = {c["model"]: c for c in en_en_checks(results, langs_of)}
    assert not any(m.startswith(PER_LANGUAGE) for m in checks)
    assert checks["only-km/infonce@40/s13"]["delta"] == pytest.approx(-0.1) and checks["only-de/clear@40/s13"]["holds"]


def test_per_language_experiment_is_opt_in(tmp_path):
    from crossalign.workflows.reproduce import DEFAULT_EXPERIMENTS, PER_LANGUAGE

    assert PER_LANGUAGE not in ReproduceConfig(output_dir=tmp_path).experiments == DEFAULT_EXPERIMENTS
    ReproduceConfig(output_dir=tmp_path, experiments=("retrieval", PER_LANGUAGE)).checked()
