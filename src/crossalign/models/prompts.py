"""Query and passage prompts: what a model is fed in front of its texts, and where that came from.

Many embedding models are trained with a prefix on every input and lose accuracy without it: E5 expects
``"query: "`` / ``"passage: "``, multilingual-e5-*-instruct an instruction line before each query. A
sentence-transformers directory records its prompts in ``config_sentence_transformers.json``; a plain transformers
snapshot does not, and would silently run without them. :func:`apply_prompts` decides, in this order:

1. an explicit prompt (``--query-prompt`` / ``--passage-prompt``, ``""`` meaning none) wins for its side;
2. else the model's own prompts (``query``; ``passage``, or sentence-transformers' ``document``);
3. else the prompts of the model's family in :data:`PROMPT_FAMILIES`, matched on the model's names (the spec, the
   directory's folder names, ``config.json``'s ``_name_or_path``, the model card's base model);
4. else none.

The choice is returned as a :class:`PromptChoice` (recorded in ``results.json`` ``model.prompt_choice``, the build
manifest and ``train_summary.json``), one line describing it goes to the log, and an E5-like model that would run
without a query prompt gets a warning.

Example:
    >>> family_of(["intfloat/multilingual-e5-base"]).query
    'query: '
    >>> family_of(["BAAI/bge-m3"]).query
    ''
    >>> family_of(["my-own-model"]) is None
    True
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from crossalign.utils.atomic import read_json_object

__all__ = [
    "PROMPT_FAMILIES",
    "PromptChoice",
    "PromptFamily",
    "apply_prompts",
    "choose_prompts",
    "family_of",
    "model_names",
]

#: The instruction multilingual-e5-*-instruct's model card gives for web-search-style retrieval.
E5_INSTRUCT_QUERY = "Instruct: Given a web search query, retrieve relevant passages that answer the query\nQuery: "


@dataclass(frozen=True)
class PromptFamily:
    """The prompts a family of models was trained with, as its model card gives them.

    Attributes:
        name: Family name (printed and recorded).
        pattern: Regular expression searched (case-insensitive) in the model's names.
        query: Prefix of queries (``""``: none).
        passage: Prefix of passages / documents (``""``: none).
        e5_like: Trained with E5-style prefixes: running it without a query prompt is warned about.
        source: Where the prompts are documented.
    """

    name: str
    pattern: str
    query: str
    passage: str
    e5_like: bool = False
    source: str = ""

    def matches(self, name: str) -> bool:
        return re.search(self.pattern, name, re.IGNORECASE) is not None


#: Known families, most specific first (the first match wins).
PROMPT_FAMILIES: tuple[PromptFamily, ...] = (
    PromptFamily(
        "multilingual-e5-instruct",
        r"e5-(?:[a-z0-9]+-)*instruct",
        query=E5_INSTRUCT_QUERY,
        passage="",
        e5_like=True,
        source="intfloat/multilingual-e5-large-instruct model card: 'Instruct: {task}\\nQuery: {query}', "
        "documents without instruction",
    ),
    PromptFamily(
        "e5",
        r"(?:^|[/_\-\s])(?:multilingual-)?e5(?:-v2)?(?:[-_](?:small|base|large|q\d)|$)",
        query="query: ",
        passage="passage: ",
        e5_like=True,
        source="intfloat/multilingual-e5-* and e5-*-v2 model cards: 'query: ' and 'passage: ' prefixes",
    ),
    PromptFamily("bge-m3", r"bge-m3", query="", passage="", source="BAAI/bge-m3 model card: no instruction needed"),
    PromptFamily(
        "bge-v1.5",
        r"bge-(?:small|base|large)-(?:en|zh)-v1\.5",
        query="Represent this sentence for searching relevant passages: ",
        passage="",
        source="BAAI/bge-*-v1.5 model cards: query instruction for short-query retrieval, passages without",
    ),
    PromptFamily(
        "gte-qwen-instruct",
        r"gte-qwen\d?(?:\.\d)?-[0-9.]+b-instruct",
        query=E5_INSTRUCT_QUERY,
        passage="",
        source="Alibaba-NLP/gte-Qwen2-*-instruct model cards: 'Instruct: {task}\\nQuery: ' on queries",
    ),
    PromptFamily(
        "gte",
        r"(?:^|[/_\-])gte-(?:multilingual-)?(?:small|base|large)",
        query="",
        passage="",
        source="thenlper/gte-* and Alibaba-NLP/gte-multilingual-base model cards: no prompt",
    ),
    PromptFamily(
        "nomic-embed",
        r"nomic-embed-text",
        query="search_query: ",
        passage="search_document: ",
        source="nomic-ai/nomic-embed-text-* model cards: 'search_query: ' and 'search_document: '",
    ),
    PromptFamily("labse", r"labse", query="", passage="", source="sentence-transformers/LaBSE: no prompt"),
    PromptFamily(
        "sentence-transformers multilingual",
        r"paraphrase-multilingual|distiluse-base-multilingual",
        query="",
        passage="",
        source="sentence-transformers paraphrase-multilingual-* / distiluse-*: no prompt",
    ),
)

_E5_NAME = re.compile(r"(?:^|[/_\-\s])(?:multilingual-)?e5(?:[-_]|$)", re.IGNORECASE)


def family_of(names: Iterable[str]) -> PromptFamily | None:
    """The first family of :data:`PROMPT_FAMILIES` that one of ``names`` matches (None: unknown model)."""
    names = [n for n in names if n]
    for family in PROMPT_FAMILIES:
        if any(family.matches(n) for n in names):
            return family
    return None


def model_names(model: Any, spec: str | os.PathLike[str] | None = None) -> list[str]:
    """What a model is called: the spec, the last two folder names of a directory, ``config.json``'s
    ``_name_or_path`` and the model card's base model (duplicates and empty names dropped)."""
    names: list[str] = []
    directories: list[Path] = []
    if spec is not None:
        text = os.fspath(spec)
        names.append(text)
        path = Path(text).expanduser()
        if path.is_dir():
            directories.append(path)
            resolved = path.resolve()
            names += [resolved.name, f"{resolved.parent.name}/{resolved.name}"]
    card = getattr(model, "model_card_data", None)
    for attr in ("base_model", "model_id", "model_name"):
        value = getattr(card, attr, None)
        if isinstance(value, str):
            names.append(value)
    try:
        first = model[0]
        config = getattr(getattr(first, "auto_model", None), "config", None)
        value = getattr(config, "_name_or_path", None) or getattr(config, "name_or_path", None)
        if isinstance(value, str):
            names.append(value)
    except Exception:  # a best-effort name lookup; models without modules have none
        pass
    for directory in directories:
        value = (read_json_object(directory / "config.json") or {}).get("_name_or_path")
        if isinstance(value, str):
            names.append(value)
    return list(dict.fromkeys(n.strip() for n in names if isinstance(n, str) and n.strip()))


@dataclass(frozen=True)
class PromptChoice:
    """The prompts a run uses and where each came from.

    Attributes:
        query: Prefix of queries (``""``: none).
        passage: Prefix of passages / documents.
        query_source, passage_source: ``"flag"``, ``"model"`` (its own configuration), ``"family"`` or ``"none"``.
        family: The matched :class:`PromptFamily` name, if any.
        warning: Why these prompts are probably wrong (an E5-like model without a query prompt), else None.
    """

    query: str
    passage: str
    query_source: str
    passage_source: str
    family: str | None = None
    warning: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self) -> str:
        """One line: ``prompts: query 'query: ' (model), passage 'passage: ' (model)``."""

        def side(text: str, source: str) -> str:
            where = f"family {self.family}" if source == "family" else source
            return f"{text!r} ({where})"

        query = side(self.query, self.query_source)
        return f"prompts: query {query}, passage {side(self.passage, self.passage_source)}"


def _own(prompts: dict[str, Any], *keys: str) -> str | None:
    for key in keys:
        value = prompts.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def choose_prompts(
    model: Any,
    spec: str | os.PathLike[str] | None = None,
    *,
    query: str | None = None,
    passage: str | None = None,
) -> PromptChoice:
    """Decide the query and passage prompts of ``model`` (see the module docs for the order).

    Args:
        model: A SentenceTransformer (or anything with a ``prompts`` dict).
        spec: How the model was named (built-in name, directory, Hugging Face id), for the family lookup.
        query, passage: Explicit prompts (None: not given; ``""``: no prompt).

    Returns:
        The :class:`PromptChoice`.
    """
    own = dict(getattr(model, "prompts", None) or {})
    own_query = _own(own, "query")
    own_passage = _own(own, "passage", "document")
    has_own = own_query is not None or own_passage is not None
    names = model_names(model, spec)
    family = family_of(names)

    def pick(flag: str | None, mine: str | None, family_value: str | None) -> tuple[str, str]:
        if flag is not None:
            return flag, "flag"
        if has_own:
            return (mine or ""), ("model" if mine else "none")
        if family_value is not None:
            return family_value, "family"
        return "", "none"

    q, q_src = pick(query, own_query, family.query if family else None)
    p, p_src = pick(passage, own_passage, family.passage if family else None)
    warning = None
    e5_like = (family is not None and family.e5_like) or any(_E5_NAME.search(n) for n in names)
    if e5_like and not q:
        shown = names[0] if names else type(model).__name__
        warning = (
            f"{shown} looks like an E5 model, which was trained with prompts ('query: ' / 'passage: ', or an "
            "instruction for -instruct models), but it runs without a query prompt: its scores will be lower than "
            "it can give. Pass --query-prompt 'query: ' --passage-prompt 'passage: ' (or the prompts of its model "
            "card)"
        )
    return PromptChoice(q, p, q_src, p_src, family.name if family else None, warning)


def apply_prompts(
    model: Any,
    spec: str | os.PathLike[str] | None = None,
    *,
    query: str | None = None,
    passage: str | None = None,
    log: Callable[[str], None] | None = None,
) -> PromptChoice:
    """Choose the prompts (:func:`choose_prompts`) and set them on ``model.prompts`` as ``query``, ``passage`` and
    ``document`` (the name sentence-transformers' ``encode_document`` uses); other prompts are kept.

    Args:
        model: The loaded SentenceTransformer (changed in place).
        spec, query, passage: As for :func:`choose_prompts`.
        log: Receives the one-line description and, when there is one, the warning (prefixed ``WARNING:``);
            default: standard error.

    Returns:
        The :class:`PromptChoice`.
    """
    choice = choose_prompts(model, spec, query=query, passage=passage)
    prompts = dict(getattr(model, "prompts", None) or {})
    prompts.update({"query": choice.query, "passage": choice.passage, "document": choice.passage})
    model.prompts = prompts
    say = log or (lambda line: print(line, file=sys.stderr, flush=True))
    say(choice.describe())
    if choice.warning:
        say(f"WARNING: {choice.warning}")
    return choice
