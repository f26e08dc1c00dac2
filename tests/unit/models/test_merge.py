"""WiSE-FT merge: the endpoints are the two models exactly, the midpoint is the average, mismatches are refused."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "evaluation"))
from evaluation_testkit import save_tiny_st_model

from crossalign.errors import ConfigError, ModelError
from crossalign.models.merge import MERGE_INFO_FILE, merge_models, merge_state_dicts, save_merged


@pytest.fixture(scope="module")
def two_models(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("merge")
    return save_tiny_st_model(root / "base", seed=0), save_tiny_st_model(root / "tuned", seed=1)


def _load(path: Path):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(path), device="cpu")


def _states_equal(a, b) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_endpoints_are_the_two_models_exactly(two_models):
    base_dir, tuned_dir = two_models
    base, tuned = _load(base_dir), _load(tuned_dir)
    assert not _states_equal(base.state_dict(), tuned.state_dict())
    at0 = merge_models(str(base_dir), str(tuned_dir), 0.0)
    at1 = merge_models(str(base_dir), str(tuned_dir), 1.0)
    assert _states_equal(at0.state_dict(), base.state_dict())
    assert _states_equal(at1.state_dict(), tuned.state_dict())
    texts = ["w1 w2 w3", "w7 w9"]
    assert torch.equal(torch.as_tensor(at0.encode(texts)), torch.as_tensor(base.encode(texts)))
    assert torch.equal(torch.as_tensor(at1.encode(texts)), torch.as_tensor(tuned.encode(texts)))


def test_interior_lambda_is_the_weighted_average(two_models):
    base_dir, tuned_dir = two_models
    base, tuned = _load(base_dir).state_dict(), _load(tuned_dir).state_dict()
    merged = merge_models(str(base_dir), str(tuned_dir), 0.25).state_dict()
    name = "0.model.encoder.layer.0.attention.self.query.weight"
    assert torch.allclose(merged[name], 0.75 * base[name] + 0.25 * tuned[name], atol=1e-7)
    assert not torch.equal(merged[name], base[name]) and not torch.equal(merged[name], tuned[name])


def test_loaded_tuned_model_is_not_changed(two_models):
    base_dir, tuned_dir = two_models
    tuned = _load(tuned_dir)
    before = {k: v.clone() for k, v in tuned.state_dict().items()}
    merge_models(_load(base_dir), tuned, 0.5)
    assert _states_equal(tuned.state_dict(), before)


def test_saved_merge_is_a_plain_sentence_transformer(two_models, tmp_path):
    base_dir, tuned_dir = two_models
    merged = merge_models(str(base_dir), str(tuned_dir), 0.5)
    out = save_merged(merged, tmp_path / "merged", base=str(base_dir), tuned=str(tuned_dir), lam=0.5)
    again = _load(out)
    assert _states_equal(again.state_dict(), merged.state_dict())
    assert again.prompts["query"] == "query: "
    info = json.loads((out / MERGE_INFO_FILE).read_text())
    assert info["lambda"] == 0.5 and "Wortsman" in info["citation"]
    with pytest.raises(ConfigError, match="not empty"):
        save_merged(merged, out, base=None, tuned=None, lam=0.5)


def test_different_architectures_are_refused(two_models):
    base_dir, tuned_dir = two_models
    fewer_layers = _load(tuned_dir)
    fewer_layers[0].auto_model.encoder.layer = fewer_layers[0].auto_model.encoder.layer[:1]
    with pytest.raises(ModelError, match=r"different parameters: .*only in the base model .*layer\.1"):
        merge_models(str(base_dir), fewer_layers, 0.5)
    no_normalize = _load(tuned_dir)
    del no_normalize[2]
    with pytest.raises(ModelError, match="different architectures"):
        merge_models(str(base_dir), no_normalize, 0.5)


def test_shape_and_integer_mismatches_are_refused():
    a = {"w": torch.zeros(2, 3), "ids": torch.arange(4)}
    with pytest.raises(ModelError, match=r"'w' is \(2, 3\) .* but \(3, 2\)"):
        merge_state_dicts(a, {"w": torch.zeros(3, 2), "ids": torch.arange(4)}, 0.5)
    with pytest.raises(ModelError, match="non-float tensor 'ids' differs"):
        merge_state_dicts(a, {"w": torch.ones(2, 3), "ids": torch.arange(4) + 1}, 0.5)
    out = merge_state_dicts(a, {"w": torch.ones(2, 3), "ids": torch.arange(4)}, 0.5)
    assert torch.equal(out["w"], torch.full((2, 3), 0.5)) and torch.equal(out["ids"], torch.arange(4))


@pytest.mark.parametrize("bad", [-0.1, 1.5, "x", float("nan")])
def test_lambda_outside_unit_interval_is_refused(bad):
    with pytest.raises(ConfigError, match=r"in \[0, 1\]"):
        merge_state_dicts({}, {}, bad)


def test_cli_merge_writes_the_model_and_refuses_bad_lambda(two_models, tmp_path, capsys):
    from crossalign.cli.main import main

    base_dir, tuned_dir = two_models
    out = tmp_path / "m"
    assert main(["merge", str(base_dir), str(tuned_dir), "--lambda", "1", "--output", str(out)]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == str(out)
    assert _states_equal(_load(out).state_dict(), _load(tuned_dir).state_dict())
    assert main(["merge", str(base_dir), str(tuned_dir), "--lambda", "2", "--output", str(tmp_path / "n")]) == 2
    assert "--lambda must be a number in [0, 1]" in capsys.readouterr().err
    assert not (tmp_path / "n").exists()
