"""The ``evaluate`` workflow: models × suites × languages → results.json, MTEB JSON, TREC runs, summary.

Stages (seconds of each in ``EvaluationResult.timing``):

1. ``build_sets`` — the LibreOffice evaluation sets for ``langs`` (once, shared by all models) and the user data;
2. per model: ``load_model`` (a spec is resolved and loaded; a loaded model is used as is) and ``fingerprint``;
3. ``encode`` — every text any evaluator needs, grouped by prompt and encoded in one length-sorted pass per prompt
   through an :class:`~crossalign.evaluation.embeddings.EmbeddingCache` (persisted by default, so evaluating the same
   model again skips the model entirely);
4. one stage per suite (``retrieval``, ``mixed-pool``, ``inclination``, ``bitext``, ``sts``): exact search and
   scoring; the vectors come from the cache;
5. ``write`` — MTEB files and TREC runs (``results.json`` and ``report.md`` come last, in well under a second).

``total`` is the model's stages plus the shared ``build_sets``.

Example:
    >>> from crossalign.workflows.evaluate import evaluate
    >>> [result] = evaluate("e5-small-q4", suites="all", langs="de,zh-CN", output_dir="out/")  # doctest: +SKIP
    >>> result.find("retrieval", query_lang="de", doc_lang="en")[0].scores["ndcg@10"]  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crossalign.errors import ConfigError
from crossalign.evaluation.embeddings import EmbeddingCache
from crossalign.evaluation.evaluators import DEFAULT_RETRIEVAL_METRICS, CrossalignEvaluator, EvaluatorOutput
from crossalign.evaluation.results import EvaluationResult, TaskScore
from crossalign.utils.progress import progress, stage_logger

logger = logging.getLogger(__name__)

__all__ = ["DEFAULT_EVAL_LANGS", "EvaluationPlan", "evaluate", "evaluate_model", "prepare_evaluation"]

#: Languages evaluated when neither ``langs`` nor ``data`` is given: a high-resource Latin-script language, Chinese,
#: and two low-resource scripts (Devanagari, Khmer).
DEFAULT_EVAL_LANGS: tuple[str, ...] = ("de", "zh-CN", "hi", "km")

ModelLike = Any
Log = Callable[[str], None]


@dataclass
class EvaluationPlan:
    """What one evaluation runs, built once and shared by every model.

    Attributes:
        suites: Suites that run (after expanding ``all``).
        skipped: Suite -> why it does not run.
        langs: LibreOffice languages (non-English; ``en`` is the pivot).
        evaluators: The evaluators, in run order.
        sets: The LibreOffice :class:`~crossalign.data.builders.eval_sets.EvalSets` (None without languages).
        user_data: The ``--data`` datasets.
        config: The configuration recorded in every result.
        data: The data description recorded in every result.
        build_seconds: Time spent building the sets and reading user data.
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


def _as_list(models: ModelLike | Sequence[ModelLike]) -> list[ModelLike]:
    if isinstance(models, str | os.PathLike) or hasattr(models, "state_dict") or hasattr(models, "encode"):
        return [models]
    out = list(models)
    if not out:
        raise ConfigError("no model given", hint="pass a model spec such as e5-small-q4")
    return out


def _sts_explicit(suites: str | Iterable[str]) -> bool:
    items = suites.split(",") if isinstance(suites, str) else list(suites)
    return any(str(s).strip().lower() == "sts" for s in items)


def _data_summary(sets: Any, user_data: Sequence[Any]) -> dict[str, Any]:
    parts = []
    details: dict[str, Any] = {}
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
    else:
        short = ""
    if user_data:
        parts += [f"{'benchmark' if u.kind == 'benchmark' else 'user data'} {u.path}" for u in user_data]
        details["user_data"] = [u.describe() for u in user_data]
    return {
        "source": "; ".join(parts),
        "provenance": short or "user data as given",
        "split": "test" if sets is not None else "as given",
        "details": details,
    }


def prepare_evaluation(
    *,
    suites: str | Iterable[str] = "all",
    langs: str | Iterable[str] | None = None,
    data: str | os.PathLike[str] | Any | Sequence[Any] | None = None,
    max_sections: int = 500,
    max_bitext_pairs: int = 500,
    bitext_distractors: int = 500,
    seed: int = 13,
    metrics: Sequence[str] = DEFAULT_RETRIEVAL_METRICS,
    use_faiss: bool = False,
    batch_size: int = 32,
    long_text: str = "truncate",
    cache_dir: str | os.PathLike[str] | None = None,
    corpus: Any = None,
    show_progress: bool | None = None,
) -> EvaluationPlan:
    """Build the evaluation sets, read user data and create the evaluators (no model involved).

    Args:
        suites: ``"retrieval"``, ``"mixed-pool"``, ``"bitext"``, ``"sts"``, ``"all"`` (comma-separated or a list).
        langs: LibreOffice languages (default :data:`DEFAULT_EVAL_LANGS` when no ``data`` is given, none otherwise).
        data: ``--data`` paths (retrieval-set directories or BEIR folders, STS ``.jsonl`` files) and/or
            :class:`~crossalign.evaluation.suites.UserData` already read (e.g. by
            :func:`~crossalign.evaluation.suites.load_user_data` with default languages and a split).
        max_sections, max_bitext_pairs, bitext_distractors, seed: Sizes and sampling seed of the LibreOffice sets.
        metrics: Retrieval metrics (the first is the main score).
        use_faiss: Search retrieval pools with faiss.
        batch_size, long_text: Encoding options.
        cache_dir: crossalign cache root (corpora).
        corpus: An opened LibreOfficeCorpus to reuse (tests, notebooks).
        show_progress: Progress bars.

    Returns:
        The :class:`EvaluationPlan`.

    Raises:
        ConfigError: Unknown suite, ``sts`` asked for without STS data, or nothing to evaluate.
        UnknownLanguageError, CorpusError, DataFormatError: From the languages, the corpus and the user data.
    """
    from crossalign.data.builders.eval_sets import build_libreoffice_eval_sets
    from crossalign.evaluation.suites import (
        UserData,
        build_evaluators,
        libreoffice_suites,
        load_user_data,
        parse_suites,
    )

    t0 = time.perf_counter()
    run_suites = parse_suites(suites)
    items = [] if data is None else [data] if isinstance(data, str | os.PathLike | UserData) else list(data)
    user_data = [u if isinstance(u, UserData) else load_user_data(u) for u in items]
    if langs is None:
        lang_list = [] if user_data else list(DEFAULT_EVAL_LANGS)
    else:
        from crossalign.data.libreoffice.langs import lo_lang_list

        lang_list = lo_lang_list(langs)
    skipped: dict[str, str] = {}
    have_sts = any(u.kind == "sts" for u in user_data)
    if "sts" in run_suites and not have_sts:
        if _sts_explicit(suites):
            raise ConfigError(
                "the sts suite needs STS data (there is no built-in STS set)",
                hint='pass --data FILE.jsonl with one {"text1", "text2", "score", "lang1", "lang2"} object per line',
            )
        skipped["sts"] = "no STS data given (--data FILE.jsonl)"
        run_suites = [s for s in run_suites if s != "sts"]
    lo_suites = libreoffice_suites(run_suites)
    sets = None
    if lang_list and lo_suites:
        sets = build_libreoffice_eval_sets(
            lang_list,
            suites=lo_suites,
            max_sections=max_sections,
            max_bitext_pairs=max_bitext_pairs,
            bitext_distractors=bitext_distractors,
            seed=seed,
            corpus=corpus,
            cache_dir=cache_dir,
            show_progress=show_progress,
        )
    evaluators = build_evaluators(
        run_suites,
        sets=sets,
        user_data=user_data,
        metrics=metrics,
        use_faiss=use_faiss,
        batch_size=batch_size,
        long_text=long_text,
    )
    ran = {e.suite for e in evaluators}
    for s in run_suites:
        if s not in ran and s not in skipped:
            skipped[s] = "no data for this suite"
    languages: list[str] = []
    if lang_list:
        languages = ["en", *[lang for lang in lang_list if lang != "en"]]
    for u in user_data:
        languages += [lang for lang in u.languages if lang not in languages]
    config = {
        "suites": [s for s in run_suites if s in ran],
        "suites_skipped": skipped,
        "langs": lang_list,
        "metrics": list(metrics),
        "batch_size": batch_size,
        "long_text": long_text,
        "max_sections": max_sections,
        "max_bitext_pairs": max_bitext_pairs,
        "bitext_distractors": bitext_distractors,
        "seed": seed,
        "search": "faiss IndexFlatIP" if use_faiss else "exact (chunked inner product, trec_eval tie rule)",
        "similarity": "cosine (L2-normalised embeddings)",
        "prompts": {"retrieval queries": "query", "documents": "passage", "bitext": "query", "sts": "query"},
        "mixed_pool_ks": [1, 10, 100],
        "bitext_margin": {"kind": "ratio", "k": 4, "mining": "max"},
        "data_paths": [str(u.path) for u in user_data],
    }
    return EvaluationPlan(
        suites=config["suites"],
        skipped=skipped,
        langs=lang_list,
        evaluators=evaluators,
        sets=sets,
        user_data=user_data,
        config=config,
        data=_data_summary(sets, user_data),
        build_seconds=time.perf_counter() - t0,
        languages=languages,
    )


def _label_of(spec: ModelLike) -> str:
    if isinstance(spec, str | os.PathLike):
        text = os.fspath(spec).rstrip("/\\")
        path = Path(text).expanduser()
        return path.name if path.exists() else text
    card = getattr(spec, "model_card_data", None)
    name = getattr(card, "model_name", None) or getattr(card, "base_model", None)
    return str(name) if name else "model"


def _unique_labels(labels: Sequence[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        out.append(label if seen[label] == 1 else f"{label}-{seen[label]}")
    return out


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
    output_dir: str | os.PathLike[str] | None,
    label: str | None = None,
    batch_size: int = 32,
    long_text: str = "truncate",
    persist_embeddings: bool = True,
    cache_dir: str | os.PathLike[str] | None = None,
    device: str | None = None,
    write_trec: bool = True,
    trec_depth: int | None = None,
    write_mteb: bool = True,
    show_progress: bool | None = None,
    log: Log | None = None,
) -> tuple[EvaluationResult, list[EvaluatorOutput]]:
    """Evaluate one model on a prepared plan and write its files.

    Args:
        model: A model spec (built-in name, directory, HF id) or a loaded SentenceTransformer.
        plan: From :func:`prepare_evaluation`.
        output_dir: Where to write (None: write nothing).
        label: Short name of the model in tables and file names.
        batch_size, long_text: Encoding options.
        persist_embeddings: Keep the vectors on disk (keyed by the weights' fingerprint) for later runs.
        cache_dir: crossalign cache root (models, embeddings).
        device: Torch device for a spec (default: sentence-transformers' choice).
        write_trec, write_mteb: Also write TREC runs / MTEB files.
        trec_depth: Documents per query in the TREC runs (default: the run's depth, 100).
        show_progress: Progress bars.
        log: Receives one line per stage (default: stderr when progress is on).

    Returns:
        ``(result, outputs)``: the :class:`EvaluationResult` and the evaluator outputs (with runs).
    """
    from crossalign.evaluation import writers
    from crossalign.models import load_model, model_fingerprint, resolve_model

    say = stage_logger(show_progress, log)
    timing: dict[str, float] = {"build_sets": round(plan.build_seconds, 3)}
    t_start = time.perf_counter()
    spec: str | None = None
    path: str | None = None
    t0 = time.perf_counter()
    if isinstance(model, str | os.PathLike):
        spec = os.fspath(model)
        path = resolve_model(spec, cache_dir=cache_dir)
        say(f"load model {spec}")
        st_model = load_model(spec, device=device, cache_dir=cache_dir)
    else:
        st_model = model
        spec = None
    timing["load_model"] = time.perf_counter() - t0
    label = label or _label_of(model)
    t0 = time.perf_counter()
    fingerprint = model_fingerprint(st_model) if hasattr(st_model, "state_dict") else None
    timing["fingerprint"] = time.perf_counter() - t0
    cache = EmbeddingCache(
        st_model,
        fingerprint=fingerprint,
        batch_size=batch_size,
        long_text=long_text,
        persist=persist_embeddings and fingerprint is not None,
        cache_dir=cache_dir,
        show_progress=show_progress,
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
        for ev in progress(evs, desc=suite, show=show_progress if len(evs) > 1 else False):
            outputs.extend(ev.evaluate_detailed(cache))
        timing[suite] = time.perf_counter() - t0
    tasks: list[TaskScore] = [o.score for o in outputs]
    model_info = {
        "spec": spec,
        "path": path,
        "fingerprint": cache.fingerprint if fingerprint is not None else None,
        "fingerprint_scheme": "crossalign.models.model_fingerprint of the loaded model (weights, config, tokenizer)",
        "label": label,
        "max_seq_length": cache.max_seq_length,
        "prompts": dict(getattr(st_model, "prompts", {}) or {}),
        "embedding_dim": cache.dim,
    }
    config = {**plan.config, "batch_size": batch_size, "long_text": long_text, "embedding_cache": cache.describe()}
    config["encode"] = encode_summary
    result = EvaluationResult(
        model=model_info, data=plan.data, config=config, tasks=tasks, languages=list(plan.languages)
    )
    if output_dir is not None:
        t0 = time.perf_counter()
        out = Path(output_dir)
        out.mkdir(parents=True, exist_ok=True)
        if write_trec:
            writers.write_trec_runs(outputs, out, tag=label, depth=trec_depth)
        if write_mteb:
            writers.write_mteb_results(result, out)
        timing["write"] = time.perf_counter() - t0
    timing["total"] = time.perf_counter() - t_start + plan.build_seconds
    result.timing = {k: round(v, 3) for k, v in timing.items()}
    if output_dir is not None:
        writers.write_results_json(result, output_dir)  # last, with the final timing
    return result, outputs


def write_report(
    results: Sequence[EvaluationResult],
    output_dir: str | os.PathLike[str],
    *,
    title: str = "crossalign evaluation",
    reproduce: str | None = None,
) -> Path:
    """The human-readable report of an evaluation: ``report.md`` with tables, plots and, for several models, the
    paired comparison (:func:`crossalign.reports.write_report`).

    Args:
        results: One result per model (the first is the baseline of comparisons).
        output_dir: Where the report goes.
        title: The report's title.
        reproduce: The command that produced the results.

    Returns:
        The report's path.
    """
    from crossalign.reports.markdown import write_report as write_markdown_report

    return write_markdown_report(list(results), output_dir, title=title, reproduce=reproduce)


def evaluate(
    models: ModelLike | Sequence[ModelLike],
    *,
    suites: str | Iterable[str] = "all",
    langs: str | Iterable[str] | None = None,
    data: str | os.PathLike[str] | Any | Sequence[Any] | None = None,
    output_dir: str | os.PathLike[str] | None,
    batch_size: int = 32,
    max_sections: int = 500,
    max_bitext_pairs: int = 500,
    bitext_distractors: int = 500,
    seed: int = 13,
    metrics: Sequence[str] = DEFAULT_RETRIEVAL_METRICS,
    use_faiss: bool = False,
    long_text: str = "truncate",
    labels: Sequence[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    persist_embeddings: bool = True,
    device: str | None = None,
    write_trec: bool = True,
    trec_depth: int | None = None,
    write_mteb: bool = True,
    write_sets: bool = False,
    corpus: Any = None,
    show_progress: bool | None = None,
    log: Log | None = None,
    reproduce: str | None = None,
) -> list[EvaluationResult]:
    """Evaluate one or more models on the chosen suites and write everything; one :class:`EvaluationResult` each.

    The evaluation sets are built once; each model's texts are encoded once (through the embedding cache) whatever
    the number of suites and directions.

    Args:
        models: A model spec / loaded model, or a list of them.
        suites: ``retrieval``, ``mixed-pool``, ``bitext``, ``sts``, ``all`` (comma-separated or a list).
        langs: LibreOffice languages (default ``de,zh-CN,hi,km`` when no ``data`` is given).
        data: Retrieval-set directories (or BEIR folders) and/or STS ``.jsonl`` files, or
            :class:`~crossalign.evaluation.suites.UserData` already read (see :func:`prepare_evaluation`).
        output_dir: Output directory (one model: files directly in it; several: one sub-directory per model plus a
            combined ``report.md``). None writes nothing.
        batch_size: Model inputs per forward pass.
        max_sections, max_bitext_pairs, bitext_distractors, seed: LibreOffice set sizes and sampling seed.
        metrics: Retrieval metrics (the first is the main score).
        use_faiss: Search retrieval pools with faiss.
        long_text: ``"truncate"`` or ``"window"``.
        labels: Names of the models (default: built-in name / directory name).
        cache_dir: crossalign cache root.
        persist_embeddings: Keep vectors on disk for later runs of the same model.
        device: Torch device for model specs.
        write_trec, write_mteb: Also write TREC runs / MTEB files.
        trec_depth: Documents per query in the TREC runs (default 100, the depth of the runs).
        write_sets: Also write the evaluation sets (``<output_dir>/eval_sets/``) for inspection.
        corpus: An opened LibreOfficeCorpus to reuse.
        show_progress: Progress bars and stage lines (default: on unless ``CROSSALIGN_NO_PROGRESS``).
        log: Receives one line per stage.
        reproduce: The command line that produced the evaluation (shown in the report).

    Returns:
        One result per model, in order.

    Raises:
        ConfigError, ModelError, DataFormatError, UnknownLanguageError, CorpusError: Bad options, models or data.

    Example:
        >>> results = evaluate(["e5-small-q4", "runs/clear-de"], langs="de", output_dir="eval/")  # doctest: +SKIP
    """
    model_list = _as_list(models)
    if labels is not None and len(labels) != len(model_list):
        raise ConfigError(f"{len(labels)} labels for {len(model_list)} models")
    say = stage_logger(show_progress, log)
    say("building evaluation sets")
    plan = prepare_evaluation(
        suites=suites,
        langs=langs,
        data=data,
        max_sections=max_sections,
        max_bitext_pairs=max_bitext_pairs,
        bitext_distractors=bitext_distractors,
        seed=seed,
        metrics=metrics,
        use_faiss=use_faiss,
        batch_size=batch_size,
        long_text=long_text,
        cache_dir=cache_dir,
        corpus=corpus,
        show_progress=show_progress,
    )
    say(f"{len(plan.evaluators)} evaluation sets, suites: {', '.join(plan.suites)} ({plan.build_seconds:.1f} s)")
    if output_dir is not None and write_sets and plan.sets is not None:
        plan.sets.write(Path(output_dir) / "eval_sets")
    names = _unique_labels(list(labels) if labels is not None else [_label_of(m) for m in model_list])
    results = []
    for m, name in zip(model_list, names):
        out = None
        if output_dir is not None:
            out = Path(output_dir) if len(model_list) == 1 else Path(output_dir) / _safe(name)
        result, _ = evaluate_model(
            m,
            plan,
            output_dir=out,
            label=name,
            batch_size=batch_size,
            long_text=long_text,
            persist_embeddings=persist_embeddings,
            cache_dir=cache_dir,
            device=device,
            write_trec=write_trec,
            trec_depth=trec_depth,
            write_mteb=write_mteb,
            show_progress=show_progress,
            log=say,
        )
        results.append(result)
        if out is not None and len(model_list) > 1:
            write_report([result], out, title=f"crossalign evaluation: {name}", reproduce=reproduce)
    if output_dir is not None:
        title = "crossalign evaluation: " + " vs ".join(names)
        write_report(results, output_dir, title=title, reproduce=reproduce)
    return results


def _safe(name: str) -> str:
    import re

    return re.sub(r"[^A-Za-z0-9_.+-]+", "-", name).strip("-.") or "model"
