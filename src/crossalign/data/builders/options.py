"""One options object for every training-data builder: :class:`BuildOptions`, validated once.

Each format reads the fields it needs (:data:`FORMAT_OPTIONS`); the builders take ``options=`` and/or the same fields
as keyword overrides::

    build_clear("libreoffice", ["de"], options=BuildOptions(max_rows=500, negatives=5))
    build_clear("libreoffice", ["de"], max_rows=500)  # the same
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from crossalign.data.mining import (
    DEFAULT_NUM_NEGATIVES,
    DEFAULT_RANK_RANGE,
    DEFAULT_REFERENCE_POOL,
    MiningConfig,
    parse_rank_range,
)
from crossalign.data.sources import load_source, target_languages
from crossalign.data.splits import DEFAULT_SPLIT, SplitSpec
from crossalign.data.text_rules import check_heading_rule
from crossalign.errors import ConfigError
from crossalign.models.registry import DEFAULT_MODEL
from crossalign.utils.checks import check_count
from crossalign.utils.progress import progress_scope

if TYPE_CHECKING:
    from crossalign.data.builders.output import BuiltData

__all__ = ["FORMAT_OPTIONS", "UNITS", "BuildOptions", "builder", "open_build", "resolve_options"]

#: Text units of the LibreOffice help a parallel build may read.
UNITS: tuple[str, ...] = ("paragraph", "section", "heading")

_COMMON = frozenset({"max_rows", "seed", "split", "min_words", "cache_dir", "help_root", "download"})
_QUERY = _COMMON | {"shared_headings"}
_MINED = _QUERY | {
    "model",
    "negatives",
    "rank_range",
    "reference_pool",
    "max_score_ratio",
    "max_pool",
    "batch_size",
    "query_prompt",
    "passage_prompt",
}
_PARALLEL = _COMMON | {"units"}
#: Format -> the :class:`BuildOptions` fields its builder reads.
FORMAT_OPTIONS: dict[str, frozenset[str]] = {
    "clear": _MINED | {"query_negatives"},
    "infonce": _MINED,
    "jsd": _QUERY | {"with_positive_x"},
    "multiway": _PARALLEL | {"include_english"},
    "en-x": _PARALLEL,
    "distill": _PARALLEL,
}


def _positive_or_none(name: str, value: Any) -> None:
    if value is not None:
        check_count(value, name, minimum=1, optional=False)


@dataclass(frozen=True)
class BuildOptions:
    """How a training-data builder selects, mines and caps rows (the fields a format does not use are ignored).

    Attributes:
        max_rows: Train rows per target language (multiway and en-x: train tuples); dev gets
            ``ceil(max_rows · dev / train)``; None = all.
        seed: Sampling of rows, pools and negatives; row shuffling.
        split: Page-disjoint split; rows only from its train and dev pages.
        min_words: Minimum words of the English text.
        cache_dir, help_root, download: Where the LibreOffice help and the built-in model are.
        shared_headings: ``"title"`` (default), ``"skip"`` or ``"keep"`` for headings shared by several sections
            (:func:`~crossalign.data.text_rules.disambiguate_heading`); clear, infonce, jsd.
        with_positive_x: jsd: add the ``positive_x`` column (rows whose x passage is missing are dropped).
        model: The mining encoder: a model spec (default the built-in ``e5-small-q4``), a loaded SentenceTransformer,
            an encode function ``fn(texts, prompt_name)`` or a :class:`~crossalign.data.mining.TextEncoder`.
        negatives: Mined negatives per row, of each kind (CLEAR's KL needs equal widths).
        query_negatives: clear: a different number of query negatives (then train with ``use_kl=False``); None: same.
        rank_range: ``(lo, hi)`` (or ``"lo,hi"``) eligible ranks to sample negatives from.
        reference_pool: Pool size below which the window scales down (None: never).
        max_score_ratio: Positive-aware filter (e.g. 0.95); None: off.
        max_pool: Cap on each candidate pool (seeded sample; the window scales with it); None: no cap.
        batch_size: Encoding batch size.
        query_prompt, passage_prompt: Mining prompts overriding the model's own and its family's (None: not given;
            ``""``: none); see :func:`crossalign.models.prompts.apply_prompts`. The rows carry no prompt.
        units: Parallel formats, for the help: ``"paragraph"`` (default), ``"section"``, ``"heading"`` (a tuple or a
            comma-separated string).
        include_english: multiway: English as the first column.

    Raises:
        ConfigError: An invalid value (named), before any corpus or model is loaded.
    """

    max_rows: int | None = None
    seed: int = 13
    split: SplitSpec = DEFAULT_SPLIT
    min_words: int = 4
    cache_dir: str | os.PathLike[str] | None = None
    help_root: str | os.PathLike[str] | None = None
    download: bool = True
    shared_headings: str = "title"
    with_positive_x: bool = True
    model: Any = DEFAULT_MODEL
    negatives: int = DEFAULT_NUM_NEGATIVES
    query_negatives: int | None = None
    rank_range: tuple[int, int] = DEFAULT_RANK_RANGE
    reference_pool: int | None = DEFAULT_REFERENCE_POOL
    max_score_ratio: float | None = None
    max_pool: int | None = None
    batch_size: int = 64
    query_prompt: str | None = None
    passage_prompt: str | None = None
    units: tuple[str, ...] = ("paragraph",)
    include_english: bool = True

    def __post_init__(self) -> None:
        _positive_or_none("max_rows", self.max_rows)
        _positive_or_none("max_pool", self.max_pool)
        _positive_or_none("query_negatives", self.query_negatives)
        if not isinstance(self.split, SplitSpec):
            raise ConfigError(f"split must be a SplitSpec, got {self.split!r}")
        check_heading_rule(self.shared_headings)
        object.__setattr__(self, "rank_range", parse_rank_range(self.rank_range))
        units = self.units.split(",") if isinstance(self.units, str) else self.units
        chosen = tuple(u.strip() for u in units if u and u.strip())
        bad = [u for u in chosen if u not in UNITS]
        if bad or not chosen:
            raise ConfigError(
                f"unknown unit(s) {bad or list(chosen)}", hint="choose paragraph, section or heading (comma-separated)"
            )
        object.__setattr__(self, "units", chosen)
        self.mining(query=True)

    def mining(self, *, query: bool = False) -> MiningConfig:
        """The :class:`~crossalign.data.mining.MiningConfig` of the passage (or, with ``query``, query) negatives."""
        n = self.query_negatives if query and self.query_negatives is not None else self.negatives
        return MiningConfig(
            num_negatives=n,
            rank_range=self.rank_range,
            reference_pool=self.reference_pool,
            max_score_ratio=self.max_score_ratio,
            seed=self.seed,
            batch_size=self.batch_size,
        )


def resolve_options(fmt: str, options: BuildOptions | None, overrides: dict[str, Any]) -> BuildOptions:
    """``options`` (default :class:`BuildOptions()`) with ``overrides`` applied, after checking ``fmt`` takes them.

    Raises:
        ConfigError: An override the format does not read (the message lists the ones it does), or a bad value.
    """
    valid = FORMAT_OPTIONS[fmt]
    unknown = sorted(set(overrides) - valid)
    if unknown:
        raise ConfigError(
            f"{fmt}: unknown option(s) {', '.join(unknown)}", hint=f"{fmt} takes: {', '.join(sorted(valid))}"
        )
    if options is not None and not isinstance(options, BuildOptions):
        raise ConfigError(f"options must be a BuildOptions, got {type(options).__name__}")
    base = options or BuildOptions()
    return dataclasses.replace(base, **overrides) if overrides else base


def open_build(
    fmt: str, source: Any, langs: str | Iterable[str], options: BuildOptions | None, overrides: dict[str, Any]
) -> tuple[BuildOptions, Any, list[str]]:
    """A builder's entry, in order: the options (validated), the target languages (parsed once), the source (opened).

    Returns:
        ``(options, source, targets)``: the source a loaded corpus, ``targets`` canonical tags without English.
    """
    opts = resolve_options(fmt, options, overrides)
    targets = target_languages(source, langs)
    loaded = load_source(source, targets, cache_dir=opts.cache_dir, help_root=opts.help_root, download=opts.download)
    return opts, loaded, targets


def builder(fmt: str) -> Callable[[Callable[..., BuiltData]], Callable[..., BuiltData]]:
    """Make ``impl(source, targets, options, started)`` the public builder of ``fmt``.

    The public function is ``(source, langs, options=None, *, show_progress=None, **overrides)``: it opens
    :func:`~crossalign.utils.progress.progress_scope` (``show_progress``), then :func:`open_build` (options validated
    with the overrides, languages parsed once, source opened) and calls ``impl`` with the loaded source, the
    canonical target languages, the options and the start time (``time.perf_counter()``).
    """

    def wrap(impl: Callable[..., BuiltData]) -> Callable[..., BuiltData]:
        def build(
            source: Any,
            langs: str | Iterable[str],
            options: BuildOptions | None = None,
            *,
            show_progress: bool | None = None,
            **overrides: Any,
        ) -> BuiltData:
            with progress_scope(show_progress):
                started = time.perf_counter()
                opts, loaded, targets = open_build(fmt, source, langs, options, overrides)
                return impl(loaded, targets, opts, started)

        public = inspect.signature(build)
        functools.update_wrapper(build, impl)
        build.__signature__ = public  # type: ignore[attr-defined]
        return build

    return wrap
