"""One entry point for every training format: :func:`build_training_data`.

| format     | columns (in the loss's order)                                         | needs              | mining |
|------------|-----------------------------------------------------------------------|--------------------|--------|
| ``clear``    | anchor, positive, negative_1..n, cross_anchor, neg_query_1..n         | queries + passages | yes    |
| ``infonce``  | anchor (q_x), positive (English passage), negative_1..n               | queries + passages | yes    |
| ``jsd``      | query, positive, query_en, positive_x                                 | queries + passages | no     |
| ``multiway`` | one column per language (en, de, zh-CN, ...)                          | parallel text      | no     |
| ``en-x``     | en, x                                                                 | parallel text      | no     |
| ``distill``  | source, target (+ the teacher's ``label``, added at training time)    | parallel text      | no     |

"queries + passages": the LibreOffice help, a parallel JSONL of *sections* (``meta.headings``) or a retrieval-set
directory; "parallel text": the LibreOffice help or any parallel JSONL (see :mod:`crossalign.data.builders.common`).

Example:
    >>> data = build_training_data("clear", "libreoffice", "de,zh-CN,hi,km", max_rows=500)  # doctest: +SKIP
    >>> data.write("runs/data/clear")  # doctest: +SKIP
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from typing import Any

from crossalign.data.builders.clear import build_clear, build_infonce
from crossalign.data.builders.jsd import build_jsd
from crossalign.data.builders.multiway import build_distill, build_enx, build_multiway
from crossalign.data.builders.output import BuiltData
from crossalign.errors import ConfigError

__all__ = ["FORMATS", "MINED_FORMATS", "QUERY_FORMATS", "build_training_data", "format_parameters"]

#: Format name -> builder.
FORMATS: dict[str, Callable[..., BuiltData]] = {
    "clear": build_clear,
    "jsd": build_jsd,
    "multiway": build_multiway,
    "en-x": build_enx,
    "infonce": build_infonce,
    "distill": build_distill,
}
#: Formats that mine hard negatives with a model.
MINED_FORMATS: frozenset[str] = frozenset({"clear", "infonce"})
#: Formats that need query -> passage units (the others need parallel text).
QUERY_FORMATS: frozenset[str] = frozenset({"clear", "infonce", "jsd"})


def format_parameters(fmt: str) -> list[str]:
    """The keyword arguments the builder of ``fmt`` accepts."""
    builder = _builder(fmt)
    return [
        name for name, p in inspect.signature(builder).parameters.items() if p.kind == inspect.Parameter.KEYWORD_ONLY
    ]


def _builder(fmt: str) -> Callable[..., BuiltData]:
    try:
        return FORMATS[fmt]
    except (KeyError, TypeError):
        raise ConfigError(
            f"unknown training-data format {fmt!r}", hint=f"choose one of: {', '.join(FORMATS)}"
        ) from None


def build_training_data(fmt: str, source: Any, langs: str | Iterable[str], **kwargs: Any) -> BuiltData:
    """Build training rows of format ``fmt`` (see the table in the module docstring).

    Args:
        fmt: ``clear``, ``jsd``, ``multiway``, ``en-x``, ``infonce`` or ``distill``.
        source: ``"libreoffice"``, a path (parallel JSONL / retrieval-set directory) or a loaded corpus.
        langs: Target languages.
        **kwargs: The builder's options (``format_parameters(fmt)`` lists them: ``max_rows``, ``seed``, ``split``,
            ``min_words``, and for the mined formats ``model``, ``negatives``, ``rank_range``, ...).

    Returns:
        The :class:`~crossalign.data.builders.output.BuiltData`.

    Raises:
        ConfigError: Unknown format, or an option the format does not take (the message lists the valid ones).

    Example:
        >>> build_training_data("jsd", "libreoffice", "de", negatives=5)  # doctest: +SKIP
        Traceback (most recent call last):
        ConfigError: jsd: unknown option(s) negatives ...
    """
    builder = _builder(fmt)
    valid = format_parameters(fmt)
    unknown = sorted(set(kwargs) - set(valid))
    if unknown:
        raise ConfigError(
            f"{fmt}: unknown option(s) {', '.join(unknown)}",
            hint=f"{fmt} takes: {', '.join(valid)}",
        )
    return builder(source, langs, **kwargs)
