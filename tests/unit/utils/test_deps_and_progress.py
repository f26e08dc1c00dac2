"""Library versions come from package metadata (one collector); stage lines follow the progress switch."""

from __future__ import annotations

from importlib.metadata import version

import pytest

from crossalign.utils.deps import package_versions
from crossalign.utils.progress import progress_scope, stage


def test_package_versions_read_metadata_under_either_spelling() -> None:
    got = package_versions(("numpy", "sentence_transformers", "sentence-transformers", "no-such-package-xyz"))
    assert got["numpy"] == version("numpy")
    assert got["sentence_transformers"] == got["sentence-transformers"] == version("sentence-transformers")
    assert got["no-such-package-xyz"] is None
    assert list(got) == ["numpy", "sentence_transformers", "sentence-transformers", "no-such-package-xyz"]


def test_stage_lines_go_to_stderr_only_when_progress_is_on(capsys: pytest.CaptureFixture[str], monkeypatch) -> None:
    with progress_scope(True):  # the one switch (stage takes no flag of its own)
        stage("shown")
    with progress_scope(False):
        stage("hidden")
    monkeypatch.setenv("CROSSALIGN_NO_PROGRESS", "1")
    stage("hidden by the environment")
    out = capsys.readouterr()
    assert out.err == "shown\n" and out.out == ""
