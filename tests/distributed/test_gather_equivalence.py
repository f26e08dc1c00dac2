"""With ``gather_across_devices=True``, 2 CPU ranks (gloo) on a split batch compute the single-process loss on the
whole batch, with the same gradients (DDP-averaged), and the KL/JSD compare distributions over the same gathered
candidate set.

One ``torchrun --nproc_per_node 2`` launch (``gather_worker.py``) computes everything; the tests compare its saved
results with single-process references computed here.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import torch

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE.parent / "unit" / "losses"))
sys.path.insert(0, str(HERE))

from gather_worker import ALPHA, BETA, GLOBAL_BATCH, global_embeddings, global_texts  # noqa: E402
from launch import run_torchrun  # noqa: E402
from losses_testkit import load_tiny_model, make_features, save_tiny_model  # noqa: E402

from crossalign.losses import CLEARLoss, JSDAlignmentLoss  # noqa: E402
from crossalign.losses.clear import clear_components, clear_weights  # noqa: E402
from crossalign.losses.jsd_alignment import jsd_alignment_components  # noqa: E402
from crossalign.losses.multiway import multiway_pairwise_loss, multiway_supcon_loss  # noqa: E402

pytestmark = pytest.mark.distributed

WORLD = 2
LOCAL = GLOBAL_BATCH // WORLD


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory):
    return save_tiny_model(tmp_path_factory.mktemp("tiny_bert_dist"))


@pytest.fixture(scope="module")
def ranks(tmp_path_factory, tiny_model_dir) -> list[dict]:
    out = tmp_path_factory.mktemp("gather_results")
    env = dict(os.environ)
    paths = [str(ROOT / "src"), str(HERE.parent / "unit" / "losses"), env.get("PYTHONPATH", "")]
    env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    env["OMP_NUM_THREADS"] = "1"
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        f"--nproc_per_node={WORLD}",
        str(HERE / "gather_worker.py"),
        "--out",
        str(out),
        "--model",
        str(tiny_model_dir),
    ]
    completed = run_torchrun(command, env=env, timeout=300)
    assert completed.returncode == 0, f"torchrun failed:\n{completed.stdout[-3000:]}\n{completed.stderr[-6000:]}"
    results = [torch.load(out / f"rank{r}.pt", weights_only=False) for r in range(WORLD)]
    assert [r["rank"] for r in results] == [0, 1] and all(r["world"] == WORLD for r in results)
    return results


def _rows(rank: int) -> slice:
    return slice(rank * LOCAL, (rank + 1) * LOCAL)


# ---------------------------------------------------------------------------------------------------- CLEAR
def _clear_single_process():
    tensors = [t.clone().requires_grad_(True) for t in global_embeddings()["clear"]]
    q_en, d_pos, n1, n2, q_x, m1, m2 = tensors
    components = clear_components(q_en, d_pos, [n1, n2], q_x, [m1, m2])
    weights = clear_weights(ALPHA, BETA, True)
    total = sum(weights[k] * components[k] for k in weights)
    total.backward()
    return {k: v.item() for k, v in components.items()}, total.item(), [t.grad for t in tensors]


def test_clear_kl_compares_distributions_over_the_same_gathered_candidates(ranks):
    q_en, d_pos, n1, n2, q_x, m1, m2 = global_embeddings()["clear"]
    all_passages = torch.cat([d_pos, n1, n2])
    all_queries = torch.cat([q_x, m1, m2])
    for rank, result in enumerate(ranks):
        clear = result["clear"]
        # Every rank sees the whole batch's candidates, in the single-process slot order, for both directions:
        # equal widths, and slot j of the forward and the reverse distribution is the same row and slot.
        assert clear["passages"].shape == clear["queries"].shape == (3 * GLOBAL_BATCH, q_en.size(1))
        assert torch.equal(clear["passages"], all_passages)
        assert torch.equal(clear["queries"], all_queries)
        assert clear["offset"] == rank * LOCAL


def test_clear_loss_and_gradients_equal_the_single_process_batch(ranks):
    components, total, grads = _clear_single_process()
    for name, value in components.items():
        assert sum(r["clear"]["components"][name] for r in ranks) / WORLD == pytest.approx(value, rel=1e-12)
    assert sum(r["clear"]["total"] for r in ranks) / WORLD == pytest.approx(total, rel=1e-12)
    assert components["kl"] > 1e-3
    for rank, result in enumerate(ranks):
        for local_grad, full_grad in zip(result["clear"]["grads"], grads):
            # The rank's gradient is that of the sum of all ranks' losses; DDP divides by the world size.
            assert torch.allclose(local_grad / WORLD, full_grad[_rows(rank)], rtol=1e-10, atol=1e-14)
            assert full_grad[_rows(rank)].abs().max() > 0


def test_per_device_negatives_would_give_a_different_loss():
    """Not vacuous: without the gather each rank's loss is over its own shard only, a different number."""
    q_en, d_pos, n1, n2, q_x, m1, m2 = (t[_rows(0)] for t in global_embeddings()["clear"])
    local = clear_components(q_en, d_pos, [n1, n2], q_x, [m1, m2])
    full, _, _ = _clear_single_process()
    assert abs(local["forward"].item() - full["forward"]) > 1e-3


# ---------------------------------------------------------------------------------------------------- JSD
def test_jsd_compares_distributions_over_the_same_gathered_candidates(ranks):
    _, d_en, _, d_x = global_embeddings()["jsd"]
    for rank, result in enumerate(ranks):
        assert torch.equal(result["jsd"]["candidates"], torch.cat([d_en, d_x]))
        expected_golds = torch.arange(LOCAL) + rank * LOCAL
        assert torch.equal(result["jsd"]["golds"][0], expected_golds)
        assert torch.equal(result["jsd"]["golds"][1], expected_golds + GLOBAL_BATCH)


def test_jsd_loss_and_gradients_equal_the_single_process_batch(ranks):
    tensors = [t.clone().requires_grad_(True) for t in global_embeddings()["jsd"]]
    q_x, d_en, q_en, d_x = tensors
    components = jsd_alignment_components(q_x, q_en, d_en, d_x)
    total = components["infonce"] + components["jsd"]
    total.backward()
    for name in ("infonce", "jsd"):
        got = sum(r["jsd"]["components"][name] for r in ranks) / WORLD
        assert got == pytest.approx(components[name].item(), rel=1e-12)
    assert components["jsd"].item() > 1e-3
    for rank, result in enumerate(ranks):
        for local_grad, full in zip(result["jsd"]["grads"], tensors):
            assert torch.allclose(local_grad / WORLD, full.grad[_rows(rank)], rtol=1e-10, atol=1e-14)


# ---------------------------------------------------------------------------------------------------- multi-way
@pytest.mark.parametrize(("mode", "fn"), [("pairwise", multiway_pairwise_loss), ("supcon", multiway_supcon_loss)])
def test_multiway_loss_and_gradients_equal_the_single_process_batch(ranks, mode, fn):
    tensors = [t.clone().requires_grad_(True) for t in global_embeddings()["multiway"]]
    value = fn(tensors)
    value.backward()
    assert sum(r[f"multiway_{mode}"]["total"] for r in ranks) / WORLD == pytest.approx(value.item(), rel=1e-12)
    for rank, result in enumerate(ranks):
        for local_grad, full in zip(result[f"multiway_{mode}"]["grads"], tensors):
            assert torch.allclose(local_grad / WORLD, full.grad[_rows(rank)], rtol=1e-10, atol=1e-14)


# ---------------------------------------------------------------------------------------------------- model level
@pytest.mark.parametrize(("case", "data"), [("clear", "clear"), ("cached_clear", "clear"), ("jsd", "jsd")])
def test_model_loss_and_ddp_averaged_gradients_equal_single_process(ranks, tiny_model_dir, case, data):
    texts = global_texts()[data]
    model = load_tiny_model(tiny_model_dir).to(torch.float64)
    loss = CLEARLoss(model) if data == "clear" else JSDAlignmentLoss(model)
    loss.validate_columns(list(texts))
    out = loss(make_features(model, texts), None)
    total = torch.stack(list(out.values())).sum()
    total.backward()
    for result in ranks:
        distributed = result["model"][case]
        assert distributed["loss"] == pytest.approx(total.item(), rel=1e-10)
        for name, parameter in model.named_parameters():
            assert torch.allclose(distributed["grads"][name], parameter.grad, rtol=1e-7, atol=1e-12), name
    assert sum(p.grad.abs().sum() for p in model.parameters()) > 0
