"""Evaluators on hand-built embeddings (expected values computed by hand) and on a tiny real model."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from evaluation_testkit import FakeModel, unit, word_text

from crossalign.data.records import Document, Query, RetrievalSet
from crossalign.errors import DataFormatError
from crossalign.evaluation.evaluators import (
    BitextEvaluator,
    MixedPoolEvaluator,
    RetrievalEvaluator,
    STSEvaluator,
    StsPair,
    read_sts_jsonl,
)
from crossalign.evaluation.metrics.bitext import bitext_p_at_1, evaluate_bitext
from crossalign.models.embedding_cache import EmbeddingCache


# ------------------------------------------------------------------------------------------------------ retrieval
def _retrieval_case() -> tuple[RetrievalSet, FakeModel]:
    vectors = {
        "doc one": unit(1, 0, 0),
        "doc two": unit(0, 1, 0),
        "doc three": unit(0, 0, 1),
        "query a": unit(0.9, 0.1, 0),  # ranks d1, d2, d3; relevant d2 -> rank 2
        "query b": unit(0, 0, 1),  # relevant d3 -> rank 1
        "query c": unit(1, 1, 0),  # d1 and d2 tie; trec rule: doc id descending -> d2 first; relevant d1 -> rank 2
    }
    rs = RetrievalSet(
        [Query("qa", "query a", "de"), Query("qb", "query b", "de"), Query("qc", "query c", "de")],
        [Document("d1", "doc one", "en"), Document("d2", "doc two", "en"), Document("d3", "doc three", "en")],
        {"qa": {"d2": 1}, "qb": {"d3": 1}, "qc": {"d1": 1}},
        name="toy",
    )
    return rs, FakeModel(vectors)


def test_retrieval_scores_by_hand() -> None:
    rs, model = _retrieval_case()
    ev = RetrievalEvaluator(rs, metrics=["ndcg@10", "mrr@10", "recall@1"], task="toy-task")
    [out] = ev.evaluate_detailed(model)
    t = out.score
    assert (t.suite, t.task, t.query_lang, t.doc_lang, t.pool, t.n_queries) == (
        "retrieval",
        "toy-task",
        "de",
        "en",
        {"en": 3},
        3,
    )
    half = 1 / math.log2(3)
    assert t.per_query["ndcg@10"] == pytest.approx({"qa": half, "qb": 1.0, "qc": half})
    assert t.per_query["mrr@10"] == pytest.approx({"qa": 0.5, "qb": 1.0, "qc": 0.5})
    assert t.scores["ndcg@10"] == pytest.approx((2 * half + 1) / 3)
    assert t.scores["recall@1"] == pytest.approx(1 / 3)
    assert t.main_score == "ndcg@10"
    assert list(out.run["qc"])[:2] == ["d2", "d1"]  # the tie, broken by doc id descending
    assert ev.depth == 3


def test_retrieval_splits_query_languages_and_uses_prompts() -> None:
    rs, model = _retrieval_case()
    rs.queries[2] = Query("qc", "query c", "en")
    ev = RetrievalEvaluator(rs, metrics=["ndcg@10"])
    scores = ev.evaluate(EmbeddingCache(model, fingerprint="fp"))
    assert [(t.query_lang, t.n_queries) for t in scores] == [("de", 2), ("en", 1)]
    prompts = {p for p, _ in model.encoded_texts}
    assert prompts == {"query: ", "passage: "}
    assert {t for p, t in model.encoded_texts if p == "passage: "} == {"doc one", "doc two", "doc three"}


def test_retrieval_faiss_gives_the_same_scores() -> None:
    pytest.importorskip("faiss")
    rs, model = _retrieval_case()
    exact = RetrievalEvaluator(rs, metrics=["ndcg@10"]).evaluate(model)[0]
    fast = RetrievalEvaluator(rs, metrics=["ndcg@10"], use_faiss=True).evaluate(model)[0]
    assert fast.scores == pytest.approx(exact.scores)
    assert fast.meta["search"].startswith("faiss")


def test_retrieval_rejects_empty_sets() -> None:
    with pytest.raises(DataFormatError):
        RetrievalEvaluator(RetrievalSet([], [Document("d", "t", "en")], {}))


# ----------------------------------------------------------------------------------------------------- mixed pool
def _mixed_case() -> tuple[RetrievalSet, FakeModel]:
    vectors = {
        "e1": [1, 0, 0, 0],
        "e2": unit(0.7, math.sqrt(1 - 0.49), 0, 0),
        "g1": [0.6, 0, 0.8, 0],
        "g2": [0, 0, 0, 1],
        "query one": [1, 0, 0, 0],  # e1 1.0, e2 0.7, g1 0.6, g2 0 -> gold {e1, g1} at ranks 1 and 3
        "query two": [0, 0, 0, 1],  # g2 1.0, then e2, e1, g1 tied at 0 (id desc) -> gold {g2, e2} at 1 and 2
    }
    rs = RetrievalSet(
        [Query("de:1", "query one", "de"), Query("de:2", "query two", "de")],
        [Document(f"en:{k}", k, "en") for k in ("e1", "e2")] + [Document(f"de:{k}", k, "de") for k in ("g1", "g2")],
        {"de:1": {"en:e1": 1, "de:g1": 1}, "de:2": {"en:e2": 1, "de:g2": 1}},
        name="mixed",
    )
    return rs, FakeModel(vectors)


def test_mixed_pool_by_hand() -> None:
    rs, model = _mixed_case()
    [out] = MixedPoolEvaluator(rs, task="toy").evaluate_detailed(model)
    t = out.score
    assert (t.suite, t.query_lang, t.doc_lang, t.pool) == ("mixed-pool", "de", None, {"de": 2, "en": 2})
    assert t.per_query["max_rank"] == {"de:1": 3.0, "de:2": 2.0}
    assert t.per_query["min_rank"] == {"de:1": 1.0, "de:2": 1.0}
    assert t.per_query["pivot_above_gold"] == {"de:1": 1.0, "de:2": 0.0}  # (0 + 2) / 2 and (0 + 0) / 2
    assert t.per_query["pivot_first@1"] == {"de:1": 1.0, "de:2": 0.0}
    s = t.scores
    assert s["max_rank_mean"] == 2.5 and s["max_rank_median"] == 2.5
    assert s["complete@1"] == 0.0 and s["complete@10"] == 1.0 and s["ndcg@1"] == 1.0
    assert s["pivot_first@1"] == 0.5 and s["pivot_above_gold_mean"] == 0.5
    assert t.main_score == "complete@10"
    assert list(out.run["de:2"]) == ["de:g2", "en:e2", "en:e1", "de:g1"]


def test_inclination_suite_and_main_score() -> None:
    rs, model = _mixed_case()
    rs.qrels = {"de:1": {"de:g1": 1}, "de:2": {"de:g2": 1}}
    [t] = MixedPoolEvaluator(rs, suite="inclination").evaluate(model)
    assert t.suite == "inclination" and t.main_score == "pivot_first@1"
    assert t.scores["pivot_first@1"] == 0.5 and t.scores["pivot_first_wrong@1"] == 0.5
    assert t.per_query["pivot_above_gold"] == {"de:1": 2.0, "de:2": 0.0}
    assert t.scores["ndcg@1"] == 0.5


def test_mixed_pool_drops_queries_without_gold() -> None:
    rs, model = _mixed_case()
    rs.qrels = {"de:1": {"en:e1": 1, "de:g1": 1}}
    [t] = MixedPoolEvaluator(rs).evaluate(model)
    assert t.n_queries == 1 and t.meta["n_queries_without_gold"] == 1


# --------------------------------------------------------------------------------------------------------- bitext
def _bitext_case(n: int, distract_src: int, distract_tgt: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n + distract_src, 16))
    y = np.concatenate([x[:n] + 0.9 * rng.standard_normal((n, 16)), rng.standard_normal((distract_tgt, 16))])
    vectors = {f"s{i}": x[i] for i in range(len(x))} | {f"t{j}": y[j] for j in range(len(y))}
    rs = RetrievalSet(
        [Query(f"de:{i}", f"s{i}", "de") for i in range(len(x))],
        [Document(f"en:{j}", f"t{j}", "en") for j in range(len(y))],
        {f"de:{i}": {f"en:{i}": 1} for i in range(n)},
        name="bitext",
    )
    norm = lambda a: a / np.linalg.norm(a, axis=1, keepdims=True)  # noqa: E731
    return rs, FakeModel(vectors), norm(x).astype(np.float32), norm(y).astype(np.float32)


def test_bitext_matches_the_metric_module() -> None:
    rs, model, x, y = _bitext_case(40, 0, 15)
    [t] = BitextEvaluator(rs, task="toy").evaluate(model)
    ref = evaluate_bitext(x, y, [(i, i) for i in range(40)])
    assert t.scores["p@1_src2tgt"] == pytest.approx(ref["p@1_src2tgt"])
    assert t.scores["p@1_tgt2src"] == pytest.approx(ref["p@1_tgt2src"])
    assert t.scores["xsim_error"] == pytest.approx(ref["xsim_error"])
    assert t.scores["bucc_f1"] == pytest.approx(ref["bucc_f1"])
    assert 0.2 < t.scores["p@1_src2tgt"] < 1.0  # not a vacuous comparison
    assert (t.query_lang, t.doc_lang, t.pool, t.n_queries) == ("de", "en", {"en": 55}, 40)
    assert t.meta["n_tgt_distractors"] == 15
    assert np.mean(list(t.per_query["p@1_src2tgt"].values())) == pytest.approx(t.scores["p@1_src2tgt"])


def test_bitext_with_source_distractors() -> None:
    rs, model, x, y = _bitext_case(30, 10, 10, seed=3)
    [t] = BitextEvaluator(rs).evaluate(model)
    gold = [(i, i) for i in range(30)]
    p1 = bitext_p_at_1(x, y, gold)
    assert t.scores["p@1_src2tgt"] == pytest.approx(p1["src2tgt"])
    assert t.scores["p@1_tgt2src"] == pytest.approx(p1["tgt2src"])
    assert t.meta["n_src_distractors"] == 10 and t.n_queries == 30
    assert set(t.per_query["xsim_error"]) == {f"de:{i}" for i in range(30)}
    # tgt→src per pair, keyed by the pair's source id: same keys as src→tgt, mean = the score
    assert set(t.per_query["p@1_tgt2src"]) == set(t.per_query["p@1_src2tgt"]) == {f"de:{i}" for i in range(30)}
    assert np.mean(list(t.per_query["p@1_tgt2src"].values())) == pytest.approx(p1["tgt2src"])
    assert 0.0 < p1["tgt2src"] < 1.0


def test_bitext_scores_pinned_with_several_gold_partners() -> None:
    """Values of the evaluator's own P@1/xSIM code before it moved onto the metric module's functions."""
    rng = np.random.default_rng(7)
    x = rng.standard_normal((12, 8))
    y = np.concatenate([x[:10] + 1.1 * rng.standard_normal((10, 8)), rng.standard_normal((3, 8))])
    vectors = {f"s{i}": x[i] for i in range(12)} | {f"t{j}": y[j] for j in range(13)}
    qrels = {f"de:{i}": {f"en:{i}": 1} for i in range(10)}
    qrels["de:0"]["en:10"] = 1  # a source with two gold targets (not counted by xSIM)
    qrels["de:11"] = {"en:1": 1}  # a target with two gold sources (left out of the tgt→src per-query values)
    rs = RetrievalSet(
        [Query(f"de:{i}", f"s{i}", "de") for i in range(12)],
        [Document(f"en:{j}", f"t{j}", "en") for j in range(13)],
        qrels,
        name="bitext",
    )
    [t] = BitextEvaluator(rs).evaluate(FakeModel(vectors))
    assert t.scores["p@1_src2tgt"] == pytest.approx(7 / 11)
    assert t.scores["p@1_tgt2src"] == pytest.approx(6 / 11)
    assert t.scores["xsim_error"] == pytest.approx(4 / 10)
    assert t.scores["bucc_f1"] == pytest.approx(10 / 19)
    assert t.scores["bucc_threshold"] == pytest.approx(1.460699690362179)
    wrong = lambda ids: {f"de:{i}" for i in ids}  # noqa: E731
    pq = t.per_query
    assert {q for q, v in pq["p@1_src2tgt"].items() if v == 0} == wrong([4, 8, 9, 11]) and len(pq["p@1_src2tgt"]) == 11
    assert pq["p@1_tgt2src"] == {f"de:{i}": float(i in (2, 3, 5, 9)) for i in (0, 2, 3, 4, 5, 6, 7, 8, 9)}
    assert pq["xsim_error"] == {f"de:{i}": float(i in (4, 8, 9, 11)) for i in (1, 2, 3, 4, 5, 6, 7, 8, 9, 11)}
    assert (t.n_queries, t.meta["n_gold_tgt"], t.meta["n_src_distractors"], t.meta["n_mined"]) == (11, 11, 1, 10)


def test_bitext_needs_one_language_per_side() -> None:
    rs, _, _, _ = _bitext_case(3, 0, 0)
    rs.queries[0] = Query("de:0", "s0", "fr")
    with pytest.raises(DataFormatError, match="one source"):
        BitextEvaluator(rs)


# ------------------------------------------------------------------------------------------------------------ STS
def test_sts_by_language_pair() -> None:
    model = FakeModel({"a": [1, 0], "b": [1, 0], "c": unit(1, 1), "d": [0, 1]})
    pairs = [
        StsPair("a", "b", 5.0, "de", "en"),
        StsPair("a", "c", 2.5, "de", "en"),
        StsPair("a", "d", 0.0, "de", "en"),
        StsPair("a", "b", 1.0, "en", "en"),
        StsPair("a", "d", 3.0, "en", "en"),
    ]
    scores = STSEvaluator(pairs, task="toy-sts").evaluate(model)
    assert [(t.query_lang, t.doc_lang, t.n_queries) for t in scores] == [("de", "en", 3), ("en", "en", 2)]
    assert scores[0].scores["spearman"] == pytest.approx(1.0)
    assert scores[1].scores["spearman"] == pytest.approx(-1.0)


def test_read_sts_jsonl(tmp_path: Path) -> None:
    p = tmp_path / "sts.jsonl"
    p.write_text('{"text1": "a", "text2": "b", "score": 1, "lang1": "DE", "lang2": "zh_cn"}\n', encoding="utf-8")
    [pair] = read_sts_jsonl(p)
    assert (pair.lang1, pair.lang2, pair.score) == ("de", "zh-CN", 1.0)
    p.write_text('{"text1": "a", "text2": "b", "score": "high", "lang1": "de", "lang2": "en"}\n', encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"sts\.jsonl:1"):
        read_sts_jsonl(p)
    p.write_text('{"text1": "a", "score": 1, "lang1": "de", "lang2": "en"}\n', encoding="utf-8")
    with pytest.raises(DataFormatError, match="text2"):
        read_sts_jsonl(p)
    p.write_text('{"text1": "a", "text2": "b", "score": 1, "lang1": "xx", "lang2": "en"}\n', encoding="utf-8")
    with pytest.raises(DataFormatError, match="lang1"):
        read_sts_jsonl(p)


# ------------------------------------------------------------------------------------ sentence-transformers glue
def _word_set(n: int = 12) -> RetrievalSet:
    return RetrievalSet(
        [Query(f"q{i}", word_text(i, 3), "de") for i in range(n)],
        [Document(f"d{i}", word_text(i, 6), "en") for i in range(n)],
        {f"q{i}": {f"d{i}": 1} for i in range(n)},
        name="words",
    )


def test_retrieval_evaluator_is_a_sentence_transformers_evaluator(tiny_st_model, tmp_path: Path) -> None:
    from sentence_transformers.base.evaluation.evaluator import BaseEvaluator

    ev = RetrievalEvaluator(_word_set(), name="words")
    assert isinstance(ev, BaseEvaluator)
    metrics = ev(tiny_st_model, output_path=str(tmp_path), epoch=1, steps=5)
    assert ev.primary_metric == "words_ndcg@10" and ev.primary_metric in metrics
    assert ev.greater_is_better
    assert 0.0 <= metrics["words_ndcg@10"] <= 1.0
    assert (tmp_path / "crossalign_words.jsonl").read_text().count("\n") == 1
    assert MixedPoolEvaluator(_word_set(), suite="inclination").greater_is_better is False


def test_trainer_logs_the_primary_metric(tiny_st_model, tmp_path: Path) -> None:
    from datasets import Dataset
    from sentence_transformers import SentenceTransformerTrainer, SentenceTransformerTrainingArguments
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    ev = RetrievalEvaluator(_word_set(), metrics=["ndcg@10", "mrr@10"], name="lo")
    train = Dataset.from_dict(
        {"anchor": [word_text(i, 3) for i in range(8)], "positive": [word_text(i, 6) for i in range(8)]}
    )
    args = SentenceTransformerTrainingArguments(
        output_dir=str(tmp_path / "out"), report_to="none", per_device_train_batch_size=4, use_cpu=True
    )
    trainer = SentenceTransformerTrainer(
        model=tiny_st_model,
        args=args,
        train_dataset=train,
        loss=MultipleNegativesRankingLoss(tiny_st_model),
        evaluator=ev,
    )
    metrics = trainer.evaluate()
    assert "eval_lo_ndcg@10" in metrics and "eval_lo_mrr@10" in metrics


def test_every_score_key_the_evaluators_write_is_in_the_metric_registry() -> None:
    """Direction, scale, label and per-query aggregate of every reported score come from the registry: no evaluator
    writes a key the registry cannot describe."""
    from crossalign.evaluation.metrics import score_info

    rs, model = _mixed_case()
    scores = MixedPoolEvaluator(rs, task="toy").evaluate(model)
    rs.qrels = {"de:1": {"de:g1": 1}, "de:2": {"de:g2": 1}}
    scores += MixedPoolEvaluator(rs, suite="inclination").evaluate(model)
    rs, model = _retrieval_case()
    scores += RetrievalEvaluator(rs, task="toy").evaluate(model)
    rs, model, _, _ = _bitext_case(40, 0, 15)
    scores += BitextEvaluator(rs, task="toy").evaluate(model)
    sts = [StsPair("a", "b", 5.0, "de", "en"), StsPair("a", "c", 2.5, "de", "en"), StsPair("a", "d", 0.0, "de", "en")]
    sts_model = FakeModel({"a": [1, 0], "b": [1, 0], "c": unit(1, 1), "d": [0, 1]})
    scores += STSEvaluator(sts, task="toy-sts").evaluate(sts_model)
    keys = {k for t in scores for k in [*t.scores, *(t.per_query or {}), t.main_score]}
    assert {"max_rank_median", "p@1_tgt2src", "xsim_error", "lang_share@1:en", "spearman", "ndcg@10"} <= keys
    unknown = sorted(k for k in keys if score_info(k).info is None)
    assert unknown == []
    for t in scores:  # the sentence-transformers direction of the main score is the registry's
        assert score_info(t.main_score).lower_is_better == (t.main_score in {"pivot_first@1"})
