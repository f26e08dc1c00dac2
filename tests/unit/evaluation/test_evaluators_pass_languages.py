"""Every evaluator hands each text's language to the encoder, which a LanguageCentering model needs."""

from __future__ import annotations

from evaluation_testkit import FakeModel

from crossalign.data.records import Document, Query, RetrievalSet
from crossalign.evaluation.evaluators import BitextEvaluator, MixedPoolEvaluator, RetrievalEvaluator
from crossalign.models.embedding_cache import EmbeddingCache


class RecordingCache(EmbeddingCache):
    def __init__(self) -> None:
        super().__init__(FakeModel(), fingerprint="recording")
        self.seen: list[tuple[str, str]] = []

    def encode(self, texts, prompt_name, langs=None):
        assert langs is not None, "the evaluator did not pass the texts' languages"
        self.seen += list(zip(texts, [langs] * len(texts) if isinstance(langs, str) else langs))
        return super().encode(texts, prompt_name, langs)


def _set() -> RetrievalSet:
    queries = [Query("q1", "eins", "de"), Query("q2", "zwei", "de")]
    documents = [Document("d1", "one", "en"), Document("d2", "two", "en"), Document("x1", "eins!", "de")]
    return RetrievalSet(queries, documents, {"q1": {"d1": 1, "x1": 1}, "q2": {"d2": 1}}, name="toy")


def test_retrieval_and_mixed_pool_pass_each_texts_language():
    for evaluator in (RetrievalEvaluator(_set(), metrics=["ndcg@10"]), MixedPoolEvaluator(_set())):
        cache = RecordingCache()
        evaluator.evaluate_detailed(cache)
        assert dict(cache.seen) == {"eins": "de", "zwei": "de", "one": "en", "two": "en", "eins!": "de"}


def test_bitext_passes_each_texts_language():
    data = RetrievalSet(
        [Query("s1", "eins", "de"), Query("s2", "zwei", "de")],
        [Document("t1", "one", "en"), Document("t2", "two", "en")],
        {"s1": {"t1": 1}, "s2": {"t2": 1}},
        name="bitext-toy",
    )
    cache = RecordingCache()
    BitextEvaluator(data).evaluate_detailed(cache)
    assert dict(cache.seen) == {"eins": "de", "zwei": "de", "one": "en", "two": "en"}
