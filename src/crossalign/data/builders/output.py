"""The output of a training-data builder: :class:`BuiltData` (rows, provenance, manifest) and its directory.

**Output** (:meth:`BuiltData.write`)::

    DIR/train.jsonl             one row per line, the loss's columns in its order (and nothing else)
    DIR/dev.jsonl
    DIR/manifest.json           format, columns, languages, counts, split, mining, model, corpus, versions, seed, time
    DIR/provenance/train.jsonl  per row, line by line: language, section/tuple id, page, negative pages and ranks
    DIR/provenance/dev.jsonl
    DIR/provenance/groups.json  the train and dev page lists (their SHA-256 is in the manifest)

Load it with ``datasets.load_dataset("json", data_files={"train": "DIR/train.jsonl", "dev": "DIR/dev.jsonl"})``
(name the files: a glob over ``DIR`` would also pick up ``provenance/``; leave out a split with no rows, which
``load_dataset`` rejects — the manifest's ``load`` line does), or :meth:`BuiltData.to_datasets`.
"""

from __future__ import annotations

import hashlib
import platform
import sys
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crossalign.data.sources import ENGLISH, PathLike
from crossalign.data.splits import BUILD_SPLITS, SplitIndex
from crossalign.errors import ConfigError, DataFormatError
from crossalign.utils.atomic import atomic_directory, atomic_write_json, ensure_writable_dir
from crossalign.utils.deps import package_versions
from crossalign.utils.table import Table

if TYPE_CHECKING:
    import datasets

    from crossalign.data.builders.options import BuildOptions

__all__ = ["MANIFEST_VERSION", "BuiltData", "base_manifest", "groups_hash"]

#: Manifest schema version.
MANIFEST_VERSION = 1


def _versions() -> dict[str, str | None]:
    from crossalign import __version__

    packages = package_versions(("numpy", "torch", "sentence-transformers", "transformers", "datasets"))
    return {"crossalign": __version__, "python": platform.python_version(), **packages}


def groups_hash(groups: Iterable[str]) -> str:
    """SHA-256 of the sorted group keys joined by newlines (what the manifest records per split)."""
    return hashlib.sha256("\n".join(sorted(groups)).encode("utf-8")).hexdigest()


@dataclass
class BuiltData:
    """Training rows per split, ready to write, load as a Hugging Face dataset, or hand to a trainer.

    Attributes:
        format: ``clear``, ``jsd``, ``multiway``, ``en-x``, ``infonce`` or ``distill``.
        columns: The text columns, in the order the loss reads them.
        rows: Split -> rows (dicts with exactly ``columns``, in that order).
        meta: Split -> per-row provenance, aligned with ``rows`` (``lang``, ``id``, ``group``, negatives' pages...).
        manifest: Everything needed to reproduce and audit the build (see :meth:`write`).
        groups: Split -> the groups (pages) the build read; written to ``provenance/groups.json``.
    """

    format: str
    columns: list[str]
    rows: dict[str, list[dict[str, str]]]
    meta: dict[str, list[dict[str, Any]]]
    manifest: dict[str, Any]
    groups: dict[str, list[str]] = field(default_factory=dict)

    def counts(self) -> dict[str, dict[str, int]]:
        """Rows per split and language (the language of each row's target side; ``total`` too)."""
        out: dict[str, dict[str, int]] = {}
        for split in self.rows:
            c = Counter(str(m.get("lang", "")) for m in self.meta[split])
            out[split] = {**dict(sorted(c.items())), "total": len(self.rows[split])}
        return out

    @property
    def languages(self) -> list[str]:
        """The row languages in the order of the manifest."""
        return list(self.manifest.get("row_languages", []))

    def summary_table(self) -> str:
        """Rows per split × language as an aligned text table.

        Example:
            >>> b = BuiltData("jsd", ["query"], {"train": [{}], "dev": []}, {"train": [{"lang": "de"}], "dev": []},
            ...               {"row_languages": ["de"]})
            >>> print(b.summary_table())
            split   de   total
            ──────────────────
            train    1       1
            dev      0       0
        """
        counts = self.counts()
        langs = self.languages or sorted({k for c in counts.values() for k in c if k != "total"})
        header = ["split", *langs, "total"]
        body = [[s, *(str(counts[s].get(lang, 0)) for lang in langs), str(counts[s]["total"])] for s in self.rows]
        return Table("", header, body).to_text().rstrip("\n")

    def for_language(self, lang: str) -> BuiltData:
        """The rows of one language only (same columns), with the manifest's counts updated."""
        rows = {s: [r for r, m in zip(self.rows[s], self.meta[s]) if m.get("lang") == lang] for s in self.rows}
        meta = {s: [m for m in self.meta[s] if m.get("lang") == lang] for s in self.rows}
        manifest = {**self.manifest, "row_languages": [lang], "languages": [ENGLISH, lang]}
        out = BuiltData(self.format, list(self.columns), rows, meta, manifest, dict(self.groups))
        out.manifest["counts"] = out.counts()
        return out

    def to_datasets(self) -> datasets.DatasetDict:
        """A ``datasets.DatasetDict`` with one Dataset per split, columns in :attr:`columns` order."""
        import datasets

        return datasets.DatasetDict(
            {
                split: datasets.Dataset.from_dict({c: [r[c] for r in rows] for c in self.columns})
                for split, rows in self.rows.items()
            }
        )

    def write(self, directory: PathLike, *, overwrite: bool = False, per_language: bool = False) -> Path:
        """Write the dataset directory atomically (built in a temporary sibling, renamed into place).

        Args:
            directory: Output directory.
            overwrite: Replace an existing directory (else :class:`FileExistsError`).
            per_language: One complete sub-directory per row language (``DIR/de/train.jsonl`` ...) plus a top-level
                ``manifest.json`` listing them — for training one model per language, as the CLEAR paper does.

        Raises:
            FileExistsError: ``directory`` exists and ``overwrite`` is False.
            ConfigError: ``per_language`` for a format whose rows span all languages (multiway).
        """
        target = Path(directory).expanduser()
        ensure_writable_dir(target.parent, what="output directory")
        if per_language and self.format == "multiway":
            raise ConfigError(
                "multiway rows hold every language: they cannot be split per language",
                hint="drop --per-language, or build en-x / distill rows per language",
            )
        with atomic_directory(target, overwrite=overwrite) as tmp:
            if per_language:
                index = {}
                for lang in self.languages:
                    sub = self.for_language(lang)
                    sub._write_into(tmp / lang, target / lang)
                    index[lang] = {"directory": lang, "counts": sub.counts()}
                top = {k: v for k, v in self.manifest.items() if k not in ("files", "load")}
                top["per_language"] = index
                top["counts"] = self.counts()
                atomic_write_json(tmp / "manifest.json", top)
            else:
                self._write_into(tmp, target)
        return target

    def _write_into(self, d: Path, final: Path) -> None:
        from crossalign.data.io import write_jsonl

        d.mkdir(parents=True, exist_ok=True)
        files = {}
        for split, rows in self.rows.items():
            for r in rows:
                if list(r) != self.columns:
                    raise DataFormatError(f"row columns {list(r)} differ from {self.columns}", field="columns")
            write_jsonl(d / f"{split}.jsonl", rows)
            write_jsonl(d / "provenance" / f"{split}.jsonl", self.meta[split])
            files[split] = f"{split}.jsonl"
        atomic_write_json(d / "provenance" / "groups.json", self.groups)
        manifest = dict(self.manifest)
        manifest["counts"] = self.counts()
        manifest["files"] = {**files, "provenance": "provenance/", "groups": "provenance/groups.json"}
        # an empty split's file exists but must not be named: load_dataset rejects a split without data
        data_files = ", ".join(f'"{s}": "{final / f}"' for s, f in files.items() if self.rows[s])
        manifest["load"] = f'datasets.load_dataset("json", data_files={{{data_files}}})'
        atomic_write_json(d / "manifest.json", manifest)


def base_manifest(
    fmt: str,
    columns: Sequence[str],
    row_languages: Sequence[str],
    languages: Sequence[str],
    opts: BuildOptions,
    split_index: SplitIndex,
    source_provenance: Mapping[str, Any],
    started: float,
    selection: Mapping[str, Any],
    column_languages: Mapping[str, str],
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The fields every manifest has (``mining`` and ``model`` None), and the per-split group lists.

    Returns:
        ``(manifest, groups)``; builders add ``mining``, ``model``, ``budget`` and notes.
    """
    from crossalign.losses.registry import LOSSES

    groups = {s: sorted(split_index.seen[s]) for s in BUILD_SPLITS}
    manifest: dict[str, Any] = {
        "crossalign_manifest": "training-data",
        "manifest_version": MANIFEST_VERSION,
        "format": fmt,
        "loss": fmt,
        "loss_description": LOSSES[fmt].description if fmt in LOSSES else None,
        "columns": list(columns),
        "column_languages": dict(column_languages),
        "languages": list(languages),
        "row_languages": list(row_languages),
        "split": {
            "spec": opts.split.to_dict(),
            "unit": "page (group key)",
            "rule": "crossalign.data.splits.assign_split(group, spec); rows and their negatives of a split come only "
            "from that split's groups; test groups are never read",
            "groups": {s: {"n": len(groups[s]), "sha256": groups_hash(groups[s])} for s in BUILD_SPLITS},
            "test_groups_skipped": len(split_index.seen["test"]),
        },
        "selection": dict(selection),
        "source": dict(source_provenance),
        "seed": opts.seed,
        "versions": _versions(),
        "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "build_seconds": round(time.perf_counter() - started, 2),
        "command": " ".join(sys.argv) if sys.argv and sys.argv[0] else None,
        "mining": None,
        "model": None,
    }
    return manifest, groups
