"""A trained model's card metadata: base model id, training languages and licence, from what crossalign knows."""

from __future__ import annotations

import json
from pathlib import Path

from crossalign.training.card import card_metadata


def test_builtin_base_names_its_upstream_model_and_licence() -> None:
    meta = card_metadata("e5-small-q4", None, {"languages": ["en", "de", "zh-CN", "zh-TW"]})
    assert meta == {"base_model": "intfloat/multilingual-e5-small", "language": ["en", "de", "zh"], "license": "mit"}


def test_directory_card_front_matter_and_config(tmp_path: Path) -> None:
    d = tmp_path / "snap"
    d.mkdir()
    (d / "README.md").write_text("---\nlicense: apache-2.0\nbase_model:\n- BAAI/bge-m3\n---\n# x\n")
    assert card_metadata(str(d), d, None) == {"base_model": "BAAI/bge-m3", "language": None, "license": "apache-2.0"}
    e = tmp_path / "plain"
    e.mkdir()
    (e / "config.json").write_text(json.dumps({"_name_or_path": "intfloat/multilingual-e5-base"}))
    assert card_metadata(str(e), e, {})["base_model"] == "intfloat/multilingual-e5-base"
    f = tmp_path / "unknown"
    f.mkdir()
    assert card_metadata(str(f), f, None) == {"base_model": None, "language": None, "license": None}


def test_hub_id_is_its_own_base() -> None:
    assert card_metadata("BAAI/bge-m3", "BAAI/bge-m3", None)["base_model"] == "BAAI/bge-m3"
