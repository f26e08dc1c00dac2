"""Symmetric InfoNCE baseline (query → passage and passage → query) on sentence-transformers' MNRL."""

from __future__ import annotations

from sentence_transformers.util import cos_sim
from torch import nn

from crossalign.losses._common import SimilarityFct
from crossalign.losses.infonce import _NamedColumnsMNRL


class SymmetricInfoNCELoss(_NamedColumnsMNRL):
    loss_name = "SymmetricInfoNCELoss"

    def __init__(
        self,
        model: nn.Module,
        scale: float = 20.0,
        similarity_fct: SimilarityFct = cos_sim,
        gather_across_devices: bool = False,
        num_negatives: int | None = None,
    ) -> None:
        """Symmetric InfoNCE: ``½(CE(anchor → positives ∪ negatives) + CE(positive → anchors))``.

        sentence-transformers'
        :class:`~sentence_transformers.sentence_transformer.losses.MultipleNegativesRankingLoss` with
        ``directions=("query_to_doc", "doc_to_query")`` and ``partition_mode="per_direction"`` (the replacement of
        the deprecated ``MultipleNegativesSymmetricRankingLoss``): one softmax per direction, averaged. Hard
        negatives, when present, are candidates of the anchor → passage direction only. crossalign adds column
        validation by name and a batch-width check.

        Args:
            model, scale, similarity_fct, gather_across_devices, num_negatives: As in
                :class:`~crossalign.losses.InfoNCELoss`.

        Inputs:
            +------------------------------+----------------------------------------------+--------+
            | Column                       | Text                                         | Labels |
            +==============================+==============================================+========+
            | anchor                       | query or sentence                            | none   |
            +------------------------------+----------------------------------------------+--------+
            | positive                     | its passage or translation                   |        |
            +------------------------------+----------------------------------------------+--------+
            | negative_1..negative_n       | optional hard negatives (anchor → positive   |        |
            | (or negative)                | direction only)                              |        |
            +------------------------------+----------------------------------------------+--------+

        Requirements:
            1. The columns above, by name and in this order (:meth:`validate_columns`).

        Returns:
            The loss as a tensor.

        Relations:
            - :class:`~crossalign.losses.MultiWayContrastiveLoss` with two columns (pairwise mode) computes the same
              value without hard negatives; it is the English-centric En–X baseline.
            - :class:`~crossalign.losses.InfoNCELoss` is the one-directional version.

        References:
            - Günther et al., Jina Embeddings 2, 2023, https://arxiv.org/abs/2310.19923
            - Yang et al., Improving Multilingual Sentence Embedding using Bi-directional Dual Encoder with Additive
              Margin Softmax, IJCAI 2019, https://arxiv.org/abs/1902.08564

        Example::

            from crossalign.losses import SymmetricInfoNCELoss

            model = SentenceTransformer("intfloat/multilingual-e5-small")
            train_dataset = Dataset.from_dict({
                "anchor": ["The cat sleeps.", "It is raining."],
                "positive": ["Die Katze schläft.", "Es regnet."],
            })
            loss = SymmetricInfoNCELoss(model)
        """
        super().__init__(
            model,
            scale,
            similarity_fct,
            gather_across_devices,
            num_negatives,
            directions=("query_to_doc", "doc_to_query"),
            partition_mode="per_direction",
        )
