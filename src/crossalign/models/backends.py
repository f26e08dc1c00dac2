"""Encoding backends and numeric precision: plain torch, or the transformer run by OpenVINO, in fp32 or bf16.

Encode-only stages (evaluation, mining) spend nearly all their time in the transformer's forward pass. On CPUs with
native bf16 arithmetic (x86 flags ``avx512_bf16`` or ``amx_bf16``) a bf16 matrix multiply runs several times faster
than fp32, but eager torch does not turn that into a faster encoder (its time goes to attention, layer norm, GELU,
dtype casts and per-op dispatch as much as to the big matmuls). OpenVINO compiles the whole graph, fuses those ops and
runs the matmuls in bf16 when asked (``INFERENCE_PRECISION_HINT``), accumulating in fp32.

- ``backend="torch"``: the SentenceTransformer's own modules. ``precision="bf16"`` wraps the forward pass in
  ``torch.autocast("cpu", dtype=torch.bfloat16)``.
- ``backend="openvino"`` (extra ``crossalign[openvino]``): the transformer (``model[0].auto_model``) is converted once
  with ``openvino.convert_model`` (dynamic batch and sequence axes), saved as OpenVINO IR (fp32 weights) under
  ``<cache root>/openvino/<model fingerprint[:32]>/`` and compiled for the CPU at the requested precision; pooling and
  normalisation stay the model's own torch modules. The IR is keyed by :func:`crossalign.models.model_fingerprint`
  (weights, configuration, tokenizer), so a fine-tuned model gets its own export.
- ``backend="auto"``: OpenVINO when the ``openvino`` package is installed, else torch (:func:`resolve_backend`).
- ``precision="auto"``: ``bf16`` for the OpenVINO backend on a CPU with native bf16 (:func:`cpu_has_bf16`), else
  ``fp32``. The torch backend resolves ``auto`` to ``fp32``: autocast measured no faster than fp32 on the built-in
  model (``python -m benchmarks --only encoding`` reports both).

Why not sentence-transformers' own ``backend="openvino"``: it goes through optimum-intel, whose current release
(2.2.0) resolves to transformers 5.5.x, tokenizers 0.22, huggingface-hub 1.x (with which datasets 5 fails to import)
and a different torch build (``pip install --dry-run 'sentence-transformers[openvino]'``), i.e. it cannot be installed
next to crossalign's own dependency set. The plain ``openvino`` runtime has no such pins.
"""

from __future__ import annotations

import logging
import os
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from crossalign.errors import ConfigError, ModelError

logger = logging.getLogger(__name__)

PRECISIONS: tuple[str, ...] = ("fp32", "bf16", "auto")
BACKENDS: tuple[str, ...] = ("torch", "openvino", "auto")
BF16_CPU_FLAGS: tuple[str, ...] = ("avx512_bf16", "amx_bf16")
"""x86 CPU flags (``/proc/cpuinfo``) of native bf16 arithmetic."""
OPENVINO_HINTS = {"fp32": "f32", "bf16": "bf16"}
EXPORT_SCHEME = 1
"""Version of the export layout (part of the cache directory's key)."""


def cpu_flags(cpuinfo: str | os.PathLike[str] = "/proc/cpuinfo") -> set[str]:
    """The CPU feature flags listed in ``cpuinfo`` (empty where the file is missing or unreadable)."""
    try:
        text = Path(cpuinfo).read_text(errors="replace")
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith(("flags", "Features")):
            return set(line.split(":", 1)[1].split())
    return set()


def cpu_has_bf16(cpuinfo: str | os.PathLike[str] = "/proc/cpuinfo") -> bool:
    """True when the CPU has native bf16 arithmetic (one of :data:`BF16_CPU_FLAGS`)."""
    return bool(cpu_flags(cpuinfo) & set(BF16_CPU_FLAGS))


def openvino_available() -> bool:
    """True when the ``openvino`` runtime can be imported."""
    try:
        import openvino  # noqa: F401
    except ImportError:
        return False
    return True


def check_backend(backend: str, precision: str) -> None:
    """Validate a (backend, precision) choice before any work.

    Raises:
        ConfigError: An unknown backend or precision, or ``backend="openvino"`` without the ``openvino`` package.
    """
    if backend not in BACKENDS:
        raise ConfigError(f"backend must be one of {BACKENDS}, not {backend!r}")
    if precision not in PRECISIONS:
        raise ConfigError(f"precision must be one of {PRECISIONS}, not {precision!r}")
    if backend == "openvino" and not openvino_available():
        raise ConfigError(
            "backend 'openvino' needs the openvino runtime, which is not installed",
            hint="pip install 'crossalign[openvino]', or use backend 'torch'",
        )


def resolve_backend(backend: str) -> str:
    """``torch`` or ``openvino`` for a requested ``backend`` (``auto``: OpenVINO when installed).

    Raises:
        ConfigError: As :func:`check_backend`.
    """
    check_backend(backend, "auto")
    if backend != "auto":
        return backend
    return "openvino" if openvino_available() else "torch"


def resolve_precision(precision: str, backend: str, *, cpuinfo: str | os.PathLike[str] = "/proc/cpuinfo") -> str:
    """``fp32`` or ``bf16`` for a requested ``precision`` on ``backend`` (``auto`` as in the module docs).

    Example:
        >>> resolve_precision("fp32", "openvino"), resolve_precision("auto", "torch")
        ('fp32', 'fp32')
    """
    if backend not in BACKENDS:
        raise ConfigError(f"backend must be one of {BACKENDS}, not {backend!r}")
    if precision not in PRECISIONS:
        raise ConfigError(f"precision must be one of {PRECISIONS}, not {precision!r}")
    if precision != "auto":
        return precision
    return "bf16" if backend == "openvino" and cpu_has_bf16(cpuinfo) else "fp32"


# ---------------------------------------------------------------------------------------------------------- OpenVINO
TransformerFn = Callable[[np.ndarray, np.ndarray], np.ndarray]
_COMPILED: weakref.WeakKeyDictionary[Any, dict[tuple[str, str], TransformerFn]] = weakref.WeakKeyDictionary()


def export_directory(fingerprint: str, cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """Where the OpenVINO IR of the model with ``fingerprint`` is cached."""
    from crossalign.utils.cache import cache_subdir

    return cache_subdir("openvino", cache_dir) / f"v{EXPORT_SCHEME}-{fingerprint[:32]}"


def _export(auto_model: Any, directory: Path) -> Path:
    """Convert ``auto_model`` to OpenVINO IR in ``directory`` (once; concurrent processes wait on a file lock)."""
    import openvino as ov
    import torch
    from filelock import FileLock

    xml = directory / "model.xml"
    directory.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(directory) + ".lock"):
        if xml.is_file() and (directory / "model.bin").is_file():
            return xml
        tmp = directory.with_name(directory.name + f".tmp-{os.getpid()}")
        tmp.mkdir(parents=True, exist_ok=True)
        example = {
            "input_ids": torch.ones(2, 8, dtype=torch.long),
            "attention_mask": torch.ones(2, 8, dtype=torch.long),
        }
        was_training = auto_model.training
        auto_model.eval()
        try:
            with torch.no_grad():
                ov_model = ov.convert_model(auto_model, example_input=example)
        except Exception as exc:  # tracing failures come in many types
            raise ModelError(
                f"the OpenVINO backend could not convert this model ({type(exc).__name__}: {exc})",
                hint="use backend 'torch'",
            ) from exc
        finally:
            auto_model.train(was_training)
        ov.save_model(ov_model, tmp / "model.xml", compress_to_fp16=False)
        if directory.exists():  # a stale partial export
            import shutil

            shutil.rmtree(directory)
        os.replace(tmp, directory)
    return xml


def openvino_transformer(
    model: Any,
    precision: str,
    *,
    fingerprint: str | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    threads: int | None = None,
) -> TransformerFn:
    """The model's transformer compiled by OpenVINO: ``fn(input_ids, attention_mask) -> last_hidden_state``.

    Args:
        model: A SentenceTransformer whose first module is a transformers ``Transformer``.
        precision: ``"fp32"`` or ``"bf16"`` (resolved, see :func:`resolve_precision`).
        fingerprint: The model's :func:`crossalign.models.model_fingerprint` (computed when None).
        cache_dir: The crossalign cache root.
        threads: CPU threads for inference (default: torch's thread count).

    Returns:
        A function of int64 ``[batch, seq]`` arrays returning float32 ``[batch, seq, hidden]``. Compiled models
        are kept per (model object, fingerprint, precision) for the life of the model object.

    Raises:
        ConfigError: ``openvino`` is not installed or ``precision`` is not resolved.
        ModelError: The model has no transformers module, or its conversion failed.
    """
    import torch

    check_backend("openvino", precision)
    if precision not in OPENVINO_HINTS:
        raise ConfigError(f"precision must be resolved to 'fp32' or 'bf16', not {precision!r}")
    auto_model = getattr(model[0], "auto_model", None) if hasattr(model, "__getitem__") else None
    if auto_model is None:
        raise ModelError("the OpenVINO backend needs a model whose first module is a transformers Transformer")
    if fingerprint is None:
        from crossalign.models.loading import model_fingerprint

        fingerprint = model_fingerprint(model)
    per_model = _COMPILED.setdefault(model, {})
    key = (fingerprint, precision)
    if key in per_model:
        return per_model[key]
    import openvino as ov

    xml = _export(auto_model, export_directory(fingerprint, cache_dir))
    core = ov.Core()
    config = {
        "INFERENCE_PRECISION_HINT": OPENVINO_HINTS[precision],
        "INFERENCE_NUM_THREADS": int(threads or torch.get_num_threads()),
        "PERFORMANCE_HINT": "LATENCY",
        "ENABLE_CPU_PINNING": False,  # pinned threads stall when other processes share the cores
    }
    compiled = core.compile_model(core.read_model(xml), "CPU", config)
    names = {port.get_any_name() for port in compiled.inputs}
    request = compiled.create_infer_request()

    def run(input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        inputs = {"input_ids": input_ids, "attention_mask": attention_mask}
        if "token_type_ids" in names:
            inputs["token_type_ids"] = np.zeros_like(input_ids)
        result = request.infer(inputs)
        return np.asarray(result[compiled.outputs[0]], dtype=np.float32)

    per_model.clear()  # an older fingerprint of the same object (weights changed since) is stale
    per_model[key] = run
    logger.info("OpenVINO %s encoder compiled from %s", precision, xml)
    return run


__all__ = [
    "BACKENDS",
    "BF16_CPU_FLAGS",
    "PRECISIONS",
    "check_backend",
    "cpu_flags",
    "cpu_has_bf16",
    "export_directory",
    "openvino_available",
    "openvino_transformer",
    "resolve_backend",
    "resolve_precision",
]
