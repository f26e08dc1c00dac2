"""STS correlations against scipy, and the errors for bad inputs."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from crossalign.errors import DataFormatError
from crossalign.evaluation.metrics.sts import cosine_pairs, sts_correlation


def test_values_match_scipy_on_cosines() -> None:
    rng = np.random.default_rng(0)
    a = rng.standard_normal((50, 8))
    b = a + rng.standard_normal((50, 8))
    gold = rng.uniform(0, 5, 50)
    cos = np.array([x @ y / np.linalg.norm(x) / np.linalg.norm(y) for x, y in zip(a, b)])
    np.testing.assert_allclose(cosine_pairs(a, b), cos, rtol=1e-12)
    res = sts_correlation(a, b, gold)
    assert res.spearman == pytest.approx(stats.spearmanr(cos, gold).statistic, abs=1e-12)
    assert res.pearson == pytest.approx(stats.pearsonr(cos, gold).statistic, abs=1e-12)
    assert res.n == 50


def test_perfect_and_reversed_order() -> None:
    e1 = np.array([[1.0, 0.0]] * 4)
    e2 = np.array([[1.0, 0.0], [1.0, 0.5], [1.0, 1.0], [0.0, 1.0]])  # cosines 1 > .89 > .71 > 0
    assert sts_correlation(e1, e2, [4, 3, 2, 1]).spearman == pytest.approx(1.0)
    assert sts_correlation(e1, e2, [1, 2, 3, 4]).spearman == pytest.approx(-1.0)
    assert sts_correlation(e1, e2, [4, 3, 2, 1]).to_dict()["n"] == 4


def test_errors() -> None:
    e = np.eye(3)
    with pytest.raises(DataFormatError, match="shape"):
        sts_correlation(e, e[:2], [1, 2, 3])
    with pytest.raises(DataFormatError, match="gold scores for 3"):
        sts_correlation(e, e, [1, 2])
    with pytest.raises(DataFormatError, match="gold scores are equal"):
        sts_correlation(e, np.roll(e, 1, axis=0) + e, [2, 2, 2])
    with pytest.raises(DataFormatError, match="cosines are equal"):
        sts_correlation(e, e, [1, 2, 3])
    with pytest.raises(DataFormatError, match="at least 2"):
        sts_correlation(e[:1], e[:1], [1])
    with pytest.raises(DataFormatError, match="all zeros"):
        sts_correlation(np.zeros((2, 3)), e[:2], [1, 2])
    with pytest.raises(DataFormatError, match="NaN"):
        sts_correlation(e, e + np.eye(3)[::-1], [1, np.nan, 3])
