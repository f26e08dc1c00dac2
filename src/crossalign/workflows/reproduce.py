"""The ``reproduce`` workflow: each paper's central claim tested on the built-in model and corpus, at several budgets.

Three experiments share the stage cache, resume and report machinery of :mod:`crossalign.workflows.demo`
(:mod:`crossalign.workflows.stages`):

``retrieval`` (claims 1 and 2) — languages :attr:`ReproduceConfig.langs` (default the demo's de, zh-CN, eu, km).
    Reference-like CLEAR rows: ``negatives`` hard passage negatives and ``query_negatives`` target-language query
    negatives per row, mined by the base model from train pages at ranks ``rank_range`` (default 5 + 5 from ranks
    30–100, see :mod:`crossalign.data.mining`); InfoNCE trains on the same rows projected to ``(q_x, d+, d−…)``
    (:func:`~crossalign.data.builders.clear.infonce_from_clear`), JSD+InfoNCE on rows of the same sections. One
    multilingual run per method.
``per-language`` (claim 1 as the CLEAR paper runs it; opt-in, about doubles the wall time) — one CLEAR and one
    InfoNCE model per language of :attr:`ReproduceConfig.langs`, each trained on that language's rows alone (the
    same rows per step and steps as the multilingual run, ``rows_per_lang × len(langs)`` rows mined the same way) and
    evaluated on its own language (sub-experiment ``only-<lang>``, with the held-out panel). The claim's comparison
    pools each language's queries scored by that language's own model (composite models ``per-language/<method>``).
``parallel`` (claim 3) — languages :attr:`ReproduceConfig.parallel_langs` (default eight: de, zh-CN, eu, km, hi, fi,
    vi, pl: Latin, Han, Khmer and Devanagari scripts, high to low resource), multi-way vs En–X on the same tuples and
    the same text budget, both with the base-anchor regulariser (:class:`~crossalign.losses.base_anchor.BaseAnchorLoss`,
    weight ``parallel_anchor``) so that heading→section retrieval does not collapse. Bitext mining for every pair with
    English and ``non_english_pairs`` pairs without it; retrieval for en→en; STS when ``sts_data`` is given.

Every method trains ``max(steps)`` optimizer steps with the reference's schedule (cosine, warm-up 5 %); the
*budgets* are the checkpoints at each value of ``steps`` along that run (the default 40 and 80 steps: the demo's
budget and twice it). A checkpoint before the last has not finished its learning-rate decay; both methods of a claim
are compared at the same step, so the comparison is fair, and each verdict says at which steps and seeds it holds.

Verdicts (:data:`CLAIMS`): for each claim, budget and seed, the paired bootstrap (:func:`~crossalign.evaluation.\
significance.paired_bootstrap`, 95 % percentile interval) of the method minus its baseline on the claim's primary
metric, pooled over the claim's languages (every query of every language is one paired observation). A claim
*holds* at a budget when the whole interval lies on the claimed side of zero, is *reversed* when it lies on the other
side, else it is *not shown*; it holds overall only when it holds at every budget and seed. Each trained model is also
checked against the base model on en→en nDCG@10 (``max_en_en_loss``, 5 points) and on the held-out panel
(:mod:`crossalign.evaluation.holdout`).

Example:
    >>> from crossalign.workflows.reproduce import ReproduceConfig, run_reproduce
    >>> result = run_reproduce(ReproduceConfig(output_dir="repro-out", quick=True))  # doctest: +SKIP
    >>> print(result.text)  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from crossalign.errors import ConfigError
from crossalign.evaluation.format import format_delta, format_value
from crossalign.evaluation.metrics import lower_is_better
from crossalign.utils.atomic import atomic_write_json, atomic_write_text
from crossalign.utils.checks import check_count
from crossalign.utils.table import Table, render_text
from crossalign.workflows.stages import Log, StageLog, evaluate_stage, format_seconds, settings_digest

logger = logging.getLogger(__name__)

__all__ = [
    "CLAIMS",
    "PRESETS",
    "Claim",
    "ClaimMetric",
    "ReproduceBudget",
    "ReproduceConfig",
    "ReproduceResult",
    "claim_verdicts",
    "run_reproduce",
]

#: Claim 3's default languages: eight LibreOffice languages outside the default held-out panel, four scripts.
DEFAULT_PARALLEL_LANGS: tuple[str, ...] = ("de", "zh-CN", "eu", "km", "hi", "fi", "vi", "pl")
#: The methods each experiment trains (the base model is evaluated once per experiment).
EXPERIMENT_METHODS: dict[str, tuple[str, ...]] = {
    "retrieval": ("infonce", "clear", "jsd"),
    "parallel": ("multiway", "en-x"),
    "per-language": ("infonce", "clear"),
}
#: The experiments run when none are named (``per-language`` trains 2 models per language: opt-in).
DEFAULT_EXPERIMENTS: tuple[str, ...] = ("retrieval", "parallel")
#: The experiment whose models are composites of one model per language (``only-<lang>`` sub-experiments).
PER_LANGUAGE = "per-language"
#: Largest allowed loss of mean en→en nDCG@10 against the base model (0.05 = 5 points).
MAX_EN_EN_LOSS = 0.05
_NDCG = "ndcg@10"


# ------------------------------------------------------------------------------------------------------- budgets
@dataclass(frozen=True)
class ReproduceBudget:
    """What ``reproduce`` spends (the same for every method of an experiment).

    Attributes:
        steps: The budgets: checkpoints evaluated along each run, in optimizer steps; every run trains ``max(steps)``.
        batch_size: Rows per step (retrieval); tuples per step (multi-way; En–X gets the same number of texts).
        rows_per_lang: Retrieval training rows per language (enough that ``max(steps)`` stays within one epoch).
        parallel_rows: Multi-way training tuples in total (En–X: the pairs of the same tuples).
        max_pool: Candidates per mining pool.
        negatives: Mined hard passage negatives per row.
        query_negatives: Mined target-language query negatives per row (CLEAR's reverse term).
        rank_range: ``(lo, hi)`` ranks the negatives are sampled from (pools below 1000 scale it down).
        learning_rate, lr_scheduler_type, warmup_ratio: The optimizer schedule (the reference's: 5e-5, cosine, 5 %).
        max_seq_length: Tokens per text while training.
        freeze: Frozen weights (``word_embeddings``: 80 % of the built-in model).
        parallel_anchor: Base-anchor weight for multi-way and En–X (0: none).
        eval_sections: Test sections per language (retrieval experiment; the parallel one uses a third, at least 50).
        bitext_pairs, bitext_distractors: Gold paragraph pairs and distractors per side per bitext pair.
        non_english_pairs: Bitext pairs without English (chosen by :class:`~crossalign.data.eval_sets.EvalSetsConfig`).
        holdout_size: Test sections and bitext pairs per held-out language.
        mini_batch_size: CLEAR's GradCache mini-batch (:class:`~crossalign.losses.cached_clear.CachedCLEARLoss`,
            the reference's 32); None: the plain loss (the same gradients, one forward less).
        bf16: Train in bfloat16 mixed precision (the reference's; on a CPU the forward pass runs under
            ``torch.autocast``, weights and optimizer state stay fp32: README "Performance").
    """

    steps: tuple[int, ...]
    batch_size: int
    rows_per_lang: int
    parallel_rows: int
    max_pool: int
    negatives: int
    query_negatives: int
    rank_range: tuple[int, int]
    learning_rate: float
    lr_scheduler_type: str
    warmup_ratio: float
    max_seq_length: int
    freeze: tuple[str, ...]
    parallel_anchor: float
    eval_sections: int
    bitext_pairs: int
    bitext_distractors: int
    non_english_pairs: int
    holdout_size: int
    mini_batch_size: int | None = None
    bf16: bool = False

    def check(self) -> None:
        """ConfigError naming the first bad field."""
        if not self.steps or any(not isinstance(s, int) or s < 1 for s in self.steps):
            raise ConfigError(f"steps must be positive integers, got {self.steps!r}")
        if len(set(self.steps)) != len(self.steps):
            raise ConfigError(f"steps must be distinct, got {self.steps!r}")
        for name in ("batch_size", "rows_per_lang", "parallel_rows", "max_pool", "max_seq_length", "eval_sections"):
            check_count(getattr(self, name), name, minimum=1, optional=False)
        for name in ("negatives", "query_negatives", "bitext_pairs", "bitext_distractors", "non_english_pairs"):
            check_count(getattr(self, name), name, optional=False)
        lo, hi = self.rank_range
        if not (isinstance(lo, int) and isinstance(hi, int) and 1 <= lo <= hi):
            raise ConfigError(f"rank_range must be 1 <= lo <= hi, got {self.rank_range!r}")
        check_count(self.mini_batch_size, "mini_batch_size", minimum=1)
        if self.parallel_anchor < 0:
            raise ConfigError(f"parallel_anchor must be >= 0, got {self.parallel_anchor!r}")


#: Budgets by name. ``default`` is sized for about 90 minutes on 2 CPU cores (README "Reproducing the papers" gives
#: the measured wall time); ``quick`` checks the machinery in a few minutes and decides nothing; ``paper`` is the
#: CLEAR reference's scale for GPUs (per-device batch 64 with GradCache mini-batches of 32, 512 tokens, bf16, 50
#: steps and 3× that; run it under ``--nproc-per-node 4`` for the reference's 4 processes).
_DEFAULT_BUDGET = ReproduceBudget(
    steps=(40, 80),
    batch_size=16,
    rows_per_lang=400,
    parallel_rows=1300,
    max_pool=1000,
    negatives=5,
    query_negatives=5,
    rank_range=(30, 100),
    learning_rate=5e-5,
    lr_scheduler_type="cosine",
    warmup_ratio=0.05,
    max_seq_length=64,
    freeze=("word_embeddings",),
    parallel_anchor=30.0,
    eval_sections=500,
    bitext_pairs=200,
    bitext_distractors=200,
    non_english_pairs=6,
    holdout_size=100,
    bf16=True,
)

PRESETS: dict[str, ReproduceBudget] = {
    "default": _DEFAULT_BUDGET,
    "quick": replace(
        _DEFAULT_BUDGET,
        steps=(2, 4),
        batch_size=8,
        rows_per_lang=40,
        parallel_rows=40,
        max_pool=200,
        negatives=2,
        query_negatives=2,
        max_seq_length=48,
        eval_sections=60,
        bitext_pairs=40,
        bitext_distractors=40,
        holdout_size=30,
        bf16=False,
    ),
    "paper": replace(
        _DEFAULT_BUDGET,
        steps=(50, 150),
        batch_size=64,
        rows_per_lang=500,
        parallel_rows=5000,
        max_pool=5000,
        max_seq_length=512,
        freeze=(),
        eval_sections=1000,
        bitext_pairs=500,
        bitext_distractors=500,
        holdout_size=200,
        mini_batch_size=32,
    ),
}


@dataclass
class ReproduceConfig:
    """What ``reproduce`` runs.

    Attributes:
        output_dir: The report directory (data, models, evaluations, ``REPRODUCTION.md``, ``reproduce.json``).
        langs: Languages of the retrieval experiment (claims 1 and 2).
        parallel_langs: Languages of the parallel experiment (claim 3; at least 4 so that 6 pairs without English
            exist).
        model: Base model spec (built-in name, Hugging Face id or local path).
        preset: The budget by name (:data:`PRESETS`: ``default``, ``quick``, ``paper``).
        quick: Shorthand for ``preset="quick"``.
        budget: Overrides of the preset's fields (``{"steps": (40, 120)}``).
        seeds: Training seeds; data and evaluation sets use the first.
        holdout_langs: The held-out panel (None: the default panel without any trained language; ``"none"``: none).
        experiments: Which experiments run (``retrieval``, ``parallel``, ``per-language``; default the first two).
        sts_data: STS JSONL files scored for the parallel experiment (there is no built-in STS data).
        nproc_per_node: Training processes; above 1 every training stage runs under ``torchrun --standalone
            --nproc_per_node N`` (one per GPU; gloo on CPUs), the per-device batch staying ``batch_size``.
        cache_dir: crossalign cache root.
        redo: Ignore finished stages.
    """

    output_dir: str | os.PathLike[str]
    langs: Sequence[str] | str = ("de", "zh-CN", "eu", "km")
    parallel_langs: Sequence[str] | str = DEFAULT_PARALLEL_LANGS
    model: str = "e5-small-q4"
    preset: str = "default"
    quick: bool = False
    budget: dict[str, Any] = field(default_factory=dict)
    seeds: Sequence[int] = (13,)
    holdout_langs: str | Sequence[str] | None = None
    experiments: Sequence[str] = DEFAULT_EXPERIMENTS
    sts_data: Sequence[str] = ()
    nproc_per_node: int = 1
    cache_dir: str | os.PathLike[str] | None = None
    redo: bool = False

    @property
    def preset_name(self) -> str:
        """The preset used (``quick`` wins); ConfigError for an unknown name."""
        name = "quick" if self.quick else self.preset
        if name not in PRESETS:
            raise ConfigError(f"unknown reproduce preset {name!r}", hint=f"choose from {', '.join(PRESETS)}")
        return name

    def resolved_budget(self) -> ReproduceBudget:
        """The preset with :attr:`budget` applied and checked."""
        base = PRESETS[self.preset_name]
        valid = {f.name for f in fields(ReproduceBudget)}
        unknown = sorted(set(self.budget) - valid)
        if unknown:
            raise ConfigError(
                f"unknown reproduce budget field(s): {', '.join(unknown)}",
                hint=f"valid fields: {', '.join(sorted(valid))}",
            )
        values = dict(self.budget)
        for name in ("steps", "freeze", "rank_range"):  # CLI: "40,80" or [40, 80] or 40
            value = values.get(name)
            if isinstance(value, str):
                items = [x.strip() for x in value.split(",") if x.strip()]
                values[name] = tuple(items if name == "freeze" else _ints(name, items))
            elif isinstance(value, int):
                values[name] = (value,)
            elif value is not None:
                values[name] = tuple(value)
        budget = replace(base, **values)
        budget.check()
        return budget

    def checked(self) -> dict[str, Any]:
        """Languages, panel, experiments and seeds parsed once; ConfigError / UnknownLanguageError before any work."""
        from crossalign.data.libreoffice.langs import lo_lang_list
        from crossalign.evaluation.holdout import resolve_holdout_langs

        bad = [e for e in self.experiments if e not in EXPERIMENT_METHODS]
        if bad or not self.experiments:
            raise ConfigError(
                f"unknown experiment(s) {bad or '(none given)'}", hint=f"choose from {', '.join(EXPERIMENT_METHODS)}"
            )
        langs = [x for x in lo_lang_list(self.langs, field="--langs") if x != "en"]
        parallel = [x for x in lo_lang_list(self.parallel_langs, field="--parallel-langs") if x != "en"]
        if "parallel" in self.experiments and len(parallel) < 4:
            raise ConfigError(
                f"--parallel-langs needs at least 4 languages (6 pairs without English), got {', '.join(parallel)}",
            )
        check_count(self.nproc_per_node, "nproc_per_node", minimum=1, optional=False)
        seeds = list(self.seeds)
        if not seeds or any(not isinstance(s, int) for s in seeds) or len(set(seeds)) != len(seeds):
            raise ConfigError(f"seeds must be distinct integers, got {self.seeds!r}")
        trained = sorted(set(langs) | set(parallel))
        panel = resolve_holdout_langs(self.holdout_langs, trained)
        for path in self.sts_data:
            if not Path(path).is_file():
                raise ConfigError(f"--sts-data: file not found: {path}", hint="pass an existing STS JSONL file")
        return {"langs": langs, "parallel": parallel, "panel": panel, "seeds": seeds}


@dataclass
class ReproduceResult:
    """What :func:`run_reproduce` returns.

    Attributes:
        output_dir: The report directory.
        report: ``REPRODUCTION.md``.
        summary: The content of ``reproduce.json`` (claims, verdicts, tables' values, settings, seconds).
        text: The verdicts and tables as printed.
        seconds: Stage -> wall seconds (reused stages: 0).
    """

    output_dir: Path
    report: Path
    summary: dict[str, Any]
    text: str
    seconds: dict[str, float]


# -------------------------------------------------------------------------------------------------------- claims
@dataclass(frozen=True)
class ClaimMetric:
    """One measured quantity of a claim, pooled over the claim's languages.

    Attributes:
        label: Column label.
        suite: Evaluation suite of the cells.
        metrics: Per-query keys pooled (``p@1_src2tgt`` and ``p@1_tgt2src`` = P@1 in both directions); the first one
            names the metric's scale and direction.
        cells: Which tasks: ``x>en``, ``en>x``, ``x>x``, ``en>en`` (retrieval, one per language), ``mixed`` (x
            queries over the English + x pool), ``bitext-en`` / ``bitext-non-en`` (pairs with / without English).
    """

    label: str
    suite: str
    metrics: tuple[str, ...]
    cells: str

    @property
    def key(self) -> str:
        """The metric that names scale and direction."""
        return self.metrics[0]


@dataclass(frozen=True)
class Claim:
    """A paper's central claim as a paired comparison (declarative, like MTEB task metadata).

    Attributes:
        name: Short key (``clear``, ``jsd``, ``multiway``).
        paper: Where the claim comes from.
        statement: The claim in one sentence.
        experiment: ``retrieval``, ``parallel`` or ``per-language``.
        method, baseline: The compared models (method − baseline; the claim says the method is better).
        primary: The metric the verdict rests on.
        secondary: Reported with intervals, not part of the verdict.
    """

    name: str
    paper: str
    statement: str
    experiment: str
    method: str
    baseline: str
    primary: ClaimMetric
    secondary: tuple[ClaimMetric, ...] = ()


def _retrieval(direction: str) -> ClaimMetric:
    return ClaimMetric(direction.replace(">", "→") + " nDCG@10", "retrieval", (_NDCG,), direction)


_MAX_R = ClaimMetric("Max@R (mean)", "mixed-pool", ("max_rank_mean",), "mixed")
_BITEXT_NON_EN = ClaimMetric(
    "bitext P@1, pairs without English", "bitext", ("p@1_src2tgt", "p@1_tgt2src"), "bitext-non-en"
)

_CLEAR_CLAIM = Claim(
    name="clear",
    paper="CLEAR (ACL 2026)",
    statement="CLEAR retrieves English passages for target-language queries better than InfoNCE (x→en)",
    experiment="retrieval",
    method="clear",
    baseline="infonce",
    primary=_retrieval("x>en"),
    secondary=(_retrieval("en>x"), _retrieval("x>x"), _retrieval("en>en"), _MAX_R),
)

#: The claims tested: the three papers' central claims, and CLEAR's also with one model per language (opt-in).
CLAIMS: tuple[Claim, ...] = (
    _CLEAR_CLAIM,
    replace(
        _CLEAR_CLAIM,
        name="clear-per-language",
        paper="CLEAR (ACL 2026), one model per language",
        statement=_CLEAR_CLAIM.statement + ", with one model per language as the paper trains them",
        experiment=PER_LANGUAGE,
    ),
    Claim(
        name="jsd",
        paper="JSD + InfoNCE alignment (ICLR 2026)",
        statement="JSD+InfoNCE lowers the rank of the last relevant document in a mixed-language pool (Max@R) "
        "below InfoNCE's",
        experiment="retrieval",
        method="jsd",
        baseline="infonce",
        primary=_MAX_R,
        secondary=(
            ClaimMetric("Complete@10", "mixed-pool", ("complete@10",), "mixed"),
            ClaimMetric("nDCG@1 (mixed pool)", "mixed-pool", ("ndcg@1",), "mixed"),
            ClaimMetric("EnglishFirst@1", "inclination", ("pivot_first@1",), "mixed"),
            _retrieval("x>en"),
        ),
    ),
    Claim(
        name="multiway",
        paper="Multi-way parallel contrastive alignment (2026)",
        statement="training on multi-way parallel tuples mines bitext between non-English languages better than "
        "training on En–X pairs of the same tuples",
        experiment="parallel",
        method="multiway",
        baseline="en-x",
        primary=_BITEXT_NON_EN,
        secondary=(
            ClaimMetric("bitext P@1, pairs with English", "bitext", ("p@1_src2tgt", "p@1_tgt2src"), "bitext-en"),
            ClaimMetric("xSIM error, pairs without English", "bitext", ("xsim_error",), "bitext-non-en"),
            _retrieval("en>en"),
        ),
    ),
)


def _tasks(result: Any, cm: ClaimMetric, langs: Sequence[str]) -> list[Any]:
    """The result's tasks that ``cm`` pools (held-out panel tasks never)."""
    from crossalign.evaluation.holdout import is_holdout

    out = []
    for t in result.find(cm.suite):
        if is_holdout(t):
            continue
        q, d = t.query_lang, t.doc_lang
        if cm.cells in ("x>en", "en>x", "x>x", "en>en"):
            want_q, want_d = cm.cells.split(">")
            lang = next((x for x in langs if t.task.endswith(f"/{x}")), None)
            if lang is None:
                continue
            ok = q == (lang if want_q == "x" else "en") and d == (lang if want_d == "x" else "en")
        elif cm.cells == "mixed":
            ok = q in langs and set(t.pool) == {"en", q}
        elif cm.cells == "bitext-en":
            ok = "en" in (q, d) and (q in langs or d in langs)
        elif cm.cells == "bitext-non-en":
            ok = "en" not in (q, d) and q in langs and d in langs
        else:
            raise ConfigError(f"unknown claim cells {cm.cells!r}")
        if ok:
            out.append(t)
    return out


def pooled_values(result: Any, cm: ClaimMetric, langs: Sequence[str]) -> dict[str, float]:
    """``{cell|metric|query id: value}`` over every task and metric ``cm`` pools (empty when none was measured)."""
    from crossalign.reports.compare import per_query_values

    values: dict[str, float] = {}
    for t in _tasks(result, cm, langs):
        for metric in cm.metrics:
            found = per_query_values(t, metric)
            if found is None:
                continue
            cell = f"{t.task}|{t.query_lang}>{t.doc_lang or ','.join(sorted(t.pool))}|{metric}"
            values.update({f"{cell}|{q}": float(v) for q, v in found[0].items()})
    return values


def compare_pooled(
    base: Any, model: Any, cm: ClaimMetric, langs: Sequence[str], *, n_resamples: int = 2000, seed: int = 0
) -> dict[str, Any] | None:
    """Paired bootstrap of ``model − base`` on ``cm`` pooled over ``langs``: ``{"base", "model", "delta", "ci_low",
    "ci_high", "p_value", "n", "better"}`` (raw scale; ``better`` = the model is better by the whole interval,
    ``worse`` the opposite, else None), or None when either side has no per-query values."""
    from crossalign.evaluation.significance import paired_bootstrap

    a, b = pooled_values(base, cm, langs), pooled_values(model, cm, langs)
    if not a or not b:
        return None
    r = paired_bootstrap(a, b, n_resamples=n_resamples, seed=seed)
    lower = lower_is_better(cm.key)
    lo, hi = (-r.ci_high, -r.ci_low) if lower else (r.ci_low, r.ci_high)  # oriented: positive = better
    side = "better" if lo > 0 else "worse" if hi < 0 else None
    return {
        "base": r.value_a,
        "model": r.value_b,
        "delta": r.difference,
        "ci_low": r.ci_low,
        "ci_high": r.ci_high,
        "p_value": r.p_value,
        "n": r.n,
        "side": side,
    }


#: A cell's verdict from the side its interval favours.
_CELL_VERDICT: dict[str | None, str] = {"better": "holds", "worse": "reversed", None: "not shown"}


def claim_verdicts(
    results: dict[str, Any], langs_of: dict[str, list[str]], budgets: Sequence[int], seeds: Sequence[int]
) -> list[dict[str, Any]]:
    """Every claim's comparison at every budget and seed, and its verdict.

    Args:
        results: ``"<experiment>/<method>@<steps>/s<seed>"`` and ``"<experiment>/base"`` -> EvaluationResult.
        langs_of: Experiment -> its languages.
        budgets, seeds: The steps and seeds run.

    Returns:
        One dict per claim in :data:`CLAIMS` whose experiment ran: ``name``, ``paper``, ``statement``, ``primary``
        (label), ``cells`` (one per budget and seed: ``steps``, ``seed``, the primary comparison and the secondary
        ones), ``verdict`` (``holds`` / ``reversed`` / ``not shown`` / ``mixed``) and ``detail`` (which budgets).
    """
    out = []
    for claim in CLAIMS:
        base = results.get(f"{claim.experiment}/base")
        if base is None:
            continue
        langs = langs_of[claim.experiment]
        cells = []
        for seed in seeds:
            for steps in budgets:
                m = results.get(f"{claim.experiment}/{claim.method}@{steps}/s{seed}")
                b = results.get(f"{claim.experiment}/{claim.baseline}@{steps}/s{seed}")
                if m is None or b is None:
                    continue
                cells.append(
                    {
                        "steps": steps,
                        "seed": seed,
                        "primary": compare_pooled(b, m, claim.primary, langs),
                        "secondary": {cm.label: compare_pooled(b, m, cm, langs) for cm in claim.secondary},
                    }
                )
        sides = [c["primary"]["side"] if c["primary"] else "missing" for c in cells]
        if not cells or "missing" in sides:
            verdict = "not measured"
        elif all(s == "better" for s in sides):
            verdict = "holds"
        elif all(s == "worse" for s in sides):
            verdict = "reversed"
        elif all(s is None for s in sides):
            verdict = "not shown"
        else:
            verdict = "mixed"
        where: dict[str, list[str]] = {"holds": [], "reversed": [], "not shown": []}
        for c, side in zip(cells, sides, strict=True):
            if side != "missing":
                where[_CELL_VERDICT[side]].append(f"{c['steps']} steps, seed {c['seed']}")
        detail = "; ".join(f"{k} at {', '.join(v)}" for k, v in where.items() if v) or "no comparison ran"
        out.append(
            {
                "name": claim.name,
                "paper": claim.paper,
                "statement": claim.statement,
                "method": claim.method,
                "baseline": claim.baseline,
                "primary": claim.primary.label,
                "primary_metric": claim.primary.key,
                "cells": cells,
                "verdict": verdict,
                "detail": detail,
            }
        )
    return out


def _interval(metric: str, c: dict[str, Any] | None) -> str:
    """``+2.3 [+0.8, +3.9]`` in the metric's scale (one formatter for every number)."""
    if c is None:
        return "–"
    lo, hi = format_delta(metric, c["ci_low"]), format_delta(metric, c["ci_high"])
    return f"{format_delta(metric, c['delta'])} [{lo}, {hi}]"


def claims_table(verdicts: Sequence[dict[str, Any]]) -> Table:
    """One row per claim, budget and seed: baseline, method, difference with its 95 % interval, side."""
    rows = []
    for v in verdicts:
        for c in v["cells"]:
            p = c["primary"]
            metric = v["primary_metric"]
            rows.append(
                [
                    v["name"],
                    f"{v['method']} vs {v['baseline']}",
                    v["primary"],
                    str(c["steps"]),
                    str(c["seed"]),
                    format_value(metric, p["base"]) if p else "–",
                    format_value(metric, p["model"]) if p else "–",
                    _interval(metric, p),
                    (p["side"] or "–") if p else "–",
                ]
            )
    return Table(
        "Claims: method vs baseline on the primary metric, pooled over the experiment's languages",
        ["claim", "models", "metric", "steps", "seed", "baseline", "method", "Δ [95 % CI]", "side"],
        rows,
        caption=["paired bootstrap over queries (2000 resamples); side: which model the whole interval favours"],
        label_columns=3,
    )


def secondary_table(verdicts: Sequence[dict[str, Any]]) -> Table:
    """The secondary metrics' differences with intervals, one row per claim, metric, budget and seed."""
    rows = []
    for v in verdicts:
        claim = next(c for c in CLAIMS if c.name == v["name"])
        for c in v["cells"]:
            for cm in claim.secondary:
                cmp = c["secondary"].get(cm.label)
                rows.append(
                    [
                        v["name"],
                        cm.label,
                        str(c["steps"]),
                        str(c["seed"]),
                        format_value(cm.key, cmp["base"]) if cmp else "–",
                        format_value(cm.key, cmp["model"]) if cmp else "–",
                        _interval(cm.key, cmp),
                    ]
                )
    return Table(
        "Secondary metrics (method − baseline)",
        ["claim", "metric", "steps", "seed", "baseline", "method", "Δ [95 % CI]"],
        rows,
        label_columns=2,
    )


def en_en_checks(results: dict[str, Any], langs_of: dict[str, list[str]]) -> list[dict[str, Any]]:
    """Every trained model's mean en→en nDCG@10 against its experiment's base model (limit :data:`MAX_EN_EN_LOSS`);
    per-language composites are checked through their ``only-<lang>`` models."""
    cm = _retrieval("en>en")
    out = []
    for label, res in results.items():
        experiment, _, rest = label.partition("/")
        if rest == "base" or experiment == PER_LANGUAGE or f"{experiment}/base" not in results:
            continue
        cmp = compare_pooled(results[f"{experiment}/base"], res, cm, langs_of[experiment])
        if cmp is None:
            continue
        out.append(
            {
                "model": label,
                "base": cmp["base"],
                "model_value": cmp["model"],
                "delta": cmp["delta"],
                "holds": cmp["delta"] >= -MAX_EN_EN_LOSS - 1e-12,
            }
        )
    return out


#: The per-model table's columns per experiment: the claims' metrics, each pooled over the experiment's languages.
MODEL_COLUMNS: dict[str, tuple[ClaimMetric, ...]] = {
    "retrieval": (
        _retrieval("x>en"),
        _retrieval("en>x"),
        _retrieval("x>x"),
        _retrieval("en>en"),
        _MAX_R,
        ClaimMetric("Complete@10", "mixed-pool", ("complete@10",), "mixed"),
        ClaimMetric("EnglishFirst@1", "inclination", ("pivot_first@1",), "mixed"),
    ),
    "parallel": (
        ClaimMetric("P@1 x↔en", "bitext", ("p@1_src2tgt", "p@1_tgt2src"), "bitext-en"),
        ClaimMetric("P@1 without en", "bitext", ("p@1_src2tgt", "p@1_tgt2src"), "bitext-non-en"),
        ClaimMetric("xSIM without en", "bitext", ("xsim_error",), "bitext-non-en"),
        _retrieval("x>en"),
        _retrieval("en>en"),
    ),
}
MODEL_COLUMNS[PER_LANGUAGE] = MODEL_COLUMNS["retrieval"]


def _pooled_mean(result: Any, cm: ClaimMetric, langs: Sequence[str]) -> float | None:
    values = pooled_values(result, cm, langs)
    return sum(values.values()) / len(values) if values else None


def models_summary(results: dict[str, Any], langs_of: dict[str, list[str]]) -> dict[str, Any]:
    """Every model's value on each experiment's :data:`MODEL_COLUMNS`, pooled over the experiment's languages (every
    query weighs the same): ``{experiment: {"columns": [[label, metric key]], "rows": {model: [value | None]}}}``."""
    out: dict[str, Any] = {}
    for experiment, cols in MODEL_COLUMNS.items():
        rows = {
            label.partition("/")[2]: [_pooled_mean(res, cm, langs_of[experiment]) for cm in cols]
            for label, res in results.items()
            if label.startswith(f"{experiment}/")
        }
        if rows:
            out[experiment] = {"columns": [[cm.label, cm.key] for cm in cols], "rows": rows}
    return out


def models_table(experiment: str, entry: dict[str, Any], langs: Sequence[str]) -> Table:
    """The table of one experiment's :func:`models_summary` entry."""
    keys = [k for _, k in entry["columns"]]
    rows = [
        [model, *(format_value(k, v) for k, v in zip(keys, values, strict=True))]
        for model, values in entry["rows"].items()
    ]
    return Table(
        f"{experiment} experiment: every model, pooled over {', '.join(langs)}",
        ["model", *(label for label, _ in entry["columns"])],
        rows,
        caption=["model = method@steps/seed; nDCG@10, P@1, Complete@10, EnglishFirst@1, xSIM ×100; Max@R a rank"],
    )


def plot_claims(verdicts: Sequence[dict[str, Any]], path: str | os.PathLike[str]) -> Path:
    """One panel per claim: method − baseline on the primary metric at each budget and seed, with its 95 % interval
    (points for ×100 metrics); the shaded side is where the claim holds. Returns the PNG path."""
    from crossalign.evaluation.metrics import score_info
    from crossalign.reports.plots import _figure, _save

    shown = [v for v in verdicts if v["cells"]]
    fig = _figure(6.5, 1.2 + 1.1 * max(1, len(shown)))
    axes = fig.subplots(max(1, len(shown)), 1, squeeze=False)[:, 0]
    for ax, v in zip(axes, shown, strict=False):
        scale = 100.0 if score_info(v["primary_metric"]).ratio else 1.0
        cells = [c for c in v["cells"] if c["primary"]]
        y = list(range(len(cells)))
        d = [scale * c["primary"]["delta"] for c in cells]
        lo = [scale * (c["primary"]["delta"] - c["primary"]["ci_low"]) for c in cells]
        hi = [scale * (c["primary"]["ci_high"] - c["primary"]["delta"]) for c in cells]
        ax.errorbar(d, y, xerr=[lo, hi], fmt="o", capsize=3, color="black")
        ax.axvline(0, color="grey", linewidth=0.8)
        left, right = ax.get_xlim()
        better_left = lower_is_better(v["primary_metric"])
        ax.axvspan(left if better_left else 0, 0 if better_left else right, color="tab:green", alpha=0.08)
        ax.set_xlim(left, right)
        ax.set_yticks(y, [f"{c['steps']} steps, seed {c['seed']}" for c in cells])
        ax.set_title(f"{v['method']} − {v['baseline']}: {v['primary']} ({v['verdict']})", fontsize=9)
    axes[-1].set_xlabel("difference (points for ×100 metrics); green: the claimed side")
    return _save(fig, path)


# ------------------------------------------------------------------------------------------------------ workflow
def run_reproduce(
    config: ReproduceConfig, *, show_progress: bool | None = None, log: Log | None = None
) -> ReproduceResult:
    """Run both experiments (see the module docstring), compute the verdicts and write the report directory.

    Raises:
        ConfigError, UnknownLanguageError: Bad settings, before the output directory is made.
        CorpusError, ModelError, TrainingError: Corpus, model or training faults (finished stages are kept and reused
            by the next run).
    """
    from crossalign.models.backends import precision_scope

    # encoding (mining, evaluation) in fp32: the verdicts rest on differences of a point or less, and the README's
    # table was measured so; training precision is the budget's own ``bf16``
    with precision_scope("fp32"):
        return _run_reproduce(config, show_progress, log)


def _run_reproduce(config: ReproduceConfig, show_progress: bool | None, log: Log | None) -> ReproduceResult:
    from crossalign.utils.atomic import check_output_location
    from crossalign.utils.progress import progress_scope, stage_logger

    say = stage_logger(show_progress, log)
    out = Path(config.output_dir).expanduser().resolve()
    budget = config.resolved_budget()
    parsed = config.checked()
    check_output_location(out, what="output directory")
    out.mkdir(parents=True, exist_ok=True)
    stages = StageLog(out, config.redo)
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    experiments = [e for e in EXPERIMENT_METHODS if e in config.experiments]
    langs_of = {"retrieval": parsed["langs"], "parallel": parsed["parallel"]}
    if PER_LANGUAGE in experiments:
        langs_of[PER_LANGUAGE] = parsed["langs"]
        langs_of.update({unit: [unit.removeprefix("only-")] for unit in _units(PER_LANGUAGE, langs_of)})
    budgets = sorted(budget.steps)
    say(
        f"crossalign reproduce: {config.preset_name} budget, experiments {', '.join(experiments)}, "
        f"budgets {', '.join(map(str, budgets))} steps, seeds {', '.join(map(str, parsed['seeds']))}; output {out}"
    )
    with progress_scope(show_progress):
        from crossalign.data.libreoffice import LibreOfficeCorpus
        from crossalign.models.loading import load_model, resolve_model

        t0 = time.perf_counter()
        model_path = resolve_model(config.model, cache_dir=config.cache_dir)
        all_langs = sorted({x for e in experiments for x in langs_of[e]} | set(parsed["panel"]))
        corpus = LibreOfficeCorpus.open(all_langs, cache_dir=config.cache_dir)
        seconds["prepare"] = time.perf_counter() - t0
        say(
            f"[prepare] model {config.model} and corpus ({len(all_langs)} languages) in "
            + format_seconds(seconds["prepare"])
        )
        base_model = load_model(model_path)
        common = {"model": config.model, "seed": parsed["seeds"][0]}
        data = _build_data(config, budget, experiments, langs_of, corpus, base_model, out, stages, common, seconds, say)
        del base_model
        results: dict[str, Any] = {}

        def evaluate_base(unit: str, kind: str, langs: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
            eval_kwargs = _eval_kwargs(config, budget, kind, langs, parsed, corpus)
            key = {**common, "experiment": kind, **eval_kwargs}
            if f"{unit}/base" not in results:
                results[f"{unit}/base"] = evaluate_stage(
                    f"{unit}/base", model_path, out, stages, key, eval_kwargs, seconds, say
                )
            return eval_kwargs, key

        for experiment in experiments:
            if experiment == PER_LANGUAGE:  # the multilingual run's base evaluation serves every language
                evaluate_base("retrieval", "retrieval", langs_of["retrieval"])
                results[f"{PER_LANGUAGE}/base"] = results["retrieval/base"]
            for unit in _units(experiment, langs_of):
                kind = "retrieval" if experiment == PER_LANGUAGE else experiment
                if experiment == PER_LANGUAGE:
                    results[f"{unit}/base"] = results["retrieval/base"]
                eval_kwargs, key = evaluate_base(unit, kind, langs_of[unit])
                for seed in parsed["seeds"]:
                    for method in EXPERIMENT_METHODS[experiment]:
                        run_dir, train_key = _train(
                            method,
                            experiment,
                            seed,
                            config,
                            budget,
                            model_path,
                            data[method if unit == experiment else f"{method}-{unit}"],
                            out,
                            stages,
                            seconds,
                            say,
                            len(langs_of[unit]),
                            run_name=f"{method}-s{seed}" if unit == experiment else f"{method}-{unit}-s{seed}",
                        )
                        for steps in budgets:
                            model_dir = (
                                run_dir / "model"
                                if steps == budgets[-1]
                                else run_dir / "checkpoints" / f"checkpoint-{steps}"
                            )
                            label = f"{unit}/{method}@{steps}/s{seed}"
                            results[label] = evaluate_stage(
                                label,
                                str(model_dir),
                                out,
                                stages,
                                {**key, "trained": train_key, "steps": steps},
                                eval_kwargs,
                                seconds,
                                say,
                            )
            if experiment == PER_LANGUAGE:
                results.update(_composites(results, langs_of[PER_LANGUAGE], budgets, parsed["seeds"]))

    t0 = time.perf_counter()
    verdicts = claim_verdicts(results, langs_of, budgets, parsed["seeds"])
    summary = _summary(config, budget, parsed, results, verdicts, langs_of, out)
    text = format_reproduction(summary)
    seconds["report"] = time.perf_counter() - t0
    seconds["total"] = time.perf_counter() - started
    summary["seconds"] = {k: round(v, 1) for k, v in seconds.items()}
    summary["stage_seconds"] = {
        k: v["seconds"] for k, v in stages.data.items() if isinstance(v, dict) and "seconds" in v
    }
    report = _write_report(out, summary, text, config)
    atomic_write_json(out / "reproduce.json", summary)
    say(f"[report] {report} (total {format_seconds(seconds['total'])})")
    return ReproduceResult(out, report, summary, text, seconds)


def _units(experiment: str, langs_of: dict[str, list[str]]) -> list[str]:
    """The trained units of an experiment: itself, or ``only-<lang>`` per language for ``per-language``."""
    return [f"only-{lang}" for lang in langs_of[PER_LANGUAGE]] if experiment == PER_LANGUAGE else [experiment]


def _composites(
    results: dict[str, Any], langs: Sequence[str], budgets: Sequence[int], seeds: Sequence[int]
) -> dict[str, Any]:
    """``per-language/<method>@<steps>/s<seed>``: one result holding each language's tasks as scored by that
    language's own ``only-<lang>`` model (held-out panel tasks stay with the per-language models)."""
    from crossalign.evaluation.holdout import is_holdout
    from crossalign.evaluation.results import EvaluationResult

    out = {}
    for method in EXPERIMENT_METHODS[PER_LANGUAGE]:
        for seed in seeds:
            for steps in budgets:
                parts = [results.get(f"only-{lang}/{method}@{steps}/s{seed}") for lang in langs]
                if any(p is None for p in parts):
                    continue
                out[f"{PER_LANGUAGE}/{method}@{steps}/s{seed}"] = EvaluationResult(
                    model={"label": f"{method} per language@{steps}/s{seed}"},
                    data={"source": "only-" + ",".join(langs)},
                    config={},
                    tasks=[t for p in parts for t in p.tasks if not is_holdout(t)],
                    languages=list(langs),
                )
    return out


def _eval_kwargs(
    config: ReproduceConfig,
    budget: ReproduceBudget,
    experiment: str,
    langs: list[str],
    parsed: dict[str, Any],
    corpus: Any,
) -> dict[str, Any]:
    """The :func:`~crossalign.workflows.evaluate.prepare_evaluation` options of one experiment."""
    retrieval = experiment == "retrieval"
    return {
        "suites": "retrieval,mixed-pool" if retrieval else "retrieval,bitext" + (",sts" if config.sts_data else ""),
        "langs": langs,
        "max_sections": budget.eval_sections if retrieval else max(50, budget.eval_sections // 3),
        "max_bitext_pairs": budget.bitext_pairs,
        "bitext_distractors": budget.bitext_distractors,
        "non_english_pairs": None if retrieval else budget.non_english_pairs,
        "data": list(config.sts_data) if not retrieval else [],
        "seed": parsed["seeds"][0],
        "cache_dir": config.cache_dir,
        "corpus": corpus,
        "write_trec": False,
        "holdout_langs": ",".join(parsed["panel"]) if parsed["panel"] else "none",
        "holdout_size": budget.holdout_size,
    }


def _build_data(
    config: ReproduceConfig,
    budget: ReproduceBudget,
    experiments: list[str],
    langs_of: dict[str, list[str]],
    corpus: Any,
    base_model: Any,
    out: Path,
    stages: StageLog,
    common: dict[str, Any],
    seconds: dict[str, float],
    say: Log,
) -> dict[str, tuple[Path, str]]:
    """Build (or reuse) every method's training rows; returns method -> (directory, settings digest)."""
    from crossalign.data.builders.clear import build_clear, infonce_from_clear
    from crossalign.data.builders.jsd import build_jsd
    from crossalign.data.builders.multiway import build_enx, build_multiway

    root = out / "data"
    found: dict[str, tuple[Path, str]] = {}
    t0 = time.perf_counter()

    def mining_key(langs: list[str], rows: int) -> str:
        mining = {"pool": budget.max_pool, "neg": budget.negatives, "qneg": budget.query_negatives}
        return settings_digest({**common, "langs": langs, "rows": rows, **mining, "ranks": budget.rank_range})

    def mine_clear(langs: list[str], rows: int, target: Path) -> None:
        """CLEAR rows mined by the base model into ``target/clear``, their InfoNCE projection into
        ``target/infonce``."""
        clear = build_clear(
            corpus,
            langs,
            model=base_model,
            negatives=budget.negatives,
            query_negatives=budget.query_negatives,
            rank_range=budget.rank_range,
            max_pool=budget.max_pool,
            max_rows=rows,
            seed=common["seed"],
        )
        clear.write(target / "clear", overwrite=True)
        infonce_from_clear(clear).write(target / "infonce", overwrite=True)

    if "retrieval" in experiments:
        langs = langs_of["retrieval"]
        key = mining_key(langs, budget.rows_per_lang)
        dirs = [root / m for m in EXPERIMENT_METHODS["retrieval"]]
        if stages.done("data-retrieval", key, dirs):
            say("[data] reusing the CLEAR, InfoNCE and JSD rows")
        else:
            say(
                f"[data] CLEAR rows: {budget.rows_per_lang} per language, {budget.negatives} passage and "
                f"{budget.query_negatives} query negatives from ranks {budget.rank_range[0]}–{budget.rank_range[1]}"
            )
            mine_clear(langs, budget.rows_per_lang, root)
            build_jsd(corpus, langs, max_rows=budget.rows_per_lang, seed=common["seed"]).write(
                root / "jsd", overwrite=True
            )
            stages.mark("data-retrieval", key, time.perf_counter() - t0, dirs)
        found.update({d.name: (d, key) for d in dirs})
    if "parallel" in experiments:
        t1 = time.perf_counter()
        langs = langs_of["parallel"]
        key = settings_digest({**common, "langs": langs, "tuples": budget.parallel_rows})
        dirs = [root / m for m in EXPERIMENT_METHODS["parallel"]]
        if stages.done("data-parallel", key, dirs):
            say("[data] reusing the multi-way and En–X sets")
        else:
            say(f"[data] multi-way tuples ({budget.parallel_rows}) and the En–X pairs of the same tuples")
            opts = {"max_rows": budget.parallel_rows, "seed": common["seed"]}
            build_multiway(corpus, langs, **opts).write(root / "multiway", overwrite=True)
            build_enx(corpus, langs, **opts).write(root / "en-x", overwrite=True)
            stages.mark("data-parallel", key, time.perf_counter() - t1, dirs)
        found.update({d.name: (d, key) for d in dirs})
    if PER_LANGUAGE in experiments:  # the multilingual run's rows per step and steps, from one language
        rows = budget.rows_per_lang * len(langs_of[PER_LANGUAGE])
        for unit in _units(PER_LANGUAGE, langs_of):
            (lang,) = langs_of[unit]
            key = mining_key([lang], rows)
            dirs = [root / unit / m for m in EXPERIMENT_METHODS[PER_LANGUAGE]]
            if stages.done(f"data-{unit}", key, dirs):
                say(f"[data] reusing the {lang}-only CLEAR and InfoNCE rows")
            else:
                t1 = time.perf_counter()
                say(f"[data] {lang}-only CLEAR rows ({rows}, mined as above) and their InfoNCE projection")
                mine_clear([lang], rows, root / unit)
                stages.mark(f"data-{unit}", key, time.perf_counter() - t1, dirs)
            found.update({f"{d.name}-{unit}": (d, key) for d in dirs})
    seconds["data"] = time.perf_counter() - t0
    return found


def _train(
    method: str,
    experiment: str,
    seed: int,
    config: ReproduceConfig,
    budget: ReproduceBudget,
    model_path: str,
    data: tuple[Path, str],
    out: Path,
    stages: StageLog,
    seconds: dict[str, float],
    say: Log,
    n_langs: int,
    *,
    run_name: str,
) -> tuple[Path, str]:
    """Train ``method`` to ``max(steps)`` with a checkpoint at every budget into ``models/<run_name>`` (or reuse /
    resume it)."""
    from crossalign.training import TrainConfig
    from crossalign.workflows.train import train

    steps = sorted(budget.steps)
    run_dir = out / "models" / run_name
    data_dir, data_key = data
    train_fields = {
        k: v
        for k, v in asdict(budget).items()
        if k
        in ("steps", "batch_size", "learning_rate", "lr_scheduler_type", "warmup_ratio", "max_seq_length", "freeze")
    }
    anchor = budget.parallel_anchor if experiment == "parallel" and budget.parallel_anchor > 0 else None
    key = settings_digest(
        {
            "method": method,
            "model": config.model,
            "data": data_key,
            "seed": seed,
            "anchor": anchor,
            "nproc": config.nproc_per_node,
            **train_fields,
        }
    )
    name = f"train-{run_name}"
    outputs = [run_dir / "model", *(run_dir / "checkpoints" / f"checkpoint-{s}" for s in steps[:-1])]
    if stages.done(name, key, outputs):
        say(f"[train] {run_name}: reusing {run_dir}")
        seconds[name] = 0.0
        return run_dir, key
    t0 = time.perf_counter()
    batch = budget.batch_size
    if method == "en-x":  # the same texts per step as multi-way: a tuple is N+1 texts, a pair 2
        batch = max(1, budget.batch_size * (n_langs + 1) // 2)
    say(
        f"[train] {run_name}: {steps[-1]} steps × {batch} rows ({budget.lr_scheduler_type}, warm-up "
        f"{budget.warmup_ratio:g}, lr {budget.learning_rate:g}), checkpoints at {', '.join(map(str, steps))}"
        + (f", base anchor {anchor:g}" if anchor else "")
    )
    resume = stages.started(name, key) and run_dir.exists()
    cfg = TrainConfig(
        method=method,
        model=model_path,
        data=str(data_dir),
        output_dir=str(run_dir),
        learning_rate=budget.learning_rate,
        lr_scheduler_type=budget.lr_scheduler_type,
        warmup_ratio=budget.warmup_ratio,
        per_device_train_batch_size=batch,
        max_steps=steps[-1],
        seed=seed,
        max_seq_length=budget.max_seq_length,
        freeze=list(budget.freeze),
        base_anchor=anchor,
        bf16=budget.bf16,
        mini_batch_size=budget.mini_batch_size if method == "clear" else None,
        logging_steps=max(1, steps[0] // 4),
        save_steps=math.gcd(*steps),
    )
    if config.nproc_per_node > 1:
        _train_torchrun(cfg, config.nproc_per_node, run_dir.parent / f"{run_dir.name}.json", resume=resume)
    else:
        train(cfg, resume=resume, overwrite=not resume)
    _prune_checkpoints(run_dir / "checkpoints", keep=steps[:-1])
    seconds[name] = time.perf_counter() - t0
    stages.mark(name, key, seconds[name], outputs)
    say(f"[train] {run_name} done in {format_seconds(seconds[name])}")
    return run_dir, key


#: What a finished run's budget checkpoints keep: the model, not the optimizer state that only resuming needs.
_RESUME_ONLY = ("optimizer.pt", "scheduler.pt", "scaler.pt", "rng_state.pth")


def _prune_checkpoints(root: Path, *, keep: Sequence[int]) -> None:
    """After a finished run: delete the checkpoints that are not budgets (the last one duplicates ``model/``) and the
    resume-only state of those kept (a checkpoint is ~4× the trainable weights larger with it)."""
    import shutil

    if not root.is_dir():
        return
    for ckpt in root.glob("checkpoint-*"):
        step = ckpt.name.rpartition("-")[2]
        if not step.isdigit() or int(step) not in keep:
            shutil.rmtree(ckpt, ignore_errors=True)
            continue
        for f in ckpt.iterdir():
            if f.name in _RESUME_ONLY or f.name.startswith("rng_state"):
                f.unlink(missing_ok=True)


def torchrun_command(config_file: Path, nproc: int, *, resume: bool) -> list[str]:
    """The command a training stage runs under torchrun: ``crossalign train --config FILE`` on ``nproc`` processes
    of this machine (``--standalone``: a local rendezvous)."""
    import sys

    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}"]
    command += ["-m", "crossalign.cli.main", "--no-progress", "train", "--config", str(config_file)]
    return [*command, "--resume" if resume else "--overwrite"]


def _train_torchrun(cfg: Any, nproc: int, config_file: Path, *, resume: bool) -> None:
    """Run ``cfg`` under torchrun; TrainingError with the workers' last output when it fails."""
    import subprocess

    from crossalign.errors import TrainingError

    cfg.to_file(config_file)
    done = subprocess.run(torchrun_command(config_file, nproc, resume=resume), capture_output=True, text=True)
    if done.returncode != 0:
        raise TrainingError(
            f"torchrun training ({nproc} processes, config {config_file}) failed with exit code {done.returncode}:\n"
            + done.stderr[-3000:],
            hint="rerun the same command: finished stages are reused and the run resumes from its last checkpoint",
        )


def _ints(name: str, items: Sequence[str]) -> list[int]:
    try:
        return [int(x) for x in items]
    except ValueError:
        raise ConfigError(f"{name} must be integers, got {', '.join(items)}") from None


# -------------------------------------------------------------------------------------------------------- report
def _summary(
    config: ReproduceConfig,
    budget: ReproduceBudget,
    parsed: dict[str, Any],
    results: dict[str, Any],
    verdicts: list[dict[str, Any]],
    langs_of: dict[str, list[str]],
    out: Path,
) -> dict[str, Any]:
    from crossalign.evaluation.holdout import holdout_comparison

    holdout: dict[str, Any] = {}
    if parsed["panel"]:
        for experiment in langs_of:
            base = results.get(f"{experiment}/base")
            if base is None or experiment == PER_LANGUAGE:  # composites: their only-<lang> models carry the panel
                continue
            models = {k: v for k, v in results.items() if k.startswith(f"{experiment}/") and k != f"{experiment}/base"}
            holdout[experiment] = holdout_comparison(base, models)
    return {
        "claims": verdicts,
        "models": models_summary(results, langs_of),
        "en_en": en_en_checks(results, langs_of),
        "holdout": holdout,
        "languages": langs_of,
        "panel": parsed["panel"],
        "seeds": parsed["seeds"],
        "budget": asdict(budget),
        "model": config.model,
        "command": _command(config, out),
    }


def _command(config: ReproduceConfig, out: Path) -> str:
    cmd = "crossalign reproduce" + ("" if config.preset_name == "default" else f" --preset {config.preset_name}")
    if config.nproc_per_node > 1:
        cmd += f" --nproc-per-node {config.nproc_per_node}"
    if list(config.seeds) != [13]:
        cmd += " --seeds " + ",".join(map(str, config.seeds))
    for k, v in config.budget.items():
        cmd += f" --budget {k}={','.join(map(str, v)) if isinstance(v, (tuple, list)) else v}"
    return cmd + f" --output {out}"


def format_reproduction(summary: dict[str, Any], *, markdown: bool = False) -> str:
    """The verdicts, the claims table, the secondary metrics and the en→en check, as text or markdown."""
    lines = []
    for v in summary["claims"]:
        mark = {"holds": "✔", "reversed": "✘"}.get(v["verdict"], "–")
        lines.append(f"{mark} {v['paper']}: {v['statement']} — {v['verdict'].upper()} ({v['detail']})")
    for c in summary["en_en"]:
        if not c["holds"]:
            lines.append(
                f"✘ {c['model']} loses more than {100 * MAX_EN_EN_LOSS:.0f} points of en→en nDCG@10 against the base "
                f"model ({format_delta(_NDCG, c['delta'])})"
            )
    if summary["en_en"] and all(c["holds"] for c in summary["en_en"]):
        lines.append(f"✔ no trained model loses more than {100 * MAX_EN_EN_LOSS:.0f} points of en→en nDCG@10")
    for experiment, cmp in summary["holdout"].items():
        failing = [k for k, v in cmp["verdicts"].items() if not v["holds"]]
        lines.append(
            f"{'✘' if failing else '✔'} held-out panel ({experiment}): "
            + (
                f"{len(failing)} of {len(cmp['verdicts'])} models lose more than 1.0 point somewhere"
                if failing
                else "no model loses more than 1.0 point"
            )
        )
    tables = [
        claims_table(summary["claims"]),
        secondary_table(summary["claims"]),
        *(models_table(e, entry, summary["languages"][e]) for e, entry in summary.get("models", {}).items()),
        _en_en_table(summary["en_en"]),
    ]
    if markdown:
        return "\n".join(f"- {x}" for x in lines) + "\n\n" + "\n".join(t.to_markdown() for t in tables)
    return "\n".join(lines) + "\n\n" + render_text(tables).rstrip("\n")


def _en_en_table(checks: Sequence[dict[str, Any]]) -> Table:
    rows = [
        [
            c["model"],
            format_value(_NDCG, c["base"]),
            format_value(_NDCG, c["model_value"]),
            format_delta(_NDCG, c["delta"]),
        ]
        for c in checks
    ]
    return Table("en→en nDCG@10 vs the base model", ["model", "base", "trained", "Δ"], rows)


def _write_report(out: Path, summary: dict[str, Any], text: str, config: ReproduceConfig) -> Path:
    from crossalign.reports.holdout import format_holdout, plot_holdout

    parts = [
        "# crossalign reproduce",
        "",
        f"Command: `{summary['command']}`",
        "",
        "## Verdicts",
        "",
        format_reproduction(summary, markdown=True),
    ]
    try:
        plot = plot_claims(summary["claims"], out / "plots" / "claims.png")
        parts += ["", f"![claims: method − baseline with 95 % intervals]({plot.relative_to(out)})"]
    except Exception as exc:  # matplotlib missing
        logger.warning("no claims plot: %s", exc)
    for experiment, cmp in summary["holdout"].items():
        parts += ["", f"## Held-out panel ({experiment})", ""]
        try:
            plot = plot_holdout(cmp, out / "plots" / f"holdout-{experiment}.png")
            parts += [f"![held-out panel]({plot.relative_to(out)})", ""]
        except Exception as exc:  # matplotlib missing
            logger.warning("no held-out plot: %s", exc)
        parts.append(format_holdout(cmp, markdown=True, trained=summary["languages"][experiment]))
    parts += [
        "",
        "## Settings",
        "",
        "Budget: " + ", ".join(f"{k}={v}" for k, v in summary["budget"].items()) + ".",
        f"Languages: {summary['languages']}; held-out panel: {', '.join(summary['panel']) or 'none'}; "
        f"seeds: {', '.join(map(str, summary['seeds']))}.",
        "Per-model evaluations: `eval/<experiment>/<method>@<steps>/s<seed>/`; models: `models/<method>-s<seed>/` "
        "(per-language runs: `eval/only-<lang>/…`, `models/<method>-only-<lang>-s<seed>/`).",
        "",
        "## Wall time",
        "",
        "Each stage as measured when it ran (`stages.json`; a rerun reuses finished stages): "
        + ", ".join(f"{k} {format_seconds(v)}" for k, v in summary["stage_seconds"].items())
        + f"; sum {format_seconds(sum(summary['stage_seconds'].values()))}. This invocation: "
        + ", ".join(f"{k} {format_seconds(v)}" for k, v in summary["seconds"].items() if v > 0)
        + ".",
        "",
    ]
    report = out / "REPRODUCTION.md"
    atomic_write_text(report, "\n".join(parts))
    return report
