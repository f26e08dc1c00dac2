"""InfoNCE baseline (q_x → English passage, optional hard negatives) on sentence-transformers' MNRL."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Literal

from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss
from sentence_transformers.util import cos_sim
from torch import Tensor, nn

from crossalign.errors import ConfigError, DataFormatError
from crossalign.losses._columns import NamedColumnsMixin, check_names, numbered, numbered_group
from crossalign.losses._common import SimilarityFct, check_bool, check_scale, check_similarity, strip_foreign_keys
from crossalign.utils.checks import check_count

HardnessMode = Literal["in_batch_negatives", "hard_negatives", "all_negatives"]


class _NamedColumnsMNRL(NamedColumnsMixin, MultipleNegativesRankingLoss):
    """MultipleNegativesRankingLoss reading ``anchor, positive, negative_1..n`` by name (``negative`` for one); its
    arguments checked as crossalign's (ConfigError)."""

    loss_name = "MultipleNegativesRankingLoss"

    def __init__(
        self,
        model: nn.Module,
        scale: float,
        similarity_fct: SimilarityFct,
        gather_across_devices: bool,
        num_negatives: int | None,
        **mnrl_kwargs: Any,
    ) -> None:
        scale, similarity_fct = check_scale(scale), check_similarity(similarity_fct)
        gather_across_devices = check_bool(gather_across_devices, "gather_across_devices")
        try:
            super().__init__(model, scale, similarity_fct, gather_across_devices=gather_across_devices, **mnrl_kwargs)
        except ValueError as error:  # MNRL's own checks, re-raised as a crossalign configuration error
            raise ConfigError(f"{self.loss_name}: {error}") from error
        self.num_negatives = check_count(num_negatives, "num_negatives")

    @staticmethod
    def expected_columns(num_negatives: int) -> list[str]:
        return ["anchor", "positive", *numbered(num_negatives, "negative_")]

    def ordered_columns(self, column_names: Sequence[str]) -> list[str]:
        found = self.found_columns(column_names)
        negatives = numbered_group(found, "negative_", loss_name=self.loss_name, bare="negative")
        expected = ["anchor", "positive", *negatives]
        check_names(self.loss_name, expected, found, required=("anchor", "positive"), known=("negative_1", "negative"))
        if self.num_negatives is not None and len(negatives) != self.num_negatives:
            raise DataFormatError(
                f"{self.loss_name}: the loss was built for {self.num_negatives} hard negatives, the dataset has "
                f"{len(negatives)}.",
                hint="leave num_negatives=None to follow the dataset",
            )
        return expected

    def _bind_columns(self, columns: list[str]) -> None:
        self.columns = list(columns)
        self.num_negatives = len(columns) - 2

    def forward(self, sentence_features: Iterable[dict[str, Tensor]], labels: Tensor | None = None) -> Tensor:
        features = [strip_foreign_keys(f) for f in sentence_features]
        if self.num_negatives is not None:
            self.check_width(len(features), self.columns or self.expected_columns(self.num_negatives))
        return super().forward(features, labels)

    def get_config_dict(self) -> dict[str, Any]:
        return {**super().get_config_dict(), "num_negatives": self.num_negatives, "columns": self.columns}


class InfoNCELoss(_NamedColumnsMNRL):
    loss_name = "InfoNCELoss"

    def __init__(
        self,
        model: nn.Module,
        scale: float = 20.0,
        similarity_fct: SimilarityFct = cos_sim,
        gather_across_devices: bool = False,
        hardness_mode: HardnessMode | None = None,
        hardness_strength: float = 0.0,
        num_negatives: int | None = None,
    ) -> None:
        """InfoNCE (in-batch negatives plus optional hard negatives): each anchor must rank its positive above every
        other positive and negative of the batch. This is sentence-transformers'
        :class:`~sentence_transformers.sentence_transformer.losses.MultipleNegativesRankingLoss` with its defaults
        (``directions=("query_to_doc",)``, ``partition_mode="joint"``); crossalign adds validation of the columns by
        name (an extra parallel column would otherwise silently become a hard negative) and a batch-width check.

        In CLEAR's paper the InfoNCE baseline trains the target-language query q_x against the English passage:
        ``anchor`` = q_x, ``positive`` = d+ (English), ``negative_k`` = English hard negatives.

        Args:
            model: SentenceTransformer model.
            scale: Logit scale ``1/temperature`` (20).
            similarity_fct: Similarity of two embedding matrices (default cosine).
            gather_across_devices: Use all ranks' candidates (MNRL's implementation).
            hardness_mode: MNRL's optional hardness weighting (None: off).
            hardness_strength: Its strength.
            num_negatives: Number of hard-negative columns (None: from :meth:`validate_columns`).

        Inputs:
            +------------------------------+----------------------------------------------+--------+
            | Column                       | Text                                         | Labels |
            +==============================+==============================================+========+
            | anchor                       | query (in the baseline: target-language q_x) | none   |
            +------------------------------+----------------------------------------------+--------+
            | positive                     | its passage (in the baseline: English d+)    |        |
            +------------------------------+----------------------------------------------+--------+
            | negative_1..negative_n       | optional hard-negative passages (a single    |        |
            | (or negative)                | one may be named ``negative``)               |        |
            +------------------------------+----------------------------------------------+--------+

        Requirements:
            1. The columns above, by name and in this order (:meth:`validate_columns`).

        Returns:
            The loss as a tensor.

        Relations:
            - :class:`~crossalign.losses.SymmetricInfoNCELoss` adds the passage → query direction.
            - :class:`~crossalign.losses.CLEARLoss` is the method this baseline is compared with.

        References:
            - van den Oord et al., Representation Learning with Contrastive Predictive Coding, 2018,
              https://arxiv.org/abs/1807.03748
            - Henderson et al., Efficient Natural Language Response Suggestion for Smart Reply, 2017,
              https://arxiv.org/abs/1705.00652

        Example::

            from crossalign.losses import InfoNCELoss

            model = SentenceTransformer("intfloat/multilingual-e5-small")
            train_dataset = Dataset.from_dict({
                "anchor": ["query: Wer schrieb Faust?", "query: Wie hoch ist der Mont Blanc?"],
                "positive": ["passage: Goethe wrote Faust.", "passage: Mont Blanc is 4,806 m high."],
                "negative_1": ["passage: Schiller wrote plays.", "passage: The Alps span eight countries."],
            })
            loss = InfoNCELoss(model)
        """
        super().__init__(
            model,
            scale,
            similarity_fct,
            gather_across_devices,
            num_negatives,
            directions=("query_to_doc",),
            partition_mode="joint",
            hardness_mode=hardness_mode,
            hardness_strength=hardness_strength,
        )
