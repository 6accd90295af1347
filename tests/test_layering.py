"""The package's imports point down the layers written in docs/development.md (Layers).

Every import counts: module level, under ``if TYPE_CHECKING``, and inside functions. A module may import
its own top-level package (``beliefs.analyses.kind`` → ``beliefs.analyses.context``) and any package of a
strictly lower layer, never one of its own layer or above.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "beliefs"

LAYERS: tuple[tuple[str, ...], ...] = (
    ("errors",),
    ("schema", "fileio", "settings", "rundata", "stats"),
    ("models", "results", "plotting"),
    ("facts",),
    ("store",),
    ("inputs",),
    ("extract", "elicit", "trace"),
    ("intervene",),
    ("analyses",),
    ("report", "compare"),
    ("study",),
    ("",),
    ("cli",),
)
"""Lowest first. ``""`` is the package itself (``beliefs/__init__.py``, the notebook facade)."""

LEVEL = {part: i for i, layer in enumerate(LAYERS) for part in layer}


def part_of(module: str) -> str:
    """The layer unit of a dotted module name: ``beliefs.analyses.kind`` → ``analyses``; ``beliefs`` → ``""``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def is_module(dotted: str) -> bool:
    """A module or package of ``beliefs`` by that dotted name."""
    path = PACKAGE.parent.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imports_of(path: Path, source: str | None = None) -> list[tuple[int, str]]:
    """``(line, module)`` of every ``beliefs`` import in the module at ``path`` (its text, or ``source``),
    relative imports resolved."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    text = path.read_text(encoding="utf-8") if source is None else source
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(text, str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            # ``from beliefs.report import figures`` imports the module ``beliefs.report.figures``
            submodules = [f"{target}.{a.name}" for a in node.names if is_module(f"{target}.{a.name}")]
            found += [(node.lineno, m) for m in submodules]
            if len(submodules) < len(node.names):
                found.append((node.lineno, target))
    return [(line, m) for line, m in found if m == "beliefs" or m.startswith("beliefs.")]


def violations(importer: str, imported: list[tuple[int, str]]) -> list[str]:
    """Imports of ``importer`` against the layers: same layer (another unit) or above; unknown units too."""
    unit = part_of(importer)
    bad = []
    if unit not in LEVEL:
        return [f"{importer}: '{unit}' is in no layer; add it to LAYERS and to docs/development.md"]
    for line, target in imported:
        other = part_of(target)
        if other == unit:
            continue
        if other not in LEVEL:
            bad.append(f"{importer}:{line} imports {target}, which is in no layer")
        elif LEVEL[other] >= LEVEL[unit]:
            bad.append(
                f"{importer}:{line} imports {target} (layer {LEVEL[other]}, '{other}'), not below "
                f"its own layer {LEVEL[unit]} ('{unit}')"
            )
    return bad


def all_modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_every_import_points_down() -> None:
    bad = [v for path in all_modules() for v in violations(module_name(path), imports_of(path))]
    assert not bad, "imports against the layers (docs/development.md, Layers):\n" + "\n".join(bad)


def test_every_unit_has_a_layer() -> None:
    units = {part_of(module_name(p)) for p in all_modules()}
    assert units <= set(LEVEL), f"packages in no layer: {sorted(units - set(LEVEL))}"
    assert set(LEVEL) <= units, f"layers name packages that do not exist: {sorted(set(LEVEL) - units)}"


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import cycles of a module graph: its strongly connected components of more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycles() -> None:
    """Not even through ``if TYPE_CHECKING`` (models/embedded ↔ hf ↔ registry was one)."""
    modules = {module_name(p): p for p in all_modules()}
    graph = {m: {t for _line, t in imports_of(p) if t in modules and t != m} for m, p in modules.items()}
    assert cycles(graph) == []


def test_cycle_finder_finds_a_type_only_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


@pytest.mark.parametrize(
    ("importer", "target", "ok"),
    [
        ("beliefs.analyses.kind", "beliefs.stats.permutation", True),
        ("beliefs.analyses.kind", "beliefs.analyses.context", True),
        ("beliefs.report.build", "beliefs.results.verdict", True),
        ("beliefs.facts.loader", "beliefs.study.schema", False),  # up: the bug this test was written for
        ("beliefs.elicit.stats", "beliefs.analyses.columns", False),  # up
        ("beliefs.extract.probe", "beliefs.elicit", False),  # same layer, another unit
        ("beliefs.models.cache", "beliefs.store.run", False),  # up
        ("beliefs.stats.probes", "beliefs.nowhere", False),  # a unit in no layer
    ],
)
def test_rule_detects_bad_imports(importer: str, target: str, ok: bool) -> None:
    assert (violations(importer, [(1, target)]) == []) is ok


def test_reader_sees_type_checking_and_function_imports() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from beliefs.report import build\n"
        "def f():\n    from beliefs.cli import main\n"
        "from . import context\n"
        "from beliefs import study\n"
    )
    found = imports_of(PACKAGE / "analyses" / "probe_file.py", source)
    assert sorted(m for _line, m in found) == [
        "beliefs.analyses.context",
        "beliefs.cli",
        "beliefs.report.build",
        "beliefs.study",
    ]
    assert len(violations("beliefs.analyses.probe_file", found)) == 3
