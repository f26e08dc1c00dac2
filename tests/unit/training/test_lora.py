"""LoRA adapters: the spec, training moves only the adapters, merging keeps the outputs and leaves a plain model."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from datasets import Dataset
from training_testkit import make_dataset, tiny_config

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "losses"))
from losses_testkit import load_tiny_model, random_texts

from crossalign.errors import ConfigError
from crossalign.losses import InfoNCELoss
from crossalign.training import TrainConfig
from crossalign.training.lora import LoraSpec, apply_lora, merge_lora


def test_parse_the_flag():
    assert LoraSpec.parse("r=8,alpha=16,dropout=0.0,targets=query,value") == LoraSpec(8, 16.0, 0.0, ("query", "value"))
    assert LoraSpec.parse("") == LoraSpec()
    assert LoraSpec.parse("targets=query,key,value, r=4") == LoraSpec(4, 16.0, 0.0, ("query", "key", "value"))
    assert LoraSpec.parse("r=4").to_dict() == {"r": 4, "alpha": 16.0, "dropout": 0.0, "targets": ["query", "value"]}


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("r=0", "r must be"),
        ("r=2.5", "r must be"),
        ("alpha=-1", "alpha"),
        ("dropout=1", "dropout"),
        ("rank=8", "unknown key"),
        ("r=8,query", "cannot read 'query'"),
        ("r=4,r=8", "given twice"),
    ],
)
def test_bad_flags_are_one_clear_error(text, match):
    with pytest.raises(ConfigError, match=match):
        LoraSpec.parse(text)


def test_the_config_key_is_checked_and_completed():
    assert TrainConfig(lora={"r": 4}).lora == {"r": 4, "alpha": 16.0, "dropout": 0.0, "targets": ["query", "value"]}
    with pytest.raises(ConfigError, match="lora: unknown key"):
        TrainConfig(lora={"rank": 4})
    with pytest.raises(ConfigError, match="lora"):
        TrainConfig.from_dict({"lora": "r=4"})


def test_targets_that_match_nothing_name_the_layers(tiny_model_dir):
    model = load_tiny_model(tiny_model_dir)
    with pytest.raises(ConfigError, match=r"linear layers are named: .*query"):
        apply_lora(model, LoraSpec(targets=("q_proj",)))


def _train_steps(model, steps: int = 3) -> None:
    dataset = Dataset.from_dict(
        {
            "anchor": random_texts(8, random.Random(0)),
            "positive": random_texts(8, random.Random(1)),
        }
    )
    loss = InfoNCELoss(model)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    for _ in range(steps):
        features = [model.preprocess(dataset[c]) for c in ("anchor", "positive")]
        optimizer.zero_grad()
        loss(features, None).backward()
        optimizer.step()


def test_training_moves_only_the_adapters_and_merging_keeps_the_outputs(tiny_model_dir, tmp_path):
    model = load_tiny_model(tiny_model_dir)
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    report = apply_lora(model, LoraSpec(r=4, alpha=8.0, targets=("query", "value")))
    assert len(report.layers) == 4  # 2 layers × (query, value)
    trainable = {name for name, p in model.named_parameters() if p.requires_grad}
    assert trainable and all("lora_" in name for name in trainable)
    assert report.trainable == sum(p.numel() for p in model.parameters() if p.requires_grad) == 4 * 2 * 4 * 32

    _train_steps(model)
    after = dict(model.named_parameters())
    for name, value in before.items():  # every base weight is untouched (peft renames it to ...base_layer...)
        adapted = name.replace("query.", "query.base_layer.").replace("value.", "value.base_layer.")
        assert torch.equal(after.get(name, after.get(adapted)), value), name
    assert any(p.abs().sum() > 0 for name, p in after.items() if "lora_B" in name)  # B left zero: it trained

    texts = ["w1 w2 w3", "w4 w5", "w9 w10 w11 w12"]
    model.eval()
    with torch.no_grad():
        adapter_out = model.encode(texts, convert_to_tensor=True)
    assert not torch.allclose(adapter_out, load_tiny_model(tiny_model_dir).eval().encode(texts, convert_to_tensor=True))
    assert merge_lora(model) == 4
    with torch.no_grad():
        merged_out = model.encode(texts, convert_to_tensor=True)
    torch.testing.assert_close(merged_out, adapter_out, rtol=0, atol=1e-6)
    assert not any("lora_" in name or "base_layer" in name for name, _ in model.named_parameters())

    # Saved and loaded by plain sentence-transformers in a process where peft cannot be imported.
    model.save(str(tmp_path / "merged"))
    torch.save(merged_out, tmp_path / "expected.pt")
    script = (
        "import sys, torch; sys.modules['peft'] = None\n"
        "from sentence_transformers import SentenceTransformer\n"
        f"m = SentenceTransformer({str(tmp_path / 'merged')!r}, device='cpu')\n"
        f"out = m.encode({texts!r}, convert_to_tensor=True)\n"
        f"torch.testing.assert_close(out, torch.load({str(tmp_path / 'expected.pt')!r}), rtol=0, atol=1e-6)\n"
        "print('ok')\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().endswith("ok")


def test_workflow_trains_lora_and_saves_a_merged_model(tiny_model_dir, tmp_path, monkeypatch):
    from crossalign.workflows.train import train

    monkeypatch.setenv("CROSSALIGN_NO_PROGRESS", "1")
    cfg = tiny_config(tiny_model_dir, tmp_path / "run", method="infonce", max_steps=2, save_steps=10)
    cfg.lora = {"r": 2, "alpha": 4.0, "dropout": 0.0, "targets": ["query", "value"]}
    result = train(cfg, dataset=make_dataset("infonce", n=8), show_progress=False)
    files = {p.name for p in result.model_dir.rglob("*")}
    assert "adapter_config.json" not in files and "adapter_model.safetensors" not in files
    from safetensors.torch import load_file

    weights = load_file(result.model_dir / "model.safetensors")
    assert not any("lora" in k or "base_layer" in k for k in weights)
    base = load_file(Path(tiny_model_dir) / "model.safetensors")
    changed = {k for k in base if not torch.equal(base[k], weights[k])}
    assert changed and all(k.endswith(("query.weight", "value.weight")) for k in changed)
    summary = json.loads((tmp_path / "run" / "train_summary.json").read_text())
    assert summary["lora"]["r"] == 2 and summary["lora"]["layers"] == 4
    assert "LoRA adapters (Hu et al. 2022): r=2" in (result.model_dir / "README.md").read_text()


def test_workflow_resumes_a_lora_run(tiny_model_dir, tmp_path, monkeypatch):
    """Checkpoints hold the adapters unmerged; resuming from one gives the uninterrupted run's losses."""
    import shutil

    from crossalign.training.callbacks import COMPLETE_MARKER
    from crossalign.workflows.train import train

    monkeypatch.setenv("CROSSALIGN_NO_PROGRESS", "1")
    lora = {"r": 2, "alpha": 4.0, "dropout": 0.0, "targets": ["query", "value"]}
    data = make_dataset("infonce", n=16)
    reference = train(
        tiny_config(tiny_model_dir, tmp_path / "ref", method="infonce", lora=lora), dataset=data, show_progress=False
    )
    out = tmp_path / "run"
    train(tiny_config(tiny_model_dir, out, method="infonce", lora=lora), dataset=data, show_progress=False)
    # a crash while checkpoint-4 was written, before the final model
    (out / "checkpoints" / "checkpoint-4" / COMPLETE_MARKER).unlink()
    shutil.rmtree(out / "model")
    (out / "train_summary.json").unlink()
    resumed = train(
        tiny_config(tiny_model_dir, out, method="infonce", lora=lora), dataset=data, resume=True, show_progress=False
    )
    assert resumed.resumed_from is not None and resumed.resumed_from.name == "checkpoint-2"
    assert [e["step"] for e in resumed.history] == [e["step"] for e in reference.history]
    assert [e["loss"] for e in resumed.history] == pytest.approx([e["loss"] for e in reference.history], rel=1e-5)


def test_the_regulariser_shares_every_base_weight_with_a_lora_student(tiny_model_dir):
    from crossalign.losses import BaseAnchorLoss

    model = load_tiny_model(tiny_model_dir)
    apply_lora(model, LoraSpec(r=2))
    loss = BaseAnchorLoss(model, InfoNCELoss(model), weight=1.0)
    student = dict(model.named_parameters())
    for name, parameter in loss.base_model.named_parameters():
        assert (parameter is student[name]) == ("lora_" not in name), name
    texts = ["w1 w2", "w3 w4 w5"]
    with torch.no_grad():  # B = 0: the copy is exactly the base model
        torch.testing.assert_close(
            loss.base_model.encode(texts, convert_to_tensor=True),
            load_tiny_model(tiny_model_dir).eval().encode(texts, convert_to_tensor=True),
        )


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--lora"], {"r": 8, "alpha": 16.0, "dropout": 0.0, "targets": ["query", "value"]}),
        (
            ["--lora", "r=4,targets=query,key,value"],
            {"r": 4, "alpha": 16.0, "dropout": 0.0, "targets": ["query", "key", "value"]},
        ),
        ([], None),
    ],
)
def test_cli_flags_become_config_keys(argv, expected):
    from crossalign.cli.main import build_parser
    from crossalign.cli.train import config_from_args

    args = build_parser().parse_args(["train", "--data", "d", "--output", "o", "--base-anchor", "0.5", *argv])
    cfg = config_from_args(args)
    assert cfg.lora == expected and cfg.base_anchor == 0.5
