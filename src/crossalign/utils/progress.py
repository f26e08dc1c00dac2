"""Progress bars that behave in terminals, notebooks and CI logs alike (tqdm underneath)."""

from __future__ import annotations

import contextlib
import contextvars
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from tqdm.auto import tqdm

T = TypeVar("T")


#: The one progress switch below the public entry points (set by :func:`progress_scope`; None: the environment).
_SHOW: contextvars.ContextVar[bool | None] = contextvars.ContextVar("crossalign_show_progress", default=None)


def progress_enabled(show: bool | None = None) -> bool:
    """Whether bars and stage lines show: ``show`` if given, else the innermost :func:`progress_scope`, else on
    unless ``CROSSALIGN_NO_PROGRESS`` is set."""
    if show is not None:
        return show
    scoped = _SHOW.get()
    if scoped is not None:
        return scoped
    return not os.environ.get("CROSSALIGN_NO_PROGRESS")


@contextlib.contextmanager
def progress_scope(show: bool | None) -> Iterator[None]:
    """Set the progress switch for everything called inside (``None`` keeps the enclosing setting).

    The public entry points (``evaluate``, ``train``, ``run_demo``, the CLI) take ``show_progress`` once and open a
    scope; the code below them asks :func:`progress_enabled` instead of passing the flag down.
    """
    if show is None:
        yield
        return
    token = _SHOW.set(show)
    try:
        yield
    finally:
        _SHOW.reset(token)


#: Environment switches of the libraries crossalign runs on, read when each is first imported.
LIBRARY_PROGRESS_SWITCHES: dict[str, str] = {
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",  # huggingface_hub downloads, and transformers' "Loading weights"
    "HF_DATASETS_DISABLE_PROGRESS_BARS": "1",  # datasets' "Map", "Filter", "Generating train split"
}


def silence_library_progress() -> Callable[[], None]:
    """Turn off the progress bars of the libraries underneath, not only crossalign's (``--no-progress``).

    Sets :data:`LIBRARY_PROGRESS_SWITCHES` for libraries not yet imported, switches off those already imported
    (transformers, datasets, huggingface_hub), and makes ``disable=True`` the default of every tqdm bar, so bars
    created directly with tqdm (sentence-transformers' "Computing widget examples") stay quiet too; a bar that
    passes ``disable`` itself keeps its own choice.

    Returns:
        A function that undoes all of it (environment, the libraries' switches, tqdm's default), so that a caller
        running a command in-process (``crossalign.cli.main.main`` from a notebook or a test) leaves the process
        as it found it.
    """
    import functools

    import tqdm.std

    saved_env = {key: os.environ.get(key) for key in LIBRARY_PROGRESS_SWITCHES}
    undo: list[Callable[[], None]] = []
    os.environ.update(LIBRARY_PROGRESS_SWITCHES)
    if "transformers" in sys.modules:
        tf_logging = sys.modules["transformers"].utils.logging
        if tf_logging.is_progress_bar_enabled():
            undo.append(tf_logging.enable_progress_bar)
        tf_logging.disable_progress_bar()
    if "datasets" in sys.modules:
        ds = sys.modules["datasets"]
        if ds.is_progress_bar_enabled():
            undo.append(ds.enable_progress_bars)
        ds.disable_progress_bars()
    if "huggingface_hub" in sys.modules:
        hub_utils = sys.modules["huggingface_hub"].utils
        if not hub_utils.are_progress_bars_disabled():
            undo.append(hub_utils.enable_progress_bars)
        hub_utils.disable_progress_bars()
    # The raw attribute: tqdm's own __init__ is already a partialmethod (its env-var wrapper), so ours is marked.
    original_init = tqdm.std.tqdm.__dict__["__init__"]
    if not getattr(original_init, "_crossalign_silenced", False):
        silenced = functools.partialmethod(original_init, disable=True)
        silenced._crossalign_silenced = True  # type: ignore[attr-defined]
        tqdm.std.tqdm.__init__ = silenced  # type: ignore[method-assign]

    def restore() -> None:
        tqdm.std.tqdm.__init__ = original_init  # type: ignore[method-assign]
        for fn in undo:
            fn()
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

    return restore


def _to_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _silent(_message: str) -> None:
    return None


def stage_logger(show: bool | None = None, log: Callable[[str], None] | None = None) -> Callable[[str], None]:
    """Where stage messages go: ``log`` if given, else stderr when progress is on, else nowhere."""
    if log is not None:
        return log
    return _to_stderr if progress_enabled(show) else _silent


def stage(message: str) -> None:
    """One stage line on stderr, silenced like the bars (:func:`stage_logger` without a ``log``)."""
    stage_logger()(message)


def progress(
    iterable: Iterable[T], *, desc: str, total: int | None = None, show: bool | None = None, **kw: Any
) -> Iterator[T]:
    """Wrap ``iterable`` in a tqdm bar on stderr (disabled by ``show=False`` / ``CROSSALIGN_NO_PROGRESS=1``)."""
    return iter(
        tqdm(
            iterable,
            desc=desc,
            total=total,
            disable=not progress_enabled(show),
            file=sys.stderr,
            dynamic_ncols=True,
            mininterval=0.5,
            **kw,
        )
    )
