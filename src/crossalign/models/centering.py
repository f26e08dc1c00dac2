"""Per-language mean-centering of embeddings (Libovický et al. 2020): a training-free control that cannot forget.

Multilingual encoders put a language-identity component into every embedding: the texts of one language share a
mean vector ``μ_lang`` that texts of another language lack, and that offset separates a query from its translation.
Subtracting each language's mean (estimated from unlabelled text of that language) and re-normalising removes it:

    e′ = (e − μ_{p,lang}) / ‖e − μ_{p,lang}‖

with ``e`` the model's L2-normalised embedding of a text in ``lang`` encoded with prompt ``p`` (E5's ``query: `` and
``passage: `` embeddings have different means, so each prompt has its own). The model's weights are untouched, so
nothing the model could do is lost; the cost is that the text's language must be known at encode time.

:class:`LanguageCentering` is a sentence-transformers module holding the means; :func:`estimate_language_means`
estimates them; :func:`add_centering` appends the module to a model (``crossalign center`` on the command line).
crossalign's evaluation always knows each text's language and applies the module; plain sentence-transformers
applies it with ``model.encode(texts, lang="de", centering_prompt="query")``. Without a language the module passes
embeddings through unchanged (documented passthrough: an embedding of unknown language cannot be centered); a
language it has no mean for is an error.

Reference: Libovický, Rosa & Fraser, On the Language Neutrality of Pre-trained Multilingual Representations,
Findings of EMNLP 2020, https://arxiv.org/abs/2004.05160
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import torch
from sentence_transformers.base.modules.module import Module

from crossalign.errors import ConfigError
from crossalign.languages import normalize_lang

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

CENTERING_CITATION = """
@inproceedings{libovicky-etal-2020-language,
    title = "On the Language Neutrality of Pre-trained Multilingual Representations",
    author = "Libovick{\\'y}, Jind{\\v{r}}ich and Rosa, Rudolf and Fraser, Alexander",
    booktitle = "Findings of the Association for Computational Linguistics: EMNLP 2020",
    year = "2020",
    pages = "1663--1674",
    url = "https://arxiv.org/abs/2004.05160",
}
"""

WEIGHTS_FILE = "centering.safetensors"
#: The prompt key of means estimated without a prompt.
NO_PROMPT = ""


def _key(prompt: str, lang: str) -> str:
    return f"{prompt}|{lang}"


class LanguageCentering(Module):
    """Subtract the mean embedding of the text's language (per prompt), then L2-normalise again.

    Args:
        means: ``{prompt name: {language: mean vector}}``; prompt name ``""`` for texts encoded without a prompt.
        normalize: Re-normalise after subtracting (default True: the model's other vectors are unit length).
        counts: ``{prompt name: {language: number of texts}}`` the means were estimated from (recorded only).
        source: What the texts were (recorded in the model directory).

    Forward keyword arguments (``model.encode(..., lang=..., centering_prompt=...)``):
        lang: One language for the batch, or one per text; None passes the embeddings through unchanged.
        centering_prompt: Which prompt's means to use; may be omitted when the module has means for one prompt.
    """

    config_keys: ClassVar[list[str]] = ["normalize", "languages", "prompts", "counts", "source"]
    forward_kwargs: ClassVar[set[str]] = {"lang", "centering_prompt"}

    def __init__(
        self,
        means: Mapping[str, Mapping[str, Any]] | None = None,
        normalize: bool = True,
        counts: Mapping[str, Mapping[str, int]] | None = None,
        source: str | None = None,
        **_: Any,
    ) -> None:
        super().__init__()
        self.means: dict[str, dict[str, torch.Tensor]] = {}
        dims = set()
        for prompt, by_lang in (means or {}).items():
            self.means[prompt] = {}
            for lang, vector in by_lang.items():
                tensor = torch.as_tensor(np.asarray(vector, dtype=np.float32))
                if tensor.ndim != 1:
                    raise ConfigError(
                        f"LanguageCentering: the mean of {lang!r} must be a vector, got {tuple(tensor.shape)}"
                    )
                dims.add(tensor.shape[0])
                self.means[prompt][normalize_lang(lang, field="lang")] = tensor
        if len(dims) > 1:
            raise ConfigError(f"LanguageCentering: the means have different dimensions {sorted(dims)}")
        self.normalize = bool(normalize)
        self.counts = {p: dict(c) for p, c in (counts or {}).items()}
        self.source = source

    # ------------------------------------------------------------------ facts
    @property
    def prompts(self) -> list[str]:
        return sorted(self.means)

    @property
    def languages(self) -> list[str]:
        return sorted({lang for by_lang in self.means.values() for lang in by_lang})

    def _means_for(self, prompt: str | None) -> dict[str, torch.Tensor]:
        if prompt is None:
            if len(self.means) == 1:
                return next(iter(self.means.values()))
            raise ConfigError(
                f"LanguageCentering has means for the prompts {self.prompts}: say which one the texts were encoded "
                "with.",
                hint="pass centering_prompt='query' (or the prompt name used) with the language",
            )
        key = (
            prompt
            if prompt in self.means
            else (NO_PROMPT if NO_PROMPT in self.means and len(self.means) == 1 else None)
        )
        if key is None:
            raise ConfigError(
                f"LanguageCentering has no means for prompt {prompt!r} (it has {self.prompts}).",
                hint="estimate them again with that prompt: crossalign center MODEL --langs ... --prompts ...",
            )
        return self.means[key]

    def mean(self, lang: str, prompt: str | None = None) -> torch.Tensor:
        """The mean vector of ``lang`` for ``prompt``.

        Raises:
            ConfigError: No mean for that language (the message lists the known ones) or that prompt.
        """
        by_lang = self._means_for(prompt)
        canonical = normalize_lang(lang, field="lang")
        if canonical not in by_lang:
            raise ConfigError(
                f"LanguageCentering has no mean for language {canonical!r} (it has {', '.join(sorted(by_lang))}).",
                hint=f"estimate it: crossalign center MODEL --langs {canonical} --output DIR (or add it to --langs)",
            )
        return by_lang[canonical]

    # ------------------------------------------------------------------ apply
    def center(self, embeddings: torch.Tensor, langs: str | Sequence[str], prompt: str | None = None) -> torch.Tensor:
        """``(e − μ_lang) / ‖e − μ_lang‖`` row by row (without the division when ``normalize`` is False)."""
        rows = embeddings.shape[0]
        lang_list = [langs] * rows if isinstance(langs, str) else list(langs)
        if len(lang_list) != rows:
            raise ConfigError(f"LanguageCentering: {rows} embeddings but {len(lang_list)} languages")
        order = sorted(set(lang_list))
        table = torch.stack([self.mean(lang, prompt) for lang in order]).to(embeddings.device, embeddings.dtype)
        index = torch.tensor([order.index(lang) for lang in lang_list], device=embeddings.device)
        out = embeddings - table[index]
        if self.normalize:
            out = torch.nn.functional.normalize(out, p=2, dim=-1)
        return out

    def center_numpy(self, vectors: np.ndarray, langs: str | Sequence[str], prompt: str | None = None) -> np.ndarray:
        """:meth:`center` for a float32 array (what crossalign's encoder and embedding cache return)."""
        if len(vectors) == 0:
            return vectors
        return self.center(torch.from_numpy(np.ascontiguousarray(vectors)), langs, prompt).numpy().astype(np.float32)

    def forward(
        self, features: dict[str, Any], lang: str | Sequence[str] | None = None, centering_prompt: str | None = None
    ) -> dict[str, Any]:
        if lang is not None:
            features["sentence_embedding"] = self.center(features["sentence_embedding"], lang, centering_prompt)
        return features

    # ------------------------------------------------------------------ files
    def save(self, output_path: str, *args: Any, safe_serialization: bool = True, **kwargs: Any) -> None:
        from safetensors.torch import save_file

        os.makedirs(output_path, exist_ok=True)
        self.save_config(output_path)
        tensors = {_key(p, lang): v.clone() for p, by_lang in self.means.items() for lang, v in by_lang.items()}
        save_file(tensors, os.path.join(output_path, WEIGHTS_FILE))

    @classmethod
    def load(cls, model_name_or_path: str, subfolder: str = "", **kwargs: Any) -> LanguageCentering:
        from safetensors.torch import load_file

        hub_kwargs = {k: kwargs[k] for k in ("token", "cache_folder", "revision", "local_files_only") if k in kwargs}
        config = cls.load_config(model_name_or_path=model_name_or_path, subfolder=subfolder, **hub_kwargs)
        weights = cls.load_file_path(model_name_or_path, filename=WEIGHTS_FILE, subfolder=subfolder, **hub_kwargs)
        if weights is None:
            raise ConfigError(f"{model_name_or_path}/{subfolder}: {WEIGHTS_FILE} is missing.")
        means: dict[str, dict[str, torch.Tensor]] = {}
        for key, vector in load_file(weights).items():
            prompt, lang = key.rsplit("|", 1)
            means.setdefault(prompt, {})[lang] = vector
        return cls(
            means=means,
            normalize=config.get("normalize", True),
            counts=config.get("counts"),
            source=config.get("source"),
        )


# ---------------------------------------------------------------------------------------------------------------
# estimation and use


def find_centering(model: Any) -> LanguageCentering | None:
    """The model's :class:`LanguageCentering` module, if it has one."""
    children = model.children() if hasattr(model, "children") else ()
    for module in children:
        if isinstance(module, LanguageCentering):
            return module
    return None


def apply_centering(
    model: Any, vectors: np.ndarray, langs: str | Sequence[str | None] | None, prompt_name: str | None
) -> np.ndarray:
    """Center ``vectors`` (one row per text) when ``model`` has a :class:`LanguageCentering` module and the texts'
    languages are given; otherwise return them unchanged. The prompt's means are used (``prompt_name`` None: the
    no-prompt means)."""
    centering = find_centering(model)
    if centering is None or langs is None:
        return vectors
    if not isinstance(langs, str):
        langs = list(langs)
        if any(lang is None for lang in langs):
            raise ConfigError("apply_centering: every text needs its language to be centered (got None for some).")
    return centering.center_numpy(vectors, langs, prompt_name or NO_PROMPT)  # type: ignore[arg-type]


def estimate_language_means(
    model: SentenceTransformer,
    texts: Mapping[str, Sequence[str]],
    *,
    prompts: Iterable[str | None] | None = None,
    batch_size: int = 32,
) -> LanguageCentering:
    """Estimate ``μ_{p,lang}``: the mean of the model's L2-normalised embeddings of ``texts[lang]`` with prompt ``p``.

    Args:
        model: The model (its own centering module, if any, is ignored: the means are of the raw embeddings).
        texts: ``{language: unlabelled texts}`` (at least one text each).
        prompts: Prompt names to estimate means for (default: every prompt of the model, or none when it has
            none); names with the same prompt text (E5's ``passage``/``document``) are encoded once.
        batch_size: Encoding batch size.

    Returns:
        A :class:`LanguageCentering` module (not yet added to the model; see :func:`add_centering`).

    Raises:
        ConfigError: A language without texts, or an unknown prompt name.
    """
    from crossalign.models.encoder import encode

    model_prompts = dict(getattr(model, "prompts", {}) or {})
    prompt_list = list(prompts) if prompts is not None else (sorted(model_prompts) or [None])
    for p in prompt_list:
        if p is not None and p not in model_prompts:
            raise ConfigError(
                f"the model has no prompt {p!r}.", hint=f"its prompts: {', '.join(model_prompts) or 'none'}"
            )
    means: dict[str, dict[str, np.ndarray]] = {}
    counts: dict[str, dict[str, int]] = {}
    for lang, items in texts.items():
        if not items:
            raise ConfigError(f"no texts to estimate the mean of language {lang!r}.")
    done: dict[str, str] = {}  # prompt text -> the prompt name estimated with it (aliases share the means)
    for p in prompt_list:
        key = p or NO_PROMPT
        text = model_prompts.get(p, "") if p is not None else ""
        if text in done:
            means[key], counts[key] = means[done[text]], counts[done[text]]
            continue
        done[text] = key
        means[key] = {}
        counts[key] = {}
        for lang, items in texts.items():
            vectors = encode(model, list(items), prompt_name=p, batch_size=batch_size)
            means[key][lang] = vectors.astype(np.float64).mean(axis=0).astype(np.float32)
            counts[key][lang] = len(items)
    return LanguageCentering(means=means, counts=counts)


def add_centering(model: SentenceTransformer, centering: LanguageCentering) -> SentenceTransformer:
    """Append (or replace) the model's :class:`LanguageCentering` module, in place; returns the model."""
    names = [name for name, module in model.named_children() if isinstance(module, LanguageCentering)]
    for name in names:
        del model._modules[name]
    index = len(model._modules)
    model.add_module(str(index), centering)
    return model


__all__ = [
    "CENTERING_CITATION",
    "LanguageCentering",
    "add_centering",
    "apply_centering",
    "estimate_language_means",
    "find_centering",
]
