"""An embedding cache: every distinct (text, prompt) is encoded once per model, optionally persisted on disk.

Encoding dominates the cost of an evaluation, and the same texts recur: English documents appear in every language's
sets, the queries of the four directions are the same headings, a re-evaluation of the same model sees the same
corpus. :class:`EmbeddingCache` sits between the evaluators (and hard-negative mining,
:class:`crossalign.data.mining.TextEncoder`) and :func:`crossalign.models.encode` and makes each text cost once.

Keys
----
A vector is identified by ``(namespace, sha256(text))`` where the namespace hashes everything else that changes the
vector::

    namespace = sha256({"scheme": 1, "model": <model fingerprint>, "prompt": <prompt text>,
                        "long_text": "truncate" | "window", "max_seq_length": <int or null>, "normalize": true})

- The **model fingerprint** is :func:`crossalign.models.model_fingerprint` of the *loaded* model (configuration,
  prompts, tokenizer and every weight tensor in memory; once per cache), never the directory fingerprint of a
  built-in's manifest: so a model fine-tuned in memory has one too, and a directory and the model loaded from it get
  the same key.
- The **prompt text** (``"query: "``), not its name, so two prompt names with the same text share vectors (e5's
  ``"passage"`` and ``"document"``).
- The **encoding path**: ``"backend"`` and ``"precision"`` (:mod:`crossalign.models.backends`) join the namespace
  when they are anything but torch fp32, so OpenVINO (the default where it is installed) or bf16 vectors never
  answer for torch fp32 ones, nor the other way round.

On disk (``persist=True``) — ``<cache root>/embeddings/<namespace[:32]>/``:

- ``meta.json``: the namespace's inputs, human-readable;
- shards ``<id>.npy`` (float32 ``[n, dim]``) and their index ``<id>.keys.npy`` (uint8 ``[n, 32]``: the sha256 digest
  of each row's text). Each file is written atomically, vectors first; a shard counts only once its index exists and
  agrees in length, so an interrupted write leaves nothing a later run mistakes for complete. Shard ids are random:
  concurrent processes never write the same file (a text both encode is then stored twice, harmlessly).
- Shards are read memory-mapped, so a large persisted cache costs address space, not RAM.

Memory is bounded: vectors held in RAM are evicted least-recently-used beyond ``max_memory_bytes``; an evicted vector
is read back from disk when persisted, or encoded again when not (still correct, only slower).

Example:
    >>> from crossalign.models import load_model  # doctest: +SKIP
    >>> cache = EmbeddingCache(load_model("e5-small-q4"), persist=True)  # doctest: +SKIP
    >>> q = cache.encode(["Wie drucke ich?", "How do I print?"], "query")  # doctest: +SKIP
    >>> cache.encode(["How do I print?"], "query").shape, cache.stats.encoded  # doctest: +SKIP
    ((1, 384), 2)
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from crossalign.errors import ConfigError, DataFormatError, ModelError
from crossalign.utils.atomic import atomic_open, atomic_write_json
from crossalign.utils.checks import check_count

logger = logging.getLogger(__name__)

__all__ = ["KEY_SCHEME_VERSION", "CacheStats", "EmbeddingCache", "text_digest"]

#: Version of the key derivation; bump it to invalidate every persisted vector.
KEY_SCHEME_VERSION = 1
#: Default bound of the vectors kept in RAM (1 GiB ≈ 700k vectors of dimension 384).
DEFAULT_MAX_MEMORY_BYTES = 1 << 30

EncodeFn = Callable[..., np.ndarray]


def text_digest(text: str) -> bytes:
    """The 32-byte sha256 digest of a text's UTF-8 bytes (the per-row key)."""
    return hashlib.sha256(text.encode("utf-8")).digest()


@dataclass
class CacheStats:
    """Counters of an :class:`EmbeddingCache` (cumulative over its lifetime).

    Attributes:
        requested: Texts asked for, repeats included.
        distinct: Distinct (namespace, text) keys asked for, summed over calls.
        memory_hits: Distinct keys found in RAM.
        disk_hits: Distinct keys read from persisted shards.
        encoded: Texts run through the model (each distinct key at most once while it stays cached).
        encode_seconds: Wall time spent in the model.
        shards_written: Shards persisted by this cache.
    """

    requested: int = 0
    distinct: int = 0
    memory_hits: int = 0
    disk_hits: int = 0
    encoded: int = 0
    encode_seconds: float = 0.0
    shards_written: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready counters."""
        return asdict(self)


class _DiskNamespace:
    """The persisted shards of one namespace: an index digest -> (shard, row), shards memory-mapped on demand."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.index: dict[bytes, tuple[str, int]] = {}
        self._arrays: dict[str, np.ndarray] = {}
        self._scanned: set[str] = set()

    def scan(self) -> None:
        """Index shards not seen yet (complete ones only: the index file exists and matches the vectors)."""
        if not self.directory.is_dir():
            return
        for keys_path in sorted(self.directory.glob("*.keys.npy")):
            shard = keys_path.name[: -len(".keys.npy")]
            if shard in self._scanned:
                continue
            vec_path = self.directory / f"{shard}.npy"
            try:
                keys = np.load(keys_path)
                vecs = np.load(vec_path, mmap_mode="r")
            except (OSError, ValueError) as exc:
                logger.warning("ignoring unreadable embedding shard %s (%s)", vec_path, exc)
                self._scanned.add(shard)
                continue
            if keys.ndim != 2 or keys.shape[1] != 32 or vecs.ndim != 2 or vecs.shape[0] != keys.shape[0]:
                logger.warning("ignoring inconsistent embedding shard %s", vec_path)
                self._scanned.add(shard)
                continue
            self._arrays[shard] = vecs
            for row, key in enumerate(keys):
                self.index.setdefault(key.tobytes(), (shard, row))
            self._scanned.add(shard)

    def get(self, key: bytes) -> np.ndarray | None:
        loc = self.index.get(key)
        if loc is None:
            return None
        shard, row = loc
        return np.array(self._arrays[shard][row], dtype=np.float32)

    def write(self, keys: Sequence[bytes], vectors: np.ndarray) -> str:
        """Persist one shard atomically (vectors, then the index that makes it visible)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        shard = f"{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:12]}"
        key_arr = np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(len(keys), 32)
        with atomic_open(self.directory / f"{shard}.npy", "wb", encoding=None) as fh:
            np.save(fh, np.ascontiguousarray(vectors, dtype=np.float32))
        with atomic_open(self.directory / f"{shard}.keys.npy", "wb", encoding=None) as fh:
            np.save(fh, key_arr)
        self._arrays[shard] = np.load(self.directory / f"{shard}.npy", mmap_mode="r")
        for row, key in enumerate(keys):
            self.index.setdefault(key, (shard, row))
        self._scanned.add(shard)
        return shard


class EmbeddingCache:
    """Encode texts through a model, each distinct (text, prompt) once; optionally persisted on disk.

    Args:
        model: A loaded SentenceTransformer (or any object :func:`crossalign.models.encode` accepts, e.g. a test
            double with ``encode(texts, prompt=..., ...)`` and ``prompts``).
        fingerprint: The model's key. Default: :func:`crossalign.models.model_fingerprint` of the loaded model
            (hashes its weights). Pass one to skip that (e.g. a model whose fingerprint you already have).
        batch_size: Model inputs per forward pass.
        long_text: ``"truncate"`` or ``"window"`` (see :func:`crossalign.models.encode`); part of the key.
        persist: Keep vectors on disk under ``<cache root>/embeddings`` so a later run with the same model is
            instant.
        cache_dir: The crossalign cache root (default ``$CROSSALIGN_CACHE`` or ``~/.cache/crossalign``).
        max_memory_bytes: Bound of the vectors kept in RAM (least recently used are dropped beyond it).
        encode_fn: The encoding function (default :func:`crossalign.models.encode`), called as
            ``encode_fn(model, texts, prompt_name=..., batch_size=..., long_text=..., normalize=True)``, plus
            ``backend=..., precision=..., fingerprint=..., cache_dir=...`` on a non-default path.
        precision: ``"fp32"``, ``"bf16"`` or ``"auto"`` (default: bf16 on OpenVINO where the CPU has native bf16,
            else fp32; :func:`crossalign.models.backends.resolve_precision`); resolved once here.
        backend: ``"torch"``, ``"openvino"`` or ``"auto"`` (default: OpenVINO when installed and the model can be
            converted, else torch; see :func:`crossalign.models.backends.resolve_backend`); resolved here, and
            ``auto`` falls back to torch (one log line) if the conversion fails at the first encode. A path other
            than fp32 torch is part of the key (its vectors differ in the last digits). :meth:`transient` caches
            default to torch.

    Raises:
        ConfigError: ``persist=True`` without a fingerprint for a model that cannot be fingerprinted, a bad
            ``batch_size`` or ``max_memory_bytes``.
        CacheError: The cache directory is not writable.

    Example:
        >>> cache = EmbeddingCache(model)  # doctest: +SKIP
        >>> vecs = cache.encode(["a", "b", "a"], "query")  # "a" is encoded once  # doctest: +SKIP
    """

    def __init__(
        self,
        model: Any,
        *,
        fingerprint: str | None = None,
        batch_size: int = 32,
        long_text: str = "truncate",
        persist: bool = False,
        cache_dir: str | os.PathLike[str] | None = None,
        max_memory_bytes: int = DEFAULT_MAX_MEMORY_BYTES,
        encode_fn: EncodeFn | None = None,
        precision: str = "auto",
        backend: str = "auto",
    ) -> None:
        check_count(batch_size, "batch_size", minimum=1, optional=False)
        if not isinstance(max_memory_bytes, int) or max_memory_bytes < 0:
            raise ConfigError(f"max_memory_bytes must be a non-negative integer, not {max_memory_bytes!r}")
        if long_text not in ("truncate", "window"):
            raise ConfigError(f"long_text must be 'truncate' or 'window', not {long_text!r}")
        from crossalign.models.backends import check_backend, resolve_backend, resolve_precision

        check_backend(backend, precision)
        self._requested = (backend, precision)
        self.backend = resolve_backend(backend, model)
        self.precision = resolve_precision(precision, self.backend)
        self.model = model
        self._cache_dir = cache_dir
        self.batch_size = batch_size
        self.long_text = long_text
        self.persist = persist
        self.max_memory_bytes = max_memory_bytes
        self._encode_fn = encode_fn
        if fingerprint is None:
            fingerprint = self._fingerprint(model, persist)
        self.fingerprint = str(fingerprint)
        self.max_seq_length = _max_seq_length(model)
        self.stats = CacheStats()
        self._memory: OrderedDict[tuple[str, bytes], np.ndarray] = OrderedDict()
        self._memory_bytes = 0
        self._disk: dict[str, _DiskNamespace] = {}
        self._root: Path | None = None
        if persist:
            from crossalign.utils.cache import cache_subdir

            self._root = cache_subdir("embeddings", cache_dir)
        self.dim: int | None = None

    @classmethod
    def transient(cls, model: Any, **kwargs: Any) -> EmbeddingCache:
        """An in-memory cache for one use (no fingerprint computed, nothing persisted), e.g. inside a training
        evaluator where the weights change between calls.

        Args:
            model: The model.
            **kwargs: Other :class:`EmbeddingCache` arguments (``persist`` and ``fingerprint`` are fixed;
                ``backend`` defaults to ``"torch"``: with weights that change between calls, an OpenVINO
                conversion per call would cost more than it saves on a dev set).
        """
        kwargs.pop("persist", None)
        kwargs.pop("fingerprint", None)
        kwargs.setdefault("backend", "torch")
        return cls(model, fingerprint=f"transient-{id(model):x}", persist=False, **kwargs)

    @staticmethod
    def _fingerprint(model: Any, persist: bool) -> str:
        from crossalign.models import model_fingerprint

        try:
            return model_fingerprint(model)
        except ModelError:
            if persist:
                raise ConfigError(
                    f"cannot fingerprint a {type(model).__name__} to key persisted embeddings",
                    hint="pass fingerprint=... or persist=False",
                ) from None
            return f"transient-{id(model):x}"

    # ------------------------------------------------------------------------------------------------------ keys
    def prompt_text(self, prompt_name: str | None) -> str:
        """The prefix the model's configuration gives ``prompt_name`` (``""`` when it has none)."""
        from crossalign.models.encoder import resolve_prompt

        return resolve_prompt(self.model, prompt_name)

    def namespace(self, prompt_name: str | None) -> str:
        """The key of everything but the text for ``prompt_name`` (64 hex digits; see the module docs)."""
        return hashlib.sha256(json.dumps(self._namespace_inputs(prompt_name), sort_keys=True).encode()).hexdigest()

    def _namespace_inputs(self, prompt_name: str | None) -> dict[str, Any]:
        return {
            "scheme": KEY_SCHEME_VERSION,
            "model": self.fingerprint,
            "prompt": self.prompt_text(prompt_name),
            "long_text": self.long_text,
            "max_seq_length": self.max_seq_length,
            "normalize": True,
            # Only a non-default path changes the key, so fp32 torch vectors cached before these options still match.
            **({} if self._default_path else {"backend": self.backend, "precision": self.precision}),
        }

    @property
    def _default_path(self) -> bool:
        return (self.backend, self.precision) == ("torch", "fp32")

    def _disk_namespace(self, ns: str, prompt_name: str | None) -> _DiskNamespace | None:
        if self._root is None:
            return None
        disk = self._disk.get(ns)
        if disk is None:
            disk = _DiskNamespace(self._root / ns[:32])
            disk.scan()
            self._disk[ns] = disk
            meta = disk.directory / "meta.json"
            if not meta.is_file():
                disk.directory.mkdir(parents=True, exist_ok=True)
                atomic_write_json(meta, {**self._namespace_inputs(prompt_name), "namespace": ns})
        return disk

    # ---------------------------------------------------------------------------------------------------- memory
    def _remember(self, key: tuple[str, bytes], vec: np.ndarray) -> None:
        if key in self._memory:
            self._memory.move_to_end(key)
            return
        self._memory[key] = vec
        self._memory_bytes += vec.nbytes
        while self._memory_bytes > self.max_memory_bytes and self._memory:
            _, old = self._memory.popitem(last=False)
            self._memory_bytes -= old.nbytes

    def __len__(self) -> int:
        """Vectors held in RAM."""
        return len(self._memory)

    @property
    def memory_bytes(self) -> int:
        """Bytes of the vectors held in RAM."""
        return self._memory_bytes

    def clear(self) -> None:
        """Drop the vectors held in RAM (persisted shards stay)."""
        self._memory.clear()
        self._memory_bytes = 0

    # ---------------------------------------------------------------------------------------------------- encode
    def encode(
        self, texts: Sequence[str], prompt_name: str | None, langs: str | Sequence[str] | None = None
    ) -> np.ndarray:
        """L2-normalised float32 embeddings ``[len(texts), dim]`` in input order, encoding only what no cache has.

        Args:
            texts: The texts (repeats are fine: each distinct one is looked up or encoded once).
            prompt_name: ``"query"``, ``"passage"``, ``"document"``, another key of the model's prompts, or None.
            langs: The texts' language (one, or one per text). When the model has a
                :class:`~crossalign.models.centering.LanguageCentering` module, the returned vectors are centered
                on their language's mean; the cache itself keeps the uncentered vectors.

        Returns:
            float32 array, one row per text.

        Raises:
            DataFormatError: A text is not a string, or the model changed its output dimension.
        """
        items = list(texts)
        for i, t in enumerate(items):
            if not isinstance(t, str):
                raise DataFormatError(f"expected a string, got {type(t).__name__}", line=i + 1, field="text")
        ns = self.namespace(prompt_name)
        digests = [text_digest(t) for t in items]
        self.stats.requested += len(items)
        unique: dict[bytes, int] = {}
        for i, d in enumerate(digests):
            unique.setdefault(d, i)
        self.stats.distinct += len(unique)
        found: dict[bytes, np.ndarray] = {}
        missing: list[bytes] = []
        disk = None
        for d in unique:
            vec = self._memory.get((ns, d))
            if vec is not None:
                self._memory.move_to_end((ns, d))
                found[d] = vec
                self.stats.memory_hits += 1
                continue
            if disk is None:
                disk = self._disk_namespace(ns, prompt_name)
            got = disk.get(d) if disk is not None else None
            if got is not None:
                found[d] = got
                self._remember((ns, d), got)
                self.stats.disk_hits += 1
            else:
                missing.append(d)
        if missing:
            new = self._run_model([items[unique[d]] for d in missing], prompt_name)
            if self.namespace(prompt_name) != ns:  # auto fell back to torch: store under the path that encoded
                ns = self.namespace(prompt_name)
                disk = self._disk_namespace(ns, prompt_name)
            for d, vec in zip(missing, new):
                found[d] = vec
                self._remember((ns, d), vec)
            if disk is not None:
                disk.write(missing, new)
                self.stats.shards_written += 1
        if not items:
            return np.zeros((0, self.dim or 0), dtype=np.float32)
        out = np.stack([found[d] for d in digests]).astype(np.float32, copy=False)
        self._check_dim(out.shape[1])
        if langs is not None:
            from crossalign.models.centering import apply_centering

            out = apply_centering(self.model, out, langs, prompt_name)
        return out

    def _check_dim(self, dim: int) -> None:
        if self.dim is None:
            self.dim = dim
        elif dim != self.dim:
            raise DataFormatError(
                f"the encoder returned dimension {dim}, earlier vectors have {self.dim}",
                field="embeddings",
                hint="use one EmbeddingCache per model",
            )

    def _run_model(self, texts: list[str], prompt_name: str | None) -> np.ndarray:
        fn = self._encode_fn
        if fn is None:
            from crossalign.models.encoder import encode as fn
        t0 = time.perf_counter()
        if self._requested[0] == "auto" and self.backend == "openvino" and self._encode_fn is None:
            from crossalign.models.backends import auto_openvino_transformer, resolve_precision

            fingerprint = None if self.fingerprint.startswith("transient-") else self.fingerprint
            if (
                auto_openvino_transformer(
                    self.model, self.precision, fingerprint=fingerprint, cache_dir=self._cache_dir
                )
                is None
            ):
                self.backend, self.precision = "torch", resolve_precision(self._requested[1], "torch")
        vecs = fn(
            self.model,
            texts,
            prompt_name=prompt_name,
            batch_size=self.batch_size,
            long_text=self.long_text,
            normalize=True,
            **(
                {}
                if self._default_path
                else {
                    "backend": self.backend,
                    "precision": self.precision,
                    "fingerprint": None if self.fingerprint.startswith("transient-") else self.fingerprint,
                    "cache_dir": self._cache_dir,
                }
            ),
        )
        self.stats.encode_seconds += time.perf_counter() - t0
        arr = np.asarray(vecs, dtype=np.float32)
        if arr.ndim != 2 or arr.shape[0] != len(texts):
            raise DataFormatError(f"the encoder returned shape {arr.shape} for {len(texts)} texts", field="embeddings")
        if not np.isfinite(arr).all():
            raise DataFormatError("the encoder returned NaN or infinite values", field="embeddings")
        self._check_dim(arr.shape[1])
        self.stats.encoded += len(texts)
        return arr

    def describe(self) -> dict[str, Any]:
        """JSON-ready description: key inputs, persistence and counters."""
        return {
            "fingerprint": self.fingerprint,
            "key_scheme": KEY_SCHEME_VERSION,
            "fingerprint_scheme": "loaded-model (crossalign.models.model_fingerprint of the in-memory module)",
            "long_text": self.long_text,
            "max_seq_length": self.max_seq_length,
            "batch_size": self.batch_size,
            "backend": self.backend,
            "precision": self.precision,
            "persist": self.persist,
            "directory": None if self._root is None else str(self._root),
            "stats": self.stats.to_dict(),
        }


def _max_seq_length(model: Any) -> int | None:
    value = getattr(model, "max_seq_length", None)
    try:
        return None if value is None else int(value)
    except (TypeError, ValueError):
        return None
