"""The package layering holds: every ``crossalign`` module imports only from its own layer package or lower ones.

Layers, lowest first: errors; utils, languages; search, losses; models; data; training and evaluation (which do not
import each other); reports; workflows; cli. Function-local imports count too (they are read from the source, not from
``sys.modules``), so a lazy import cannot hide an arrow that runs back up.
"""

from __future__ import annotations

import ast
from pathlib import Path

import crossalign

SRC = Path(crossalign.__file__).resolve().parent

RANK = {
    "errors": 0,
    "utils": 1,
    "languages": 1,
    "search": 2,
    "losses": 2,
    "models": 3,
    "data": 4,
    "training": 5,
    "evaluation": 5,
    "reports": 6,
    "workflows": 7,
    "cli": 8,
    "__main__": 9,
    "__init__": 9,
}


def _imports(path: Path, module: tuple[str, ...] | None = None) -> set[str]:
    """The ``crossalign`` top-level packages/modules a file imports (absolute and relative imports); ``module`` is
    the file's dotted name as parts (default: from its place under the package)."""
    rel = module or path.relative_to(SRC.parent).with_suffix("").parts  # ("crossalign", "data", "mining")
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(rel[: len(rel) - node.level])
                names = [".".join([*base, *([node.module] if node.module else [])])]
            else:
                names = [node.module or ""]
        else:
            continue
        out.update(n.split(".")[1] for n in names if n.startswith("crossalign.") and n.count(".") >= 1)
    return out


def _violation(own: str, imported: set[str], where: str) -> list[str]:
    bad = []
    for target in sorted(imported):
        assert target in RANK, f"{where} imports unknown crossalign.{target}"
        if target != own and RANK[target] >= RANK[own]:
            bad.append(f"{where} imports crossalign.{target}")
    return bad


def _violations() -> list[str]:
    bad = []
    for path in sorted(SRC.rglob("*.py")):
        own = path.relative_to(SRC).parts[0].removesuffix(".py")
        assert own in RANK, f"{path}: new top-level module {own!r}: give it a layer in this test"
        bad += _violation(own, _imports(path), str(path.relative_to(SRC)))
    return bad


def test_no_module_imports_from_its_own_or_a_higher_layer() -> None:
    assert _violations() == []


def test_data_never_imports_evaluation() -> None:
    data = [p for p in (SRC / "data").rglob("*.py") if "evaluation" in _imports(p)]
    assert data == []


def test_the_check_sees_relative_and_function_local_imports(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    from crossalign.evaluation import results\n    from ..reports import tables\n")
    imported = _imports(probe, ("crossalign", "data", "probe"))
    assert imported == {"evaluation", "reports"}
    assert _violation("data", imported, "data/probe.py") == [
        "data/probe.py imports crossalign.evaluation",
        "data/probe.py imports crossalign.reports",
    ]
    assert _violation("reports", imported, "reports/probe.py") == []
