"""Obtaining help trees: installed, cached, downloaded with apt (mocked), failures, concurrent fetches."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from crossalign.data.libreoffice import fetch
from crossalign.data.libreoffice.fetch import (
    MANIFEST_NAME,
    apt_lists_present,
    cached_tree,
    cached_trees,
    corpus_root,
    download_tree,
    installed_tree,
    obtain_help_tree,
    version_key,
)
from crossalign.errors import CorpusError

SRC = Path(__file__).resolve().parents[3] / "src"
VERSION = "1:7.4.7-1+deb12u1"
DEB_BYTES = b"!<arch>\nfake debian package\n"


class FakeTools:
    """Stands in for ``subprocess.run`` of apt-get / dpkg-deb / dpkg-query; records every call."""

    def __init__(
        self,
        *,
        version: str = VERSION,
        apt_rc: int = 0,
        apt_stderr: str = "",
        installed_version: str | None = None,
        missing: Sequence[str] = (),
    ) -> None:
        self.version = version
        self.apt_rc = apt_rc
        self.apt_stderr = apt_stderr
        self.installed_version = installed_version
        self.missing = set(missing)
        self.calls: list[list[str]] = []

    def __call__(self, cmd: list[str], cwd: Any = None, **kw: Any) -> subprocess.CompletedProcess[str]:
        self.calls.append(list(cmd))
        assert kw["env"]["LC_ALL"] == "C"
        tool = cmd[0]
        if tool in self.missing:
            raise FileNotFoundError(2, "No such file or directory", tool)
        if tool == "dpkg-query":
            if self.installed_version is None:
                return subprocess.CompletedProcess(cmd, 1, "", f"dpkg-query: no packages found matching {cmd[-1]}\n")
            return subprocess.CompletedProcess(cmd, 0, self.installed_version, "")
        if tool == "apt-get":
            assert cmd[1] == "download"
            if self.apt_rc:
                return subprocess.CompletedProcess(cmd, self.apt_rc, "", self.apt_stderr)
            quoted = self.version.replace(":", "%3a")
            Path(cwd, f"{cmd[2]}_{quoted}_all.deb").write_bytes(DEB_BYTES)
            return subprocess.CompletedProcess(cmd, 0, "Get:1 ...\n", "")
        if tool == "dpkg-deb" and cmd[1] == "-f":
            return subprocess.CompletedProcess(cmd, 0, self.version + "\n", "")
        if tool == "dpkg-deb" and cmd[1] == "-x":
            package = Path(cmd[2]).name.split("_")[0]
            folder = {"libreoffice-help-en-us": "en-US"}.get(package, package.removeprefix("libreoffice-help-"))
            make_deb_tree(Path(cmd[3]), package, folder)
            return subprocess.CompletedProcess(cmd, 0, "", "")
        raise AssertionError(f"unexpected command {cmd}")

    def commands(self) -> list[str]:
        return [" ".join(c[:2]) for c in self.calls]


def make_deb_tree(dest: Path, package: str, folder: str) -> None:
    """What ``dpkg-deb -x`` of a help package leaves: the help folder, plus doc files."""
    help_dir = dest / "usr/share/libreoffice/help" / folder
    (help_dir / "text/shared/01").mkdir(parents=True)
    (help_dir / "text/shared/01/about.html").write_text(
        '<html><head><title>About</title></head><body><div id="DisplayArea">'
        '<h1 id="hd_id1">About</h1><p id="par_id1">A page about the suite.</p></div></body></html>',
        encoding="utf-8",
    )
    (help_dir / "contents.js").write_text("var c = [];\n", encoding="utf-8")
    doc = dest / "usr/share/doc" / package
    doc.mkdir(parents=True)
    (doc / "copyright").write_text("Files: *\nLicense: MPL-2.0\n", encoding="utf-8")


@pytest.fixture
def no_help_root(tmp_path: Path) -> Path:
    root = tmp_path / "no-installed-help"
    root.mkdir()
    return root


@pytest.fixture
def lists_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    d = tmp_path / "apt-lists"
    d.mkdir()
    monkeypatch.setattr(fetch, "APT_LISTS_DIR", d)
    return d


def _install(monkeypatch: pytest.MonkeyPatch, tools: FakeTools) -> FakeTools:
    monkeypatch.setattr(fetch.subprocess, "run", tools)
    return tools


# ------------------------------------------------------------------------------------------------------ installed
def test_installed_tree_wins_and_takes_dpkg_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tools = _install(monkeypatch, FakeTools(installed_version="4:7.4.7-1+deb12u14"))
    help_root = tmp_path / "help"
    (help_root / "zh-CN" / "text").mkdir(parents=True)
    tree = obtain_help_tree("zh_cn", cache_dir=tmp_path / "cache", help_root=help_root)
    assert (tree.lang, tree.folder, tree.package) == ("zh-CN", "zh-CN", "libreoffice-help-zh-cn")
    assert (tree.version, tree.source, tree.path) == ("4:7.4.7-1+deb12u14", "installed", help_root / "zh-CN")
    assert tree.provenance()["license"] == "MPL-2.0"
    assert tools.calls == [["dpkg-query", "-W", "-f=${Version}", "libreoffice-help-zh-cn"]]


def test_installed_tree_unknown_to_dpkg_gets_a_content_hash_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _install(monkeypatch, FakeTools(missing=["dpkg-query"]))
    page = tmp_path / "help" / "en-US" / "text" / "a.html"
    page.parent.mkdir(parents=True)
    page.write_text("<p>1</p>", encoding="utf-8")
    first = installed_tree("en", help_root=tmp_path / "help")
    assert first is not None and first.version.startswith("local-") and len(first.version) == 22
    assert installed_tree("en", help_root=tmp_path / "help").version == first.version  # type: ignore[union-attr]
    page.write_text("<p>12</p>", encoding="utf-8")
    assert installed_tree("en", help_root=tmp_path / "help").version != first.version  # type: ignore[union-attr]
    assert installed_tree("de", help_root=tmp_path / "help") is None


# ---------------------------------------------------------------------------------------------------- download
def test_download_unpacks_into_version_keyed_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_help_root: Path
) -> None:
    tools = _install(monkeypatch, FakeTools())
    cache = tmp_path / "cache"
    tree = obtain_help_tree("de", cache_dir=cache, help_root=no_help_root)
    root = cache / "corpora" / "libreoffice"
    assert tree.source == "download"
    assert tree.version == VERSION
    assert tree.path == root / "1_7.4.7-1+deb12u1" / "de"
    assert (tree.path / "text/shared/01/about.html").is_file()
    assert (tree.path / "contents.js").is_file()
    assert not (tree.path / "usr").exists()
    assert (tree.path / ".debian-copyright").read_text(encoding="utf-8") == "Files: *\nLicense: MPL-2.0\n"
    manifest = json.loads((tree.path / MANIFEST_NAME).read_text(encoding="utf-8"))
    assert manifest["package"] == "libreoffice-help-de"
    assert manifest["version"] == VERSION
    assert manifest["license"] == "MPL-2.0"
    assert manifest["deb_file"] == "libreoffice-help-de_1%3a7.4.7-1+deb12u1_all.deb"
    assert manifest["deb_sha256"] == hashlib.sha256(DEB_BYTES).hexdigest()
    prov = tree.provenance()
    assert prov["deb_sha256"] == manifest["deb_sha256"] and prov["source"] == "download"
    assert tools.commands() == ["apt-get download", "dpkg-deb -f", "dpkg-deb -x"]  # no installed tree: no dpkg-query
    # nothing half-built is left next to the tree
    assert sorted(p.name for p in root.iterdir()) == [".locks", "1_7.4.7-1+deb12u1"]
    assert sorted(p.name for p in (root / "1_7.4.7-1+deb12u1").iterdir()) == ["de"]


def test_cache_hit_runs_no_apt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_help_root: Path) -> None:
    _install(monkeypatch, FakeTools())
    first = obtain_help_tree("km", cache_dir=tmp_path, help_root=no_help_root)
    tools = _install(monkeypatch, FakeTools())
    again = obtain_help_tree("km", cache_dir=tmp_path, help_root=no_help_root)
    assert again.source == "cache"
    assert (again.path, again.version) == (first.path, first.version)
    assert again.extra["deb_sha256"] == first.extra["deb_sha256"]
    assert tools.calls == []


def test_version_is_part_of_the_cache_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_help_root: Path) -> None:
    _install(monkeypatch, FakeTools(version="1:7.4.7-1"))
    old = obtain_help_tree("de", cache_dir=tmp_path, help_root=no_help_root)
    _install(monkeypatch, FakeTools(version="1:7.4.7-2"))
    new = obtain_help_tree("de", cache_dir=tmp_path, help_root=no_help_root, refresh=True)
    assert (old.version, new.version) == ("1:7.4.7-1", "1:7.4.7-2")
    assert old.path != new.path and old.path.is_dir() and new.path.is_dir()
    assert {t.version for t in cached_trees("de", cache_dir=tmp_path)} == {"1:7.4.7-1", "1:7.4.7-2"}
    assert cached_tree("de", cache_dir=tmp_path, version="1:7.4.7-1").path == old.path  # type: ignore[union-attr]
    assert version_key("4:7.4.7-1+deb12u14") == "4_7.4.7-1+deb12u14"


def test_refresh_that_fails_falls_back_to_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_help_root: Path, lists_dir: Path
) -> None:
    _install(monkeypatch, FakeTools())
    cached = obtain_help_tree("de", cache_dir=tmp_path, help_root=no_help_root)
    _install(monkeypatch, FakeTools(apt_rc=100, apt_stderr="E: Failed to fetch http://deb.debian.org/...\n"))
    again = obtain_help_tree("de", cache_dir=tmp_path, help_root=no_help_root, refresh=True)
    assert (again.path, again.source) == (cached.path, "cache")


# ----------------------------------------------------------------------------------------------------- failures
def test_missing_package_lists_say_run_apt_get_update(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_help_root: Path, lists_dir: Path
) -> None:
    _install(monkeypatch, FakeTools(apt_rc=100, apt_stderr="E: Unable to locate package libreoffice-help-de\n"))
    assert not apt_lists_present()
    with pytest.raises(CorpusError) as info:
        obtain_help_tree("de", cache_dir=tmp_path, help_root=no_help_root)
    msg = str(info.value)
    assert "cannot download libreoffice-help-de: apt's package lists are missing" in msg
    assert "E: Unable to locate package libreoffice-help-de" in msg
    assert "fix: run `apt-get update` as root (non-root users: `sudo apt-get update`), then retry" in msg
    assert cached_trees("de", cache_dir=tmp_path) == []
    assert [p.name for p in corpus_root(tmp_path).iterdir()] == [".locks"]


def test_unknown_package_with_lists_present_suggests_update_and_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_help_root: Path, lists_dir: Path
) -> None:
    (lists_dir / "deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages.lz4").write_bytes(b"x")
    assert apt_lists_present()
    _install(monkeypatch, FakeTools(apt_rc=100, apt_stderr="E: Unable to locate package libreoffice-help-om\n"))
    with pytest.raises(CorpusError, match=r"apt does not know the package") as info:
        obtain_help_tree("om", cache_dir=tmp_path, help_root=no_help_root)
    assert "apt-get update" in info.value.hint  # type: ignore[operator]
    assert "apt-get install libreoffice-help-om" in info.value.hint  # type: ignore[operator]


def test_network_failure_reports_the_apt_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_help_root: Path, lists_dir: Path
) -> None:
    err = "W: some warning\nE: Failed to fetch http://deb.debian.org/pool/main/libr/x.deb  Could not resolve host\n"
    _install(monkeypatch, FakeTools(apt_rc=100, apt_stderr=err))
    with pytest.raises(CorpusError) as info:
        obtain_help_tree("vi", cache_dir=tmp_path, help_root=no_help_root)
    assert str(info.value).startswith(
        "`apt-get download libreoffice-help-vi` failed with exit code 100: E: Failed to fetch"
    )
    assert "W: some warning" not in str(info.value)


def test_no_apt_on_this_system(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_help_root: Path) -> None:
    _install(monkeypatch, FakeTools(missing=["apt-get", "dpkg-query"]))
    with pytest.raises(CorpusError, match=r"the command `apt-get` is not available") as info:
        obtain_help_tree("eu", cache_dir=tmp_path, help_root=no_help_root)
    assert "help_root" in info.value.hint  # type: ignore[operator]


def test_download_off_and_nothing_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_help_root: Path) -> None:
    tools = _install(monkeypatch, FakeTools())
    with pytest.raises(CorpusError, match="neither installed nor cached, and downloading is off") as info:
        obtain_help_tree("hi", cache_dir=tmp_path, help_root=no_help_root, download=False)
    assert info.value.hint == "run `crossalign data fetch --source libreoffice --langs hi` (or allow downloads)"
    assert "apt-get download" not in tools.commands()


def test_download_tree_rejects_a_package_without_the_help_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tools = FakeTools()
    original = tools.__call__

    def no_help(cmd: list[str], cwd: Any = None, **kw: Any) -> subprocess.CompletedProcess[str]:
        if cmd[:2] == ["dpkg-deb", "-x"]:
            Path(cmd[3], "usr/share/doc").mkdir(parents=True)
            return subprocess.CompletedProcess(cmd, 0, "", "")
        return original(cmd, cwd, **kw)

    monkeypatch.setattr(fetch.subprocess, "run", no_help)
    with pytest.raises(CorpusError, match=r"has no usr/share/libreoffice/help/de/text folder"):
        download_tree("de", cache_dir=tmp_path)
    assert cached_trees("de", cache_dir=tmp_path) == []


def test_package_whose_help_folder_is_a_link(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # like Debian's libreoffice-help-sk, whose help/sk is a link to help/cs
    tools = FakeTools()
    original = tools.__call__

    def linked(cmd: list[str], cwd: Any = None, **kw: Any) -> subprocess.CompletedProcess[str]:
        if cmd[:2] == ["dpkg-deb", "-x"]:
            help_dir = Path(cmd[3], "usr/share/libreoffice/help")
            help_dir.mkdir(parents=True)
            (help_dir / "de").symlink_to("cs")
            return subprocess.CompletedProcess(cmd, 0, "", "")
        return original(cmd, cwd, **kw)

    monkeypatch.setattr(fetch.subprocess, "run", linked)
    with pytest.raises(CorpusError, match=r"has no help of its own: its folder de is a link to cs"):
        download_tree("de", cache_dir=tmp_path)


# -------------------------------------------------------------------------------------------------- concurrency
FAKE_APT = """\
#!{python}
import os, pathlib, sys, time
with open(os.environ["FAKE_APT_LOG"], "a") as fh:
    fh.write(f"{{os.getpid()}} {{' '.join(sys.argv[1:])}}\\n")
time.sleep(0.5)
pathlib.Path(sys.argv[2] + "_1%3a7.4.7-1_all.deb").write_bytes(b"fake deb")
"""

FAKE_DPKG_DEB = """\
#!{python}
import pathlib, sys, time
if sys.argv[1] == "-f":
    print("1:7.4.7-1")
elif sys.argv[1] == "-x":
    dest = pathlib.Path(sys.argv[3])
    text = dest / "usr/share/libreoffice/help/de/text/shared"
    text.mkdir(parents=True)
    for i in range(20):
        (text / f"p{{i}}.html").write_text(f'<div id="DisplayArea"><p id="par_{{i}}">Seite {{i}}</p></div>')
        time.sleep(0.02)
"""

WORKER = """\
import json, sys
from crossalign.data.libreoffice.fetch import obtain_help_tree
tree = obtain_help_tree("de", cache_dir=sys.argv[1], help_root=sys.argv[2])
print(json.dumps({"path": str(tree.path), "version": tree.version, "source": tree.source}))
"""


def test_two_processes_fetching_into_one_cache_leave_one_valid_tree(tmp_path: Path, no_help_root: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, body in (("apt-get", FAKE_APT), ("dpkg-deb", FAKE_DPKG_DEB), ("dpkg-query", "#!/bin/sh\nexit 1\n")):
        script = bin_dir / name
        script.write_text(body.format(python=sys.executable), encoding="utf-8")
        script.chmod(0o755)
    log = tmp_path / "apt.log"
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONPATH": str(SRC),
        "FAKE_APT_LOG": str(log),
    }
    cache = tmp_path / "cache"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(cache), str(no_help_root)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1] for o in outs]
    results = [json.loads(o[0]) for o in outs]
    assert {r["path"] for r in results} == {str(cache / "corpora/libreoffice/1_7.4.7-1/de")}
    assert sorted(r["source"] for r in results) == ["cache", "download"]
    assert len(log.read_text().splitlines()) == 1  # the second process waited for the lock and found the tree
    tree = Path(results[0]["path"])
    assert sorted(p.name for p in (tree / "text/shared").iterdir()) == sorted(f"p{i}.html" for i in range(20))
    assert json.loads((tree / MANIFEST_NAME).read_text())["version"] == "1:7.4.7-1"
    root = cache / "corpora/libreoffice"
    assert sorted(p.name for p in root.iterdir()) == [".locks", "1_7.4.7-1"]
    assert [p.name for p in (root / "1_7.4.7-1").iterdir()] == ["de"]


def test_fake_tool_scripts_are_valid_python() -> None:
    compile(textwrap.dedent(FAKE_APT.format(python="x").split("\n", 1)[1]), "apt-get", "exec")
    compile(textwrap.dedent(FAKE_DPKG_DEB.format(python="x").split("\n", 1)[1]), "dpkg-deb", "exec")
