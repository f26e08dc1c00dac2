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
