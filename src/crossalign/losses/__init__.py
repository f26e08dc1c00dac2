"""Training objectives for cross-lingual retrieval, as sentence-transformers v6 losses.

Every loss reads its dataset columns by name: the trainer passes them by position, so call
``loss.validate_columns(dataset.column_names)`` (or ``dataset = loss.select_columns(dataset)``) on each dataset
before training. :func:`build_loss` builds a loss from a method name (see :data:`LOSSES`);
:class:`BaseAnchorLoss` wraps any of them with a term that keeps the embeddings close to the frozen base model.

The math of each loss is also a plain function of embeddings (``clear_components``, ``jsd_alignment_components``,
``multiway_pairwise_loss``, ``multiway_supcon_loss``, ``additive_margin_ranking_components``).

Each loss's example builds ``model`` (a ``SentenceTransformer``), ``train_dataset`` (a ``datasets.Dataset`` with
the loss's columns) and ``loss``; checking the columns and training are then the same for every loss
(sentence-transformers' own loop)::

    from sentence_transformers import SentenceTransformerTrainer

    loss.validate_columns(train_dataset.column_names)
    trainer = SentenceTransformerTrainer(model=model, train_dataset=train_dataset, loss=loss)
    trainer.train()
"""

from __future__ import annotations

from crossalign.losses.base_anchor import BaseAnchorLoss
from crossalign.losses.cached_clear import CachedCLEARLoss
from crossalign.losses.clear import CLEARLoss, clear_components, clear_weights
from crossalign.losses.distillation import MultilingualDistillationLoss, add_teacher_embeddings
from crossalign.losses.infonce import InfoNCELoss
from crossalign.losses.jsd_alignment import JSDAlignmentLoss, jsd_alignment_components
from crossalign.losses.multiway import MultiWayContrastiveLoss, multiway_pairwise_loss, multiway_supcon_loss
from crossalign.losses.registry import LOSSES, LossSpec, build_loss, get_spec
from crossalign.losses.symmetric_infonce import SymmetricInfoNCELoss
from crossalign.losses.translation_ranking import AdditiveMarginRankingLoss, additive_margin_ranking_components

__all__ = [
    "LOSSES",
    "AdditiveMarginRankingLoss",
    "BaseAnchorLoss",
    "CLEARLoss",
    "CachedCLEARLoss",
    "InfoNCELoss",
    "JSDAlignmentLoss",
    "LossSpec",
    "MultiWayContrastiveLoss",
    "MultilingualDistillationLoss",
    "SymmetricInfoNCELoss",
    "add_teacher_embeddings",
    "additive_margin_ranking_components",
    "build_loss",
    "clear_components",
    "clear_weights",
    "get_spec",
    "jsd_alignment_components",
    "multiway_pairwise_loss",
    "multiway_supcon_loss",
]
