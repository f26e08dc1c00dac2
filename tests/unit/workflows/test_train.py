"""The training workflow end to end on a tiny BERT (CPU, a few steps each)."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

TRAINING_TESTS = Path(__file__).resolve().parents[1] / "training"
sys.path.insert(0, str(TRAINING_TESTS))

from training_testkit import make_dataset, save_tiny_model, tiny_config  # noqa: E402

from crossalign.errors import ConfigError, TrainingError  # noqa: E402
from crossalign.training.callbacks import COMPLETE_MARKER, checkpoints, is_complete  # noqa: E402
from crossalign.workflows import train as train_module  # noqa: E402
from crossalign.workflows.train import train  # noqa: E402

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(autouse=True)
def _quiet(monkeypatch):
    monkeypatch.setenv("CROSSALIGN_NO_PROGRESS", "1")


def _losses(history):
    return [(e["step"], e["loss"]) for e in history]


def _assert_same_losses(history, reference, rel):
    """Same steps in the same order, and the same loss at each step within ``rel``.

    ``pytest.approx`` does not compare nested structures (pytest >= 9.2), so steps and losses are compared apart.
    """
    assert [s for s, _ in _losses(history)] == [s for s, _ in _losses(reference)]
    assert [loss for _, loss in _losses(history)] == pytest.approx([loss for _, loss in _losses(reference)], rel=rel)


@pytest.mark.parametrize("method", ["clear", "infonce", "jsd", "multiway"])
def test_end_to_end(tmp_path, tiny_model_dir, method):
    from sentence_transformers import SentenceTransformer

    cfg = tiny_config(tiny_model_dir, tmp_path / "run", method=method, max_steps=3, save_steps=10)
    result = train(cfg, dataset=make_dataset(method), show_progress=False)
    assert result.global_step == 3
    assert [e["step"] for e in result.history] == [1, 2, 3]
    assert all(math.isfinite(e["loss"]) and e["loss"] > 0 for e in result.history)
    model = SentenceTransformer(str(result.model_dir), device="cpu")
    assert model.encode(["w1 w2"]).shape == (1, 32)
    assert is_complete(result.model_dir)
    summary = json.loads((tmp_path / "run" / "train_summary.json").read_text())
    assert summary["global_step"] == 3 and summary["method"] == method
    assert json.loads((tmp_path / "run" / "train_config.json").read_text())["method"] == method
    logged = [json.loads(line) for line in result.log_path.read_text().splitlines()]
    assert logged == result.history
    info = json.loads((result.model_dir / "crossalign_training.json").read_text())
    assert info["method"] == method and info["loss_config"]
    assert "crossalign training" in (result.model_dir / "README.md").read_text()
    if method == "clear":
        for entry in result.history:
            assert {"forward", "reverse", "kl", "lr"} <= set(entry)
            assert entry["forward"] + entry["reverse"] + entry["kl"] == pytest.approx(entry["loss"], abs=3e-4)
        assert info["citation"] and "lee2026clear" in info["citation"]


@pytest.mark.parametrize(
    ("method", "overrides"),
    [
        ("symmetric", {}),
        ("en-x", {}),
        ("labse", {}),
        ("distill", {}),
        ("clear", {"cached": True, "mini_batch_size": 2}),
    ],
)
def test_other_methods_and_cached_clear(tmp_path, tiny_model_dir, method, overrides):
    cfg = tiny_config(tiny_model_dir, tmp_path / "run", method=method, max_steps=2, save_steps=10, **overrides)
    result = train(cfg, dataset=make_dataset(method), show_progress=False)
    assert result.global_step == 2 and all(math.isfinite(e["loss"]) for e in result.history)
    info = json.loads((result.model_dir / "crossalign_training.json").read_text())
    if overrides.get("cached"):
        assert info["loss"] == "CachedCLEARLoss" and {"forward", "reverse", "kl"} <= set(result.history[-1])
    if method == "distill":
        assert result.summary["columns"] == ["source", "target"]


def test_distill_with_a_separate_teacher(tmp_path, tiny_model_dir):
    teacher = save_tiny_model(tmp_path / "teacher", seed=1)
    cfg = tiny_config(tiny_model_dir, tmp_path / "run", method="distill", teacher=str(teacher), max_steps=2)
    result = train(cfg, dataset=make_dataset("distill"))
    assert result.global_step == 2 and result.history[0]["loss"] > 0


def test_teacher_labels_use_the_teacher_query_prompt():
    import numpy as np

    from crossalign.workflows.train import _add_teacher_labels

    class Teacher:
        training = False

        def __init__(self):
            self.prompts = {"query": "query: ", "passage": "passage: "}
            self.seen: list[str] = []

        def encode(self, texts, **kwargs):
            self.seen.extend(texts)
            return np.ones((len(texts), 3), dtype=np.float32)

        def eval(self):
            return self

        def train(self, mode=True):
            return self

    teacher = Teacher()
    ds = make_dataset("distill", 3)
    out = _add_teacher_labels(ds, teacher, {"source": "query: ", "target": "query: "})
    assert out.column_names == ["source", "target", "label"] and out["source"] == ds["source"]
    assert teacher.seen == ["query: " + text for text in ds["source"]]
    teacher.seen.clear()
    _add_teacher_labels(ds, teacher, None)
    assert teacher.seen == ds["source"]


def test_prefixed_data_gets_no_second_prompt(tmp_path, tiny_model_dir):
    from crossalign.workflows.train import _without_prefixed_columns

    ds = make_dataset("infonce").map(lambda row: {"anchor": "query: " + row["anchor"]})
    prompts = {"anchor": "query: ", "positive": "passage: ", "negative_1": "passage: "}
    assert _without_prefixed_columns(prompts, ds) == {"positive": "passage: ", "negative_1": "passage: "}


def test_unknown_loss_argument_fails_before_training(tmp_path, tiny_model_dir):
    cfg = tiny_config(tiny_model_dir, tmp_path / "run", loss_kwargs={"alpah": 0.3})
    with pytest.raises(ConfigError, match="alpah") as info:
        train(cfg, dataset=make_dataset("clear"))
    assert "alpha" in info.value.hint
    assert not (tmp_path / "run").exists()


def test_build_directory_manifest_goes_into_the_card(tmp_path, tiny_model_dir):
    from crossalign.data.builders.output import BuiltData

    rows = make_dataset("clear", 16).to_list()
    meta = [{"lang": "de"}] * len(rows)
    manifest = {"format": "clear", "columns": list(rows[0]), "languages": ["en", "de"], "row_languages": ["de"]}
    manifest["seed"] = 3
    built = BuiltData("clear", list(rows[0]), {"train": rows, "dev": []}, {"train": meta, "dev": []}, manifest)
    directory = built.write(tmp_path / "built")
    cfg = tiny_config(tiny_model_dir, tmp_path / "run", data=str(directory), max_steps=2)
    result = train(cfg)
    info = json.loads((result.model_dir / "crossalign_training.json").read_text())
    assert info["data_manifest"]["format"] == "clear" and info["data_manifest"]["seed"] == 3
    assert info["data_manifest"]["counts"]["train"]["total"] == 16
    assert result.summary["data"].endswith("train.jsonl")
    # the sentence-transformers card names the languages instead of "Unknown"
    readme = (result.model_dir / "README.md").read_text()
    assert info["languages"] == ["en", "de"] and "**Language" in readme and "en, de" in readme


def test_progress_bar_shows_components(capsys):
    from types import SimpleNamespace

    from crossalign.training.callbacks import ProgressCallback
    from crossalign.utils.progress import progress_scope

    with progress_scope(True):  # the bar follows the scope its entry point opens
        bar = ProgressCallback()
    state = SimpleNamespace(is_world_process_zero=True, max_steps=4, global_step=0)
    bar.on_train_begin(None, state, None)
    state.global_step = 1
    bar.on_step_end(None, state, None)
    bar.on_log(None, state, None, logs={"loss": 1.5, "learning_rate": 1e-3, "forward": 0.7, "kl": 0.01})
    bar.bar.refresh()
    bar.on_train_end(None, state, None)
    err = capsys.readouterr().err
    assert "1/4" in err and "forward=0.7" in err and "kl=0.01" in err and "loss=1.5" in err


def test_freeze_word_embeddings(tmp_path, tiny_model_dir):
    from sentence_transformers import SentenceTransformer

    cfg = tiny_config(tiny_model_dir, tmp_path / "run", max_steps=2, freeze=["word_embeddings"])
    result = train(cfg, dataset=make_dataset("clear"), show_progress=False)
    before = SentenceTransformer(str(tiny_model_dir), device="cpu").state_dict()
    after = SentenceTransformer(str(result.model_dir), device="cpu").state_dict()
    word = [k for k in before if k.endswith("word_embeddings.weight")]
    assert len(word) == 1
    assert torch.equal(before[word[0]], after[word[0]])
    changed = [k for k in before if "encoder.layer" in k and not torch.equal(before[k], after[k])]
    assert len(changed) > 10
    assert result.summary["freeze"]["trainable"] < result.summary["freeze"]["total"]


def test_training_max_seq_length_does_not_shrink_the_saved_model(tmp_path, tiny_model_dir):
    from sentence_transformers import SentenceTransformer

    base = SentenceTransformer(str(tiny_model_dir), device="cpu").max_seq_length
    cfg = tiny_config(tiny_model_dir, tmp_path / "run", max_steps=1, max_seq_length=8)
    assert base != 8
    result = train(cfg, dataset=make_dataset("clear"), show_progress=False)
    assert SentenceTransformer(str(result.model_dir), device="cpu").max_seq_length == base


def test_saved_model_keeps_the_base_model_kwargs(tmp_path, tiny_model_dir):
    import json

    from sentence_transformers import SentenceTransformer

    base = tmp_path / "base"
    SentenceTransformer(str(tiny_model_dir), device="cpu").save(str(base))
    config_file = base / "sentence_bert_config.json"
    st_config = json.loads(config_file.read_text())
    st_config["model_kwargs"] = {"add_pooling_layer": False}
    config_file.write_text(json.dumps(st_config))
    cfg = tiny_config(base, tmp_path / "run", max_steps=1)
    result = train(cfg, dataset=make_dataset("clear"), show_progress=False)
    saved = json.loads((Path(result.model_dir) / "sentence_bert_config.json").read_text())
    assert saved["model_kwargs"] == {"add_pooling_layer": False}


def test_non_finite_component_stops_and_keeps_last_good_checkpoint(tmp_path, tiny_model_dir, monkeypatch):
    real_build = train_module.build_loss

    def build_nan_at_third_step(method, model, **kwargs):
        loss = real_build(method, model, **kwargs)
        forward = loss.forward
        calls = {"n": 0}

        def patched(features, labels=None):
            calls["n"] += 1
            out = forward(features, labels)
            if calls["n"] == 3:
                out["kl"] = out["kl"] * float("nan")
            return out

        loss.forward = patched
        return loss

    monkeypatch.setattr(train_module, "build_loss", build_nan_at_third_step)
    out = tmp_path / "run"
    cfg = tiny_config(tiny_model_dir, out, max_steps=6, save_steps=1)
    with pytest.raises(TrainingError) as info:
        train(cfg, dataset=make_dataset("clear"), show_progress=False)
    assert "step 3" in str(info.value) and "'kl'" in str(info.value)
    saved = checkpoints(out / "checkpoints")
    assert [step for step, _ in saved] == [1, 2]
    assert all(is_complete(path) for _, path in saved)
    assert not (out / "model").exists()


def test_save_total_limit_keeps_newest_complete_checkpoints(tmp_path, tiny_model_dir):
    out = tmp_path / "run"
    cfg = tiny_config(tiny_model_dir, out, max_steps=4, save_steps=1, save_total_limit=2)
    train(cfg, dataset=make_dataset("clear"))
    saved = checkpoints(out / "checkpoints")
    assert [step for step, _ in saved] == [3, 4] and all(is_complete(p) for _, p in saved)


def test_gradient_guard():
    from types import SimpleNamespace

    from crossalign.training.callbacks import GradientGuardCallback

    layer = torch.nn.Linear(2, 2)
    layer(torch.ones(1, 2)).sum().backward()
    layer.weight.grad[0, 0] = float("inf")
    state = SimpleNamespace(global_step=4)
    with pytest.raises(TrainingError, match=r"step 5.*gradients"):
        GradientGuardCallback().on_pre_optimizer_step(SimpleNamespace(fp16=False), state, None, model=layer)


def test_same_seed_same_history(tmp_path, tiny_model_dir):
    runs = [
        train(tiny_config(tiny_model_dir, tmp_path / f"run{i}", max_steps=3), dataset=make_dataset("clear"))
        for i in range(2)
    ]
    assert _losses(runs[0].history) == _losses(runs[1].history)


def test_refuses_non_empty_output_then_overwrite_and_finished_resume(tmp_path, tiny_model_dir):
    out = tmp_path / "run"
    cfg = tiny_config(tiny_model_dir, out, max_steps=2)
    first = train(cfg, dataset=make_dataset("clear"))
    with pytest.raises(ConfigError, match="not empty") as info:
        train(cfg, dataset=make_dataset("clear"))
    assert "--resume" in info.value.hint and "--overwrite" in info.value.hint
    again = train(cfg, dataset=make_dataset("clear"), resume=True)
    assert again.already_finished and again.global_step == 2 and again.history == first.history
    redone = train(cfg, dataset=make_dataset("clear"), overwrite=True)
    assert not redone.already_finished and _losses(redone.history) == _losses(first.history)


def test_unmarked_checkpoint_is_ignored_on_resume(tmp_path, tiny_model_dir):
    reference = train(tiny_config(tiny_model_dir, tmp_path / "ref", max_steps=4), dataset=make_dataset("clear"))
    out = tmp_path / "run"
    train(tiny_config(tiny_model_dir, out, max_steps=4), dataset=make_dataset("clear"))
    # Simulate a crash while checkpoint-4 was written, before the final model: no marker, a file missing.
    (out / "checkpoints" / "checkpoint-4" / COMPLETE_MARKER).unlink()
    (out / "checkpoints" / "checkpoint-4" / "optimizer.pt").unlink()
    for name in ("model", "train_summary.json"):
        path = out / name
        if path.is_dir():
            import shutil

            shutil.rmtree(path)
        else:
            path.unlink()
    resumed = train(tiny_config(tiny_model_dir, out, max_steps=4), dataset=make_dataset("clear"), resume=True)
    assert resumed.resumed_from is not None and resumed.resumed_from.name == "checkpoint-2"
    assert resumed.global_step == 4
    _assert_same_losses(resumed.history, reference.history, rel=1e-5)
    assert is_complete(out / "checkpoints" / "checkpoint-4")


def test_resume_after_sigkill(tmp_path, tiny_model_dir):
    rows = tmp_path / "train.jsonl"
    dataset = make_dataset("clear", 32)
    rows.write_text("".join(json.dumps(r) + "\n" for r in dataset.to_list()))
    out = tmp_path / "run"
    config = tiny_config(tiny_model_dir, out, data=str(rows), max_steps=6, save_steps=2)
    config_path = tmp_path / "train.json"
    config.to_file(config_path)
    env = dict(os.environ, OMP_NUM_THREADS="1", CROSSALIGN_NO_PROGRESS="1")
    env["PYTHONPATH"] = os.pathsep.join(p for p in [str(ROOT / "src"), env.get("PYTHONPATH", "")] if p)
    script = str(TRAINING_TESTS / "training_testkit.py")
    proc = subprocess.Popen(
        [sys.executable, script, "run", str(config_path), "--sleep", "0.4"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    marker = out / "checkpoints" / "checkpoint-2" / COMPLETE_MARKER
    deadline = time.monotonic() + 120
    try:
        while not marker.exists():
            assert proc.poll() is None, proc.communicate()[1].decode()[-3000:]
            assert time.monotonic() < deadline, "no checkpoint within 120 s"
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    assert not (out / "model").exists()
    done = subprocess.run(
        [sys.executable, script, "run", str(config_path), "--resume"], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["global_step"] == 6
    resumed_from = int(Path(report["resumed_from"]).name.split("-")[1])
    assert resumed_from >= 2
    history = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    assert [e["step"] for e in history] == [1, 2, 3, 4, 5, 6]
    # The uninterrupted run gives the same loss at every step: resume restores weights, optimizer, scheduler,
    # RNG and the data order (the sampler is seeded and the consumed batches are skipped).
    torch.set_num_threads(1)
    reference = train(tiny_config(tiny_model_dir, tmp_path / "ref", data=str(rows), max_steps=6, save_steps=2))
    _assert_same_losses(history, reference.history, rel=1e-4)


@pytest.mark.filterwarnings("ignore:.*gradient_checkpointing_enable.*:FutureWarning")
@pytest.mark.parametrize("option", ["bf16", "gradient_checkpointing"])
def test_bf16_and_checkpointing_on_cpu_stay_finite(tmp_path, tiny_model_dir, option):
    cfg = tiny_config(tiny_model_dir, tmp_path / "run", max_steps=2, **{option: True})
    result = train(cfg, dataset=make_dataset("clear"))
    assert all(math.isfinite(e["loss"]) for e in result.history)


def test_fp16_on_cpu(tmp_path, tiny_model_dir):
    cfg = tiny_config(tiny_model_dir, tmp_path / "run", max_steps=2, fp16=True)
    try:
        result = train(cfg, dataset=make_dataset("clear"))
    except (ConfigError, ValueError) as exc:
        pytest.skip(f"fp16 is refused on CPU by transformers: {exc}")
    assert all(math.isfinite(e["loss"]) for e in result.history)
