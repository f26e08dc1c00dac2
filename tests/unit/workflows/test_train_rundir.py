"""The run directory of ``crossalign train`` (issue #11): one run at a time, ``--overwrite`` that validates first and
deletes only a run, a bad ``--output`` refused before the work, and failures that leave earlier output intact."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

TRAINING_TESTS = Path(__file__).resolve().parents[1] / "training"
sys.path.insert(0, str(TRAINING_TESTS))

from training_testkit import make_rows, tiny_config, write_jsonl  # noqa: E402

from crossalign.cli.main import main  # noqa: E402
from crossalign.errors import ConfigError, CorruptFileError, DataFormatError  # noqa: E402
from crossalign.training.rundir import HOLDER_FILE, LOCK_FILE, run_entries  # noqa: E402
from crossalign.workflows.train import train  # noqa: E402

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(autouse=True)
def _quiet(monkeypatch):
    monkeypatch.setenv("CROSSALIGN_NO_PROGRESS", "1")


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory, tiny_model_dir):
    """A finished 2-step run, copied by the tests that change it."""
    out = tmp_path_factory.mktemp("finished") / "run"
    rows = write_jsonl(out.parent / "train.jsonl", make_rows("infonce", 12))
    train(tiny_config(tiny_model_dir, out, method="infonce", data=str(rows), max_steps=2, save_steps=1))
    return out


def _snapshot(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): p.stat().st_size for p in sorted(root.rglob("*")) if p.is_file()}


def _copy(src: Path, dst: Path) -> Path:
    import shutil

    shutil.copytree(src, dst)
    return dst


def _train_cli(tiny_model_dir: Path, data: Path, out: Path, *extra: str) -> list[str]:
    return [
        "--no-progress",
        "train",
        "--method",
        "infonce",
        "--model",
        str(tiny_model_dir),
        "--data",
        str(data),
        "--output",
        str(out),
        "--max-steps",
        "2",
        "--batch-size",
        "4",
        *extra,
    ]


# ---------------------------------------------------------------------------------------------------- the lock
def test_a_second_run_into_the_same_directory_fails_at_once_naming_the_holder(tmp_path, tiny_model_dir, capsys):
    """Two runs into one --output both 'succeeded' with an interleaved log (issue #11 item 3)."""
    out = tmp_path / "race"
    holder = textwrap.dedent(
        f"""
        import sys, time
        from crossalign.training.rundir import run_lock
        with run_lock({str(out)!r}):
            print("locked", flush=True)
            sys.stdin.readline()
        """
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    proc = subprocess.Popen(
        [sys.executable, "-c", holder], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout.readline().strip() == "locked"
        rows = write_jsonl(tmp_path / "train.jsonl", make_rows("infonce", 8))
        assert main(_train_cli(tiny_model_dir, rows, out)) == 2
        err = capsys.readouterr().err
        assert f"output directory {out} is in use by another crossalign train run (pid {proc.pid} on " in err
        assert "fix: wait for that run to finish" in err and "Traceback" not in err
        assert run_entries(out) == ([], [])  # the refused run wrote nothing
    finally:
        proc.communicate("\n", timeout=60)
    # the holder is gone: the same command now runs, and leaves no lock holder behind
    assert main(_train_cli(tiny_model_dir, rows, out)) == 0
    assert (out / "model").is_dir() and not (out / HOLDER_FILE).exists()


def test_a_refused_run_leaves_no_directory(tmp_path, tiny_model_dir):
    rows = write_jsonl(tmp_path / "train.jsonl", [{"anchor": "a b", "postive": "c d"}] * 4)
    out = tmp_path / "new" / "run"
    with pytest.raises(DataFormatError):
        train(tiny_config(tiny_model_dir, out, method="infonce", data=str(rows)))
    assert not out.exists() and not (out.parent / LOCK_FILE).exists()


# ------------------------------------------------------------------------------------------------- --overwrite
@pytest.mark.parametrize("bad", ["missing-column", "model", "argument"])
def test_overwrite_validates_before_it_deletes(tmp_path, tiny_model_dir, finished_run, bad, capsys):
    """`--overwrite` with bad data or a bad --model deleted the earlier run, then failed (issue #11 item 6)."""
    out = _copy(finished_run, tmp_path / "run")
    before = _snapshot(out)
    rows = write_jsonl(tmp_path / "train.jsonl", make_rows("infonce", 8))
    model = str(tiny_model_dir)
    extra: list[str] = []
    if bad == "missing-column":
        rows = write_jsonl(tmp_path / "bad.jsonl", [{"anchor": "a b", "postive": "c d"}] * 4)
    elif bad == "model":
        (tmp_path / "randomdir").mkdir()
        (tmp_path / "randomdir" / "notes.txt").write_text("x")
        model = str(tmp_path / "randomdir")
    else:
        extra = ["--freeze", "layers:0-99"]
    argv = _train_cli(tiny_model_dir, rows, out, "--overwrite", *extra)
    argv[argv.index("--model") + 1] = model
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "error:" in err and "Traceback" not in err
    assert _snapshot(out) == before


def test_overwrite_removes_only_what_a_run_wrote(tmp_path, tiny_model_dir, finished_run):
    out = _copy(finished_run, tmp_path / "run")
    (out / "notes.md").write_text("my notes", encoding="utf-8")
    (out / "checkpoints" / "checkpoint-1" / "stale.bin").write_bytes(b"x")
    (out / "model-merged").mkdir()  # an earlier --merge-base run's merged model and curve: not this run's
    (out / "merge.json").write_text("{}", encoding="utf-8")
    rows = write_jsonl(tmp_path / "train.jsonl", make_rows("infonce", 8))
    result = train(
        tiny_config(tiny_model_dir, out, method="infonce", data=str(rows), max_steps=1, save_steps=5), overwrite=True
    )
    assert result.global_step == 1
    assert (out / "notes.md").read_text(encoding="utf-8") == "my notes"
    assert not (out / "model-merged").exists() and not (out / "merge.json").exists()
    assert not (out / "checkpoints" / "checkpoint-1" / "stale.bin").exists()  # the old run's checkpoints went
    assert [e["step"] for e in result.history] == [1]


def test_overwrite_refuses_a_directory_that_is_not_a_run(tmp_path, tiny_model_dir, capsys):
    """`--overwrite` deleted a user's thesis.tex (issue #11 item 6)."""
    out = tmp_path / "thesis"
    out.mkdir()
    (out / "thesis.tex").write_text("\\documentclass{article}", encoding="utf-8")
    rows = write_jsonl(tmp_path / "train.jsonl", make_rows("infonce", 8))
    assert main(_train_cli(tiny_model_dir, rows, out, "--overwrite")) == 2
    err = capsys.readouterr().err
    assert f"output directory {out} is not a crossalign run directory (it holds thesis.tex)" in err
    assert "--overwrite deletes only runs" in err
    assert sorted(p.name for p in out.iterdir()) == ["thesis.tex"]


# ---------------------------------------------------------------------------------------------------- --output
@pytest.mark.parametrize("where", ["file", "under-a-file", "full-disk"])
def test_output_that_cannot_be_written_is_refused_before_the_work(tmp_path, tiny_model_dir, where, monkeypatch):
    rows = write_jsonl(tmp_path / "train.jsonl", make_rows("infonce", 8))
    (tmp_path / "taken").write_text("x")
    out = {"file": tmp_path / "taken", "under-a-file": tmp_path / "taken" / "run", "full-disk": tmp_path / "run"}[where]
    expected = {
        "file": f"output directory {out} is a file, not a directory",
        "under-a-file": f"output directory {out} is under {tmp_path / 'taken'}, which is a file",
        "full-disk": "is full (0.5 MiB free)",
    }[where]
    if where == "full-disk":
        import shutil
        from collections import namedtuple

        usage = namedtuple("usage", "total used free")
        monkeypatch.setattr(shutil, "disk_usage", lambda _p: usage(2**30, 2**30 - 2**19, 2**19))
    loaded = []
    monkeypatch.setattr("crossalign.models.loading.load_model", lambda *a, **k: loaded.append(a))
    with pytest.raises(ConfigError) as info:
        train(tiny_config(tiny_model_dir, out, method="infonce", data=str(rows)))
    assert expected in str(info.value)
    assert loaded == []
    assert (tmp_path / "taken").read_text() == "x"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes everywhere")
def test_unwritable_output_is_refused(tmp_path, tiny_model_dir):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    rows = write_jsonl(tmp_path / "train.jsonl", make_rows("infonce", 8))
    try:
        with pytest.raises(ConfigError, match="permission denied"):
            train(tiny_config(tiny_model_dir, locked / "run", method="infonce", data=str(rows)))
    finally:
        locked.chmod(0o700)


# ------------------------------------------------------------------------------------------- resume and columns
def test_corrupt_summary_with_resume_is_one_clear_error(tmp_path, finished_run):
    out = _copy(finished_run, tmp_path / "run")
    (out / "train_summary.json").write_text('{"global_step": 2,', encoding="utf-8")
    cfg = json.loads((out / "train_config.json").read_text())
    cfg["output_dir"] = str(out)
    from crossalign.training import TrainConfig

    with pytest.raises(CorruptFileError) as info:
        train(TrainConfig(**cfg), resume=True)
    assert "train_summary.json: the finished run's summary cannot be read" in str(info.value)
    assert "delete train_summary.json and rerun with --resume" in str(info.value)


def test_a_column_the_loss_does_not_read_names_the_file(tmp_path, tiny_model_dir):
    rows = [{**r, "notes": "x"} for r in make_rows("infonce", 8)]
    path = write_jsonl(tmp_path / "train.jsonl", rows)
    with pytest.raises(DataFormatError) as info:
        train(tiny_config(tiny_model_dir, tmp_path / "run", method="infonce", data=str(path)))
    assert str(info.value).startswith(f"{path}, field 'notes': ")
    assert not (tmp_path / "run").exists()


# ----------------------------------------------------------------------------------------- runs that learn nothing
def test_identical_rows_train_with_a_loud_warning_naming_the_cause(tmp_path, tiny_model_dir, caplog):
    """8 identical rows trained with loss 0.0 and gradient 0 without a word (issue #11 item 10)."""
    rows = write_jsonl(tmp_path / "train.jsonl", [{"anchor": "Drucken", "positive": "Print"}] * 8)
    cfg = tiny_config(tiny_model_dir, tmp_path / "run", method="infonce", data=str(rows), max_steps=2)
    with caplog.at_level("WARNING", logger="crossalign.workflows.train"):
        result = train(cfg)
    warned = [r.getMessage() for r in caplog.records if "nothing is learned" in r.getMessage()]
    assert len(warned) == 1 and warned[0].startswith(f"{rows}: all 8 training rows are the same row")
    assert result.summary["warnings"] and "zero gradient" in result.summary["warnings"][0]
    assert all(e["loss"] == pytest.approx(0.0, abs=1e-6) for e in result.history)  # the cause it names


def test_degenerate_data_problem_names_constant_columns():
    from datasets import Dataset

    from crossalign.training.data import degenerate_data_problem

    rows = make_rows("infonce", 6)
    assert degenerate_data_problem(Dataset.from_list(rows)) is None
    constant = Dataset.from_list([{**r, "positive": "Print"} for r in rows])
    assert degenerate_data_problem(constant).startswith("column(s) positive hold one text in every row")
