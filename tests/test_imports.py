"""The shape of the code: no import cycle among the package's modules or the tools, and no module reaching into
another module's private (underscore) names. Read with ``ast`` from the source, so lazy imports inside
functions count too."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGE = "rethinking_lib"

# Known offenders being made public in parallel work; each entry is (importing module, "module._name").
# Empty this list as they are fixed: the test then holds the line.
ALLOWED_PRIVATE: set[tuple[str, str]] = set()  # none: every cross-module name is public


def modules() -> dict[str, Path]:
    """Every module of the package (``rethinking_lib.x``) and every tool script (``tools.x``)."""
    found = {}
    for p in (REPO / PACKAGE).rglob("*.py"):
        parts = p.relative_to(REPO).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = p
    found.update({f"tools.{p.stem}": p for p in (REPO / "tools").glob("*.py")})
    return found


def resolve(name: str, importer: str, mods: dict[str, Path]) -> str | None:
    """The project module an import of ``name`` in ``importer`` refers to (tools import each other by bare name)."""
    if name in mods:
        return name
    if importer.startswith("tools.") and f"tools.{name}" in mods:
        return f"tools.{name}"
    return None


def imports(module: str, path: Path, mods: dict[str, Path]):
    """Yield (imported module, private name or None, line) for each project import in ``path``."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    aliases: dict[str, str] = {}  # local name -> project module
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                target = resolve(a.name, module, mods)
                if target:
                    aliases[a.asname or a.name] = target
                    yield target, None, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, *([node.module] if node.module else [])])
            for a in node.names:
                sub = resolve(f"{base}.{a.name}", module, mods)
                if sub:  # "from . import x": x is a module
                    aliases[a.asname or a.name] = sub
                    yield sub, None, node.lineno
                    continue
                target = resolve(base, module, mods)
                if target:
                    private = a.name if a.name.startswith("_") and not a.name.startswith("__") else None
                    yield target, private, node.lineno
    for node in ast.walk(tree):  # module._name
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases
                and node.attr.startswith("_") and not node.attr.startswith("__")):
            yield aliases[node.value.id], node.attr, node.lineno


def graph():
    mods = modules()
    edges: dict[str, set[str]] = {m: set() for m in mods}
    private = []
    for m, path in mods.items():
        for target, name, line in imports(m, path, mods):
            if target != m:
                edges[m].add(target)
            if name and target != m:
                private.append((m, f"{target}.{name}", f"{path.relative_to(REPO)}:{line}"))
    return edges, private


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found = []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_the_walker_sees_imports_of_every_kind():
    edges, private = graph()
    assert "rethinking_lib.engine.train" in edges["rethinking_lib.engine.runs"]  # from . import train
    assert "rethinking_lib.config.experiment" in edges["rethinking_lib.chapters.ch01_pac"]  # from ..config.experiment import
    assert "tools.book_toc" in edges["tools.build_book"]  # a tool importing another by name
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycle():
    edges, _ = graph()
    assert cycles(edges) == []


def test_no_module_imports_another_modules_private_names():
    _, private = graph()
    offenders = sorted({(m, name, where) for m, name, where in private if (m, name) not in ALLOWED_PRIVATE})
    assert offenders == [], "\n".join(f"{where}: {m} uses {name}" for m, name, where in offenders)
