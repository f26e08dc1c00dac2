"""Contrastive alignment of multi-way parallel text: every language of a tuple is an anchor (Fazili & Goswami 2026)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, get_args

import torch
import torch.nn.functional as F
from sentence_transformers.util import cos_sim
from torch import Tensor, nn

from crossalign.errors import ConfigError, DataFormatError
from crossalign.losses._columns import check_names
from crossalign.losses._common import (
    SimilarityFct,
    SimilarityLoss,
    gather_with_grad,
    loss_config,
    masked_positive_nll,
    scaled_similarity,
)
from crossalign.utils.checks import check_choice

MULTIWAY_CITATION = """
@misc{fazili2026multiway,
    title={Multi-way parallel text alignment for multilingual embeddings (working title; see arXiv 2602.21543)},
    author={Fazili and Goswami},
    year={2026},
    eprint={2602.21543},
    archivePrefix={arXiv},
    primaryClass={cs.CL},
    url={https://arxiv.org/abs/2602.21543},
}
"""

MultiWayMode = Literal["pairwise", "supcon"]
MULTIWAY_MODES: tuple[str, ...] = get_args(MultiWayMode)


def multiway_pairwise_loss(
    columns: Sequence[Tensor],
    *,
    scale: float = 20.0,
    similarity_fct: SimilarityFct = cos_sim,
    gather_across_devices: bool = False,
) -> Tensor:
    """Mean over ordered column pairs ``(a, b)``, ``a ≠ b``, of InfoNCE with anchor ``a_i``, positive ``b_i`` and
    candidates ``{b_j}`` (every row's text in language ``b``, gathered across ranks when asked).

    Only texts of language ``b`` are candidates, so the other languages of the anchor's own tuple never appear as
    negatives. With two columns this is symmetric InfoNCE, ``½(CE(a→b) + CE(b→a))``.
    """
    gathered, offset = gather_with_grad(columns, gather_across_devices)
    batch_size = columns[0].size(0)
    labels = torch.arange(batch_size, device=columns[0].device) + offset
    losses = []
    for a, anchors in enumerate(columns):
        for b, candidates in enumerate(gathered):
            if a == b:
                continue
            logits = scaled_similarity(similarity_fct, scale, anchors, candidates)
            losses.append(F.cross_entropy(logits, labels))
    return torch.stack(losses).mean()


def multiway_supcon_loss(
    columns: Sequence[Tensor],
    *,
    scale: float = 20.0,
    similarity_fct: SimilarityFct = cos_sim,
    gather_across_devices: bool = False,
) -> Tensor:
    """Multi-positive contrastive loss over the flattened batch, grouped by tuple (row).

    Every text ``t`` of the batch (all rows × all columns) is an anchor against every other text (gathered across
    ranks when asked). Its positives are the other ``k-1`` texts of its tuple; its negatives are the texts of the
    other tuples. For each positive ``p``: ``-log(exp(s_tp) / (exp(s_tp) + Σ_negatives exp(s_tn)))``: the other
    positives are removed from the denominator, so parallel texts are never each other's negatives (unlike the
    ``L_out`` of Khosla et al. 2020, which keeps them there). The loss is the mean over positives, then over anchors.
    """
    gathered, offset = gather_with_grad(columns, gather_across_devices)
    k = len(columns)
    batch_size = columns[0].size(0)
    n_rows = gathered[0].size(0)
    device = columns[0].device
    anchors = torch.cat(list(columns), dim=0)  # (k * B, d): column-major, anchor (c, i) at c * B + i
    candidates = torch.cat(gathered, dim=0)  # (k * N, d): candidate (c, j) at c * N + j
    logits = scaled_similarity(similarity_fct, scale, anchors, candidates)

    local_rows = torch.arange(batch_size, device=device).repeat(k) + offset  # tuple id of each anchor
    anchor_columns = torch.arange(k, device=device).repeat_interleave(batch_size)
    candidate_tuples = torch.arange(n_rows, device=device).repeat(k)
    same_tuple = local_rows.unsqueeze(1) == candidate_tuples.unsqueeze(0)  # (k * B, k * N)

    losses = []
    for shift in range(1, k):
        positive_column = (anchor_columns + shift) % k
        positive = positive_column * n_rows + local_rows
        losses.append(masked_positive_nll(logits, positive, same_tuple))
    return torch.stack(losses).mean()


class MultiWayContrastiveLoss(SimilarityLoss):
    loss_name = "MultiWayContrastiveLoss"
    citation = MULTIWAY_CITATION

    def __init__(
        self,
        model: nn.Module,
        mode: MultiWayMode = "pairwise",
        scale: float = 20.0,
        similarity_fct: SimilarityFct = cos_sim,
        gather_across_devices: bool = False,
        columns: Sequence[str] | None = None,
    ) -> None:
        """Contrastive training on multi-way parallel tuples (one meaning in several languages) in which every
        language serves as an anchor, and parallel texts of the same tuple are never used as each other's negatives.

        The paper does not publish the exact loss; both modes are our reading (**not from the paper**):

        - ``mode="pairwise"`` (default): the mean over ordered language pairs ``(a, b)``, ``a ≠ b``, of InfoNCE with
          anchor ``a_i``, positive ``b_i`` and the in-batch texts of language ``b`` as candidates
          (:func:`multiway_pairwise_loss`).
        - ``mode="supcon"``: a multi-positive (SupCon-style) loss over the flattened batch grouped by tuple
          (:func:`multiway_supcon_loss`); the other positives are masked out of each positive's denominator.

        Scale 20 (temperature 0.05) is ours, not from the paper.

        **English-centric En–X baseline.** With exactly two columns, pairwise mode is symmetric InfoNCE. The paper's
        baseline trains on bilingual rows ``(en, x)`` where ``x`` is the translation into a language drawn from the
        same pool, with the same budget as the multi-way data. That data mode is built by crossalign's data
        builders; here it is this loss with ``columns=("en", "x")`` (the registry's ``en-x`` method).

        Args:
            model: SentenceTransformer model.
            mode: ``"pairwise"`` or ``"supcon"``.
            scale: Logit scale ``1/temperature``.
            similarity_fct: Similarity of two embedding matrices (default cosine).
            gather_across_devices: Use the texts of all ranks as candidates (anchors stay per rank). Needs equal
                per-rank batch sizes.
            columns: The exact column names and order to require (for example ``("en", "de", "fr")``). None: any
                two or more text columns, one per language slot.

        Inputs:
            +-----------------------------------+-----------------------------------------------+--------+
            | Columns                           | Text                                          | Labels |
            +===================================+===============================================+========+
            | lang_1, lang_2, ..., lang_k (k≥2) | one row = one parallel tuple: the same        | none   |
            |                                   | sentence in k languages, one column per       |        |
            |                                   | language slot (any names, e.g. en, de, zh)    |        |
            +-----------------------------------+-----------------------------------------------+--------+

        Requirements:
            1. At least two text columns; every row is one tuple of translations.
            2. No row may repeat another row's meaning in the same batch (use ``BatchSamplers.NO_DUPLICATES``).

        Returns:
            The loss as a tensor.

        Relations:
            - Two columns, pairwise: :class:`~crossalign.losses.SymmetricInfoNCELoss` without hard negatives.
            - :class:`~crossalign.losses.MultilingualDistillationLoss` aligns pairs to a teacher instead.

        References:
            - Fazili & Goswami, arXiv 2602.21543, 2026 (no public code).
            - Khosla et al., Supervised Contrastive Learning, NeurIPS 2020 (the supcon mode's form).

        Example::

            from crossalign.losses import MultiWayContrastiveLoss

            model = SentenceTransformer("FacebookAI/xlm-roberta-base")
            train_dataset = Dataset.from_dict({
                "en": ["The cat sleeps.", "It is raining."],
                "de": ["Die Katze schläft.", "Es regnet."],
                "fr": ["Le chat dort.", "Il pleut."],
            })
            loss = MultiWayContrastiveLoss(model, mode="pairwise")
        """
        super().__init__(model, scale, similarity_fct, gather_across_devices)
        self.mode = check_choice(mode, MULTIWAY_MODES, "mode")
        if columns is not None:
            columns = list(columns)
            if len(columns) < 2 or len(set(columns)) != len(columns) or not all(isinstance(c, str) for c in columns):
                raise ConfigError(f"columns must be two or more distinct column names, got {columns!r}.")
        self.required_columns: list[str] | None = columns

    def ordered_columns(self, column_names: Sequence[str]) -> list[str]:
        found = self.found_columns(column_names)
        if self.required_columns is not None:
            expected = list(self.required_columns)
            check_names(self.loss_name, expected, found)
            return expected
        if len(found) < 2:
            raise DataFormatError(
                f"{self.loss_name} needs at least two text columns (one per language of a parallel tuple), got "
                f"{found}.",
                hint="give the dataset one column per language, e.g. en, de, fr",
            )
        return found

    def compute_loss_from_embeddings(self, embeddings: Sequence[Tensor], labels: Tensor | None = None) -> Tensor:
        if len(embeddings) < 2:
            raise ValueError(f"{self.loss_name} needs at least two columns, got {len(embeddings)}.")
        if self.columns is not None:
            self.check_width(len(embeddings), self.columns)
        fn = multiway_pairwise_loss if self.mode == "pairwise" else multiway_supcon_loss
        return fn(
            list(embeddings),
            scale=self.scale,
            similarity_fct=self.similarity_fct,
            gather_across_devices=self.gather_across_devices,
        )

    def get_config_dict(self) -> dict[str, Any]:
        config = loss_config(self, "mode scale similarity_fct gather_across_devices")
        return {**config, "columns": self.columns if self.columns is not None else self.required_columns}
