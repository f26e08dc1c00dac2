"""Group-disjoint train/dev/test splits (by page for the LibreOffice help).

A test set is only honest if no training row shares its source with it. Sections of one help page share vocabulary,
headings and often whole sentences, so crossalign splits by *group* (the page path), never by row: every tuple of a
page lands in the same split, in every language.

The split of a group is a pure function of ``(seed, group key)`` — a SHA-256 hash mapped to [0, 1) — so it does not
depend on which languages are loaded, on the order of the data, or on which other pages exist: the test pages for
German are the test pages for Khmer, and adding a language never moves a page between splits.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from crossalign.data.records import ParallelCorpus, ParallelTuple
from crossalign.errors import ConfigError, DataFormatError

SPLITS: tuple[str, str, str] = ("train", "dev", "test")


@dataclass(frozen=True)
class SplitSpec:
    """Fractions of groups per split and the seed of the assignment.

    Attributes:
        train: Share of groups (pages) in the training split.
        dev: Share in the development split.
        test: Share in the test split.
        seed: Changes the assignment; the same seed always gives the same split.
    """

    train: float = 0.8
    dev: float = 0.1
    test: float = 0.1
    seed: int = 13

    def __post_init__(self) -> None:
        fracs = (self.train, self.dev, self.test)
        if any(f < 0 for f in fracs) or abs(sum(fracs) - 1.0) > 1e-9:
            raise ConfigError(
                f"split fractions must be non-negative and sum to 1, got train={self.train}, dev={self.dev}, "
                f"test={self.test}",
                hint="for example train=0.8, dev=0.1, test=0.1",
            )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form for manifests."""
        return asdict(self)


def hash_unit(key: str, seed: int) -> float:
    """Map ``(seed, key)`` to a number in [0, 1) via SHA-256 (stable across processes, platforms and versions)."""
    digest = hashlib.sha256(f"{seed}\x00{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def assign_split(key: str, spec: SplitSpec = SplitSpec()) -> str:
    """The split (``train``, ``dev`` or ``test``) of a group key."""
    u = hash_unit(key, spec.seed)
    if u < spec.train:
        return "train"
    if u < spec.train + spec.dev:
        return "dev"
    return "test"


def page_key(t: ParallelTuple) -> str:
    """Group key of a LibreOffice tuple: its page path (``meta["page"]``)."""
    try:
        return str(t.meta["page"])
    except KeyError:
        raise DataFormatError(
            f"tuple {t.id!r} has no 'page' in its meta, so it cannot be split by page",
            field="meta.page",
            hint="pass group_key= a function returning the group of a tuple (e.g. its document id)",
        ) from None


def split_corpus(
    corpus: ParallelCorpus,
    spec: SplitSpec = SplitSpec(),
    *,
    group_key: Callable[[ParallelTuple], str] = page_key,
) -> dict[str, ParallelCorpus]:
    """Split a corpus into ``train``/``dev``/``test`` corpora with no group in two splits.

    Args:
        corpus: The corpus to split.
        spec: Fractions and seed.
        group_key: The group of a tuple (default: its page path).

    Returns:
        ``{"train": ..., "dev": ..., "test": ...}``; each carries the split and spec in its provenance.
    """
    parts: dict[str, list[ParallelTuple]] = {s: [] for s in SPLITS}
    cache: dict[str, str] = {}
    for t in corpus:
        key = group_key(t)
        split = cache.get(key)
        if split is None:
            split = cache[key] = assign_split(key, spec)
        parts[split].append(t)
    return {
        s: ParallelCorpus(
            parts[s],
            name=f"{corpus.name}/{s}",
            provenance={**corpus.provenance, "split": s, "split_spec": spec.to_dict()},
            validate=False,
        )
        for s in SPLITS
    }


def split_manifest(
    splits: Mapping[str, ParallelCorpus],
    *,
    group_key: Callable[[ParallelTuple], str] = page_key,
) -> dict[str, Any]:
    """What went where: per split the number of tuples, of groups, per-language coverage, and the sorted group keys.

    Raises :class:`DataFormatError` if a group appears in two splits (it never should).
    """
    owner: dict[str, str] = {}
    out: dict[str, Any] = {}
    for name, corpus in splits.items():
        groups = sorted({group_key(t) for t in corpus})
        for g in groups:
            if g in owner and owner[g] != name:
                raise DataFormatError(f"group {g!r} is in both {owner[g]!r} and {name!r}", field="split")
            owner[g] = name
        out[name] = {
            "n_tuples": len(corpus),
            "n_groups": len(groups),
            "coverage": corpus.coverage(),
            "kinds": dict(sorted(Counter(str(t.meta.get("kind", "")) for t in corpus).items())),
            "groups": groups,
        }
    return out
