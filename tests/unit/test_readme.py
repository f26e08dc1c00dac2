"""README.md is tested: every ```python block runs, and the tables rendered from registries match them.

The blocks run in README order, each in a fresh namespace, all in one temporary working directory (a later block
may read a file an earlier one wrote, as a reader following the README would). They load the built-in model
``e5-small-q4`` and the LibreOffice corpus from the crossalign cache, offline, so running them is an integration
test; extracting and compiling them, and the table checks, are unit tests. A block added to the README is picked up
without touching this file.

To see a failing block on its own: ``python -m pytest tests/unit/test_readme.py -m integration -k "line_123"``.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"
_FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<lang>[\w+-]*)\s*$")


def python_blocks(text: str) -> list[tuple[int, str]]:
    """``(line, code)`` of every fenced block whose language is ``python`` (indented ones, inside list items,
    dedented by their fence's indentation); ``line`` is the 1-based line of the opening fence."""
    blocks: list[tuple[int, str]] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m or not m.group("lang"):
            i += 1
            continue
        indent, lang, start = m.group("indent"), m.group("lang"), i + 1
        body: list[str] = []
        i += 1
        while i < len(lines) and not re.match(rf"^{re.escape(indent)}```\s*$", lines[i]):
            body.append(lines[i][len(indent) :] if lines[i].startswith(indent) else lines[i].lstrip())
            i += 1
        if i == len(lines):
            raise AssertionError(f"README.md:{start}: the ```{lang} block is never closed")
        if lang in ("python", "py"):
            blocks.append((start, "\n".join(body) + "\n"))
        i += 1
    return blocks


BLOCKS = python_blocks(README.read_text(encoding="utf-8"))


def test_blocks_are_found() -> None:
    fenced = len(re.findall(r"^[ \t]*```python\s*$", README.read_text(encoding="utf-8"), flags=re.MULTILINE))
    assert len(BLOCKS) == fenced >= 4
    sample = python_blocks("x\n\n  ```python\n  a = 1\n    b = 2\n  ```\n```bash\nls\n```\n")
    assert sample == [(3, "a = 1\n  b = 2\n")]


@pytest.mark.parametrize(("line", "code"), BLOCKS, ids=[f"line_{line}" for line, _ in BLOCKS])
def test_python_block_compiles(line: int, code: str) -> None:
    compile(code, f"README.md:{line}", "exec")


def test_tables_rendered_from_registries_match() -> None:
    from crossalign.evaluation.metrics import metric_table
    from crossalign.evaluation.results import suite_table
    from crossalign.losses.registry import columns_table

    readme = README.read_text(encoding="utf-8")
    for name, table in (("metric_table", metric_table()), ("suite_table", suite_table()), ("columns", columns_table())):
        assert table in readme, f"README.md is out of date: paste {name}() in its place:\n{table}"


def test_results_json_keys_are_documented() -> None:
    from crossalign.evaluation import results

    readme = README.read_text(encoding="utf-8")
    section = readme[readme.index("**`results.json`**") :]
    section = section[: section.index("\n## ")]
    for key in (*results._RESULT_FIELDS, *results._TASK_FIELDS):
        assert f"`{key}`" in section, f"results.json key {key!r} is not described in README 'Evaluate'"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("readme")


@pytest.mark.integration
@pytest.mark.parametrize(("line", "code"), BLOCKS, ids=[f"line_{line}" for line, _ in BLOCKS])
def test_python_block_runs(line: int, code: str, workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(workdir)
    monkeypatch.setenv("CROSSALIGN_NO_PROGRESS", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, f"README.md:{line}", "exec"), {"__name__": "__main__"})
    assert os.getcwd() == str(workdir)
