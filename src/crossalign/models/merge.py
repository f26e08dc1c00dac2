"""Weight-space interpolation of a fine-tuned model with its base model (WiSE-FT).

WiSE-FT (Wortsman et al. 2022, "Robust fine-tuning of zero-shot models", CVPR; arXiv:2109.01903): fine-tuning moves
a model away from what it did well outside the fine-tuning distribution; averaging the fine-tuned weights with the
starting weights recovers much of that robustness while keeping most of the fine-tuning gain. For every floating-point
parameter and buffer ``θ``::

    θ(λ) = (1 − λ) · θ_base + λ · θ_tuned,        λ ∈ [0, 1]

so ``λ = 0`` is the base model and ``λ = 1`` the fine-tuned one; both endpoints are returned *exactly* (copied, not
computed), so a merge at an endpoint has the endpoint's fingerprint and reuses its embedding cache. Integer and
boolean tensors (position ids, token type ids) are not interpolated: they must be equal in both models.

The two models must share one architecture: the same module pipeline (Transformer, Pooling, Normalize, ...), the
same parameter names and shapes. Anything else is refused with a :class:`~crossalign.errors.ModelError` naming the
first difference, before anything is written. The merged model takes the fine-tuned model's configuration,
tokenizer and prompts, and is saved as a plain sentence-transformers directory (``SentenceTransformer(path)`` loads
it; nothing crossalign-specific is needed).

Which λ: :mod:`crossalign.workflows.merge_select` picks it on a development split (never the test pages).

Example:
    >>> from crossalign.models.merge import merge_models
    >>> merged = merge_models("e5-small-q4", "runs/clear/model", 0.5)  # doctest: +SKIP
    >>> merged.save("runs/clear/model-merged")  # doctest: +SKIP
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

from crossalign.errors import ConfigError, ModelError, key_difference
from crossalign.utils.atomic import atomic_directory, atomic_write_json

__all__ = ["MERGE_INFO_FILE", "WISE_FT_CITATION", "check_lambda", "merge_models", "merge_state_dicts", "save_merged"]

#: Written into a merged model's directory: the two sources and λ.
MERGE_INFO_FILE = "crossalign_merge.json"

WISE_FT_CITATION = (
    "Wortsman, Ilharco, Kim, Li, Kornblith, Roelofs, Gontijo-Lopes, Hajishirzi, Farhadi, Namkoong, Schmidt (2022). "
    "Robust fine-tuning of zero-shot models. CVPR. arXiv:2109.01903"
)


def check_lambda(value: Any, *, field: str = "--lambda") -> float:
    """``value`` as a float in [0, 1]; ConfigError otherwise."""
    try:
        lam = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{field} must be a number in [0, 1], got {value!r}", hint="e.g. 0.5") from None
    if isinstance(value, bool) or not math.isfinite(lam) or not 0.0 <= lam <= 1.0:
        raise ConfigError(
            f"{field} must be a number in [0, 1], got {value!r}",
            hint="0 keeps the base model, 1 the fine-tuned one; 0.5 averages them",
        )
    return lam


def _architecture(model: Any) -> list[str]:
    """The module pipeline: ``"<index>:<class>"`` plus the transformer's ``model_type`` where there is one."""
    out = []
    for name, module in model.named_children():
        entry = f"{name}:{type(module).__name__}"
        inner = getattr(module, "auto_model", None)
        config = getattr(inner, "config", None)
        if config is not None:
            entry += f"({getattr(config, 'model_type', '?')}, {type(inner).__name__})"
        out.append(entry)
    return out


def merge_state_dicts(base: dict[str, Any], tuned: dict[str, Any], lam: float) -> dict[str, Any]:
    """``(1 − λ)·base + λ·tuned`` for every floating-point tensor; the endpoints are exact copies.

    Args:
        base: The starting model's ``state_dict()``.
        tuned: The fine-tuned model's ``state_dict()`` (same names and shapes).
        lam: λ in [0, 1].

    Returns:
        A new state dict (tensors are new objects; the inputs are not changed).

    Raises:
        ModelError: The names, shapes or dtypes differ, or a non-float tensor differs between the models.
    """
    import torch

    lam = check_lambda(lam, field="lambda")
    difference = key_difference(base, tuned, "the base model", "the fine-tuned model")
    if difference:
        raise ModelError(
            "cannot merge models with different parameters: " + difference,
            hint="merge a fine-tuned model with the model it was trained from (crossalign train's --model)",
        )
    out: dict[str, Any] = {}
    for name, a in base.items():
        b = tuned[name]
        if tuple(a.shape) != tuple(b.shape) or a.dtype != b.dtype:
            raise ModelError(
                f"cannot merge: parameter {name!r} is {tuple(a.shape)} {a.dtype} in the base model but "
                f"{tuple(b.shape)} {b.dtype} in the fine-tuned one",
                hint="merge a fine-tuned model with the model it was trained from (crossalign train's --model)",
            )
        if not torch.is_floating_point(a):
            if not torch.equal(a, b):
                raise ModelError(
                    f"cannot merge: the non-float tensor {name!r} differs between the models",
                    hint="merge a fine-tuned model with the model it was trained from",
                )
            out[name] = b.clone()
        elif lam == 0.0:
            out[name] = a.clone()
        elif lam == 1.0:
            out[name] = b.clone()
        else:
            merged = a.float() * (1.0 - lam) + b.float() * lam
            out[name] = merged.to(a.dtype)
    return out


def _load(spec: Any, cache_dir: str | os.PathLike[str] | None) -> tuple[Any, str | None]:
    if isinstance(spec, str | os.PathLike):
        from crossalign.models.loading import load_model, resolve_model

        return load_model(spec, device="cpu", cache_dir=cache_dir), resolve_model(spec, cache_dir=cache_dir)
    return spec, None


def merge_models(
    base: Any,
    tuned: Any,
    lam: float,
    *,
    cache_dir: str | os.PathLike[str] | None = None,
) -> Any:
    """WiSE-FT: the fine-tuned model with its weights interpolated toward the base model's.

    Args:
        base: The starting model: a spec (built-in name, directory, HF id) or a loaded SentenceTransformer.
        tuned: The fine-tuned model (spec or loaded). It is not changed: the result is a new model.
        lam: λ in [0, 1]: the weight of the fine-tuned model (0 = base, 1 = fine-tuned).
        cache_dir: crossalign cache root for built-in specs.

    Returns:
        A SentenceTransformer with the fine-tuned model's modules, tokenizer and prompts and the merged weights.

    Raises:
        ConfigError: λ outside [0, 1].
        ModelError: The two models differ in architecture, parameter names, shapes or dtypes (the first
            difference is named).
    """
    import copy

    lam = check_lambda(lam, field="lambda")
    base_model, _ = _load(base, cache_dir)
    tuned_model, _ = _load(tuned, cache_dir)
    arch_a, arch_b = _architecture(base_model), _architecture(tuned_model)
    if arch_a != arch_b:
        raise ModelError(
            f"cannot merge models of different architectures: base {' → '.join(arch_a)} vs fine-tuned "
            f"{' → '.join(arch_b)}",
            hint="merge a fine-tuned model with the model it was trained from (crossalign train's --model)",
        )
    state = merge_state_dicts(base_model.state_dict(), tuned_model.state_dict(), lam)
    merged = copy.deepcopy(tuned_model) if not isinstance(tuned, str | os.PathLike) else tuned_model
    merged.load_state_dict(state, strict=True)
    return merged


def save_merged(
    merged: Any,
    output_dir: str | os.PathLike[str],
    *,
    base: str | None,
    tuned: str | None,
    lam: float,
    overwrite: bool = False,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Save a merged model as a plain sentence-transformers directory, atomically, with :data:`MERGE_INFO_FILE`.

    The ``model_kwargs`` of the fine-tuned model's directory are carried over (sentence-transformers drops them on
    save). A non-empty ``output_dir`` is refused unless ``overwrite``.

    Returns:
        The directory.
    """
    from crossalign.models.loading import carry_model_kwargs

    out = Path(output_dir).expanduser()
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise ConfigError(f"{out} exists and is not empty", hint="choose another --output or pass --overwrite")
    with atomic_directory(out, overwrite=True) as tmp:
        merged.save(str(tmp))
        if tuned is not None and Path(tuned).is_dir():
            carry_model_kwargs(tuned, tmp)
        atomic_write_json(
            Path(tmp) / MERGE_INFO_FILE,
            {
                "method": "WiSE-FT weight interpolation: (1 - lambda) * base + lambda * fine-tuned",
                "citation": WISE_FT_CITATION,
                "base_model": base,
                "fine_tuned_model": tuned,
                "lambda": lam,
                **(extra or {}),
            },
        )
    return out
