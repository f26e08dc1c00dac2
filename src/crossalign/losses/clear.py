"""CLEAR: Cross-Lingual Enhancement in Retrieval via Reverse-training (Lee et al., ACL 2026)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from sentence_transformers.util import cos_sim
from torch import Tensor, nn

from crossalign.errors import ConfigError, DataFormatError
from crossalign.losses._columns import check_names, numbered, numbered_group
from crossalign.losses._common import (
    SimilarityFct,
    SimilarityLoss,
    check_bool,
    check_weight,
    gather_with_grad,
    scaled_similarity,
)
from crossalign.utils.checks import check_count

CLEAR_CITATION = """
@inproceedings{lee2026clear,
    title={{CLEAR}: Cross-Lingual Enhancement in Retrieval via Reverse-training},
    author={Lee and others},
    booktitle={Proceedings of the 64th Annual Meeting of the Association for Computational Linguistics (ACL)},
    pages={347--362},
    year={2026},
    eprint={2604.05821},
    archivePrefix={arXiv},
    primaryClass={cs.CL},
    url={https://arxiv.org/abs/2604.05821},
}
"""


def clear_weights(alpha: float, beta: float, use_kl: bool) -> dict[str, float]:
    """The weight of each component: ``(1-α-β, α, β)`` with KL, ``(1-α, α)`` without."""
    if use_kl:
        return {"forward": 1.0 - alpha - beta, "reverse": alpha, "kl": beta}
    return {"forward": 1.0 - alpha, "reverse": alpha}


@dataclass
class CLEARCandidates:
    """The (possibly gathered) candidate sets of one CLEAR batch.

    Attributes:
        passages: ``(N * (1 + n_p), d)``: ``[d+ of all N rows, negative_1 of all rows, ..., negative_n of all rows]``.
        queries: ``(N * (1 + n_q), d)``: ``[q_x of all N rows, neg_query_1 of all rows, ...]``, the same layout, so
            column ``j`` of the forward and the reverse distributions belong to the same row and slot.
        offset: Row index of this rank's first row among the ``N`` gathered rows (0 when not gathering).
    """

    passages: Tensor
    queries: Tensor
    offset: int


def clear_candidates(
    d_pos: Tensor,
    d_negs: Sequence[Tensor],
    q_x: Tensor,
    q_negs: Sequence[Tensor],
    *,
    gather_across_devices: bool = False,
) -> CLEARCandidates:
    """Build (and optionally gather across ranks) the forward and reverse candidate sets."""
    gathered, offset = gather_with_grad([d_pos, *d_negs, q_x, *q_negs], gather_across_devices)
    n_p = len(d_negs)
    return CLEARCandidates(
        passages=torch.cat(gathered[: 1 + n_p], dim=0),
        queries=torch.cat(gathered[1 + n_p :], dim=0),
        offset=offset,
    )


def clear_logits(
    q_en: Tensor,
    d_pos: Tensor,
    candidates: CLEARCandidates,
    *,
    scale: float = 20.0,
    similarity_fct: SimilarityFct = cos_sim,
) -> tuple[Tensor, Tensor]:
    """Forward logits ``s(q_en, passages)`` and reverse logits ``s(d+, queries)`` for the given anchor rows."""
    forward = scaled_similarity(similarity_fct, scale, q_en, candidates.passages)
    reverse = scaled_similarity(similarity_fct, scale, d_pos, candidates.queries)
    return forward, reverse


def clear_row_losses(
    forward_logits: Tensor, reverse_logits: Tensor, labels: Tensor, *, use_kl: bool
) -> dict[str, Tensor]:
    """Unweighted per-row CLEAR terms (``(R,)`` each).

    - ``forward``: ``CE(forward_logits, labels)``, anchor q_en, target its own d+;
    - ``reverse``: ``CE(reverse_logits, labels)``, anchor d+, target its own q_x;
    - ``kl``: ``KL(P_rev ‖ P_fwd) = Σ_j P_rev[j] (log P_rev[j] - log P_fwd[j])``, the per-row term of
      ``F.kl_div(log_softmax(fwd), softmax(rev), reduction="batchmean")`` (computed with ``log_target=True``, the same
      value, stable when a probability underflows). No stop-gradient on either side.
    """
    rows = {
        "forward": F.cross_entropy(forward_logits, labels, reduction="none"),
        "reverse": F.cross_entropy(reverse_logits, labels, reduction="none"),
    }
    if use_kl:
        if forward_logits.shape != reverse_logits.shape:
            raise ValueError(
                f"CLEAR's KL term needs forward and reverse distributions of equal width, got "
                f"{forward_logits.shape[1]} passages and {reverse_logits.shape[1]} queries: use as many neg_query_* "
                "columns as negative_* columns, or use_kl=False."
            )
        log_p_fwd = F.log_softmax(forward_logits, dim=1)
        log_p_rev = F.log_softmax(reverse_logits, dim=1)
        rows["kl"] = F.kl_div(log_p_fwd, log_p_rev, reduction="none", log_target=True).sum(dim=1)
    return rows


def clear_components(
    q_en: Tensor,
    d_pos: Tensor,
    d_negs: Sequence[Tensor],
    q_x: Tensor,
    q_negs: Sequence[Tensor],
    *,
    scale: float = 20.0,
    use_kl: bool = True,
    similarity_fct: SimilarityFct = cos_sim,
    gather_across_devices: bool = False,
) -> dict[str, Tensor]:
    """The unweighted CLEAR terms from embeddings: ``{"forward", "reverse"[, "kl"]}``, each a batch mean.

    Args:
        q_en: ``(B, d)`` English queries (column ``anchor``).
        d_pos: ``(B, d)`` English positive passages (``positive``).
        d_negs: ``n_p`` tensors ``(B, d)``, the hard-negative passages (``negative_1..n``).
        q_x: ``(B, d)`` target-language queries (``cross_anchor``).
        q_negs: ``n_q`` tensors ``(B, d)``, the hard-negative target-language queries (``neg_query_1..n``).
        scale: Logit scale (1/temperature).
        use_kl: Compute the KL term (needs ``n_p == n_q``).
        similarity_fct: Similarity of two embedding matrices.
        gather_across_devices: Use the candidates of all ranks (each rank keeps its own anchors; labels are offset by
            the rank's first row).

    Use :func:`clear_weights` to weight them (``CLEARLoss`` returns the weighted dict).
    """
    candidates = clear_candidates(d_pos, d_negs, q_x, q_negs, gather_across_devices=gather_across_devices)
    forward, reverse = clear_logits(q_en, d_pos, candidates, scale=scale, similarity_fct=similarity_fct)
    labels = torch.arange(q_en.size(0), device=q_en.device) + candidates.offset
    rows = clear_row_losses(forward, reverse, labels, use_kl=use_kl)
    return {name: value.mean() for name, value in rows.items()}


class CLEARLoss(SimilarityLoss):
    loss_name = "CLEARLoss"
    citation = CLEAR_CITATION
    config_keys = (
        "scale alpha beta use_kl similarity_fct gather_across_devices num_negatives num_query_negatives columns"
    )

    def __init__(
        self,
        model: nn.Module,
        scale: float = 20.0,
        alpha: float = 0.4,
        beta: float = 0.2,
        use_kl: bool = True,
        similarity_fct: SimilarityFct = cos_sim,
        gather_across_devices: bool = False,
        num_negatives: int | None = None,
        num_query_negatives: int | None = None,
    ) -> None:
        """CLEAR trains an English query to find its English passage (forward), and the English passage to find the
        target-language query (reverse: the passage is the bridge between the languages), and aligns the two
        retrieval distributions with a KL term.

        With ``s(a, b) = scale · cos(a, b)`` and the candidates of the batch:

        - forward ``L_fwd``: cross-entropy of q_en over {every d+} ∪ {every negative passage}, target its own d+;
        - reverse ``L_rev``: cross-entropy of **d+** over {every q_x} ∪ {every negative query}, target its own q_x;
        - ``L_kl = KL(P_rev ‖ P_fwd)``, batch mean, i.e.
          ``F.kl_div(log_softmax(fwd), softmax(rev), reduction="batchmean")``, without stop-gradient. Candidate ``j`` of
          the two distributions is the same row and slot (``d+_j`` ↔ ``q_x,j``, ``negative_k`` of row ``j`` ↔
          ``neg_query_k`` of row ``j``), so the KL needs as many query negatives as passage negatives;
        - ``L = (1-α-β)·L_fwd + α·L_rev + β·L_kl``; without KL ``(1-α)·L_fwd + α·L_rev``.

        q_x is never an anchor (the loss is not symmetric).

        Args:
            model: SentenceTransformer model.
            scale: Logit scale, ``1/temperature`` (paper: 20, i.e. temperature 0.05).
            alpha: Weight of the reverse term (paper: 0.4).
            beta: Weight of the KL term (paper: 0.2); ignored when ``use_kl=False``.
            use_kl: Add the KL term. Default True here; the reference code's default is False but its training
                script turns it on (``--kl_div``), which is the configuration the paper reports.
            similarity_fct: Similarity of two embedding matrices (default cosine).
            gather_across_devices: Use the passages and queries of all ranks as candidates (anchors stay per rank,
                labels are offset by the rank). Default False, as in the reference (per-device negatives). Forward
                and reverse are gathered the same way, so the KL compares distributions over the same gathered
                candidate slots. Needs equal per-rank batch sizes (``dataloader_drop_last=True``).
            num_negatives: Number of ``negative_*`` columns. None: taken from :meth:`validate_columns`, else
                inferred from the batch assuming as many query negatives as passage negatives.
            num_query_negatives: Number of ``neg_query_*`` columns (None: like ``num_negatives``). Unequal counts
                need ``use_kl=False``.

        Column order (the trainer passes columns by position; call :meth:`validate_columns` on the dataset):
            ``anchor, positive, negative_1, ..., negative_n, cross_anchor, neg_query_1, ..., neg_query_m``

        Inputs:
            +---------------------------+--------------------------------------------------+--------+
            | Column                    | Text                                             | Labels |
            +===========================+==================================================+========+
            | anchor                    | English query q_en                               | none   |
            +---------------------------+--------------------------------------------------+--------+
            | positive                  | English passage d+ answering it                  |        |
            +---------------------------+--------------------------------------------------+--------+
            | negative_1..negative_n    | English hard-negative passages (n >= 0)          |        |
            +---------------------------+--------------------------------------------------+--------+
            | cross_anchor              | the same query in the target language, q_x       |        |
            +---------------------------+--------------------------------------------------+--------+
            | neg_query_1..neg_query_m  | target-language hard-negative queries (m = n     |        |
            |                           | with KL)                                         |        |
            +---------------------------+--------------------------------------------------+--------+

        Requirements:
            1. The columns above, by name and in this order (:meth:`validate_columns` checks both).
            2. With ``use_kl=True``: as many ``neg_query_*`` as ``negative_*`` columns.
            3. ``0 <= alpha``, ``0 <= beta`` and ``alpha + beta <= 1`` (``alpha <= 1`` without KL).

        Recommendations:
            - ``BatchSamplers.NO_DUPLICATES``, so that no in-batch candidate duplicates a row's positive.
            - Reference training: bge-m3, lr 5e-5, cosine schedule, 5 % warm-up, 50 steps, batch 64 per GPU × 4,
              :class:`~crossalign.losses.CachedCLEARLoss` with mini-batch 32.

        Returns:
            A dict of the **weighted** components ``{"forward": (1-α-β)·L_fwd, "reverse": α·L_rev, "kl": β·L_kl}``
            (without KL ``{"forward": (1-α)·L_fwd, "reverse": α·L_rev}``). The sentence-transformers trainer sums
            them into the training loss and logs each one under its key; their sum is the loss.

        Relations:
            - :class:`~crossalign.losses.CachedCLEARLoss` computes the same loss and gradients with GradCache.
            - The forward term alone is sentence-transformers' ``MultipleNegativesRankingLoss``
              on ``(anchor, positive, negative_*)``; :class:`~crossalign.losses.InfoNCELoss` on
              ``(q_x, d+)`` is the paper's baseline.

        References:
            - Lee et al., CLEAR: Cross-Lingual Enhancement in Retrieval via Reverse-training, ACL 2026,
              https://arxiv.org/abs/2604.05821; code: https://github.com/dltmddbs100/CLEAR

        Example::

            from crossalign.losses import CLEARLoss

            model = SentenceTransformer("intfloat/multilingual-e5-small")
            train_dataset = Dataset.from_dict({
                "anchor": ["query: What is the capital of France?", "query: Who wrote Faust?"],
                "positive": ["passage: Paris is the capital of France.", "passage: Goethe wrote Faust."],
                "negative_1": ["passage: Lyon is a city in France.", "passage: Schiller wrote plays."],
                "cross_anchor": ["query: Was ist die Hauptstadt von Frankreich?", "query: Wer schrieb Faust?"],
                "neg_query_1": ["query: Was ist die Hauptstadt von Spanien?", "query: Wer schrieb Hamlet?"],
            })
            loss = CLEARLoss(model)
        """
        super().__init__(model, scale, similarity_fct, gather_across_devices)
        self.alpha = check_weight(alpha, "alpha")
        self.beta = check_weight(beta, "beta")
        self.use_kl = check_bool(use_kl, "use_kl")
        if self.use_kl and self.alpha + self.beta > 1 + 1e-9:  # tolerance: 0.1 + 0.9 is 1.0000000000000002
            raise ConfigError(
                f"CLEARLoss: alpha + beta must be <= 1 (the forward term gets 1 - alpha - beta), got "
                f"alpha={alpha} + beta={beta} = {alpha + beta}.",
                hint="the paper uses alpha=0.4, beta=0.2",
            )
        if not self.use_kl and self.alpha > 1:
            raise ConfigError(
                f"CLEARLoss: alpha must be <= 1 without KL (the forward term gets 1 - alpha), got {alpha}.",
            )
        self.num_negatives = check_count(num_negatives, "num_negatives")
        self.num_query_negatives = check_count(num_query_negatives, "num_query_negatives")
        if self.num_query_negatives is None:
            self.num_query_negatives = self.num_negatives
        if self.num_negatives is None and self.num_query_negatives is not None:
            raise ConfigError("CLEARLoss: give num_negatives when you give num_query_negatives.")
        if self.use_kl and self.num_negatives != self.num_query_negatives:
            raise ConfigError(
                f"CLEARLoss: the KL term needs as many query negatives as passage negatives, got "
                f"num_negatives={self.num_negatives}, num_query_negatives={self.num_query_negatives}.",
                hint="use equal counts, or use_kl=False",
            )

    # ------------------------------------------------------------------ columns
    @staticmethod
    def expected_columns(num_negatives: int, num_query_negatives: int | None = None) -> list[str]:
        """The column order for ``num_negatives`` passage and ``num_query_negatives`` query negatives."""
        m = num_negatives if num_query_negatives is None else num_query_negatives
        return [
            "anchor",
            "positive",
            *numbered(num_negatives, "negative_"),
            "cross_anchor",
            *numbered(m, "neg_query_"),
        ]

    def ordered_columns(self, column_names: Sequence[str]) -> list[str]:
        found = self.found_columns(column_names)
        negatives = numbered_group(found, "negative_", loss_name=self.loss_name)
        query_negatives = numbered_group(found, "neg_query_", loss_name=self.loss_name)
        expected = self.expected_columns(len(negatives), len(query_negatives))
        check_names(
            self.loss_name,
            expected,
            found,
            required=("anchor", "positive", "cross_anchor"),
            known=(f"negative_{len(negatives) + 1}", "neg_query_1"),
        )
        if self.use_kl and len(negatives) != len(query_negatives):
            raise DataFormatError(
                f"{self.loss_name}: the KL term compares the forward distribution over passages with the reverse "
                f"distribution over queries slot by slot, so it needs as many neg_query_* as negative_* columns; "
                f"found {len(negatives)} negative_* and {len(query_negatives)} neg_query_*.",
                field=f"neg_query_{min(len(negatives), len(query_negatives)) + 1}",
                hint="add or drop hard negatives so the counts match, or use CLEARLoss(..., use_kl=False)",
            )
        if self.num_negatives is not None and (len(negatives), len(query_negatives)) != (
            self.num_negatives,
            self.num_query_negatives,
        ):
            raise DataFormatError(
                f"{self.loss_name}: the loss was built for {self.num_negatives} negative_* and "
                f"{self.num_query_negatives} neg_query_* columns, the dataset has {len(negatives)} and "
                f"{len(query_negatives)}.",
                hint="build the loss with matching num_negatives / num_query_negatives (or leave them None)",
            )
        return expected

    def _bind_columns(self, columns: list[str]) -> None:
        self.columns = list(columns)
        self.num_negatives = sum(c.startswith("negative_") for c in columns)
        self.num_query_negatives = sum(c.startswith("neg_query_") for c in columns)

    def _split_counts(self, num_features: int) -> tuple[int, int]:
        """``(n_p, n_q)`` for a batch of ``num_features`` columns, checked against the bound layout."""
        if self.num_negatives is not None:
            n_p, n_q = self.num_negatives, self.num_query_negatives
            assert n_q is not None
            self.check_width(num_features, self.expected_columns(n_p, n_q))
            return n_p, n_q
        if num_features < 3 or (num_features - 3) % 2:
            raise ValueError(
                f"{self.loss_name} got {num_features} columns, which cannot be split into anchor, positive, "
                "negative_1..n, cross_anchor, neg_query_1..n with equal negative counts. Call "
                "loss.validate_columns(dataset.column_names) before training (or pass num_negatives and "
                "num_query_negatives)."
            )
        n = (num_features - 3) // 2
        return n, n

    def split_embeddings(
        self, embeddings: Sequence[Tensor]
    ) -> tuple[Tensor, Tensor, list[Tensor], Tensor, list[Tensor]]:
        """``(q_en, d_pos, d_negs, q_x, q_negs)`` from one embedding tensor per column, in column order."""
        n_p, _ = self._split_counts(len(embeddings))
        embeddings = list(embeddings)
        return (
            embeddings[0],
            embeddings[1],
            embeddings[2 : 2 + n_p],
            embeddings[2 + n_p],
            embeddings[3 + n_p :],
        )

    # ------------------------------------------------------------------ loss
    @property
    def weights(self) -> dict[str, float]:
        """The weight of each returned component."""
        return clear_weights(self.alpha, self.beta, self.use_kl)

    def compute_loss_from_embeddings(
        self, embeddings: Sequence[Tensor], labels: Tensor | None = None
    ) -> dict[str, Tensor]:
        """The weighted components from one embedding tensor per column (column order as documented)."""
        q_en, d_pos, d_negs, q_x, q_negs = self.split_embeddings(embeddings)
        components = clear_components(
            q_en,
            d_pos,
            d_negs,
            q_x,
            q_negs,
            scale=self.scale,
            use_kl=self.use_kl,
            similarity_fct=self.similarity_fct,
            gather_across_devices=self.gather_across_devices,
        )
        return {name: weight * components[name] for name, weight in self.weights.items()}

    def embedding_groups(self, num_columns: int) -> list[list[int]]:
        # Queries (anchor, cross_anchor, neg_query_*) and passages (positive, negative_*) each share a forward pass.
        n_p, n_q = self._split_counts(num_columns)
        return [[0, 2 + n_p, *range(3 + n_p, 3 + n_p + n_q)], [1, *range(2, 2 + n_p)]]
