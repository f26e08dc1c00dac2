"""Bidirectional translation ranking with additive margin softmax (Yang et al. 2019; LaBSE, Feng et al. 2022)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from sentence_transformers.util import cos_sim
from torch import Tensor, nn

from crossalign.errors import ConfigError
from crossalign.losses._columns import check_names
from crossalign.losses._common import SimilarityFct, SimilarityLoss, gather_with_grad

LABSE_CITATION = """
@inproceedings{feng-etal-2022-language,
    title = "Language-agnostic {BERT} Sentence Embedding",
    author = "Feng, Fangxiaoyu and Yang, Yinfei and Cer, Daniel and Arivazhagan, Naveen and Wang, Wei",
    booktitle = "Proceedings of the 60th Annual Meeting of the Association for Computational Linguistics",
    year = "2022",
    pages = "878--891",
    url = "https://aclanthology.org/2022.acl-long.62",
}
@inproceedings{yang2019improving,
    title = "Improving Multilingual Sentence Embedding using Bi-directional Dual Encoder with Additive Margin Softmax",
    author = "Yang, Yinfei and Abrego, Gustavo Hernandez and Yuan, Steve and Guo, Mandy and Shen, Qinlan and
              Cer, Daniel and Sung, Yun-Hsuan and Strope, Brian and Kurzweil, Ray",
    booktitle = "Proceedings of the Twenty-Eighth International Joint Conference on Artificial Intelligence (IJCAI)",
    year = "2019",
    url = "https://arxiv.org/abs/1902.08564",
}
"""


def additive_margin_ranking_components(
    source: Tensor,
    target: Tensor,
    *,
    margin: float = 0.3,
    scale: float = 20.0,
    similarity_fct: SimilarityFct = cos_sim,
    gather_across_devices: bool = False,
) -> dict[str, Tensor]:
    """``{"source_to_target", "target_to_source"}``: batch means of
    ``-log(e^{s(φ_ii - m)} / (e^{s(φ_ii - m)} + Σ_{j≠i} e^{s φ_ij}))`` in each direction, ``φ`` = similarity."""
    gathered, offset = gather_with_grad([source, target], gather_across_devices)
    batch_size = source.size(0)
    labels = torch.arange(batch_size, device=source.device) + offset
    out = {}
    for name, anchors, candidates in (
        ("source_to_target", source, gathered[1]),
        ("target_to_source", target, gathered[0]),
    ):
        similarity = similarity_fct(anchors, candidates)
        margin_matrix = torch.zeros_like(similarity)
        margin_matrix[torch.arange(batch_size, device=source.device), labels] = margin
        out[name] = F.cross_entropy(scale * (similarity - margin_matrix), labels)
    return out


class AdditiveMarginRankingLoss(SimilarityLoss):
    loss_name = "AdditiveMarginRankingLoss"
    citation = LABSE_CITATION
    config_keys = "margin scale similarity_fct gather_across_devices"

    def __init__(
        self,
        model: nn.Module,
        margin: float = 0.3,
        scale: float = 20.0,
        similarity_fct: SimilarityFct = cos_sim,
        gather_across_devices: bool = False,
    ) -> None:
        """Bidirectional translation ranking with additive margin softmax, as used to train LaBSE: each sentence
        must rank its translation above the other in-batch translations by a margin ``m`` (subtracted from the
        positive's similarity inside the softmax), in both directions; ``L = L_src→tgt + L_tgt→src`` (summed, as in
        the papers).

        Args:
            model: SentenceTransformer model.
            margin: Additive margin ``m`` on the cosine of the positive pair (LaBSE: 0.3).
            scale: Logit scale (not from the papers: 20, as the other crossalign losses).
            similarity_fct: Similarity of two embedding matrices (default cosine).
            gather_across_devices: Use all ranks' sentences as candidates (LaBSE's cross-accelerator negatives).

        Inputs:
            +---------+-----------------------------+--------+
            | Column  | Text                        | Labels |
            +=========+=============================+========+
            | source  | sentence                    | none   |
            +---------+-----------------------------+--------+
            | target  | its translation             |        |
            +---------+-----------------------------+--------+

        Requirements:
            1. Columns ``source``, ``target``, in this order.

        Returns:
            ``{"source_to_target", "target_to_source"}``; the trainer sums and logs them.

        Relations:
            - With ``margin=0`` it is twice :class:`~crossalign.losses.SymmetricInfoNCELoss` on the same pairs.

        References:
            - Yang et al., IJCAI 2019, https://arxiv.org/abs/1902.08564
            - Feng et al., Language-agnostic BERT Sentence Embedding, ACL 2022, https://arxiv.org/abs/2007.01852

        Example::

            from crossalign.losses import AdditiveMarginRankingLoss

            model = SentenceTransformer("FacebookAI/xlm-roberta-base")
            train_dataset = Dataset.from_dict({
                "source": ["The cat sleeps.", "It is raining."],
                "target": ["Die Katze schläft.", "Es regnet."],
            })
            loss = AdditiveMarginRankingLoss(model, margin=0.3)
        """
        super().__init__(model, scale, similarity_fct, gather_across_devices)
        if isinstance(margin, bool) or not isinstance(margin, int | float) or not 0 <= margin < 2:
            raise ConfigError(f"margin must be a number in [0, 2), got {margin!r}.", hint="LaBSE uses 0.3")
        self.margin = float(margin)

    def ordered_columns(self, column_names: Sequence[str]) -> list[str]:
        expected = ["source", "target"]
        check_names(self.loss_name, expected, self.found_columns(column_names))
        return expected

    def compute_loss_from_embeddings(
        self, embeddings: Sequence[Tensor], labels: Tensor | None = None
    ) -> dict[str, Tensor]:
        self.check_width(len(embeddings), ["source", "target"])
        return additive_margin_ranking_components(
            embeddings[0],
            embeddings[1],
            margin=self.margin,
            scale=self.scale,
            similarity_fct=self.similarity_fct,
            gather_across_devices=self.gather_across_devices,
        )
