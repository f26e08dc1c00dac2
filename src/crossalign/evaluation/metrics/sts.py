"""Semantic textual similarity: correlation of embedding cosines with gold similarity scores.

For pairs ``(a_i, b_i)`` with gold scores ``g_i``: ``c_i = a_i · b_i / (‖a_i‖ ‖b_i‖)``, then

- Spearman ρ = Pearson correlation of the ranks of ``c`` and ``g`` (average ranks for ties), ``scipy.stats.spearmanr``;
- Pearson r = ``cov(c, g) / (σ_c σ_g)``, ``scipy.stats.pearsonr``.

Spearman of cosine is the main STS score in MTEB and in the multi-way alignment paper (METHODS.md §3). Reported raw
(×100 only in tables).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from crossalign.errors import DataFormatError

__all__ = ["StsResult", "cosine_pairs", "sts_correlation"]


def cosine_pairs(emb1: np.ndarray, emb2: np.ndarray) -> np.ndarray:
    """Row-wise cosine ``cos(emb1[i], emb2[i])`` in float64.

    Raises:
        DataFormatError: for different numbers of rows or dimensions, non-finite values, or an all-zero row.
    """
    a = np.asarray(emb1, dtype=np.float64)
    b = np.asarray(emb2, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2:
        raise DataFormatError(f"embeddings must be 2-D [n, dim], got {a.shape} and {b.shape}", field="emb1")
    if a.shape != b.shape:
        raise DataFormatError(
            f"emb1 has shape {a.shape} but emb2 has {b.shape}: one embedding per side of every pair is needed",
            field="emb2",
            hint="encode both sentences of every pair, in the same order",
        )
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise DataFormatError("embeddings contain NaN or infinite values", field="emb1")
    na = np.linalg.norm(a, axis=1)
    nb = np.linalg.norm(b, axis=1)
    if np.any(na == 0) or np.any(nb == 0):
        raise DataFormatError("an embedding is all zeros, so its cosine is undefined", field="emb1")
    return np.einsum("ij,ij->i", a, b) / (na * nb)


@dataclass(frozen=True)
class StsResult:
    """Correlations of cosine with gold scores over ``n`` pairs (raw, in [-1, 1])."""

    spearman: float
    pearson: float
    n: int

    def to_dict(self) -> dict[str, float | int]:
        return {"spearman": self.spearman, "pearson": self.pearson, "n": self.n}


def sts_correlation(emb1: np.ndarray, emb2: np.ndarray, gold: np.ndarray | Sequence[float]) -> StsResult:
    """Spearman and Pearson correlation of ``cos(emb1[i], emb2[i])`` with ``gold[i]``.

    Args:
        emb1: ``[n, dim]`` embeddings of the first sentence of each pair.
        emb2: ``[n, dim]`` embeddings of the second sentence.
        gold: ``[n]`` gold similarity scores (any scale).

    Raises:
        DataFormatError: on a length mismatch, fewer than 2 pairs, non-finite gold scores, or constant cosines or
            gold scores (a correlation with a constant is undefined; scipy would return NaN with a warning).

    Example:
        >>> import numpy as np
        >>> e1 = np.array([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0]])
        >>> e2 = np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
        >>> sts_correlation(e1, e2, [5.0, 2.5, 0.0]).spearman
        1.0
    """
    cos = cosine_pairs(emb1, emb2)
    g = np.asarray(gold, dtype=np.float64)
    if g.ndim != 1 or g.shape[0] != cos.shape[0]:
        raise DataFormatError(
            f"{g.shape[0] if g.ndim == 1 else g.shape} gold scores for {cos.shape[0]} embedding pairs",
            field="gold",
            hint="give exactly one gold score per pair, in the same order",
        )
    if cos.shape[0] < 2:
        raise DataFormatError(f"a correlation needs at least 2 pairs, got {cos.shape[0]}", field="gold")
    if not np.isfinite(g).all():
        raise DataFormatError("gold scores contain NaN or infinite values", field="gold")
    if np.ptp(g) == 0:
        raise DataFormatError("all gold scores are equal, so no correlation is defined", field="gold")
    if np.ptp(cos) == 0:
        raise DataFormatError(
            "all cosines are equal (collapsed or identical embeddings), so no correlation is defined",
            field="emb1",
            hint="check that the encoder produces distinct embeddings for distinct texts",
        )
    spearman = float(stats.spearmanr(cos, g).statistic)
    pearson = float(stats.pearsonr(cos, g).statistic)
    return StsResult(spearman=spearman, pearson=pearson, n=int(cos.shape[0]))
