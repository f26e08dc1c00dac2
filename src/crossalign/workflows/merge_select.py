"""Choosing WiSE-FT's λ on a development split (never on the test pages).

For each λ of a grid the fine-tuned model is merged with its base model (:func:`crossalign.models.merge.merge_models`,
Wortsman et al. 2022) and scored on the **dev** pages of the page-disjoint split
(:mod:`crossalign.data.splits`; test pages are never read):

- ``gain``: mean x→en nDCG@10 over the *trained* languages (section heading → English section body);
- ``holdout``: x↔en paragraph bitext P@1 (mean of both directions) per *held-out* language.

Rule (ours, not from the paper): a λ is admissible when no held-out language's dev bitext P@1 is more than
``threshold`` (1.0 point) below the base model's (λ = 0); among admissible λ the one with the highest ``gain`` wins,
the smaller λ on ties. λ = 0 is always admissible, so a choice always exists. The whole curve is returned (and
written by the callers as JSON and a plot).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from crossalign.errors import ConfigError

__all__ = ["DEFAULT_LAMBDA_GRID", "choose_lambda", "plot_lambda_curve", "select_merge_lambda"]

#: The λ grid (0 = base, 1 = fine-tuned).
DEFAULT_LAMBDA_GRID: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 1.0)


def choose_lambda(curve: Sequence[dict[str, Any]], *, threshold: float = 0.01) -> dict[str, Any]:
    """The rule of the module docstring over ``curve`` (``[{"lambda", "gain", "holdout": {lang: p@1}}]``, with
    λ = 0 in it). Returns ``{"lambda", "admissible": [...], "rule"}``."""
    by = {float(p["lambda"]): p for p in curve}
    if 0.0 not in by:
        raise ConfigError("the λ curve needs λ = 0 (the base model) as the reference")
    ref = by[0.0]["holdout"]
    admissible = []
    for lam, p in sorted(by.items()):
        if all(p["holdout"].get(lang, -1.0) >= v - threshold - 1e-12 for lang, v in ref.items()):
            admissible.append(lam)
    best = max(admissible, key=lambda lam: (by[lam]["gain"], -lam))
    return {
        "lambda": best,
        "admissible": admissible,
        "rule": f"highest mean dev x→en nDCG@10 of the trained languages among the λ whose dev bitext P@1 loses at "
        f"most {100 * threshold:.1f} point for every held-out language against λ = 0 (smaller λ on ties)",
    }


def _dev_sets(
    trained: Sequence[str],
    holdout: Sequence[str],
    *,
    dev_sections: int,
    dev_pairs: int,
    seed: int,
    corpus: Any,
    cache_dir: str | os.PathLike[str] | None,
    show_progress: bool | None,
) -> Any:
    from crossalign.data.eval_sets import build_libreoffice_eval_sets
    from crossalign.evaluation.holdout import build_holdout_sets

    sets = build_libreoffice_eval_sets(
        list(trained),
        suites=("retrieval",),
        max_sections=dev_sections,
        seed=seed,
        split_name="dev",
        non_english_pair=None,
        corpus=corpus,
        cache_dir=cache_dir,
        show_progress=show_progress,
    )
    sets.sets = [s for s in sets.sets if s.data.doc_langs == ["en"] and s.data.query_langs != ["en"]]
    if holdout:
        panel = build_holdout_sets(
            holdout,
            size=dev_pairs,
            seed=seed,
            split_name="dev",
            retrieval=False,
            corpus=corpus,
            cache_dir=cache_dir,
        )
        sets.sets.extend(panel.sets)
    return sets


def select_merge_lambda(
    base: Any,
    tuned: Any,
    *,
    trained_langs: Sequence[str],
    holdout_langs: Sequence[str],
    grid: Sequence[float] = DEFAULT_LAMBDA_GRID,
    dev_sections: int = 100,
    dev_pairs: int = 100,
    seed: int = 13,
    threshold: float = 0.01,
    corpus: Any = None,
    cache_dir: str | os.PathLike[str] | None = None,
    show_progress: bool | None = None,
) -> dict[str, Any]:
    """Score every λ of ``grid`` on the dev split and choose one (:func:`choose_lambda`).

    Args:
        base, tuned: The starting and the fine-tuned model (specs or loaded SentenceTransformers).
        trained_langs: The languages trained on (their dev x→en is the gain).
        holdout_langs: The held-out panel (their dev bitext P@1 is the guard).
        grid: λ values; 0 is added when missing.
        dev_sections, dev_pairs: Dev sections per trained language; dev gold pairs (and distractors per side) per
            held-out language.
        seed, threshold: Sampling seed; the guard's largest allowed loss (0.01 = 1 point).
        corpus, cache_dir, show_progress: Corpus and cache options.

    Returns:
        ``{"curve": [{"lambda", "gain", "x>en": {lang: v}, "holdout": {lang: p@1}}], "lambda", "admissible",
        "rule", "split": "dev", "sizes": {...}}``.
    """
    from crossalign.evaluation.holdout import holdout_scores
    from crossalign.evaluation.suites import build_evaluators
    from crossalign.models.merge import check_lambda, merge_models
    from crossalign.utils.progress import progress_scope
    from crossalign.workflows.evaluate import EvaluationPlan, evaluate_model

    if not trained_langs:
        raise ConfigError("choosing λ needs the trained languages", hint="pass the languages the model was trained on")
    lams = sorted({0.0, *(check_lambda(x, field="merge grid") for x in grid)})
    sets = _dev_sets(
        trained_langs,
        holdout_langs,
        dev_sections=dev_sections,
        dev_pairs=dev_pairs,
        seed=seed,
        corpus=corpus,
        cache_dir=cache_dir,
        show_progress=show_progress,
    )
    evaluators = build_evaluators(["retrieval", "bitext"], sets=sets)
    plan = EvaluationPlan(
        suites=["retrieval", "bitext"],
        skipped={},
        langs=list(trained_langs),
        evaluators=evaluators,
        sets=sets,
        user_data=[],
        config={"split": "dev"},
        data={"split": "dev"},
    )
    curve = []
    for lam in lams:
        merged = merge_models(base, tuned, lam)
        with progress_scope(False):
            result, _ = evaluate_model(merged, plan, output_dir=None, label=f"λ={lam:g}")
        del merged
        x_en = {}
        for lang in trained_langs:
            found = result.find("retrieval", query_lang=lang, doc_lang="en")
            if found:
                x_en[lang] = float(found[0].scores["ndcg@10"])
        hold = {lang: holdout_scores(result, lang)["bitext_p@1"][0] for lang in holdout_langs}
        curve.append(
            {
                "lambda": lam,
                "gain": sum(x_en.values()) / len(x_en) if x_en else 0.0,
                "x>en": x_en,
                "holdout": {k: v for k, v in hold.items() if v is not None},
            }
        )
    choice = choose_lambda(curve, threshold=threshold)
    return {
        "curve": curve,
        **choice,
        "split": "dev",
        "sizes": {"dev_sections": dev_sections, "dev_pairs": dev_pairs, "seed": seed},
        "trained_langs": list(trained_langs),
        "holdout_langs": list(holdout_langs),
    }


def plot_lambda_curve(selection: dict[str, Any], path: str | os.PathLike[str]) -> Any:
    """The dev curve: mean trained x→en nDCG@10 and each held-out language's bitext P@1 against λ; the chosen λ
    marked. Returns the PNG path."""
    from crossalign.reports.plots import _figure, _save

    curve = selection["curve"]
    lams = [p["lambda"] for p in curve]
    fig = _figure(6.0, 3.6)
    ax = fig.subplots()
    ax.plot(lams, [100 * p["gain"] for p in curve], marker="o", linewidth=2, label="trained: mean x→en nDCG@10")
    for lang in selection.get("holdout_langs", []):
        ys = [100 * p["holdout"][lang] if lang in p["holdout"] else float("nan") for p in curve]
        ax.plot(lams, ys, marker=".", linewidth=0.8, alpha=0.8, label=f"held-out {lang}: bitext P@1")
    ax.axvline(selection["lambda"], color="black", linestyle="--", linewidth=0.8)
    ax.set_xlabel("λ (0 = base model, 1 = fine-tuned)")
    ax.set_ylabel("dev score ×100")
    ax.set_title(f"WiSE-FT λ on the dev split: chosen λ = {selection['lambda']:g}", fontsize=9)
    ax.legend(fontsize=6, ncols=2)
    return _save(fig, path)
