"""Metric names: a small registry in the style of ir_measures ("nDCG@10", "R@100").

Every metric crossalign reports has one canonical name here, a kind (which module computes it), the aliases it is
recognised by (case-insensitive, including trec_eval's spellings such as ``ndcg_cut_10``, ``P_10``, ``recip_rank``),
whether it takes a cutoff, and the trec_eval measure it equals (used to cross-check against pytrec_eval). The registry
is also the one home of every fact the outputs need about a score: which direction is better, whether it is shown ×100
(a share or correlation) or as it is (a rank or count), its label, and whether it is a mean over per-query values (so
that a paired test applies). :func:`score_info` reads those facts for any score key an evaluator writes
(``max_rank_median``, ``p@1_src2tgt``, ``lang_share@10:en``, ...).

>>> parse_metric("nDCG@10").key
'ndcg@10'
>>> parse_metric("R@100").key, parse_metric("P_5").key, parse_metric("recip_rank").key
('recall@100', 'precision@5', 'mrr')
>>> parse_metric("ndcg_cut_10").trec_measure
'ndcg_cut_10'
>>> i = score_info("max_rank_median"); i.label(), i.lower_is_better, i.ratio
('Max@R median', True, False)

Modules: :mod:`.retrieval` (ranked retrieval, trec_eval-exact), :mod:`.mixed_pool` (Max@R, Complete@k, pivot-language
inclination), :mod:`.bitext` (P@1, margin scoring, xSIM, BUCC F1), :mod:`.sts` (Spearman / Pearson).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from crossalign.errors import ConfigError

__all__ = [
    "METRICS",
    "SUITE_COLUMNS",
    "MetricInfo",
    "MetricSpec",
    "ScoreInfo",
    "available_metrics",
    "lower_is_better",
    "parse_metric",
    "parse_metrics",
    "score_info",
]

Kind = Literal["retrieval", "mixed_pool", "bitext", "sts"]
Better = Literal["higher", "lower", "none"]


@dataclass(frozen=True)
class MetricInfo:
    """One registered metric.

    Attributes:
        name: Canonical lower-case name (``"ndcg"``).
        kind: Which module computes it.
        cutoff: ``"required"``, ``"optional"`` or ``"none"``.
        aliases: Other spellings accepted (lower case).
        description: One line, with the formula.
        trec: trec_eval measure: a format string with ``{k}`` for the cutoff version, and the plain one.
        label: How tables name it; ``@k`` is appended for a cutoff unless the label places ``{k}`` itself;
            ``{pivot}`` is the pivot language ("English" for ``en``), ``{lang}`` the language of a per-language key.
        better: ``"higher"``, ``"lower"`` or ``"none"`` (descriptive, e.g. a language share).
        ratio: A share or correlation in [0, 1] (shown ×100) rather than a rank or count (shown as it is).
        per_query: The score is a mean (or median) over per-query values, so a paired test applies (False for
            BUCC F1, correlations).
        variants: Score-key suffixes evaluators write for it and their label suffixes (``("_mean", " mean")``).
        stem: The score-key stem when it is not the name (``"p@1"`` for ``bitext_p1``: ``p@1_src2tgt``).
    """

    name: str
    kind: Kind
    cutoff: Literal["required", "optional", "none"]
    aliases: tuple[str, ...]
    description: str
    trec: tuple[str | None, str | None] = (None, None)
    label: str = ""
    better: Better = "higher"
    ratio: bool = True
    per_query: bool = True
    variants: tuple[tuple[str, str], ...] = ()
    stem: str | None = None

    @property
    def typed(self) -> str:
        """The name as ``--metrics`` takes it: ``ndcg[@k]`` (optional cutoff), ``precision@k`` (required)."""
        return self.name + {"required": "@k", "optional": "[@k]"}.get(self.cutoff, "")


@dataclass(frozen=True)
class MetricSpec:
    """A parsed metric: canonical name plus optional cutoff."""

    name: str
    cutoff: int | None = None

    @property
    def info(self) -> MetricInfo:
        return METRICS[self.name]

    @property
    def kind(self) -> Kind:
        return self.info.kind

    @property
    def key(self) -> str:
        """The name used in results: ``"ndcg@10"``, ``"map"``."""
        return self.name if self.cutoff is None else f"{self.name}@{self.cutoff}"

    @property
    def trec_measure(self) -> str | None:
        """The pytrec_eval measure with the same value (e.g. ``"ndcg_cut_10"``), or None when there is none
        (``mrr@k`` equals ``recip_rank`` of the run cut to its top k)."""
        with_k, plain = self.info.trec
        if self.cutoff is None:
            return plain
        return None if with_k is None else with_k.format(k=self.cutoff)

    def __str__(self) -> str:
        return self.key


_AGGREGATES = (("_mean", " mean"), ("_median", " median"))

_REGISTRY: tuple[MetricInfo, ...] = (
    MetricInfo(
        "ndcg", "retrieval", "optional", ("ndcg_cut", "ndcg_at"),
        "nDCG@k = DCG@k / IDCG@k, DCG@k = Σ_{r≤k} rel_r / log2(r+1) (linear graded gain)", ("ndcg_cut_{k}", "ndcg"),
        label="nDCG",
    ),
    MetricInfo(
        "recall", "retrieval", "optional", ("r", "rec"),
        "Recall@k = |relevant in top k| / |relevant|", ("recall_{k}", None), label="Recall",
    ),
    MetricInfo(
        "precision", "retrieval", "required", ("p", "prec"),
        "P@k = |relevant in top k| / k", ("P_{k}", None), label="P",
    ),
    MetricInfo(
        "mrr", "retrieval", "optional", ("rr", "recip_rank", "reciprocal_rank", "mrr_cut"),
        "RR@k = 1 / rank of the first relevant document within k (0 if none); mean = MRR@k", (None, "recip_rank"),
        label="MRR",
    ),
    MetricInfo(
        "map", "retrieval", "optional", ("ap", "map_cut"),
        "AP@k = (1/|relevant|) Σ_{r≤k, rel_r} P@r; mean = MAP@k", ("map_cut_{k}", "map"), label="MAP",
    ),
    MetricInfo(
        "success", "retrieval", "required", ("s", "hit", "hits", "hit_rate"),
        "Success@k = 1 if any relevant document is in the top k", ("success_{k}", None), label="Success",
    ),
    MetricInfo(
        "max_rank", "mixed_pool", "none", ("max@r", "maxr", "max_r", "maxrank"),
        "Max@R = max over the query's gold documents of their 1-based rank in the whole pool (lower is better)",
        label="Max@R", better="lower", ratio=False, variants=_AGGREGATES,
    ),
    MetricInfo(
        "min_rank", "mixed_pool", "none", ("min@r", "minr", "min_r", "minrank"),
        "Min@R = min over the query's gold documents of their 1-based rank in the whole pool",
        label="Min@R", better="lower", ratio=False, variants=_AGGREGATES,
    ),
    MetricInfo(
        "complete", "mixed_pool", "required", ("complete_at",),
        "Complete@k = share of queries with Max@R ≤ k (every gold document within the top k)", label="Complete",
    ),
    MetricInfo(
        "pivot_first@1", "mixed_pool", "none",
        ("englishfirst@1", "english_first@1", "pivotfirst@1", "englishfirst", "english_first", "pivot_first"),
        "PivotFirst@1 (EnglishFirst@1 for pivot 'en') = share of queries whose top hit is in the pivot language "
        "(inclination suite: lower is better, the gold document is the query's own language)",
        label="{pivot}First@1", better="lower",
    ),
    MetricInfo(
        "pivot_first_wrong@1", "mixed_pool", "none", ("englishfirst_wrong@1", "english_first_wrong@1"),
        "share of queries whose top hit is in the pivot language and not a gold document",
        label="{pivot}First wrong@1", better="lower",
    ),
    MetricInfo(
        "lang_share", "mixed_pool", "required", ("language_share", "lang_share_at"),
        "share of the top-k result slots held by each document language (score keys lang_share@k:<lang>)",
        label="{lang} share of top {k}", better="none",
    ),
    MetricInfo(
        "pivot_above_gold", "mixed_pool", "none", ("english_above_gold", "pivot_above", "english_above"),
        "mean number of pivot-language documents ranked above the gold document",
        label="{pivot} above gold", better="lower", ratio=False, variants=(("_mean", ""),),
    ),
    MetricInfo(
        "bitext_p1", "bitext", "none", ("bitext_p@1", "mining_p@1", "p1_bitext"),
        "P@1 of cosine nearest-neighbour retrieval of the aligned sentence, per direction",
        label="P@1", variants=(("_src2tgt", " src→tgt"), ("_tgt2src", " tgt→src")), stem="p@1",
    ),
    MetricInfo(
        "xsim_error", "bitext", "none", ("xsim", "xsim_error_rate"),
        "xSIM = share of source sentences whose best margin-scored target is not the gold one",
        label="xSIM error", better="lower",
    ),
    MetricInfo(
        "xsim_absolute", "bitext", "none", ("xsim_cosine",),
        "xSIM with the plain cosine instead of the margin (= 1 − P@1 src→tgt)",
        label="xSIM error (cosine)", better="lower",
    ),
    MetricInfo(
        "bucc_f1", "bitext", "none", ("mining_f1", "bucc"),
        "BUCC mining F1 at the threshold that maximises it over the mined candidates",
        label="BUCC F1", per_query=False,
    ),
    MetricInfo(
        "bucc_precision", "bitext", "none", ("mining_precision",),
        "precision of the mined pairs at the BUCC F1-best threshold", label="BUCC precision", per_query=False,
    ),
    MetricInfo(
        "bucc_recall", "bitext", "none", ("mining_recall",),
        "recall of the mined pairs at the BUCC F1-best threshold", label="BUCC recall", per_query=False,
    ),
    MetricInfo(
        "bucc_threshold", "bitext", "none", (),
        "the margin-score threshold that maximises BUCC F1", label="BUCC threshold", better="none", ratio=False,
        per_query=False,
    ),
    MetricInfo(
        "spearman", "sts", "none", ("spearmanr", "cosine_spearman"),
        "Spearman rank correlation of cos(emb1, emb2) with the gold scores", label="Spearman", per_query=False,
    ),
    MetricInfo(
        "pearson", "sts", "none", ("pearsonr", "cosine_pearson"),
        "Pearson correlation of cos(emb1, emb2) with the gold scores", label="Pearson", per_query=False,
    ),
)  # fmt: skip

#: Canonical name -> :class:`MetricInfo`.
METRICS: dict[str, MetricInfo] = {m.name: m for m in _REGISTRY}
_ALIASES: dict[str, str] = {}
for _m in _REGISTRY:
    for _a in (_m.name, *_m.aliases):
        _ALIASES[_a] = _m.name

_SPLIT = re.compile(r"^(?P<name>.+?)[@_.]?(?P<k>\d+)$")


def available_metrics(kind: Kind | None = None) -> list[str]:
    """Canonical names, optionally only those of one kind; ``@k`` marks metrics that take a cutoff."""
    return [m.typed for m in _REGISTRY if kind is None or m.kind == kind]


#: How each kind of metric is reported in ``results.json`` and tables.
_KIND_TEXT: dict[str, str] = {
    "retrieval": "retrieval",
    "mixed_pool": "mixed-pool / inclination",
    "bitext": "bitext",
    "sts": "sts",
}


def metric_table() -> str:
    """The metrics as a markdown table (name as typed in ``--metrics``, suite, definition), rendered from the
    registry; README "Evaluate" holds this table and a test keeps the two equal."""
    lines = ["| metric | suite | definition |", "|---|---|---|"]
    for m in _REGISTRY:
        definition = m.description.replace("|", "\\|")
        lines.append(f"| `{m.typed}` | {_KIND_TEXT[m.kind]} | {definition} |")
    return "\n".join(lines)


def _unknown(text: str, kind: Kind | None) -> ConfigError:
    return ConfigError(
        f"unknown metric {text!r}",
        hint="use one of: " + ", ".join(available_metrics(kind)) + " (case-insensitive; e.g. nDCG@10, R@100, MRR@10)",
    )


def parse_metric(text: str | MetricSpec, *, kind: Kind | None = None) -> MetricSpec:
    """Parse a metric name such as ``"nDCG@10"``, ``"R@100"``, ``"mrr@10"``, ``"map"``, ``"Complete@10"``.

    Case-insensitive; the cutoff may follow ``@``, ``_`` or ``.`` (trec_eval spellings work: ``ndcg_cut_10``,
    ``P_10``, ``recip_rank``).

    Args:
        text: The name (a :class:`MetricSpec` is returned as is, after the kind check).
        kind: If given, only metrics of that kind are accepted.

    Raises:
        ConfigError: for an unknown name, a missing or unexpected cutoff, or a metric of another kind; the message
            lists the valid names.
    """
    if isinstance(text, MetricSpec):
        spec = text
    else:
        raw = str(text).strip()
        low = raw.lower()
        if low in _ALIASES:
            spec = MetricSpec(_ALIASES[low])
        else:
            m = _SPLIT.match(low)
            if not m or m.group("name") not in _ALIASES:
                raise _unknown(raw, kind)
            spec = MetricSpec(_ALIASES[m.group("name")], int(m.group("k")))
    info = METRICS.get(spec.name)
    if info is None:
        raise _unknown(spec.name, kind)
    if spec.cutoff is not None and spec.cutoff < 1:
        raise ConfigError(f"metric {spec.key!r} has cutoff {spec.cutoff}; cutoffs must be >= 1")
    if info.cutoff == "required" and spec.cutoff is None:
        raise ConfigError(
            f"metric {info.name!r} needs a cutoff", hint=f"write it as {info.name}@k, e.g. {info.name}@10"
        )
    if info.cutoff == "none" and spec.cutoff is not None:
        raise ConfigError(f"metric {info.name!r} takes no cutoff, got {text!r}", hint=f"write it as {info.name}")
    if kind is not None and info.kind != kind:
        raise ConfigError(
            f"metric {spec.key!r} is a {info.kind} metric, not a {kind} metric",
            hint="use one of: " + ", ".join(available_metrics(kind)),
        )
    return spec


def parse_metrics(texts: Iterable[str | MetricSpec] | str, *, kind: Kind | None = None) -> list[MetricSpec]:
    """Parse several names (a single string may hold a comma-separated list)."""
    if isinstance(texts, str):
        texts = [t for t in texts.split(",") if t.strip()]
    specs = [parse_metric(t, kind=kind) for t in texts]
    if not specs:
        raise ConfigError("no metric given", hint="e.g. ndcg@10,recall@100,mrr@10")
    return specs


# ------------------------------------------------------------------------------------------------- score keys
@dataclass(frozen=True)
class ScoreInfo:
    """The registry's facts about one score key as results hold it (``ndcg@10``, ``max_rank_median``,
    ``p@1_src2tgt``, ``lang_share@10:en``); ``info`` is None for a key the registry does not know (then: higher is
    better, ×100, a mean over queries).

    Attributes:
        key: The score key.
        info: Its metric.
        cutoff: The cutoff in the key, if any.
        variant: The label suffix of the key's variant (``" median"``, ``" src→tgt"``), or ``""``.
        lang: The language of a per-language key (``lang_share@10:en`` → ``en``).
    """

    key: str
    info: MetricInfo | None
    cutoff: int | None = None
    variant: str = ""
    lang: str | None = None

    @property
    def lower_is_better(self) -> bool:
        return self.info is not None and self.info.better == "lower"

    @property
    def neutral(self) -> bool:
        """No better direction (a descriptive share)."""
        return self.info is not None and self.info.better == "none"

    @property
    def ratio(self) -> bool:
        """Shown ×100 (a share or correlation); False for ranks and counts."""
        return self.info is None or self.info.ratio

    @property
    def per_query(self) -> bool:
        """A mean (or median) over per-query values: a paired test applies."""
        return self.info is None or self.info.per_query

    def label(self, pivot: str = "en") -> str:
        """``ndcg@10`` → ``nDCG@10``, ``max_rank_mean`` → ``Max@R mean``, ``pivot_first@1`` → ``EnglishFirst@1``
        (for pivot ``en``), ``lang_share@10:en`` → ``en share of top 10``; an unknown key is its own label."""
        if self.info is None or not self.info.label:
            return self.key
        text = self.info.label
        fields = {"pivot": "English" if pivot == "en" else pivot, "k": self.cutoff, "lang": self.lang}
        if self.cutoff is not None and "{k}" not in text:
            text += "@{k}"
        return text.format(**fields) + self.variant


_STEMS: dict[tuple[str, str], tuple[MetricInfo, str]] = {
    (m.stem or m.name, suffix): (m, label) for m in _REGISTRY for suffix, label in m.variants
}


@functools.lru_cache(maxsize=4096)
def score_info(key: str) -> ScoreInfo:
    """The registry's facts about a score key (see :class:`ScoreInfo`); never raises.

    >>> score_info("p@1_src2tgt").label(), score_info("xsim_error").lower_is_better, score_info("bucc_f1").per_query
    ('P@1 src→tgt', True, False)
    """
    base, _, lang = key.partition(":")
    for suffix in {s for _, s in _STEMS}:
        if base.endswith(suffix) and (base[: -len(suffix)], suffix) in _STEMS:
            info, label = _STEMS[(base[: -len(suffix)], suffix)]
            return ScoreInfo(key, info, None, label, lang or None)
    try:
        spec = parse_metric(base)
    except ConfigError:
        return ScoreInfo(key, None)
    return ScoreInfo(key, spec.info, spec.cutoff, "", lang or None)


#: The metric columns of each suite's per-direction table (the CLI's short tables, report.md's bitext/STS tables).
SUITE_COLUMNS: dict[str, tuple[str, ...]] = {
    "mixed-pool": (
        "max_rank_mean", "max_rank_median", "complete@1", "complete@10", "complete@100", "ndcg@1", "pivot_first@1",
    ),
    "inclination": ("pivot_first@1", "pivot_first_wrong@1", "pivot_above_gold_mean", "ndcg@1", "max_rank_mean"),
    "bitext": ("p@1_src2tgt", "p@1_tgt2src", "xsim_error", "bucc_f1"),
    "sts": ("spearman", "pearson"),
}  # fmt: skip


def lower_is_better(key: str) -> bool:
    """True for scores where a smaller value is better (Max@R, xSIM error, EnglishFirst@1, ...)."""
    return score_info(key).lower_is_better
