"""Group-disjoint train/dev/test splits (by page for the LibreOffice help).

A test set is only honest if no training row shares its source with it. Sections of one help page share vocabulary,
headings and often whole sentences, so crossalign splits by *group* (the page path), never by row: every tuple of a
page lands in the same split, in every language.

The split of a group is a pure function of ``(seed, group key)`` — a SHA-256 hash mapped to [0, 1) — so it does not
depend on which languages are loaded, on the order of the data, or on which other pages exist: the test pages for
German are the test pages for Khmer, and adding a language never moves a page between splits.

A training build reads only the ``train`` and ``dev`` groups (:data:`BUILD_SPLITS`); its seeded samples
(:func:`seeded_rng`) draw one stream per label, so a cap on one language never changes another's rows.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from crossalign.data.records import ParallelCorpus, ParallelTuple
from crossalign.errors import ConfigError, DataFormatError
from crossalign.utils.checks import check_count

SPLITS: tuple[str, str, str] = ("train", "dev", "test")
#: The splits a training build writes (the test split is never read).
BUILD_SPLITS: tuple[str, str] = ("train", "dev")


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


#: The default page split, 0.8/0.1/0.1, seed 13; evaluation sets must be built with the same spec.
DEFAULT_SPLIT = SplitSpec()


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
    split_of = SplitIndex(spec)
    for t in corpus:
        parts[split_of(group_key(t))].append(t)
    return {
        s: ParallelCorpus(
            parts[s],
            name=f"{corpus.name}/{s}",
            provenance={**corpus.provenance, "split": s, "split_spec": spec.to_dict()},
            validate=False,
        )
        for s in SPLITS
    }


class SplitIndex:
    """Split of each group under a spec (memoised), and the groups seen per split (for the manifest)."""

    def __init__(self, spec: SplitSpec) -> None:
        self.spec = spec
        self._cache: dict[str, str] = {}
        self.seen: dict[str, set[str]] = {s: set() for s in SPLITS}

    def __call__(self, group: str) -> str:
        s = self._cache.get(group)
        if s is None:
            s = self._cache[group] = assign_split(group, self.spec)
            self.seen[s].add(group)
        return s

    def partition(self, items: Sequence[Any], group: Callable[[Any], str]) -> dict[str, list[Any]]:
        """``items`` of the :data:`BUILD_SPLITS` groups, per split, in their order (test items are left out)."""
        out: dict[str, list[Any]] = {s: [] for s in BUILD_SPLITS}
        for it in items:
            s = self(group(it))
            if s in out:
                out[s].append(it)
        return out


def split_cap(max_rows: int | None, split: str, spec: SplitSpec) -> int | None:
    """Rows allowed in ``split`` for a train cap of ``max_rows``: dev gets ``ceil(max_rows · dev / train)``.

    Example:
        >>> spec = SplitSpec()
        >>> split_cap(500, "train", spec), split_cap(500, "dev", spec), split_cap(None, "dev", spec)
        (500, 63, None)
    """
    if max_rows is None:
        return None
    check_count(max_rows, "max_rows", minimum=1, optional=False)
    if split == "train" or spec.train <= 0:
        return max_rows
    return max(1, math.ceil(max_rows * getattr(spec, split) / spec.train - 1e-9))


def seeded_rng(seed: int, *parts: str) -> np.random.Generator:
    """A generator seeded by ``seed`` and some labels (so each split/language draws its own stream)."""
    h = int.from_bytes(hashlib.sha256("\x00".join(parts).encode("utf-8")).digest()[:8], "big")
    return np.random.default_rng([int(seed) & 0xFFFFFFFF, h])


def sample_in_order(items: Sequence[Any], cap: int | None, rng: np.random.Generator) -> list[Any]:
    """A uniform sample of at most ``cap`` items, kept in their original order (all of them when ``cap`` is None)."""
    if cap is None or len(items) <= cap:
        return list(items)
    keep = np.sort(rng.choice(len(items), size=cap, replace=False))
    return [items[i] for i in keep]


def shuffle_rows(rows: list[Any], meta: list[Any], seed: int, split: str) -> tuple[list[Any], list[Any]]:
    """Shuffle rows and their provenance together (seeded per split): languages and pages mix in every batch."""
    order = seeded_rng(seed, "shuffle", split).permutation(len(rows))
    return [rows[i] for i in order], [meta[i] for i in order]
