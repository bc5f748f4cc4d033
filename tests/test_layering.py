"""One direction of flow, checked over every module: svtui -> hotspot -> geodata.

One AST walk over every .py file in geodata/, hotspot/ and svtui/ reads every import (at module
level and inside functions, plus importlib.import_module calls with a literal name), so a module
that is never imported by the tests is checked as well. geodata and hotspot never import textual
or rich (the engine must run where no terminal library is installed), and scikit-learn is a
test-only oracle.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LAYERS = ("geodata", "hotspot", "svtui")  # each may import only itself and the layers before it
TERMINAL = {"textual", "rich"}
TEST_ONLY = {"sklearn", "esda", "libpysal", "hypothesis", "pytest"}


def _imports(path: Path, package: str) -> list[tuple[int, str]]:
    """(line, top-level module) of every import in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    out: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name.split(".")[0]) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            out.append((node.lineno, package if node.level else (node.module or "").split(".")[0]))
        elif (isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", None)) in ("import_module", "__import__")
              and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            out.append((node.lineno, node.args[0].value.split(".")[0]))
    return out


def _files() -> list[tuple[str, Path]]:
    return [(pkg, f) for pkg in LAYERS for f in sorted((REPO / pkg).rglob("*.py"))]


def test_every_package_is_walked():
    files = _files()
    for pkg in LAYERS:
        assert sum(1 for p, _ in files if p == pkg) >= 5, pkg
    assert any(f.name == "session.py" for _, f in files)


@pytest.mark.parametrize("pkg", LAYERS)
def test_imports_flow_one_way(pkg):
    allowed = set(LAYERS[: LAYERS.index(pkg) + 1])
    bad = []
    for p, f in _files():
        if p != pkg:
            continue
        for line, mod in _imports(f, pkg):
            if mod in LAYERS and mod not in allowed:
                bad.append(f"{f.relative_to(REPO)}:{line} imports {mod}")
            if pkg != "svtui" and mod in TERMINAL:
                bad.append(f"{f.relative_to(REPO)}:{line} imports {mod} (no terminal libraries below svtui)")
            if mod in TEST_ONLY:
                bad.append(f"{f.relative_to(REPO)}:{line} imports {mod} (a test-only dependency)")
    assert not bad, "\n".join(bad)


def test_the_walk_sees_imports_inside_functions(tmp_path):
    """The check would catch a lazy upward import (the kind a sys.modules probe never loads)."""
    f = tmp_path / "m.py"
    f.write_text("def late():\n    from svtui.app import SvtuiApp\n    import rich.text\n"
                 "    importlib.import_module('textual.app')\nfrom . import sibling\n")
    assert sorted(m for _, m in _imports(f, "hotspot")) == ["hotspot", "rich", "svtui", "textual"]
