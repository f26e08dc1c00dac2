"""Freeze parts of a transformer before training: the word embeddings, all embeddings, or a range of layers.

Freezing the word embeddings is the usual choice for multilingual models: their vocabulary matrix is most of the
parameters (250k × 384 in multilingual-e5-small), a cross-lingual batch touches only a sliver of it, and updating
those rows alone drifts the tokens seen in training away from the ones that were not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from torch import nn

from crossalign.errors import ConfigError

#: The accepted freeze specs (``layers:A-B`` with inclusive, 0-based layer indices).
FREEZE_SPECS = ("word_embeddings", "embeddings", "layers:A-B")

_LAYER = re.compile(r"(?:^|\.)(?:layer|layers|block|blocks|h)\.(\d+)\.")


@dataclass
class FreezeReport:
    """What :func:`apply_freeze` froze.

    Attributes:
        specs: The specs applied.
        frozen: Names of the parameters frozen.
        trainable: Number of trainable parameter values after freezing.
        total: Number of parameter values.
    """

    specs: list[str]
    frozen: list[str] = field(default_factory=list)
    trainable: int = 0
    total: int = 0

    def summary(self) -> str:
        """One line: ``trainable 21.3M of 117.7M parameters (frozen: word_embeddings)``."""
        what = ", ".join(self.specs) if self.specs else "nothing"
        return f"trainable {_millions(self.trainable)} of {_millions(self.total)} parameters (frozen: {what})"

    def to_dict(self) -> dict[str, object]:
        """JSON-ready summary (without the parameter names)."""
        return {
            "specs": self.specs,
            "frozen_tensors": len(self.frozen),
            "trainable": self.trainable,
            "total": self.total,
        }


def _millions(n: int) -> str:
    return f"{n / 1e6:.1f}M" if n >= 100_000 else str(n)


def parse_freeze_spec(spec: str) -> tuple[str, tuple[int, int] | None]:
    """``(kind, (first, last) or None)`` for one spec; ConfigError for a spec not among :data:`FREEZE_SPECS`."""
    spec = spec.strip()
    if spec in ("word_embeddings", "embeddings"):
        return spec, None
    match = re.fullmatch(r"layers:(\d+)(?:-(\d+))?", spec)
    if match:
        start = int(match.group(1))
        end = int(match.group(2)) if match.group(2) is not None else start
        if end < start:
            raise ConfigError(f"freeze {spec!r}: the range is empty ({start} > {end}).", hint="write layers:0-5")
        return "layers", (start, end)
    raise ConfigError(
        f"unknown freeze spec {spec!r}.",
        hint="use word_embeddings, embeddings, or layers:A-B (0-based, inclusive), comma-separated for several",
    )


def apply_freeze(model: nn.Module, specs: str | Iterable[str] | None) -> FreezeReport:
    """Set ``requires_grad=False`` on the parameters the specs name and count what stays trainable.

    Args:
        model: The model (a SentenceTransformer or any module with BERT-like parameter names).
        specs: ``"word_embeddings"`` (the token embedding matrix), ``"embeddings"`` (word, position and type
            embeddings and their LayerNorm), ``"layers:0-5"`` (encoder layers 0..5); a list or a comma-separated
            string for several.

    Returns:
        A :class:`FreezeReport`.

    Raises:
        ConfigError: An unknown spec, a layer range beyond the model's last layer, or a spec that matches no
            parameter (the message lists sample names).

    Example:
        >>> report = apply_freeze(model, ["word_embeddings"])  # doctest: +SKIP
        >>> print(report.summary())  # doctest: +SKIP
        trainable 21.3M of 117.7M parameters (frozen: word_embeddings)
    """
    if specs is None:
        specs = []
    elif isinstance(specs, str):
        specs = [s for s in specs.split(",") if s.strip()]
    specs = [s.strip() for s in specs]
    report = FreezeReport(specs=list(specs))
    named = list(model.named_parameters())
    layer_ids = {int(m.group(1)) for name, _ in named if (m := _LAYER.search(name))}
    for spec in specs:
        kind, span = parse_freeze_spec(spec)
        if span is not None and layer_ids and span[1] > max(layer_ids):
            raise ConfigError(
                f"freeze {spec!r}: the model has {max(layer_ids) + 1} layers (0-{max(layer_ids)}), so layer "
                f"{span[1]} does not exist.",
                hint=f"use a range within 0-{max(layer_ids)}, e.g. layers:0-{max(layer_ids) // 2}",
            )
        hits = []
        for name, param in named:
            if kind == "word_embeddings":
                hit = "word_embeddings" in name or name.endswith("embed_tokens.weight")
            elif kind == "embeddings":
                hit = ".embeddings." in f".{name}" or "embed_tokens" in name or "embed_positions" in name
            else:
                m = _LAYER.search(name)
                assert span is not None
                hit = m is not None and span[0] <= int(m.group(1)) <= span[1]
            if hit:
                param.requires_grad_(False)
                hits.append(name)
        if not hits:
            sample = ", ".join(n for n, _ in named[:6])
            raise ConfigError(
                f"freeze {spec!r} matches no parameter of the model (parameters look like: {sample}, ...).",
                hint="check the layer range against the model's number of layers",
            )
        report.frozen.extend(h for h in hits if h not in report.frozen)
    report.total = sum(p.numel() for _, p in named)
    report.trainable = sum(p.numel() for _, p in named if p.requires_grad)
    return report
