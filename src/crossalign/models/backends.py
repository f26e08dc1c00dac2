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
  (weights, configuration, tokenizer), so a fine-tuned model gets its own export. At most :data:`MAX_EXPORTS`
  exports are kept (least recently used are deleted: each is about the size of the fp32 weights, and every
  fine-tuned or merged model makes one).
- ``backend="auto"`` (the default of every encode-only stage: evaluation, mining, centering statistics): OpenVINO
  when the ``openvino`` package is installed and the model converts, else torch with one log line
  (:func:`resolve_backend`, :func:`auto_openvino_transformer`). The environment variable ``CROSSALIGN_BACKEND``
  (``torch`` or ``openvino``) chooses what ``auto`` means for a whole process (the test suite sets ``torch``). In
  fp32 the OpenVINO graph gives the same vectors as torch up to float rounding (cosine ≥ 0.999999 on the built-in
  model) and encodes several times faster on CPU; bf16 only on request (``precision="bf16"`` or ``"auto"``), since
  it moves rankings by near-ties (README "Performance").
- ``precision="auto"`` (the default of every encode-only stage): ``bf16`` for the OpenVINO backend on a CPU with
  native bf16 (:func:`cpu_has_bf16`), else ``fp32``. The torch backend resolves ``auto`` to ``fp32``
  (``python -m benchmarks --only encoding`` compares autocast with fp32). The environment variable
  ``CROSSALIGN_PRECISION`` (``fp32`` or ``bf16``) chooses what ``auto`` means for a whole process (the test suite
  sets ``fp32``); explicit choices are kept. :func:`resolve_training_precision` applies the same rule to training,
  where eager autocast does gain on such CPUs (README "Performance").

The plain ``openvino`` runtime is used, not sentence-transformers' ``backend="openvino"``, whose optimum-intel
dependency pins versions that cannot be installed next to crossalign's own dependency set.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import os
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from crossalign.errors import ConfigError, ModelError
from crossalign.utils.checks import check_choice
from crossalign.utils.deps import is_available

logger = logging.getLogger(__name__)

PRECISIONS: tuple[str, ...] = ("fp32", "bf16", "auto")
BACKENDS: tuple[str, ...] = ("torch", "openvino", "auto")
BF16_CPU_FLAGS: tuple[str, ...] = ("avx512_bf16", "amx_bf16")
"""x86 CPU flags (``/proc/cpuinfo``) of native bf16 arithmetic."""
OPENVINO_HINTS = {"fp32": "f32", "bf16": "bf16"}
EXPORT_SCHEME = 1
"""Version of the export layout (part of the cache directory's key)."""
MAX_EXPORTS = 4
"""OpenVINO exports kept in the cache (least recently used beyond this are deleted after a new export)."""
BACKEND_ENV = "CROSSALIGN_BACKEND"
"""Environment variable: what ``backend="auto"`` resolves to (``torch``, ``openvino`` or ``auto``; unset = auto)."""
PRECISION_ENV = "CROSSALIGN_PRECISION"
"""Environment variable: what ``precision="auto"`` resolves to (``fp32``, ``bf16`` or ``auto``; unset = auto)."""


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
    return is_available("openvino")


def _check_names(backend: str, precision: str) -> None:
    check_choice(backend, BACKENDS, "backend")
    check_choice(precision, PRECISIONS, "precision")


def check_backend(backend: str, precision: str) -> None:
    """Validate a (backend, precision) choice before any work.

    Raises:
        ConfigError: An unknown backend or precision, or ``backend="openvino"`` without the ``openvino`` package.
    """
    _check_names(backend, precision)
    if backend == "openvino" and not openvino_available():
        raise ConfigError(
            "backend 'openvino' needs the openvino runtime, which is not installed",
            hint="pip install 'crossalign[openvino]', or use backend 'torch'",
        )


def resolve_backend(backend: str, model: Any = None) -> str:
    """``torch`` or ``openvino`` for a requested ``backend``.

    ``auto`` resolves to ``$CROSSALIGN_BACKEND`` when that is ``torch`` or ``openvino``; otherwise to OpenVINO when
    it is installed and (given ``model``) the model can be driven by it (:func:`openvino_problem`), else torch.
    Explicit choices are returned as they are.

    Raises:
        ConfigError: As :func:`check_backend`, or ``$CROSSALIGN_BACKEND`` holds something else.
    """
    check_backend(backend, "auto")
    if backend != "auto":
        return backend
    env = os.environ.get(BACKEND_ENV, "").strip().lower()
    if env not in ("", "auto", "torch", "openvino"):
        raise ConfigError(
            f"{BACKEND_ENV} must be 'torch', 'openvino' or 'auto', not {os.environ[BACKEND_ENV]!r}",
            hint=f"unset {BACKEND_ENV} or set it to one of those",
        )
    if env in ("torch", "openvino"):
        check_backend(env, "auto")
        return env
    if not openvino_available():
        return "torch"
    if model is not None:
        problem = openvino_problem(model)
        if problem is not None:
            _fall_back(model, problem)
            return "torch"
    return "openvino"


def openvino_problem(model: Any) -> str | None:
    """Why the OpenVINO path cannot encode with ``model`` (None when it can, as far as is known before converting):
    the model is not driven token by token (see :func:`crossalign.models.encode`), or its conversion failed
    earlier in this process."""
    failed = _FAILED.get(model) if _weakrefable(model) else None
    if failed is not None:
        return failed
    from crossalign.models.encoder import _token_path_problem

    return _token_path_problem(model)


def _weakrefable(obj: Any) -> bool:
    try:
        weakref.ref(obj)
    except TypeError:
        return False
    return True


def _fall_back(model: Any, reason: str) -> None:
    """One log line per model object: ``backend="auto"`` uses torch for it."""
    if not _weakrefable(model):
        logger.info("backend 'auto': torch for this model (%s)", reason)
        return
    if model not in _FELL_BACK:
        _FELL_BACK[model] = reason
        logger.warning("backend 'auto': encoding with torch instead of OpenVINO (%s)", reason)


_PRECISION_SCOPE: contextvars.ContextVar[str | None] = contextvars.ContextVar("crossalign_precision", default=None)


@contextlib.contextmanager
def precision_scope(precision: str) -> Iterator[None]:
    """Within the block, ``precision="auto"`` (encoding and training) means ``precision`` (``fp32``, ``bf16``, or
    ``auto`` for no change); it takes precedence over ``$CROSSALIGN_PRECISION``. Workflows open it once with their
    own setting, so every stage below them (mining, evaluation, centering, training) follows it.

    Raises:
        ConfigError: An unknown precision.
    """
    check_choice(precision, PRECISIONS, "precision")
    token = _PRECISION_SCOPE.set(None if precision == "auto" else precision)
    try:
        yield
    finally:
        _PRECISION_SCOPE.reset(token)


def _precision_env() -> str | None:
    """``fp32``/``bf16`` from :func:`precision_scope` or else :data:`PRECISION_ENV`; None when neither is set (or
    ``auto``); ConfigError for anything else."""
    scoped = _PRECISION_SCOPE.get()
    if scoped is not None:
        return scoped
    env = os.environ.get(PRECISION_ENV, "").strip().lower()
    if env in ("", "auto"):
        return None
    if env not in ("fp32", "bf16"):
        raise ConfigError(
            f"{PRECISION_ENV} must be 'fp32', 'bf16' or 'auto', not {os.environ[PRECISION_ENV]!r}",
            hint=f"unset {PRECISION_ENV} or set it to one of those",
        )
    return env


def resolve_precision(precision: str, backend: str, *, cpuinfo: str | os.PathLike[str] = "/proc/cpuinfo") -> str:
    """``fp32`` or ``bf16`` for a requested encoding ``precision`` on ``backend``: explicit choices as they are;
    ``auto`` is the enclosing :func:`precision_scope`'s choice or ``$CROSSALIGN_PRECISION`` when either says
    ``fp32`` or ``bf16``, else ``bf16`` for OpenVINO on a CPU with native bf16 and ``fp32`` otherwise.

    Example:
        >>> resolve_precision("fp32", "openvino"), resolve_precision("auto", "torch")
        ('fp32', 'fp32')
    """
    _check_names(backend, precision)
    if precision != "auto":
        return precision
    env = _precision_env()
    if env is not None:
        return env
    return "bf16" if backend == "openvino" and cpu_has_bf16(cpuinfo) else "fp32"


def resolve_training_precision(
    precision: str, device: str | None = None, *, cpuinfo: str | os.PathLike[str] = "/proc/cpuinfo"
) -> str:
    """``fp32`` or ``bf16`` for training (bf16 = mixed precision: autocast forward, fp32 weights and optimizer
    state) on ``device``: explicit choices as they are; ``auto`` is the enclosing :func:`precision_scope`'s choice or
    ``$CROSSALIGN_PRECISION`` when either is set, else
    ``bf16`` on a CPU with native bf16 (:func:`cpu_has_bf16`) or a CUDA device that supports it, ``fp32`` otherwise.
    ``device`` None means the device training will use: CUDA when available, else the CPU.

    Raises:
        ConfigError: An unknown precision, or a bad ``$CROSSALIGN_PRECISION``.
    """
    check_choice(precision, PRECISIONS, "precision")
    if precision != "auto":
        return precision
    env = _precision_env()
    if env is not None:
        return env
    import torch

    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda"):
        return "bf16" if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else "fp32"
    return "bf16" if device == "cpu" and cpu_has_bf16(cpuinfo) else "fp32"


# ---------------------------------------------------------------------------------------------------------- OpenVINO
TransformerFn = Callable[[np.ndarray, np.ndarray], np.ndarray]
_COMPILED: weakref.WeakKeyDictionary[Any, dict[str, Any]] = weakref.WeakKeyDictionary()
"""model -> {"stamp", "fingerprint", "fns": {precision: TransformerFn}}."""
_FAILED: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()
"""model -> why its OpenVINO conversion failed (``auto`` does not try again)."""
_FELL_BACK: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()
"""models ``auto`` already logged a torch fallback for."""


def export_directory(fingerprint: str, cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """Where the OpenVINO IR of the model with ``fingerprint`` is cached."""
    from crossalign.utils.cache import cache_subdir

    return cache_subdir("openvino", cache_dir) / f"v{EXPORT_SCHEME}-{fingerprint[:32]}"


@contextlib.contextmanager
def _quiet_tracing() -> Iterator[None]:
    """Silence what tracing the transformer prints on the way (TracerWarnings about Python booleans, transformers'
    deprecation and config notices): they describe the trace, not a problem of the user's run. A failed conversion
    still raises."""
    import warnings

    from transformers.utils import logging as tf_logging

    level = tf_logging.get_verbosity()
    tf_logging.set_verbosity_error()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        tf_logging.set_verbosity(level)


def _export(auto_model: Any, directory: Path) -> Path:
    """Convert ``auto_model`` to OpenVINO IR in ``directory`` (once, built atomically; concurrent processes wait on a
    file lock), then delete the least recently used exports beyond :data:`MAX_EXPORTS`."""
    import openvino as ov
    import torch

    from crossalign.utils.atomic import atomic_directory, file_lock

    xml = directory / "model.xml"
    with file_lock(directory):
        if xml.is_file() and (directory / "model.bin").is_file():
            os.utime(directory)  # recently used: pruning keeps it
            return xml
        example = {name: torch.ones(2, 8, dtype=torch.long) for name in ("input_ids", "attention_mask")}
        was_training = auto_model.training
        auto_model.eval()
        try:  # a stale partial export is replaced
            with atomic_directory(directory, overwrite=True) as tmp, torch.no_grad(), _quiet_tracing():
                ov_model = ov.convert_model(auto_model, example_input=example)
                ov.save_model(ov_model, tmp / "model.xml", compress_to_fp16=False)
        except Exception as exc:  # tracing failures come in many types
            raise ModelError(
                f"the OpenVINO backend could not convert this model ({type(exc).__name__}: {exc})",
                hint="use backend 'torch'",
            ) from exc
        finally:
            auto_model.train(was_training)
    prune_exports(directory.parent, keep=MAX_EXPORTS)
    return xml


def prune_exports(root: str | os.PathLike[str], keep: int = MAX_EXPORTS) -> list[Path]:
    """Delete all but the ``keep`` most recently used exports under ``root`` (``<cache>/openvino``).

    Only complete export directories (``v<scheme>-<key>`` with a ``model.xml``; not the hidden ones an export is
    built in) count; a process still reading a
    deleted export is unaffected (its weights are already mapped). Returns the deleted directories.
    """
    import shutil

    base = Path(root)
    if not base.is_dir():
        return []
    exports = [d for d in base.iterdir() if d.is_dir() and not d.name.startswith(".") and (d / "model.xml").is_file()]
    exports.sort(key=lambda d: d.stat().st_mtime, reverse=True)
    removed = []
    for d in exports[max(keep, 1) :]:
        shutil.rmtree(d, ignore_errors=True)
        Path(str(d) + ".lock").unlink(missing_ok=True)
        removed.append(d)
    if removed:
        logger.info("OpenVINO cache: removed %d least recently used export(s)", len(removed))
    return removed


def _weights_stamp(module: Any) -> tuple[tuple[int, int], ...]:
    """Identity and in-place version of every parameter and buffer: changes whenever the weights do (optimizer
    steps and ``load_state_dict`` bump ``_version``; assigning ``.data`` changes the pointer), at no hashing cost."""
    return tuple((t.data_ptr(), t._version) for t in (*module.parameters(), *module.buffers()))


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
        fingerprint: The model's :func:`crossalign.models.model_fingerprint` (computed when None and the model has
            no compiled transformer for its current weights yet).
        cache_dir: The crossalign cache root.
        threads: CPU threads for inference (default: torch's thread count).

    Returns:
        A function of int64 ``[batch, seq]`` arrays returning float32 ``[batch, seq, hidden]``. Compiled models are
        kept per (model object, precision) for the life of the model object and reused while its weights are
        unchanged (parameter identity and in-place versions, see :func:`_weights_stamp`).

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
    stamp = _weights_stamp(auto_model)
    entry = _COMPILED.get(model)
    # Only the transformer runs in OpenVINO: while its weights are unchanged (same stamp) the compiled model stays
    # valid even when the model's fingerprint moves with a torch-side module (e.g. added LanguageCentering).
    if entry is None or entry["stamp"] != stamp:
        if fingerprint is None:
            from crossalign.models.loading import model_fingerprint

            fingerprint = model_fingerprint(model)
        entry = {"stamp": stamp, "fingerprint": fingerprint, "fns": {}}  # older weights' compiled models are stale
        _COMPILED[model] = entry
    if precision in entry["fns"]:
        return entry["fns"][precision]
    import openvino as ov

    xml = _export(auto_model, export_directory(entry["fingerprint"], cache_dir))
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

    entry["fns"][precision] = run
    logger.info("OpenVINO %s encoder compiled from %s", precision, xml)
    return run


def auto_openvino_transformer(
    model: Any,
    precision: str,
    *,
    fingerprint: str | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
) -> TransformerFn | None:
    """:func:`openvino_transformer` for ``backend="auto"``: None (after one log line, and without trying again for
    this model object) when the model cannot be converted, so the caller encodes with torch instead."""
    problem = openvino_problem(model)
    if problem is None:
        try:
            return openvino_transformer(model, precision, fingerprint=fingerprint, cache_dir=cache_dir)
        except ModelError as exc:
            problem = str(exc)
            if _weakrefable(model):
                _FAILED[model] = problem
    _fall_back(model, problem)
    return None


__all__ = [
    "BACKENDS",
    "BACKEND_ENV",
    "BF16_CPU_FLAGS",
    "MAX_EXPORTS",
    "PRECISIONS",
    "PRECISION_ENV",
    "auto_openvino_transformer",
    "check_backend",
    "cpu_flags",
    "cpu_has_bf16",
    "export_directory",
    "openvino_available",
    "openvino_problem",
    "openvino_transformer",
    "precision_scope",
    "prune_exports",
    "resolve_backend",
    "resolve_precision",
    "resolve_training_precision",
]
