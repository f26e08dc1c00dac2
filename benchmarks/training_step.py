"""Benchmark 1: training step time of crossalign's losses vs sentence-transformers' MultipleNegativesRankingLoss.

One step = zero_grad, loss forward (the model's forward passes included), backward, AdamW step, on the same model
and optimizer. The MNRL peer gets **its natural input**, taken from the same pre-tokenised batch (:data:`PEER_COLUMNS`):

- ``clear``: (query in language x → English positive, the same mined English negative), i.e. the cross-lingual
  retrieval pair CLEAR is trained for, without CLEAR's extra English-query and negative-query columns;
- ``jsd``: (query in language x → English positive);
- ``multiway``: the same parallel columns (MNRL with the extra columns as further positives/negatives).

So the two sides do not embed the same texts: CLEAR does more work per step by design. Two figures are reported:
the **step ratio** (ours / peer seconds per step: what a user pays per step for each loss on its own data) and the
**per-padded-token ratio** (seconds per padded token, ours / peer: the cost of the same amount of encoder work, which
separates the loss's overhead from the number and padding of its columns). The target applies to the per-token
ratio. Padded tokens follow each side's forward grouping: MNRL as sentence-transformers runs it by default (anchor
column alone, the other columns merged into one forward padded to their widest), crossalign's losses merge queries
with queries and passages with passages (:func:`forward_groups`).

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
PEER_COLUMNS: dict[str, list[str] | None] = {
    "clear": ["cross_anchor", "positive", "negative_1"],
    "jsd": ["query", "positive"],
    "multiway": None,  # every column
}
"""The columns of each loss's batch that the MNRL peer gets, in MNRL's order (anchor, positive, negatives)."""


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


def forward_groups(kind: str, n_columns: int) -> list[list[int]]:
    """How crossalign's loss ``kind`` groups its ``n_columns`` columns into forward passes."""
    if kind == "clear":  # anchor, positive, negative_1, cross_anchor, neg_query_1
        return [[0, 3, 4], [1, 2]]
    if kind == "jsd":
        return [[0, 2], [1, 3]]
    return [list(range(n_columns))]


def peer_groups(n_columns: int) -> list[list[int]]:
    """How MultipleNegativesRankingLoss groups its columns: the anchor alone, the rest merged into one forward."""
    return [[0], list(range(1, n_columns))] if n_columns > 1 else [[0]]


def peer_indices(kind: str, names: list[str]) -> list[int]:
    """Positions in ``names`` of the columns the MNRL peer gets for loss ``kind`` (:data:`PEER_COLUMNS`)."""
    wanted = PEER_COLUMNS[kind]
    return list(range(len(names))) if wanted is None else [names.index(n) for n in wanted]


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
    keep = peer_indices(kind, names)
    peer_batches = [[b[i] for i in keep] for b in batches]
    ours_loss = make_loss(kind, model, names)
    peer_loss = make_peer(model)
    model.train()

    def runner(loss: torch.nn.Module, data: list[list[dict[str, Any]]]) -> Callable[[], None]:
        def run() -> None:
            for features in data:
                train_step(model, loss, optimizer, features)

        return run

    for _ in range(cfg.warmup_steps):
        train_step(model, ours_loss, optimizer, batches[0])
        train_step(model, peer_loss, optimizer, peer_batches[0])
    times = interleaved(
        {"ours": runner(ours_loss, batches), "peer": runner(peer_loss, peer_batches)}, repeats=cfg.repeats, warmup=0
    )
    per_step = {k: [t / cfg.steps_per_repeat for t in v] for k, v in times.items()}
    tokens = {
        "ours": sum(padded_tokens(b, forward_groups(kind, len(names))) for b in batches) / len(batches),
        "peer": sum(padded_tokens(b, peer_groups(len(keep))) for b in peer_batches) / len(batches),
    }
    per_token = {k: [t / tokens[k] for t in v] for k, v in per_step.items()}
    return {
        "loss": kind,
        "columns": names,
        "peer_columns": [names[i] for i in keep],
        "batch_size": cfg.batch_size,
        "texts_per_step": sum(f["input_ids"].shape[0] for f in batches[0]),
        "peer_texts_per_step": sum(f["input_ids"].shape[0] for f in peer_batches[0]),
        "max_seq_length": cfg.max_seq_length,
        "steps_per_repeat": cfg.steps_per_repeat,
        "ours_seconds_per_step": summarize(per_step["ours"]),
        "peer_seconds_per_step": summarize(per_step["peer"]),
        "ratio": paired_ratios(per_step["ours"], per_step["peer"]),
        "ratio_direction": "ours / peer time per step, lower is better",
        "ours_seconds_per_padded_token": summarize(per_token["ours"]),
        "peer_seconds_per_padded_token": summarize(per_token["peer"]),
        "per_token_ratio": paired_ratios(per_token["ours"], per_token["peer"]),
        "per_token_ratio_direction": "ours / peer seconds per padded token, lower is better",
        "padded_tokens_per_step": {
            **tokens,
            "real": sum(int(f["attention_mask"].sum()) for b in batches for f in b) / len(batches),
            "peer_real": sum(int(f["attention_mask"].sum()) for b in peer_batches for f in b) / len(batches),
        },
    }


def run(model: Any, pool: TextPool, cfg: TrainingConfig) -> dict[str, Any]:
    """Benchmark 1 for every loss kind."""
    optimizer = optimizer_for(model)
    results = []
    for i, kind in enumerate(LOSS_KINDS):
        rec = compare_step(model, optimizer, pool, kind, cfg, seed=100 * i)
        rec["target"] = TARGET_STEP_RATIO
        rec["target_applies_to"] = "per_token_ratio"
        rec["passed"] = rec["per_token_ratio"]["median"] <= TARGET_STEP_RATIO
        results.append(rec)
    return {
        "peer": "sentence_transformers MultipleNegativesRankingLoss (defaults) on its natural columns "
        "(PEER_COLUMNS: x-language query -> English positive + the same mined negative for CLEAR)",
        "optimizer": "AdamW lr=1e-7 (shared by ours and peer)",
        "frozen_word_embeddings": not model[0].auto_model.get_input_embeddings().weight.requires_grad,
        "trainable_parameters": sum(p.numel() for p in model.parameters() if p.requires_grad),
        "config": cfg.__dict__,
        "results": results,
    }
