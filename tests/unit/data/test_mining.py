"""Hard-negative mining: window, exclusions, filter, extension, determinism — on embeddings whose ranking is known."""

from __future__ import annotations

import numpy as np
import pytest
from builders_fixtures import FakeEncoder
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crossalign.data.mining import (
    MiningConfig,
    TextEncoder,
    mine_from_embeddings,
    mine_hard_negatives,
    parse_rank_range,
)
from crossalign.errors import ConfigError, DataFormatError


def fan(n: int) -> tuple[np.ndarray, np.ndarray]:
    """One anchor at angle 0 and ``n`` candidates at angles below π, increasing: candidate j has score rank j+1."""
    angles = min(0.01, 3.0 / n) * np.arange(1, n + 1)
    cands = np.stack([np.cos(angles), np.sin(angles)], axis=1).astype(np.float32)
    return np.array([[1.0, 0.0]], dtype=np.float32), cands


def cfg(n: int = 3, lo: int = 5, hi: int = 10, **kw) -> MiningConfig:
    return MiningConfig(num_negatives=n, rank_range=(lo, hi), reference_pool=None, **kw)


def test_negatives_come_from_the_rank_window_hardest_first() -> None:
    a, c = fan(50)
    for seed in range(20):
        res = mine_from_embeddings(
            a, c, anchor_groups=["A"], candidate_groups=[f"g{j}" for j in range(50)], config=cfg(seed=seed)
        )
        idx = res.indices[0].tolist()
        assert res.ok[0] and len(idx) == 3 and len(set(idx)) == 3
        assert all(4 <= j <= 9 for j in idx)  # ranks 5..10 are candidates 4..9
        assert idx == sorted(idx)  # hardest (highest score) first
        assert res.ranks[0].tolist() == [j + 1 for j in idx]
        assert np.all(np.diff(res.scores[0]) < 0)


def test_excluded_candidates_do_not_use_up_ranks() -> None:
    a, c = fan(40)
    groups = ["A" if j % 2 == 0 else f"g{j}" for j in range(40)]  # every even candidate is on the anchor's page
    res = mine_from_embeddings(
        a, c, anchor_groups=["A"], candidate_groups=groups, exclude=[[1]], config=cfg(n=4, lo=2, hi=5)
    )
    # eligible in score order: 3, 5, 7, 9, 11, ... (1 is the excluded positive) -> ranks 2..5 = 5, 7, 9, 11
    assert res.indices[0].tolist() == [5, 7, 9, 11]
    assert res.ranks[0].tolist() == [2, 3, 4, 5]


def test_a_text_on_several_pages_is_excluded_for_each_of_them() -> None:
    a, c = fan(10)
    groups: list = [f"g{j}" for j in range(10)]
    groups[0] = ("X", "A")  # the best candidate also occurs on the anchor's page
    res = mine_from_embeddings(a, c, anchor_groups=["A"], candidate_groups=groups, config=cfg(n=1, lo=1, hi=1))
    assert res.indices[0].tolist() == [1]


def test_positive_aware_filter_drops_candidates_above_the_ratio() -> None:
    a, c = fan(60)
    scores = c @ a[0]
    pos = np.array([float(scores[20]) / 0.99], dtype=np.float32)  # ratio 0.99 -> only candidates 20+ pass
    res = mine_from_embeddings(
        a,
        c,
        anchor_groups=["A"],
        candidate_groups=[f"g{j}" for j in range(60)],
        positive_scores=pos,
        config=cfg(n=3, lo=5, hi=30, max_score_ratio=0.99),
    )
    assert res.ok[0] and all(j >= 20 for j in res.indices[0])
    assert all(scores[j] <= 0.99 * pos[0] + 1e-7 for j in res.indices[0])
    assert res.stats["threshold_dropped"] == 16  # candidates 4..19 were in the window but scored too high
    with pytest.raises(ConfigError, match="positive_scores"):
        mine_from_embeddings(a, c, anchor_groups=["A"], candidate_groups=["g"] * 60, config=cfg(max_score_ratio=0.9))


def test_too_few_in_the_window_extends_below_it_never_above() -> None:
    a, c = fan(12)
    scores = c @ a[0]
    pos = np.array([float(scores[5]) / 0.99], dtype=np.float32)  # the filter removes candidates 0..4
    res = mine_from_embeddings(
        a,
        c,
        anchor_groups=["A"],
        candidate_groups=[f"g{j}" for j in range(12)],
        positive_scores=pos,
        config=cfg(n=3, lo=2, hi=6, max_score_ratio=0.99),
    )
    # the window (ranks 2..6 = candidates 1..5) keeps only candidate 5; ranks 7, 8 below it fill up, rank 1 never
    assert res.ok[0] and res.indices[0].tolist() == [5, 6, 7]
    assert res.stats["extended"] == 1 and res.stats["threshold_dropped"] == 4
    groups = ["A"] * 3 + ["g3", "g4", "g5"]  # three eligible candidates: ranks 1..3
    a6, c6 = fan(6)
    short = mine_from_embeddings(a6, c6, anchor_groups=["A"], candidate_groups=groups, config=cfg(n=3, lo=2, hi=4))
    assert not short.ok[0] and short.indices[0].tolist() == [-1] * 3 and short.stats["failed"] == 1
    assert np.isnan(short.scores[0]).all() and short.texts(0) == []


def test_the_whole_pool_is_ranked_when_the_first_depth_runs_dry() -> None:
    a, c = fan(400)
    scores = c @ a[0]
    pos = np.array([float(scores[390]) / 0.99], dtype=np.float32)  # only the 10 worst pass the filter
    res = mine_from_embeddings(
        a,
        c,
        anchor_groups=["A"],
        candidate_groups=[f"g{j}" for j in range(400)],
        positive_scores=pos,
        config=cfg(n=3, lo=1, hi=5, max_score_ratio=0.99),
    )
    assert res.stats["depth"] < 400 and res.ok[0]
    assert res.indices[0].tolist() == [390, 391, 392]


def test_sampling_is_deterministic_per_anchor_key() -> None:
    rng = np.random.default_rng(0)
    a = rng.standard_normal((30, 8)).astype(np.float32)
    c = rng.standard_normal((300, 8)).astype(np.float32)
    groups = [f"g{j % 50}" for j in range(300)]
    keys = [f"k{i}" for i in range(30)]
    kw = {"anchor_groups": [f"a{i}" for i in range(30)], "candidate_groups": groups, "anchor_keys": keys}
    one = mine_from_embeddings(a, c, config=cfg(n=5, lo=10, hi=40, seed=1), **kw)
    two = mine_from_embeddings(a, c, config=cfg(n=5, lo=10, hi=40, seed=1), **kw)
    other = mine_from_embeddings(a, c, config=cfg(n=5, lo=10, hi=40, seed=2), **kw)
    assert np.array_equal(one.indices, two.indices)
    assert not np.array_equal(one.indices, other.indices)
    # an anchor's negatives do not depend on which other anchors are mined with it
    sub = mine_from_embeddings(
        a[5:9],
        c,
        anchor_groups=[f"a{i}" for i in range(5, 9)],
        candidate_groups=groups,
        anchor_keys=keys[5:9],
        config=cfg(n=5, lo=10, hi=40, seed=1),
    )
    assert np.array_equal(sub.indices, one.indices[5:9])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n_anchors=st.integers(1, 6),
    n_cands=st.integers(1, 60),
    n_groups=st.integers(1, 8),
    n=st.integers(1, 4),
    lo=st.integers(1, 10),
    width=st.integers(0, 10),
    seed=st.integers(0, 2**31),
)
def test_invariants_against_a_brute_force_ranking(
    n_anchors: int, n_cands: int, n_groups: int, n: int, lo: int, width: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((n_anchors, 4)).astype(np.float32)
    c = rng.standard_normal((n_cands, 4)).astype(np.float32)
    a_groups = [f"g{rng.integers(n_groups)}" for _ in range(n_anchors)]
    c_groups = [f"g{rng.integers(n_groups)}" for _ in range(n_cands)]
    exclude = [[int(rng.integers(n_cands))] for _ in range(n_anchors)]
    hi = lo + max(width, n - 1)
    res = mine_from_embeddings(
        a, c, anchor_groups=a_groups, candidate_groups=c_groups, exclude=exclude, config=cfg(n=n, lo=lo, hi=hi)
    )
    for i in range(n_anchors):
        scores = c @ a[i]
        order = sorted(range(n_cands), key=lambda j: (-scores[j], -j))  # exact_topk's tie rule
        eligible = [j for j in order if c_groups[j] != a_groups[i] and j not in exclude[i]]
        rank = {j: r + 1 for r, j in enumerate(eligible)}
        if len(eligible) - (lo - 1) < n:
            assert not res.ok[i]
            continue
        got = res.indices[i].tolist()
        assert res.ok[i] and len(set(got)) == n
        assert all(j in rank and rank[j] >= lo for j in got)
        assert all(rank[j] <= hi for j in got)  # without the filter nothing below the window is ever needed
        assert res.ranks[i].tolist() == sorted(rank[j] for j in got)


def test_effective_range_scales_with_small_pools() -> None:
    c = MiningConfig()
    assert c.effective_range(8000) == (30, 100) and c.effective_range(1000) == (30, 100)
    assert c.effective_range(500) == (15, 50)
    assert c.effective_range(200) == (6, 20)
    assert c.effective_range(10) == (1, 5)  # at least n ranks wide
    assert MiningConfig(reference_pool=None).effective_range(10) == (30, 100)


def test_config_validation() -> None:
    assert parse_rank_range("30,100") == (30, 100) and parse_rank_range((1, 1)) == (1, 1)
    for bad in ("100,30", "0,5", "a,b", "5"):
        with pytest.raises(ConfigError, match="rank range"):
            parse_rank_range(bad)
    with pytest.raises(ConfigError, match="fewer than the 5"):
        MiningConfig(num_negatives=5, rank_range=(1, 3))
    with pytest.raises(ConfigError, match="num_negatives"):
        MiningConfig(num_negatives=0)
    with pytest.raises(ConfigError, match="max_score_ratio"):
        MiningConfig(max_score_ratio=0)
    with pytest.raises(DataFormatError, match="anchor groups"):
        mine_from_embeddings(np.ones((2, 2)), np.ones((3, 2)), anchor_groups=["a"], candidate_groups=["a"] * 3)


def test_texts_each_encoded_once_and_equal_texts_never_negatives() -> None:
    enc = FakeEncoder()
    te = TextEncoder(enc)
    anchors = ["query one", "query two"]
    pool = [f"passage {j}" for j in range(30)] + ["passage 3", "answer one"]  # a repeated text, a positive's twin
    groups = [f"p{j}" for j in range(30)] + ["p99", "p98"]
    res = mine_hard_negatives(
        te,
        anchors,
        pool,
        anchor_groups=["pa", "pb"],
        candidate_groups=groups,
        positives=["answer one", "passage 7"],
        config=cfg(n=5, lo=1, hi=30),
    )
    assert res.candidates is not None and len(res.candidates) == 31  # "passage 3" merged
    for i, pos in enumerate(["answer one", "passage 7"]):
        negs = res.texts(i)
        assert len(negs) == 5 == len(set(negs)) and pos not in negs
    mine_hard_negatives(
        te, anchors, pool, anchor_groups=["pa", "pb"], candidate_groups=groups, config=cfg(n=2, lo=1, hi=4)
    )
    assert max(enc.calls.values()) == 1  # nothing encoded twice, across two mining calls
    assert te.n_encoded == len(enc.calls) == 33


def test_query_mining_excludes_the_anchor_and_filters_near_duplicates() -> None:
    vec = {"q": [1.0, 0.0], "q near": [0.999, 0.045], "q far": [0.6, 0.8], "other": [0.0, 1.0], "x": [0.8, 0.6]}
    fn = lambda texts, prompt: np.array([vec[t] for t in texts], dtype=np.float32)  # noqa: E731
    pool = ["q", "q near", "q far", "other", "x"]
    res = mine_hard_negatives(
        fn,
        ["q"],
        pool,
        anchor_groups=["A"],
        candidate_groups=["A", "B", "C", "D", "E"],
        anchor_prompt="query",
        candidate_prompt="query",
        config=cfg(n=2, lo=1, hi=2, max_score_ratio=0.95),
    )
    # "q" is the anchor (same page anyway); "q near" scores 0.999 > 0.95 x s(q, q) = 0.95 and is dropped
    assert res.texts(0) == ["x", "q far"]


def test_empty_inputs() -> None:
    res = mine_hard_negatives(FakeEncoder(), [], ["a"], anchor_groups=[], candidate_groups=["g"])
    assert res.indices.shape == (0, 5)
    res = mine_hard_negatives(FakeEncoder(), ["q"], [], anchor_groups=["g"], candidate_groups=[])
    assert not res.ok[0]
