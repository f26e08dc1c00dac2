"""Helpers shared by the losses: feature clean-up, grouped embedding, cross-device gathering, argument checks, and
:class:`SimilarityLoss`, the base of the losses that score embeddings with a scaled similarity."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import torch
import torch.distributed as dist
import torch.nn.functional as F
from sentence_transformers.base.losses.merged_forward import embed_columns
from sentence_transformers.util import all_gather_with_grad, get_rank, get_world_size, similarity_fct_name
from torch import Tensor, nn

from crossalign.errors import ConfigError
from crossalign.losses._columns import NamedColumnsMixin

SimilarityFct = Callable[[Tensor, Tensor], Tensor]


def strip_foreign_keys(features: dict[str, Any]) -> dict[str, Any]:
    """Drop the keys of *another* column that the trainer put into this column's feature dict.

    The sentence-transformers trainer (v6.2 ``collect_features``) groups the collated keys by the prefix
    ``f"{column}_"``, so a column whose name is a prefix of another's (``query`` / ``query_en``,
    ``positive`` / ``positive_x``) also receives the other column's tensors, as ``en_input_ids``,
    ``x_attention_mask``, .... The model ignores unknown keys, but merged forwards refuse dicts with different key
    sets and the extra tensors travel through mini-batching. A foreign column is recognised by a
    ``{p}input_ids`` key next to ``input_ids``; every ``{p}*`` key is dropped.
    """
    if "input_ids" not in features:
        return features
    prefixes = [key[: -len("input_ids")] for key in features if key.endswith("_input_ids")]
    if not prefixes:
        return features
    return {key: value for key, value in features.items() if not any(key.startswith(p) for p in prefixes)}


def embed_groups(model: nn.Module, features: Sequence[dict[str, Any]], groups: Sequence[Sequence[int]]) -> list[Tensor]:
    """Embed the columns, merging the columns of each group into one forward pass where possible.

    Columns of one kind (queries, passages) have similar lengths, so merging them wastes little padding. Returns one
    embedding tensor per column, in column order.
    """
    features = [strip_foreign_keys(f) for f in features]
    out: list[Tensor | None] = [None] * len(features)
    for group in groups:
        if not group:
            continue
        embeddings = embed_columns(model, [features[i] for i in group], separate_first=False)
        for index, embedding in zip(group, embeddings):
            out[index] = embedding
    missing = [i for i, e in enumerate(out) if e is None]
    if missing:  # pragma: no cover - a programming error in a caller
        raise RuntimeError(f"columns {missing} were not assigned to an embedding group")
    return out  # type: ignore[return-value]


def gather_with_grad(tensors: Sequence[Tensor], enabled: bool) -> tuple[list[Tensor], int]:
    """Gather each tensor across all ranks (with gradients) and return them with this rank's row offset.

    The gathered tensors are ``cat([rank 0 rows, rank 1 rows, ...])``, so this rank's row ``i`` sits at
    ``offset + i``. Not distributed (or ``enabled=False``): the tensors unchanged and offset 0.

    Raises:
        ValueError: The ranks have different local batch sizes (``all_gather`` needs equal shapes; use
            ``dataloader_drop_last=True``).
    """
    if not enabled or get_world_size() == 1:
        return list(tensors), 0
    local = tensors[0].size(0)
    sizes = [torch.zeros(1, dtype=torch.long, device=tensors[0].device) for _ in range(get_world_size())]
    dist.all_gather(sizes, torch.tensor([local], dtype=torch.long, device=tensors[0].device))
    if any(int(s.item()) != local for s in sizes):
        raise ValueError(
            f"gather_across_devices needs the same local batch size on every rank, got {[int(s) for s in sizes]}. "
            "Set dataloader_drop_last=True in the training arguments."
        )
    return [all_gather_with_grad(t) for t in tensors], get_rank() * local


def scaled_similarity(similarity_fct: SimilarityFct, scale: float, a: Tensor, b: Tensor) -> Tensor:
    """``scale * similarity_fct(a, b)``."""
    return similarity_fct(a, b) * scale


def masked_positive_nll(logits: Tensor, positive: Tensor, same_group: Tensor) -> Tensor:
    """Per-row ``-log softmax`` of one positive over the negatives only (the other group members masked out).

    ``logsumexp({s_pos} ∪ negatives) - s_pos = softplus(logsumexp(negatives) - s_pos)``.

    Args:
        logits: ``(R, C)`` scores.
        positive: ``(R,)`` column index of the positive of each row.
        same_group: ``(R, C)`` True for every candidate of the row's own group (the positive, the other positives
            and, for flattened candidate sets, the anchor itself): none of them is a negative.
    """
    negatives = logits.masked_fill(same_group, float("-inf"))
    negative_lse = torch.logsumexp(negatives, dim=1)
    positive_scores = logits.gather(1, positive.unsqueeze(1)).squeeze(1)
    return F.softplus(negative_lse - positive_scores)


def log_space_jsd(log_p: Tensor, log_q: Tensor) -> Tensor:
    """Row-wise Jensen-Shannon divergence (natural log) from log-probabilities, stable for near one-hot rows.

    ``JSD = ½ KL(P‖M) + ½ KL(Q‖M)``, ``log M = logsumexp([log P, log Q]) - log 2``. Terms with zero probability
    contribute 0 (``exp(-inf) * finite``), never ``nan``.
    """
    log_m = torch.logsumexp(torch.stack([log_p, log_q]), dim=0) - math.log(2.0)
    kl_pm = F.kl_div(log_m, log_p, reduction="none", log_target=True).sum(dim=-1)
    kl_qm = F.kl_div(log_m, log_q, reduction="none", log_target=True).sum(dim=-1)
    return 0.5 * (kl_pm + kl_qm)


def check_scale(scale: float, name: str = "scale") -> float:
    """A positive finite float."""
    if isinstance(scale, bool) or not isinstance(scale, int | float) or not math.isfinite(scale) or scale <= 0:
        raise ConfigError(
            f"{name} must be a positive number, got {scale!r}.",
            hint=f"{name} is 1/temperature: 20 means temperature 0.05",
        )
    return float(scale)


def check_weight(value: float, name: str) -> float:
    """A finite, non-negative float."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigError(f"{name} must be a number, got {value!r}.")
    if value < 0:
        raise ConfigError(f"{name} must be non-negative, got {value}.", hint=f"use {name}=0 to switch the term off")
    return float(value)


def check_bool(value: bool, name: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{name} must be True or False, got {value!r}.")
    return value


def check_similarity(similarity_fct: SimilarityFct) -> SimilarityFct:
    if not callable(similarity_fct):
        raise ConfigError(f"similarity_fct must be callable (a, b) -> scores, got {similarity_fct!r}.")
    return similarity_fct


def components_with_total(components: dict[str, Tensor], total: Tensor) -> dict[str, Tensor]:
    """Attach ``total``'s autograd graph to a dict of detached component values.

    The trainer sums the dict and back-propagates the sum. The first component becomes
    ``value + (total - total.detach())``: numerically ``value``, with gradient 1 w.r.t. ``total``, so the sum's
    backward is exactly ``total``'s (its GradCache hook fires once, with the trainer's scaling).
    """
    keys = list(components)
    out = {key: components[key].detach() for key in keys}
    out[keys[0]] = out[keys[0]] + (total - total.detach())
    return out


def loss_config(loss: nn.Module, names: str) -> dict[str, Any]:
    """``get_config_dict`` of a loss: the attributes named in ``names`` (space-separated), in order, with
    ``similarity_fct`` by its name."""
    out = {name: getattr(loss, name) for name in names.split()}
    if "similarity_fct" in out:
        out["similarity_fct"] = similarity_fct_name(out["similarity_fct"])
    return out


class SimilarityLoss(NamedColumnsMixin, nn.Module):
    """Base of the crossalign losses that score embeddings with ``scale · similarity_fct(a, b)``.

    It holds and checks the arguments they share: ``model`` (a SentenceTransformer), ``scale`` (the logit scale
    ``1/temperature``, > 0), ``similarity_fct`` (a callable ``(a, b) -> (len(a), len(b))`` scores, default cosine)
    and ``gather_across_devices`` (use every rank's candidates, anchors stay per rank; needs equal per-rank batch
    sizes, ``dataloader_drop_last=True``). :meth:`forward` embeds the columns in the forward-pass groups of
    :meth:`embedding_groups` and returns :meth:`compute_loss_from_embeddings`; :meth:`get_config_dict` lists
    :attr:`config_keys`. Column validation: :class:`~crossalign.losses._columns.NamedColumnsMixin`.
    """

    #: ``get_config_dict``'s keys, space-separated and in order (attributes of the loss, ``similarity_fct`` by name).
    config_keys: str = "scale similarity_fct gather_across_devices columns"

    def __init__(
        self, model: nn.Module, scale: float, similarity_fct: SimilarityFct, gather_across_devices: bool
    ) -> None:
        super().__init__()
        self.model = model
        self.scale = check_scale(scale)
        self.similarity_fct = check_similarity(similarity_fct)
        self.gather_across_devices = check_bool(gather_across_devices, "gather_across_devices")

    @property
    def temperature(self) -> float:
        """``1 / scale``."""
        return 1.0 / self.scale

    def embedding_groups(self, num_columns: int) -> list[list[int]]:
        """The columns of a batch of ``num_columns``, grouped by forward pass (columns of one kind share one; see
        :func:`embed_groups`). Raises ValueError when the count does not fit the bound layout. Default: one pass."""
        return [list(range(num_columns))]

    def compute_loss_from_embeddings(self, embeddings: Sequence[Tensor], labels: Tensor | None = None) -> Any:
        """The loss from one embedding tensor per column, in column order."""
        raise NotImplementedError

    def forward(self, sentence_features: Iterable[dict[str, Tensor]], labels: Tensor | None = None) -> Any:
        features = list(sentence_features)
        embeddings = embed_groups(self.model, features, self.embedding_groups(len(features)))
        return self.compute_loss_from_embeddings(embeddings, labels)

    def get_config_dict(self) -> dict[str, Any]:
        return loss_config(self, self.config_keys)
