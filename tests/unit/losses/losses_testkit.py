"""A tiny offline SentenceTransformer for the loss tests (no Hub access), shared with tests/distributed.

A 2-layer BERT (hidden 32) with a WordLevel tokenizer over the words ``w0 .. w199``, saved to a directory and loaded
through sentence-transformers' ``Transformer`` module (which, in v6, loads from a path: there is no in-memory
constructor), then ``Pooling(mean)`` and ``Normalize``. Dropout is off so two forwards give the same embeddings.
"""

from __future__ import annotations

import random
from pathlib import Path

import torch
from sentence_transformers import SentenceTransformer
from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
WORDS = [f"w{i}" for i in range(200)]


def save_tiny_model(directory: str | Path, seed: int = 0) -> Path:
    """Write a tiny BERT and its tokenizer to ``directory`` (deterministic for a seed)."""
    directory = Path(directory)
    vocab = {token: index for index, token in enumerate(SPECIAL + WORDS)}
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.Lowercase()
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B [SEP]",
        special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])],
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
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
    BertModel(config, add_pooling_layer=False).save_pretrained(directory)
    fast.save_pretrained(directory)
    return directory


def load_tiny_model(directory: str | Path) -> SentenceTransformer:
    """``SentenceTransformer([Transformer, Pooling(mean), Normalize])`` on CPU, in train mode."""
    transformer = Transformer(str(directory), max_seq_length=32, model_kwargs={"add_pooling_layer": False})
    pooling = Pooling(transformer.get_embedding_dimension(), pooling_mode="mean")
    model = SentenceTransformer(modules=[transformer, pooling, Normalize()], device="cpu")
    model.train()
    return model


def random_texts(n: int, rng: random.Random, min_words: int = 2, max_words: int = 7) -> list[str]:
    """``n`` distinct-ish texts of random words (different lengths, so padding is exercised)."""
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(min_words, max_words))) for _ in range(n)]


#: Parameters whose gradient is analytically zero: a key bias adds the same q·b to every key of a query, which the
#: attention softmax cancels.
ZERO_GRADIENT_PARAMETERS = ("attention.self.key.bias",)


def trainable_gradients(model: SentenceTransformer) -> dict[str, torch.Tensor]:
    """``{name: grad}`` for every parameter; asserts that each has a gradient and, except the analytically-zero ones,
    a non-zero one (so gradient comparisons are never vacuous)."""
    grads = {}
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None, f"{name} has no gradient"
        if not name.endswith(ZERO_GRADIENT_PARAMETERS):
            assert parameter.grad.abs().max() > 0, f"{name} has an all-zero gradient"
        grads[name] = parameter.grad.detach().clone()
    return grads


def make_features(model: SentenceTransformer, columns: dict[str, list[str]]) -> list[dict]:
    """One feature dict per column, in order, as the trainer's collator makes them (``model.preprocess``)."""
    return [model.preprocess(texts) for texts in columns.values()]


def embed(model: SentenceTransformer, features: list[dict]) -> list[torch.Tensor]:
    """The sentence embedding of each column, one forward per column."""
    return [model(dict(f))["sentence_embedding"] for f in features]
