"""Multilingual knowledge distillation (Reimers & Gurevych 2020) on sentence-transformers' MSELoss."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from sentence_transformers.sentence_transformer.losses import MSELoss
from torch import Tensor, nn

from crossalign.errors import DataFormatError
from crossalign.losses._columns import (
    NamedColumnsMixin,
    check_names,
    label_columns,
    text_columns,
)
from crossalign.losses._common import strip_foreign_keys
from crossalign.utils.checks import check_count

DISTILLATION_CITATION = """
@inproceedings{reimers-2020-multilingual-sentence-bert,
    title = "Making Monolingual Sentence Embeddings Multilingual using Knowledge Distillation",
    author = "Reimers, Nils and Gurevych, Iryna",
    booktitle = "Proceedings of the 2020 Conference on Empirical Methods in Natural Language Processing",
    month = "11",
    year = "2020",
    publisher = "Association for Computational Linguistics",
    url = "https://arxiv.org/abs/2004.09813",
}
"""


class MultilingualDistillationLoss(NamedColumnsMixin, MSELoss):
    loss_name = "MultilingualDistillationLoss"
    citation = DISTILLATION_CITATION

    def __init__(self, model: nn.Module, projection_dim: int | None = None) -> None:
        """Multilingual knowledge distillation: the student's embeddings of a source sentence and of its
        translation are both regressed onto the frozen teacher's embedding of the source sentence, so the student
        maps translations to the same point the teacher gives the source.

        This is sentence-transformers' :class:`~sentence_transformers.sentence_transformer.losses.MSELoss` with the
        teacher embedding as the label (a 2-D label is broadcast to both columns); crossalign adds column
        validation by name and a dimension check. Add the label column with :func:`add_teacher_embeddings`.

        The value is ``½ (mean_d (s(src) - t(src))² + mean_d (s(tgt) - t(src))²)`` averaged over the batch: the
        paper's sum of the two squared distances divided by ``2 · dim``, a constant factor (absorbed by the
        learning rate).

        Args:
            model: The student SentenceTransformer model.
            projection_dim: If the student's dimension differs from the teacher's: a learnable linear projection of
                the student embeddings to ``projection_dim`` (MSELoss's option; it lives on the loss).

        Inputs:
            +---------+---------------------------------------------+-----------------------------------------+
            | Column  | Text                                        | Labels                                  |
            +=========+=============================================+=========================================+
            | source  | source-language sentence (usually English)  | ``label``: the teacher's embedding of   |
            +---------+---------------------------------------------+ ``source``, ``(teacher_dim,)`` per row  |
            | target  | its translation                             |                                         |
            +---------+---------------------------------------------+-----------------------------------------+

        Requirements:
            1. Columns ``source``, ``target`` (in this order) and ``label``.
            2. The label's dimension equals the student's (or ``projection_dim``).

        Returns:
            The loss as a tensor.

        Relations:
            - :class:`~crossalign.losses.MultiWayContrastiveLoss` aligns translations contrastively, without a
              teacher.

        References:
            - Reimers & Gurevych, Making Monolingual Sentence Embeddings Multilingual using Knowledge Distillation,
              EMNLP 2020, https://arxiv.org/abs/2004.09813

        Example::

            from crossalign.losses import MultilingualDistillationLoss, add_teacher_embeddings

            teacher = SentenceTransformer("sentence-transformers/all-MiniLM-L12-v2")
            student = SentenceTransformer("sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2")
            pairs = Dataset.from_dict({
                "source": ["The cat sleeps.", "It is raining."],
                "target": ["Die Katze schläft.", "Es regnet."],
            })
            train_dataset = add_teacher_embeddings(pairs, teacher)
            loss = MultilingualDistillationLoss(student)
        """
        super().__init__(model, projection_dim=projection_dim)
        self.columns: list[str] | None = None

    def ordered_columns(self, column_names: Sequence[str]) -> list[str]:
        column_names = list(column_names)
        found = text_columns(column_names)
        expected = ["source", "target"]
        check_names(self.loss_name, expected, found)
        labels = label_columns(column_names)
        if labels != ["label"]:
            raise DataFormatError(
                f"{self.loss_name} needs exactly one label column named 'label' holding the teacher's embedding of "
                f"'source', found label columns {labels}.",
                field="label",
                hint="dataset = add_teacher_embeddings(dataset, teacher)",
            )
        return expected

    def compute_loss_from_embeddings(self, embeddings: list[Tensor], teacher_embeddings: list[Tensor]) -> Tensor:
        expected = self.projection.out_features if self.projection is not None else embeddings[0].size(-1)
        if teacher_embeddings[0].size(-1) != expected:
            raise ValueError(
                f"{self.loss_name}: the teacher embeddings (label) have dimension {teacher_embeddings[0].size(-1)}, "
                f"the student's {'projected ' if self.projection is not None else ''}embeddings {expected}. Build the "
                f"loss with projection_dim={teacher_embeddings[0].size(-1)} or use a teacher of the same dimension."
            )
        return super().compute_loss_from_embeddings(embeddings, teacher_embeddings)

    def forward(self, sentence_features: Iterable[dict[str, Tensor]], labels: Tensor | None) -> Tensor:
        features = [strip_foreign_keys(f) for f in sentence_features]
        self.check_width(len(features), ["source", "target"])
        return super().forward(features, labels)

    def get_config_dict(self) -> dict[str, Any]:
        return {**super().get_config_dict(), "columns": self.columns}


def add_teacher_embeddings(
    dataset: Any,
    teacher: Any,
    *,
    source_column: str = "source",
    label_column: str = "label",
    batch_size: int = 64,
    overwrite: bool = False,
    show_progress_bar: bool = False,
) -> Any:
    """Add the frozen teacher's embedding of ``source_column`` as ``label_column`` to a dataset of (source, target)
    pairs, for :class:`MultilingualDistillationLoss`.

    The teacher only encodes (no gradients, eval mode), once per row; the embeddings are stored as float lists.

    Args:
        dataset: A ``datasets.Dataset`` with the source column.
        teacher: A SentenceTransformer (anything with ``encode(list[str], batch_size=..., convert_to_numpy=True)``).
        source_column: The column the teacher encodes.
        label_column: The column to add.
        batch_size: Encoding batch size.
        overwrite: Replace an existing ``label_column`` instead of raising.
        show_progress_bar: Show the encoding progress bar.

    Returns:
        The dataset with the label column added.
    """
    check_count(batch_size, "batch_size", minimum=1, optional=False)
    if source_column not in dataset.column_names:
        raise DataFormatError(
            f"add_teacher_embeddings: column {source_column!r} not in {dataset.column_names}.",
            field=source_column,
            hint="pass source_column=... naming the column the teacher should encode",
        )
    if label_column in dataset.column_names:
        if not overwrite:
            raise DataFormatError(
                f"add_teacher_embeddings: the dataset already has a {label_column!r} column.",
                field=label_column,
                hint="pass overwrite=True to replace it",
            )
        dataset = dataset.remove_columns([label_column])

    was_training = getattr(teacher, "training", False)
    if hasattr(teacher, "eval"):
        teacher.eval()
    try:

        def encode(batch: dict[str, list[Any]]) -> dict[str, list[list[float]]]:
            embeddings = teacher.encode(
                list(batch[source_column]),
                batch_size=batch_size,
                convert_to_numpy=True,
                show_progress_bar=show_progress_bar,
            )
            return {label_column: embeddings.tolist()}

        # An explicit fingerprint: otherwise `datasets` hashes the closure, i.e. pickles the whole teacher model.
        return dataset.map(encode, batched=True, batch_size=batch_size, new_fingerprint=uuid.uuid4().hex)
    finally:
        if was_training and hasattr(teacher, "train"):
            teacher.train()
