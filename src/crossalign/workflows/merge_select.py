"""Choosing WiSE-FT's λ (and, optionally, per-language centering on top) on a development split, never on the
test pages.

For each λ of a grid the fine-tuned model is merged with its base model (:func:`crossalign.models.merge.merge_models`,
Wortsman et al. 2022) and scored on the **dev** pages of the page-disjoint split
(:mod:`crossalign.data.splits`; test pages are never read):

- ``gain``: mean x→en nDCG@10 over the *trained* languages (section heading → English section body);
- ``holdout``: x↔en paragraph bitext P@1 (mean of both directions) per *held-out* language.

With ``center_texts`` every merged model is also scored with per-language mean-centering added
(:mod:`crossalign.models.centering`, Libovický et al. 2020; the means re-estimated for that merged model from the
given unlabelled train-page texts), so the two training-free controls compete and compose on the same dev sets.

Rule (ours, not from the papers): a candidate is admissible when no held-out language's dev bitext P@1 is more than
``threshold`` (1.0 point) below the base model's (λ = 0, not centered); among admissible candidates the one with the
highest ``gain`` wins, the smaller λ and then the uncentered one on ties. The base model is always admissible, so a
choice always exists. The whole curve is returned (and written by the callers as JSON and a plot).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from crossalign.errors import ConfigError

__all__ = ["DEFAULT_LAMBDA_GRID", "candidate_name", "choose_lambda", "plot_lambda_curve", "select_merge_lambda"]

#: The λ grid (0 = base, 1 = fine-tuned).
DEFAULT_LAMBDA_GRID: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 1.0)


def candidate_name(lam: float, centered: bool) -> str:
    """``"0.5"`` or ``"0.5+center"``: how a candidate is named in ``admissible`` and the reports."""
    return f"{lam:g}" + ("+center" if centered else "")


def choose_lambda(curve: Sequence[dict[str, Any]], *, threshold: float = 0.01) -> dict[str, Any]:
    """The rule of the module docstring over ``curve`` (``[{"lambda", "gain", "holdout": {lang: p@1}, "centered"?}]``
    with the uncentered λ = 0 in it). Returns ``{"lambda", "centered", "admissible": [names], "rule"}``; the names
    are :func:`candidate_name`'s (``"0.5"``, ``"0.5+center"``)."""
    by = {(float(p["lambda"]), bool(p.get("centered", False))): p for p in curve}
    if (0.0, False) not in by:
        raise ConfigError("the λ curve needs λ = 0 (the base model) as the reference")
    ref = by[(0.0, False)]["holdout"]
    admissible = [
        key
        for key, p in sorted(by.items())
        if all(p["holdout"].get(lang, -1.0) >= v - threshold - 1e-12 for lang, v in ref.items())
    ]
    best = max(admissible, key=lambda key: (by[key]["gain"], -key[0], not key[1]))
    centered = any(key[1] for key in by)
    return {
        "lambda": best[0],
        "centered": best[1],
        "admissible": [candidate_name(*key) for key in admissible],
        "rule": "highest mean dev x→en nDCG@10 of the trained languages among the "
        + ("candidates (λ, with or without centering)" if centered else "λ")
        + f" whose dev bitext P@1 loses at most {100 * threshold:.1f} point for every held-out language against "
        "the base model (smaller λ" + (", then uncentered," if centered else "") + " on ties)",
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
) -> Any:
    from crossalign.data.eval_sets import build_libreoffice_eval_sets
    from crossalign.evaluation.holdout import build_holdout_sets

    dev: dict[str, Any] = {"seed": seed, "split_name": "dev", "corpus": corpus, "cache_dir": cache_dir}
    sets = build_libreoffice_eval_sets(
        list(trained), suites=("retrieval",), max_sections=dev_sections, non_english_pairs=None, **dev
    )
    sets.sets = [s for s in sets.sets if s.data.doc_langs == ["en"] and s.data.query_langs != ["en"]]
    if holdout:
        sets.sets.extend(build_holdout_sets(holdout, size=dev_pairs, retrieval=False, **dev).sets)
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
    center_texts: Mapping[str, Sequence[str]] | None = None,
    centerings: dict[float, Any] | None = None,
) -> dict[str, Any]:
    """Score every λ of ``grid`` (and, with ``center_texts``, every λ with centering) on the dev split and choose
    one (:func:`choose_lambda`).

    Args:
        base, tuned: The starting and the fine-tuned model (specs or loaded SentenceTransformers).
        trained_langs: The languages trained on (their dev x→en is the gain).
        holdout_langs: The held-out panel (their dev bitext P@1 is the guard).
        grid: λ values; 0 is added when missing.
        dev_sections, dev_pairs: Dev sections per trained language; dev gold pairs (and distractors per side) per
            held-out language.
        seed, threshold: Sampling seed; the guard's largest allowed loss (0.01 = 1 point).
        corpus, cache_dir, show_progress: Corpus and cache options.
        center_texts: ``{language: unlabelled texts}`` (train pages) for the centered candidates; None: merges only.
        centerings: A dict that receives each λ's estimated ``LanguageCentering`` (so a caller saving the chosen
            centered model does not estimate its means again).

    Returns:
        ``{"curve": [{"lambda", "centered", "gain", "x>en": {lang: v}, "holdout": {lang: p@1}}], "lambda",
        "centered", "admissible", "rule", "split": "dev", "sizes": {...}}``.
    """
    from crossalign.evaluation.holdout import holdout_scores
    from crossalign.evaluation.suites import build_evaluators
    from crossalign.models.merge import check_lambda, merge_models
    from crossalign.utils.progress import progress_scope
    from crossalign.workflows.evaluate import EvaluateConfig, EvaluationPlan, evaluate_model

    if not trained_langs:
        raise ConfigError("choosing λ needs the trained languages", hint="pass the languages the model was trained on")
    lams = sorted({0.0, *(check_lambda(x, field="merge grid") for x in grid)})
    with progress_scope(show_progress):  # the one switch for everything below (set building, encoding)
        sets = _dev_sets(
            trained_langs,
            holdout_langs,
            dev_sections=dev_sections,
            dev_pairs=dev_pairs,
            seed=seed,
            corpus=corpus,
            cache_dir=cache_dir,
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
        options=EvaluateConfig(langs=[], holdout_langs=[], cache_dir=cache_dir),  # dev embeddings in this cache
    )

    def point(model: Any, lam: float, centered: bool) -> dict[str, Any]:
        with progress_scope(False):
            result, _ = evaluate_model(model, plan, output_dir=None, label=candidate_name(lam, centered))
        x_en = {}
        for lang in trained_langs:
            found = result.find("retrieval", query_lang=lang, doc_lang="en")
            if found:
                x_en[lang] = float(found[0].scores["ndcg@10"])
        hold = {lang: holdout_scores(result, lang)["bitext_p@1"][0] for lang in holdout_langs}
        return {
            "lambda": lam,
            "centered": centered,
            "gain": sum(x_en.values()) / len(x_en) if x_en else 0.0,
            "x>en": x_en,
            "holdout": {k: v for k, v in hold.items() if v is not None},
        }

    curve = []
    for lam in lams:
        merged = merge_models(base, tuned, lam)
        curve.append(point(merged, lam, False))
        if center_texts:
            from crossalign.models.centering import add_centering, estimate_language_means

            centering = estimate_language_means(merged, center_texts)
            if centerings is not None:
                centerings[lam] = centering
            curve.append(point(add_centering(merged, centering), lam, True))
        del merged
    choice = choose_lambda(curve, threshold=threshold)
    return {
        "curve": curve,
        **choice,
        "split": "dev",
        "sizes": {
            "dev_sections": dev_sections,
            "dev_pairs": dev_pairs,
            "seed": seed,
            **({"center_texts": {k: len(v) for k, v in center_texts.items()}} if center_texts else {}),
        },
        "trained_langs": list(trained_langs),
        "holdout_langs": list(holdout_langs),
    }


def plot_lambda_curve(selection: dict[str, Any], path: str | os.PathLike[str]) -> Any:
    """The dev curve against λ: mean trained x→en nDCG@10 and each held-out language's bitext P@1, for the plain
    merges (solid) and, when scored, the centered ones (dashed); the chosen candidate marked. Returns the PNG path."""
    from crossalign.reports.plots import _figure, _save

    fig = _figure(6.0, 3.6)
    ax = fig.subplots()
    for centered, style in ((False, "-"), (True, "--")):
        points = [p for p in selection["curve"] if bool(p.get("centered", False)) == centered]
        if not points:
            continue
        lams = [p["lambda"] for p in points]
        tag = " (centered)" if centered else ""
        ax.plot(
            lams,
            [100 * p["gain"] for p in points],
            style,
            marker="o",
            linewidth=2,
            color="black",
            label=f"trained: mean x→en nDCG@10{tag}",
        )
        for i, lang in enumerate(selection.get("holdout_langs", [])):
            ys = [100 * p["holdout"][lang] if lang in p["holdout"] else float("nan") for p in points]
            ax.plot(
                lams,
                ys,
                style,
                marker=".",
                linewidth=0.8,
                alpha=0.8,
                color=f"C{i}",
                label=f"held-out {lang}: bitext P@1" if not centered else None,
            )
    ax.axvline(selection["lambda"], color="black", linestyle=":", linewidth=0.8)
    ax.set_xlabel("λ (0 = base model, 1 = fine-tuned)")
    ax.set_ylabel("dev score ×100")
    chosen = candidate_name(selection["lambda"], bool(selection.get("centered", False)))
    ax.set_title(f"WiSE-FT λ on the dev split (dashed: with centering): chosen {chosen}", fontsize=9)
    ax.legend(fontsize=6, ncols=2)
    return _save(fig, path)
