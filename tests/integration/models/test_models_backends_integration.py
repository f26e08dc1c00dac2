"""The correctness gate of the fast encoding paths on the real built-in model: cosine >= 0.9999 to fp32."""

from __future__ import annotations

import numpy as np
import pytest

from crossalign.models import encode
from crossalign.models.backends import cpu_has_bf16, openvino_available

pytestmark = pytest.mark.integration

COSINE_GATE = 0.9999
TEXTS = [
    "How do I print address labels in Writer?",
    "Wie kann ich in Calc eine Tabelle schützen und den Schutz wieder aufheben?",
    "如何在演示文稿中插入图片并调整其大小？",
    "डेटा को क्रमबद्ध करने के लिए मेनू से डेटा चुनें।",
    "ចុចលើប៊ូតុងរក្សាទុក ដើម្បីរក្សាទុកឯកសាររបស់អ្នក។",
    "To print address labels, choose File - New - Labels, select the label format and click New Document. " * 6,
    "",
]


def _min_cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.sum(a.astype(np.float64) * b, axis=1).min())


@pytest.mark.skipif(not cpu_has_bf16(), reason="this CPU has no native bf16 (avx512_bf16 / amx_bf16)")
@pytest.mark.skipif(not openvino_available(), reason="openvino is not installed (extra crossalign[openvino])")
def test_openvino_bf16_meets_the_cosine_gate(e5_model, e5_cache, monkeypatch):
    monkeypatch.setenv("CROSSALIGN_CACHE", str(e5_cache))
    ref = encode(e5_model, TEXTS, prompt_name="passage", show_progress=False)
    fast = encode(e5_model, TEXTS, prompt_name="passage", backend="openvino", precision="auto", show_progress=False)
    assert not np.array_equal(fast, ref)  # bf16 arithmetic did run
    assert _min_cosine(fast, ref) >= COSINE_GATE
    exact = encode(e5_model, TEXTS, prompt_name="passage", backend="openvino", precision="fp32", show_progress=False)
    assert _min_cosine(exact, ref) >= 0.999999


@pytest.mark.skipif(not cpu_has_bf16(), reason="this CPU has no native bf16 (avx512_bf16 / amx_bf16)")
def test_torch_bf16_autocast_meets_the_cosine_gate(e5_model):
    ref = encode(e5_model, TEXTS, prompt_name="query", show_progress=False)
    got = encode(e5_model, TEXTS, prompt_name="query", precision="bf16", show_progress=False)
    assert not np.array_equal(got, ref)
    assert _min_cosine(got, ref) >= COSINE_GATE
