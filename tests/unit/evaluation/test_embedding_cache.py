"""EmbeddingCache: each distinct (text, prompt) is encoded once, persisted shards are reused, memory is bounded."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from evaluation_testkit import FakeModel

from crossalign.errors import ConfigError, DataFormatError
from crossalign.models.embedding_cache import EmbeddingCache


def test_each_text_encoded_once_across_calls_and_repeats() -> None:
    model = FakeModel()
    cache = EmbeddingCache(model, fingerprint="fake")
    a = cache.encode(["x", "y", "x", "z"], "query")
    b = cache.encode(["z", "x", "w"], "query")
    assert a.shape == (4, model.dim) and b.shape == (3, model.dim)
    assert np.array_equal(a[0], a[2]) and np.array_equal(a[0], b[1]) and np.array_equal(a[3], b[0])
    encoded = model.encoded_texts
    assert sorted(t for _, t in encoded) == ["w", "x", "y", "z"]  # each once
    assert cache.stats.requested == 7
    assert cache.stats.distinct == 6  # 3 distinct in call 1, 3 in call 2
    assert cache.stats.encoded == 4
    assert cache.stats.memory_hits == 2  # z and x in call 2
    assert cache.stats.disk_hits == 0
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-6)


def test_prompts_are_part_of_the_key_by_their_text() -> None:
    model = FakeModel()
    cache = EmbeddingCache(model, fingerprint="fake")
    q = cache.encode(["x"], "query")
    p = cache.encode(["x"], "passage")
    d = cache.encode(["x"], "document")  # same prompt text as "passage": a hit
    assert not np.allclose(q, p)
    assert np.array_equal(p, d)
    assert model.encoded_texts == [("query: ", "x"), ("passage: ", "x")]
    assert cache.namespace("passage") == cache.namespace("document") != cache.namespace("query")


def test_namespace_depends_on_model_mode_and_length() -> None:
    model = FakeModel()
    base = EmbeddingCache(model, fingerprint="a").namespace("query")
    assert EmbeddingCache(model, fingerprint="b").namespace("query") != base
    assert EmbeddingCache(model, fingerprint="a", long_text="window").namespace("query") != base
    model.max_seq_length = 128
    assert EmbeddingCache(model, fingerprint="a").namespace("query") != base


def test_persisted_shards_make_a_second_cache_skip_the_model(tmp_path: Path) -> None:
    first = FakeModel()
    c1 = EmbeddingCache(first, fingerprint="fp1", persist=True, cache_dir=tmp_path)
    v1 = c1.encode(["a", "b", "c"], "passage")
    assert c1.stats.shards_written == 1
    shard_dir = next((tmp_path / "embeddings").iterdir())
    assert (shard_dir / "meta.json").is_file()
    assert len(list(shard_dir.glob("*.keys.npy"))) == 1

    second = FakeModel()
    c2 = EmbeddingCache(second, fingerprint="fp1", persist=True, cache_dir=tmp_path)
    v2 = c2.encode(["c", "a", "b", "d"], "passage")
    assert second.encoded_texts == [("passage: ", "d")]
    assert c2.stats.disk_hits == 3 and c2.stats.encoded == 1
    np.testing.assert_array_equal(v2[:3], v1[[2, 0, 1]])

    other = FakeModel()
    c3 = EmbeddingCache(other, fingerprint="fp2", persist=True, cache_dir=tmp_path)
    c3.encode(["a"], "passage")
    assert other.encoded_texts == [("passage: ", "a")]  # another model: nothing shared


def test_incomplete_shard_is_ignored(tmp_path: Path) -> None:
    c1 = EmbeddingCache(FakeModel(), fingerprint="fp", persist=True, cache_dir=tmp_path)
    c1.encode(["a", "b"], "query")
    shard_dir = next((tmp_path / "embeddings").iterdir())
    next(shard_dir.glob("*.keys.npy")).unlink()  # as if the process died between the two writes
    model = FakeModel()
    c2 = EmbeddingCache(model, fingerprint="fp", persist=True, cache_dir=tmp_path)
    c2.encode(["a", "b"], "query")
    assert c2.stats.disk_hits == 0 and c2.stats.encoded == 2


def test_mismatched_shard_is_ignored(tmp_path: Path) -> None:
    c1 = EmbeddingCache(FakeModel(), fingerprint="fp", persist=True, cache_dir=tmp_path)
    c1.encode(["a", "b"], "query")
    shard_dir = next((tmp_path / "embeddings").iterdir())
    keys = next(shard_dir.glob("*.keys.npy"))
    np.save(keys, np.zeros((5, 32), dtype=np.uint8))  # 5 keys for 2 vectors
    c2 = EmbeddingCache(FakeModel(), fingerprint="fp", persist=True, cache_dir=tmp_path)
    c2.encode(["a", "b"], "query")
    assert c2.stats.disk_hits == 0


def test_memory_is_bounded_and_evicted_vectors_come_back() -> None:
    model = FakeModel(dim=8)  # 32 bytes per vector
    cache = EmbeddingCache(model, fingerprint="fp", max_memory_bytes=3 * 32)
    first = cache.encode(["a", "b", "c", "d", "e"], "query")
    assert len(cache) == 3 and cache.memory_bytes == 3 * 32
    again = cache.encode(["a"], "query")  # evicted (least recently used): encoded again, same vector
    np.testing.assert_array_equal(again[0], first[0])
    assert [t for _, t in model.encoded_texts].count("a") == 2


def test_memory_bound_with_persistence_reads_back_from_disk(tmp_path: Path) -> None:
    model = FakeModel(dim=8)
    cache = EmbeddingCache(model, fingerprint="fp", max_memory_bytes=32, persist=True, cache_dir=tmp_path)
    cache.encode(["a", "b", "c"], "query")
    cache.encode(["a"], "query")
    assert [t for _, t in model.encoded_texts].count("a") == 1
    assert cache.stats.disk_hits == 1


def test_empty_input_and_bad_inputs() -> None:
    cache = EmbeddingCache(FakeModel(dim=4), fingerprint="fp")
    assert cache.encode([], "query").shape == (0, 0)
    cache.encode(["a"], "query")
    assert cache.encode([], "query").shape == (0, 4)
    with pytest.raises(DataFormatError):
        cache.encode(["a", 3], "query")  # type: ignore[list-item]
    with pytest.raises(ConfigError):
        EmbeddingCache(FakeModel(), fingerprint="fp", batch_size=0)
    with pytest.raises(ConfigError):
        EmbeddingCache(FakeModel(), fingerprint="fp", long_text="chop")


def test_unfingerprintable_model_cannot_persist_without_a_fingerprint(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="fingerprint"):
        EmbeddingCache(FakeModel(), persist=True, cache_dir=tmp_path)
    cache = EmbeddingCache(FakeModel())  # in memory: a per-object key is enough
    assert cache.fingerprint.startswith("transient-")
    assert EmbeddingCache.transient(FakeModel()).persist is False


def test_non_finite_vectors_are_rejected() -> None:
    model = FakeModel({"bad": [float("nan"), 1.0]})
    cache = EmbeddingCache(model, fingerprint="fp", encode_fn=lambda m, texts, **kw: m.encode(texts, None, **kw))
    with pytest.raises(DataFormatError, match="NaN"):
        cache.encode(["bad"], "query")


def test_real_tiny_model_fingerprint_and_vectors(tiny_st_model) -> None:
    from crossalign.models import encode, model_fingerprint

    cache = EmbeddingCache(tiny_st_model, batch_size=4)
    assert cache.fingerprint == model_fingerprint(tiny_st_model)
    texts = ["w1 w2 w3", "w4 w5", "w1 w2 w3"]
    got = cache.encode(texts, "query")
    want = encode(tiny_st_model, texts, prompt_name="query", batch_size=4)
    np.testing.assert_allclose(got, want, atol=1e-6)
    assert cache.stats.encoded == 2


def test_encoding_path_joins_the_key_and_reaches_the_encoder_only_when_not_fp32_torch() -> None:
    calls: list[dict] = []

    def spy(model, texts, **kwargs):
        calls.append(kwargs)
        return np.tile(np.eye(4, dtype=np.float32)[0], (len(texts), 1))

    plain = EmbeddingCache(FakeModel(), fingerprint="m", encode_fn=spy)
    bf16 = EmbeddingCache(FakeModel(), fingerprint="m", encode_fn=spy, precision="bf16")
    assert (plain.backend, plain.precision) == ("torch", "fp32")
    assert plain.namespace("query") != bf16.namespace("query")
    assert "backend" not in plain._namespace_inputs("query")  # fp32 torch keys stay as they were
    plain.encode(["a"], "query")
    bf16.encode(["a"], "query")
    assert "backend" not in calls[0] and "precision" not in calls[0]
    assert calls[1]["backend"] == "torch" and calls[1]["precision"] == "bf16" and calls[1]["fingerprint"] == "m"
    assert calls[1]["cache_dir"] is None
    assert bf16.describe()["precision"] == "bf16"
    with pytest.raises(ConfigError, match="precision must be one of"):
        EmbeddingCache(FakeModel(), fingerprint="m", precision="fp8")


def test_auto_path_is_openvino_fp32_with_its_own_key_and_falls_back_to_torch(tiny_st_dir, tmp_path, monkeypatch):
    from sentence_transformers import SentenceTransformer

    import crossalign.models.backends as backends
    from crossalign.errors import ModelError
    from crossalign.models import encode

    if not backends.openvino_available():
        pytest.skip("openvino is not installed (extra crossalign[openvino])")
    monkeypatch.delenv(backends.BACKEND_ENV)
    monkeypatch.setenv("CROSSALIGN_CACHE", str(tmp_path))
    texts = ["w1 w2 w3", "w4 w5"]
    model = SentenceTransformer(str(tiny_st_dir), device="cpu")
    torch_cache = EmbeddingCache(model, backend="torch", persist=True)
    auto = EmbeddingCache(model, persist=True)  # the default
    assert (auto.backend, auto.precision) == ("openvino", "fp32")
    assert auto.namespace("query") != torch_cache.namespace("query")  # torch vectors never answer for OpenVINO's
    np.testing.assert_allclose(auto.encode(texts, "query"), torch_cache.encode(texts, "query"), atol=1e-5)
    assert EmbeddingCache.transient(model).backend == "torch"  # weights change between calls there

    other = SentenceTransformer(str(tiny_st_dir), device="cpu")
    monkeypatch.setattr(backends, "_export", lambda *a: (_ for _ in ()).throw(ModelError("could not convert")))
    falling = EmbeddingCache(other, persist=True, fingerprint="other")
    assert falling.backend == "openvino"  # known only when the first encode converts
    got = falling.encode(texts, "passage")
    assert (falling.backend, falling.precision) == ("torch", "fp32")
    np.testing.assert_allclose(got, encode(other, texts, prompt_name="passage", backend="torch"), atol=1e-6)
    # the vectors went under the torch key: a plain torch cache finds them without encoding
    again = EmbeddingCache(other, backend="torch", persist=True, fingerprint="other")
    again.encode(texts, "passage")
    assert again.stats.encoded == 0 and again.stats.disk_hits == 2
