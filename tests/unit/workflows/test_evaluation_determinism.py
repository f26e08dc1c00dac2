"""Issue #7, determinism: the same model and data evaluated twice give the same numbers, the same runs and the same
tie order.

The set has exact ties on purpose: three documents with the same text (so the same embedding and the same score for
every query) and two queries with the same text. Tied documents are ranked by document id, descending (trec_eval's
rule, see :func:`crossalign.evaluation.metrics.retrieval.rank_documents`), so the TREC runs are identical too.
Each evaluation starts from its own empty cache, so nothing is reused between the two.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from evaluation_testkit import save_tiny_st_model, word_text

from crossalign.cli.main import main
from crossalign.data.io import write_retrieval_set
from crossalign.data.records import Document, Query, RetrievalSet
from crossalign.evaluation.results import load_results

#: Parts of results.json that describe the run, not the numbers.
VOLATILE = {"created", "timing", "environment"}


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import torch

    torch.set_num_threads(1)
    return save_tiny_st_model(tmp_path_factory.mktemp("det_model") / "tiny")


def _tied_set(root: Path) -> Path:
    n = 8
    docs = [Document(f"d{i}", word_text(i, 7), "en") for i in range(n)]
    same = word_text(100, 7)
    docs += [Document(tid, same, "en") for tid in ("t1", "t3", "t2")]  # three identical texts: tied scores
    queries = [Query(f"q{i}", word_text(i, 3), "de") for i in range(n)]
    queries += [Query("qa", word_text(100, 3), "de"), Query("qb", word_text(100, 3), "de")]  # identical queries
    qrels = {f"q{i}": {f"d{i}": 1} for i in range(n)} | {"qa": {"t2": 1}, "qb": {"t1": 1, "t3": 2}}
    return write_retrieval_set(RetrievalSet(queries, docs, qrels, name="tied"), root / "tied")


def _evaluate(model: Path, data: Path, out: Path, cache: Path) -> dict:
    argv = ["--no-progress", "evaluate", "--model", str(model), "--data", str(data), "--output", str(out)]
    assert main([*argv, "--cache-dir", str(cache), "--batch-size", "3"]) == 0
    d = load_results(out).to_dict()
    return {k: v for k, v in d.items() if k not in VOLATILE}


def _numbers(obj: object) -> str:
    """The JSON of ``obj`` without wall-clock fields (``seconds``, ``*_seconds``)."""

    def strip(x: object) -> object:
        if isinstance(x, dict):
            return {k: strip(v) for k, v in x.items() if "seconds" not in k}
        if isinstance(x, list):
            return [strip(v) for v in x]
        return x

    return json.dumps(strip(obj), sort_keys=True)


def test_same_model_and_data_give_identical_results(model_dir: Path, tmp_path: Path) -> None:
    data = _tied_set(tmp_path)
    a = _evaluate(model_dir, data, tmp_path / "a", tmp_path / "cache-a")
    b = _evaluate(model_dir, data, tmp_path / "b", tmp_path / "cache-b")
    # every number, per-query value and data description is identical; only paths and timings may differ
    assert _numbers(a["tasks"]) == _numbers(b["tasks"]) and a["tasks"]
    assert a["data"] == b["data"] and a["model"]["fingerprint"] == b["model"]["fingerprint"]
    runs_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a" / "tiny" / "runs").rglob("*.trec"))
    assert runs_a
    for rel in runs_a:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes()

    # the tie rule: identical documents come in document-id order, descending, for both identical queries
    [run] = [p for p in (tmp_path / "a" / "tiny" / "runs").rglob("*.trec")]
    order: dict[str, list[tuple[str, str]]] = {}
    for line in run.read_text().splitlines():
        qid, _, doc, _, score, _ = line.split()
        order.setdefault(qid, []).append((doc, score))
    for qid in ("qa", "qb"):
        tied = [doc for doc, _ in order[qid] if doc.startswith("t")]
        assert tied == ["t3", "t2", "t1"], order[qid]
        assert len({s for doc, s in order[qid] if doc.startswith("t")}) == 1  # really tied
    assert order["qa"] == order["qb"]
