"""The training workflow: config + data -> model -> loss -> trainer -> a saved, documented model.

``output_dir`` is a run directory: checkpoints, step log, config, summary and ``model/``, locked while a run is in
progress (layout, lock and ``--overwrite``: :mod:`crossalign.training.rundir`).
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crossalign.errors import ConfigError
from crossalign.losses._columns import text_columns
from crossalign.losses.registry import LOSSES, LossSpec, build_loss, check_parameters, get_spec
from crossalign.training.callbacks import (
    COMPLETE_MARKER,
    CheckpointMarkerCallback,
    CrossalignTrainer,
    GradientGuardCallback,
    JsonlLogCallback,
    NonFiniteGuard,
    ProgressCallback,
    is_complete,
    last_complete_checkpoint,
    mark_complete,
    read_log,
    remove_incomplete_checkpoints,
    truncate_log,
)
from crossalign.training.config import TrainConfig
from crossalign.training.data import degenerate_data_problem, load_training_data
from crossalign.training.distributed import owned_process_group
from crossalign.training.freeze import apply_freeze
from crossalign.training.rundir import (
    CHECKPOINT_DIR,
    CONFIG_FILE,
    LOG_FILE,
    MERGE_FILE,
    MERGE_PLOT,
    MERGED_DIR,
    MODEL_DIR,
    SUMMARY_FILE,
    check_output_dir,
    clear_run,
    run_lock,
)
from crossalign.utils.atomic import atomic_directory, atomic_write_json
from crossalign.utils.progress import progress_scope, stage

logger = logging.getLogger(__name__)


@dataclass
class TrainResult:
    """What :func:`train` produced.

    Attributes:
        model_dir: The final sentence-transformers directory (``SentenceTransformer(model_dir)`` loads it).
        global_step: Optimizer steps done in total (including those before a resume).
        seconds: Wall time of this call's training.
        log_path: The JSONL step log.
        history: The logged steps: ``{"step", "loss", "lr", <components>...}``.
        resumed_from: The checkpoint training continued from, if any.
        already_finished: True when ``resume`` found a finished run and did nothing.
    """

    model_dir: Path
    global_step: int
    seconds: float
    log_path: Path
    history: list[dict[str, Any]] = field(default_factory=list)
    resumed_from: Path | None = None
    already_finished: bool = False
    summary: dict[str, Any] = field(default_factory=dict)


def _rank() -> int:
    return int(os.environ.get("RANK", "0"))


def _world() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def column_prompts(method: str | LossSpec, columns: list[str], model_prompts: dict[str, str]) -> dict[str, str] | None:
    """``{column: prompt text}`` for E5-style models (``query``/``passage`` prompts); None for other models.

    Query-like columns (:attr:`LossSpec.query_columns`) get the query prompt, passages the passage prompt;
    parallel-sentence methods (multiway, en-x, distill, labse) use the query prompt for every column, as E5
    recommends for symmetric tasks.
    """
    if not model_prompts.get("query") and not model_prompts.get("passage"):
        return None
    query = model_prompts["query"]
    passage = model_prompts.get("passage", query)
    roles = get_spec(method).query_columns
    return {
        column: query
        if roles is None or any(column == r or (r.endswith("_") and column.startswith(r)) for r in roles)
        else passage
        for column in columns
    }


def _without_prefixed_columns(prompts: dict[str, str] | None, dataset: Any) -> dict[str, str] | None:
    """Drop the prompt of a column whose texts already start with it (data built with prefixes): never twice."""
    if not prompts:
        return prompts
    sample = dataset.select(range(min(100, len(dataset))))
    out = {}
    for column, prompt in prompts.items():
        if prompt.strip() and all(str(text).startswith(prompt.strip()) for text in sample[column]):
            logger.warning("column %r already starts with the prompt %r: not adding it again", column, prompt)
            continue
        out[column] = prompt
    return out or None


def _add_teacher_labels(dataset: Any, teacher: Any, prompts: dict[str, str] | None) -> Any:
    """Add the teacher's embedding of ``source`` as ``label``, encoded the way the student will see ``source``:
    with the teacher's ``query`` prompt when the student's source column gets a prompt (E5 self-distillation
    would otherwise start from a mismatch that only teaches the student to ignore its prompt)."""
    from crossalign.losses import add_teacher_embeddings

    teacher_prompt = (dict(getattr(teacher, "prompts", {}) or {}).get("query") or "") if prompts else ""
    if not teacher_prompt:
        return add_teacher_embeddings(dataset, teacher)
    prefixed = dataset.map(lambda row: {"source": teacher_prompt + row["source"]})
    labels = add_teacher_embeddings(prefixed, teacher)["label"]
    return dataset.add_column("label", labels)


#: Fields that may change between a run and its resumption without changing what is trained.
_RESUMABLE_CHANGES = {"max_steps", "num_train_epochs", "logging_steps", "save_steps", "save_total_limit", "output_dir"}


def _warn_config_drift(out: Path, cfg: TrainConfig) -> None:
    path = out / CONFIG_FILE
    if not path.is_file():
        return
    try:
        before = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return
    now = cfg.to_dict()
    changed = sorted(k for k in now if k not in _RESUMABLE_CHANGES and before.get(k) != now[k])
    if changed:
        logger.warning(
            "--resume with a different configuration than the interrupted run (%s): the result will not equal an "
            "uninterrupted run",
            ", ".join(f"{k}: {before.get(k)!r} -> {now[k]!r}" for k in changed),
        )


def _finished_result(out: Path) -> TrainResult | None:
    summary_path = out / SUMMARY_FILE
    if not (is_complete(out / MODEL_DIR) and summary_path.is_file()):
        return None
    try:
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
        if not isinstance(summary, dict):
            raise ValueError(f"expected a JSON object, got {type(summary).__name__}")
    except (OSError, ValueError) as exc:  # json.JSONDecodeError, UnicodeDecodeError are ValueErrors
        from crossalign.errors import CorruptFileError

        raise CorruptFileError(
            f"{summary_path}: the finished run's summary cannot be read ({exc}).",
            hint=f"the model in {out / MODEL_DIR} is complete; delete {summary_path.name} and rerun with --resume "
            "to train again from the last checkpoint, or use --overwrite to start over",
        ) from None
    return TrainResult(
        model_dir=out / MODEL_DIR,
        global_step=int(summary.get("global_step", 0)),
        seconds=0.0,
        log_path=out / LOG_FILE,
        history=read_log(out / LOG_FILE),
        already_finished=True,
        summary=summary,
    )


def _loss_kwargs(cfg: TrainConfig, spec: LossSpec) -> dict[str, Any]:
    kwargs = dict(cfg.loss_kwargs)
    check_parameters(spec, kwargs)  # here too, so the mistake is reported before the model loads
    if cfg.cached or cfg.mini_batch_size is not None:
        if "mini_batch_size" not in spec.parameters:
            raise ConfigError(
                f"--cached / --mini-batch-size: method {cfg.method!r} has no cached (GradCache) variant.",
                hint="the cached variant exists for clear; drop the flag",
            )
        kwargs["mini_batch_size"] = cfg.mini_batch_size or 32
    if cfg.gather_across_devices:
        if "gather_across_devices" not in spec.parameters:
            raise ConfigError(
                f"--gather-across-devices: method {cfg.method!r} does not support gathering candidates.",
                hint="methods that do: "
                + ", ".join(name for name, other in LOSSES.items() if "gather_across_devices" in other.parameters),
            )
        kwargs["gather_across_devices"] = True
    return kwargs


def _training_arguments(cfg: TrainConfig, out: Path, prompts: dict[str, str] | None) -> Any:
    import torch
    from sentence_transformers import SentenceTransformerTrainingArguments

    on_cpu = not torch.cuda.is_available()
    args: dict[str, Any] = {
        "output_dir": str(out / CHECKPOINT_DIR),
        "learning_rate": cfg.learning_rate,
        "per_device_train_batch_size": cfg.per_device_train_batch_size,
        "max_steps": cfg.max_steps,
        "num_train_epochs": cfg.num_train_epochs,
        "warmup_steps": float(cfg.warmup_ratio),  # transformers v5: a float below 1 is a ratio
        "lr_scheduler_type": cfg.lr_scheduler_type,
        "weight_decay": cfg.weight_decay,
        "seed": cfg.seed,
        "data_seed": cfg.seed,
        "bf16": cfg.bf16,
        "fp16": cfg.fp16,
        "deepspeed": cfg.deepspeed,
        "logging_steps": cfg.logging_steps,
        "logging_first_step": True,
        "save_strategy": "steps",
        "save_steps": cfg.save_steps,
        "save_total_limit": None,  # applied by CheckpointMarkerCallback, after the new checkpoint is marked
        "gradient_accumulation_steps": cfg.gradient_accumulation_steps,
        "max_grad_norm": cfg.max_grad_norm,
        "dataloader_num_workers": cfg.dataloader_num_workers,
        "batch_sampler": cfg.batch_sampler,
        "prompts": prompts,
        "report_to": [],
        "disable_tqdm": True,
        "use_cpu": on_cpu,
        "dataloader_drop_last": cfg.gather_across_devices and _world() > 1,
    }
    if cfg.gradient_checkpointing:  # transformers v5 renamed it activation_checkpointing
        fields = SentenceTransformerTrainingArguments.__dataclass_fields__
        args["activation_checkpointing" if "activation_checkpointing" in fields else "gradient_checkpointing"] = True
    if on_cpu and _world() > 1:
        args["ddp_backend"] = "gloo"
    args.update({k: v for k, v in cfg.training_args.items() if k != "save_total_limit"})
    try:
        return SentenceTransformerTrainingArguments(**args)
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"invalid training arguments: {exc}",
            hint="check --training-arg / training_args keys against SentenceTransformerTrainingArguments",
        ) from exc


def train(
    cfg: TrainConfig,
    dataset: Any = None,
    resume: bool = False,
    show_progress: bool | None = None,
    *,
    overwrite: bool = False,
    callbacks: list[Any] | None = None,
) -> TrainResult:
    """Train ``cfg.model`` with ``cfg.method`` on ``cfg.data`` (or ``dataset``) and save the final model.

    Args:
        cfg: The run's :class:`~crossalign.training.TrainConfig`.
        dataset: Optional in-memory training data (``datasets.Dataset``, ``DatasetDict`` or ``BuiltData``) used
            instead of ``cfg.data``.
        resume: Continue from the last *complete* checkpoint in ``output_dir/checkpoints`` (incomplete ones, left
            by a crash while saving, are deleted). If the run had already finished, return its result untouched.
        show_progress: Progress bar (None: on unless ``CROSSALIGN_NO_PROGRESS`` is set).
        overwrite: Delete a previous run in ``output_dir`` and start over.
        callbacks: Extra ``transformers.TrainerCallback`` objects.

    Returns:
        A :class:`TrainResult`.

    Raises:
        ConfigError: Bad configuration, or ``output_dir`` holds an earlier run and neither ``resume`` nor
            ``overwrite`` was given.
        DataFormatError: The data lacks a column the method needs or has an empty text (file, line, column named).
        TrainingError: A loss component or gradient became NaN/Inf (the step and component are named; the last
            checkpoint before it is intact), or, under torchrun, another rank failed after training.

    Under ``torchrun`` the process group that the trainer creates is destroyed before ``train`` returns or raises,
    after all ranks met at a barrier on success, so every rank returns only once rank 0 has saved the model (see
    :func:`crossalign.training.distributed.owned_process_group`). A group the caller created before calling
    ``train`` is left to the caller.

    Example:
        >>> from crossalign.training import TrainConfig
        >>> from crossalign.workflows.train import train
        >>> cfg = TrainConfig(method="clear", model="e5-small-q4", data="built/clear-de", output_dir="runs/clear",
        ...                   max_steps=100, freeze=["word_embeddings"], loss_kwargs={"alpha": 0.4})
        >>> res = train(cfg)  # doctest: +SKIP
        >>> res.model_dir  # doctest: +SKIP
        PosixPath('runs/clear/model')
    """
    import transformers

    hf_bars = transformers.utils.logging.is_progress_bar_enabled()
    transformers.utils.logging.disable_progress_bar()  # weight loading/saving bars: ours shows the steps
    try:
        cfg.validate()  # again: fields may have been set after construction
        # outermost, so the lock is released before the ranks meet at the final barrier
        with owned_process_group(), run_lock(cfg.output_dir, enabled=_rank() == 0), progress_scope(show_progress):
            return _train(cfg, dataset, resume, overwrite=overwrite, callbacks=callbacks)
    finally:
        if hf_bars:
            transformers.utils.logging.enable_progress_bar()


def _train(
    cfg: TrainConfig,
    dataset: Any,
    resume: bool,
    *,
    overwrite: bool,
    callbacks: list[Any] | None,
) -> TrainResult:
    import torch

    from crossalign.models.loading import carry_model_kwargs, load_model, resolve_model
    from crossalign.models.prompts import apply_prompts
    from crossalign.training.card import (
        apply_card_metadata,
        base_model_note,
        card_metadata,
        training_info,
        write_card,
    )

    out = Path(cfg.output_dir).expanduser()
    if resume:
        finished = _finished_result(out)
        if finished is not None:
            logger.warning("%s: the run already finished at step %d; nothing to do", out, finished.global_step)
            return finished
    check_output_dir(out, resume=resume, overwrite=overwrite)  # nothing is deleted until the inputs are checked
    if resume and _rank() == 0:
        _warn_config_drift(out, cfg)
    spec = get_spec(cfg.method)  # the one lookup of the method: the spec goes down from here
    loss_kwargs = _loss_kwargs(cfg, spec)
    data = load_training_data(cfg.data, spec, dataset=dataset, max_rows=cfg.max_rows)
    merge_langs = _merge_langs(cfg, data.manifest)  # checked before the model loads

    device = None if torch.cuda.is_available() else "cpu"
    resolved = resolve_model(cfg.model)
    model = load_model(cfg.model, device=device)
    # the model's own prompts, else its family's; --query-prompt/--passage-prompt override both. The saved model
    # keeps them, so a plain E5 snapshot trained here is evaluated with the prompts it was trained with.
    prompt_choice = apply_prompts(
        model,
        cfg.model,
        query=cfg.query_prompt,
        passage=cfg.passage_prompt,
        log=None if _rank() == 0 else (lambda _line: None),
    )
    inference_max_seq_length = model.max_seq_length
    if cfg.max_seq_length is not None:
        model.max_seq_length = cfg.max_seq_length
    freeze = apply_freeze(model, cfg.freeze)
    if _rank() == 0:
        stage(f"{cfg.model}: {freeze.summary()}")
    lora = None
    if cfg.lora is not None:  # after freezing (LoRA freezes every base weight) and before the loss copies the model
        from crossalign.training.lora import LoraSpec, apply_lora

        lora = apply_lora(model, LoraSpec.from_mapping(cfg.lora, source="lora"))
        if _rank() == 0:
            stage(f"{cfg.model}: {lora.summary()}")

    train_dataset = data.dataset
    columns = text_columns(train_dataset.column_names)
    if isinstance(cfg.prompts, dict):
        prompts: dict[str, str] | None = dict(cfg.prompts)
    elif cfg.prompts == "none":
        prompts = None
    else:
        prompts = column_prompts(spec, columns, dict(getattr(model, "prompts", {}) or {}))
        prompts = _without_prefixed_columns(prompts, train_dataset)
    if cfg.method == "distill" and "label" not in train_dataset.column_names:
        teacher = model if cfg.teacher in (None, cfg.model) else load_model(cfg.teacher, device=device)
        if teacher is not model:
            apply_prompts(teacher, cfg.teacher, log=None if _rank() == 0 else (lambda _line: None))
        train_dataset = _add_teacher_labels(train_dataset, teacher, prompts)
    loss = build_loss(spec, model, **loss_kwargs)
    if cfg.base_anchor:  # after freezing: the frozen copy shares the frozen parameters
        from crossalign.losses.base_anchor import BaseAnchorLoss

        loss = BaseAnchorLoss(model, loss, weight=cfg.base_anchor)
    train_dataset = data.located(loss.select_columns, train_dataset)
    degenerate = degenerate_data_problem(train_dataset) if cfg.method != "distill" else None
    if degenerate and _rank() == 0:
        logger.warning("%s: %s; check the data (de-duplicate it, or drop the constant column)", data.source, degenerate)
    columns = text_columns(train_dataset.column_names)

    args = _training_arguments(cfg, out, prompts)
    checkpoint_root = out / CHECKPOINT_DIR
    resumed_from = None
    if resume and _rank() == 0:
        remove_incomplete_checkpoints(checkpoint_root)
    if resume:
        resumed_from = last_complete_checkpoint(checkpoint_root)
        if resumed_from is not None and Path(resolved).is_dir():  # checkpoints saved before they carried them
            carry_model_kwargs(resolved, resumed_from)
        if resumed_from is None:
            logger.warning("--resume: no complete checkpoint in %s; starting from step 0", checkpoint_root)
    log_path = out / LOG_FILE
    resumed_step = int(resumed_from.name.split("-")[-1]) if resumed_from else 0
    if _rank() == 0:
        if overwrite:
            clear_run(out)
        out.mkdir(parents=True, exist_ok=True)
        truncate_log(log_path, resumed_step)
        atomic_write_json(out / CONFIG_FILE, cfg.to_dict())

    log_callback = JsonlLogCallback(log_path)
    guard = NonFiniteGuard()
    trainer = CrossalignTrainer(
        model=model,
        args=args,
        train_dataset=train_dataset,
        loss=loss,
        callbacks=[
            log_callback,
            CheckpointMarkerCallback(
                cfg.training_args.get("save_total_limit", cfg.save_total_limit),
                base_model_dir=resolved if Path(resolved).is_dir() else None,
            ),
            GradientGuardCallback(guard),
            ProgressCallback(),
            *(callbacks or []),
        ],
    )
    from transformers.trainer_callback import PrinterCallback

    trainer.non_finite_guard = guard
    trainer.remove_callback(PrinterCallback)  # the log goes to train_log.jsonl and the progress bar's postfix
    started = time.perf_counter()
    trainer.train(resume_from_checkpoint=str(resumed_from) if resumed_from else None)
    seconds = time.perf_counter() - started
    global_step = int(trainer.state.global_step)

    model_dir = out / MODEL_DIR
    history = read_log(log_path)
    summary = {
        "label": cfg.label or out.resolve().name,
        "method": cfg.method,
        "model": cfg.model,
        "global_step": global_step,
        "seconds": round(seconds, 3),
        "seconds_per_step": round(seconds / max(1, global_step - resumed_step), 4),
        "final_loss": history[-1]["loss"] if history else None,
        "resumed_from": str(resumed_from) if resumed_from else None,
        "rows": len(train_dataset),
        "rows_available": data.rows_total,
        "data": data.source,
        "columns": columns,
        "prompts": prompts,
        "prompt_choice": prompt_choice.to_dict(),
        "freeze": freeze.to_dict(),
        "lora": {**lora.spec.to_dict(), "layers": len(lora.layers), "trainable": lora.trainable} if lora else None,
        "warnings": [degenerate] if degenerate else [],
        "world_size": _world(),
        "model_dir": str(model_dir),
    }
    if trainer.args.should_save:
        card = card_metadata(cfg.model, resolved, data.manifest)
        info = training_info(
            method=cfg.method,
            loss=loss,
            config=cfg.to_dict(),
            manifest=data.manifest,
            base_model=cfg.model,
            base_note=base_model_note(resolved if Path(resolved).is_dir() else None),
            freeze=freeze.to_dict(),
            global_step=global_step,
            label=summary["label"],
            card=card,
        )
        apply_card_metadata(trainer.model, card)
        # max_seq_length bounds the training inputs only: the saved model reads as far as the base model did, so
        # a trained model and its base are evaluated on the same text
        trainer.model.max_seq_length = inference_max_seq_length
        if lora is not None:  # a plain model on disk: W + (alpha/r)·BA, no peft layers, loads without peft
            from crossalign.training.lora import merge_lora

            merge_lora(trainer.model)
        with atomic_directory(model_dir, overwrite=True) as tmp:
            trainer.model.save(str(tmp))
            if Path(resolved).is_dir():
                carry_model_kwargs(resolved, tmp)
            write_card(tmp, info)
            mark_complete(tmp, step=global_step)
        if cfg.merge_base is not None:
            merged_dir, lam = _merge_with_base(cfg, resolved, model_dir, out, merge_langs)
            summary.update(merged_model_dir=str(merged_dir), merge_lambda=lam)
        atomic_write_json(out / SUMMARY_FILE, summary)
    return TrainResult(
        model_dir=model_dir,
        global_step=global_step,
        seconds=seconds,
        log_path=log_path,
        history=history,
        resumed_from=resumed_from,
        summary=summary,
    )


def _merge_langs(cfg: TrainConfig, manifest: dict[str, Any] | None) -> list[str]:
    """The trained (non-English) languages for ``merge_base="auto"``, from the data's build manifest."""
    if cfg.merge_base != "auto":
        return []
    langs = [x for x in (manifest or {}).get("languages") or [] if x != "en"]
    if not langs:
        raise ConfigError(
            "merge_base='auto' chooses λ on the dev pages of the trained languages, but the training data names "
            "no languages (no 'languages' in its manifest.json)",
            hint="train on data from 'crossalign data build', or give λ itself: --merge-base 0.5",
        )
    return langs


def _merge_with_base(cfg: TrainConfig, base: str, model_dir: Path, out: Path, langs: list[str]) -> tuple[Path, float]:
    """WiSE-FT after training: choose λ on the dev pages (``auto``) or take it, save ``model-merged/``; with
    ``auto`` also ``merge.json`` (the curve) and ``merge_curve.png``."""
    from crossalign.models.loading import load_model
    from crossalign.models.merge import merge_models, save_merged

    base_model, tuned = load_model(base, device="cpu"), load_model(str(model_dir), device="cpu")
    extra: dict[str, Any] = {}
    if cfg.merge_base == "auto":
        from crossalign.evaluation.holdout import resolve_holdout_langs
        from crossalign.workflows.merge_select import plot_lambda_curve, select_merge_lambda

        selection = select_merge_lambda(
            base_model,
            tuned,
            trained_langs=langs,
            holdout_langs=resolve_holdout_langs(None, langs),
            seed=cfg.seed,
        )
        atomic_write_json(out / MERGE_FILE, selection)
        try:
            plot_lambda_curve(selection, out / MERGE_PLOT)
        except Exception as exc:  # matplotlib missing: merge.json has the numbers
            logger.warning("no λ curve plot: %s", exc)
        lam = float(selection["lambda"])
        extra = {"chosen_on": "dev pages", "curve": MERGE_FILE}
    else:
        lam = float(cfg.merge_base)  # type: ignore[arg-type]
    merged = merge_models(base_model, tuned, lam)
    path = save_merged(merged, out / MERGED_DIR, base=base, tuned=str(model_dir), lam=lam, overwrite=True, extra=extra)
    return path, lam


__all__ = ["COMPLETE_MARKER", "TrainResult", "column_prompts", "train"]
