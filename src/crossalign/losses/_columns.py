"""Column-name validation for losses that sentence-transformers feeds by position.

The sentence-transformers trainer hands a loss one feature dict per text column, in the dataset's column order, and
nothing else: a loss cannot see column names. A dataset whose columns are misnamed, missing, extra or reordered
therefore trains silently on the wrong texts (an extra parallel column given to MultipleNegativesRankingLoss becomes
a hard negative). Every crossalign loss declares its columns by name and offers:

- ``ordered_columns(column_names)``: the column order the loss needs for the given dataset columns (raises on a
  missing, unknown or malformed column);
- ``validate_columns(column_names)``: the same, and additionally raises if the dataset's order differs. It binds the
  layout it saw (e.g. the number of hard negatives) to the loss, so ``forward`` can check every batch against it.
- ``select_columns(dataset)``: ``dataset.select_columns(ordered_columns(...))`` followed by ``validate_columns``.

The training workflow must call ``loss.validate_columns(dataset.column_names)`` (or ``loss.select_columns(dataset)``)
on every training and evaluation dataset before it builds the trainer.
"""

from __future__ import annotations

import difflib
import logging
import re
from collections.abc import Iterable, Sequence
from typing import Any

from crossalign.errors import DataFormatError

logger = logging.getLogger(__name__)

#: Columns the sentence-transformers data collator treats as labels (``DEFAULT_LABEL_COLUMNS``): they never reach the
#: loss as text features, so they do not shift positions.
LABEL_COLUMNS: tuple[str, ...] = ("label", "labels", "score", "scores")
#: Columns the trainer removes before collation (multi-dataset training).
IGNORED_COLUMNS: tuple[str, ...] = ("dataset_name",)


def text_columns(column_names: Iterable[str]) -> list[str]:
    """The columns that reach the loss as text features, in dataset order (labels and bookkeeping removed)."""
    return [name for name in column_names if name not in LABEL_COLUMNS and name not in IGNORED_COLUMNS]


def label_columns(column_names: Iterable[str]) -> list[str]:
    """The label columns among ``column_names`` (the collator hands the first one found to the loss as ``labels``)."""
    return [name for name in column_names if name in LABEL_COLUMNS]


def numbered(n: int, prefix: str) -> list[str]:
    """``[f"{prefix}1", ..., f"{prefix}{n}"]``."""
    return [f"{prefix}{k}" for k in range(1, n + 1)]


def numbered_group(columns: Sequence[str], prefix: str, *, loss_name: str, bare: str | None = None) -> list[str]:
    """The columns named ``{prefix}{k}``, checked to be exactly ``{prefix}1..{prefix}n`` (contiguous, no zero padding).

    Args:
        columns: The dataset's text columns.
        prefix: For example ``"negative_"``.
        loss_name: For the error message.
        bare: A single-column alias (``"negative"``) accepted in place of ``{prefix}1`` when it is the only one.

    Returns:
        The group's columns in numeric order (``[bare]`` when the alias is used).
    """
    pattern = re.compile(rf"^{re.escape(prefix)}(\d+)$")
    found: dict[int, str] = {}
    for name in columns:
        match = pattern.match(name)
        if match is None:
            continue
        digits = match.group(1)
        if digits != str(int(digits)) or int(digits) == 0:
            raise DataFormatError(
                f"{loss_name}: column {name!r} is not a valid {prefix}<k> name (k counts from 1, no leading zeros).",
                field=name,
                hint=f"rename the columns to {prefix}1, {prefix}2, ...",
            )
        found[int(digits)] = name
    if bare is not None and bare in columns:
        if found:
            raise DataFormatError(
                f"{loss_name}: the dataset has both {bare!r} and {sorted(found.values())}; use one naming.",
                field=bare,
                hint=f"rename {bare!r} to {prefix}1 (and number the others {prefix}2, ...)",
            )
        return [bare]
    if found and sorted(found) != list(range(1, len(found) + 1)):
        missing = sorted(set(range(1, max(found) + 1)) - set(found))
        raise DataFormatError(
            f"{loss_name}: the {prefix}<k> columns are not numbered 1..{max(found)}: "
            f"{', '.join(f'{prefix}{k}' for k in missing)} missing.",
            field=f"{prefix}{missing[0]}",
            hint=f"number the columns {prefix}1..{prefix}{len(found)} without gaps",
        )
    return [found[k] for k in sorted(found)]


def unknown_column_error(
    loss_name: str,
    name: str,
    expected: Sequence[str],
    found: Sequence[str],
    known: Sequence[str] = (),
) -> DataFormatError:
    """An error for a column the loss does not read, with a 'did you mean' when one is close.

    ``known`` adds names to suggest beyond ``expected`` (e.g. ``negative_1`` when the dataset has no negatives).
    """
    close = difflib.get_close_matches(name, [*expected, *known], n=1, cutoff=0.6)
    suggestion = f" (did you mean {close[0]!r}?)" if close else ""
    return DataFormatError(
        f"{loss_name}: unexpected column {name!r}{suggestion}. The loss reads columns by position, so an extra column "
        f"would shift every column after it. Found columns: {list(found)}; expected: {list(expected)}.",
        field=name,
        hint="rename it, or drop it with dataset.remove_columns([...]) before training",
    )


def missing_column_error(loss_name: str, name: str, expected: Sequence[str], found: Sequence[str]) -> DataFormatError:
    """An error for a required column that the dataset lacks."""
    close = difflib.get_close_matches(name, [c for c in found if c not in expected], n=1, cutoff=0.6)
    suggestion = f" (is {close[0]!r} meant to be it?)" if close else ""
    return DataFormatError(
        f"{loss_name}: required column {name!r} is missing{suggestion}. Found columns: {list(found)}; "
        f"expected: {list(expected)}.",
        field=name,
        hint=f"add or rename the column so the dataset has {list(expected)}",
    )


def check_names(
    loss_name: str,
    expected: Sequence[str],
    found: Sequence[str],
    *,
    required: Sequence[str] | None = None,
    known: Sequence[str] = (),
    shown: Sequence[str] | None = None,
) -> None:
    """Raise for the first column of ``required`` (default: every ``expected`` column) that ``found`` lacks, then for
    the first ``found`` column that is not ``expected``; the messages list ``shown`` (default ``expected``) and
    suggest ``known`` names too (:func:`missing_column_error`, :func:`unknown_column_error`)."""
    shown = expected if shown is None else shown
    for name in expected if required is None else required:
        if name not in found:
            raise missing_column_error(loss_name, name, shown, found)
    for name in found:
        if name not in expected:
            raise unknown_column_error(loss_name, name, shown, found, known=known)


def check_order(loss_name: str, column_names: Sequence[str], expected: Sequence[str]) -> None:
    """Raise if the dataset's text columns (``column_names`` without labels) are not exactly ``expected``, in order."""
    found = text_columns(column_names)
    expected = list(expected)
    if found == expected:
        return
    position = next((i for i, (a, b) in enumerate(zip(found, expected)) if a != b), min(len(found), len(expected)))
    held = repr(found[position]) if position < len(found) else "nothing"
    reads = repr(expected[position]) if position < len(expected) else "nothing"
    raise DataFormatError(
        f"{loss_name}: columns are in the wrong order: position {position} holds {held} but the loss reads {reads} "
        f"there. The trainer passes columns by position only. Found: {found}; expected: {expected}.",
        field=found[position] if position < len(found) else None,
        hint=f"dataset = dataset.select_columns({expected + label_columns(column_names)!r}) "
        "(or loss.select_columns(dataset))",
    )


def warn_label_columns(loss_name: str, column_names: Iterable[str]) -> None:
    """Log that label columns are present but unused by a loss that takes no labels."""
    labels = label_columns(column_names)
    if labels:
        logger.warning(
            "%s takes no labels, but the dataset has label column(s) %s: the trainer passes them to the loss, "
            "which ignores them. Remove them if they are not meant for another loss.",
            loss_name,
            labels,
        )


class NamedColumnsMixin:
    """Column-name validation shared by crossalign's losses (see the module docstring).

    A subclass implements :meth:`ordered_columns` (pure: no side effects) and may override :meth:`_bind_columns` to
    remember the layout (for example the number of hard negatives) that :meth:`validate_columns` accepted.
    """

    #: The name used in error messages.
    loss_name: str = "loss"
    #: The text columns :meth:`validate_columns` accepted, in order (None until then).
    columns: list[str] | None = None

    def found_columns(self, column_names: Sequence[str]) -> list[str]:
        """The dataset's text columns, in order, for a loss that takes no labels (label columns are logged as
        unused, :func:`warn_label_columns`)."""
        warn_label_columns(self.loss_name, column_names)
        return text_columns(column_names)

    def ordered_columns(self, column_names: Sequence[str]) -> list[str]:
        """The text columns, in the order this loss reads them, for a dataset with ``column_names``.

        Raises:
            DataFormatError: A required column is missing, a column is unknown or malformed, or a count rule fails.
        """
        raise NotImplementedError

    def validate_columns(self, column_names: Sequence[str]) -> list[str]:
        """Check a dataset's columns by name and order, then bind the layout to this loss.

        Call this on every dataset before training: the loss itself only ever sees positional features.

        Args:
            column_names: ``dataset.column_names``; label columns (``label``, ``score``, ...) and ``dataset_name``
                may be present anywhere, they never reach the loss as texts.

        Returns:
            The text columns in the order the loss reads them.

        Raises:
            DataFormatError: A column is missing, unknown, malformed or out of order (the message says which and
                the hint gives the ``select_columns`` call that fixes the order).
        """
        column_names = list(column_names)
        expected = self.ordered_columns(column_names)
        check_order(self.loss_name, column_names, expected)
        self._bind_columns(expected)
        return expected

    def select_columns(self, dataset: Any) -> Any:
        """Return ``dataset`` with its columns selected and ordered for this loss (labels kept last), validated.

        Works for ``datasets.Dataset`` and ``IterableDataset`` (anything with ``column_names`` and
        ``select_columns``). Unknown or missing columns still raise: only the order is fixed.
        """
        if dataset.column_names is None:  # an IterableDataset whose features are unknown until iterated
            raise DataFormatError(
                f"{self.loss_name}: the dataset does not know its column names, so they cannot be validated.",
                hint="call loss.validate_columns(list(next(iter(dataset)))) on its first row instead",
            )
        column_names = list(dataset.column_names)
        expected = self.ordered_columns(column_names)
        dataset = dataset.select_columns(expected + label_columns(column_names))
        self.validate_columns(list(dataset.column_names))
        return dataset

    def _bind_columns(self, columns: list[str]) -> None:
        self.columns = list(columns)

    def check_width(self, num_columns: int, expected: Sequence[str]) -> None:
        """ValueError unless a batch of ``num_columns`` feature dicts has one per ``expected`` column."""
        if num_columns != len(expected):
            raise ValueError(
                f"{self.loss_name} expects {len(expected)} columns ({list(expected)}), but the batch has "
                f"{num_columns}. Call loss.validate_columns(dataset.column_names) on the dataset it trains on."
            )
