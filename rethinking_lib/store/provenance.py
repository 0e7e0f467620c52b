"""Which code produced a run: the code version a stored record carries, and whether it is this process's code.

A record's ``provenance`` (see :func:`provenance`) holds package versions, device, wall time and date, and under
``"code"`` the code version (:func:`code_version`): the package version, the git commit and a dirty flag when the
package sits in a git checkout, and ``source_hash``, a hash of the source of every ``rethinking_lib`` module the
run's code imports. That set is the closure of imports (:func:`source_closure`), read with ``ast`` from the
source, so imports inside functions, relative imports in any subpackage (``from ..engine import data``) and
``importlib.import_module("rethinking_lib...")`` with a constant name all count. It starts from ``roots``, the
modules of the run's function and of the functions it closes over (:func:`code_roots`); the record keeps the
roots, so :func:`is_current` can hash the same closure again in a later process and compare.

Hashing the closure, not the whole package, keeps a run current while unrelated code (a figure, another
chapter) changes, and makes it stale as soon as anything it executes changes, however deep in the engine.
A folder's ``__init__`` counts when an import names the folder (``from ..engine import data`` names ``engine``),
not merely because Python runs it on the way to a submodule: ``chapters/__init__`` imports every chapter, and
counting it for each chapter module would make every stored run stale whenever any chapter changed.
"""

from __future__ import annotations

import ast
import datetime as _dt
import functools
import hashlib
import platform
import subprocess
from collections.abc import Callable, Iterable
from pathlib import Path

PACKAGE = __name__.split(".")[0]  # "rethinking_lib"
PACKAGE_DIR = Path(__file__).resolve().parents[1]  # the package root (this file is in store/)


def module_file(module: str) -> Path | None:
    """The source file of ``rethinking_lib.<x>`` (a package's ``__init__.py``), or None outside the package."""
    if module != PACKAGE and not module.startswith(PACKAGE + "."):
        return None
    rel = module.split(".")[1:]
    path = PACKAGE_DIR.joinpath(*rel)
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


@functools.cache
def imported_modules(module: str) -> frozenset[str]:
    """The ``rethinking_lib`` modules ``module``'s source imports anywhere (top level or inside functions). Read
    once per process, like ``source_closure``: the closures of a kernel's several experiments share most modules."""
    path = module_file(module)
    if path is None:
        return frozenset()
    is_pkg = path.name == "__init__.py"
    base = module.split(".") if is_pkg else module.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parent = ".".join(base[: len(base) - node.level + 1])
                target = f"{parent}.{node.module}" if node.module else parent
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{a.name}" for a in node.names)  # "from . import x": x is a module
        elif (isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", None)) == "import_module"
              and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            found.add(node.args[0].value)
    return frozenset(m for m in found if module_file(m) is not None and m != module)


@functools.cache
def source_closure(roots: tuple[str, ...]) -> tuple[str, ...]:
    """Every package module reachable by imports from ``roots`` (sorted; the package ``__init__`` included)."""
    seen: set[str] = set()
    todo = [m for m in roots if module_file(m) is not None] + [PACKAGE]
    while todo:
        m = todo.pop()
        if m not in seen:
            seen.add(m)
            todo.extend(imported_modules(m) - seen)
    return tuple(sorted(seen))


@functools.cache
def source_hash(roots: tuple[str, ...]) -> str:
    """sha256 (16 hex digits) of the source of ``source_closure(roots)``: changes whenever that code does."""
    h = hashlib.sha256()
    for m in source_closure(roots):
        h.update(m.encode() + b"\0" + module_file(m).read_bytes() + b"\0")
    return h.hexdigest()[:16]


@functools.lru_cache(maxsize=1)
def git_state() -> dict:
    """``{"commit", "dirty"}`` of the git checkout holding the package; both None outside one (or without git)."""
    def git(*args):
        return subprocess.run(["git", "-C", str(PACKAGE_DIR), *args], capture_output=True, text=True, timeout=20)

    try:
        top = git("rev-parse", "--show-toplevel")
        if top.returncode != 0 or Path(top.stdout.strip()).resolve() != PACKAGE_DIR.parent:
            return {"commit": None, "dirty": None}
        commit = git("rev-parse", "HEAD").stdout.strip() or None
        dirty = bool(git("status", "--porcelain", "--untracked-files=no").stdout.strip())
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}
    return {"commit": commit, "dirty": dirty}


def code_roots(fn: Callable | None) -> tuple[str, ...]:
    """The package modules of ``fn`` and of the functions and ``.fn`` attributes it closes over.

    ``experiments.run`` passes a lambda that closes over the experiment (whose ``fn`` lives in its chapter
    module); ``runs.run_one`` a lambda in ``runs``: either way the roots name the code the run executes.
    """
    roots: set[str] = set()
    todo, seen = [fn], set()
    while todo:
        f = todo.pop()
        if f is None or id(f) in seen:
            continue
        seen.add(id(f))
        if isinstance(f, functools.partial):
            todo += [f.func, *f.args, *f.keywords.values()]
            continue
        module = getattr(f, "__module__", None)
        if callable(f) and isinstance(module, str) and module_file(module) is not None:
            roots.add(module)
        todo.append(getattr(f, "fn", None) if not isinstance(f, type) else None)
        for cell in getattr(f, "__closure__", None) or ():
            try:
                todo.append(cell.cell_contents)
            except ValueError:  # empty cell
                pass
    return tuple(sorted(roots))


def code_version(roots: Iterable[str] = ()) -> dict:
    """What identifies the code a run executes: version, git commit + dirty flag, the source hash of ``roots``."""
    from .. import __version__

    roots = tuple(sorted(set(roots)))
    return {"rethinking_lib": __version__, **git_state(), "roots": list(roots), "source_hash": source_hash(roots)}


def provenance(wall_time: float | None = None, *, roots: Iterable[str] = ()) -> dict:
    """What a stored record says about where it came from: versions, device, date, wall time, the code version."""
    import numpy
    import torch

    from .. import __version__
    from ..engine import devices

    return {"rethinking_lib": __version__, "torch": torch.__version__, "numpy": numpy.__version__,
            "python": platform.python_version(), "platform": platform.platform(), "device": devices.name(),
            "cuda": torch.version.cuda if torch.cuda.is_available() else None,
            "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "wall_time": wall_time, "code": code_version(roots)}


def is_current(record: dict) -> bool:
    """Whether ``record`` was produced by the code this process runs (same source hash over the same roots)."""
    code = (record.get("provenance") or {}).get("code")
    if not isinstance(code, dict) or "source_hash" not in code:
        return False  # written before the store recorded code: unknown code counts as other code
    return code["source_hash"] == source_hash(tuple(sorted(code.get("roots") or ())))


def describe_code(record: dict) -> str:
    """One line naming the code that produced ``record``: "rethinking_lib 0.1.0, commit 1a2b3c4d5e6f, dirty"."""
    prov = record.get("provenance") or {}
    code = prov.get("code") or {}
    parts = [f"rethinking_lib {code.get('rethinking_lib') or prov.get('rethinking_lib') or '(unknown version)'}"]
    if code.get("commit"):
        parts.append(f"commit {code['commit'][:12]}" + (", dirty" if code.get("dirty") else ""))
    if code.get("source_hash"):
        parts.append(f"source {code['source_hash']}")
    elif not code:
        parts.append("code not recorded")
    return ", ".join(parts)
