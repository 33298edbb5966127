"""The package's own import graph has no cycle, and the library never imports the command line.

Every module of ``src/fairclust`` is parsed with :mod:`ast`; every ``import`` and
``from ... import`` (at module level or inside a function) that names a fairclust module
is an edge. Relative imports are resolved against the importing module's package (an
``__init__.py`` is its package). ``from PKG import x`` is an edge to the module ``PKG.x``
when there is one, else to ``PKG`` itself (``x`` is then a name defined by the package).
Parent packages that Python initialises on the way are not edges: they are already being
imported when their submodules run.
"""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
ROOT = "fairclust"


def module_names(src: Path = SRC) -> dict[str, Path]:
    """Dotted name of every module of the package -> its file (``pkg/__init__.py`` is ``pkg``)."""
    out = {}
    for path in sorted((src / ROOT).rglob("*.py")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _target(name: str, modules: dict[str, Path]) -> str | None:
    """The longest fairclust module that ``name`` (a module or ``module.attribute``) names."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The fairclust modules that module ``name`` (file ``path``) imports, anywhere in its code."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(t for a in node.names if (t := _target(a.name, modules)))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module or ""
            for alias in node.names:
                target = _target(origin if alias.name == "*" else f"{origin}.{alias.name}", modules)
                if target:
                    found.add(target)
    found.discard(name)
    return found


def import_graph(src: Path = SRC) -> dict[str, set[str]]:
    modules = module_names(src)
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def test_resolution_of_relative_and_package_imports(tmp_path):
    """The resolver on a made-up package: relative levels, ``from . import submodule`` in an
    ``__init__``, names defined by a package, imports inside functions."""
    pkg = tmp_path / ROOT
    (pkg / "sub").mkdir(parents=True)
    files = {
        "__init__.py": "from .sub import thing\n",
        "a.py": "import fairclust.sub.b\nfrom fairclust import a\n",
        "sub/__init__.py": "from . import b\nthing = 1\n",
        "sub/b.py": "from .. import a\nfrom . import thing\ndef f():\n    from ..sub.b import x\n",
        "sub/c.py": "from ..sub import b, thing\nimport numpy\n",
    }
    for rel, text in files.items():
        (pkg / rel).write_text(text)
    graph = import_graph(tmp_path)
    assert graph == {"fairclust": {"fairclust.sub"}, "fairclust.a": {"fairclust.sub.b"},
                     "fairclust.sub": {"fairclust.sub.b"}, "fairclust.sub.b": {"fairclust.a", "fairclust.sub"},
                     "fairclust.sub.c": {"fairclust.sub.b", "fairclust.sub"}}
    with pytest.raises(graphlib.CycleError):  # a -> sub.b -> a
        graphlib.TopologicalSorter(graph).prepare()


def test_no_import_cycle():
    graph = import_graph()
    assert len(graph) > 40 and "fairclust.cli" in graph
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as exc:
        pytest.fail("import cycle: " + " -> ".join(exc.args[1]))


def test_only_the_entry_point_imports_the_command_line():
    """The library never imports ``fairclust.cli``; command modules import shared argument
    code, never the entry point ``fairclust.cli`` itself."""
    graph = import_graph()
    into_cli = sorted(m for m, deps in graph.items() if not m.startswith(f"{ROOT}.cli")
                      and any(d == f"{ROOT}.cli" or d.startswith(f"{ROOT}.cli.") for d in deps))
    assert into_cli == [f"{ROOT}.__main__"]
    assert sorted(m for m, deps in graph.items() if f"{ROOT}.cli" in deps) == [f"{ROOT}.__main__"]


def package_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """The module graph collapsed to the package's top level: ``fairclust.methods.dfc`` is
    ``fairclust.methods``, ``fairclust.runner`` itself; the root package ``fairclust`` is left out
    (every module lies inside it)."""

    def unit(name: str) -> str | None:
        parts = name.split(".")
        return ".".join(parts[:2]) if len(parts) > 1 else None

    out: dict[str, set[str]] = {}
    for name, deps in graph.items():
        src = unit(name)
        if src is None:
            continue
        out.setdefault(src, set()).update(d for d in map(unit, deps) if d is not None and d != src)
    return out


def test_package_level_graph_collapses_submodules():
    graph = {"fairclust": {"fairclust.a"}, "fairclust.a": {"fairclust.p.x"}, "fairclust.p.x": {"fairclust.p.y"},
             "fairclust.p.y": {"fairclust.a"}, "fairclust.p": set()}
    assert package_graph(graph) == {"fairclust.a": {"fairclust.p"}, "fairclust.p": {"fairclust.a"}}
    with pytest.raises(graphlib.CycleError):  # a -> p (x) -> a, though no module cycles
        graphlib.TopologicalSorter(package_graph(graph)).prepare()


def test_no_import_cycle_between_packages():
    """No cycle between the package's top-level modules and subpackages either: a run's figures
    (``fairclust.figures``) need no experiment code, the experiments call the runner, and nothing
    below them imports them back."""
    graph = package_graph(import_graph())
    assert "fairclust.figures" in graph and "fairclust.experiments" in graph
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as exc:
        pytest.fail("package-level import cycle: " + " -> ".join(exc.args[1]))
    assert "fairclust.experiments" not in graph["fairclust.runner"]
