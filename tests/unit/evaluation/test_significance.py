"""Paired bootstrap, paired randomisation (against exact enumeration) and Holm's correction."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from crossalign.errors import DataFormatError
from crossalign.evaluation.significance import (
    align_per_query,
    holm,
    paired_bootstrap,
    paired_randomization,
    paired_test,
)


@pytest.fixture
def scores() -> np.ndarray:
    rng = np.random.default_rng(7)
    return rng.uniform(0, 1, 200)


def test_identical_systems_are_not_different(scores: np.ndarray) -> None:
    b = paired_bootstrap(scores, scores.copy())
    assert b.difference == 0.0
    assert b.p_value == 1.0
    assert b.ci_low <= 0.0 <= b.ci_high
    r = paired_randomization(scores, scores.copy())
    assert r.p_value == 1.0 and not r.exact


def test_noisy_equal_systems_ci_contains_zero() -> None:
    rng = np.random.default_rng(3)
    a = rng.uniform(0, 1, 300)
    b = a + rng.normal(0, 0.2, 300)  # no systematic shift
    b -= (b - a).mean()  # exactly zero mean difference
    res = paired_bootstrap(a, b, seed=1)
    assert abs(res.difference) < 1e-12
    assert res.ci_low < 0 < res.ci_high
    assert res.p_value > 0.9
    assert paired_randomization(a, b, seed=1).p_value > 0.9


def test_constant_shift_is_significant(scores: np.ndarray) -> None:
    b = paired_bootstrap(scores, scores + 0.1)
    assert math.isclose(b.difference, 0.1)
    assert b.p_value < 0.01
    assert b.p_value == pytest.approx(1 / 10_001)
    assert b.ci_low == pytest.approx(0.1) and b.ci_high == pytest.approx(0.1)
    r = paired_randomization(scores, scores + 0.1)
    assert r.p_value < 0.01
    # a shift downwards is the same evidence, with a negative difference
    d = paired_bootstrap(scores, scores - 0.1)
    assert d.difference == pytest.approx(-0.1) and d.p_value < 0.01


def test_bootstrap_is_seedable_and_matches_a_loop() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.uniform(size=50), rng.uniform(size=50) + 0.05
    one = paired_bootstrap(a, b, n_resamples=2000, seed=42)
    two = paired_bootstrap(a, b, n_resamples=2000, seed=42)
    assert one == two
    # the same procedure written as a plain loop over the same index draws
    gen = np.random.default_rng(42)
    idx = gen.integers(0, 50, size=(2000, 50))
    boot = np.array([(b[i] - a[i]).mean() for i in idx])
    delta = (b - a).mean()
    p = (1 + np.sum(np.abs(boot - delta) >= abs(delta) - 1e-12)) / 2001
    assert one.p_value == pytest.approx(p)
    assert one.ci_low == pytest.approx(np.quantile(boot, 0.025))
    assert one.ci_high == pytest.approx(np.quantile(boot, 0.975))


def _exact_sign_flip_p(a: list[float], b: list[float]) -> float:
    d = [y - x for x, y in zip(a, b)]
    obs = abs(sum(d) / len(d))
    hits = 0
    for signs in itertools.product((1, -1), repeat=len(d)):
        stat = abs(sum(s * v for s, v in zip(signs, d)) / len(d))
        hits += stat >= obs - 1e-12
    return hits / 2 ** len(d)


def test_randomization_against_exact_enumeration_n8() -> None:
    a = [0.31, 0.52, 0.40, 0.90, 0.11, 0.63, 0.25, 0.70]
    b = [0.45, 0.50, 0.58, 0.93, 0.30, 0.61, 0.41, 0.88]
    exact = _exact_sign_flip_p(a, b)
    assert 0 < exact < 0.1  # a borderline case, so the comparison is not trivial
    ex = paired_randomization(a, b, exact=True)
    assert ex.exact and ex.n_resamples == 256
    assert ex.p_value == pytest.approx(exact, abs=1e-12)
    # default: 2^8 <= 10,000 resamples -> exact
    assert paired_randomization(a, b).p_value == pytest.approx(exact, abs=1e-12)
    # Monte Carlo estimate within 4 standard errors of the exact value
    mc = paired_randomization(a, b, exact=False, n_resamples=40_000, seed=5)
    se = math.sqrt(exact * (1 - exact) / 40_000)
    assert abs(mc.p_value - exact) < 4 * se + 1 / 40_000


def test_median_statistic() -> None:
    rng = np.random.default_rng(11)
    a = rng.integers(1, 50, 120).astype(float)
    b = np.maximum(1, a - 5)
    res = paired_bootstrap(a, b, statistic="median", n_resamples=3000)
    assert res.statistic == "median"
    assert res.difference == pytest.approx(np.median(b) - np.median(a))
    assert res.p_value < 0.01 and res.ci_high < 0
    rnd = paired_randomization(a, b, statistic="median", n_resamples=3000)
    assert rnd.difference == res.difference and rnd.p_value < 0.01
    same = paired_randomization(a, a.copy(), statistic="median", n_resamples=500)
    assert same.p_value == 1.0


def test_mappings_are_paired_by_query_id() -> None:
    a = {"q1": 0.1, "q2": 0.5, "q3": 0.9}
    b = {"q3": 1.0, "q1": 0.2, "q2": 0.6}  # other order
    ids, va, vb = align_per_query(a, b)
    assert ids == ["q1", "q2", "q3"]
    assert np.allclose(vb - va, 0.1)
    res = paired_test(a, b, test="randomization")
    assert res.exact and res.difference == pytest.approx(0.1)
    assert res.p_value == pytest.approx(2 / 8)  # all-positive and all-negative sign vectors


def test_different_query_sets_are_refused() -> None:
    with pytest.raises(
        DataFormatError, match=r"query sets differ: 1 only in A \(e\.g\. q3\); 1 only in B \(e\.g\. q9\)"
    ):
        paired_bootstrap({"q1": 1.0, "q2": 0.0, "q3": 1.0}, {"q1": 1.0, "q2": 0.0, "q9": 1.0})
    with pytest.raises(DataFormatError, match="no per-query values"):
        paired_bootstrap({}, {})
    with pytest.raises(DataFormatError, match="equal length"):
        paired_bootstrap([1.0, 2.0], [1.0])
    with pytest.raises(DataFormatError, match="finite"):
        paired_randomization([1.0, float("nan")], [1.0, 2.0])
    with pytest.raises(TypeError):
        paired_bootstrap({"q1": 1.0}, [1.0])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="test must be"):
        paired_test([1.0], [1.0], test="t-test")  # type: ignore[arg-type]


def test_holm_against_hand_computation() -> None:
    # sorted: 0.005*4 = 0.02, 0.01*3 = 0.03, 0.03*2 = 0.06, 0.04*1 = 0.04 -> running max 0.06
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.5, 0.6]) == [1.0, 1.0]  # capped at 1
    assert holm([0.02]) == [0.02]  # one test: unchanged
    # untested cells do not count in m
    out = holm([0.01, None, 0.04, float("nan")])
    assert out[1] is None and out[3] is None
    assert out[0] == pytest.approx(0.02) and out[2] == pytest.approx(0.04)
    assert holm([]) == []
    with pytest.raises(ValueError):
        holm([1.5])


@pytest.mark.parametrize("statistic", ["mean", "median"])
def test_randomization_equals_scipy_permutation_test(statistic: str) -> None:
    """The sign-flip test is scipy's paired permutation test (``permutation_type="samples"``): identical exact
    p-values over random cases with ties, and Monte Carlo estimates of the same p-value."""
    from scipy.stats import permutation_test

    f = np.mean if statistic == "mean" else np.median

    def scipy_p(a: np.ndarray, b: np.ndarray, n_resamples: float) -> float:
        res = permutation_test(
            (a, b),
            lambda x, y, axis: f(y, axis=axis) - f(x, axis=axis),
            permutation_type="samples",
            vectorized=True,
            n_resamples=n_resamples,
            rng=np.random.default_rng(0),
        )
        return float(res.pvalue)

    rng = np.random.default_rng(2)
    for _ in range(60):
        n = int(rng.integers(2, 12))
        a = rng.uniform(0, 1, n).round(int(rng.integers(1, 3)))  # coarse values: ties in the null distribution
        b = (a + rng.normal(rng.uniform(-0.2, 0.2), 0.2, n)).round(2)
        ours = paired_randomization(a, b, exact=True, statistic=statistic)
        assert ours.p_value == pytest.approx(scipy_p(a, b, np.inf), abs=1e-12), (a, b)
    a = rng.uniform(0, 1, 200)
    b = a + rng.normal(0.015, 0.2, 200)
    mc = paired_randomization(a, b, n_resamples=20_000, seed=3, statistic=statistic).p_value
    ref = scipy_p(a, b, 20_000)
    assert 0.05 < ref < 0.95  # a p-value that Monte Carlo error could move
    assert abs(mc - ref) < 4 * math.sqrt(2 * ref * (1 - ref) / 20_000) + 2 / 20_000


def test_exact_enumeration_beyond_one_block_of_sign_vectors() -> None:
    """n = 18: 2^18 sign vectors in four blocks of 2^16 agree with a Monte Carlo estimate of the same p-value."""
    rng = np.random.default_rng(0)
    a = rng.uniform(0, 1, 18)
    b = a + rng.normal(0.05, 0.2, 18)
    ex = paired_randomization(a, b, exact=True)
    assert ex.exact and ex.n_resamples == 2**18 and 0.01 < ex.p_value < 0.5
    mc = paired_randomization(a, b, exact=False, n_resamples=100_000, seed=1)
    assert abs(mc.p_value - ex.p_value) < 4 * math.sqrt(ex.p_value * (1 - ex.p_value) / 100_000) + 1e-5
