"""The losses inside the sentence-transformers v6 trainer: component logging and positional features."""

from __future__ import annotations

import logging

import pytest
import torch
from datasets import Dataset
from losses_testkit import random_texts
from sentence_transformers import SentenceTransformerTrainer, SentenceTransformerTrainingArguments

from crossalign.losses import CachedCLEARLoss, CLEARLoss, JSDAlignmentLoss
from crossalign.losses._common import strip_foreign_keys


def _clear_dataset(rng, rows: int = 8) -> Dataset:
    return Dataset.from_dict(
        {
            "anchor": random_texts(rows, rng),
            "positive": random_texts(rows, rng, 4, 9),
            "negative_1": random_texts(rows, rng, 4, 9),
            "cross_anchor": random_texts(rows, rng),
            "neg_query_1": random_texts(rows, rng),
        }
    )


def _train(model, dataset, loss, tmp_path, steps: int = 2):
    args = SentenceTransformerTrainingArguments(
        output_dir=str(tmp_path),
        per_device_train_batch_size=4,
        max_steps=steps,
        logging_steps=1,
        learning_rate=1e-3,
        report_to=[],
        save_strategy="no",
        use_cpu=True,
        disable_tqdm=True,
    )
    trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=dataset, loss=loss)
    trainer.train()
    return [entry for entry in trainer.state.log_history if "loss" in entry]


@pytest.mark.parametrize("cached", [False, True])
def test_trainer_logs_each_weighted_component_and_their_sum_is_the_loss(tiny_model, rng, tmp_path, cached):
    dataset = _clear_dataset(rng)
    loss = CachedCLEARLoss(tiny_model, mini_batch_size=2) if cached else CLEARLoss(tiny_model)
    loss.validate_columns(dataset.column_names)
    before = [p.detach().clone() for p in tiny_model.parameters()]
    logs = _train(tiny_model, dataset, loss, tmp_path)
    assert len(logs) == 2
    for entry in logs:
        assert {"forward", "reverse", "kl"} <= set(entry)
        assert entry["forward"] > 0 and entry["reverse"] > 0 and entry["kl"] >= 0
        # The trainer rounds components to 4 decimals; the loss it logs is their (unrounded) sum.
        assert entry["forward"] + entry["reverse"] + entry["kl"] == pytest.approx(entry["loss"], abs=2e-4)
    # Training moved the weights: the gradient reached the model through the dict (and GradCache's hook).
    assert any(not torch.equal(a, b) for a, b in zip(before, tiny_model.parameters()))


def test_trainer_puts_a_prefix_columns_keys_into_its_feature_dict(tiny_model):
    """sentence-transformers v6.2 groups collated keys by the prefix ``f"{column}_"``: ``query`` also receives
    ``query_en``'s tensors. crossalign's losses drop them (``strip_foreign_keys``)."""
    args = SentenceTransformerTrainingArguments(output_dir="unused", report_to=[], use_cpu=True)
    dataset = Dataset.from_dict(
        {"query": ["w1 w2"], "positive": ["w3 w4 w5"], "query_en": ["w6"], "positive_x": ["w7 w8"]}
    )
    trainer = SentenceTransformerTrainer(model=tiny_model, args=args, train_dataset=dataset, loss=JSDAlignmentLoss)
    logging.getLogger("sentence_transformers").setLevel(logging.ERROR)
    batch = trainer.data_collator([dataset[0]])
    features, labels = trainer.collect_features(batch)
    assert labels is None
    assert len(features) == 4
    assert "en_input_ids" in features[0]  # the foreign column, as ST hands it over
    assert "x_input_ids" in features[1]
    cleaned = [strip_foreign_keys(f) for f in features]
    assert all(set(f) == set(cleaned[2]) for f in cleaned)
    assert torch.equal(cleaned[0]["input_ids"], features[0]["input_ids"])
    assert "en_input_ids" not in cleaned[0] and "x_attention_mask" not in cleaned[1]


def test_jsd_trains_in_the_trainer_with_prefix_named_columns(tiny_model, rng, tmp_path):
    dataset = Dataset.from_dict(
        {
            "query": random_texts(8, rng),
            "positive": random_texts(8, rng, 4, 9),
            "query_en": random_texts(8, rng),
            "positive_x": random_texts(8, rng, 4, 9),
        }
    )
    loss = JSDAlignmentLoss(tiny_model)
    loss.validate_columns(dataset.column_names)
    logs = _train(tiny_model, dataset, loss, tmp_path, steps=1)
    assert {"infonce", "jsd"} <= set(logs[0])
    assert logs[0]["infonce"] + logs[0]["jsd"] == pytest.approx(logs[0]["loss"], abs=2e-4)
