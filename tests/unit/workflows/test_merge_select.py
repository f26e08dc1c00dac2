"""Choosing WiSE-FT's λ: the rule, and that only dev pages are ever read (a test page would fail the test)."""

from __future__ import annotations

import pytest

from crossalign.errors import ConfigError
from crossalign.workflows import merge_select
from crossalign.workflows.merge_select import choose_lambda


def _curve(points):
    return [{"lambda": lam, "gain": g, "holdout": h} for lam, g, h in points]


def test_rule_takes_the_best_gain_among_lambdas_that_keep_every_held_out_language():
    curve = _curve(
        [
            (0.0, 0.20, {"ja": 0.90, "ko": 0.80}),
            (0.5, 0.35, {"ja": 0.895, "ko": 0.795}),  # −0.5 point each: admissible
            (0.75, 0.38, {"ja": 0.89, "ko": 0.78}),  # ko −2.0 points: not admissible
            (1.0, 0.40, {"ja": 0.85, "ko": 0.79}),
        ]
    )
    choice = choose_lambda(curve, threshold=0.01)
    assert choice["lambda"] == 0.5 and choice["admissible"] == ["0", "0.5"] and choice["centered"] is False
    assert choose_lambda(curve, threshold=0.10)["lambda"] == 1.0
    tie = _curve([(0.0, 0.2, {}), (0.5, 0.3, {}), (1.0, 0.3, {})])
    assert choose_lambda(tie)["lambda"] == 0.5  # the smaller λ on ties
    with pytest.raises(ConfigError, match="λ = 0"):
        choose_lambda(_curve([(0.5, 0.3, {})]))


def test_centered_candidates_compete_with_the_plain_merges_against_the_uncentered_base():
    def pt(lam, centered, gain, hold):
        return {"lambda": lam, "centered": centered, "gain": gain, "holdout": hold}

    curve = [
        pt(0.0, False, 0.20, {"ja": 0.90, "ko": 0.80}),
        pt(0.0, True, 0.30, {"ja": 0.93, "ko": 0.82}),
        pt(0.5, False, 0.38, {"ja": 0.88, "ko": 0.80}),  # ja −2.0: not admissible
        pt(0.5, True, 0.40, {"ja": 0.895, "ko": 0.81}),  # ja −0.5 against the *uncentered* base: admissible
        pt(1.0, False, 0.42, {"ja": 0.85, "ko": 0.75}),
        pt(1.0, True, 0.43, {"ja": 0.87, "ko": 0.79}),  # ja −3.0: not admissible
    ]
    choice = choose_lambda(curve, threshold=0.01)
    assert (choice["lambda"], choice["centered"]) == (0.5, True)
    assert choice["admissible"] == ["0", "0+center", "0.5+center"]
    assert "with or without centering" in choice["rule"]
    # equal gain: the uncentered candidate wins
    tie = [pt(0.0, False, 0.2, {}), pt(0.5, False, 0.3, {}), pt(0.5, True, 0.3, {})]
    assert (choose_lambda(tie)["lambda"], choose_lambda(tie)["centered"]) == (0.5, False)
    # the centered base is not a reference
    with pytest.raises(ConfigError, match="λ = 0"):
        choose_lambda([pt(0.0, True, 0.3, {})])


def test_lambda_is_chosen_on_dev_pages_only(monkeypatch):
    """Every evaluation set the selection builds comes from the dev split; building from test pages fails here."""
    calls: list[tuple[str, str]] = []

    class Stop(Exception):
        pass

    def fake_lo_sets(langs, **kw):
        calls.append(("trained", kw["split_name"]))
        from crossalign.data.eval_sets import EvalSets, EvalSetsConfig

        return EvalSets([], EvalSetsConfig(langs=tuple(langs)), {})

    def fake_holdout_sets(langs, **kw):
        calls.append(("holdout", kw["split_name"]))
        raise Stop

    import crossalign.data.eval_sets as eval_sets
    import crossalign.evaluation.holdout as holdout

    monkeypatch.setattr(eval_sets, "build_libreoffice_eval_sets", fake_lo_sets)
    monkeypatch.setattr(holdout, "build_holdout_sets", fake_holdout_sets)
    with pytest.raises(Stop):
        merge_select.select_merge_lambda(object(), object(), trained_langs=["de"], holdout_langs=["ja"])
    assert calls == [("trained", "dev"), ("holdout", "dev")]


def test_the_dev_sweep_keeps_its_embeddings_in_the_given_cache(monkeypatch, tmp_path):
    """The sweep's evaluations use the caller's cache root (the demo's ``--cache-dir``), not the default one."""
    from crossalign.data.eval_sets import EvalSets, EvalSetsConfig

    seen = []

    class Stop(Exception):
        pass

    def fake_evaluate_model(model, plan, **kw):
        seen.append(plan.options.cache_dir)
        raise Stop

    import crossalign.data.eval_sets as eval_sets
    import crossalign.models.merge as merge
    import crossalign.workflows.evaluate as evaluate

    monkeypatch.setattr(
        eval_sets,
        "build_libreoffice_eval_sets",
        lambda langs, **kw: EvalSets([], EvalSetsConfig(langs=tuple(langs)), {}),
    )
    import crossalign.evaluation.suites as suites

    monkeypatch.setattr(suites, "build_evaluators", lambda names, sets: [])
    monkeypatch.setattr(evaluate, "evaluate_model", fake_evaluate_model)
    monkeypatch.setattr(merge, "merge_models", lambda base, tuned, lam: base)
    with pytest.raises(Stop):
        merge_select.select_merge_lambda(
            object(), object(), trained_langs=["de"], holdout_langs=[], grid=(0.0,), cache_dir=tmp_path
        )
    assert seen == [tmp_path]
