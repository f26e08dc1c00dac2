"""Obtain the LibreOffice help tree of a language: installed, cached, or downloaded from the Debian archive.

For each language, :func:`obtain_help_tree` looks, in order, for

(a) an **installed** tree, ``/usr/share/libreoffice/help/<FOLDER>/text`` (version from ``dpkg-query``);
(b) a **cached** tree, ``<cache>/corpora/libreoffice/<version>/<FOLDER>/`` (a tree is only ever renamed into place
    complete, so a present folder is a complete one);
(c) a **download**: ``apt-get download libreoffice-help-<x>`` into a scratch folder inside the cache, ``dpkg-deb -x``,
    and the help folder is renamed into ``<cache>/corpora/libreoffice/<version>/<FOLDER>/`` (atomically, under a file
    lock so concurrent processes neither corrupt the cache nor download twice).

The exact package version (``dpkg-deb -f FILE Version``) is the cache key: a new Debian point release lands in a new
folder next to the old one. Loading is offline-first: a cached tree is used without asking apt whether a newer
version exists; ``refresh=True`` downloads the archive's current version (and keeps the older one).

Every tree carries its provenance (:meth:`HelpTree.provenance`): package, exact version, licence (MPL-2.0), where it
came from and, for downloads, the ``.deb``'s SHA-256 and the package's Debian copyright file.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crossalign.data.libreoffice.langs import help_folder, lo_lang, package_name
from crossalign.errors import CorpusError
from crossalign.utils.atomic import atomic_directory, atomic_write_json, file_lock, read_json_object
from crossalign.utils.cache import cache_subdir

logger = logging.getLogger(__name__)

#: Where Debian installs the help trees (``apt-get install libreoffice-help-de``).
INSTALLED_HELP_ROOT = Path("/usr/share/libreoffice/help")
#: Where apt keeps its package lists; empty means ``apt-get update`` never ran.
APT_LISTS_DIR = Path("/var/lib/apt/lists")
#: The licence of the help content (Debian's copyright file: ``Files: *  License: MPL-2.0``).
LICENSE = "MPL-2.0"
#: Written into every cached tree; its presence marks a complete tree.
MANIFEST_NAME = ".crossalign-source.json"

#: External commands (resolved on ``PATH``; tests substitute fakes).
APT_GET = "apt-get"
DPKG_DEB = "dpkg-deb"
DPKG_QUERY = "dpkg-query"

_SUBPROCESS_TIMEOUT_S = 900


@dataclass(frozen=True)
class HelpTree:
    """One language's help folder on disk and where it came from.

    Attributes:
        lang: Canonical tag (``zh-CN``).
        folder: Help folder name (``zh-CN``, ``en-US``).
        path: The language folder (it contains ``text/``).
        package: Debian package name (``libreoffice-help-zh-cn``).
        version: Exact package version (``4:7.4.7-1+deb12u14``), or ``local-<hash>`` for an installed tree dpkg does
            not know.
        source: ``"installed"``, ``"cache"`` or ``"download"``.
        license: ``MPL-2.0``.
        extra: More provenance (``deb_sha256``, ``deb_file``, ``fetched_at``).
    """

    lang: str
    folder: str
    path: Path
    package: str
    version: str
    source: str
    license: str = LICENSE
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def text_dir(self) -> Path:
        """``<path>/text``, where the pages are."""
        return self.path / "text"

    def provenance(self) -> dict[str, Any]:
        """JSON-ready provenance: package, version, licence, source kind and path, plus download details."""
        return {
            "lang": self.lang,
            "package": self.package,
            "version": self.version,
            "license": self.license,
            "source": self.source,
            "path": str(self.path),
            **self.extra,
        }


def version_key(version: str) -> str:
    """A folder-safe spelling of a Debian version (``4:7.4.7-1+deb12u14`` -> ``4_7.4.7-1+deb12u14``)."""
    return re.sub(r"[^A-Za-z0-9.+~-]", "_", version)


def corpus_root(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """``<cache root>/corpora/libreoffice`` (created; raises :class:`~crossalign.errors.CacheError` if unwritable)."""
    root = cache_subdir("corpora", cache_dir) / "libreoffice"
    root.mkdir(parents=True, exist_ok=True)
    return root


def _run(cmd: list[str], *, cwd: str | os.PathLike[str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cmd, cwd=cwd, capture_output=True, text=True, timeout=_SUBPROCESS_TIMEOUT_S, check=False, env=_c_locale()
    )


def _c_locale() -> dict[str, str]:
    env = dict(os.environ)
    env["LC_ALL"] = "C"  # apt's messages in English, so they can be recognised
    return env


# ------------------------------------------------------------------------------------------------------ installed
def _local_version(text_dir: Path) -> str:
    h = hashlib.sha256()
    for f in sorted(text_dir.rglob("*.html")):
        st = f.stat()
        h.update(f"{f.relative_to(text_dir).as_posix()}\0{st.st_size}\0{int(st.st_mtime)}\n".encode())
    return "local-" + h.hexdigest()[:16]


def installed_tree(lang: str, *, help_root: str | os.PathLike[str] | None = None) -> HelpTree | None:
    """The installed help tree of ``lang`` (``<help_root>/<FOLDER>/text`` exists), or None.

    The version comes from ``dpkg-query``; a tree that dpkg does not know (copied by hand, or ``help_root`` pointing
    somewhere else) gets ``local-<hash of its file list>`` so the parse cache still notices changes.

    Args:
        lang: Any spelling of a LibreOffice language.
        help_root: The folder holding the language folders (default ``/usr/share/libreoffice/help``).
    """
    canon = lo_lang(lang)
    folder = help_folder(canon)
    root = Path(help_root) if help_root is not None else INSTALLED_HELP_ROOT
    path = root / folder
    if not (path / "text").is_dir():
        return None
    package = package_name(canon)
    version = ""
    try:
        res = _run([DPKG_QUERY, "-W", "-f=${Version}", package])
        if res.returncode == 0:
            version = res.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        version = ""
    if not version:
        version = _local_version(path / "text")
    return HelpTree(canon, folder, path, package, version, "installed")


# ---------------------------------------------------------------------------------------------------------- cache
def _read_manifest(path: Path) -> dict[str, Any] | None:
    return read_json_object(path / MANIFEST_NAME)


def cached_trees(lang: str, *, cache_dir: str | os.PathLike[str] | None = None) -> list[HelpTree]:
    """Every complete cached tree of ``lang``, newest fetch first."""
    canon = lo_lang(lang)
    folder = help_folder(canon)
    root = corpus_root(cache_dir)
    found: list[tuple[str, HelpTree]] = []
    for vdir in root.iterdir():
        if vdir.name.startswith(".") or not vdir.is_dir():
            continue
        path = vdir / folder
        manifest = _read_manifest(path)
        if manifest is None or not (path / "text").is_dir():
            continue
        if not isinstance(manifest.get("version"), str):
            continue
        extra = {k: v for k, v in manifest.items() if k in ("deb_sha256", "deb_file", "fetched_at", "copyright")}
        package = str(manifest.get("package", package_name(canon)))
        tree = HelpTree(canon, folder, path, package, manifest["version"], "cache", extra=extra)
        found.append((str(manifest.get("fetched_at", "")), tree))
    found.sort(key=lambda item: item[0], reverse=True)
    return [tree for _, tree in found]


def cached_tree(
    lang: str, *, cache_dir: str | os.PathLike[str] | None = None, version: str | None = None
) -> HelpTree | None:
    """The cached tree of ``lang`` for ``version`` (or the most recently fetched one), or None."""
    for tree in cached_trees(lang, cache_dir=cache_dir):
        if version is None or tree.version == version:
            return tree
    return None


# ------------------------------------------------------------------------------------------------------- download
def apt_lists_present(lists_dir: str | os.PathLike[str] | None = None) -> bool:
    """True when apt has package lists (``apt-get update`` ran): ``*_Packages*`` files in ``/var/lib/apt/lists``."""
    d = Path(lists_dir) if lists_dir is not None else APT_LISTS_DIR
    try:
        return any("_Packages" in p.name for p in d.iterdir())
    except OSError:
        return False


def _download_error(package: str, res: subprocess.CompletedProcess[str]) -> CorpusError:
    err = (res.stderr or res.stdout or "").strip()
    tail = " | ".join(line for line in err.splitlines() if line.startswith("E:"))[-400:] or err[-400:]
    not_found = re.search(r"Unable to locate package|has no installation candidate|Can't select", err)
    update = "run `apt-get update` as root (non-root users: `sudo apt-get update`), then retry"
    if not_found and not apt_lists_present():
        return CorpusError(
            f"cannot download {package}: apt's package lists are missing, so apt does not know the package ({tail})",
            hint=update,
        )
    if not_found:
        return CorpusError(
            f"cannot download {package}: apt does not know the package ({tail})",
            hint=f"the package lists may be stale or lack Debian's main component: {update}; "
            "or install it (`apt-get install " + package + "`)",
        )
    return CorpusError(
        f"`apt-get download {package}` failed with exit code {res.returncode}: {tail or 'no message'}",
        hint="check the network connection to the Debian archive (and `apt-get update`), or install the package "
        f"(`apt-get install {package}`) so its tree is under {INSTALLED_HELP_ROOT}",
    )


def _run_tool(
    cmd: list[str], package: str, *, cwd: str | os.PathLike[str] | None = None
) -> subprocess.CompletedProcess[str]:
    """:func:`_run` with a missing command reported as what to do instead."""
    try:
        return _run(cmd, cwd=cwd)
    except FileNotFoundError:
        raise _need_tool(cmd[0], package) from None


def _need_tool(cmd: str, package: str) -> CorpusError:
    return CorpusError(
        f"cannot fetch {package}: the command `{cmd}` is not available (not a Debian/Ubuntu system?)",
        hint=f"install LibreOffice's help for this language so it is under {INSTALLED_HELP_ROOT}/<LANG>, pass "
        "help_root=/--help-root pointing at a folder with <LANG>/text/, or copy a crossalign cache "
        "(corpora/libreoffice) from a machine that has it",
    )


def _copyright_text(extracted: Path, package: str) -> str | None:
    f = extracted / "usr" / "share" / "doc" / package / "copyright"
    try:
        return f.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def download_tree(lang: str, *, cache_dir: str | os.PathLike[str] | None = None, refresh: bool = False) -> HelpTree:
    """Download ``libreoffice-help-<x>`` with apt and unpack its help folder into the cache.

    Runs under a per-package file lock; a tree another process finished meanwhile is returned instead of downloading
    again (unless ``refresh``, which downloads and keeps the result only if its version is new).

    Args:
        lang: Any spelling of a LibreOffice language.
        cache_dir: crossalign cache root (default: ``$CROSSALIGN_CACHE`` or ``~/.cache/crossalign``).
        refresh: Download even if a tree is cached.

    Returns:
        The cached tree (``source="download"``).

    Raises:
        CorpusError: apt-get/dpkg-deb missing, the package lists missing (hint: ``apt-get update``), the download
            failed, or the package lacks the help folder.
    """
    canon = lo_lang(lang)
    folder = help_folder(canon)
    package = package_name(canon)
    root = corpus_root(cache_dir)
    with file_lock(root / ".locks" / package):
        if not refresh:
            hit = cached_tree(canon, cache_dir=cache_dir)
            if hit is not None:
                return hit
        with tempfile.TemporaryDirectory(dir=root, prefix=f".download-{package}-") as scratch_s:
            scratch = Path(scratch_s)
            try:
                res = _run_tool([APT_GET, "download", package], package, cwd=scratch)
            except subprocess.TimeoutExpired:
                raise CorpusError(
                    f"`apt-get download {package}` did not finish in {_SUBPROCESS_TIMEOUT_S} s",
                    hint="check the network connection to the Debian archive",
                ) from None
            if res.returncode != 0:
                raise _download_error(package, res)
            debs = sorted(scratch.glob("*.deb"))
            if len(debs) != 1:
                raise CorpusError(
                    f"`apt-get download {package}` succeeded but left {len(debs)} .deb files in {scratch}",
                    hint="retry; if it persists, download the package by hand and install it",
                )
            deb = debs[0]
            ver = _run_tool([DPKG_DEB, "-f", str(deb), "Version"], package)
            version = ver.stdout.strip()
            if ver.returncode != 0 or not version:
                raise CorpusError(
                    f"cannot read the version of {deb.name}: {(ver.stderr or '').strip()[-300:]}",
                    hint="the download may be corrupt; retry",
                )
            target = root / version_key(version) / folder
            if _read_manifest(target) is not None:
                return cached_tree(canon, cache_dir=cache_dir, version=version) or HelpTree(
                    canon, folder, target, package, version, "cache"
                )
            sha = hashlib.sha256(deb.read_bytes()).hexdigest()
            extracted = scratch / "x"
            unpack = _run_tool([DPKG_DEB, "-x", str(deb), str(extracted)], package)
            if unpack.returncode != 0:
                raise CorpusError(
                    f"`dpkg-deb -x {deb.name}` failed: {(unpack.stderr or '').strip()[-300:]}",
                    hint="the download may be corrupt, or the disk full; retry",
                )
            src = extracted / "usr" / "share" / "libreoffice" / "help" / folder
            if src.is_symlink():
                raise CorpusError(
                    f"{deb.name} has no help of its own: its folder {folder} is a link to {os.readlink(src)}",
                    hint="use the language the link points to instead",
                )
            if not (src / "text").is_dir():
                raise CorpusError(
                    f"{deb.name} has no usr/share/libreoffice/help/{folder}/text folder",
                    hint="the package layout changed; install the package and pass its help folder as help_root",
                )
            extra = {
                "deb_file": deb.name,
                "deb_sha256": sha,
                "fetched_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            }
            copyright_text = _copyright_text(extracted, package)
            with atomic_directory(target, overwrite=target.exists()) as tmp:
                for child in src.iterdir():
                    os.replace(child, tmp / child.name)
                if copyright_text is not None:
                    (tmp / ".debian-copyright").write_text(copyright_text, encoding="utf-8")
                    extra["copyright"] = str(target / ".debian-copyright")
                atomic_write_json(
                    tmp / MANIFEST_NAME,
                    {"package": package, "version": version, "license": LICENSE, "lang": canon, **extra},
                )
            logger.info("fetched %s %s into %s", package, version, target)
            return HelpTree(canon, folder, target, package, version, "download", extra=extra)


def obtain_help_tree(
    lang: str,
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    help_root: str | os.PathLike[str] | None = None,
    download: bool = True,
    refresh: bool = False,
) -> HelpTree:
    """The help tree of ``lang``: installed, else cached, else downloaded (see the module docstring).

    Args:
        lang: Any spelling of a LibreOffice language (``de``, ``zh_CN``, ``libreoffice-help-km``).
        cache_dir: crossalign cache root.
        help_root: Where installed trees live (default ``/usr/share/libreoffice/help``).
        download: Allow (c); without it a missing tree raises.
        refresh: Skip (b) and download the archive's current version (falls back to the cache if that fails).

    Raises:
        UnknownLanguageError: ``lang`` is not one of the 33 languages.
        CorpusError: Not installed, not cached, and the download is off or failed (the message says how to fix it).

    Example:
        >>> tree = obtain_help_tree("de")  # doctest: +SKIP
        >>> tree.package, tree.version, tree.source  # doctest: +SKIP
        ('libreoffice-help-de', '4:7.4.7-1+deb12u14', 'download')
    """
    canon = lo_lang(lang)
    tree = installed_tree(canon, help_root=help_root)
    if tree is not None:
        return tree
    cached = cached_tree(canon, cache_dir=cache_dir)
    if cached is not None and not refresh:
        return cached
    if not download:
        raise CorpusError(
            f"the LibreOffice help for {canon!r} is neither installed nor cached, and downloading is off",
            hint=f"run `crossalign data fetch --source libreoffice --langs {canon}` (or allow downloads)",
        )
    try:
        return download_tree(canon, cache_dir=cache_dir, refresh=refresh)
    except CorpusError:
        if cached is not None:
            logger.warning("refresh of %s failed; using the cached version %s", canon, cached.version)
            return cached
        raise
