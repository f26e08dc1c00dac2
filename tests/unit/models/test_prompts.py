"""The prompt registry: family lookup by name, the choice order (flag > model > family > none), the E5 warning."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from crossalign.models.prompts import E5_INSTRUCT_QUERY, PROMPT_FAMILIES, apply_prompts, choose_prompts, family_of


class Bare:
    """A model with only a ``prompts`` dict (what the registry reads)."""

    def __init__(self, prompts: dict | None = None) -> None:
        self.prompts = dict(prompts or {})


@pytest.mark.parametrize(
    ("name", "family", "query", "passage"),
    [
        ("intfloat/multilingual-e5-small", "e5", "query: ", "passage: "),
        ("intfloat/e5-base-v2", "e5", "query: ", "passage: "),
        ("e5-small-q4", "e5", "query: ", "passage: "),
        ("/models/multilingual-e5-large", "e5", "query: ", "passage: "),
        ("intfloat/multilingual-e5-large-instruct", "multilingual-e5-instruct", E5_INSTRUCT_QUERY, ""),
        ("BAAI/bge-m3", "bge-m3", "", ""),
        ("sentence-transformers/LaBSE", "labse", "", ""),
        ("Alibaba-NLP/gte-multilingual-base", "gte", "", ""),
        ("nomic-ai/nomic-embed-text-v1.5", "nomic-embed", "search_query: ", "search_document: "),
        ("BAAI/bge-base-en-v1.5", "bge-v1.5", "Represent this sentence for searching relevant passages: ", ""),
    ],
)
def test_known_families(name: str, family: str, query: str, passage: str) -> None:
    found = family_of([name])
    assert found is not None and (found.name, found.query, found.passage) == (family, query, passage)


def test_unknown_models_have_no_family() -> None:
    for name in ("xlm-roberta-base", "bert-base-multilingual-cased", "my-finetune", "runs/clear-de/model", "be5t"):
        assert family_of([name]) is None, name
    assert len({f.name for f in PROMPT_FAMILIES}) == len(PROMPT_FAMILIES)


def test_model_prompts_win_over_family_and_flags_over_both() -> None:
    own = Bare({"query": "q> ", "document": "d> "})
    choice = choose_prompts(own, "intfloat/multilingual-e5-small")
    assert (choice.query, choice.passage, choice.query_source, choice.passage_source) == (
        "q> ",
        "d> ",
        "model",
        "model",
    )
    choice = choose_prompts(own, "intfloat/multilingual-e5-small", passage="")
    assert (choice.passage, choice.passage_source, choice.query) == ("", "flag", "q> ")


def test_snapshot_without_prompts_gets_the_family_prompts(tmp_path: Path) -> None:
    # a plain transformers snapshot saved under another name: the config's _name_or_path tells the family
    snap = tmp_path / "snapshot"
    snap.mkdir()
    (snap / "config.json").write_text(json.dumps({"_name_or_path": "intfloat/multilingual-e5-base"}))
    model = Bare({"query": "", "document": ""})  # sentence-transformers' empty defaults count as none
    lines: list[str] = []
    choice = apply_prompts(model, snap, log=lines.append)
    assert (choice.query, choice.passage, choice.family, choice.query_source) == (
        "query: ",
        "passage: ",
        "e5",
        "family",
    )
    assert model.prompts == {"query": "query: ", "passage": "passage: ", "document": "passage: "}
    assert lines == ["prompts: query 'query: ' (family e5), passage 'passage: ' (family e5)"]
    assert choice.warning is None


def test_e5_without_a_query_prompt_is_warned_about() -> None:
    lines: list[str] = []
    choice = apply_prompts(Bare(), "intfloat/multilingual-e5-small", query="", passage="", log=lines.append)
    assert choice.query == "" and choice.query_source == "flag"
    assert lines[-1].startswith("WARNING: intfloat/multilingual-e5-small looks like an E5 model")
    assert "--query-prompt 'query: '" in lines[-1]
    # an unknown model without prompts runs without them, silently but recorded
    choice = apply_prompts(Bare(), "my-model", log=lines.append)
    assert (choice.query, choice.query_source, choice.warning) == ("", "none", None)
    assert choice.to_dict()["query_source"] == "none"


def test_mining_encoder_gets_the_family_prompts_and_the_flags(tiny_st_dir: Path, tmp_path: Path) -> None:
    import shutil

    from crossalign.data.mining import resolve_encoder

    snap = tmp_path / "multilingual-e5-small"  # an E5 snapshot without prompts in its configuration
    shutil.copytree(tiny_st_dir, snap)
    st_config = snap / "config_sentence_transformers.json"
    st_config.write_text(json.dumps({**json.loads(st_config.read_text()), "prompts": {}}))
    enc, info = resolve_encoder(str(snap))
    assert info["prompts"]["query"] == "query: " and info["prompt_choice"]["family"] == "e5"
    queried = enc.encode(["w1 w2"], "query")
    enc2, info2 = resolve_encoder(str(snap), query_prompt="", passage_prompt="")
    assert info2["prompt_choice"]["query_source"] == "flag" and info2["prompt_choice"]["warning"]
    assert not np.allclose(queried, enc2.encode(["w1 w2"], "query"))  # the prompt reached the encoder
    with pytest.raises(ValueError, match="need a model"):
        resolve_encoder(lambda texts, prompt: np.zeros((len(texts), 2)), query_prompt="q: ")
