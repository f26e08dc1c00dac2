"""The training objectives by method name, with the columns each one reads.

``LOSSES[name]`` is a :class:`LossSpec`; :func:`build_loss` builds one for a model. The column lists let the
training workflow check a dataset before it loads a model; the built loss then validates each dataset by name
(:mod:`crossalign.losses._columns`).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from sentence_transformers.util import cos_sim
from torch import nn

from crossalign.errors import ConfigError
from crossalign.losses._common import SimilarityFct
from crossalign.losses.cached_clear import CachedCLEARLoss
from crossalign.losses.clear import CLEAR_CITATION, CLEARLoss
from crossalign.losses.distillation import DISTILLATION_CITATION, MultilingualDistillationLoss
from crossalign.losses.infonce import InfoNCELoss
from crossalign.losses.jsd_alignment import JSD_CITATION, JSDAlignmentLoss
from crossalign.losses.multiway import MULTIWAY_CITATION, MultiWayContrastiveLoss
from crossalign.losses.symmetric_infonce import SymmetricInfoNCELoss
from crossalign.losses.translation_ranking import LABSE_CITATION, AdditiveMarginRankingLoss

INFONCE_CITATION = """
@misc{oord2019representationlearningcontrastivepredictive,
    title={Representation Learning with Contrastive Predictive Coding},
    author={Aaron van den Oord and Yazhe Li and Oriol Vinyals},
    year={2019},
    eprint={1807.03748},
    archivePrefix={arXiv},
    primaryClass={cs.LG},
    url={https://arxiv.org/abs/1807.03748},
}
"""


@dataclass(frozen=True)
class LossSpec:
    """One training objective.

    Attributes:
        name: The method name (``clear``, ``jsd``, ...).
        factory: ``factory(model, **kwargs)`` builds the loss.
        required_columns: The text columns every dataset needs, in order (``negative_1..n`` for a numbered group;
            ``<lang_1>`` for a column named by the data).
        optional_columns: Columns the dataset may add (numbered groups written ``prefix_1..n``).
        description: One line for ``--help`` and reports.
        citation: BibTeX.
        labels: The label column, if the loss needs one.
        data_formats: The ``crossalign data build --format`` values it trains on (same columns).
        query_columns: Columns (``prefix_`` for a numbered group) that get the ``query`` prompt of an E5-style
            model, the others the ``passage`` prompt; None: every column is a query (parallel sentences).
    """

    name: str
    factory: Callable[..., nn.Module]
    required_columns: tuple[str, ...]
    optional_columns: tuple[str, ...]
    description: str
    citation: str
    labels: str | None = None
    data_formats: tuple[str, ...] = ()
    query_columns: tuple[str, ...] | None = None

    @property
    def parameters(self) -> tuple[str, ...]:
        """The keyword arguments :func:`build_loss` accepts for this method."""
        kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
        params = list(inspect.signature(self.factory).parameters.values())[1:]
        return tuple(p.name for p in params if p.kind in kinds)

    @property
    def fixed_columns(self) -> list[str]:
        """The required columns that have fixed names (multiway's per-language columns have none)."""
        return [c for c in self.required_columns if not c.startswith("<")]


def _build_clear(model: nn.Module, mini_batch_size: int | None = None, **kwargs: Any) -> CLEARLoss:
    """CLEARLoss, or CachedCLEARLoss when ``mini_batch_size`` is given; the parameters are CachedCLEARLoss's."""
    if mini_batch_size is not None:
        return CachedCLEARLoss(model, mini_batch_size=mini_batch_size, **kwargs)
    if kwargs.pop("mini_batch_num_tokens", None) is not None:
        raise ConfigError("clear: mini_batch_num_tokens needs mini_batch_size (the cached loss).")
    kwargs.pop("show_progress_bar", None)
    return CLEARLoss(model, **kwargs)


_build_clear.__signature__ = inspect.signature(CachedCLEARLoss)  # type: ignore[attr-defined]  # LossSpec.parameters


def _build_en_x(
    model: nn.Module, scale: float = 20.0, similarity_fct: SimilarityFct = cos_sim, gather_across_devices: bool = False
) -> MultiWayContrastiveLoss:
    """The English-centric baseline: pairwise multi-way loss on (en, x) rows = symmetric InfoNCE."""
    return MultiWayContrastiveLoss(model, "pairwise", scale, similarity_fct, gather_across_devices, ("en", "x"))


_INFONCE = LossSpec(
    "infonce",
    InfoNCELoss,
    ("anchor", "positive"),
    ("negative_1..n",),
    "InfoNCE / MultipleNegativesRankingLoss (baseline: q_x → English passage, hard negatives).",
    INFONCE_CITATION,
    data_formats=("infonce",),
    query_columns=("anchor",),
)

LOSSES: dict[str, LossSpec] = {
    spec.name: spec
    for spec in (
        LossSpec(
            "clear",
            _build_clear,
            ("anchor", "positive", "cross_anchor"),
            ("negative_1..n", "neg_query_1..n"),
            "CLEAR (Lee et al. 2026): forward q_en→d+, reverse d+→q_x, KL(P_rev‖P_fwd); column order anchor, "
            "positive, negative_1..n, cross_anchor, neg_query_1..n; mini_batch_size selects the cached variant.",
            CLEAR_CITATION,
            data_formats=("clear",),
            query_columns=("anchor", "cross_anchor", "neg_query_"),
        ),
        LossSpec(
            "jsd",
            JSDAlignmentLoss,
            ("query", "positive", "query_en"),
            ("positive_x",),
            "InfoNCE + λ·JSD between the q_x and q_en retrieval distributions (Hong et al. 2026; defaults ours).",
            JSD_CITATION,
            data_formats=("jsd",),
            query_columns=("query", "query_en"),
        ),
        LossSpec(
            "multiway",
            MultiWayContrastiveLoss,
            ("<lang_1>", "<lang_2>"),
            ("<lang_3>..<lang_k>",),
            "Multi-way parallel contrastive loss, every language an anchor (Fazili & Goswami 2026; pairwise or "
            "supcon, ours); one column per language.",
            MULTIWAY_CITATION,
            data_formats=("multiway", "en-x"),
        ),
        LossSpec(
            "en-x",
            _build_en_x,
            ("en", "x"),
            (),
            "English-centric En–X baseline: symmetric InfoNCE on (en, x) pairs, x from several languages.",
            MULTIWAY_CITATION,
            data_formats=("en-x",),
        ),
        _INFONCE,
        replace(
            _INFONCE,
            name="symmetric",
            factory=SymmetricInfoNCELoss,
            description="Symmetric InfoNCE: anchor→positive and positive→anchor, one softmax each, averaged.",
        ),
        LossSpec(
            "distill",
            MultilingualDistillationLoss,
            ("source", "target"),
            (),
            "Multilingual knowledge distillation (Reimers & Gurevych 2020): MSE of student(source) and "
            "student(target) to teacher(source); add the label with add_teacher_embeddings.",
            DISTILLATION_CITATION,
            labels="label",
            data_formats=("distill",),
        ),
        LossSpec(
            "labse",
            AdditiveMarginRankingLoss,
            ("source", "target"),
            (),
            "Bidirectional translation ranking with additive margin 0.3 (LaBSE).",
            LABSE_CITATION,
            data_formats=("distill",),
        ),
    )
}


def columns_table() -> str:
    """The columns each method reads, as a markdown table (README "Bring your own data and model" holds it; a test
    keeps the two equal). Columns are matched by name and passed to the loss in this order."""
    lines = ["| `--method` | required columns | optional columns | label column |", "|---|---|---|---|"]
    for spec in LOSSES.values():
        required = ", ".join(f"`{c}`" for c in spec.required_columns)
        optional = ", ".join(f"`{c}`" for c in spec.optional_columns) or "—"
        lines.append(f"| `{spec.name}` | {required} | {optional} | {f'`{spec.labels}`' if spec.labels else '—'} |")
    return "\n".join(lines)


def get_spec(method: str | LossSpec) -> LossSpec:
    """The :class:`LossSpec` of ``method`` (a spec is returned as is); ConfigError listing the valid names if
    unknown."""
    if isinstance(method, LossSpec):
        return method
    try:
        return LOSSES[method]
    except (KeyError, TypeError):
        raise ConfigError(f"unknown training method {method!r}.", hint=f"choose one of: {', '.join(LOSSES)}") from None


def build_loss(method: str | LossSpec, model: nn.Module, **kwargs: Any) -> nn.Module:
    """Build the loss of ``method`` for ``model``.

    Args:
        method: One of :data:`LOSSES` (``clear``, ``jsd``, ``multiway``, ``en-x``, ``infonce``, ``symmetric``,
            ``distill``, ``labse``), or its :class:`LossSpec`.
        model: The SentenceTransformer to train.
        **kwargs: The loss's parameters (see ``LOSSES[method].parameters``).

    Raises:
        ConfigError: Unknown method, unknown parameter (the message lists the valid ones), or an invalid value.
    """
    spec = get_spec(method)
    check_parameters(spec, kwargs)
    if kwargs.get("similarity_fct", cos_sim) is None:  # None: the loss's default (cosine)
        del kwargs["similarity_fct"]
    return spec.factory(model, **kwargs)


def check_parameters(spec: LossSpec, kwargs: dict[str, Any]) -> None:
    """ConfigError naming the parameters in ``kwargs`` that ``spec``'s loss does not take, and the valid ones."""
    unknown = sorted(set(kwargs) - set(spec.parameters))
    if unknown:
        raise ConfigError(
            f"{spec.name}: unknown parameter(s) {', '.join(unknown)}.",
            hint=f"valid parameters for {spec.name}: {', '.join(spec.parameters)}",
        )
