"""``--no-progress`` silences the libraries' bars too (issue #11 item 12): transformers' "Loading weights", datasets'
"Map", sentence-transformers' and any other tqdm bar, not only crossalign's own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from evaluation_testkit import save_tiny_st_model

ROOT = Path(__file__).resolve().parents[3]


def _evaluate(tmp_path: Path, *flags: str, env_progress: str | None) -> str:
    model = tmp_path / "model"
    if not model.exists():
        save_tiny_st_model(model)
        data = tmp_path / "set"
        data.mkdir()
        (data / "queries.jsonl").write_text(json.dumps({"id": "q1", "text": "Drucken", "lang": "de"}) + "\n")
        (data / "corpus.jsonl").write_text(json.dumps({"id": "d1", "text": "Printing", "lang": "en"}) + "\n")
        (data / "qrels.tsv").write_text("q1\td1\t1\n")
    env = {k: v for k, v in os.environ.items() if k != "CROSSALIGN_NO_PROGRESS"}
    env["PYTHONPATH"] = str(ROOT / "src")
    env["COLUMNS"] = "100"
    if env_progress is not None:
        env["CROSSALIGN_NO_PROGRESS"] = env_progress
    out = tmp_path / f"out{len(list(tmp_path.glob('out*')))}"
    argv = [*flags, "evaluate", "--model", str(model), "--data", str(tmp_path / "set"), "--output", str(out)]
    done = subprocess.run(
        [sys.executable, "-m", "crossalign", *argv, "--cache-dir", str(tmp_path / "cache")],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stderr


def test_no_progress_silences_library_bars(tmp_path):
    shown = _evaluate(tmp_path, env_progress=None)
    assert "Loading weights" in shown  # the library bar this test is about (transformers)
    quiet = _evaluate(tmp_path, "--no-progress", env_progress=None)  # CROSSALIGN_NO_PROGRESS=1 takes the same path
    assert "Loading weights" not in quiet and "it/s]" not in quiet and "%|" not in quiet, quiet[-2000:]


def test_in_process_no_progress_leaves_the_process_as_it_was(monkeypatch, capsys):
    """``main(["--no-progress", ...])`` run in-process (notebook, test) must not silence bars after it returns."""
    import tqdm.std
    import transformers

    from crossalign.cli.main import main

    monkeypatch.delenv("CROSSALIGN_NO_PROGRESS", raising=False)
    for key in ("HF_HUB_DISABLE_PROGRESS_BARS", "HF_DATASETS_DISABLE_PROGRESS_BARS"):
        monkeypatch.delenv(key, raising=False)
    transformers.utils.logging.enable_progress_bar()
    before = tqdm.std.tqdm.__dict__["__init__"]
    assert main(["--no-progress", "models", "list"]) == 0
    after = tqdm.std.tqdm.__dict__["__init__"]
    assert after is before and not getattr(after, "_crossalign_silenced", False)
    assert transformers.utils.logging.is_progress_bar_enabled()
    assert "CROSSALIGN_NO_PROGRESS" not in os.environ and "HF_HUB_DISABLE_PROGRESS_BARS" not in os.environ
    capsys.readouterr()


def test_silence_library_progress_quiets_direct_tqdm_bars_and_undoes_it(capsys):
    from tqdm import tqdm

    from crossalign.utils.progress import silence_library_progress

    restore = silence_library_progress()
    try:
        list(tqdm(range(3), desc="direct-bar"))
        assert "direct-bar" not in capsys.readouterr().err
        list(tqdm(range(3), desc="asked-for", disable=False))  # a bar that chooses for itself keeps its choice
        assert "asked-for" in capsys.readouterr().err
    finally:
        restore()
    list(tqdm(range(3), desc="after-restore"))
    assert "after-restore" in capsys.readouterr().err
