"""Every command's --help is plain text: no reStructuredText markup leaks from the docstrings."""

from __future__ import annotations

import pytest

from crossalign.cli.main import COMMANDS, build_parser


@pytest.mark.parametrize("command", COMMANDS)
def test_help_has_no_rst_markup(command, capsys):
    parser = build_parser()
    with pytest.raises(SystemExit) as exit_info:
        parser.parse_args([command, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert f"crossalign {command}" in out
    assert "``" not in out
    assert not any(line.rstrip().endswith("::") for line in out.splitlines())


def _subparsers(parser):
    import argparse

    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield name, sub
                yield from ((f"{name} {n}", s) for n, s in _subparsers(sub))


def test_cache_dir_is_described_one_way() -> None:
    from crossalign.cli._text import CACHE_DIR_HELP

    helps = {
        name: action.help
        for name, sub in _subparsers(build_parser())
        for action in sub._actions
        if "--cache-dir" in action.option_strings
    }
    assert len(helps) >= 5 and set(helps.values()) == {CACHE_DIR_HELP}, helps


def test_demo_times_in_help_are_the_readme_measurements(capsys) -> None:
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text(encoding="utf-8")
    default = re.search(r"`crossalign demo` \*\*([\d.]+) min\*\*", readme).group(1)
    quick = re.search(r"`crossalign demo --quick` \*\*([\d.]+) min\*\*", readme).group(1)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["demo", "--help"])
    out = capsys.readouterr().out
    assert f"{default} min measured" in out and f"{quick} min measured" in out
    assert "about 20" not in out and "about 5" not in out


def test_demo_budget_help_names_every_budget_field(capsys) -> None:
    """--budget's help lists DemoBudget's fields, each once (a field added to the budget shows up in --help)."""
    import dataclasses

    from crossalign.workflows.demo import DemoBudget

    with pytest.raises(SystemExit):
        build_parser().parse_args(["demo", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    listed = out[out.index("override one budget field (") :].split(")", 1)[0]
    names = {n.strip() for n in listed.split("(", 1)[1].split(",")}
    assert names == {f.name for f in dataclasses.fields(DemoBudget)}
