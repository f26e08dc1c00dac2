"""Reading one benchmark split from the Hugging Face hub or a local copy, and checking its rows by column name.

A benchmark split is read with :func:`datasets.load_dataset` — ``load_dataset(hub_id, config, split=...,
revision=...)`` from the hub, or ``load_dataset(local_dir, config, split=...)`` from a local copy: a directory in
the hub repository's own layout (``git clone https://huggingface.co/datasets/<id>`` or ``huggingface-cli download
--repo-type dataset <id> --local-dir DIR``), whose ``README.md`` ``configs:`` block names the data files of each
configuration. The same call reads both, so a local copy is read exactly as the hub copy would be.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crossalign.data.records import check_id, check_text
from crossalign.errors import CorpusError, DataFormatError

if TYPE_CHECKING:
    import datasets

__all__ = ["HubSource", "config_names", "iter_rows", "load_split"]


class HubSource:
    """Where a benchmark is read from: a hub id at a revision, or a local copy.

    Args:
        hub_id: The dataset's hub id (``facebook/belebele``).
        revision: Commit, tag or branch on the hub (None: the default branch).
        path: A local copy in the hub repository's layout (wins over the hub).
        cache_dir: ``datasets``' cache directory (None: its default, ``~/.cache/huggingface/datasets``).
    """

    def __init__(
        self,
        hub_id: str,
        *,
        revision: str | None = None,
        path: str | os.PathLike[str] | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        self.hub_id = hub_id
        self.revision = revision
        self.path = None if path is None else Path(path).expanduser()
        self.cache_dir = None if cache_dir is None else str(cache_dir)
        self.resolved_revision: str | None = None
        if self.path is not None and not self.path.is_dir():
            raise DataFormatError(
                "not a directory",
                path=self.path,
                field="--benchmark-path",
                hint=f"pass a local copy of {hub_id} in the hub's layout, e.g. "
                f"huggingface-cli download --repo-type dataset {hub_id} --local-dir {self.path}",
            )

    def describe(self) -> dict[str, Any]:
        """JSON-ready provenance: the hub id and revision, or the local path."""
        if self.path is not None:
            return {"hub_id": self.hub_id, "local_copy": str(self.path)}
        out: dict[str, Any] = {"hub_id": self.hub_id, "revision": self.revision or "default branch (not pinned)"}
        if self.resolved_revision and self.resolved_revision != self.revision:
            out["resolved_revision"] = self.resolved_revision
        return out

    def resolve_revision(self) -> None:
        """Record the hub commit the revision points to (``huggingface_hub.dataset_info(...).sha``), so a result
        read from an unpinned branch still names its data; left unset when the hub cannot say."""
        if self.path is not None or self.resolved_revision is not None:
            return
        try:
            from huggingface_hub import dataset_info

            self.resolved_revision = dataset_info(self.hub_id, revision=self.revision).sha
        except Exception:  # offline, gated or an old huggingface_hub: the requested revision stays the record
            self.resolved_revision = None

    def __str__(self) -> str:
        if self.path is not None:
            return str(self.path)
        return self.hub_id + (f"@{self.revision}" if self.revision else "")


def config_names(source: HubSource) -> list[str] | None:
    """The configurations of a benchmark's copy: a local copy's README ``configs:`` block (``["default"]`` when it
    has none), or the hub repository's at the revision (None when the hub cannot be asked)."""
    import datasets

    if source.path is None:
        try:
            return list(datasets.get_dataset_config_names(source.hub_id, revision=source.revision))
        except Exception:  # offline or gated: let the read itself report it
            return None
    try:
        return list(datasets.get_dataset_config_names(str(source.path)))
    except Exception:  # a directory without a README configs block: datasets infers one "default" config
        return ["default"]


@contextmanager
def _quiet_datasets(datasets: Any) -> Iterator[None]:
    """``datasets``' own bars follow crossalign's progress setting (off with ``--no-progress`` /
    ``CROSSALIGN_NO_PROGRESS``) for the duration of a read."""
    from crossalign.utils.progress import progress_enabled

    silence = not progress_enabled() and datasets.is_progress_bar_enabled()
    if silence:
        datasets.disable_progress_bars()
    try:
        yield
    finally:
        if silence:
            datasets.enable_progress_bars()


def load_split(source: HubSource, config: str | None, split: str) -> datasets.Dataset:
    """One configuration's split as a :class:`datasets.Dataset`.

    Raises:
        DataFormatError: A local copy without that configuration or split (the message lists what it has).
        CorpusError: The hub copy cannot be read (no network, gated dataset, unknown configuration or split).
    """
    import datasets

    with _quiet_datasets(datasets):
        return _load_split(datasets, source, config, split)


def _load_split(datasets: Any, source: HubSource, config: str | None, split: str) -> datasets.Dataset:
    what = f"{source.hub_id} configuration {config!r}, split {split!r}" if config else f"{source.hub_id}, {split!r}"
    if source.path is not None:
        configs = config_names(source) or ["default"]
        if config is not None and config not in configs:
            raise DataFormatError(
                f"the local copy has no configuration {config!r} (it has: {', '.join(configs[:20])}"
                f"{', ...' if len(configs) > 20 else ''})",
                path=source.path,
                field="config",
                hint=f"copy the whole repository of {source.hub_id} (its README.md names the configurations), "
                "or choose a language it has",
            )
        try:
            return datasets.load_dataset(str(source.path), config, split=split, cache_dir=source.cache_dir)
        except (ValueError, KeyError, FileNotFoundError) as exc:
            raise DataFormatError(
                f"cannot read {what} from the local copy: {str(exc).splitlines()[0][:200]}",
                path=source.path,
                field="split",
                hint=f"check that the copy has the {split!r} split of {config!r} in the hub's layout",
            ) from None
    try:
        ds = datasets.load_dataset(
            source.hub_id, config, split=split, revision=source.revision, cache_dir=source.cache_dir
        )
        source.resolve_revision()
        return ds
    except Exception as exc:
        raise CorpusError(
            f"cannot read {what} from the Hugging Face hub: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}",
            hint=f"check the network, accept the dataset's terms on https://huggingface.co/datasets/{source.hub_id} "
            "and log in (huggingface-cli login) if it is gated, or pass a local copy with --benchmark-path",
        ) from None


def iter_rows(
    ds: Iterable[Mapping[str, Any]], columns: Iterable[str], *, where: str, id_columns: Iterable[str] = ()
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(row number, row)`` (1-based) after checking that every text column is a non-blank string and every
    id column is present.

    Raises:
        DataFormatError: A missing column (listing the columns present) or a blank/non-string text, naming ``where``
            (benchmark, configuration and split), the row and the column.
    """
    text_cols = list(columns)
    ids = list(id_columns)
    for i, row in enumerate(ds, start=1):
        for col in (*text_cols, *ids):
            if col not in row:
                raise DataFormatError(
                    f"{where}: missing column {col!r} (columns present: {', '.join(sorted(row))})",
                    line=i,
                    field=col,
                    hint="the copy is not in this benchmark's layout: download it again from the hub",
                )
        for col in text_cols:
            try:
                check_text(row[col], field=col, line=i)
            except DataFormatError as exc:
                raise DataFormatError(
                    f"{where}: {exc.message}", line=i, field=col, hint="fix or drop the row in the copy"
                ) from None
        for col in ids:
            check_id(row[col], field=col, line=i)
        yield i, dict(row)
