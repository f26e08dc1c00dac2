"""Mixed-pool metrics on hand-built ranks and a hand-built embedding pool."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crossalign.errors import DataFormatError
from crossalign.evaluation.metrics.mixed_pool import (
    complete_at_k,
    evaluate_mixed_pool,
    lang_share_at_k,
    max_rank,
    min_rank,
    ndcg_at_1,
    pivot_above_gold,
    pivot_first_at_1,
    rank_summary,
)


def test_hand_built_ranks() -> None:
    # query 0: golds at ranks 1 and 4; query 1: 2 and 3; query 2: 7 and 1; query 3: one gold at 12
    ranks = np.array([1, 4, 3, 2, 7, 1, 12])
    qi = np.array([0, 0, 1, 1, 2, 2, 3])
    mx = max_rank(ranks, qi)
    mn = min_rank(ranks, qi)
    assert mx.tolist() == [4, 3, 7, 12]
    assert mn.tolist() == [1, 2, 1, 12]
    assert rank_summary(mx) == {"mean": 6.5, "median": 5.5}
    assert complete_at_k(mx, 3) == 0.25
    assert complete_at_k(mx, [1, 4, 7, 12]) == {1: 0.0, 4: 0.5, 7: 0.75, 12: 1.0}
    assert ndcg_at_1(mn) == 0.5


def test_rank_inputs_are_checked() -> None:
    with pytest.raises(DataFormatError, match="no gold document"):
        max_rank([1, 2], [0, 2])  # query 1 has none
    with pytest.raises(DataFormatError, match=">= 1"):
        max_rank([0, 2], [0, 1])
    with pytest.raises(DataFormatError, match="equal length"):
        min_rank([1, 2], [0])


def test_pivot_first_share_and_counts() -> None:
    langs = np.array(["en", "de", "en", "de", "fr"])
    top = np.array([[0, 1, 3], [1, 0, 2], [2, 4, 1], [4, 0, 2]])
    assert pivot_first_at_1(top, langs) == 0.5  # queries 0 and 2 have an English top hit
    assert pivot_first_at_1(top, langs, pivot_lang="fr") == 0.25
    assert lang_share_at_k(top, langs, 1) == {"de": 0.25, "en": 0.5, "fr": 0.25}
    assert lang_share_at_k(top, langs, 3) == {"de": 4 / 12, "en": 6 / 12, "fr": 2 / 12}
    counts = np.array([[3, 0, 1], [0, 2, 0]])  # groups: de, en, fr
    assert pivot_above_gold(counts, ["de", "en", "fr"]).tolist() == [0, 2]
    assert pivot_above_gold(counts, ["de", "en", "fr"], "de").tolist() == [3, 0]
    assert pivot_above_gold(counts, ["de", "en", "fr"], "sw").tolist() == [0, 0]


def test_evaluate_mixed_pool_on_a_hand_built_pool() -> None:
    """2-D pool with exact scores (small integers): every rank is known by hand.

    docs: 0 en (3,0)  1 en (0,3)  2 en (2,2)  3 de (2,0)  4 de (0,2)
    query 0 = (1,0): scores 3, 0, 2, 2, 0  -> order 0, 3, 2, 4, 1 (ties: higher index first)
    query 1 = (0,1): scores 0, 3, 2, 0, 2  -> order 1, 4, 2, 3, 0
    gold (multi-reference): q0 -> {0 (en), 3 (de)}, q1 -> {1 (en), 4 (de)}
    """
    docs = np.array([[3, 0], [0, 3], [2, 2], [2, 0], [0, 2]], dtype=np.float32)
    queries = np.array([[1, 0], [0, 1]], dtype=np.float32)
    langs = ["en", "en", "en", "de", "de"]
    gold = [(0, 0), (0, 3), (1, 1), (1, 4)]
    res = evaluate_mixed_pool(queries, docs, gold, langs, query_langs="de", ks=(1, 2, 3), doc_chunk=2)
    assert res.gold_ranks.tolist() == [1, 2, 1, 2]
    assert res.max_ranks.tolist() == [2, 2] and res.min_ranks.tolist() == [1, 1]
    m = res.metrics
    assert m["complete@1"] == 0.0 and m["complete@2"] == 1.0
    assert m["ndcg@1"] == 1.0
    assert m["pivot_first@1"] == 1.0 and m["pivot_first_wrong@1"] == 0.0  # English top hits, but gold ones
    assert m["pivot_above_gold_mean"] == 0.5  # the de golds each have their en parallel above them
    assert m["lang_share@3:en"] == pytest.approx(4 / 6)
    assert res.pool == {"de": 2, "en": 3} and res.queries == {"de": 2}
    # inclination pool: only the de document is relevant
    inc = evaluate_mixed_pool(queries, docs, [(0, 3), (1, 4)], langs, ks=(1,))
    assert inc.gold_ranks.tolist() == [2, 2]
    assert inc.metrics["pivot_first_wrong@1"] == 1.0 and inc.metrics["pivot_above_gold_mean"] == 1.0
    # per query language breakdown
    mixed = evaluate_mixed_pool(queries, docs, gold, langs, query_langs=["de", "fr"], ks=(1, 2))
    assert set(mixed.by_query_lang) == {"de", "fr"} and mixed.by_query_lang["fr"]["max_rank_mean"] == 2.0


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.integers(1, 500), min_size=1, max_size=4), min_size=1, max_size=20))
def test_max_at_least_min_and_complete_monotone(per_query: list[list[int]]) -> None:
    ranks = np.array([r for rs in per_query for r in rs])
    qi = np.array([q for q, rs in enumerate(per_query) for _ in rs])
    mx, mn = max_rank(ranks, qi), min_rank(ranks, qi)
    assert np.all(mx >= mn)
    values = [complete_at_k(mx, k) for k in range(1, 502, 25)]
    assert all(a <= b for a, b in itertools.pairwise(values))
    assert complete_at_k(mx, 500) == 1.0
