"""CLEAR with GradCache: the same loss and gradients as :class:`CLEARLoss`, with memory bounded by a mini-batch."""

from __future__ import annotations

from collections.abc import Iterable

import torch
import tqdm
from sentence_transformers.base.losses import CachedLossMixin, has_static_embedding_input
from sentence_transformers.util import cos_sim
from torch import Tensor, nn

from crossalign.errors import ConfigError
from crossalign.losses._common import SimilarityFct, components_with_total, strip_foreign_keys
from crossalign.losses.clear import CLEARLoss, clear_candidates, clear_logits, clear_row_losses
from crossalign.utils.checks import check_count

GRADCACHE_CITATION = """
@misc{gao2021scaling,
    title={Scaling Deep Contrastive Learning Batch Size under Memory Limited Setup},
    author={Luyu Gao and Yunyi Zhang and Jiawei Han and Jamie Callan},
    year={2021},
    eprint={2101.06983},
    archivePrefix={arXiv},
    primaryClass={cs.LG}
}
"""


class CachedCLEARLoss(CachedLossMixin, CLEARLoss):
    loss_name = "CachedCLEARLoss"
    config_keys = CLEARLoss.config_keys + " mini_batch_size mini_batch_num_tokens"

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
        mini_batch_size: int = 32,
        mini_batch_num_tokens: int | None = None,
        show_progress_bar: bool = False,
    ) -> None:
        """:class:`~crossalign.losses.CLEARLoss` with GradCache (Gao et al. 2021), through sentence-transformers'
        :class:`~sentence_transformers.base.losses.CachedLossMixin`: embed every column in mini-batches without
        gradients, compute the loss on the whole batch and cache its gradients w.r.t. the embeddings, then re-embed
        each mini-batch with gradients and chain the cached gradients in. Loss value and gradients equal
        ``CLEARLoss``'s (up to float rounding; dropout masks are replayed), while activation memory is that of one
        mini-batch, so large batches (many in-batch negatives) fit.

        The loss itself is computed by the same functions as ``CLEARLoss`` (``clear_candidates``, ``clear_logits``,
        ``clear_row_losses`` in :mod:`crossalign.losses.clear`), in chunks of
        ``mini_batch_size`` anchor rows against all candidates; each chunk contributes its rows' sum / batch size, so
        the chunked total equals the batch mean exactly (the reference implementation averaged chunk means, which is
        wrong when the last chunk is smaller).

        Args:
            model: SentenceTransformer model (not a StaticEmbedding one: its inputs cannot be split into mini-batches).
            scale, alpha, beta, use_kl, similarity_fct, gather_across_devices, num_negatives, num_query_negatives:
                As in :class:`~crossalign.losses.CLEARLoss`.
            mini_batch_size: Rows per embedding mini-batch and per loss chunk (reference: 32). Memory, not the loss,
                depends on it.
            mini_batch_num_tokens: If set, embedding mini-batches are packed up to this many non-padding tokens
                instead (the loss is still chunked by ``mini_batch_size`` rows).
            show_progress_bar: Show progress bars for the mini-batches.

        Inputs:
            The same columns as :class:`~crossalign.losses.CLEARLoss`, in the same order:
            ``anchor, positive, negative_1..n, cross_anchor, neg_query_1..n``; no labels.

        Requirements:
            1. The requirements of ``CLEARLoss``.
            2. A transformer-based model (mini-batches are slices of the batch dimension).

        Returns:
            The weighted components, as ``CLEARLoss``: ``{"forward", "reverse", "kl"}`` (no ``"kl"`` without KL).
            GradCache back-propagates one total, so the components are logged values: the total's gradient path is
            attached to ``"forward"`` (whose value is unchanged), and the trainer's sum is the total.

        Relations:
            - :class:`~crossalign.losses.CLEARLoss`: same loss, plain back-propagation (faster for small batches).
            - :class:`~sentence_transformers.sentence_transformer.losses.CachedMultipleNegativesRankingLoss`: the
              same caching for InfoNCE.

        References:
            - Lee et al., CLEAR, ACL 2026, https://arxiv.org/abs/2604.05821
            - Gao et al., Scaling Deep Contrastive Learning Batch Size under Memory Limited Setup,
              https://arxiv.org/abs/2101.06983

        Example::

            from crossalign.losses import CachedCLEARLoss

            model = SentenceTransformer("BAAI/bge-m3")
            # the columns of CLEARLoss; a batch of 64 rows (per_device_train_batch_size) is encoded 32 at a time
            loss = CachedCLEARLoss(model, mini_batch_size=32)
        """
        if has_static_embedding_input(model):
            raise ConfigError(
                "CachedCLEARLoss cannot split a StaticEmbedding model's inputs into mini-batches.",
                hint="use CLEARLoss instead",
            )
        self.mini_batch_size = check_count(mini_batch_size, "mini_batch_size", minimum=1, optional=False)
        self.mini_batch_num_tokens = check_count(mini_batch_num_tokens, "mini_batch_num_tokens", minimum=1)
        CLEARLoss.__init__(
            self,
            model,
            scale=scale,
            alpha=alpha,
            beta=beta,
            use_kl=use_kl,
            similarity_fct=similarity_fct,
            gather_across_devices=gather_across_devices,
            num_negatives=num_negatives,
            num_query_negatives=num_query_negatives,
        )
        self.show_progress_bar = show_progress_bar
        self._last_components: dict[str, Tensor] | None = None

    def calculate_loss(
        self, reps: list[list[Tensor]], labels: Tensor | None = None, *, with_backward: bool = False
    ) -> Tensor:
        """The weighted CLEAR total over the whole batch from per-mini-batch embeddings, chunked by anchor rows.

        With ``with_backward``, each chunk is back-propagated to the embeddings as it is computed and the detached
        total is returned. The weighted components of this call are kept for :meth:`forward` to return.
        """
        columns = [torch.cat(column) for column in reps]
        q_en, d_pos, d_negs, q_x, q_negs = self.split_embeddings(columns)
        candidates = clear_candidates(d_pos, d_negs, q_x, q_negs, gather_across_devices=self.gather_across_devices)
        weights = self.weights
        batch_size = q_en.size(0)
        totals = {name: torch.zeros((), device=q_en.device) for name in weights}
        chunks: list[Tensor] = []
        for begin in tqdm.trange(
            0, batch_size, self.mini_batch_size, desc="Calculating loss", disable=not self.show_progress_bar
        ):
            end = min(begin + self.mini_batch_size, batch_size)
            forward, reverse = clear_logits(
                q_en[begin:end], d_pos[begin:end], candidates, scale=self.scale, similarity_fct=self.similarity_fct
            )
            labels_chunk = torch.arange(begin, end, device=q_en.device) + candidates.offset
            rows = clear_row_losses(forward, reverse, labels_chunk, use_kl=self.use_kl)
            weighted = {name: weight * rows[name].sum() / batch_size for name, weight in weights.items()}
            chunk_total = torch.stack(list(weighted.values())).sum()
            if with_backward:
                chunk_total.backward()
                chunk_total = chunk_total.detach()
            for name, value in weighted.items():
                totals[name] = totals[name] + value.detach()
            chunks.append(chunk_total)
        self._last_components = totals
        return torch.stack(chunks).sum()

    def forward(
        self, sentence_features: Iterable[dict[str, Tensor]], labels: Tensor | None = None
    ) -> dict[str, Tensor]:
        features = [strip_foreign_keys(f) for f in sentence_features]
        self._split_counts(len(features))
        self._last_components = None
        total = self.forward_cached(features, labels)
        components, self._last_components = self._last_components, None
        assert components is not None
        return components_with_total(components, total)

    @property
    def citation(self) -> str:
        return super().citation + GRADCACHE_CITATION
