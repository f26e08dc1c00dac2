"""Bitext mining: hand-computed margins, xSIM on a hub case, retrieval modes, greedy matching, BUCC sweep."""

from __future__ import annotations

import numpy as np
import pytest

from crossalign.errors import DataFormatError
from crossalign.evaluation.metrics.bitext import (
    MinedPairs,
    bitext_p_at_1,
    bucc_f1,
    bucc_optimize,
    evaluate_bitext,
    knn_both_ways,
    margin_candidates,
    margin_scores,
    mine_bitext,
    mining_prf,
    p_at_1_hits,
    xsim_error,
)
from crossalign.evaluation.metrics.bitext import _greedy_one_to_one as greedy

# 3 × 3 example with 3-4-5 triangles: every cosine is a short decimal.
#            y0=(1,0)  y1=(.8,.6)  y2=(0,1)
# x0=(1,0)     1         .8          0
# x1=(0,1)     0         .6          1
# x2=(.6,.8)   .6        .96         .8
X3 = np.array([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]], dtype=np.float32)
Y3 = np.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0]], dtype=np.float32)
# k = 2: x means  x0 (1+.8)/2=.9   x1 (1+.6)/2=.8   x2 (.96+.8)/2=.88
#        y means  y0 (1+.6)/2=.8   y1 (.96+.8)/2=.88  y2 (1+.8)/2=.9
X_MEAN = np.array([0.9, 0.8, 0.88])
Y_MEAN = np.array([0.8, 0.88, 0.9])
COS = np.array([[1.0, 0.8, 0.0], [0.0, 0.6, 1.0], [0.6, 0.96, 0.8]])


def test_knn_means_by_hand() -> None:
    st = knn_both_ways(X3, Y3, k=2)
    np.testing.assert_allclose(st.x_mean, X_MEAN, atol=1e-6)
    np.testing.assert_allclose(st.y_mean, Y_MEAN, atol=1e-6)
    assert st.x2y_ind.tolist() == [[0, 1], [2, 1], [1, 2]]


@pytest.mark.parametrize(
    ("margin", "expected"),
    [
        ("ratio", COS / ((X_MEAN[:, None] + Y_MEAN[None, :]) / 2)),
        ("distance", COS - (X_MEAN[:, None] + Y_MEAN[None, :]) / 2),
        ("absolute", COS),
    ],
)
def test_margin_scores_by_hand(margin: str, expected: np.ndarray) -> None:
    src, tgt = np.meshgrid(np.arange(3), np.arange(3), indexing="ij")
    got = margin_scores(X3, Y3, src.ravel(), tgt.ravel(), k=2, margin=margin).reshape(3, 3)
    np.testing.assert_allclose(got, expected, atol=1e-6)
    # spot values: x0-y0 ratio = 1 / ((.9 + .8) / 2) = 1/.85; x2-y1 = .96 / .88
    if margin == "ratio":
        assert got[0, 0] == pytest.approx(1 / 0.85, abs=1e-6)
        assert got[2, 1] == pytest.approx(0.96 / 0.88, abs=1e-6)


def test_margin_candidates_pick_the_margin_best_of_the_knn() -> None:
    c = margin_candidates(X3, Y3, k=2)
    # x0: {y0 1/.85=1.176, y1 .8/.89=.899} -> y0; x1: {y2 1/.85, y1 .6/.84} -> y2; x2: {y1 .96/.88=1.091, y2 .8/.89}
    assert c.fwd_best.tolist() == [0, 2, 1]
    np.testing.assert_allclose(c.fwd_best_score, [1 / 0.85, 1 / 0.85, 0.96 / 0.88], atol=1e-6)
    # y0: {x0 1/.85, x2 .6/.84}; y1: {x2 .96/.88, x0 .8/.89}; y2: {x1 1/.85, x2 .8/.89}
    assert c.bwd_best.tolist() == [0, 2, 1]


# Hub case: target y_h is close to every source; cosine top-1 is fooled, the ratio margin is not.
#              y0=(.6,0,.8)  y1=(0,.6,.8)  yh=(.64,.48,.6)
# x0=(1,0,0)      .6            0            .64     -> cosine picks the hub
# x1=(0,1,0)      0             .6           .48
# k=2: x means .62, .54; y means (over 2 sources) .3, .3, .56
# x0: y0 .6/((.62+.3)/2)=1.304 > yh .64/((.62+.56)/2)=1.085 ; x1: y1 .6/.42=1.429 > yh .48/.55=.873
XH = np.array([[1, 0, 0], [0, 1, 0]], dtype=np.float32)
YH = np.array([[0.6, 0, 0.8], [0, 0.6, 0.8], [0.64, 0.48, 0.6]], dtype=np.float32)


def test_xsim_on_a_hub_case() -> None:
    absolute = xsim_error(XH, YH, margin="absolute")
    assert (absolute.errors, absolute.n, absolute.error_rate) == (1, 2, 0.5)
    ratio = xsim_error(XH, YH, k=2)
    assert (ratio.errors, ratio.error_rate) == (0, 0.0)
    assert xsim_error(XH, YH, k=2, margin="distance").errors == 0
    assert xsim_error(XH, YH, gold=[2, 1], k=2).errors == 1  # explicit gold: x0's gold is now the hub
    # gold as pairs: x0 has two gold targets and is not counted; x1 -> y1 is right
    pairs = xsim_error(XH, YH, gold=[(0, 0), (0, 2), (1, 1)], margin="absolute")
    assert (pairs.n, pairs.sources.tolist(), pairs.wrong.tolist()) == (1, [1], [False])
    assert xsim_error(XH, YH, gold=[(0, 2)], k=2).wrong.tolist() == [True]  # the margin moves x0 off the hub
    assert np.isnan(xsim_error(XH, YH, gold=[(0, 0), (0, 1)]).error_rate)  # no source with one gold target


def test_p_at_1_both_directions_with_distractors() -> None:
    p = bitext_p_at_1(XH, YH)  # gold (0,0), (1,1); target 2 is a distractor
    assert p == {"src2tgt": 0.5, "tgt2src": 1.0}
    p = bitext_p_at_1(XH, YH, gold=[(0, 0), (0, 2), (1, 1)])  # two acceptable targets for x0
    # y0 -> x0 (.6 > 0), y1 -> x1 (.6 > 0), yh -> x0 (.64 > .48): all three are gold pairs now
    assert p == {"src2tgt": 1.0, "tgt2src": 1.0}
    p = bitext_p_at_1(XH, YH, gold=[(0, 2), (1, 1)])  # x0 aligned to the hub only; y0 is a distractor
    assert p == {"src2tgt": 1.0, "tgt2src": 1.0}
    p = bitext_p_at_1(XH, YH, gold=[(1, 2)])  # yh's nearest source is x0, and x1's nearest target is y1
    assert p == {"src2tgt": 0.0, "tgt2src": 0.0}
    # the per-item outcomes, searched here or read from precomputed k-NN lists, agree
    for stats in (None, knn_both_ways(XH, YH, k=2)):
        h = p_at_1_hits(XH, YH, gold=[(0, 0), (1, 1)], stats=stats)
        assert (h.srcs.tolist(), h.src2tgt.tolist(), h.tgts.tolist(), h.tgt2src.tolist()) == (
            [0, 1],
            [False, True],
            [0, 1],
            [True, True],
        )


def test_retrieval_modes() -> None:
    c = margin_candidates(X3, Y3, k=2)
    fwd = mine_bitext(X3, Y3, retrieval="fwd", candidates=c)
    assert sorted(zip(fwd.src.tolist(), fwd.tgt.tolist())) == [(0, 0), (1, 2), (2, 1)]
    assert np.all(np.diff(fwd.score) <= 0)
    bwd = mine_bitext(X3, Y3, retrieval="bwd", candidates=c)
    assert sorted(zip(bwd.src.tolist(), bwd.tgt.tolist())) == [(0, 0), (1, 2), (2, 1)]
    inter = mine_bitext(X3, Y3, retrieval="intersect", candidates=c)
    assert len(inter) == 3
    mx = mine_bitext(X3, Y3, retrieval="max", candidates=c)
    assert sorted(zip(mx.src.tolist(), mx.tgt.tolist())) == [(0, 0), (1, 2), (2, 1)]  # duplicates merged
    assert len(mine_bitext(X3, Y3, retrieval="max", candidates=c, threshold=1.1)) == 2


def sequential_greedy(src, tgt, score):
    order = np.lexsort((tgt, src, -score))
    seen_s, seen_t, kept = set(), set(), []
    for i in order:
        if src[i] not in seen_s and tgt[i] not in seen_t:
            seen_s.add(src[i])
            seen_t.add(tgt[i])
            kept.append(i)
    return sorted(kept)


@pytest.mark.parametrize("seed", range(10))
def test_vectorised_greedy_equals_the_sequential_greedy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, m, p = int(rng.integers(1, 30)), int(rng.integers(1, 30)), int(rng.integers(1, 150))
    codes = np.unique(rng.integers(0, n * m, p))
    src, tgt = codes // m, codes % m
    score = rng.integers(0, 6, len(codes)).astype(np.float64)  # many ties
    assert greedy(src, tgt, score, n, m).tolist() == sequential_greedy(src, tgt, score)


def laser_bucc_optimize(candidate2score: dict, gold: set) -> float:
    """LASER's BuccOptimize, transcribed with its indexing: reads items[i + 1] at the best cut."""
    items = sorted(candidate2score.items(), key=lambda x: -x[1])
    ngold, nextract, ncorrect, threshold, best_f1 = len(gold), 0, 0, 0.0, 0.0
    for i in range(len(items)):
        nextract += 1  # noqa: SIM113 - kept as in the reference
        if items[i][0] in gold:
            ncorrect += 1
        if ncorrect > 0:
            precision, recall = ncorrect / nextract, ncorrect / ngold
            f1 = 2 * precision * recall / (precision + recall)
            if f1 > best_f1:
                best_f1 = f1
                threshold = (items[i][1] + items[i + 1][1]) / 2
    return threshold


def test_bucc_sweep_best_at_the_last_candidate() -> None:
    scores = [0.9, 0.8, 0.7]
    correct = [True, True, True]
    with pytest.raises(IndexError):  # the reference's off-by-one
        laser_bucc_optimize({(0, 0): 0.9, (1, 1): 0.8, (2, 2): 0.7}, {(0, 0), (1, 1), (2, 2)})
    best = bucc_optimize(scores, correct, n_gold=3)
    assert (best.f1, best.precision, best.recall, best.n_extracted) == (1.0, 1.0, 1.0, 3)
    assert best.threshold == 0.7  # score >= threshold keeps all three
    # with a missed gold pair and a wrong candidate before the end
    best = bucc_optimize([0.9, 0.85, 0.8, 0.7], [True, False, True, True], n_gold=4)
    assert best.n_extracted == 4 and best.f1 == pytest.approx(2 * 0.75 * 0.75 / 1.5)
    assert best.threshold == 0.7


def test_bucc_sweep_midpoint_and_ties() -> None:
    best = bucc_optimize([0.9, 0.8, 0.5, 0.4], [True, True, False, False], n_gold=2)
    assert best.n_extracted == 2 and best.f1 == 1.0 and best.threshold == pytest.approx(0.65)
    # a cut inside a run of equal scores cannot be realised by a threshold: LASER would report F1 = 1 here
    best = bucc_optimize([0.9, 0.8, 0.8], [True, True, False], n_gold=2)
    assert best.n_extracted == 3 and best.f1 == pytest.approx(0.8) and best.threshold == 0.8
    assert bucc_optimize([0.5], [False], n_gold=1).threshold == float("inf")


def test_bucc_f1_and_prf_on_mined_pairs() -> None:
    mined = MinedPairs(np.array([0, 1, 2, 3]), np.array([0, 1, 5, 3]), np.array([2.0, 1.5, 1.2, 1.0]))
    gold = [(0, 0), (1, 1), (2, 2), (3, 3), (4, 4)]
    best = bucc_f1(mined, gold)
    # cuts: 1/1,R .2 -> .333; 2/2,R .4 -> .571; 2/3,R .4 -> .5; 3/4,R .6 -> .667 (the last candidate)
    assert best.n_extracted == 4 and best.f1 == pytest.approx(2 * 0.75 * 0.6 / 1.35)
    prf = mining_prf(mined, gold, threshold=1.5)
    assert (prf["precision"], prf["recall"], prf["n_extracted"]) == (1.0, 0.4, 2)


def test_evaluate_bitext_end_to_end() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((60, 16)).astype(np.float32)
    y = np.concatenate([x + 0.1 * rng.standard_normal(x.shape), rng.standard_normal((20, 16))]).astype(np.float32)
    out = evaluate_bitext(x, y)
    assert out["p@1_src2tgt"] == 1.0 and out["p@1_tgt2src"] == 1.0
    assert out["xsim_error"] == 0.0 and out["bucc_f1"] == 1.0 and out["n_tgt"] == 80


def test_input_errors() -> None:
    with pytest.raises(DataFormatError, match="m >= n"):
        xsim_error(YH, XH)
    with pytest.raises(DataFormatError, match="dimension"):
        bitext_p_at_1(X3, YH)
    with pytest.raises(ValueError, match="margin"):
        margin_candidates(X3, Y3, margin="cosine")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="retrieval"):
        mine_bitext(X3, Y3, retrieval="union")  # type: ignore[arg-type]
