"""The held-out language panel: what alignment training does to languages it never saw, and the regression verdict.

Training on a few languages moves the whole embedding space. The panel measures every evaluated model on LibreOffice
languages that are *not* among the trained ones (``--langs``), on the same page-disjoint test split as the trained
languages, and compares it with the base model:

- **x→en retrieval** and **en→en retrieval** (section heading → section body, nDCG@10), tasks
  ``holdout/libreoffice-sections/<x>``;
- **paragraph bitext mining** ``x ↔ en`` with distractors (P@1 in both directions, xSIM error), task
  ``holdout/libreoffice-paragraphs``.

The default panel, :data:`DEFAULT_HOLDOUT_LANGS`, mixes scripts and resource levels: Japanese (kana/kanji), Korean
(Hangul), Russian (Cyrillic), Greek, Turkish and Indonesian (Latin), each with 4,000–9,700 sections and 11,000–23,000
paragraphs aligned with English in the help. Hindi is left out by default: only 268 of its sections are aligned
(about 11 test queries), too few for a per-language verdict. Languages being trained are never in the panel.

Deltas against the base model are paired per query (the same queries, the same pool) with a paired bootstrap 95 %
confidence interval (:func:`crossalign.evaluation.significance.paired_bootstrap`). Bitext P@1 is the mean of both
directions; per pair the value is ``(ok_src→tgt + ok_tgt→src) / 2``, so its mean is the reported P@1.

**Regression verdict** (:func:`regression_verdict`): "no held-out language loses more than 1.0 point of bitext P@1
or x→en nDCG@10 against the base model", computed from the point estimates, naming every language and metric that
does (the confidence intervals say how sure each loss is).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from crossalign.errors import ConfigError
from crossalign.evaluation.metrics import lower_is_better

__all__ = [
    "DEFAULT_HOLDOUT_LANGS",
    "DEFAULT_HOLDOUT_SIZE",
    "HOLDOUT_METRICS",
    "HOLDOUT_PREFIX",
    "REGRESSION_THRESHOLD",
    "VERDICT_METRICS",
    "build_holdout_sets",
    "holdout_comparison",
    "holdout_langs_of",
    "holdout_scores",
    "is_holdout",
    "regression_verdict",
    "resolve_holdout_langs",
]

#: The default panel (see the module docstring for why these).
DEFAULT_HOLDOUT_LANGS: tuple[str, ...] = ("ja", "ko", "ru", "el", "tr", "id")
#: Test sections per language, gold paragraph pairs per language and distractors per side, by default.
DEFAULT_HOLDOUT_SIZE = 200
#: Task names of the panel start with this (the rest is the LibreOffice task: ``libreoffice-sections/ja``).
HOLDOUT_PREFIX = "holdout/"
#: A held-out language "regresses" when it loses more than this (1.0 point = 0.01 on the 0–1 scale).
REGRESSION_THRESHOLD = 0.01

#: The panel's metrics: key -> (label, the score key whose registry entry gives its direction and scale).
HOLDOUT_METRICS: dict[str, tuple[str, str]] = {
    "x>en": ("x→en nDCG@10", "ndcg@10"),
    "en>en": ("en→en nDCG@10", "ndcg@10"),
    "bitext_p@1": ("bitext P@1", "p@1_src2tgt"),
    "xsim_error": ("xSIM error", "xsim_error"),
}
#: The metrics the regression verdict checks.
VERDICT_METRICS: tuple[str, ...] = ("bitext_p@1", "x>en")


def resolve_holdout_langs(
    value: str | Iterable[str] | None, trained: Iterable[str], *, field: str = "--holdout-langs"
) -> list[str]:
    """The panel's languages.

    Args:
        value: None or ``"default"``: :data:`DEFAULT_HOLDOUT_LANGS` without the trained languages; ``"none"`` or
            ``""``: no panel; else a comma-separated list (or a list) of LibreOffice languages.
        trained: The trained / evaluated languages (``--langs``): never in the panel.
        field: The option name for error messages.

    Raises:
        ConfigError: An explicit panel names a trained language or English.
        UnknownLanguageError: A language that is not a LibreOffice help language.
    """
    from crossalign.data.libreoffice.langs import lo_lang_list

    trained_list = [t for t in lo_lang_list(list(trained), field="--langs")] if trained else []
    if value is None or (isinstance(value, str) and value.strip().lower() == "default"):
        return [x for x in DEFAULT_HOLDOUT_LANGS if x not in trained_list]
    if isinstance(value, str) and value.strip().lower() in ("", "none"):
        return []
    langs = lo_lang_list(value, field=field)
    clash = [x for x in langs if x in trained_list or x == "en"]
    if clash:
        raise ConfigError(
            f"{field} names {', '.join(clash)}, which {'is' if len(clash) == 1 else 'are'} trained or the pivot",
            hint="the held-out panel measures languages the model was not trained on: drop them from "
            f"{field} (or from --langs)",
        )
    return list(dict.fromkeys(langs))


def build_holdout_sets(
    langs: Sequence[str],
    *,
    size: int = DEFAULT_HOLDOUT_SIZE,
    seed: int = 13,
    split_name: str = "test",
    retrieval: bool = True,
    bitext: bool = True,
    corpus: Any = None,
    cache_dir: str | os.PathLike[str] | None = None,
) -> Any:
    """The panel's evaluation sets: x→en and en→en retrieval and x↔en paragraph bitext per language.

    Args:
        langs: The panel (from :func:`resolve_holdout_langs`).
        size: Sections per language, gold paragraph pairs per language and distractor paragraphs per side.
        seed: Sampling seed.
        split_name: ``"test"`` (evaluation) or ``"dev"`` (choosing λ or a control; the test pages stay unseen).
        retrieval, bitext: Which parts to build.
        corpus: An opened LibreOfficeCorpus holding ``langs`` (else opened here).
        cache_dir: The crossalign cache root (corpora).

    Returns:
        An :class:`~crossalign.data.eval_sets.EvalSets` whose task names start with :data:`HOLDOUT_PREFIX`.
    """
    from crossalign.data.eval_sets import EvalSet, build_libreoffice_eval_sets

    if not langs:
        raise ConfigError("the held-out panel has no language", hint="e.g. --holdout-langs ja,ko,ru,el,tr,id")
    suites = tuple(s for s, on in (("retrieval", retrieval), ("bitext", bitext)) if on)
    if corpus is not None and not set(langs) <= set(getattr(corpus, "langs", langs)):
        corpus = None  # the opened corpus lacks some panel language: open one that has them (cached)
    sets = build_libreoffice_eval_sets(
        list(langs),
        suites=suites,
        max_sections=size,
        max_bitext_pairs=size,
        bitext_distractors=size,
        seed=seed,
        split_name=split_name,  # type: ignore[arg-type]
        non_english_pairs=None,
        corpus=corpus,
        cache_dir=cache_dir,
    )
    kept = []
    for s in sets.sets:
        if s.suite == "retrieval" and s.data.doc_langs[0] != "en":  # the panel asks x→en and en→en only
            continue
        kept.append(EvalSet(s.suite, HOLDOUT_PREFIX + s.task, s.data))
    sets.sets = kept
    sets.provenance["holdout"] = {"langs": list(langs), "size": size, "split": split_name}
    return sets


def is_holdout(task: Any) -> bool:
    """True for a TaskScore of the held-out panel (its task name starts with ``HOLDOUT_PREFIX``)."""
    return str(task.task).startswith(HOLDOUT_PREFIX)


def holdout_langs_of(result: Any) -> list[str]:
    """The panel languages present in an EvaluationResult, in evaluation order."""
    out: dict[str, None] = {}
    for t in result.tasks:
        if is_holdout(t) and t.query_lang and t.query_lang != "en":
            out[t.query_lang] = None
    return list(out)


def _task(result: Any, suite: str, qlang: str, dlang: str, lang: str) -> Any:
    for t in result.tasks:
        if not is_holdout(t) or t.suite != suite or t.query_lang != qlang or t.doc_lang != dlang:
            continue
        if suite == "retrieval" and not t.task.endswith(f"/{lang}"):
            continue
        return t
    return None


def holdout_scores(result: Any, lang: str) -> dict[str, tuple[float | None, dict[str, float] | None]]:
    """``metric -> (score, per-query values)`` of one panel language (see :data:`HOLDOUT_METRICS`)."""
    out: dict[str, tuple[float | None, dict[str, float] | None]] = {}
    for key, (q, d) in {"x>en": (lang, "en"), "en>en": ("en", "en")}.items():
        t = _task(result, "retrieval", q, d, lang)
        if t is None:
            out[key] = (None, None)
            continue
        metric = "ndcg@10" if "ndcg@10" in t.scores else t.main_score
        out[key] = (float(t.scores[metric]), (t.per_query or {}).get(metric))
    t = _task(result, "bitext", lang, "en", lang)
    if t is None:
        out["bitext_p@1"] = out["xsim_error"] = (None, None)
        return out
    s = t.scores
    p1 = (float(s["p@1_src2tgt"]) + float(s["p@1_tgt2src"])) / 2
    pq = t.per_query or {}
    fwd, bwd = pq.get("p@1_src2tgt"), pq.get("p@1_tgt2src")
    pairs = {k: (fwd[k] + bwd[k]) / 2 for k in fwd if k in bwd} if fwd and bwd else None
    out["bitext_p@1"] = (p1, pairs)
    xs = s.get("xsim_error")
    out["xsim_error"] = (None if xs is None else float(xs), pq.get("xsim_error"))
    return out


@dataclass(frozen=True)
class _Cell:
    base: float | None
    model: float | None
    delta: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    n: int | None


def _cell(base: tuple[Any, Any], model: tuple[Any, Any], n_resamples: int, seed: int) -> dict[str, Any]:
    from crossalign.evaluation.significance import paired_bootstrap

    (b, bq), (m, mq) = base, model
    delta = None if b is None or m is None else m - b
    lo = hi = p = n = None
    if bq and mq and set(bq) == set(mq):
        r = paired_bootstrap(bq, mq, n_resamples=n_resamples, seed=seed)
        lo, hi, p, n = r.ci_low, r.ci_high, r.p_value, r.n
    return _Cell(b, m, delta, lo, hi, p, n).__dict__


def holdout_comparison(
    base: Any,
    models: Mapping[str, Any],
    *,
    langs: Sequence[str] | None = None,
    threshold: float = REGRESSION_THRESHOLD,
    n_resamples: int = 2000,
    seed: int = 0,
) -> dict[str, Any]:
    """Per-language deltas of each model against the base model on the panel, with bootstrap CIs and the verdicts.

    Args:
        base: The base model's EvaluationResult (with the panel's tasks).
        models: Label -> EvaluationResult of each compared model (same panel, same queries).
        langs: The panel languages (default: those in ``base``).
        threshold: The verdict's largest allowed loss (0.01 = 1.0 point).
        n_resamples, seed: Bootstrap resamples and seed.

    Returns:
        ``{"langs", "metrics", "threshold_points", "models": {label: {lang: {metric: cell}}}, "mean": {label:
        {metric: {"base", "model", "delta"}}}, "verdicts": {label: verdict}}``; a cell is ``{"base", "model",
        "delta", "ci_low", "ci_high", "p_value", "n"}`` on the 0–1 scale (×100 for points).
    """
    panel = list(langs) if langs is not None else holdout_langs_of(base)
    base_scores = {lang: holdout_scores(base, lang) for lang in panel}
    out_models: dict[str, Any] = {}
    means: dict[str, Any] = {}
    verdicts: dict[str, Any] = {}
    for label, res in models.items():
        rows = {}
        for lang in panel:
            ms = holdout_scores(res, lang)
            rows[lang] = {k: _cell(base_scores[lang][k], ms[k], n_resamples, seed) for k in HOLDOUT_METRICS}
        out_models[label] = rows
        means[label] = {}
        for k in HOLDOUT_METRICS:
            pairs = [(rows[lg][k]["base"], rows[lg][k]["model"]) for lg in panel]
            pairs = [(b, m) for b, m in pairs if b is not None and m is not None]
            if pairs:
                b = sum(p[0] for p in pairs) / len(pairs)
                m = sum(p[1] for p in pairs) / len(pairs)
                means[label][k] = {"base": b, "model": m, "delta": m - b}
        verdicts[label] = regression_verdict(rows, threshold=threshold)
    return {
        "langs": panel,
        "metrics": {
            k: {"label": lab, "key": key, "higher_is_better": not lower_is_better(key)}
            for k, (lab, key) in HOLDOUT_METRICS.items()
        },
        "threshold_points": round(100 * threshold, 6),
        "confidence": 0.95,
        "test": f"paired bootstrap, {n_resamples} resamples, seed {seed}",
        "models": out_models,
        "mean": means,
        "verdicts": verdicts,
    }


def regression_verdict(rows: Mapping[str, Mapping[str, Mapping[str, Any]]], *, threshold: float) -> dict[str, Any]:
    """The verdict from one model's panel cells: does any language lose more than ``threshold`` of a verdict metric?

    Returns:
        ``{"claim", "holds", "failing": [{"lang", "metric", "delta"}], "missing": [...], "detail"}``; a language
        whose metric could not be measured is listed under ``missing`` and makes the verdict not hold.
    """
    from crossalign.evaluation.format import MISSING, format_delta

    points = 100 * threshold
    failing, missing = [], []
    for lang, cells in rows.items():
        for k in VERDICT_METRICS:
            d = cells[k]["delta"]
            if d is None:
                missing.append({"lang": lang, "metric": k})
            elif d < -threshold - 1e-12:
                failing.append({"lang": lang, "metric": k, "delta": d})
    claim = (
        f"no held-out language loses more than {points:.1f} point{'s' if points != 1 else ''} of bitext P@1 or "
        "x→en nDCG@10 against the base model"
    )

    def said(lang: str, k: str, delta: float) -> str:
        label, key = HOLDOUT_METRICS[k]
        return f"{lang} {label} {format_delta(key, delta)}"

    if failing:
        detail = "loses more: " + ", ".join(said(f["lang"], f["metric"], f["delta"]) for f in failing)
    else:
        worst = [
            (c[k]["delta"], lang, k) for lang, c in rows.items() for k in VERDICT_METRICS if c[k]["delta"] is not None
        ]
        detail = "worst: " + (said(min(worst)[1], min(worst)[2], min(worst)[0]) if worst else MISSING)
    if missing:
        detail += "; not measured: " + ", ".join(f"{m['lang']} {HOLDOUT_METRICS[m['metric']][0]}" for m in missing)
    return {
        "claim": claim,
        "holds": not failing and not missing,
        "failing": failing,
        "missing": missing,
        "detail": detail,
    }
