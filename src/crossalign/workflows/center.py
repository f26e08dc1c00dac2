"""The ``center`` workflow: estimate per-language means on unlabelled texts and save a model that applies them
(:class:`~crossalign.models.centering.LanguageCentering`, Libovický et al. 2020).

The texts come from the LibreOffice help's train pages or from a user's files (one text per line); reading them is
data work, so it lives here, above :mod:`crossalign.models` and :mod:`crossalign.data`.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from crossalign.errors import ConfigError
from crossalign.languages import normalize_lang, parse_lang_list
from crossalign.models.centering import add_centering, estimate_language_means
from crossalign.utils.progress import progress_scope

__all__ = ["centered_model", "libreoffice_texts", "read_text_file"]


def libreoffice_texts(
    langs: Sequence[str],
    *,
    max_texts: int = 1000,
    seed: int = 13,
    cache_dir: str | os.PathLike[str] | None = None,
) -> dict[str, list[str]]:
    """Unlabelled texts per language from the LibreOffice help's **train** pages (page split of ``seed``, the
    split crossalign's training data and evaluation use, so no test page is read): headings and paragraphs, at
    most ``max_texts`` per language, sampled with ``seed``. English is always included (it is the pivot of every
    cross-lingual evaluation). ``langs`` are canonical tags (:func:`~crossalign.languages.parse_lang_list`)."""
    from crossalign.data.libreoffice import LibreOfficeCorpus
    from crossalign.data.splits import SplitSpec, split_corpus

    wanted = [*langs, *(["en"] if "en" not in langs else [])]
    others = [lang for lang in wanted if lang != "en"] or ["de"]
    corpus = LibreOfficeCorpus.open(others, cache_dir=cache_dir)
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


def centered_model(
    model: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    langs: str | Sequence[str] = (),
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
        langs: Languages whose means come from the LibreOffice help's train pages (English is added): a list or a
            comma-separated string, parsed once here.
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
    with progress_scope(show_progress):
        return _centered_model(model, output, langs, text_files, max_texts, seed, prompts, cache_dir, overwrite)


def _centered_model(
    model: str | os.PathLike[str],
    output: str | os.PathLike[str],
    langs: str | Sequence[str],
    text_files: Mapping[str, str | os.PathLike[str]] | None,
    max_texts: int,
    seed: int,
    prompts: Iterable[str | None] | None,
    cache_dir: str | os.PathLike[str] | None,
    overwrite: bool,
) -> Path:
    from crossalign.models.loading import load_model, resolve_model
    from crossalign.utils.atomic import atomic_directory

    out = Path(output).expanduser()
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise ConfigError(f"{out} is not empty.", hint="choose another --output or pass --overwrite")
    files = {normalize_lang(lang, field="--texts"): path for lang, path in (text_files or {}).items()}
    texts = {lang: read_text_file(path, lang) for lang, path in files.items()}
    wanted = parse_lang_list(langs) if langs else []
    remaining = [lang for lang in wanted if lang not in texts]
    if not texts and not remaining:
        raise ConfigError("no language to estimate a mean for.", hint="give --langs de,ja,... or --texts LANG=FILE")
    st_model = load_model(model, cache_dir=cache_dir)
    if remaining:
        texts.update(
            {
                lang: items
                for lang, items in libreoffice_texts(
                    remaining, max_texts=max_texts, seed=seed, cache_dir=cache_dir
                ).items()
                if lang not in texts
            }
        )
    centering = estimate_language_means(st_model, texts, prompts=prompts)
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
