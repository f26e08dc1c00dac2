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

import json
import os
import random
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
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
    def get_config_dict(self) -> dict[str, Any]:
        return {
            "normalize": self.normalize,
            "languages": self.languages,
            "prompts": self.prompts,
            "counts": self.counts,
            "source": self.source,
        }

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
    show_progress: bool | None = None,
) -> LanguageCentering:
    """Estimate ``μ_{p,lang}``: the mean of the model's L2-normalised embeddings of ``texts[lang]`` with prompt ``p``.

    Args:
        model: The model (its own centering module, if any, is ignored: the means are of the raw embeddings).
        texts: ``{language: unlabelled texts}`` (at least one text each).
        prompts: Prompt names to estimate means for (default: every prompt of the model, or none when it has
            none); names with the same prompt text (E5's ``passage``/``document``) are encoded once.
        batch_size: Encoding batch size.
        show_progress: Progress bars.

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
            vectors = encode(model, list(items), prompt_name=p, batch_size=batch_size, show_progress=show_progress)
            means[key][lang] = vectors.astype(np.float64).mean(axis=0).astype(np.float32)
            counts[key][lang] = len(items)
    return LanguageCentering(means=means, counts=counts)


def libreoffice_texts(
    langs: Sequence[str],
    *,
    max_texts: int = 1000,
    seed: int = 13,
    cache_dir: str | os.PathLike[str] | None = None,
    show_progress: bool | None = None,
) -> dict[str, list[str]]:
    """Unlabelled texts per language from the LibreOffice help's **train** pages (page split of ``seed``, the
    split crossalign's training data and evaluation use, so no test page is read): headings and paragraphs, at
    most ``max_texts`` per language, sampled with ``seed``. English is always included (it is the pivot of every
    cross-lingual evaluation)."""
    from crossalign.data.libreoffice import LibreOfficeCorpus
    from crossalign.data.splits import SplitSpec, split_corpus

    wanted = [normalize_lang(lang, field="langs") for lang in langs]
    if "en" not in wanted:
        wanted.append("en")
    others = [lang for lang in wanted if lang != "en"] or ["de"]
    corpus = LibreOfficeCorpus.open(others, cache_dir=cache_dir, show_progress=show_progress)
    parallel = corpus.parallel(["heading", "paragraph"], langs=[*others, "en"], require_all=False)
    train = split_corpus(parallel, SplitSpec(seed=seed))["train"]
    out: dict[str, list[str]] = {}
    for lang in wanted:
        pool = sorted({t.texts[lang] for t in train if lang in t.texts})
        random.Random(f"{seed}:{lang}").shuffle(pool)
        if not pool:
            raise ConfigError(f"the LibreOffice help has no train-page text in {lang!r}.")
        out[lang] = pool[:max_texts]
    return out


def read_text_file(path: str | os.PathLike[str], lang: str) -> list[str]:
    """Unlabelled texts of one language: one per non-empty line of a UTF-8 file."""
    from crossalign.errors import DataFormatError

    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{p}: not found.", hint="give a UTF-8 text file with one text per line")
    try:
        lines = p.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise DataFormatError(
            f"{p}: not UTF-8 ({exc.reason} at byte {exc.start}).", hint="re-encode the file as UTF-8"
        ) from exc
    texts = [line.strip() for line in lines if line.strip()]
    if not texts:
        raise DataFormatError(f"{p}: no text for language {lang!r} (every line is empty).", hint="one text per line")
    return texts


def add_centering(model: SentenceTransformer, centering: LanguageCentering) -> SentenceTransformer:
    """Append (or replace) the model's :class:`LanguageCentering` module, in place; returns the model."""
    names = [name for name, module in model.named_children() if isinstance(module, LanguageCentering)]
    for name in names:
        del model._modules[name]
    index = len(model._modules)
    model.add_module(str(index), centering)
    return model


def centered_model(
    model: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    langs: Sequence[str] = (),
    text_files: Mapping[str, str | os.PathLike[str]] | None = None,
    max_texts: int = 1000,
    seed: int = 13,
    prompts: Iterable[str | None] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    show_progress: bool | None = None,
    overwrite: bool = False,
) -> Path:
    """Estimate per-language means and save ``model`` with a :class:`LanguageCentering` module to ``output``.

    Args:
        model: Model spec (built-in name, directory, Hugging Face id).
        output: The new model directory (refused if it exists and is not empty, unless ``overwrite``).
        langs: Languages whose means come from the LibreOffice help's train pages (English is added).
        text_files: ``{language: file}``: means from a user's texts instead (one text per line).
        max_texts: Most texts per language from the LibreOffice help.
        seed: Page split and sampling seed (13: the split the rest of crossalign uses).
        prompts: Prompt names to estimate (default: all the model's prompts).
        cache_dir: crossalign cache root.
        show_progress: Progress bars.
        overwrite: Replace an existing ``output``.

    Returns:
        The output directory; ``SentenceTransformer(output)`` loads it.
    """
    from crossalign.models.loading import load_model, resolve_model
    from crossalign.utils.atomic import atomic_directory

    out = Path(output).expanduser()
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise ConfigError(f"{out} is not empty.", hint="choose another --output or pass --overwrite")
    files = {normalize_lang(lang, field="--texts"): path for lang, path in (text_files or {}).items()}
    texts = {lang: read_text_file(path, lang) for lang, path in files.items()}
    remaining = [lang for lang in langs if normalize_lang(lang, field="--langs") not in texts]
    if not texts and not remaining:
        raise ConfigError("no language to estimate a mean for.", hint="give --langs de,ja,... or --texts LANG=FILE")
    st_model = load_model(model, cache_dir=cache_dir)
    if remaining:
        texts.update(
            {
                lang: items
                for lang, items in libreoffice_texts(
                    remaining, max_texts=max_texts, seed=seed, cache_dir=cache_dir, show_progress=show_progress
                ).items()
                if lang not in texts
            }
        )
    centering = estimate_language_means(st_model, texts, prompts=prompts, show_progress=show_progress)
    centering.source = (
        (
            f"LibreOffice help train pages (split seed {seed}), at most {max_texts} headings/paragraphs per language"
            if remaining
            else ""
        )
        + ("; " if remaining and files else "")
        + (", ".join(f"{lang}: {Path(p).name}" for lang, p in files.items()) if files else "")
    )
    add_centering(st_model, centering)
    with atomic_directory(out, overwrite=True) as tmp:
        st_model.save(str(tmp))
        resolved = resolve_model(model, cache_dir=cache_dir)
        if Path(resolved).is_dir():
            from crossalign.models.loading import carry_model_kwargs

            carry_model_kwargs(resolved, tmp)
        (Path(tmp) / "crossalign_centering.json").write_text(
            json.dumps({"base_model": str(model), **centering.get_config_dict()}, indent=2, ensure_ascii=False),
            encoding="utf-8",
        )
    return out


__all__ = [
    "CENTERING_CITATION",
    "LanguageCentering",
    "add_centering",
    "apply_centering",
    "centered_model",
    "estimate_language_means",
    "find_centering",
    "libreoffice_texts",
    "read_text_file",
]
