"""LoRA adapters (Hu et al., ICLR 2022) through ``peft``, merged back into plain weights when the model is saved.

A LoRA layer replaces ``W x`` by ``W x + (alpha / r) · B A x`` with ``A`` (r × d_in) and ``B`` (d_out × r) the only
trained tensors; ``B`` starts at zero, so training starts from exactly the base model, and every base weight stays
frozen. Few parameters move, which limits how far the model can drift from what it already did well. On save the
update is merged, ``W ← W + (alpha / r) · B A``, and the ``peft`` layers are replaced by plain ``nn.Linear``: the saved
directory is an ordinary sentence-transformers model that ``SentenceTransformer(path)`` loads without ``peft``.

Written ``--lora r=8,alpha=16,dropout=0.0,targets=query,value`` on the command line (every key optional; a bare
word after ``targets=`` continues the list) or as the config mapping ``lora: {r: 8, alpha: 16, targets: [query,
value]}``. ``targets`` are module-name suffixes as ``peft`` matches them (BERT-style encoders: ``query``, ``key``,
``value``, ``dense``).

Reference: Hu et al., LoRA: Low-Rank Adaptation of Large Language Models, ICLR 2022, https://arxiv.org/abs/2106.09685
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crossalign.errors import ConfigError

if TYPE_CHECKING:
    from torch import nn

LORA_CITATION = """
@inproceedings{hu2022lora,
    title={{LoRA}: Low-Rank Adaptation of Large Language Models},
    author={Edward J. Hu and Yelong Shen and Phillip Wallis and Zeyuan Allen-Zhu and Yuanzhi Li and Shean Wang and
            Lu Wang and Weizhu Chen},
    booktitle={International Conference on Learning Representations (ICLR)},
    year={2022},
    url={https://arxiv.org/abs/2106.09685},
}
"""


@dataclass(frozen=True)
class LoraSpec:
    """One LoRA configuration.

    Attributes:
        r: Rank of the update (≥ 1).
        alpha: Scaling numerator: the update is ``(alpha / r) · B A`` (> 0).
        dropout: Dropout on the adapter's input during training, in [0, 1).
        targets: Module-name suffixes that get adapters (``query``, ``value``, ...).
    """

    r: int = 8
    alpha: float = 16.0
    dropout: float = 0.0
    targets: tuple[str, ...] = field(default=("query", "value"))

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], *, source: str = "lora") -> LoraSpec:
        """Build and check a spec from ``{r, alpha, dropout, targets}`` (missing keys take the defaults).

        Raises:
            ConfigError: An unknown key or an invalid value, naming ``source`` and the key.
        """
        if not isinstance(values, Mapping):
            raise ConfigError(
                f"{source}: expected a mapping of r, alpha, dropout, targets, got {type(values).__name__} {values!r}.",
                hint="for example lora: {r: 8, alpha: 16, dropout: 0.0, targets: [query, value]}",
            )
        known = ("r", "alpha", "dropout", "targets")
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ConfigError(f"{source}: unknown key(s) {', '.join(unknown)}.", hint=f"valid keys: {', '.join(known)}")
        defaults = cls()
        r = values.get("r", defaults.r)
        if isinstance(r, bool) or not isinstance(r, int) or r < 1:
            raise ConfigError(f"{source}: r must be a positive integer, got {r!r}.", hint="r=8 is a common choice")
        alpha = values.get("alpha", defaults.alpha)
        if isinstance(alpha, bool) or not isinstance(alpha, int | float) or not math.isfinite(alpha) or alpha <= 0:
            raise ConfigError(f"{source}: alpha must be a positive number, got {alpha!r}.", hint="alpha=2·r is usual")
        dropout = values.get("dropout", defaults.dropout)
        if isinstance(dropout, bool) or not isinstance(dropout, int | float) or not 0 <= dropout < 1:
            raise ConfigError(f"{source}: dropout must be a number in [0, 1), got {dropout!r}.")
        targets = values.get("targets", defaults.targets)
        if isinstance(targets, str):
            targets = [t for t in targets.replace("+", ",").split(",") if t.strip()]
        if (
            not isinstance(targets, list | tuple)
            or not targets
            or not all(isinstance(t, str) and t.strip() for t in targets)
        ):
            raise ConfigError(
                f"{source}: targets must be a non-empty list of module names, got {targets!r}.",
                hint="for example targets=query,value (BERT-style: query, key, value, dense)",
            )
        return cls(r=r, alpha=float(alpha), dropout=float(dropout), targets=tuple(t.strip() for t in targets))

    @classmethod
    def parse(cls, text: str, *, source: str = "--lora") -> LoraSpec:
        """Parse ``r=8,alpha=16,dropout=0.0,targets=query,value`` (empty: the defaults).

        Values are numbers where they look like numbers; a comma-separated word without ``=`` continues the list of
        the key before it (only ``targets`` takes a list).
        """
        values: dict[str, Any] = {}
        last: str | None = None
        for part in (p.strip() for p in text.split(",")):
            if not part:
                continue
            if "=" in part:
                key, raw = (s.strip() for s in part.split("=", 1))
                if key in values:
                    raise ConfigError(f"{source}: {key} is given twice in {text!r}.")
                values[key] = [raw] if key == "targets" else _number(raw)
                last = key
            elif last == "targets":
                values["targets"].append(part)
            else:
                raise ConfigError(
                    f"{source}: cannot read {part!r} in {text!r}: expected KEY=VALUE.",
                    hint="for example --lora r=8,alpha=16,dropout=0.0,targets=query,value",
                )
        return cls.from_mapping(values, source=source)

    def to_dict(self) -> dict[str, Any]:
        """``{"r", "alpha", "dropout", "targets"}`` (JSON-ready; what the config and the model card record)."""
        return {"r": self.r, "alpha": self.alpha, "dropout": self.dropout, "targets": list(self.targets)}


def _number(raw: str) -> Any:
    for kind in (int, float):
        try:
            return kind(raw)
        except ValueError:
            pass
    return raw


@dataclass
class LoraReport:
    """What :func:`apply_lora` did: the spec, the adapted layers and the trainable parameter count."""

    spec: LoraSpec
    layers: list[str]
    trainable: int
    total: int

    def summary(self) -> str:
        return (
            f"LoRA r={self.spec.r} alpha={self.spec.alpha:g} on {len(self.layers)} layers "
            f"({', '.join(self.spec.targets)}): trainable {self.trainable:,} of {self.total:,} parameters"
        )


def _encoders(model: nn.Module) -> list[nn.Module]:
    """The Hugging Face models inside a SentenceTransformer (each ``Transformer`` module's ``auto_model``)."""
    from torch import nn

    found = [m.auto_model for m in model.modules() if hasattr(m, "auto_model") and isinstance(m.auto_model, nn.Module)]
    if not found:
        raise ConfigError(
            f"--lora: the model ({type(model).__name__}) has no transformer module to put adapters into.",
            hint="LoRA needs a sentence-transformers model built on a Hugging Face transformer",
        )
    return found


def apply_lora(model: nn.Module, spec: LoraSpec) -> LoraReport:
    """Inject LoRA adapters into ``model``'s transformer (in place) and freeze everything else.

    Raises:
        ConfigError: No module matches ``spec.targets`` (the message lists the adaptable module names).
        MissingDependencyError: ``peft`` is not installed.
    """
    from torch import nn

    from crossalign.utils.deps import require

    peft = require("peft", feature="--lora")
    config = peft.LoraConfig(
        r=spec.r, lora_alpha=spec.alpha, lora_dropout=spec.dropout, target_modules=list(spec.targets), bias="none"
    )
    layers: list[str] = []
    for encoder in _encoders(model):
        linear = sorted({name.rsplit(".", 1)[-1] for name, m in encoder.named_modules() if isinstance(m, nn.Linear)})
        try:
            peft.inject_adapter_in_model(config, encoder)
        except ValueError as exc:
            raise ConfigError(
                f"--lora: no module of the model matches targets {list(spec.targets)} ({exc}).",
                hint=f"the model's linear layers are named: {', '.join(linear)}",
            ) from exc
        layers += [name for name, m in encoder.named_modules() if _is_lora_layer(m)]
    for name, parameter in model.named_parameters():
        parameter.requires_grad_("lora_" in name)
    return LoraReport(
        spec=spec,
        layers=layers,
        trainable=sum(p.numel() for p in model.parameters() if p.requires_grad),
        total=sum(p.numel() for p in model.parameters()),
    )


def _is_lora_layer(module: nn.Module) -> bool:
    try:
        from peft.tuners.tuners_utils import BaseTunerLayer
    except ImportError:  # pragma: no cover - no peft, so no adapters
        return False
    return isinstance(module, BaseTunerLayer)


def has_lora(model: nn.Module) -> bool:
    """Whether ``model`` holds LoRA layers (unmerged adapters)."""
    return any(_is_lora_layer(m) for m in getattr(model, "_orig_mod", model).modules())


def load_lora_checkpoint(model: nn.Module, checkpoint: str | os.PathLike[str]) -> None:
    """Load a checkpoint written while training with adapters into ``model`` (which has the same adapters), in place.

    The checkpoint holds each transformer's state dict with the adapters unmerged (``base_layer``, ``lora_A``,
    ``lora_B``); sentence-transformers' own resume reloads it as a fresh model without adapters and would drop them.

    Raises:
        ConfigError: The checkpoint's weights do not match the model's adapters (the run was resumed with a
            different ``lora`` setting).
    """
    from safetensors.torch import load_file

    root = Path(checkpoint)
    model = getattr(model, "_orig_mod", model)
    entries = json.loads((root / "modules.json").read_text(encoding="utf-8"))
    for entry in entries:
        module = model[int(entry["idx"])]
        if not hasattr(module, "auto_model"):
            continue
        weights = root / entry["path"] / "model.safetensors"
        if not weights.is_file():
            raise ConfigError(
                f"{weights}: not found; cannot resume the LoRA run from {root}.",
                hint="resume from a checkpoint written by crossalign train --lora, or start over with --overwrite",
            )
        try:
            module.auto_model.load_state_dict(load_file(str(weights)), strict=True)
        except RuntimeError as exc:
            raise ConfigError(
                f"{root}: the checkpoint does not match the model's LoRA adapters ({str(exc).splitlines()[0]}).",
                hint="resume with the lora setting of the interrupted run (see its train_config.json)",
            ) from exc


def merge_lora(model: nn.Module) -> int:
    """Merge every LoRA adapter into its base weight and put the plain base layer back (in place).

    After this the model holds no ``peft`` module, so it saves and loads as an ordinary model. Returns the number of
    layers merged (0 when the model had none). The merged parameters keep ``requires_grad`` False.
    """
    merged = 0
    parents = [(name, module) for name, module in model.named_modules()]
    for _, parent in parents:
        for child_name, child in list(parent.named_children()):
            if _is_lora_layer(child):
                child.merge(safe_merge=True)
                setattr(parent, child_name, child.get_base_layer())
                merged += 1
    for encoder in _encoders(model) if merged else []:
        if hasattr(encoder, "peft_config"):  # left by inject_adapter_in_model; not part of the weights
            del encoder.peft_config
    return merged


__all__ = ["LORA_CITATION", "LoraReport", "LoraSpec", "apply_lora", "has_lora", "load_lora_checkpoint", "merge_lora"]
