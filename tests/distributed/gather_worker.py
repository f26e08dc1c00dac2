"""torchrun worker for test_gather_equivalence.py: each rank computes the losses on its shard of one fixed global
batch with ``gather_across_devices=True`` and saves what it saw to ``{out}/rank{r}.pt``.

Run as ``python -m torch.distributed.run --standalone --nproc_per_node 2 gather_worker.py --out DIR --model DIR``.
"""

from __future__ import annotations

import argparse
import logging
import random
import sys
from pathlib import Path

import torch
import torch.distributed as dist

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit" / "losses"))

from losses_testkit import load_tiny_model, make_features, random_texts

from crossalign.losses import CachedCLEARLoss, CLEARLoss, JSDAlignmentLoss
from crossalign.losses.clear import clear_candidates, clear_components, clear_weights
from crossalign.losses.jsd_alignment import jsd_alignment_components, jsd_candidates
from crossalign.losses.multiway import multiway_pairwise_loss, multiway_supcon_loss

GLOBAL_BATCH, DIM, N_NEG = 6, 5, 2
ALPHA, BETA = 0.4, 0.2


def global_embeddings() -> dict[str, list[torch.Tensor]]:
    """The fixed global batch of embeddings (identical on every rank and in the test process)."""
    g = torch.Generator().manual_seed(7)

    def rand():
        return torch.randn(GLOBAL_BATCH, DIM, generator=g, dtype=torch.float64)

    return {
        "clear": [rand() for _ in range(3 + 2 * N_NEG)],  # q_en, d+, n1, n2, q_x, m1, m2
        "jsd": [rand() for _ in range(4)],  # q_x, d_en, q_en, d_x
        "multiway": [rand() for _ in range(3)],  # three language columns
    }


def global_texts() -> dict[str, dict[str, list[str]]]:
    rng = random.Random(11)
    clear = {"anchor": random_texts(GLOBAL_BATCH, rng), "positive": random_texts(GLOBAL_BATCH, rng, 4, 9)}
    clear.update({f"negative_{k}": random_texts(GLOBAL_BATCH, rng, 4, 9) for k in range(1, N_NEG + 1)})
    clear["cross_anchor"] = random_texts(GLOBAL_BATCH, rng)
    clear.update({f"neg_query_{k}": random_texts(GLOBAL_BATCH, rng) for k in range(1, N_NEG + 1)})
    jsd = {
        "query": random_texts(GLOBAL_BATCH, rng),
        "positive": random_texts(GLOBAL_BATCH, rng, 4, 9),
        "query_en": random_texts(GLOBAL_BATCH, rng),
        "positive_x": random_texts(GLOBAL_BATCH, rng, 4, 9),
    }
    return {"clear": clear, "jsd": jsd}


def _shard(t: torch.Tensor, rank: int, world: int) -> torch.Tensor:
    size = t.size(0) // world
    return t[rank * size : (rank + 1) * size].clone().requires_grad_(True)


def _model_level(model_dir: str, rank: int, world: int) -> dict[str, dict]:
    """Losses through the tiny model: mean loss and rank-averaged (DDP-style) parameter gradients."""
    texts = global_texts()
    size = GLOBAL_BATCH // world
    out = {}
    cases = {
        "clear": (lambda m: CLEARLoss(m, gather_across_devices=True), "clear"),
        "cached_clear": (lambda m: CachedCLEARLoss(m, gather_across_devices=True, mini_batch_size=2), "clear"),
        "jsd": (lambda m: JSDAlignmentLoss(m, gather_across_devices=True), "jsd"),
    }
    for name, (build, data) in cases.items():
        model = load_tiny_model(model_dir).to(torch.float64)
        loss = build(model)
        loss.validate_columns(list(texts[data]))
        local = {column: values[rank * size : (rank + 1) * size] for column, values in texts[data].items()}
        components = loss(make_features(model, local), None)
        total = torch.stack(list(components.values())).sum()
        total.backward()
        value = total.detach().clone()
        dist.all_reduce(value)
        grads = {}
        for parameter_name, parameter in model.named_parameters():
            grad = parameter.grad.detach().clone()
            dist.all_reduce(grad)
            grads[parameter_name] = grad / world
        out[name] = {"loss": value.item() / world, "grads": grads}
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--model", required=True)
    args = parser.parse_args()
    torch.set_num_threads(1)
    logging.getLogger("transformers").setLevel(logging.ERROR)
    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    result: dict = {"rank": rank, "world": world}

    # ---- CLEAR on embeddings
    clear = [_shard(t, rank, world) for t in global_embeddings()["clear"]]
    q_en, d_pos, n1, n2, q_x, m1, m2 = clear
    candidates = clear_candidates(d_pos, [n1, n2], q_x, [m1, m2], gather_across_devices=True)
    components = clear_components(q_en, d_pos, [n1, n2], q_x, [m1, m2], gather_across_devices=True)
    weights = clear_weights(ALPHA, BETA, True)
    total = sum(weights[k] * components[k] for k in weights)
    total.backward()
    result["clear"] = {
        "components": {k: v.item() for k, v in components.items()},
        "total": total.item(),
        "passages": candidates.passages.detach(),
        "queries": candidates.queries.detach(),
        "offset": candidates.offset,
        "grads": [t.grad.detach() for t in clear],
    }

    # ---- JSD on embeddings (multi-reference)
    jsd = [_shard(t, rank, world) for t in global_embeddings()["jsd"]]
    j_qx, j_den, j_qen, j_dx = jsd
    components = jsd_alignment_components(j_qx, j_qen, j_den, j_dx, gather_across_devices=True)
    total = components["infonce"] + components["jsd"]
    total.backward()
    jsd_set, golds = jsd_candidates(j_den, j_dx, gather_across_devices=True)
    result["jsd"] = {
        "candidates": jsd_set.detach(),
        "golds": [g.clone() for g in golds],
        "components": {k: v.item() for k, v in components.items()},
        "total": total.item(),
        "grads": [t.grad.detach() for t in jsd],
    }

    # ---- multi-way on embeddings, both modes
    for mode, fn in (("pairwise", multiway_pairwise_loss), ("supcon", multiway_supcon_loss)):
        columns = [_shard(t, rank, world) for t in global_embeddings()["multiway"]]
        value = fn(columns, gather_across_devices=True)
        value.backward()
        result[f"multiway_{mode}"] = {"total": value.item(), "grads": [t.grad.detach() for t in columns]}

    result["model"] = _model_level(args.model, rank, world)
    torch.save(result, Path(args.out) / f"rank{rank}.pt")
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
