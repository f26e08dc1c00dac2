"""Load a training dataset for a method: a ``crossalign data build`` directory, a file, or a Hugging Face dataset.

Every text is checked before a model is loaded: a missing column, a null, non-string, empty or whitespace-only
text raises :class:`~crossalign.errors.DataFormatError` naming the file, the line (JSONL/CSV) or row, and the column.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from crossalign.data.io import iter_jsonl, read_utf8
from crossalign.data.records import check_text
from crossalign.errors import ConfigError, DataFormatError
from crossalign.losses._columns import LABEL_COLUMNS
from crossalign.losses.registry import LossSpec, get_spec

if TYPE_CHECKING:
    import datasets

logger = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class TrainingData:
    """A loaded training split.

    Attributes:
        dataset: The rows, as a ``datasets.Dataset`` (columns not yet ordered for the loss).
        source: Where the rows came from (a path, a dataset name or ``"in-memory"``).
        manifest: The build manifest, for a ``crossalign data build`` directory or a ``BuiltData``.
        rows_total: Rows available before ``max_rows``.
    """

    dataset: datasets.Dataset
    source: str
    manifest: dict[str, Any] | None = None
    rows_total: int = 0
    notes: list[str] = field(default_factory=list)

    def located(self, check: Callable[..., T], *args: Any) -> T:
        """``check(*args)``, with this data's file named in a :class:`DataFormatError` that names none (the losses'
        column checks see column names only)."""
        try:
            return check(*args)
        except DataFormatError as exc:
            if exc.path is not None or self.source in ("in-memory", "dataset"):
                raise
            raise DataFormatError(exc.message, path=self.source, field=exc.field, hint=exc.hint) from None


def load_training_data(
    data: str | os.PathLike[str] | None,
    method: str | LossSpec,
    *,
    dataset: Any = None,
    max_rows: int | None = None,
) -> TrainingData:
    """Load and check the training split for ``method``.

    Args:
        data: A build directory (``manifest.json`` + ``train.jsonl``), a ``.jsonl``/``.json``/``.csv``/``.parquet``
            file, a ``datasets.save_to_disk`` directory, or a Hugging Face dataset name.
        method: The training method or its :class:`LossSpec` (checks the columns it needs).
        dataset: Instead of ``data``: a ``datasets.Dataset``, a ``DatasetDict`` (its ``train`` split) or a
            crossalign ``BuiltData``.
        max_rows: Keep the first ``max_rows`` rows.

    Returns:
        A :class:`TrainingData`.

    Raises:
        DataFormatError: A column is missing or a text is null/empty/not a string (file, line and column named).
        ConfigError: Nothing to load, or the build directory was made for an incompatible method.

    Example:
        >>> td = load_training_data("built/clear-de", "clear", max_rows=1000)  # doctest: +SKIP
        >>> td.dataset.column_names  # doctest: +SKIP
        ['anchor', 'positive', 'negative_1', 'cross_anchor', 'neg_query_1']
    """
    spec = get_spec(method)
    if dataset is not None:
        out = _from_object(dataset, spec)
    elif data is None:
        raise ConfigError("no training data given.", hint="pass --data PATH (or train(cfg, dataset=...))")
    else:
        out = _from_path(str(data), spec)
    if spec.name == "multiway" and (out.manifest or {}).get("format") != "en-x":
        out.dataset = _language_columns(out.dataset, source=out.source)
    out.rows_total = len(out.dataset)
    if len(out.dataset) == 0:
        raise DataFormatError("the training split has no rows.", path=out.source, hint="build or pass more data")
    if max_rows is not None and max_rows < len(out.dataset):
        out.dataset = out.dataset.select(range(max_rows))
    return out


# ------------------------------------------------------------------------------------------------------ objects
def _from_object(obj: Any, spec: LossSpec) -> TrainingData:
    import datasets

    from crossalign.data.builders.output import BuiltData

    manifest = None
    if isinstance(obj, BuiltData):
        manifest = dict(obj.manifest, format=obj.format, columns=list(obj.columns))
        _check_format(manifest, spec, "BuiltData")
        obj = obj.to_datasets()
    if isinstance(obj, datasets.DatasetDict):
        if "train" not in obj:
            raise ConfigError(f"the DatasetDict has no 'train' split (splits: {list(obj)}).", hint="pass ds['...']")
        obj = obj["train"]
    if not isinstance(obj, datasets.Dataset):
        raise ConfigError(
            f"dataset must be a datasets.Dataset, DatasetDict or BuiltData, got {type(obj).__name__}.",
            hint="convert it with datasets.Dataset.from_list(rows)",
        )
    _check_columns(obj.column_names, spec, source="dataset")
    _check_dataset_texts(obj, source="dataset")
    return TrainingData(obj, "in-memory", manifest)


# -------------------------------------------------------------------------------------------------------- paths
def _from_path(data: str, spec: LossSpec) -> TrainingData:
    path = Path(data).expanduser()
    if path.is_dir():
        if (path / "manifest.json").is_file():
            return _from_build_dir(path, spec)
        if (path / "dataset_info.json").is_file() or (path / "dataset_dict.json").is_file():
            import datasets

            loaded = datasets.load_from_disk(str(path))
            out = _from_object(loaded, spec)
            out.source = str(path)
            return out
        if (path / "train.jsonl").is_file():
            return _from_file(path / "train.jsonl", spec)
        raise ConfigError(
            f"{path} is neither a crossalign data build directory (manifest.json), a saved Hugging Face dataset, "
            "nor a directory with train.jsonl.",
            hint=f"build one with: crossalign data build --format {spec.name} ... --output {path}",
        )
    if path.is_file():
        return _from_file(path, spec)
    if data.startswith((".", "/", "~")) or data.endswith((".jsonl", ".json", ".csv", ".tsv", ".parquet")):
        raise DataFormatError("file not found", path=path, hint="check the --data path")
    return _from_hub(data, spec)


def _from_build_dir(path: Path, spec: LossSpec) -> TrainingData:
    try:
        manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DataFormatError(
            f"cannot read the manifest: {exc}", path=path / "manifest.json", hint="rebuild the data directory"
        ) from None
    if "per_language" in manifest:
        langs = ", ".join(manifest["per_language"])
        raise ConfigError(
            f"{path} holds one dataset per language ({langs}).",
            hint=f"train one model per language: --data {path}/<lang>",
        )
    _check_format(manifest, spec, str(path / "manifest.json"))
    train_file = path / (manifest.get("files", {}).get("train") or "train.jsonl")
    out = _from_file(train_file, spec)
    columns = manifest.get("columns")
    if columns and list(columns) != [c for c in out.dataset.column_names if c not in LABEL_COLUMNS]:
        logger.warning("%s: columns %s differ from the manifest's %s", train_file, out.dataset.column_names, columns)
    out.manifest = manifest
    return out


def _check_format(manifest: dict[str, Any], spec: LossSpec, source: str) -> None:
    fmt = manifest.get("format")
    if fmt is None or fmt == spec.name:
        return
    if fmt in spec.data_formats:
        logger.warning("%s: data built for %r, training %r on it (same columns)", source, fmt, spec.name)
        return
    raise ConfigError(
        f"{source}: the data was built for method {fmt!r}, not {spec.name!r} (its columns "
        f"{manifest.get('columns')} do not fit {spec.name}, which needs "
        f"{spec.fixed_columns or spec.required_columns}).",
        hint=f"train with --method {fmt}, or build data with: crossalign data build --format {spec.name} ...",
    )


def _from_file(path: Path, spec: LossSpec) -> TrainingData:
    import datasets

    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".json"):
        rows = [(line, obj) for line, obj in iter_jsonl(path)]
    elif suffix in (".csv", ".tsv"):
        rows = _read_csv(path, "\t" if suffix == ".tsv" else ",")
    elif suffix == ".parquet":
        ds = datasets.Dataset.from_dict(_read_parquet(path).to_pydict())
        _check_columns(ds.column_names, spec, source=str(path))
        _check_dataset_texts(ds, source=str(path))
        return TrainingData(ds, str(path))
    else:
        raise DataFormatError(f"unsupported file type {suffix!r}", path=path, hint="use .jsonl, .csv, .tsv or .parquet")
    if not rows:
        raise DataFormatError("the file has no rows.", path=path, hint="build or pass more data")
    first_line, first = rows[0]
    columns = list(first)
    _check_columns(columns, spec, source=str(path), line=first_line)
    for line, obj in rows:
        for column in columns:
            if column not in obj:
                raise DataFormatError(
                    f"missing column {column!r} (the first row has {columns})",
                    path=path,
                    line=line,
                    field=column,
                    hint="every row needs the same columns",
                )
            if column not in LABEL_COLUMNS and not (spec.name == "multiway" and column in META_COLUMNS):
                check_text(obj[column], path=str(path), line=line, field=column)
        extra = set(obj) - set(columns)
        if extra:
            raise DataFormatError(
                f"unexpected column(s) {sorted(extra)} not in the first row",
                path=path,
                line=line,
                field=sorted(extra)[0],
                hint="every row needs the same columns",
            )
    ds = datasets.Dataset.from_dict({c: [obj[c] for _, obj in rows] for c in columns})
    return TrainingData(ds, str(path))


def _read_csv(path: Path, delimiter: str) -> list[tuple[int, dict[str, Any]]]:
    """Rows of a CSV/TSV file with a header line, as ``(line, {column: text or None})``.

    A byte-order mark before the header is dropped; a row with more or fewer fields than the header (an unquoted
    delimiter inside a text) is an error naming the line, never a silently cut or padded row.
    """
    text = read_utf8(path).removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    name = "tab" if delimiter == "\t" else repr(delimiter)
    header: list[str] | None = None
    out = []
    for fields in reader:
        if not fields or (len(fields) == 1 and not fields[0].strip()):
            continue
        if header is None:
            header = [f.strip() for f in fields]
            continue
        if len(fields) != len(header):
            raise DataFormatError(
                f"{len(fields)} fields, but the header has {len(header)} ({', '.join(header)})",
                path=path,
                line=reader.line_num,
                hint=f'quote every text that contains a {name} ("like, this"), or fix the row',
            )
        out.append((reader.line_num, {k: (v if v != "" else None) for k, v in zip(header, fields, strict=True)}))
    return out


def _read_parquet(path: Path) -> Any:
    """The file as a ``pyarrow.Table``; a file that is not Parquet, or has no rows, is a :class:`DataFormatError`."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise DataFormatError(
            f"not a readable Parquet file ({exc})",
            path=path,
            hint="write it with pandas.DataFrame.to_parquet / datasets.Dataset.to_parquet, or pass .jsonl or .csv",
        ) from None
    if table.num_rows == 0:
        raise DataFormatError(
            f"the file has no rows (columns: {', '.join(table.column_names) or 'none'})",
            path=path,
            hint="build or pass more data",
        )
    return table


def _from_hub(name: str, spec: LossSpec) -> TrainingData:
    import datasets

    try:
        ds = datasets.load_dataset(name, split="train")
    except Exception as exc:  # network, missing dataset, ...
        raise ConfigError(
            f"cannot load {name!r}: it is not a local file or directory, and as a Hugging Face dataset: {exc}",
            hint="check the path, or the dataset name (hub datasets need a network)",
        ) from exc
    _check_columns(ds.column_names, spec, source=name)
    _check_dataset_texts(ds, source=name)
    return TrainingData(ds, name)


# ------------------------------------------------------------------------------------------------------- checks
def _check_columns(columns: list[str], spec: LossSpec, *, source: str, line: int | None = None) -> None:
    method = spec.name
    for column in spec.fixed_columns:
        if column not in columns:
            raise DataFormatError(
                f"missing column {column!r}, needed by method {method!r}. Found columns: {columns}; "
                f"{method} expects {list(spec.required_columns)} (optional: {list(spec.optional_columns)}).",
                path=None if source in ("dataset",) else source,
                line=line,
                field=column,
                hint=f"rename or add the column, or build the data with: crossalign data build --format {spec.name}",
            )
    if spec.labels and spec.labels not in columns and method != "distill":
        raise DataFormatError(
            f"missing label column {spec.labels!r}, needed by method {method!r}.",
            path=None if source == "dataset" else source,
            field=spec.labels,
        )


def degenerate_data_problem(ds: datasets.Dataset) -> str | None:
    """Why contrastive training on ``ds`` cannot learn anything, or None.

    With fewer than two distinct rows, every batch holds one distinct row (the ``no_duplicates`` sampler drops the
    repeats; other samplers batch copies of one row as each other's negatives), so the in-batch loss is constant
    (0 for one candidate) and its gradient is 0. A text column with one value everywhere gives every row the same
    positive (or anchor), which no in-batch loss can tell apart.
    """
    columns = [c for c in ds.column_names if c not in LABEL_COLUMNS]
    if not columns or len(ds) < 2:
        return None
    sample = ds.select(range(min(len(ds), 100_000)))
    values = {c: sample[c] for c in columns}
    distinct = len(set(zip(*values.values(), strict=True)))
    if distinct < 2:
        return (
            f"all {len(sample)} training rows are the same row: every batch holds one distinct row, so the in-batch "
            "loss is constant (0.0) with zero gradient and nothing is learned"
        )
    constant = [c for c, v in values.items() if len(set(v)) == 1]
    if constant:
        return (
            f"column(s) {', '.join(constant)} hold one text in every row: the rows cannot be told apart by them, so "
            "the in-batch loss learns nothing from them"
        )
    return None


#: Columns of parallel data that are bookkeeping, not a language: dropped before multi-way training.
META_COLUMNS: tuple[str, ...] = ("id", "meta")


def _language_columns(ds: datasets.Dataset, *, source: str) -> datasets.Dataset:
    """Multi-way rows: every text column must be a language tag (one column per language of the tuple).

    The multi-way loss takes any column as a language slot, so an ``id`` or ``note`` column would be trained as a
    language (a constant one gives a loss of 0 that learns nothing). ``id`` and ``meta`` are dropped as the
    bookkeeping they are; any other column that is not a language tag is refused by name.
    """
    from crossalign.errors import UnknownLanguageError
    from crossalign.languages import normalize_lang

    path = None if source in ("dataset", "in-memory") else source
    dropped = [c for c in ds.column_names if c in META_COLUMNS]
    if dropped:
        logger.info("%s: multiway trains on the language columns; ignoring %s", source, ", ".join(dropped))
        ds = ds.remove_columns(dropped)
    seen: dict[str, str] = {}
    for column in ds.column_names:
        if column in LABEL_COLUMNS:
            continue
        try:
            canon = normalize_lang(column, field=f"column {column!r}")
        except UnknownLanguageError:
            raise DataFormatError(
                f"multiway: column {column!r} is not a language tag; multi-way rows hold one column per language "
                f"(found columns: {ds.column_names}), and any other column would be trained as a language.",
                path=path,
                field=column,
                hint=f"drop the column {column!r} (or rename it to its language code, e.g. de or zh-CN); "
                f"{', '.join(META_COLUMNS)} columns are ignored",
            ) from None
        if canon in seen:
            raise DataFormatError(
                f"multiway: columns {seen[canon]!r} and {column!r} are the same language ({canon}).",
                path=path,
                field=column,
                hint="keep one column per language",
            )
        seen[canon] = column
    return ds


def _check_dataset_texts(ds: datasets.Dataset, *, source: str) -> None:
    columns = [c for c in ds.column_names if c not in LABEL_COLUMNS]
    for column in columns:
        for index, value in enumerate(ds[column]):
            try:
                check_text(value, path=None if source == "dataset" else source, field=column)
            except DataFormatError as exc:
                raise DataFormatError(
                    f"row {index + 1}: {exc.message}", path=exc.path, field=column, hint=exc.hint
                ) from None
