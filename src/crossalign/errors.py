"""Exceptions that say what went wrong, where, and what to do about it.

Every error crossalign raises for bad input derives from :class:`CrossalignError`. Errors about data name the file,
the line (1-based) and the field; every error carries a ``hint`` with the fix. The CLI prints ``str(error)`` without a
traceback, so the message alone must be enough for the user to act.

The classes also derive from the built-in exception a Python user would expect (``ValueError``, ``ImportError``,
``FileNotFoundError``, ...), so ``except ValueError`` keeps working around crossalign calls.
"""

from __future__ import annotations

from collections.abc import Iterable
from os import PathLike


def key_difference(a: Iterable[str], b: Iterable[str], a_name: str, b_name: str) -> str:
    """What two key sets do not share, for an error message: ``"2 only in A (e.g. q1, q7); 1 only in B (e.g. q9)"``
    (``""`` when they are equal)."""
    sa, sb = set(a), set(b)
    parts = [
        f"{len(only)} only in {name} (e.g. {', '.join(only[:3])})"
        for only, name in ((sorted(sa - sb), a_name), (sorted(sb - sa), b_name))
        if only
    ]
    return "; ".join(parts)


class CrossalignError(Exception):
    """Base class of crossalign's own errors.

    Args:
        message: What is wrong, in one sentence.
        hint: What the user should do about it.
    """

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(self._render())

    def _location(self) -> str:
        return ""

    def _render(self) -> str:
        text = f"{self._location()}{self.message}"
        if self.hint:
            text += f"\n  fix: {self.hint}"
        return text


class DataFormatError(CrossalignError, ValueError):
    """A data file or record is malformed: names the file, the 1-based line and the field.

    Args:
        message: What is wrong with the value.
        path: The file the record came from, if any.
        line: 1-based line number (JSONL, TSV, plain text) or row index + 1 (datasets), if known.
        field: The column / key that is wrong, if one is.
        hint: What to do about it.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | PathLike[str] | None = None,
        line: int | None = None,
        field: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.path = None if path is None else str(path)
        self.line = line
        self.field = field
        super().__init__(message, hint=hint)

    def _location(self) -> str:
        parts = []
        if self.path is not None:
            parts.append(self.path if self.line is None else f"{self.path}:{self.line}")
        elif self.line is not None:
            parts.append(f"line {self.line}")
        if self.field is not None:
            parts.append(f"field '{self.field}'")
        return (", ".join(parts) + ": ") if parts else ""


class UnknownLanguageError(CrossalignError, ValueError):
    """A language code is not one crossalign knows (lists the known ones in the message)."""


class ConfigError(CrossalignError, ValueError):
    """A configuration value or file is invalid (unknown key, wrong type, out of range)."""


class ModelError(CrossalignError, ValueError):
    """A model spec cannot be resolved or a model directory/file is not a usable model."""


class CorruptFileError(CrossalignError, ValueError):
    """A binary file (weights, cache) is truncated or corrupt; it was not loaded."""


class MissingDependencyError(CrossalignError, ImportError):
    """An optional package is needed for this feature; the hint gives the pip command."""


class CacheError(CrossalignError, OSError):
    """A cache directory cannot be created or written."""


class CorpusError(CrossalignError, RuntimeError):
    """A corpus cannot be obtained (package download failed, help tree missing)."""


class TrainingError(CrossalignError, RuntimeError):
    """Training cannot continue (e.g. a non-finite loss); names the step and the loss component."""
