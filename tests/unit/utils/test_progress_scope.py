"""The one progress switch: progress_scope sets it for everything below the entry point."""

from __future__ import annotations

from crossalign.utils.progress import progress_enabled, progress_scope


def test_scope_sets_and_restores(monkeypatch):
    monkeypatch.delenv("CROSSALIGN_NO_PROGRESS", raising=False)
    assert progress_enabled() is True
    with progress_scope(False):
        assert progress_enabled() is False
        assert progress_enabled(True) is True  # an explicit argument still wins
        with progress_scope(None):  # None keeps the enclosing setting
            assert progress_enabled() is False
        with progress_scope(True):
            assert progress_enabled() is True
        assert progress_enabled() is False
    assert progress_enabled() is True


def test_environment_applies_outside_a_scope(monkeypatch):
    monkeypatch.setenv("CROSSALIGN_NO_PROGRESS", "1")
    assert progress_enabled() is False
    with progress_scope(True):
        assert progress_enabled() is True
