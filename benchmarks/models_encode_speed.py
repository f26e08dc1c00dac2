"""Encode speed of crossalign.models.encode vs SentenceTransformer.encode on the built-in model (CPU).

Texts: translated UI strings from the gettext catalogs installed on the machine (short sentences, 100+ languages)
and paragraphs made of 8-15 strings of one catalog each. Usage::

    PYTHONPATH=src python benchmarks/models_encode_speed.py [--threads 2] [--n-short 1000] [--n-para 300]
"""

from __future__ import annotations

import argparse
import gettext
import glob
import random
import time

import numpy as np


def catalogs() -> list[list[str]]:
    out = []
    for mo in sorted(glob.glob("/usr/share/locale/*/LC_MESSAGES/*.mo")):
        try:
            with open(mo, "rb") as fh:
                strings = [v for v in gettext.GNUTranslations(fh)._catalog.values() if isinstance(v, str) and v]
        except Exception:
            continue
        if len(strings) >= 20:
            out.append(strings)
    return out


def build_texts(n_short: int, n_para: int, seed: int = 0) -> tuple[list[str], list[str]]:
    rng = random.Random(seed)
    cats = catalogs()
    if not cats:
        words = ["alpha", "beta", "gamma", "Straße", "数据", "डेटा", "ข้อมูล", "données"]
        cats = [[" ".join(rng.choices(words, k=rng.randint(3, 12))) for _ in range(200)]]
    pool = [s for c in cats for s in c if 10 <= len(s) <= 200]
    short = rng.sample(pool, min(n_short, len(pool)))
    paras = []
    for _ in range(n_para):
        cat = rng.choice(cats)
        paras.append(" ".join(rng.sample(cat, min(len(cat), rng.randint(8, 15)))))
    return short, paras


def bench(fn, texts, repeats: int = 2) -> float:
    fn(texts[:64])  # warm-up
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn(texts)
        best = min(best, time.perf_counter() - t0)
    return len(texts) / best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--n-short", type=int, default=1000)
    ap.add_argument("--n-para", type=int, default=300)
    ap.add_argument("--cache-dir", default=None)
    args = ap.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    from crossalign.models import encode, load_model

    model = load_model("e5-small-q4", cache_dir=args.cache_dir, device="cpu")
    short, paras = build_texts(args.n_short, args.n_para)
    mixed = short[: len(short) // 2] + paras[: len(paras) // 2]
    random.Random(1).shuffle(mixed)
    tok = model.tokenizer
    for name, texts in (("short sentences", short), ("paragraphs", paras), ("mixed", mixed)):
        lens = [len(x) for x in tok(["passage: " + t for t in texts], truncation=True)["input_ids"]]
        ours = bench(lambda t: encode(model, t, prompt_name="passage", show_progress=False, backend="torch"), texts)
        st = bench(lambda t: model.encode(t, prompt_name="passage", batch_size=32, show_progress_bar=False), texts)
        a = encode(model, texts[:50], prompt_name="passage", backend="torch")
        b = model.encode(texts[:50], prompt_name="passage")
        diff = float(np.abs(a - b).max())
        print(
            f"{name:16s} n={len(texts):5d} tokens median {int(np.median(lens)):4d} max {max(lens):4d} | "
            f"crossalign.encode {ours:7.1f} texts/s | SentenceTransformer.encode {st:7.1f} texts/s | "
            f"speed-up {ours / st:4.2f}x | max |diff| {diff:.1e}"
        )


if __name__ == "__main__":
    main()
