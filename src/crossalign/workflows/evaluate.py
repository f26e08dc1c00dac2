"""The ``evaluate`` workflow: models × suites × languages → results.json, MTEB JSON, TREC runs, summary.

Stages (seconds of each in ``EvaluationResult.timing``):

1. ``build_sets`` — the LibreOffice evaluation sets for ``langs`` (once, shared by all models) and the user data;
2. per model: ``load_model`` (a spec is resolved and loaded; a loaded model is used as is) and ``fingerprint``;
3. ``encode`` — every text any evaluator needs, grouped by prompt and encoded in one length-sorted pass per prompt
   through an :class:`~crossalign.models.embedding_cache.EmbeddingCache` (persisted by default, so evaluating the same
   model again skips the model entirely);
4. one stage per suite (``retrieval``, ``mixed-pool``, ``inclination``, ``bitext``, ``sts``): exact search and
   scoring; the vectors come from the cache;
5. ``write`` — MTEB files and TREC runs (``results.json`` and ``report.md`` come last, in well under a second).

``total`` is the model's stages plus the shared ``build_sets``.

Output layout (the same for one model or several; ``<label>`` is the model's label, see :func:`model_label`)::

    OUT/evaluation.json           labels, their folders, every top-level entry written, the command
    OUT/report.md, OUT/plots/     all models: tables, plots, paired comparison against the first model
    OUT/<label>/results.json      everything of one model (per-query values included)
    OUT/<label>/report.md         that model's tables and plots
    OUT/<label>/mteb/             MTEB TaskResult files
    OUT/<label>/runs/             TREC runs and qrels
    OUT/eval_sets/                the evaluation sets (``write_sets`` only)

Example:
    >>> from crossalign.workflows.evaluate import evaluate
    >>> [result] = evaluate("e5-small-q4", suites="all", langs="de,zh-CN", output_dir="out/")  # doctest: +SKIP
    >>> config = EvaluateConfig(suites="retrieval", langs="de", output_dir="out/")  # the CLI builds the same
    >>> [result] = evaluate("e5-small-q4", config)  # doctest: +SKIP
    >>> result.find("retrieval", query_lang="de", doc_lang="en")[0].scores["ndcg@10"]  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crossalign.data.eval_sets import DEFAULT_EVAL_LANGS
from crossalign.errors import ConfigError
from crossalign.evaluation import writers
from crossalign.evaluation.evaluators import DEFAULT_RETRIEVAL_METRICS, CrossalignEvaluator, EvaluatorOutput
from crossalign.evaluation.results import EvaluationResult, TaskScore, unique_labels
from crossalign.evaluation.suites import SUITE_ORDER
from crossalign.models.embedding_cache import EmbeddingCache
from crossalign.reports.markdown import write_report
from crossalign.utils.progress import progress, progress_enabled, progress_scope, stage_logger

logger = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_EVAL_LANGS",
    "MANIFEST_FILE",
    "EvaluateConfig",
    "EvaluationPlan",
    "check_model_specs",
    "check_output",
    "evaluate",
    "evaluate_model",
    "model_label",
    "prepare_evaluation",
    "write_report",
]

ModelLike = Any
Log = Callable[[str], None]


@dataclass
class EvaluateConfig:
    """Every setting of one evaluation, checked once on construction; the CLI and Python build the same object.

    Attributes:
        suites: ``retrieval``, ``mixed-pool``, ``bitext``, ``sts``, ``all`` (comma-separated or a list; stored
            expanded, in run order, :func:`~crossalign.evaluation.suites.parse_suites`).
        langs: LibreOffice languages (stored as canonical tags; default :data:`DEFAULT_EVAL_LANGS` when no ``data``
            is given, none otherwise).
        data: ``--data`` paths (retrieval-set directories or BEIR folders, STS ``.jsonl`` files) and/or
            :class:`~crossalign.evaluation.suites.UserData` already read (stored as a list).
        output_dir: Output directory (layout in the module docstring); it must be empty or missing unless
            ``overwrite``. None writes nothing.
        labels: Names of the models, one per model (default: :func:`model_label`); a label's folder name keeps
            letters, digits and ``_.+-``.
        batch_size, long_text: Model inputs per forward pass; ``"truncate"`` or ``"window"``.
        precision, backend: The encoding path: ``fp32``/``bf16``/``auto`` and ``torch``/``openvino``/``auto``
            (:mod:`crossalign.models.backends`).
        max_sections, max_bitext_pairs, bitext_distractors, seed: LibreOffice set sizes and sampling seed.
        non_english_pairs: Bitext pairs without English, besides every ``x``–``en`` pair: ``"auto"`` (default: the
            first two of ``langs``), None/``"none"`` (none), an int ``N`` (``N`` pairs chosen from ``langs`` by
            :func:`~crossalign.data.eval_sets.choose_non_english_pairs`: ``(l0,l1), (l2,l3), …`` first), or pairs
            (``[("de", "zh-CN"), ("eu", "km")]`` or ``"de:zh-CN,eu:km"``; ``:`` inside a pair). Stored parsed
            (:func:`~crossalign.data.eval_sets.parse_non_english_pairs`, tags canonical) and checked against
            ``langs``; the pairs used are recorded in each result's ``config["bitext_pairs"]``.
        metrics: Retrieval metrics (the first is the main score; stored as canonical keys).
        use_faiss: Search retrieval pools with faiss.
        cache_dir: crossalign cache root (models, corpora, embeddings).
        persist_embeddings: Keep vectors on disk (keyed by the weights' fingerprint) for later runs.
        device: Torch device for model specs (default: sentence-transformers' choice).
        write_trec, write_mteb, write_sets: Also write TREC runs, MTEB files, the evaluation sets (``eval_sets/``).
        trec_depth: Documents per query in the TREC runs (default 100, the depth of the runs).
        overwrite: Replace a previous evaluation in ``output_dir``: only the entries its ``evaluation.json`` lists
            are removed, after the inputs have been checked; other files stay.
        query_prompt, passage_prompt: Prompts for every model, overriding their own and their family's (None: not
            given; ``""``: none); see :func:`crossalign.models.prompts.apply_prompts`.
        reproduce: The command line that produced the evaluation (shown in the report).
        holdout_langs: The held-out panel (:mod:`crossalign.evaluation.holdout`): languages not in ``langs``
            evaluated on x→en and en→en retrieval and x↔en paragraph bitext, task names ``holdout/...``. None or
            ``"none"``: no panel; ``"default"``: :data:`~crossalign.evaluation.holdout.DEFAULT_HOLDOUT_LANGS`
            without ``langs``. Stored as the resolved list (empty without LibreOffice languages or suites).
        holdout_size: Sections, gold paragraph pairs and distractors per side per panel language.

    Raises:
        ConfigError: The first bad field, named, with the accepted values.
        UnknownLanguageError: A language that is not a LibreOffice help language.
    """

    suites: str | Sequence[str] = "all"
    langs: str | Sequence[str] | None = None
    data: Any = None
    output_dir: str | os.PathLike[str] | None = None
    labels: Sequence[str] | None = None
    batch_size: int = 32
    long_text: str = "truncate"
    precision: str = "auto"
    backend: str = "auto"
    max_sections: int = 500
    max_bitext_pairs: int = 500
    bitext_distractors: int = 500
    non_english_pairs: Any = "auto"
    seed: int = 13
    metrics: str | Sequence[str] = DEFAULT_RETRIEVAL_METRICS
    use_faiss: bool = False
    cache_dir: str | os.PathLike[str] | None = None
    persist_embeddings: bool = True
    device: str | None = None
    write_trec: bool = True
    trec_depth: int | None = None
    write_mteb: bool = True
    write_sets: bool = False
    overwrite: bool = False
    query_prompt: str | None = None
    passage_prompt: str | None = None
    reproduce: str | None = None
    holdout_langs: str | Sequence[str] | None = None
    holdout_size: int = 200
    #: Whether ``sts`` was named (not only implied by ``all``): then missing STS data is an error (None: from
    #: ``suites`` as given).
    sts_named: bool | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        from crossalign.data.libreoffice.langs import lo_lang_list
        from crossalign.evaluation.metrics import parse_metrics
        from crossalign.evaluation.suites import UserData, libreoffice_suites, parse_suites
        from crossalign.models.backends import check_backend
        from crossalign.training.config import check_number

        if self.sts_named is None:
            items = self.suites.split(",") if isinstance(self.suites, str) else list(self.suites)
            self.sts_named = any(str(s).strip().lower() == "sts" for s in items)
        self.suites = parse_suites(self.suites)
        data = self.data
        self.data = [] if data is None else [data] if isinstance(data, str | os.PathLike | UserData) else list(data)
        if self.langs is None:
            self.langs = [] if self.data else list(DEFAULT_EVAL_LANGS)
        elif isinstance(self.langs, str) or self.langs:
            self.langs = lo_lang_list(self.langs)
        else:
            self.langs = []
        self.metrics = [s.key for s in parse_metrics(self.metrics, kind="retrieval")]
        if self.labels is not None:
            self.labels = [str(x) for x in self.labels]
        for name in ("batch_size", "max_sections", "max_bitext_pairs", "holdout_size"):
            check_number(name, getattr(self, name), integer=True, at_least=1)
        check_number("bitext_distractors", self.bitext_distractors, integer=True, at_least=0)
        check_number("seed", self.seed, integer=True, at_least=0, below=2**32)
        if self.trec_depth is not None:
            check_number("trec_depth", self.trec_depth, integer=True, at_least=1, note="or None: 100")
        if self.long_text not in ("truncate", "window"):
            raise ConfigError(f"long_text must be 'truncate' or 'window', got {self.long_text!r}")
        check_backend(self.backend, self.precision)
        self.non_english_pairs = _check_non_english_pairs(self.non_english_pairs, self.langs)
        panel = self.holdout_langs
        if panel is not None and (isinstance(panel, str) or panel) and self.langs and libreoffice_suites(self.suites):
            from crossalign.evaluation.holdout import resolve_holdout_langs

            self.holdout_langs = resolve_holdout_langs(self.holdout_langs, self.langs)
        else:
            self.holdout_langs = []

    @classmethod
    def from_options(cls, config: EvaluateConfig | None = None, **options: Any) -> EvaluateConfig:
        """``config`` with ``options`` replaced, or a new config from ``options``; an unknown name is a
        :class:`ConfigError` with the closest field."""
        import dataclasses
        import difflib

        names = [f.name for f in dataclasses.fields(cls) if f.init]
        for key in options:
            if key not in names:
                close = difflib.get_close_matches(key, names, n=1)
                raise ConfigError(
                    f"unknown evaluation option {key!r}", hint=f"did you mean {close[0]!r}?" if close else None
                )
        if config is None:
            return cls(**options)
        return dataclasses.replace(config, **options) if options else config

    def set_sizes(self) -> dict[str, int]:
        """The LibreOffice sets' sizes and sampling seed (:class:`~crossalign.data.eval_sets.EvalSetsConfig` fields)."""
        names = ("max_sections", "max_bitext_pairs", "bitext_distractors", "seed")
        return {name: getattr(self, name) for name in names}

    def record(self) -> dict[str, Any]:
        """The settings recorded in every result's ``config`` (``suites`` and ``holdout`` set by the plan)."""
        return {
            "langs": list(self.langs),
            "metrics": list(self.metrics),
            "batch_size": self.batch_size,
            "long_text": self.long_text,
            **self.set_sizes(),
            "search": "faiss IndexFlatIP" if self.use_faiss else "exact (chunked inner product, trec_eval tie rule)",
        }


def _check_non_english_pairs(value: Any, langs: Sequence[str]) -> Any:
    """``value`` parsed, with the pairs' tags made canonical, and checked against ``langs`` (errors name the pair)."""
    from crossalign.data.eval_sets import PIVOT, parse_non_english_pairs, resolve_non_english_pairs
    from crossalign.data.libreoffice.langs import lo_lang

    spec = parse_non_english_pairs(value)
    if isinstance(spec, tuple):
        spec = tuple((lo_lang(s, field="non_english_pairs"), lo_lang(t, field="non_english_pairs")) for s, t in spec)
        if spec and not langs:
            raise ConfigError(
                "non_english_pairs names LibreOffice bitext pairs, and no LibreOffice language is evaluated",
                hint="add the languages (langs / --langs), or drop the pairs",
            )
    resolve_non_english_pairs(spec, [x for x in langs if x != PIVOT])
    return spec


@dataclass
class EvaluationPlan:
    """What one evaluation runs, built once and shared by every model.

    Attributes:
        suites: Suites that run (after expanding ``all``).
        skipped: Suite -> why it does not run.
        langs: LibreOffice languages (non-English; ``en`` is the pivot).
        evaluators: The evaluators, in run order.
        sets: The LibreOffice :class:`~crossalign.data.eval_sets.EvalSets` (None without languages).
        user_data: The ``--data`` datasets.
        config: The configuration recorded in every result.
        data: The data description recorded in every result.
        build_seconds: Time spent building the sets and reading user data.
        languages: Every language evaluated (``en`` first, then ``langs``, the panel, the user data's).
        options: The :class:`EvaluateConfig` the plan was built from (encoding and output options of each model).
    """

    suites: list[str]
    skipped: dict[str, str]
    langs: list[str]
    evaluators: list[CrossalignEvaluator]
    sets: Any
    user_data: list[Any]
    config: dict[str, Any]
    data: dict[str, Any]
    build_seconds: float = 0.0
    languages: list[str] = field(default_factory=list)
    options: EvaluateConfig = field(default_factory=lambda: EvaluateConfig(langs=[], holdout_langs=[]))


def _as_list(models: ModelLike | Sequence[ModelLike]) -> list[ModelLike]:
    if isinstance(models, str | os.PathLike) or hasattr(models, "state_dict") or hasattr(models, "encode"):
        return [models]
    out = list(models)
    if not out:
        raise ConfigError("no model given", hint="pass a model spec such as e5-small-q4")
    return out


def _data_summary(sets: Any, user_data: Sequence[Any]) -> dict[str, Any]:
    parts = []
    details: dict[str, Any] = {}
    short = ""
    if sets is not None:
        prov = sets.provenance
        packages = prov.get("corpus", {}).get("packages", {})
        versions = sorted({str(p.get("version")) for p in packages.values() if p.get("version")})
        spec = prov.get("split_spec", {})
        parts.append(f"libreoffice-help {'/'.join(versions) or '?'} ({', '.join(packages) or '?'})")
        details["libreoffice"] = {**prov, "sets": sets.counts()}
        short = (
            f"test pages of split seed {spec.get('seed')} ({spec.get('train')}/{spec.get('dev')}/{spec.get('test')}),"
            f" sampling seed {prov.get('seed')}, caps sections={prov['caps']['max_sections']} "
            f"bitext={prov['caps']['max_bitext_pairs']}+{prov['caps']['bitext_distractors']}"
        )
    if user_data:
        parts += [f"{'benchmark' if u.kind == 'benchmark' else 'user data'} {u.path}" for u in user_data]
        details["user_data"] = [u.describe() for u in user_data]
    return {
        "source": "; ".join(parts),
        "provenance": short or "user data as given",
        "split": "test" if sets is not None else "as given",
        "details": details,
    }


def prepare_evaluation(config: EvaluateConfig | None = None, *, corpus: Any = None, **options: Any) -> EvaluationPlan:
    """Build the evaluation sets, read user data and create the evaluators (no model involved).

    Args:
        config: The settings (:class:`EvaluateConfig`); keyword ``options`` build one or replace its fields.
        corpus: An opened LibreOfficeCorpus to reuse (tests, notebooks).

    Raises:
        ConfigError: Unknown suite, ``sts`` asked for without STS data, or nothing to evaluate.
        UnknownLanguageError, CorpusError, DataFormatError: From the languages, the corpus and the user data.
    """
    from crossalign.data.eval_sets import build_libreoffice_eval_sets
    from crossalign.evaluation.suites import UserData, build_evaluators, libreoffice_suites, load_user_data

    cfg = EvaluateConfig.from_options(config, **options)
    t0 = time.perf_counter()
    run_suites = list(cfg.suites)
    user_data = [u if isinstance(u, UserData) else load_user_data(u) for u in cfg.data]
    lang_list = list(cfg.langs)
    skipped: dict[str, str] = {}
    if "sts" in run_suites and not any(u.kind == "sts" for u in user_data):
        if cfg.sts_named:
            raise ConfigError(
                "the sts suite needs STS data (there is no built-in STS set)",
                hint='pass --data FILE.jsonl with one {"text1", "text2", "score", "lang1", "lang2"} object per line',
            )
        skipped["sts"] = "no STS data given (--data FILE.jsonl)"
        run_suites.remove("sts")
    lo_suites = libreoffice_suites(run_suites)
    holdout_list = list(cfg.holdout_langs) if lang_list and lo_suites else []
    sets = None
    if lang_list and lo_suites:
        sets = build_libreoffice_eval_sets(
            lang_list, suites=lo_suites, non_english_pairs=cfg.non_english_pairs, corpus=corpus,
            cache_dir=cfg.cache_dir, **cfg.set_sizes(),
        )  # fmt: skip
    if holdout_list and sets is not None:
        from crossalign.evaluation.holdout import build_holdout_sets

        panel = build_holdout_sets(
            holdout_list, size=cfg.holdout_size, seed=cfg.seed, corpus=corpus, cache_dir=cfg.cache_dir
        )
        sets.sets.extend(panel.sets)
        sets.provenance["holdout"] = {**panel.provenance["holdout"], "per_language": panel.provenance["per_language"]}
        run_suites = [s for s in SUITE_ORDER if s in run_suites or s in ("retrieval", "bitext")]
    evaluators = build_evaluators(
        run_suites,
        sets=sets,
        user_data=user_data,
        metrics=cfg.metrics,
        use_faiss=cfg.use_faiss,
        batch_size=cfg.batch_size,
        long_text=cfg.long_text,
    )
    ran = {e.suite for e in evaluators}
    for s in run_suites:
        if s not in ran and s not in skipped:
            skipped[s] = "no data for this suite"
    languages: list[str] = ["en", *[x for x in lang_list if x != "en"], *holdout_list] if lang_list else []
    for u in user_data:
        languages += [x for x in u.languages if x not in languages]
    config_record = {
        "suites": [s for s in run_suites if s in ran],
        "suites_skipped": skipped,
        **cfg.record(),
        "similarity": "cosine (L2-normalised embeddings)",
        "prompts": {"retrieval queries": "query", "documents": "passage", "bitext": "query", "sts": "query"},
        "mixed_pool_ks": [1, 10, 100],
        "bitext_margin": {"kind": "ratio", "k": 4, "mining": "max"},
        "bitext_pairs": [list(p) for p in sets.config.bitext_pairs()]
        if sets is not None and "bitext" in sets.config.suites
        else [],
        "data_paths": [str(u.path) for u in user_data],
        "holdout": {"langs": holdout_list, "size": cfg.holdout_size} if holdout_list else {},
    }
    return EvaluationPlan(
        suites=config_record["suites"],
        skipped=skipped,
        langs=lang_list,
        evaluators=evaluators,
        sets=sets,
        user_data=user_data,
        config=config_record,
        data=_data_summary(sets, user_data),
        build_seconds=time.perf_counter() - t0,
        languages=languages,
        options=cfg,
    )


#: Folder names that say nothing about the model (a training run's ``model/``, a checkpoint): the label is taken
#: from the folder above (``runs/clear-de/model`` -> ``clear-de``).
_GENERIC_DIRS = re.compile(r"^(model|models|final|final_model|best|best_model|output|checkpoint-\d+)$", re.IGNORECASE)


def model_label(spec: ModelLike) -> str:
    """The label of a model in tables, plots, TREC tags, MTEB folders and output folders.

    A directory trained by ``crossalign train`` carries its run's label (``crossalign_training.json`` ``label``);
    otherwise a directory is named by its folder, or by the folder above when that name is generic
    (``runs/clear-de/model`` -> ``clear-de``, ``runs/x/checkpoints/checkpoint-40`` -> ``x-checkpoint-40``). A built-in
    name or Hugging Face id is its own label; a loaded model is named by its model card (else ``model``).
    """
    if isinstance(spec, str | os.PathLike):
        text = os.fspath(spec).rstrip("/\\")
        path = Path(text).expanduser()
        if not path.is_dir():
            return text
        recorded = _trained_label(path)
        if recorded:
            return recorded
        path = path.resolve()
        name = path.name
        if _GENERIC_DIRS.match(name) and path.parent.name:
            parent = path.parent
            if parent.name == "checkpoints" and parent.parent.name:
                return f"{parent.parent.name}-{name}"
            return parent.name
        return name or text
    card = getattr(spec, "model_card_data", None)
    name = getattr(card, "model_name", None) or getattr(card, "base_model", None)
    return str(name) if name else "model"


def _trained_label(path: Path) -> str | None:
    import json

    from crossalign.training.card import TRAINING_INFO_FILE

    info = path / TRAINING_INFO_FILE
    if not info.is_file():
        return None
    try:
        label = json.loads(info.read_text(encoding="utf-8")).get("label")
    except (ValueError, OSError, AttributeError):
        return None
    return label.strip() if isinstance(label, str) and label.strip() else None


def _encode_all(cache: EmbeddingCache, evaluators: Sequence[CrossalignEvaluator], log: Log) -> dict[str, Any]:
    """Encode every requested text once, one length-sorted pass per distinct prompt text."""
    by_prompt: dict[str, tuple[str | None, dict[str, None]]] = {}
    for ev in evaluators:
        for req in ev.requests():
            key = cache.prompt_text(req.prompt_name)
            entry = by_prompt.setdefault(key, (req.prompt_name, {}))
            entry[1].update(dict.fromkeys(req.texts))
    summary = {}
    for prompt_text, (prompt_name, texts) in by_prompt.items():
        before = cache.stats.encoded
        t0 = time.perf_counter()
        log(f"encode: {len(texts)} distinct texts with prompt {prompt_name!r} ({prompt_text!r})")
        cache.encode(list(texts), prompt_name)
        summary[prompt_name or ""] = {
            "distinct_texts": len(texts),
            "encoded": cache.stats.encoded - before,
            "seconds": round(time.perf_counter() - t0, 3),
        }
    return summary


def evaluate_model(
    model: ModelLike,
    plan: EvaluationPlan,
    *,
    output_dir: str | os.PathLike[str] | None = None,
    label: str | None = None,
    log: Log | None = None,
) -> tuple[EvaluationResult, list[EvaluatorOutput]]:
    """Evaluate one model on a prepared plan and write its files (encoding and output options: ``plan.options``).

    Args:
        model: A model spec (built-in name, directory, HF id) or a loaded SentenceTransformer.
        plan: From :func:`prepare_evaluation`.
        output_dir: Where to write (None: write nothing).
        label: Short name of the model in tables and file names (default :func:`model_label`).
        log: Receives one line per stage (default: stderr when progress is on).

    The prompt choice is printed and recorded in ``model.prompt_choice``; a loaded model gets its own prompts back
    afterwards. Returns ``(result, outputs)``: the :class:`EvaluationResult` and the evaluator outputs (with runs).
    """
    from crossalign.models import load_model, model_fingerprint, resolve_model
    from crossalign.models.prompts import apply_prompts

    cfg = plan.options
    say = stage_logger(None, log)
    timing: dict[str, float] = {"build_sets": round(plan.build_seconds, 3)}
    t_start = time.perf_counter()
    spec = path = None
    if isinstance(model, str | os.PathLike):
        spec = os.fspath(model)
        path = resolve_model(spec, cache_dir=cfg.cache_dir)
        say(f"load model {spec}")
        st_model = load_model(spec, device=cfg.device, cache_dir=cfg.cache_dir)
    else:
        st_model = model
    timing["load_model"] = time.perf_counter() - t_start
    label = label or model_label(model)
    t0 = time.perf_counter()
    fingerprint = model_fingerprint(st_model) if hasattr(st_model, "state_dict") else None
    timing["fingerprint"] = time.perf_counter() - t0
    original_prompts = getattr(st_model, "prompts", None)
    choice = apply_prompts(
        st_model,
        spec,
        query=cfg.query_prompt,
        passage=cfg.passage_prompt,
        log=say if log is not None or progress_enabled() else None,  # always shown
    )
    try:
        cache = EmbeddingCache(
            st_model,
            fingerprint=fingerprint,
            batch_size=cfg.batch_size,
            long_text=cfg.long_text,
            persist=cfg.persist_embeddings and fingerprint is not None,
            cache_dir=cfg.cache_dir,
            precision=cfg.precision,
            backend=cfg.backend,
        )
        t0 = time.perf_counter()
        encode_summary = _encode_all(cache, plan.evaluators, say)
        timing["encode"] = time.perf_counter() - t0
        outputs: list[EvaluatorOutput] = []
        for suite in plan.suites:
            evs = [e for e in plan.evaluators if e.suite == suite]
            if not evs:
                continue
            t0 = time.perf_counter()
            say(f"{suite}: {len(evs)} set{'s' if len(evs) != 1 else ''}")
            for ev in progress(evs, desc=suite, show=None if len(evs) > 1 else False):
                outputs.extend(ev.evaluate_detailed(cache))
            timing[suite] = time.perf_counter() - t0
    finally:
        if spec is None:  # the caller's model: give it its own prompts back
            st_model.prompts = original_prompts
    model_info = {
        "spec": spec,
        "path": path,
        "fingerprint": cache.fingerprint if fingerprint is not None else None,
        "fingerprint_scheme": "crossalign.models.model_fingerprint of the loaded model (weights, config, tokenizer)",
        "label": label,
        "max_seq_length": cache.max_seq_length,
        "prompts": dict(getattr(st_model, "prompts", {}) or {}),
        "prompt_choice": choice.to_dict(),
        "embedding_dim": cache.dim,
    }
    config = {
        **plan.config,
        "batch_size": cfg.batch_size,
        "long_text": cfg.long_text,
        "embedding_cache": cache.describe(),
        "encode": encode_summary,
        "encoding_path": {"backend": cache.backend, "precision": cache.precision},
    }
    tasks: list[TaskScore] = [o.score for o in outputs]
    result = EvaluationResult(
        model=model_info, data=plan.data, config=config, tasks=tasks, languages=list(plan.languages)
    )
    if output_dir is not None:
        t0 = time.perf_counter()
        out = Path(output_dir)
        out.mkdir(parents=True, exist_ok=True)
        if cfg.write_trec:
            writers.write_trec_runs(outputs, out, tag=label, depth=cfg.trec_depth)
        if cfg.write_mteb:
            writers.write_mteb_results(result, out)
        timing["write"] = time.perf_counter() - t0
    timing["total"] = time.perf_counter() - t_start + plan.build_seconds
    result.timing = {k: round(v, 3) for k, v in timing.items()}
    if output_dir is not None:
        writers.write_results_json(result, output_dir)  # last, with the final timing
    return result, outputs


def evaluate(
    models: ModelLike | Sequence[ModelLike],
    config: EvaluateConfig | None = None,
    *,
    base_model: ModelLike | None = None,
    corpus: Any = None,
    show_progress: bool | None = None,
    log: Log | None = None,
    **options: Any,
) -> list[EvaluationResult]:
    """Evaluate one or more models on the chosen suites and write everything; one :class:`EvaluationResult` each.

    The evaluation sets are built once; each model's texts are encoded once (through the embedding cache) whatever
    the number of suites and directions.

    Args:
        models: A model spec / loaded model, or a list of them.
        config: The settings (:class:`EvaluateConfig`); keyword ``options`` (its field names: ``suites``,
            ``langs``, ``output_dir``, ...) build one or replace its fields.
        base_model: The model the others were trained from: evaluated first (label ``base``), and every other
            model's held-out panel is compared with it (per-language deltas with bootstrap CIs and the regression
            verdict in each result's ``holdout``, ``holdout.json`` and the report).
        corpus: An opened LibreOfficeCorpus to reuse.
        show_progress: Progress bars and stage lines (default: on unless ``CROSSALIGN_NO_PROGRESS``).
        log: Receives one line per stage.

    Returns:
        One result per model, in order (the base model's first when ``base_model`` is given).

    Raises:
        ConfigError, ModelError, DataFormatError, UnknownLanguageError, CorpusError: Bad options, models or data,
            or a non-empty ``output_dir`` without ``overwrite`` (raised before any work and before anything is
            deleted).

    Example:
        >>> results = evaluate(["e5-small-q4", "runs/clear-de"], langs="de", output_dir="eval/")  # doctest: +SKIP
    """
    with progress_scope(show_progress):
        return _evaluate(_as_list(models), EvaluateConfig.from_options(config, **options), base_model, corpus, log)


def _evaluate(
    model_list: list[ModelLike], cfg: EvaluateConfig, base_model: ModelLike | None, corpus: Any, log: Log | None
) -> list[EvaluationResult]:
    from crossalign.models.loading import check_device
    from crossalign.utils.atomic import check_output_location

    output_dir, labels = cfg.output_dir, cfg.labels
    check_device(cfg.device)  # before the sets are built and anything is encoded
    if output_dir is not None:
        check_output_location(output_dir, what="output directory")
    if base_model is not None:
        if labels is not None and len(labels) != len(model_list):
            raise ConfigError(f"{len(labels)} labels for {len(model_list)} models")
        names_in = list(labels) if labels is not None else [model_label(m) for m in model_list]
        model_list = [base_model, *model_list]
        labels = ["base", *names_in]
    names, folders, stale = check_output(output_dir, model_list, labels, overwrite=cfg.overwrite)
    check_model_specs(model_list, cfg.cache_dir)  # a bad path fails now, not after the sets are built
    say = stage_logger(None, log)
    say("building evaluation sets")
    plan = prepare_evaluation(cfg, corpus=corpus)
    say(f"{len(plan.evaluators)} evaluation sets, suites: {', '.join(plan.suites)} ({plan.build_seconds:.1f} s)")
    for path in stale:  # the inputs are valid: only now is the previous evaluation removed
        say(f"--overwrite: removing {path}")
        shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
    if output_dir is not None:  # first, so that --overwrite can clean up after a run that did not finish
        _write_manifest(Path(output_dir), names, folders, cfg.reproduce, complete=False)
        if cfg.write_sets and plan.sets is not None:
            plan.sets.write(Path(output_dir) / EVAL_SETS_DIR)
    results = []
    for m, name, folder in zip(model_list, names, folders):
        out = None if output_dir is None else Path(output_dir) / folder
        result, _ = evaluate_model(m, plan, output_dir=out, label=name, log=say)
        results.append(result)
        if out is not None:
            write_report([result], out, title=f"crossalign evaluation: {name}", reproduce=cfg.reproduce)
    sections: list[str] = []
    if base_model is not None and len(results) > 1:
        sections = _holdout_against_base(results, folders, output_dir, say)
    if output_dir is not None:
        title = "crossalign evaluation: " + " vs ".join(names)
        write_report(results, output_dir, title=title, reproduce=cfg.reproduce, sections=sections)
        _write_manifest(Path(output_dir), names, folders, cfg.reproduce, complete=True)
    return results


def _holdout_against_base(
    results: list[EvaluationResult],
    folders: list[str],
    output_dir: str | os.PathLike[str] | None,
    say: Log,
) -> list[str]:
    """Compare every model's held-out panel with the base model's (results[0]); store it in each result (and its
    results.json), write ``holdout.json`` and the plot; returns the report section."""
    from crossalign.evaluation.holdout import holdout_comparison, holdout_langs_of
    from crossalign.reports.holdout import format_holdout, plot_holdout
    from crossalign.utils.atomic import atomic_write_json

    if not holdout_langs_of(results[0]):
        say("no held-out panel was evaluated (--holdout-langs none or no LibreOffice languages): no verdict")
        return []
    comparison = holdout_comparison(results[0], {r.label: r for r in results[1:]})
    trained = list(results[0].config.get("langs", []))
    for r in results[1:]:
        r.holdout = {
            **{k: v for k, v in comparison.items() if k not in ("models", "mean", "verdicts")},
            "base": results[0].model.get("spec") or results[0].label,
            "by_lang": comparison["models"][r.label],
            "mean": comparison["mean"][r.label],
            "verdict": comparison["verdicts"][r.label],
        }
    for v_label, v in comparison["verdicts"].items():
        say(f"{v_label}: {v['claim']}: {'yes' if v['holds'] else 'NO'} ({v['detail']})")
    if output_dir is None:
        return []
    out = Path(output_dir)
    atomic_write_json(out / "holdout.json", comparison)
    for r, folder in zip(results[1:], folders[1:]):
        writers.write_results_json(r, out / folder)
    lines = ["## Held-out languages", "", format_holdout(comparison, markdown=True, trained=trained), ""]
    try:
        png = plot_holdout(comparison, out / "plots" / "holdout.png")
        lines += [f"![held-out panel]({png.relative_to(out).as_posix()})", ""]
    except Exception as exc:  # matplotlib missing: the table says it all
        lines += [f"_No plot: {exc}_", ""]
    return ["\n".join(lines)]


#: Written last into an ``evaluate`` output directory: what this evaluation wrote there. ``overwrite`` removes
#: exactly these entries and nothing else.
MANIFEST_FILE = "evaluation.json"
#: Where ``write_sets`` puts the evaluation sets.
EVAL_SETS_DIR = "eval_sets"
#: Top-level entries an evaluation writes besides one folder per model.
_TOP_LEVEL = ("report.md", "plots", "holdout.json", EVAL_SETS_DIR, MANIFEST_FILE)


def check_output(
    output_dir: str | os.PathLike[str] | None,
    models: Sequence[ModelLike],
    labels: Sequence[str] | None,
    *,
    overwrite: bool,
) -> tuple[list[str], list[str], list[Path]]:
    """Check the labels and the output directory before any work; reads only, deletes nothing.

    Returns:
        ``(labels, folders, stale)``: each model's label and output folder name, and the entries of a previous
        evaluation that ``overwrite`` will remove.

    Raises:
        ConfigError: Wrong number of labels, two labels with one folder name, or a non-empty ``output_dir``
            without ``overwrite`` (or one holding, where this evaluation writes, something no evaluation wrote).
    """
    model_list = list(models)
    if labels is not None and len(labels) != len(model_list):
        raise ConfigError(
            f"{len(labels)} labels for {len(model_list)} models",
            hint="give one --label per --model, in the same order (or none)",
        )
    names = unique_labels(list(labels) if labels is not None else [model_label(m) for m in model_list])
    bad = [n for n in names if not n.strip()]
    if bad:
        raise ConfigError("a model label is empty", hint="give every model a non-empty --label")
    folders = [_safe(n) for n in names]
    if len(set(folders)) != len(folders):
        raise ConfigError(
            f"labels {', '.join(names)} give the same output folder name twice ({', '.join(folders)})",
            hint="give the models labels that differ in letters, digits or _.+-",
        )
    stale: list[Path] = []
    if output_dir is not None:
        stale = _check_output_dir(Path(output_dir), folders, overwrite=overwrite)
    return names, folders, stale


def check_model_specs(model_list: Sequence[ModelLike], cache_dir: str | os.PathLike[str] | None) -> None:
    """Resolve every model spec (cheap: a path check, or preparing a built-in once) before any work is done."""
    from crossalign.models import resolve_model

    for m in model_list:
        if isinstance(m, str | os.PathLike):
            resolve_model(os.fspath(m), cache_dir=cache_dir)


def _previous_entries(out: Path) -> set[str]:
    """Top-level names a previous evaluation recorded in its manifest (empty when there is none or it is unreadable)."""
    import json

    try:
        data = json.loads((out / MANIFEST_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return set()
    written = data.get("written") if isinstance(data, dict) else None
    if not isinstance(written, list):
        return set()
    names = {w for w in written if isinstance(w, str) and w and "/" not in w and "\\" not in w and w not in (".", "..")}
    return names | {MANIFEST_FILE}


def _check_output_dir(out: Path, folders: Sequence[str], *, overwrite: bool) -> list[Path]:
    """Refuse an output directory that holds anything unless ``overwrite``; return what overwriting will remove.

    Only entries a previous evaluation recorded in :data:`MANIFEST_FILE` are removed; anything else stays, and an
    entry of another origin that this evaluation would write over (a model folder, ``report.md``) is an error.
    """
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--output {out} is a file", hint="pass a directory (it is created if missing)")
    if not out.is_dir():
        return []
    existing = sorted(p.name for p in out.iterdir())
    if not existing:
        return []
    if not overwrite:
        shown = ", ".join(existing[:5]) + (f" and {len(existing) - 5} more" if len(existing) > 5 else "")
        raise ConfigError(
            f"--output {out} is not empty ({shown}); an evaluation never mixes its files with another run's",
            hint="choose a new --output directory, or pass --overwrite to replace the evaluation written there "
            "(only what a previous crossalign evaluate wrote is removed)",
        )
    previous = _previous_entries(out)
    ours = set(folders) | set(_TOP_LEVEL)
    foreign = [name for name in existing if name in ours and name not in previous]
    if foreign:
        raise ConfigError(
            f"--output {out}: {', '.join(foreign)} was not written by crossalign evaluate "
            f"(not listed in {MANIFEST_FILE}), and this evaluation would write there",
            hint="move it away, or choose a new --output directory",
        )
    return [out / name for name in existing if name in previous]


def _write_manifest(
    out: Path, names: Sequence[str], folders: Sequence[str], reproduce: str | None, *, complete: bool
) -> None:
    """Record the evaluation in :data:`MANIFEST_FILE`: before writing (everything it may write, ``complete``
    false) and after (what it wrote, ``complete`` true)."""
    from crossalign import __version__
    from crossalign.utils.atomic import atomic_write_json

    top = [n for n in _TOP_LEVEL if n != MANIFEST_FILE and (not complete or (out / n).exists())]
    atomic_write_json(
        out / MANIFEST_FILE,
        {
            "tool": "crossalign evaluate",
            "crossalign_version": __version__,
            "models": [{"label": n, "folder": f, "results": f"{f}/results.json"} for n, f in zip(names, folders)],
            "written": [*folders, *top, MANIFEST_FILE],
            "complete": complete,
            "command": reproduce,
        },
    )


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.+-]+", "-", name).strip("-.") or "model"
