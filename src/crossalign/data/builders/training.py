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
directory; "parallel text": the LibreOffice help or any parallel JSONL (see :mod:`crossalign.data.sources`).
Every builder takes one :class:`~crossalign.data.builders.options.BuildOptions` and/or its fields as keywords.

Example:
    >>> data = build_training_data("clear", "libreoffice", ["de", "zh-CN"], max_rows=500)  # doctest: +SKIP
    >>> data.write("runs/data/clear")  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from crossalign.data.builders.clear import build_clear, build_infonce
from crossalign.data.builders.jsd import build_jsd
from crossalign.data.builders.multiway import build_distill, build_enx, build_multiway
from crossalign.data.builders.options import FORMAT_OPTIONS, BuildOptions
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


def _builder(fmt: str) -> Callable[..., BuiltData]:
    try:
        return FORMATS[fmt]
    except (KeyError, TypeError):
        raise ConfigError(
            f"unknown training-data format {fmt!r}", hint=f"choose one of: {', '.join(FORMATS)}"
        ) from None


def format_parameters(fmt: str) -> list[str]:
    """The :class:`~crossalign.data.builders.options.BuildOptions` fields the builder of ``fmt`` reads, sorted."""
    _builder(fmt)
    return sorted(FORMAT_OPTIONS[fmt])


def build_training_data(
    fmt: str,
    source: Any,
    langs: str | Iterable[str],
    options: BuildOptions | None = None,
    *,
    show_progress: bool | None = None,
    **overrides: Any,
) -> BuiltData:
    """Build training rows of format ``fmt`` (see the table in the module docstring).

    Args:
        fmt: ``clear``, ``jsd``, ``multiway``, ``en-x``, ``infonce`` or ``distill``.
        source: ``"libreoffice"``, a path (parallel JSONL / retrieval-set directory) or a loaded corpus.
        langs: Target languages.
        options: A :class:`~crossalign.data.builders.options.BuildOptions`; fields the format does not read are
            ignored.
        show_progress: Progress bars and stage messages (None: the enclosing setting).
        **overrides: Fields of ``options`` to replace; only those ``format_parameters(fmt)`` lists.

    Raises:
        ConfigError: Unknown format, or an override the format does not read (the message lists the valid ones).
    """
    return _builder(fmt)(source, langs, options, show_progress=show_progress, **overrides)
