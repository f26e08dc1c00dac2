"""Encoding backends and precision: CPU-flag detection, option validation, the OpenVINO path on a tiny model."""

from __future__ import annotations

import numpy as np
import pytest

from crossalign.errors import ConfigError, ModelError
from crossalign.models import encode
from crossalign.models.backends import (
    check_backend,
    cpu_flags,
    cpu_has_bf16,
    export_directory,
    openvino_available,
    resolve_precision,
)

TEXTS = ["how to print labels", "Tabelle schützen", "a much longer passage about saving documents " * 3, ""]

CPUINFO_BF16 = "processor\t: 0\nflags\t\t: fpu sse avx2 avx512f avx512_bf16 avx512_vnni\n\nprocessor\t: 1\n"
CPUINFO_PLAIN = "processor\t: 0\nflags\t\t: fpu sse avx2 avx512f\n"


def test_cpu_flags_and_bf16_detection(tmp_path):
    bf16, plain = tmp_path / "bf16", tmp_path / "plain"
    bf16.write_text(CPUINFO_BF16)
    plain.write_text(CPUINFO_PLAIN)
    assert {"avx512_bf16", "avx2"} <= cpu_flags(bf16)
    assert cpu_has_bf16(bf16) is True
    assert cpu_has_bf16(plain) is False
    assert cpu_flags(tmp_path / "missing") == set()
    amx = tmp_path / "amx"
    amx.write_text("flags\t: amx_tile amx_bf16\n")
    assert cpu_has_bf16(amx) is True


def test_resolve_precision_auto(tmp_path):
    bf16, plain = tmp_path / "bf16", tmp_path / "plain"
    bf16.write_text(CPUINFO_BF16)
    plain.write_text(CPUINFO_PLAIN)
    assert resolve_precision("auto", "openvino", cpuinfo=bf16) == "bf16"
    assert resolve_precision("auto", "openvino", cpuinfo=plain) == "fp32"
    assert resolve_precision("auto", "torch", cpuinfo=bf16) == "fp32"  # autocast does not win on CPU
    assert resolve_precision("bf16", "torch", cpuinfo=plain) == "bf16"  # explicit choices are kept
    with pytest.raises(ConfigError, match="precision must be one of"):
        resolve_precision("fp16", "torch")
    with pytest.raises(ConfigError, match="backend must be one of"):
        resolve_precision("auto", "onnx")


def test_encode_validates_options_before_work(tiny_st):
    with pytest.raises(ConfigError, match="backend must be one of"):
        encode(tiny_st, TEXTS, backend="onnx")
    with pytest.raises(ConfigError, match="precision must be one of"):
        check_backend("torch", "int8")


def test_torch_bf16_autocast_is_close_to_fp32(tiny_st):
    ref = encode(tiny_st, TEXTS, prompt_name="query")
    got = encode(tiny_st, TEXTS, prompt_name="query", precision="bf16")
    assert got.dtype == np.float32 and got.shape == ref.shape
    cos = (got * ref).sum(axis=1)
    assert cos.min() > 0.99, cos  # bf16 rounding of a random 32-d model; the real-model gate is 0.9999
    assert not np.array_equal(got, ref)  # autocast did take effect


@pytest.mark.skipif(not openvino_available(), reason="openvino is not installed (extra crossalign[openvino])")
def test_openvino_fp32_matches_torch_and_export_is_cached(tiny_st, tmp_path, monkeypatch):
    from crossalign.models import model_fingerprint

    monkeypatch.setenv("CROSSALIGN_CACHE", str(tmp_path))
    fp = model_fingerprint(tiny_st)
    ref = encode(tiny_st, TEXTS, prompt_name="query")
    got = encode(tiny_st, TEXTS, prompt_name="query", backend="openvino", precision="fp32", fingerprint=fp)
    np.testing.assert_allclose(got, ref, atol=1e-5)
    xml = export_directory(fp) / "model.xml"
    assert xml.is_file() and xml.is_relative_to(tmp_path)
    stamp = xml.stat().st_mtime_ns
    windowed = encode(tiny_st, TEXTS, prompt_name="query", long_text="window")
    again = encode(tiny_st, TEXTS, prompt_name="query", backend="openvino", fingerprint=fp, long_text="window")
    np.testing.assert_allclose(again, windowed, atol=1e-5)
    assert xml.stat().st_mtime_ns == stamp  # reused, not exported again


@pytest.mark.skipif(not openvino_available(), reason="openvino is not installed (extra crossalign[openvino])")
def test_openvino_refuses_a_model_it_cannot_drive():
    class Plain:
        prompts = None

        def children(self):
            return iter(())

        def encode(self, texts, **kwargs):  # pragma: no cover - must not be reached
            raise AssertionError("the fallback path must not run for backend='openvino'")

    with pytest.raises(ModelError, match="backend='openvino' cannot be used"):
        encode(Plain(), ["x"], backend="openvino")
