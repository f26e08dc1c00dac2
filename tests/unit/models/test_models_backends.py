"""Encoding backends and precision: CPU-flag detection, option validation, the OpenVINO path on a tiny model."""

from __future__ import annotations

import numpy as np
import pytest

from crossalign.errors import ConfigError, ModelError
from crossalign.models import encode
from crossalign.models.backends import (
    PRECISION_ENV,
    check_backend,
    cpu_flags,
    cpu_has_bf16,
    export_directory,
    openvino_available,
    precision_scope,
    resolve_precision,
    resolve_training_precision,
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


def test_resolve_precision_auto(tmp_path, monkeypatch):
    monkeypatch.delenv(PRECISION_ENV, raising=False)  # the suite pins fp32 (tests/conftest.py)
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


def test_precision_environment_and_scope_decide_what_auto_means(tmp_path, monkeypatch):
    bf16, plain = tmp_path / "bf16", tmp_path / "plain"
    bf16.write_text(CPUINFO_BF16)
    plain.write_text(CPUINFO_PLAIN)
    monkeypatch.setenv(PRECISION_ENV, "fp32")
    assert resolve_precision("auto", "openvino", cpuinfo=bf16) == "fp32"
    assert resolve_training_precision("auto", cpuinfo=bf16) == "fp32"
    assert resolve_precision("bf16", "openvino", cpuinfo=bf16) == "bf16"  # explicit choices win over the switch
    with precision_scope("bf16"):  # a workflow's own setting wins over the environment
        assert resolve_precision("auto", "openvino", cpuinfo=plain) == "bf16"
        assert resolve_training_precision("auto", cpuinfo=plain) == "bf16"
        with precision_scope("auto"):  # no change of its own: the CPU decides again
            monkeypatch.delenv(PRECISION_ENV)
            assert resolve_precision("auto", "openvino", cpuinfo=plain) == "fp32"
        assert resolve_training_precision("fp32", cpuinfo=bf16) == "fp32"
    assert resolve_precision("auto", "openvino", cpuinfo=bf16) == "bf16"  # the scope ended; the env is unset
    monkeypatch.setenv(PRECISION_ENV, "fp16")
    with pytest.raises(ConfigError, match="CROSSALIGN_PRECISION must be"):
        resolve_precision("auto", "torch")
    with pytest.raises(ConfigError, match="precision must be one of"), precision_scope("int8"):
        pass


def test_training_precision_auto_follows_the_cpu(tmp_path, monkeypatch):
    monkeypatch.delenv(PRECISION_ENV, raising=False)
    bf16, plain = tmp_path / "bf16", tmp_path / "plain"
    bf16.write_text(CPUINFO_BF16)
    plain.write_text(CPUINFO_PLAIN)
    assert resolve_training_precision("auto", "cpu", cpuinfo=bf16) == "bf16"  # autocast gains in training
    assert resolve_training_precision("auto", "cpu", cpuinfo=plain) == "fp32"
    assert resolve_training_precision("auto", "mps", cpuinfo=bf16) == "fp32"
    assert resolve_training_precision("bf16", "cpu", cpuinfo=plain) == "bf16"
    with pytest.raises(ConfigError, match="precision must be one of"):
        resolve_training_precision("fp16")


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


def test_auto_backend_follows_the_environment_switch(monkeypatch):
    from crossalign.models.backends import BACKEND_ENV, resolve_backend

    monkeypatch.setenv(BACKEND_ENV, "torch")
    assert resolve_backend("auto") == "torch"
    assert resolve_backend("openvino" if openvino_available() else "torch") in ("openvino", "torch")  # explicit wins
    monkeypatch.setenv(BACKEND_ENV, "onnx")
    with pytest.raises(ConfigError, match="CROSSALIGN_BACKEND must be"):
        resolve_backend("auto")
    monkeypatch.delenv(BACKEND_ENV)
    assert resolve_backend("auto") == ("openvino" if openvino_available() else "torch")
    assert resolve_backend("torch") == "torch"


@pytest.mark.skipif(not openvino_available(), reason="openvino is not installed (extra crossalign[openvino])")
def test_auto_uses_openvino_fp32_and_follows_weight_changes(tiny_st_dir, tmp_path, monkeypatch):
    import torch
    from sentence_transformers import SentenceTransformer

    import crossalign.models.loading as loading
    from crossalign.models.backends import BACKEND_ENV

    monkeypatch.setenv("CROSSALIGN_CACHE", str(tmp_path))
    model = SentenceTransformer(str(tiny_st_dir), device="cpu")  # its own object: the test changes its weights
    ref = encode(model, TEXTS, prompt_name="query", backend="torch")
    monkeypatch.delenv(BACKEND_ENV)
    calls = []
    real = loading.model_fingerprint
    monkeypatch.setattr(loading, "model_fingerprint", lambda m: calls.append(1) or real(m))
    got = encode(model, TEXTS, prompt_name="query")  # the default: auto -> OpenVINO fp32
    np.testing.assert_allclose(got, ref, atol=1e-5)
    assert len(list((tmp_path / "openvino").glob("v*/model.xml"))) == 1  # it did go through OpenVINO
    encode(model, TEXTS, prompt_name="query")
    assert len(calls) == 1  # compiled once for these weights: no second fingerprint, no second export
    weight = next(p for n, p in model[0].auto_model.named_parameters() if n.endswith("dense.weight"))
    with torch.no_grad():
        weight.add_(torch.randn(weight.shape, generator=torch.Generator().manual_seed(0)))  # like an optimizer step
    ref2 = encode(model, TEXTS, prompt_name="query", backend="torch")
    got2 = encode(model, TEXTS, prompt_name="query")
    assert not np.allclose(ref2, ref, atol=1e-3)
    np.testing.assert_allclose(got2, ref2, atol=1e-5)  # not the stale compiled model
    assert len(list((tmp_path / "openvino").glob("v*/model.xml"))) == 2


@pytest.mark.skipif(not openvino_available(), reason="openvino is not installed (extra crossalign[openvino])")
def test_a_torch_side_module_does_not_reexport_the_transformer(tiny_st_dir, tmp_path, monkeypatch):
    """A module after the transformer (centering) is not what OpenVINO runs: while the transformer's weights are
    unchanged its compiled model is reused even when the caller's key for the model moves, and the vectors still
    equal torch's."""
    from sentence_transformers import SentenceTransformer

    from crossalign.models.backends import BACKEND_ENV
    from crossalign.models.centering import add_centering, estimate_language_means

    monkeypatch.setenv("CROSSALIGN_CACHE", str(tmp_path))
    monkeypatch.delenv(BACKEND_ENV)
    model = SentenceTransformer(str(tiny_st_dir), device="cpu")
    encode(model, TEXTS, fingerprint="a" * 64)
    add_centering(model, estimate_language_means(model, {"en": TEXTS}))
    got = encode(model, TEXTS, fingerprint="b" * 64)
    np.testing.assert_allclose(got, encode(model, TEXTS, backend="torch"), atol=1e-5)
    assert len(list((tmp_path / "openvino").glob("v*/model.xml"))) == 1


@pytest.mark.skipif(not openvino_available(), reason="openvino is not installed (extra crossalign[openvino])")
def test_auto_falls_back_to_torch_once_when_conversion_fails(tiny_st_dir, tmp_path, monkeypatch, caplog):
    from sentence_transformers import SentenceTransformer

    import crossalign.models.backends as backends

    monkeypatch.setenv("CROSSALIGN_CACHE", str(tmp_path))
    monkeypatch.delenv(backends.BACKEND_ENV)
    model = SentenceTransformer(str(tiny_st_dir), device="cpu")
    ref = encode(model, TEXTS, prompt_name="passage", backend="torch")
    tries = []

    def broken(auto_model, directory):
        tries.append(directory)
        raise ModelError("the OpenVINO backend could not convert this model (TracingError: unsupported op)")

    monkeypatch.setattr(backends, "_export", broken)
    with caplog.at_level("WARNING", logger="crossalign.models.backends"):
        got = encode(model, TEXTS, prompt_name="passage")
        again = encode(model, TEXTS, prompt_name="passage")
    np.testing.assert_array_equal(got, ref)  # torch's own vectors
    np.testing.assert_array_equal(again, ref)
    assert len(tries) == 1  # not tried again for the same model
    lines = [r.getMessage() for r in caplog.records if "instead of OpenVINO" in r.getMessage()]
    assert len(lines) == 1 and "unsupported op" in lines[0]
    with pytest.raises(ModelError, match="could not convert"):  # an explicit request still fails loudly
        encode(model, TEXTS, backend="openvino")


def test_auto_uses_torch_for_a_model_openvino_cannot_drive(monkeypatch):
    from crossalign.models.backends import BACKEND_ENV, resolve_backend

    class Plain:
        prompts = None

        def children(self):
            return iter(())

    monkeypatch.delenv(BACKEND_ENV)
    assert resolve_backend("auto", Plain()) == "torch"


def test_prune_exports_keeps_the_most_recently_used(tmp_path):
    import os

    from crossalign.models.backends import prune_exports

    for i in range(6):
        d = tmp_path / f"v1-{i:032d}"
        d.mkdir()
        (d / "model.xml").write_text("<xml/>")
        (tmp_path / f"v1-{i:032d}.lock").touch()
        os.utime(d, (1000 + i, 1000 + i))
    (tmp_path / "v1-partial.tmp-123").mkdir()  # an export in progress: never counted or removed
    removed = prune_exports(tmp_path, keep=4)
    assert sorted(d.name for d in removed) == [f"v1-{i:032d}" for i in (0, 1)]
    assert sorted(d.name for d in tmp_path.iterdir() if d.is_dir()) == [
        *(f"v1-{i:032d}" for i in (2, 3, 4, 5)),
        "v1-partial.tmp-123",
    ]
    assert not (tmp_path / f"v1-{0:032d}.lock").exists()


@pytest.mark.skipif(not openvino_available(), reason="openvino is not installed (extra crossalign[openvino])")
def test_conversion_does_not_print_tracing_warnings(tiny_st_dir, tmp_path, monkeypatch):
    """Tracing the transformer for OpenVINO warns about Python booleans in the trace; users see none of it, and the
    transformers verbosity is restored afterwards."""
    import warnings

    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as tf_logging

    monkeypatch.setenv("CROSSALIGN_CACHE", str(tmp_path))
    model = SentenceTransformer(str(tiny_st_dir), device="cpu")
    level = tf_logging.get_verbosity()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        encode(model, TEXTS, backend="openvino")
    assert len(list((tmp_path / "openvino").glob("v*/model.xml"))) == 1
    assert not [w for w in caught if "Tracer" in type(w.message).__name__ or "trace" in str(w.message)]
    assert tf_logging.get_verbosity() == level
