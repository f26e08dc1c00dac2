"""InfoNCE + λ·JSD distribution-level alignment against English inclination (Hong et al., ICLR 2026)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, get_args

import torch
import torch.nn.functional as F
from sentence_transformers.util import cos_sim
from torch import Tensor, nn

from crossalign.errors import DataFormatError
from crossalign.losses._columns import check_names
from crossalign.losses._common import (
    SimilarityFct,
    SimilarityLoss,
    check_bool,
    check_scale,
    check_weight,
    gather_with_grad,
    log_space_jsd,
    masked_positive_nll,
    scaled_similarity,
)
from crossalign.utils.checks import check_choice

JSD_CITATION = """
@inproceedings{hong2026englishinclination,
    title={Semantic proximity and English inclination in multilingual retrieval (working title; see arXiv 2604.05684)},
    author={Hong and Jang and Lee and Moon and Lim},
    booktitle={International Conference on Learning Representations (ICLR)},
    year={2026},
    eprint={2604.05684},
    archivePrefix={arXiv},
    primaryClass={cs.CL},
    url={https://arxiv.org/abs/2604.05684},
}
"""

JSDMode = Literal["candidates", "embedding"]
JSD_MODES: tuple[str, ...] = get_args(JSDMode)


def jsd_candidates(
    d_en: Tensor, d_x: Tensor | None = None, *, gather_across_devices: bool = False
) -> tuple[Tensor, list[Tensor]]:
    """The candidate set ``C = [d_en of all N rows, d_x of all N rows]`` (gathered across ranks when asked) and, for
    each gold kind, the column of each local row's gold in ``C`` (``offset + i``, then ``N + offset + i``)."""
    passages = [d_en] if d_x is None else [d_en, d_x]
    gathered, offset = gather_with_grad(passages, gather_across_devices)
    n_rows = gathered[0].size(0)
    rows = torch.arange(d_en.size(0), device=d_en.device)
    return torch.cat(gathered, dim=0), [rows + offset + k * n_rows for k in range(len(passages))]


def jsd_alignment_components(
    q_x: Tensor,
    q_en: Tensor,
    d_en: Tensor,
    d_x: Tensor | None = None,
    *,
    scale: float = 20.0,
    jsd_mode: JSDMode = "candidates",
    embedding_scale: float = 20.0,
    similarity_fct: SimilarityFct = cos_sim,
    gather_across_devices: bool = False,
) -> dict[str, Tensor]:
    """The unweighted terms ``{"infonce", "jsd"}`` (batch means) from embeddings.

    Candidate set ``C`` = every ``d_en`` in the batch, then every ``d_x`` when given (gathered across ranks when
    ``gather_across_devices``): ``C = [d_en_1..d_en_N, d_x_1..d_x_N]``.

    - ``infonce``: anchor ``q_x,i`` over ``C``. Each of the row's gold passages (``d_en_i`` and, when present,
      ``d_x_i``) is a target in turn, with the row's *other* gold removed from the denominator (parallel passages are
      never each other's negatives); the row's loss is the mean over its golds. Without ``d_x`` this is plain InfoNCE.
    - ``jsd`` (``jsd_mode="candidates"``): ``JSD(P_i, Q_i)`` with ``P_i = softmax(s(q_x,i, C))`` and
      ``Q_i = softmax(s(q_en,i, C))`` over the same, unmasked ``C``, computed in log space.
    - ``jsd`` (``jsd_mode="embedding"``): ``JSD(softmax(e·q̂_x,i), softmax(e·q̂_en,i))`` over the embedding
      dimensions of the L2-normalised query embeddings, ``e = embedding_scale``.

    Args:
        q_x: ``(B, d)`` target-language queries (column ``query``).
        q_en: ``(B, d)`` the same queries in English (``query_en``).
        d_en: ``(B, d)`` English gold passages (``positive``).
        d_x: ``(B, d)`` target-language gold passages (``positive_x``), or None.
        scale: Logit scale of ``s`` (1/temperature).
        jsd_mode: Which distributions the JSD compares (see above).
        embedding_scale: Scale of the embedding-as-distribution softmax (``jsd_mode="embedding"`` only).
        similarity_fct: Similarity of two embedding matrices.
        gather_across_devices: Gather the passages of all ranks into ``C`` (queries stay per rank).
    """
    check_choice(jsd_mode, JSD_MODES, "jsd_mode")
    candidates, golds = jsd_candidates(d_en, d_x, gather_across_devices=gather_across_devices)
    rows = torch.arange(q_x.size(0), device=q_x.device)

    logits_x = scaled_similarity(similarity_fct, scale, q_x, candidates)
    own_golds = torch.zeros_like(logits_x, dtype=torch.bool)
    for gold in golds:
        own_golds[rows, gold] = True
    infonce = torch.stack([masked_positive_nll(logits_x, gold, own_golds) for gold in golds]).mean(dim=0)

    if jsd_mode == "candidates":
        logits_en = scaled_similarity(similarity_fct, scale, q_en, candidates)
        jsd = log_space_jsd(F.log_softmax(logits_x, dim=1), F.log_softmax(logits_en, dim=1))
    else:  # "embedding"
        log_p = F.log_softmax(embedding_scale * F.normalize(q_x, dim=-1), dim=-1)
        log_q = F.log_softmax(embedding_scale * F.normalize(q_en, dim=-1), dim=-1)
        jsd = log_space_jsd(log_p, log_q)
    return {"infonce": infonce.mean(), "jsd": jsd.mean()}


class JSDAlignmentLoss(SimilarityLoss):
    loss_name = "JSDAlignmentLoss"
    citation = JSD_CITATION
    config_keys = (
        "jsd_weight scale jsd_mode embedding_scale similarity_fct gather_across_devices multi_reference columns"
    )

    def __init__(
        self,
        model: nn.Module,
        jsd_weight: float = 1.0,
        scale: float = 20.0,
        jsd_mode: JSDMode = "candidates",
        embedding_scale: float = 20.0,
        similarity_fct: SimilarityFct = cos_sim,
        gather_across_devices: bool = False,
        multi_reference: bool | None = None,
    ) -> None:
        """InfoNCE for a target-language query plus ``λ·JSD`` between its retrieval distribution and that of the
        same query in English: the target-language query should rank the pool the way the English query does,
        which counters "English inclination" (unrelated English passages ranked above the relevant
        same-language one in a mixed-language pool).

        ``L = InfoNCE + λ·JSD``. See :func:`jsd_alignment_components` for both terms. The paper publishes neither
        λ, the temperature, nor which distributions the JSD compares: every default here is **not from the paper**
        (our reading, the same lab's CLEAR KL as the model): λ = 1.0, scale = 20, JSD over the batch's passages,
        no stop-gradient on either query, the row's other gold passage masked out of the InfoNCE denominator.

        Args:
            model: SentenceTransformer model.
            jsd_weight: λ, the weight of the JSD term (not from the paper: 1.0).
            scale: Logit scale ``1/temperature`` for InfoNCE and the candidate distributions (not from the paper: 20).
            jsd_mode: ``"candidates"`` (default, ours): the JSD compares the softmax over the batch's passages for
                q_x and for q_en. ``"embedding"``: it compares the softmax over the embedding dimensions of the two
                query embeddings (the embedding-as-distribution reading).
            embedding_scale: Scale of the embedding-dimension softmax (``jsd_mode="embedding"``; not from the paper:
                20, applied to L2-normalised embeddings).
            similarity_fct: Similarity of two embedding matrices (default cosine).
            gather_across_devices: Gather the passages of all ranks into the candidate set (default False). Both
                distributions of the JSD are over the same gathered set. Needs equal per-rank batch sizes.
            multi_reference: Whether the dataset has a ``positive_x`` column. None: from :meth:`validate_columns`,
                else inferred from the number of columns (3 or 4).

        Column order (call :meth:`validate_columns` on the dataset): ``query, positive, query_en[, positive_x]``.

        Inputs:
            +------------+--------------------------------------------------------------+--------+
            | Column     | Text                                                         | Labels |
            +============+==============================================================+========+
            | query      | target-language query q_x                                    | none   |
            +------------+--------------------------------------------------------------+--------+
            | positive   | English gold passage d_en                                    |        |
            +------------+--------------------------------------------------------------+--------+
            | query_en   | the same query in English q_en                               |        |
            +------------+--------------------------------------------------------------+--------+
            | positive_x | optional: the parallel gold passage in the target language   |        |
            |            | d_x (multi-reference: both golds relevant)                   |        |
            +------------+--------------------------------------------------------------+--------+

        Requirements:
            1. The columns above, by name and in this order.
            2. ``jsd_weight >= 0``, ``scale > 0``.

        Returns:
            ``{"infonce": InfoNCE, "jsd": λ·JSD}`` (weighted); the trainer sums and logs them.

        Relations:
            - With ``jsd_weight=0`` and no ``positive_x`` this is
              :class:`~crossalign.losses.InfoNCELoss` on ``(query, positive)`` without hard negatives.
            - :class:`~crossalign.losses.CLEARLoss` aligns distributions with a KL term between a forward and a
              reverse task instead.

        References:
            - Hong, Jang, Lee, Moon, Lim, ICLR 2026, https://arxiv.org/abs/2604.05684 (no public code).

        Example::

            from crossalign.losses import JSDAlignmentLoss

            model = SentenceTransformer("intfloat/multilingual-e5-small")
            train_dataset = Dataset.from_dict({
                "query": ["query: Wer schrieb Faust?", "query: Wie hoch ist der Mont Blanc?"],
                "positive": ["passage: Goethe wrote Faust.", "passage: Mont Blanc is 4,806 m high."],
                "query_en": ["query: Who wrote Faust?", "query: How high is Mont Blanc?"],
                "positive_x": ["passage: Goethe schrieb Faust.", "passage: Der Mont Blanc ist 4806 m hoch."],
            })
            loss = JSDAlignmentLoss(model)
        """
        super().__init__(model, scale, similarity_fct, gather_across_devices)
        self.jsd_weight = check_weight(jsd_weight, "jsd_weight")
        self.jsd_mode = check_choice(jsd_mode, JSD_MODES, "jsd_mode")
        self.embedding_scale = check_scale(embedding_scale, "embedding_scale")
        if multi_reference is not None:
            check_bool(multi_reference, "multi_reference")
        self.multi_reference = multi_reference

    @staticmethod
    def expected_columns(multi_reference: bool) -> list[str]:
        return ["query", "positive", "query_en", *(["positive_x"] if multi_reference else [])]

    def ordered_columns(self, column_names: Sequence[str]) -> list[str]:
        found = self.found_columns(column_names)
        multi = "positive_x" in found
        expected = self.expected_columns(multi)
        check_names(self.loss_name, expected, found, shown=self.expected_columns(True))
        if self.multi_reference is not None and self.multi_reference != multi:
            raise DataFormatError(
                f"{self.loss_name}: the loss was built with multi_reference={self.multi_reference}, but the dataset "
                f"{'has' if multi else 'has no'} a positive_x column.",
                field="positive_x",
                hint="leave multi_reference=None to follow the dataset",
            )
        return expected

    def _bind_columns(self, columns: list[str]) -> None:
        self.columns = list(columns)
        self.multi_reference = "positive_x" in columns

    def _check_count(self, num_features: int) -> bool:
        """Whether the batch has ``positive_x``, checked against the bound layout."""
        if self.multi_reference is not None:
            self.check_width(num_features, self.expected_columns(self.multi_reference))
            return self.multi_reference
        if num_features not in (3, 4):
            raise ValueError(
                f"{self.loss_name} expects 3 or 4 columns (query, positive, query_en[, positive_x]), got "
                f"{num_features}. Call loss.validate_columns(dataset.column_names) before training."
            )
        return num_features == 4

    def compute_loss_from_embeddings(
        self, embeddings: Sequence[Tensor], labels: Tensor | None = None
    ) -> dict[str, Tensor]:
        multi = self._check_count(len(embeddings))
        q_x, d_en, q_en = embeddings[0], embeddings[1], embeddings[2]
        d_x = embeddings[3] if multi else None
        components = jsd_alignment_components(
            q_x,
            q_en,
            d_en,
            d_x,
            scale=self.scale,
            jsd_mode=self.jsd_mode,
            embedding_scale=self.embedding_scale,
            similarity_fct=self.similarity_fct,
            gather_across_devices=self.gather_across_devices,
        )
        return {"infonce": components["infonce"], "jsd": self.jsd_weight * components["jsd"]}

    def embedding_groups(self, num_columns: int) -> list[list[int]]:
        # The queries (query, query_en) and the passages (positive[, positive_x]) each share a forward pass.
        return [[0, 2], [1, 3] if self._check_count(num_columns) else [1]]
