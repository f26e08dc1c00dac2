r"""crossalign train: fine-tune an embedding model with a cross-lingual alignment loss.

Examples:

    crossalign train --method clear --model e5-small-q4 --data built/clear-de --output runs/clear-de
    crossalign train --method clear --data built/clear-de --output runs/c2 --max-steps 200 --batch-size 32 \
        --freeze word_embeddings --max-seq-length 128 --loss-arg alpha=0.4 --loss-arg beta=0.2
    crossalign train --config train.yaml --max-steps 50            # flags override the file's values
    crossalign train --config train.yaml --resume                  # continue from the last complete checkpoint
    torchrun --nproc_per_node 2 -m crossalign.cli.main train --config train.yaml --gather-across-devices

--loss-arg sets a parameter of the method's loss (an unknown name is an error that lists the valid ones);
--training-arg sets any SentenceTransformerTrainingArguments field. Both override the config file's values.

The output directory gets checkpoints/, train_log.jsonl (one line per logged step, with the loss components),
train_config.json, train_summary.json and model/ (the final model). The last line printed is the model directory.
A non-empty output directory is never overwritten silently: pass --resume or --overwrite.

Threads: crossalign sets OMP_WAIT_POLICY=PASSIVE unless it is already set (see crossalign.cli.main).
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from crossalign.cli._text import add_command, key_value

METHODS = ("clear", "jsd", "multiway", "en-x", "infonce", "symmetric", "distill", "labse")

#: argparse destination -> TrainConfig field, for the flags whose names differ (the others are named as the field).
_FLAG_FIELDS = {
    "lr": "learning_rate",
    "batch_size": "per_device_train_batch_size",
    "epochs": "num_train_epochs",
    "scheduler": "lr_scheduler_type",
    "output": "output_dir",
}


def register(subparsers: Any) -> None:
    """Add the ``train`` command to the top-level sub-parsers."""
    p = add_command(
        subparsers,
        "train",
        __doc__,
        "fine-tune a model with CLEAR, JSD+InfoNCE, multi-way alignment or a baseline loss",
    )
    g = p.add_argument_group("what to train")
    g.add_argument("--config", metavar="FILE", help="YAML or JSON file with TrainConfig keys (flags override it)")
    g.add_argument("--method", choices=METHODS, help="the loss (default: clear)")
    g.add_argument("--model", metavar="SPEC", help="e5-small-q4 (default), a model directory or a Hugging Face id")
    g.add_argument(
        "--data",
        metavar="PATH",
        help="a 'crossalign data build' directory, a .jsonl/.csv/.parquet file, or a Hugging Face dataset",
    )
    g.add_argument("--output", metavar="DIR", help="output directory (checkpoints, log, final model)")
    g.add_argument(
        "--query-prompt",
        metavar="TEXT",
        help="prefix of query columns, overriding the model's prompts ('' for none; default: the model's own, else "
        "its family's, e.g. 'query: ' for E5; printed and recorded in train_summary.json; the saved model keeps it)",
    )
    g.add_argument(
        "--passage-prompt",
        metavar="TEXT",
        help="prefix of passage columns ('' for none; default as for --query-prompt)",
    )
    g.add_argument(
        "--label",
        metavar="NAME",
        help="the trained model's name in later evaluations, recorded in DIR/model/crossalign_training.json "
        "(default: the --output folder's name)",
    )
    g.add_argument("--teacher", metavar="SPEC", help="distill: the teacher model (default: --model)")
    g.add_argument("--max-rows", type=int, metavar="N", help="use only the first N training rows")
    h = p.add_argument_group("optimisation")
    h.add_argument("--lr", type=float, metavar="LR", help="learning rate (default 2e-5)")
    h.add_argument("--batch-size", type=int, metavar="N", help="per-device batch size (default 32)")
    h.add_argument("--max-steps", type=int, metavar="N", help="optimizer steps (default: one epoch)")
    h.add_argument("--epochs", type=float, metavar="N", help="epochs when --max-steps is not given (default 1)")
    h.add_argument("--warmup-ratio", type=float, metavar="R", help="fraction of steps for warm-up (default 0.1)")
    h.add_argument("--scheduler", metavar="NAME", help="learning-rate schedule: linear (default), cosine, constant")
    h.add_argument("--weight-decay", type=float, metavar="W")
    h.add_argument("--gradient-accumulation-steps", type=int, metavar="N")
    h.add_argument("--seed", type=int, help="random seed (default 42)")
    h.add_argument("--bf16", action="store_true", default=None, help="bfloat16 mixed precision")
    h.add_argument("--fp16", action="store_true", default=None, help="float16 mixed precision (GPU)")
    h.add_argument("--gradient-checkpointing", action="store_true", default=None, help="trade compute for memory")
    h.add_argument("--deepspeed", metavar="FILE", help="DeepSpeed JSON config")
    h.add_argument(
        "--max-seq-length",
        type=int,
        metavar="N",
        help="truncate training inputs to N tokens (the saved model keeps the base model's limit)",
    )
    h.add_argument(
        "--freeze",
        metavar="SPEC",
        help="freeze word_embeddings, embeddings or layers:A-B (0-based, inclusive); comma-separated for several",
    )
    h.add_argument("--batch-sampler", choices=("no_duplicates", "batch_sampler", "group_by_label"))
    h.add_argument("--cached", action="store_true", default=None, help="clear: GradCache variant (big batches)")
    h.add_argument("--mini-batch-size", type=int, metavar="N", help="GradCache mini-batch size (implies --cached)")
    h.add_argument(
        "--gather-across-devices",
        action="store_true",
        default=None,
        help="under torchrun: use every rank's in-batch candidates",
    )
    h.add_argument(
        "--base-anchor",
        type=float,
        metavar="W",
        help="keep the embeddings close to the frozen base model: add W · mean ‖f(x) − f_base(x)‖² over the batch's "
        "texts (BaseAnchorLoss; works with every method and --cached)",
    )
    h.add_argument(
        "--merge-base",
        default=None,
        metavar="auto|λ",
        help="after training, merge the model with its base model (WiSE-FT): auto chooses λ on the dev pages "
        "(trained languages' dev x->en, held-out dev bitext; never test pages) and records the curve; a number in "
        "[0, 1] is λ; the merged model is OUTPUT/model-merged, printed last",
    )
    h.add_argument(
        "--lora",
        nargs="?",
        const="",
        metavar="SPEC",
        help="train LoRA adapters (peft), merged into plain weights on save; SPEC like "
        "r=8,alpha=16,dropout=0.0,targets=query,value (each optional; --lora alone: these defaults)",
    )
    h.add_argument(
        "--loss-arg",
        action="append",
        type=key_value,
        default=[],
        metavar="KEY=VALUE",
        help="a loss parameter, e.g. alpha=0.4 (repeatable; values parsed as JSON when possible)",
    )
    h.add_argument(
        "--training-arg",
        action="append",
        type=key_value,
        default=[],
        metavar="KEY=VALUE",
        help="a SentenceTransformerTrainingArguments field, e.g. dataloader_drop_last=true (repeatable)",
    )
    r = p.add_argument_group("checkpoints and logging")
    r.add_argument("--logging-steps", type=int, metavar="N", help="log every N steps (default 10)")
    r.add_argument("--save-steps", type=int, metavar="N", help="checkpoint every N steps (default 500)")
    r.add_argument("--save-total-limit", type=int, metavar="N", help="keep only the N newest checkpoints")
    r.add_argument("--resume", action="store_true", help="continue from the last complete checkpoint in --output")
    r.add_argument(
        "--overwrite",
        action="store_true",
        help="delete an earlier run in --output and start over (after checking the inputs; removes only what a run "
        "wrote, refuses a directory that holds no run)",
    )
    p.set_defaults(func=run)


def config_from_args(args: argparse.Namespace) -> Any:
    """The :class:`~crossalign.training.TrainConfig` for parsed arguments: the config file, then the flags."""
    from crossalign.training import TrainConfig

    fields = set(TrainConfig.keys()) - {"freeze", "lora"}  # both parsed below
    overrides = {
        _FLAG_FIELDS.get(dest, dest): value
        for dest, value in vars(args).items()
        if value is not None and _FLAG_FIELDS.get(dest, dest) in fields
    }
    if getattr(args, "lora", None) is not None:
        from crossalign.training.lora import LoraSpec

        overrides["lora"] = LoraSpec.parse(args.lora).to_dict()
    if args.freeze is not None:
        overrides["freeze"] = [s.strip() for s in args.freeze.split(",") if s.strip()]
    if args.config:
        base = TrainConfig.from_file(args.config)
        merged = base.to_dict()
    else:
        merged = TrainConfig().to_dict()
    if args.loss_arg:
        merged["loss_kwargs"] = {**merged["loss_kwargs"], **dict(args.loss_arg)}
    if args.training_arg:
        merged["training_args"] = {**merged["training_args"], **dict(args.training_arg)}
    source = f"{args.config} + command-line" if args.config else "command-line"
    return TrainConfig.from_dict({**merged, **overrides}, source=source)


def run(args: argparse.Namespace) -> int:
    """Run ``crossalign train``; prints the final model directory as the last line."""
    from crossalign.errors import ConfigError
    from crossalign.training import TrainConfig
    from crossalign.workflows.train import train

    cfg = config_from_args(args)
    if cfg.data is None:
        raise ConfigError("no training data: give --data PATH (or 'data:' in --config).")
    if args.output is None and cfg.output_dir == TrainConfig().output_dir:
        raise ConfigError("no output directory: give --output DIR (or 'output_dir:' in --config).")
    result = train(cfg, resume=args.resume, overwrite=args.overwrite)
    if int(os.environ.get("RANK", "0")) != 0:  # under torchrun only rank 0 reports
        return 0
    if result.already_finished:
        print(f"the run in {cfg.output_dir} already finished at step {result.global_step}; nothing to do")
    else:
        last = result.history[-1] if result.history else {}
        parts = ", ".join(f"{k} {v:.4f}" for k, v in last.items() if k not in ("step", "epoch", "lr", "grad_norm"))
        print(f"trained {result.global_step} steps in {result.seconds:.1f} s; last logged: {parts}")
    merged = result.summary.get("merged_model_dir") if result.summary else None
    if merged:
        print(f"merged with the base model at λ = {result.summary['merge_lambda']:g}: {merged}")
    print(merged or result.model_dir)
    return 0
