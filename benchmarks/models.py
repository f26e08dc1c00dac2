"""The models the benchmarks run on: the embedded ``e5-small-q4``, or a tiny BERT built from a config (smoke test)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

TINY_CONFIG = {
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "intermediate_size": 64,
    "max_position_embeddings": 128,
}
_SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def _tiny_tokenizer(directory: Path) -> Any:
    """A fast WordPiece tokenizer over single characters (every script splits into known or ``[UNK]`` pieces)."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
    from transformers import BertTokenizerFast

    chars = sorted(set("abcdefghijklmnopqrstuvwxyzäöüßABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:.,-"))
    vocab = {tok: i for i, tok in enumerate(_SPECIALS + chars + [f"##{c}" for c in chars])}
    tok = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]", max_input_chars_per_word=100))
    tok.normalizer = normalizers.BertNormalizer(lowercase=False)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B [SEP]",
        special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])],
    )
    fast = BertTokenizerFast(
        tokenizer_object=tok,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        model_max_length=TINY_CONFIG["max_position_embeddings"],
    )
    fast.save_pretrained(directory)
    return fast


def tiny_model(max_seq_length: int = 64) -> Any:
    """A randomly initialised 2-layer, 32-dimensional BERT as a SentenceTransformer (mean pooling, normalised).

    Built offline in a temporary directory in about a second; prompts ``query: `` / ``passage: `` as the E5 models.
    """
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.base.modules import Normalize, Transformer
    from sentence_transformers.sentence_transformer.modules import Pooling
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    directory = Path(tempfile.mkdtemp(prefix="crossalign-bench-tiny-"))
    tokenizer = _tiny_tokenizer(directory)
    config = BertConfig(vocab_size=len(tokenizer), **TINY_CONFIG)
    BertModel(config).save_pretrained(directory)
    transformer = Transformer(str(directory))
    model = SentenceTransformer(
        modules=[transformer, Pooling(TINY_CONFIG["hidden_size"], "mean"), Normalize()],
        device="cpu",
        prompts={"query": "query: ", "passage": "passage: "},
    )
    model.max_seq_length = min(max_seq_length, TINY_CONFIG["max_position_embeddings"])
    return model


def bench_model(*, tiny: bool, max_seq_length: int | None = None) -> Any:
    """The benchmark model on CPU: ``e5-small-q4`` (or the tiny BERT), with ``max_seq_length`` set when given."""
    if tiny:
        return tiny_model(max_seq_length or 64)
    from crossalign.models.loading import load_model

    model = load_model("e5-small-q4", device="cpu")
    if max_seq_length is not None:
        model.max_seq_length = max_seq_length
    return model


def freeze_word_embeddings(model: Any) -> int:
    """Freeze the word-embedding matrix (250k × 384 for E5: its dense gradient and AdamW update would dominate a CPU
    step and hide the losses' own cost). Returns the number of parameters still trained."""
    auto = model[0].auto_model
    auto.get_input_embeddings().weight.requires_grad_(False)
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def encoder_shape(model: Any) -> dict[str, int]:
    """Layers, hidden size, FFN size of the transformer (for FLOP counts)."""
    cfg = model[0].auto_model.config
    return {"layers": cfg.num_hidden_layers, "hidden": cfg.hidden_size, "ffn": cfg.intermediate_size}


def encoder_flops(token_counts: list[int], shape: dict[str, int]) -> float:
    """Forward FLOPs (multiply-add = 2) of the transformer layers for sequences of the given real lengths.

    Per layer and sequence of ``n`` tokens: Q, K, V, output projections ``8·n·d²``, feed-forward ``4·n·d·f``,
    attention scores and weighted sum ``4·n²·d``. Padding is not counted: these are the useful FLOPs.
    """
    d, f, layers = shape["hidden"], shape["ffn"], shape["layers"]
    total = 0.0
    for n in token_counts:
        total += 8.0 * n * d * d + 4.0 * n * d * f + 4.0 * n * n * d
    return total * layers
