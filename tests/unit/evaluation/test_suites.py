"""Suites: names, user data loading, and which evaluators run for which suite."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crossalign.data.io import write_retrieval_set
from crossalign.data.records import Document, Query, RetrievalSet
from crossalign.errors import ConfigError, DataFormatError
from crossalign.evaluation.evaluators import MixedPoolEvaluator, RetrievalEvaluator, STSEvaluator
from crossalign.evaluation.suites import build_evaluators, libreoffice_suites, load_user_data, parse_suites


def test_parse_suites_expands_all_and_mixed_pool() -> None:
    assert parse_suites(["retrieval", "MIXED-POOL"]) == ["retrieval", "mixed-pool", "inclination"]
    assert parse_suites("sts,all") == ["retrieval", "mixed-pool", "inclination", "bitext", "sts"]
    assert libreoffice_suites(parse_suites("all")) == ["retrieval", "mixed-pool", "inclination", "bitext"]
    with pytest.raises(ConfigError, match="no suite"):
        parse_suites(" , ")


def _write_set(directory: Path, doc_langs: tuple[str, ...]) -> Path:
    docs = [Document(f"d{i}", f"text {i}", lang) for i, lang in enumerate(doc_langs)]
    rs = RetrievalSet([Query("q1", "query", "de")], docs, {"q1": {"d0": 1}}, name=directory.name)
    return write_retrieval_set(rs, directory)


def test_user_retrieval_sets_and_mixed_pools(tmp_path: Path) -> None:
    mono = load_user_data(_write_set(tmp_path / "mono", ("en", "en")))
    multi = load_user_data(_write_set(tmp_path / "multi", ("en", "de")))
    assert mono.kind == "retrieval" and mono.name == "mono"
    assert len(mono.retrieval.provenance["digest"]) == 64
    evs = build_evaluators(parse_suites("all"), user_data=[mono, multi])
    kinds = [(type(e).__name__, e.task, e.suite) for e in evs]
    assert kinds == [
        ("RetrievalEvaluator", "mono", "retrieval"),
        ("RetrievalEvaluator", "multi", "retrieval"),
        ("MixedPoolEvaluator", "multi", "mixed-pool"),
    ]
    assert isinstance(evs[0], RetrievalEvaluator) and isinstance(evs[2], MixedPoolEvaluator)


def test_user_sts_file(tmp_path: Path) -> None:
    p = tmp_path / "pairs.jsonl"
    p.write_text(json.dumps({"text1": "a", "text2": "b", "score": 1, "lang1": "de", "lang2": "en"}) + "\n")
    sts = load_user_data(p)
    assert sts.kind == "sts" and sts.describe()["language_pairs"] == ["de-en"]
    [ev] = build_evaluators(["sts"], user_data=[sts])
    assert isinstance(ev, STSEvaluator) and ev.task == "pairs"


def test_user_data_errors(tmp_path: Path) -> None:
    with pytest.raises(DataFormatError, match="no such file"):
        load_user_data(tmp_path / "nope")
    (tmp_path / "data.csv").write_text("a,b\n")
    with pytest.raises(DataFormatError, match="retrieval-set directory"):
        load_user_data(tmp_path / "data.csv")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataFormatError, match=r"queries\.jsonl"):
        load_user_data(tmp_path / "empty")
    with pytest.raises(ConfigError, match="nothing to evaluate"):
        build_evaluators(["bitext"], user_data=[])
