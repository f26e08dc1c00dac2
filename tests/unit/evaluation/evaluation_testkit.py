"""Test doubles for the evaluation layer: a fake encoder with chosen vectors and a tiny offline SentenceTransformer.

- :class:`FakeModel` maps each text to a vector you choose (``vectors={"text": [...]}``) or, for other texts, to a
  deterministic pseudo-random unit vector; it records every text it encodes, so tests can assert that a text was
  encoded exactly once. :func:`crossalign.models.encode` drives it through its ``encode(texts, prompt=...)`` fallback
  (it has no transformer modules), so the real code path from the evaluators down is exercised.
- :func:`save_tiny_st_model` writes a 2-layer BERT (hidden 32) sentence-transformers directory with e5-style prompts,
  built from a ``BertConfig`` and a WordLevel tokenizer over ``w0 .. w199``: a real model for the CLI and the
  sentence-transformers evaluator tests, in well under a second.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

WORDS = [f"w{i}" for i in range(200)]
PROMPTS = {"query": "query: ", "passage": "passage: ", "document": "passage: "}


class FakeModel:
    """A stand-in for a SentenceTransformer: ``encode(texts, prompt=...)`` returns chosen or hashed unit vectors.

    Args:
        vectors: Text (without prompt) -> vector; texts not listed get a pseudo-random unit vector.
        dim: Dimension of the vectors.
        prompts: The prompt table (as ``SentenceTransformer.prompts``).
        prompt_sensitive: When True, the prompt changes the vector of unlisted texts (hashes prompt + text).
    """

    def __init__(
        self,
        vectors: Mapping[str, Sequence[float]] | None = None,
        *,
        dim: int = 8,
        prompts: Mapping[str, str] | None = None,
        prompt_sensitive: bool = True,
    ) -> None:
        self.vectors = {k: np.asarray(v, dtype=np.float32) for k, v in (vectors or {}).items()}
        self.dim = dim if not self.vectors else len(next(iter(self.vectors.values())))
        self.prompts = dict(PROMPTS if prompts is None else prompts)
        self.prompt_sensitive = prompt_sensitive
        self.calls: list[tuple[str, list[str]]] = []
        self.max_seq_length = 64

    def get_embedding_dimension(self) -> int:
        return self.dim

    def _vector(self, text: str, prompt: str) -> np.ndarray:
        if text in self.vectors:
            return self.vectors[text]
        seed = hashlib.sha256(((prompt if self.prompt_sensitive else "") + "\0" + text).encode()).digest()
        v = np.random.default_rng(int.from_bytes(seed[:8], "big")).standard_normal(self.dim).astype(np.float32)
        return v

    def encode(self, texts: Sequence[str], prompt: str | None = None, **kwargs: object) -> np.ndarray:
        prompt = prompt or ""
        self.calls.append((prompt, list(texts)))
        out = np.stack([self._vector(t, prompt) for t in texts]).astype(np.float32)
        if kwargs.get("normalize_embeddings", True):
            out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        return out

    @property
    def encoded_texts(self) -> list[tuple[str, str]]:
        """Every (prompt, text) the model has encoded, in order, repeats included."""
        return [(p, t) for p, texts in self.calls for t in texts]


def unit(*values: float) -> list[float]:
    """A unit vector with the given direction."""
    v = np.asarray(values, dtype=np.float64)
    return (v / np.linalg.norm(v)).tolist()


def save_tiny_st_model(directory: str | Path, seed: int = 0) -> Path:
    """Write a tiny sentence-transformers model (BERT from a BertConfig, mean pooling, normalize, e5 prompts)."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    directory = Path(directory)
    raw = directory.parent / f"{directory.name}-raw"
    special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    vocab = {token: i for i, token in enumerate(special + WORDS)}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B [SEP]",
        special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])],
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        model_max_length=32,
    )
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
    )
    BertModel(config).save_pretrained(raw)  # with its pooler: loading then initialises nothing at random
    fast.save_pretrained(raw)
    transformer = Transformer(str(raw), max_seq_length=32)
    pooling = Pooling(transformer.get_embedding_dimension(), pooling_mode="mean")
    model = SentenceTransformer(
        modules=[transformer, pooling, Normalize()], device="cpu", prompts={"query": "query: ", "passage": "passage: "}
    )
    model.save(str(directory))
    return directory


def word_text(i: int, n: int = 5) -> str:
    """A deterministic text of ``n`` vocabulary words (distinct for distinct ``i``)."""
    rng = np.random.default_rng(i)
    return " ".join(WORDS[j] for j in rng.integers(0, len(WORDS), n))


# ---------------------------------------------------------------------------------------------- synthetic corpus
def split_pages(split: str, n: int, prefix: str = "text/synthetic/page") -> list[str]:
    """``n`` page paths that the default :class:`~crossalign.data.splits.SplitSpec` puts in ``split``."""
    from crossalign.data.splits import SplitSpec, assign_split

    spec = SplitSpec()
    out, i = [], 0
    while len(out) < n:
        page = f"{prefix}{i:04d}.html"
        if assign_split(page, spec) == split:
            out.append(page)
        i += 1
    return out


class FakeCorpus:
    """Just enough of :class:`~crossalign.data.libreoffice.LibreOfficeCorpus` for the eval-set builder.

    ``langs`` besides English; every page has ``sections_per_page`` sections and ``paragraphs_per_page`` paragraphs
    in every language, with texts made of vocabulary words (so the tiny model gives them distinct vectors).
    """

    def __init__(
        self, langs=("de", "km"), *, test_pages: int = 4, train_pages: int = 4, sections_per_page: int = 3,
        paragraphs_per_page: int = 4,
    ) -> None:  # fmt: skip
        from crossalign.data.libreoffice.align import SectionRecord
        from crossalign.data.records import ParallelTuple

        self.langs = ["en", *langs]
        pages = split_pages("test", test_pages) + split_pages("train", train_pages)
        self._sections = []
        self._paragraphs = []
        k = 0
        for p in pages:
            for s in range(sections_per_page):
                k += 1
                self._sections.append(
                    SectionRecord(
                        id=f"{p}#hd_{s}/section",
                        page=p,
                        element_id=f"hd_{s}",
                        level=2,
                        paragraph_ids=(f"par_{s}",),
                        headings={lg: f"{word_text(k, 2)} {lg}" for lg in self.langs},
                        bodies={lg: f"{word_text(1000 + k, 8)} {lg}" for lg in self.langs},
                        titles={lg: f"title {p[-9:-5]} {lg}" for lg in self.langs},
                    )
                )
            for j in range(paragraphs_per_page):
                k += 1
                self._paragraphs.append(
                    ParallelTuple(
                        f"{p}#par_{j}", {lg: f"{word_text(2000 + k, 6)} {lg}" for lg in self.langs}, {"page": p}
                    )
                )

    def sections(self, langs=None, *, min_words: int = 4, **_: object):
        return [s for s in self._sections if len(s.bodies["en"].split()) >= min_words]

    def parallel(self, kinds="paragraph", *, langs=None, min_words: int = 4, **_: object):
        from crossalign.data.records import ParallelCorpus

        return ParallelCorpus(self._paragraphs, name="fake", validate=False)

    def provenance(self) -> dict:
        return {
            "corpus": "libreoffice-help (synthetic)",
            "license": "MPL-2.0",
            "packages": {lg: {"package": f"fake-{lg}", "version": "1.0"} for lg in self.langs},
            "parser_version": 0,
            "rules": {},
        }
