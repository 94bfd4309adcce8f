"""The rooms stay livable: small modules, no import cycles, no reaching into private names."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "audiolab"
MODULES = {
    ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__"): path
    for path in sorted(PACKAGE.rglob("*.py"))
}
#: At most 500 lines per module (docstrings included): the redesign's "each module ~500 lines".
MAX_LINES = 500


def _tree(name: str) -> ast.Module:
    return ast.parse(MODULES[name].read_text(), filename=str(MODULES[name]))


def _resolve(module: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    is_package = MODULES[module].name == "__init__.py"
    parent = base if is_package else base[:-1]
    parent = parent[: len(parent) - node.level + 1]
    return ".".join([*parent, node.module] if node.module else parent)


def _top_level_imports(module: str) -> set[str]:
    """The audiolab modules imported when ``module`` is imported (not inside functions)."""
    found: set[str] = set()
    for node in _tree(module).body:
        if isinstance(node, ast.If):  # TYPE_CHECKING blocks do not run
            continue
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("audiolab")}
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(module, node)
            if target.startswith("audiolab"):
                for alias in node.names:
                    child = f"{target}.{alias.name}"
                    found.add(child if child in MODULES else target)
    return {m for m in found if m in MODULES and m != module}


#: Being split into packages (issue 16) on their branches; removed when they land.
SPLIT_PENDING: set[str] = set()


@pytest.mark.parametrize("name", sorted(MODULES))
def test_every_module_is_small_enough_to_hold_in_mind(name: str) -> None:
    if name in SPLIT_PENDING and MODULES[name].name != "__init__.py":
        pytest.xfail(f"{name} is being split into a package")
    lines = len(MODULES[name].read_text().splitlines())
    assert lines <= MAX_LINES, f"{name} has {lines} lines; split it into rooms of one idea"


def test_no_import_cycles_among_the_modules() -> None:
    graph = {name: _top_level_imports(name) for name in MODULES}
    # a package imports its own submodules; the cycle that matters is between rooms
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for child in graph[node]:
            if child.startswith(node + "."):  # a package importing its own children
                continue
            if state.get(child) == 1:
                cycle = [*path[path.index(child) :], child] if child in path else [node, child]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if child not in state:
                visit(child, [*path, child])
        state[node] = 2

    for name in graph:
        if name not in state:
            visit(name, [name])


def _private_uses(module: str) -> list[str]:
    tree = _tree(module)
    found = []
    imported_modules: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            target = _resolve(module, node)
            if not target.startswith("audiolab") or target == module:
                continue
            for alias in node.names:
                if f"{target}.{alias.name}" in MODULES:
                    imported_modules[alias.asname or alias.name] = f"{target}.{alias.name}"
                elif alias.name.startswith("_") and not alias.name.startswith("__"):
                    found.append(f"{target}.{alias.name}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("audiolab") and alias.asname:
                    imported_modules[alias.asname] = alias.name
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in imported_modules
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
        ):
            found.append(f"{imported_modules[node.value.id]}.{node.attr}")
    return found


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_reaches_into_another_modules_private_names(name: str) -> None:
    assert _private_uses(name) == [], f"{name} uses private names of other modules"


def test_the_checks_themselves_can_fail(tmp_path, monkeypatch) -> None:
    fake = tmp_path / "audiolab"
    fake.mkdir()
    (fake / "__init__.py").write_text("")
    (fake / "a.py").write_text("from audiolab.b import _hidden\nfrom audiolab import b\n")
    (fake / "b.py").write_text("from audiolab import a\n\n\ndef _hidden():\n    return a._x\n")
    modules = {
        "audiolab": fake / "__init__.py",
        "audiolab.a": fake / "a.py",
        "audiolab.b": fake / "b.py",
    }
    monkeypatch.setattr(f"{__name__}.MODULES", modules)
    assert _private_uses("audiolab.a") == ["audiolab.b._hidden"]
    assert _private_uses("audiolab.b") == ["audiolab.a._x"]
    with pytest.raises(AssertionError, match="import cycle"):
        test_no_import_cycles_among_the_modules()
