"""The layout as a checked map: the import graph (read with ``ast``, nothing imported)
has no cycle, ``derivations/`` is symbolic only, the layers of ``derivations/`` and of
``numerics/`` import only downwards, every import of the project goes through the one
import package ``sparsemom``, and imports sit at module top (optional dependencies
excepted).  Module names below are relative to ``sparsemom`` (``numerics.cli``)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("derivations", "numerics", "paper_figures")
#: numerics' layers, lowest first: a module may import its own layer and those before it.
LAYERS = ("runtime", "inputs", "results", "codegen", "generated", "kernels", "simulate", "analysis",
          "verify", "studies", "cli")
#: derivations' subpackages, lowest first: a module may import its own and those before it.
DERIVATION_LAYERS = ("core", "definitions", "engine", "rare_class", "properties", "limits",
                     "output")
#: Optional dependencies, imported where they are used (a missing extra fails there).
OPTIONAL = ("dask", "wordfreq", "pdoc")
NUMERIC_LIBRARIES = ("numpy", "scipy")


def _modules() -> dict[str, Path]:
    found = {"sparsemom": ROOT / "sparsemom" / "__init__.py"}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _imported(module: str, path: Path, node: ast.AST) -> list[str]:
    """Absolute names imported by one statement (``from a import b`` gives ``a.b`` when
    that is a module, else ``a``)."""
    if isinstance(node, ast.Import):
        return [alias.name.removeprefix("sparsemom.") for alias in node.names]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    if node.level:
        base = package.split(".")[: len(package.split(".")) - node.level + 1]
        source = ".".join(base + ([node.module] if node.module else []))
    else:
        source = node.module.removeprefix("sparsemom.")
    return [f"{source}.{a.name}" if f"{source}.{a.name}" in MODULES else source for a in node.names]


def _project_module(name: str) -> str | None:
    while name not in MODULES and "." in name:
        name = name.rpartition(".")[0]
    return name if name in MODULES else None


def _imports() -> dict[str, list[tuple[str, ast.AST]]]:
    graph = {}
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        graph[module] = [(name, node) for node in ast.walk(tree)
                         if isinstance(node, (ast.Import, ast.ImportFrom))
                         for name in _imported(module, path, node)]
    return graph


GRAPH = _imports()


def _edges() -> dict[str, set[str]]:
    edges = {}
    for module, imports in GRAPH.items():
        targets = {_project_module(name) for name, _ in imports}
        edges[module] = {t for t in targets if t and t != module}
    return edges


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in edges:
        if v not in index:
            visit(v)
    return found


def test_the_walk_sees_the_whole_project():
    assert {"sparsemom", "derivations.engine.recursion", "numerics.kernels.exact_risk",
            "numerics.cli.main", "paper_figures.__main__"} <= set(MODULES)
    assert "derivations.engine.moments" in _edges()["derivations.rare_class.linearisation"]
    assert "numerics.version" in _edges()["sparsemom"]


def test_no_import_cycles():
    assert _cycles(_edges()) == []


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_derivations_are_symbolic_only():
    offending = [(m, name) for m, imports in GRAPH.items() if m.startswith("derivations")
                 for name, _ in imports if name.split(".")[0] in NUMERIC_LIBRARIES + ("numerics",)]
    assert offending == []


def _layer(module: str) -> int | None:
    parts = module.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 and parts[1] in LAYERS else None


def test_numerics_layers_import_only_downwards():
    upward = []
    for module, targets in _edges().items():
        if not module.startswith("numerics.") or _layer(module) is None:
            continue
        for target in targets:
            if target.startswith("numerics.") and (_layer(target) or 0) > _layer(module):
                upward.append((module, target))
    assert upward == []


def test_derivations_layers_import_only_downwards():
    """``core`` → ``definitions`` → ``engine`` → ``rare_class`` → ``properties`` → ``limits``
    → ``output``: the engine imports neither the rare-class linearisation nor LaTeX export."""
    def layer(module):
        parts = module.split(".")
        return DERIVATION_LAYERS.index(parts[1]) if len(parts) > 2 and parts[0] == "derivations" \
            else None
    found = {m.split(".")[1] for m in MODULES if m.startswith("derivations.") and m.count(".") >= 2}
    assert found == set(DERIVATION_LAYERS), found
    upward = []
    for module, imports in GRAPH.items():
        own = layer(module)
        if own is None:
            continue
        for name, _ in imports:
            target = _project_module(name)
            if target and layer(target) is not None and layer(target) > own:
                upward.append((module, target))
    assert upward == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_sit_at_module_top(module):
    tree = ast.parse(MODULES[module].read_text())
    inner = [ast.unparse(node) for fn in ast.walk(tree)
             if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef))
             for node in ast.walk(fn) if isinstance(node, (ast.Import, ast.ImportFrom))]
    assert [s for s in inner if not any(f" {o}" in s or f" {o}." in s for o in OPTIONAL)] == []


#: The built-in laws' names, read off their definitions (``name="…"`` or ``NAME = "…"`` in
#: a module that defines laws, ``DEFINES_LAWS = True``).
def _law_modules() -> dict[str, set[str]]:
    out = {}
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text())
        flags = [n for n in tree.body if isinstance(n, ast.Assign)
                 and any(getattr(t, "id", None) == "DEFINES_LAWS" for t in n.targets)]
        if not flags:
            continue
        names = {n.value.value for n in ast.walk(tree)
                 if isinstance(n, ast.keyword) and n.arg == "name"
                 and isinstance(n.value, ast.Constant) and isinstance(n.value.value, str)}
        names |= {n.value.value for n in tree.body if isinstance(n, ast.Assign)
                  and any(getattr(t, "id", None) == "NAME" for t in n.targets)
                  and isinstance(n.value, ast.Constant)}
        out[module] = names
    return out


LAW_MODULES = _law_modules()


def _compared_strings(tree: ast.AST) -> list[tuple[int, str]]:
    """String constants compared with ``==``, ``!=``, ``in``, ``not in`` (also in a tuple,
    list or set on either side), or used as a ``match`` case."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            for side in (node.left, *node.comparators):
                items = side.elts if isinstance(side, (ast.Tuple, ast.List, ast.Set)) else [side]
                found += [(node.lineno, x.value) for x in items
                          if isinstance(x, ast.Constant) and isinstance(x.value, str)]
        elif isinstance(node, ast.MatchValue) and isinstance(node.value, ast.Constant):
            found.append((node.lineno, node.value.value))
    return found


def test_the_built_in_laws_are_found():
    names = set().union(*LAW_MODULES.values())
    assert {"lsq", "logistic"} <= names, LAW_MODULES


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_but_a_laws_own_compares_with_its_name(module):
    """Code asks a law for its properties (``token_mask``, ``closed_moments``, …), never
    compares its name: a user's law then works wherever a built-in one does."""
    if module in LAW_MODULES:
        return
    names = set().union(*LAW_MODULES.values())
    tree = ast.parse(MODULES[module].read_text())
    assert [(line, s) for line, s in _compared_strings(tree) if s in names] == []


def test_the_name_comparison_check_catches_one():
    tree = ast.parse('if model == "lsq":\n    pass\nif "logistic" in (a, b):\n    pass\n')
    assert [s for _, s in _compared_strings(tree)] == ["lsq", "logistic"]


def _bare_imports(path: Path) -> list[str]:
    """Imports of ``derivations``, ``numerics`` or ``paper_figures`` not through ``sparsemom``
    (a second copy of the package under another name: two registries of rules and laws)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    names += [n.module for n in ast.walk(tree)
              if isinstance(n, ast.ImportFrom) and n.level == 0 and n.module]
    return [name for name in names if name.split(".")[0] in PACKAGES]


def test_every_import_goes_through_the_sparsemom_package():
    scripts = [*MODULES.values(), *(ROOT / "tests").glob("*.py"), ROOT / "notebooks" / "build.py"]
    assert {str(p.relative_to(ROOT)): names for p in scripts if (names := _bare_imports(p))} == {}


def test_the_bare_import_check_catches_one(tmp_path):
    path = tmp_path / "x.py"
    path.write_text("import numerics\nfrom derivations.engine import store\n"
                    "from sparsemom.numerics import exact_risk\n")
    assert _bare_imports(path) == ["numerics", "derivations.engine"]
