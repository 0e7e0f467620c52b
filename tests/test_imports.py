"""The shape of the code: strict layers (a module imports only from its own layer or below), no import cycle among
the package's modules or the tools, and no module reaching into another module's private (underscore) names. Read
with ``ast`` from the source, so lazy imports inside functions and ``importlib.import_module("...")`` with a
constant name count too."""

from __future__ import annotations

import ast
import textwrap
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


def dynamic_import(call: ast.Call) -> bool:
    """``importlib.import_module("name")`` or ``import_module("name")`` with a constant string: an import all the
    same (a registry that loads its modules this way must not hide an edge, or a cycle, from these tests)."""
    name = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", None)
    return (name == "import_module" and bool(call.args) and isinstance(call.args[0], ast.Constant)
            and isinstance(call.args[0].value, str))


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
        elif isinstance(node, ast.Call) and dynamic_import(node):  # importlib.import_module("rethinking_lib.x")
            target = resolve(node.args[0].value, module, mods)
            if target:
                yield target, None, node.lineno
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


# --- layers --------------------------------------------------------------------------------------------------------
# The package's folders are its layers, bottom up; a module imports only from its own layer or below (inside
# functions too). The top-level name after ``rethinking_lib.`` decides; the package's own ``__init__`` is at the
# bottom (every module's import runs it), and the tools sit above the package.
LAYERS = (
    ("paper",),
    ("engine", "store"),
    ("config", "theory", "figures"),
    ("chapters",),
    ("experiments",),
    ("pages", "planning"),
    ("__main__",),
)
TOOLS_LAYER = len(LAYERS)

# Known upward imports that cannot be removed yet: (importing module, imported module) -> why. Empty it as they go.
ALLOWED_UPWARD: dict[tuple[str, str], str] = {}


def layer(module: str) -> int:
    """The layer of a package module or tool; a module in no layer is an error (give it one above)."""
    if module.startswith("tools."):
        return TOOLS_LAYER
    parts = module.split(".")
    if parts == [PACKAGE]:
        return 0
    for i, names in enumerate(LAYERS):
        if parts[1] in names:
            return i
    raise AssertionError(f"{module} is in no layer: add its folder (or name) to LAYERS in tests/test_imports.py")


def upward(edges: dict[str, set[str]]) -> list[tuple[str, str]]:
    """Every import of a higher layer, sorted."""
    return sorted((m, t) for m, targets in edges.items() for t in targets if layer(t) > layer(m))


def test_every_module_has_a_layer_and_imports_only_from_its_own_layer_or_below():
    edges, _ = graph()
    for m in edges:
        layer(m)  # raises for a module in no layer
    offenders = [e for e in upward(edges) if e not in ALLOWED_UPWARD]
    assert offenders == [], "\n".join(f"{m} (layer {layer(m)}) imports {t} (layer {layer(t)})" for m, t in offenders)
    assert set(ALLOWED_UPWARD) <= set(upward(edges)), "an allowed upward import is gone: remove it from ALLOWED_UPWARD"


def test_the_layer_check_fails_on_an_upward_import():
    engine, chapter = f"{PACKAGE}.engine.runs", f"{PACKAGE}.chapters.ch01_pac"
    edges = {engine: {chapter, f"{PACKAGE}.paper", f"{PACKAGE}.store.results"}, chapter: {engine}, PACKAGE: set(),
             f"{PACKAGE}.figures.style": {f"{PACKAGE}.config.settings", f"{PACKAGE}.engine.models"},
             "tools.build_book": {f"{PACKAGE}.__main__"}, f"{PACKAGE}.__main__": {"tools.build_book"}}
    assert upward(edges) == sorted([(engine, chapter), (f"{PACKAGE}.__main__", "tools.build_book")])
    assert layer(PACKAGE) == layer(f"{PACKAGE}.paper") == 0 and layer(f"{PACKAGE}.experiments") == 4
    try:
        layer(f"{PACKAGE}.plots")  # a new top-level module must be given a layer
    except AssertionError as e:
        assert "rethinking_lib.plots is in no layer" in str(e)
    else:
        raise AssertionError("a module in no layer passed")


def test_the_walker_sees_dynamic_imports(tmp_path):
    mods = modules()
    path = tmp_path / "registry.py"
    path.write_text(textwrap.dedent("""
        import importlib
        from importlib import import_module

        NAME = "rethinking_lib.paper"


        def load():
            importlib.import_module("rethinking_lib.chapters.ch01_pac")
            import_module("rethinking_lib.figures")
            importlib.import_module(NAME)  # not a constant: no edge
            print("rethinking_lib.theory")  # a string naming a module is not an import
    """))
    module = f"{PACKAGE}.config.registry"  # figures/ is on its layer, chapters/ above it
    found = {target for target, _, _ in imports(module, path, {**mods, module: path})}
    assert found == {f"{PACKAGE}.chapters.ch01_pac", f"{PACKAGE}.figures"}
    # so a registry that loads its modules by name cannot hide a loop or an upward import
    assert upward({module: found}) == [(module, f"{PACKAGE}.chapters.ch01_pac")]
    assert cycles({module: found, f"{PACKAGE}.chapters.ch01_pac": {module}}) == [sorted([module, f"{PACKAGE}.chapters.ch01_pac"])]
