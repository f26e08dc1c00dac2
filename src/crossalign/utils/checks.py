"""Argument checks shared by every layer: one message for a bad count or a bad choice.

Each raises :class:`~crossalign.errors.ConfigError` naming the argument and the value received, before any work.
"""

from __future__ import annotations

from typing import Any

from crossalign.errors import ConfigError

__all__ = ["check_choice", "check_count"]


def check_count(
    value: Any, name: str, *, minimum: int = 0, optional: bool = True, hint: str | None = None
) -> int | None:
    """``value`` when it is an integer ``>= minimum`` (0: non-negative, 1: positive; ``bool`` is not an integer),
    or None when ``optional``; else ConfigError ``"<name> must be a positive integer, got <value>."``."""
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        kind = "positive" if minimum else "non-negative"
        raise ConfigError(f"{name} must be a {kind} integer{' or None' if optional else ''}, got {value!r}.", hint=hint)
    return value


def check_choice(value: str, choices: tuple[str, ...], name: str) -> str:
    """``value`` when it is one of ``choices``, else ConfigError naming them."""
    if value not in choices:
        raise ConfigError(f"{name} must be one of {choices}, got {value!r}.")
    return value
