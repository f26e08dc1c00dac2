"""Paired significance tests on per-query values, and Holm–Bonferroni correction.

Two systems A (the baseline) and B were scored on the *same* queries with the same metric: ``a_i`` and ``b_i`` for
query ``i = 1..n``. Everything here works on the paired differences ``d_i = b_i − a_i``; the reported difference is
``B − A`` (positive = B has the larger value, whatever the metric's better direction).

Paired bootstrap (Efron & Tibshirani 1993, *An Introduction to the Bootstrap*, ch. 13 and §16.4; for IR: Sakai 2006,
Smucker, Allan & Carterette 2007, "A comparison of statistical significance tests for information retrieval
evaluation", CIKM):

1. observed statistic ``δ = stat(b) − stat(a)`` (``stat`` = mean, or median for median aggregates such as
   ``max_rank_median``);
2. draw ``R`` resamples of the ``n`` query indices with replacement (the same indices for A and B, which keeps the
   pairing) and compute ``δ*_r = stat(b[idx_r]) − stat(a[idx_r])``;
3. 95 % confidence interval: the 2.5 % and 97.5 % percentiles of ``δ*`` (percentile method);
4. two-sided p-value under the null "no difference", by shifting the bootstrap distribution to mean zero
   (Efron & Tibshirani §16.4): ``p = (1 + #{r : |δ*_r − δ| ≥ |δ|}) / (R + 1)``.

Paired randomisation / sign-flip permutation test (Fisher 1935; Smucker et al. 2007 recommend it for IR): under the
null hypothesis that A and B are exchangeable on each query, swapping ``a_i`` and ``b_i`` is as likely as not, i.e.
every ``d_i`` may flip its sign. With ``R`` random sign vectors ``s_r ∈ {±1}^n``:
``δ_r = stat(B'_r) − stat(A'_r)`` where ``(A'_r, B'_r)`` are the swapped systems (for the mean simply
``mean(s_r · d)``); the two-sided p-value is twice the smaller one-sided one,
``p = min(1, 2 · min(1 + #{δ_r ≤ δ}, 1 + #{δ_r ≥ δ}) / (R + 1))`` (the ``+1`` keeps a Monte-Carlo p-value valid,
Phipson & Smyth 2010). For small ``n`` (``2^n ≤ R``, or ``exact=True``) all ``2^n`` sign vectors are enumerated and
the exact p-value ``min(1, 2 · min(#{δ_s ≤ δ}, #{δ_s ≥ δ}) / 2^n)`` is returned; the sign-flip null distribution is
symmetric, so this equals ``#{|δ_s| ≥ |δ|} / 2^n``. The test is ``scipy.stats.permutation_test``
(``permutation_type="samples"``), not a copy of it.

The bootstrap is vectorised with numpy: resamples are processed in chunks of a bounded number of elements (the
permutation test's batches are bounded the same way), so memory stays small for many queries. Its comparisons
``≥`` use a relative tolerance of 1e-12 so that float noise in sums of equal values does not change a p-value. The
generator is ``numpy.random.default_rng(seed)``; ``seed=0`` by default so a report is reproducible.

Multiple comparisons: :func:`holm` adjusts a family of p-values with Holm's step-down procedure (Holm 1979), which
controls the family-wise error rate under any dependence between the tests.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np

from crossalign.errors import DataFormatError, key_difference

__all__ = [
    "PairedTestResult",
    "align_per_query",
    "holm",
    "paired_bootstrap",
    "paired_randomization",
    "paired_test",
]

#: One system's per-query values: ``{query id: value}`` (paired by id) or an array (paired by position).
PerQuery = Mapping[str, float] | Sequence[float] | np.ndarray
Statistic = Literal["mean", "median"]
TestName = Literal["bootstrap", "randomization"]

#: Elements (resamples × queries) handled per vectorised chunk.
_CHUNK_ELEMENTS = 2_000_000
_REL_TOL = 1e-12


@dataclass(frozen=True)
class PairedTestResult:
    """Outcome of a paired test of B against A (the baseline).

    Attributes:
        test: ``"bootstrap"`` or ``"randomization"``.
        statistic: ``"mean"`` or ``"median"``: the aggregate whose difference is tested.
        n: Number of paired queries.
        value_a: ``stat(a)``.
        value_b: ``stat(b)``.
        difference: ``stat(b) − stat(a)``.
        p_value: Two-sided p-value.
        ci_low: Lower end of the confidence interval of the difference (bootstrap only, else None).
        ci_high: Upper end (bootstrap only, else None).
        confidence: Confidence level of the interval (bootstrap only, else None).
        n_resamples: Resamples drawn (for an exact randomisation test: the 2^n sign vectors enumerated).
        exact: True when the p-value comes from complete enumeration.
        seed: The generator seed (None: unseeded).
    """

    test: str
    statistic: str
    n: int
    value_a: float
    value_b: float
    difference: float
    p_value: float
    ci_low: float | None = None
    ci_high: float | None = None
    confidence: float | None = None
    n_resamples: int = 0
    exact: bool = False
    seed: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return asdict(self)


# ----------------------------------------------------------------------------------------------------------- inputs
def align_per_query(
    a: Mapping[str, float], b: Mapping[str, float], *, what: str = "per-query values"
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Pair two ``{query id: value}`` mappings by query id.

    Returns:
        ``(ids, a_values, b_values)`` in sorted id order.

    Raises:
        DataFormatError: when the query sets differ (names how many ids are on one side only, with examples), when
            a mapping is empty, or when a value is not finite.
    """
    ka, kb = set(a), set(b)
    if not ka or not kb:
        raise DataFormatError(
            f"{what}: no per-query values to pair ({len(ka)} vs {len(kb)} queries)",
            field="per_query",
            hint="evaluate with per-query values kept (results.json 'per_query') to run significance tests",
        )
    if ka != kb:
        raise DataFormatError(
            f"{what}: the query sets differ: {key_difference(ka, kb, 'A', 'B')}",
            field="per_query",
            hint="paired tests need the same queries on both sides: evaluate both models on the same data and split "
            "(same corpus version, languages and split seed)",
        )
    ids = sorted(ka)
    va = np.array([a[i] for i in ids], dtype=np.float64)
    vb = np.array([b[i] for i in ids], dtype=np.float64)
    if not (np.isfinite(va).all() and np.isfinite(vb).all()):
        raise DataFormatError(f"{what}: per-query values must be finite numbers", field="per_query")
    return ids, va, vb


def _pair(a: PerQuery, b: PerQuery, n_resamples: int) -> tuple[np.ndarray, np.ndarray]:
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be >= 1, got {n_resamples}")
    if isinstance(a, Mapping) or isinstance(b, Mapping):
        if not (isinstance(a, Mapping) and isinstance(b, Mapping)):
            raise TypeError("pass both systems as {query id: value} mappings or both as arrays in the same order")
        _, va, vb = align_per_query(a, b)
        return va, vb
    va = np.asarray(a, dtype=np.float64)
    vb = np.asarray(b, dtype=np.float64)
    if va.ndim != 1 or va.shape != vb.shape:
        raise DataFormatError(
            f"paired values must be two 1-D arrays of equal length, got {va.shape} and {vb.shape}", field="per_query"
        )
    if va.size == 0:
        raise DataFormatError("no paired values", field="per_query")
    if not (np.isfinite(va).all() and np.isfinite(vb).all()):
        raise DataFormatError("per-query values must be finite numbers", field="per_query")
    return va, vb


def _stat(x: np.ndarray, statistic: Statistic, axis: int | None = None) -> np.ndarray:
    if statistic == "mean":
        return np.mean(x, axis=axis)
    if statistic == "median":
        return np.median(x, axis=axis)
    raise ValueError(f"statistic must be 'mean' or 'median', got {statistic!r}")


def _observed(va: np.ndarray, vb: np.ndarray, statistic: Statistic) -> dict[str, Any]:
    """The observed side of a :class:`PairedTestResult`: ``statistic``, ``n``, ``value_a``, ``value_b`` and
    ``difference = stat(b) − stat(a)``."""
    sa, sb = float(_stat(va, statistic)), float(_stat(vb, statistic))
    return {"statistic": statistic, "n": va.size, "value_a": sa, "value_b": sb, "difference": sb - sa}


def _chunks(total: int, n: int) -> list[int]:
    size = max(1, _CHUNK_ELEMENTS // max(n, 1))
    out = [size] * (total // size)
    if total % size:
        out.append(total % size)
    return out


def _at_least(values: np.ndarray, threshold: float) -> int:
    """``#{values ≥ threshold}`` with a relative tolerance against float noise."""
    tol = _REL_TOL * max(1.0, abs(threshold))
    return int(np.count_nonzero(values >= threshold - tol))


# -------------------------------------------------------------------------------------------------------- bootstrap
def paired_bootstrap(
    a: PerQuery,
    b: PerQuery,
    *,
    n_resamples: int = 10_000,
    seed: int | None = 0,
    confidence: float = 0.95,
    statistic: Statistic = "mean",
) -> PairedTestResult:
    """Paired bootstrap test of ``stat(b) − stat(a)`` with a percentile confidence interval (the procedure and
    p-value formula: the module docstring; Efron & Tibshirani 1993, ch. 13, §16.4).

    Args:
        a: Baseline values (:data:`PerQuery`).
        b: Compared system's values, same form as ``a``.
        n_resamples: Bootstrap resamples ``R`` (default 10,000).
        seed: Seed of ``numpy.random.default_rng`` (None: unseeded).
        confidence: Level of the interval (default 0.95; the CI is the ``(1−c)/2`` and ``(1+c)/2`` percentiles).
        statistic: ``"mean"`` (default) or ``"median"``.

    Raises:
        DataFormatError: for differing query sets, empty or non-finite values.

    Example:
        >>> r = paired_bootstrap([0.1, 0.5, 0.4, 0.9], [0.2, 0.6, 0.5, 1.0], n_resamples=1000)
        >>> round(r.difference, 3), r.ci_low > 0
        (0.1, True)
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    va, vb = _pair(a, b, n_resamples)
    n, observed = va.size, _observed(va, vb, statistic)
    delta = observed["difference"]
    rng = np.random.default_rng(seed)
    d = vb - va
    boot = np.empty(n_resamples, dtype=np.float64)
    start = 0
    for size in _chunks(n_resamples, n):
        idx = rng.integers(0, n, size=(size, n))
        if statistic == "mean":
            boot[start : start + size] = d[idx].mean(axis=1)
        else:
            boot[start : start + size] = _stat(vb[idx], statistic, axis=1) - _stat(va[idx], statistic, axis=1)
        start += size
    alpha = 1.0 - confidence
    lo, hi = np.quantile(boot, [alpha / 2, 1 - alpha / 2])
    extreme = _at_least(np.abs(boot - delta), abs(delta))
    p = (1 + extreme) / (n_resamples + 1)
    return PairedTestResult(
        test="bootstrap",
        **observed,
        p_value=min(1.0, p),
        ci_low=float(lo),
        ci_high=float(hi),
        confidence=confidence,
        n_resamples=n_resamples,
        exact=False,
        seed=seed,
    )


# ---------------------------------------------------------------------------------------------------- randomisation
def paired_randomization(
    a: PerQuery,
    b: PerQuery,
    *,
    n_resamples: int = 10_000,
    seed: int | None = 0,
    statistic: Statistic = "mean",
    exact: bool | None = None,
) -> PairedTestResult:
    """Paired randomisation (sign-flip permutation) test of ``stat(b) − stat(a)`` (the procedure and p-value
    formulas, Monte Carlo and exact: the module docstring; Fisher 1935), run by ``scipy.stats.permutation_test``
    with ``permutation_type="samples"`` (swapping ``a_i`` and ``b_i`` within a query is flipping the sign of ``d_i``).

    Args:
        a, b, seed, statistic: As for :func:`paired_bootstrap`.
        n_resamples: Random sign vectors ``R`` for the Monte-Carlo test (default 10,000).
        exact: True: enumerate all ``2^n`` sign vectors (n ≤ 24); False: Monte Carlo; None (default): exact when
            ``2^n ≤ n_resamples``.

    Raises:
        DataFormatError: for differing query sets, empty or non-finite values.
        ValueError: for ``exact=True`` with more than 24 queries.
    """
    from scipy.stats import permutation_test

    va, vb = _pair(a, b, n_resamples)
    n, observed = va.size, _observed(va, vb, statistic)
    use_exact = (2**n <= n_resamples) if exact is None else exact
    if use_exact and n > 24:
        raise ValueError(f"exact enumeration of 2^{n} sign vectors is too large; use exact=False")

    def difference(x: np.ndarray, y: np.ndarray, axis: int) -> np.ndarray:
        return _stat(y, statistic, axis=axis) - _stat(x, statistic, axis=axis)

    test = permutation_test(
        (va, vb),
        difference,
        permutation_type="samples",
        vectorized=True,
        n_resamples=np.inf if use_exact else n_resamples,
        batch=max(1, _CHUNK_ELEMENTS // n),
        rng=np.random.default_rng(seed),
    )
    return PairedTestResult(
        test="randomization",
        **observed,
        p_value=float(min(1.0, test.pvalue)),
        n_resamples=2**n if use_exact else n_resamples,
        exact=use_exact,
        seed=None if use_exact else seed,
    )


def paired_test(
    a: PerQuery,
    b: PerQuery,
    *,
    test: TestName = "bootstrap",
    n_resamples: int = 10_000,
    seed: int | None = 0,
    statistic: Statistic = "mean",
) -> PairedTestResult:
    """Run :func:`paired_bootstrap` or :func:`paired_randomization` by name."""
    if test == "bootstrap":
        return paired_bootstrap(a, b, n_resamples=n_resamples, seed=seed, statistic=statistic)
    if test == "randomization":
        return paired_randomization(a, b, n_resamples=n_resamples, seed=seed, statistic=statistic)
    raise ValueError(f"test must be 'bootstrap' or 'randomization', got {test!r}")


# ------------------------------------------------------------------------------------------------------------- holm
def holm(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm–Bonferroni adjusted p-values (Holm 1979, "A simple sequentially rejective multiple test procedure").

    With the ``m`` p-values sorted ascending ``p_(1) ≤ … ≤ p_(m)``, the adjusted values are
    ``p̃_(i) = max_{j ≤ i} min(1, (m − j + 1) · p_(j))``; rejecting where ``p̃ < α`` controls the family-wise error rate
    at ``α`` under any dependence. ``None``/NaN entries (untested cells) are left as None and do not count in ``m``.

    Example:
        >>> holm([0.01, 0.04, 0.03, None])
        [0.03, 0.06, 0.06, None]
    """
    idx = [i for i, p in enumerate(p_values) if p is not None and not math.isnan(p)]
    out: list[float | None] = [None] * len(p_values)
    m = len(idx)
    if m == 0:
        return out
    ps = np.array([p_values[i] for i in idx], dtype=np.float64)
    if np.any((ps < 0) | (ps > 1)):
        raise ValueError("p-values must lie in [0, 1]")
    order = np.argsort(ps, kind="stable")
    factors = m - np.arange(m)
    adjusted = np.minimum(1.0, np.maximum.accumulate(ps[order] * factors))
    for rank, pos in enumerate(order):
        out[idx[pos]] = float(round(adjusted[rank], 15))
    return out
