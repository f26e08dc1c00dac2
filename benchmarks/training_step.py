"""Benchmark 1: training step time of crossalign's losses vs sentence-transformers' MultipleNegativesRankingLoss.

One step = zero_grad, loss forward (the model's forward passes included), backward, AdamW step, on the same model,
optimizer and pre-tokenised batches for both losses: the peer gets **the same columns of texts** (the same dataset
with the loss swapped), so both embed the same number of texts per step. The MNRL peer runs as sentence-transformers
runs it by default (anchor column alone, the other columns merged into one padded forward); crossalign's losses merge
queries with queries and passages with passages. The padded token count of each side is recorded, so a difference
that comes from padding rather than from the loss arithmetic is visible.

Tokenisation (the trainer's collator) is outside the timed step; dropout is on (train mode); warm-up steps are
excluded; ours and the peer alternate within every repeat.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from benchmarks.common import TextPool, interleaved, paired_ratios, pick, summarize

LOSS_KINDS = ("clear", "jsd", "multiway")
TARGET_STEP_RATIO = 1.10
MULTIWAY_LANGS = ["en", "de", "zh-CN", "eu"]


@dataclass
class TrainingConfig:
    """Sizes of the training-step benchmark."""

    batch_size: int
    max_seq_length: int
    steps_per_repeat: int
    repeats: int
    warmup_steps: int = 1


def column_texts(pool: TextPool, kind: str, batch_size: int, seed: int) -> tuple[list[str], list[list[str]]]:
    """Column names and one batch of texts per column (prompts applied) for loss ``kind``.

    - ``clear``: ``anchor`` (English heading as query), ``positive`` / ``negative_1`` (English paragraphs),
      ``cross_anchor`` / ``neg_query_1`` (headings in another language);
    - ``jsd``: ``query`` (heading, other language), ``positive`` (English paragraph), ``query_en``, ``positive_x``;
    - ``multiway``: parallel paragraphs in four languages.
    """
    rng = random.Random(seed)
    x = rng.choice([lang for lang in pool.languages if lang != "en"])
    q, p = "query: ", "passage: "

    def heads(lang: str) -> list[str]:
        return [q + t for t in pick(pool.headings, lang, batch_size, rng)]

    def paras(lang: str) -> list[str]:
        return [p + t for t in pick(pool.paragraphs, lang, batch_size, rng)]

    if kind == "clear":
        return ["anchor", "positive", "negative_1", "cross_anchor", "neg_query_1"], [
            heads("en"),
            paras("en"),
            paras("en"),
            heads(x),
            heads(x),
        ]
    if kind == "jsd":
        return ["query", "positive", "query_en", "positive_x"], [heads(x), paras("en"), heads("en"), paras(x)]
    if kind == "multiway":
        langs = [lang for lang in MULTIWAY_LANGS if lang in pool.languages] or pool.languages[:4]
        rows = [r for r in pool.paragraphs if all(lang in r for lang in langs)] or pool.paragraphs
        chosen = [rows[rng.randrange(len(rows))] for _ in range(batch_size)]
        return langs, [[p + r.get(lang, r["en"]) for r in chosen] for lang in langs]
    raise ValueError(f"unknown loss kind {kind!r}")


def tokenize_columns(model: Any, columns: list[list[str]]) -> list[dict[str, Any]]:
    """Per-column features as the trainer's collator makes them (each column padded to its own longest text)."""
    out = []
    for texts in columns:
        features = model.preprocess(texts)
        out.append({k: v for k, v in features.items() if isinstance(v, torch.Tensor)})
    return out


def make_loss(kind: str, model: Any, names: list[str]) -> torch.nn.Module:
    """crossalign's loss ``kind`` bound to the column names."""
    from crossalign.losses import CLEARLoss, JSDAlignmentLoss, MultiWayContrastiveLoss

    loss: Any
    if kind == "clear":
        loss = CLEARLoss(model)
    elif kind == "jsd":
        loss = JSDAlignmentLoss(model)
    elif kind == "multiway":
        loss = MultiWayContrastiveLoss(model)
    else:
        raise ValueError(kind)
    loss.validate_columns(names)
    return loss


def make_peer(model: Any) -> torch.nn.Module:
    """sentence-transformers' MultipleNegativesRankingLoss with its defaults."""
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    return MultipleNegativesRankingLoss(model)


def train_step(model: Any, loss: torch.nn.Module, optimizer: torch.optim.Optimizer, features: list[dict]) -> float:
    """One optimisation step; returns the loss value."""
    optimizer.zero_grad(set_to_none=True)
    out = loss([dict(f) for f in features], None)
    total = torch.stack(list(out.values())).sum() if isinstance(out, dict) else out
    total.backward()
    optimizer.step()
    return float(total.detach())


def padded_tokens(features: list[dict[str, Any]], groups: list[list[int]]) -> int:
    """Token positions (padding included) that forward passes merged as ``groups`` process."""
    total = 0
    for group in groups:
        width = max(features[i]["input_ids"].shape[1] for i in group)
        total += width * sum(features[i]["input_ids"].shape[0] for i in group)
    return total


def forward_groups(kind: str, n_columns: int) -> tuple[list[list[int]], list[list[int]]]:
    """How ours and the MNRL peer group the columns into forward passes."""
    peer = [[0], list(range(1, n_columns))]
    if kind == "clear":  # anchor, positive, negative_1, cross_anchor, neg_query_1
        return [[0, 3, 4], [1, 2]], peer
    if kind == "jsd":
        return [[0, 2], [1, 3]], peer
    return [list(range(n_columns))], peer


def optimizer_for(model: Any) -> torch.optim.Optimizer:
    """AdamW over the trainable parameters (tiny learning rate: the weights barely move during the benchmark)."""
    return torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-7)


def compare_step(
    model: Any,
    optimizer: torch.optim.Optimizer,
    pool: TextPool,
    kind: str,
    cfg: TrainingConfig,
    *,
    seed: int = 0,
) -> dict[str, Any]:
    """Step time of loss ``kind`` vs MNRL on identical batches; one result record."""
    batches = []
    names: list[str] = []
    for s in range(cfg.steps_per_repeat):
        names, cols = column_texts(pool, kind, cfg.batch_size, seed + s)
        batches.append(tokenize_columns(model, cols))
    ours_loss = make_loss(kind, model, names)
    peer_loss = make_peer(model)
    model.train()

    def runner(loss: torch.nn.Module) -> Callable[[], None]:
        def run() -> None:
            for features in batches:
                train_step(model, loss, optimizer, features)

        return run

    for _ in range(cfg.warmup_steps):
        train_step(model, ours_loss, optimizer, batches[0])
        train_step(model, peer_loss, optimizer, batches[0])
    times = interleaved({"ours": runner(ours_loss), "peer": runner(peer_loss)}, repeats=cfg.repeats, warmup=0)
    per_step = {k: [t / cfg.steps_per_repeat for t in v] for k, v in times.items()}
    ours_groups, peer_groups = forward_groups(kind, len(names))
    n_texts = sum(f["input_ids"].shape[0] for f in batches[0])
    return {
        "loss": kind,
        "columns": names,
        "batch_size": cfg.batch_size,
        "texts_per_step": n_texts,
        "max_seq_length": cfg.max_seq_length,
        "steps_per_repeat": cfg.steps_per_repeat,
        "ours_seconds_per_step": summarize(per_step["ours"]),
        "peer_seconds_per_step": summarize(per_step["peer"]),
        "ratio": paired_ratios(per_step["ours"], per_step["peer"]),
        "ratio_direction": "ours / peer time, lower is better",
        "padded_tokens_per_step": {
            "ours": sum(padded_tokens(b, ours_groups) for b in batches) / len(batches),
            "peer": sum(padded_tokens(b, peer_groups) for b in batches) / len(batches),
            "real": sum(int(f["attention_mask"].sum()) for b in batches for f in b) / len(batches),
        },
    }


def run(model: Any, pool: TextPool, cfg: TrainingConfig) -> dict[str, Any]:
    """Benchmark 1 for every loss kind."""
    optimizer = optimizer_for(model)
    results = []
    for i, kind in enumerate(LOSS_KINDS):
        rec = compare_step(model, optimizer, pool, kind, cfg, seed=100 * i)
        rec["target"] = TARGET_STEP_RATIO
        rec["passed"] = rec["ratio"]["median"] <= TARGET_STEP_RATIO
        results.append(rec)
    return {
        "peer": "sentence_transformers MultipleNegativesRankingLoss (defaults), same columns of texts",
        "optimizer": "AdamW lr=1e-7 (shared by ours and peer)",
        "frozen_word_embeddings": not model[0].auto_model.get_input_embeddings().weight.requires_grad,
        "trainable_parameters": sum(p.numel() for p in model.parameters() if p.requires_grad),
        "config": cfg.__dict__,
        "results": results,
    }
