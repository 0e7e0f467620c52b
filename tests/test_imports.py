"""The shape of the code: strict layers (a module imports only from its own layer or below), no import cycle among
the package's modules or the tools, and no module reaching into another module's private (underscore) names. Read
with ``ast`` from the source, so lazy imports inside functions and ``importlib.import_module("...")`` with a
constant name count too."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from rethinking_lib import ALIASES

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
    """(module -> the project modules it imports, [(module, "module._name", "file:line")] of private names used).

    An old name the package keeps for users (``rethinking_lib.models``: ``rethinking_lib.ALIASES``) counts as the
    engine module it is, so an import through it still shows as an edge."""
    mods = modules()
    edges: dict[str, set[str]] = {m: set() for m in mods}
    private = []
    for m, path in mods.items():
        for target, name, line in imports(m, path, {**mods, **dict.fromkeys(ALIASES)}):
            target = ALIASES.get(target, target)
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


# --- the old names ``rethinking_lib.models`` / ``.data`` / ``.corrupt`` ------------------------------------------------

def old_name_imports() -> list[str]:
    """Every import of an old name in the package or the tools, as "file:line imports name"."""
    mods = modules()
    return sorted(f"{path.relative_to(REPO)}:{line} imports {target}" for m, path in mods.items()
                  for target, _, line in imports(m, path, {**mods, **dict.fromkeys(ALIASES)}) if target in ALIASES)


def test_the_project_imports_the_engine_modules_not_their_old_names(tmp_path):
    # the old names are for users; inside the project they would hide which layer a module reaches into
    assert old_name_imports() == []
    path = tmp_path / "x.py"
    path.write_text("from .. import data\nimport rethinking_lib.models\nfrom rethinking_lib import corrupt, paper\n")
    found = {t for t, _, _ in imports(f"{PACKAGE}.chapters.x", path, {**modules(), **dict.fromkeys(ALIASES)})}
    assert found == {f"{PACKAGE}.data", f"{PACKAGE}.models", f"{PACKAGE}.corrupt", f"{PACKAGE}.paper"}
    assert set(ALIASES) == {f"{PACKAGE}.models", f"{PACKAGE}.data", f"{PACKAGE}.corrupt"}
    assert all(engine == f"{PACKAGE}.engine.{old.rsplit('.', 1)[1]}" and engine in modules()
               for old, engine in ALIASES.items())


# Run in a fresh interpreter: what ``import rethinking_lib`` loads, and what each import form of an old name gives.
OLD_NAMES_SCRIPT = textwrap.dedent("""
    import json, sys
    import rethinking_lib
    loaded = sorted(m for m in sys.modules if m == "torch" or m.startswith("rethinking_lib."))
    import rethinking_lib.models
    from rethinking_lib import corrupt, data
    from rethinking_lib.engine import corrupt as engine_corrupt, data as engine_data, models as engine_models
    m = rethinking_lib.models
    print(json.dumps({
        "loaded_by_the_package": loaded,
        "same": [m is engine_models, data is engine_data, corrupt is engine_corrupt,
                 sys.modules["rethinking_lib.models"] is engine_models],
        "spec": engine_models.__spec__.name, "name": m.__name__,
        "stable": [callable(m.build), m.PAPER_PARAM_COUNTS["mlp_1x512"], callable(data.load), callable(corrupt.apply)],
    }))
""")


def test_the_old_names_are_the_engine_modules_and_the_package_alone_imports_no_torch():
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, "-c", OLD_NAMES_SCRIPT], capture_output=True, text=True, env=env,
                          cwd=REPO, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["loaded_by_the_package"] == []  # no torch, no engine: the old names are found only when imported
    assert out["same"] == [True, True, True, True]  # the module objects themselves, not copies
    assert out["spec"] == out["name"] == "rethinking_lib.engine.models"  # the engine module keeps its own identity
    assert out["stable"] == [True, 1_209_866, True, True]  # the names shared/DESIGN.md promises


def test_the_old_names_in_this_process_and_nothing_else_is_aliased():
    import importlib

    import pytest

    from rethinking_lib.engine import models as engine_models

    assert importlib.import_module(f"{PACKAGE}.models") is engine_models
    from rethinking_lib import models

    assert models is engine_models and models.build("mlp_1x512", in_channels=1).__class__.__module__ == engine_models.__name__
    for name in ("train", "runs", "results", "no_such_module"):  # only the three old names are aliased
        with pytest.raises(ModuleNotFoundError):
            importlib.import_module(f"{PACKAGE}.{name}")
