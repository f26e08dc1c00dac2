"""torchrun worker for test_trainer_ddp.py: 2 steps of SentenceTransformerTrainer (DDP over gloo) with
(Cached)CLEARLoss and ``gather_across_devices=True``; rank 0 writes the trainer's log history as JSON.

Usage: ``torchrun --standalone --nproc_per_node 2 trainer_worker.py OUT.json MODEL_DIR {plain|cached}``.
"""

from __future__ import annotations

import json
import logging
import random
import sys
import tempfile
from pathlib import Path

import torch
import torch.distributed as dist

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit" / "losses"))

from datasets import Dataset
from losses_testkit import load_tiny_model, random_texts
from sentence_transformers import SentenceTransformerTrainer, SentenceTransformerTrainingArguments

from crossalign.losses import CachedCLEARLoss, CLEARLoss


def main() -> None:
    out, model_dir, variant = sys.argv[1], sys.argv[2], sys.argv[3]
    torch.set_num_threads(1)
    logging.getLogger("transformers").setLevel(logging.ERROR)
    rng = random.Random(0)
    rows = 16
    dataset = Dataset.from_dict(
        {
            "anchor": random_texts(rows, rng),
            "positive": random_texts(rows, rng, 4, 9),
            "negative_1": random_texts(rows, rng, 4, 9),
            "cross_anchor": random_texts(rows, rng),
            "neg_query_1": random_texts(rows, rng),
        }
    )
    model = load_tiny_model(model_dir)
    if variant == "cached":
        loss = CachedCLEARLoss(model, gather_across_devices=True, mini_batch_size=2)
    else:
        loss = CLEARLoss(model, gather_across_devices=True)
    loss.validate_columns(dataset.column_names)
    args = SentenceTransformerTrainingArguments(
        output_dir=tempfile.mkdtemp(),
        per_device_train_batch_size=4,
        max_steps=2,
        logging_steps=1,
        report_to=[],
        save_strategy="no",
        use_cpu=True,
        disable_tqdm=True,
        dataloader_drop_last=True,
        ddp_backend="gloo",
    )
    trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=dataset, loss=loss)
    trainer.train()
    if trainer.args.process_index == 0:
        Path(out).write_text(json.dumps({"world": trainer.args.world_size, "log": trainer.state.log_history}))
    if dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
