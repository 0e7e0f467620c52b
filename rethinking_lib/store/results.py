"""The results store: one JSON file per run, with the provenance needed to trust it later.

A record is ``{"experiment", "config", "seed", "result", "provenance"}``; provenance holds package
versions, device, wall time, date and host. Files are written atomically (temp file + rename) so an
interrupted write never leaves half a result. ``load_or_run`` returns the stored record of a run with the
same experiment and config instead of training again, so a notebook can load what the CLI (or a GPU
session on Colab) computed earlier.

The store's folder is ``$RETHINKING_RESULTS`` if set, else ``./results``.

Stale runs. A record's provenance also names the code that produced it (``provenance["code"]``): the package
version, the git commit and a dirty flag when the package sits in a git checkout, and ``source_hash``, a hash
of the source of every ``rethinking_lib`` module the run's code imports (the closure of imports, read with
``ast``, from the modules of ``fn`` and of the functions it closes over; the record keeps those ``roots``).
``load_or_run`` serves a stored run only when that hash matches the code of this process; a run produced by
other code is run again, unless other code is accepted explicitly (``accept_other_code=True``,
``RETHINKING_ACCEPT_OTHER_CODE=1``, or ``python -m rethinking_lib run --accept-other-code``): then the run is
served with ``"other_code": True`` and a one-line note naming the code version that produced it is shown
(in a notebook: displayed under the cell, so the page says which code made the figure).

No-train mode. With ``RETHINKING_NO_TRAIN=1`` ``load_or_run`` never trains: a run the store lacks (or holds
only from other code, when that is not accepted) raises :class:`MissingRun`. The book build uses it to render
an edition from stored results on a machine that cannot train them.
"""

from __future__ import annotations

import ast
import contextlib
import datetime as _dt
import functools
import hashlib
import json
import os
import platform
import subprocess
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any


def results_dir(out: str | os.PathLike | None = None) -> Path:
    return Path(out if out is not None else os.environ.get("RETHINKING_RESULTS", "results"))


def to_jsonable(obj: Any) -> Any:
    """Dataclasses, tuples, numpy / torch scalars and paths into plain JSON values."""
    if is_dataclass(obj) and not isinstance(obj, type):
        return to_jsonable(asdict(obj))
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "tolist"):  # numpy / torch arrays and scalars (a 0-d one's tolist() is a plain scalar)
        return obj.tolist()
    return obj


def config_key(experiment: str, config: Any) -> str:
    """A short stable hash of the experiment name and its config: the file name of the run."""
    blob = json.dumps({"experiment": experiment, "config": to_jsonable(config)}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def run_path(experiment: str, config: Any, out: str | os.PathLike | None = None) -> Path:
    return results_dir(out) / f"{experiment}-{config_key(experiment, config)}.json"


PACKAGE = __name__.split(".")[0]  # "rethinking_lib"
PACKAGE_DIR = Path(__file__).resolve().parents[1]  # the package root (this file is in store/)
ACCEPT_ENV = "RETHINKING_ACCEPT_OTHER_CODE"
NO_TRAIN_ENV = "RETHINKING_NO_TRAIN"


class MissingRun(RuntimeError):
    """No-train mode (``RETHINKING_NO_TRAIN=1``) and the store has no usable run of this experiment + config."""


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def _module_file(module: str) -> Path | None:
    """The source file of ``rethinking_lib.<x>`` (a package's ``__init__.py``), or None outside the package."""
    if module != PACKAGE and not module.startswith(PACKAGE + "."):
        return None
    rel = module.split(".")[1:]
    path = PACKAGE_DIR.joinpath(*rel)
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def imported_modules(module: str) -> set[str]:
    """The ``rethinking_lib`` modules ``module``'s source imports anywhere (top level or inside functions)."""
    path = _module_file(module)
    if path is None:
        return set()
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
    return {m for m in found if _module_file(m) is not None and m != module}


@functools.cache
def source_closure(roots: tuple[str, ...]) -> tuple[str, ...]:
    """Every package module reachable by imports from ``roots`` (sorted; the package ``__init__`` included)."""
    seen: set[str] = set()
    todo = [m for m in roots if _module_file(m) is not None] + [PACKAGE]
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
        h.update(m.encode() + b"\0" + _module_file(m).read_bytes() + b"\0")
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

    ``experiments.run`` passes a lambda that closes over the experiment (whose ``fn`` lives in its topic
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
        if callable(f) and isinstance(module, str) and _module_file(module) is not None:
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


def _announce(text: str) -> None:
    """Show ``text`` under the running notebook cell (so the rendered page carries it), else warn."""
    try:
        from IPython import get_ipython

        if get_ipython() is not None and getattr(get_ipython(), "kernel", None) is not None:
            from IPython.display import Markdown, display

            display(Markdown(f"*{text}*"))
            return
    except ImportError:  # pragma: no cover
        pass
    warnings.warn(text, stacklevel=3)


def atomic_write_json(path: str | os.PathLike, obj: Any) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w") as f:
        json.dump(to_jsonable(obj), f, indent=1)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return path


def save(experiment: str, config: Any, result: Any, *, seed: int | None = None, wall_time: float | None = None,
         out: str | os.PathLike | None = None, roots: Iterable[str] = ()) -> dict:
    record = {"experiment": experiment, "config": to_jsonable(config), "seed": seed,
              "result": to_jsonable(result), "provenance": provenance(wall_time, roots=roots)}
    atomic_write_json(run_path(experiment, config, out), record)
    return record


def load(experiment: str, config: Any, out: str | os.PathLike | None = None) -> dict | None:
    """The stored record of (experiment, config) whatever code produced it (see :func:`is_current`), or None."""
    path = run_path(experiment, config, out)
    if not path.exists():
        return None
    with open(path) as f:
        return json.load(f)


def status(experiment: str, config: Any, out: str | os.PathLike | None = None) -> str:
    """``"missing"`` (no stored run), ``"current"`` (stored by this code) or ``"other_code"`` (stored by other code)."""
    record = load(experiment, config, out)
    if record is None:
        return "missing"
    return "current" if is_current(record) else "other_code"


def accepting_other_code(accept_other_code: bool | None = None) -> bool:
    """The explicit argument if given, else ``$RETHINKING_ACCEPT_OTHER_CODE``."""
    return _env_flag(ACCEPT_ENV) if accept_other_code is None else bool(accept_other_code)


def servable(experiment: str, config: Any, out: str | os.PathLike | None = None) -> bool:
    """Whether ``load_or_run`` would serve a stored run instead of training: stored by this code, or by other
    code while other code is accepted."""
    st = status(experiment, config, out)
    return st == "current" or (st == "other_code" and accepting_other_code())


def no_train() -> bool:
    """Whether ``$RETHINKING_NO_TRAIN`` forbids training (a missing run raises :class:`MissingRun`)."""
    return _env_flag(NO_TRAIN_ENV)


def load_or_run(experiment: str, config: Any, fn: Callable[[], Any], *, seed: int | None = None,
                out: str | os.PathLike | None = None, rerun: bool = False,
                accept_other_code: bool | None = None, code: Iterable[str] | None = None) -> dict:
    """The stored record for (experiment, config) if this code produced it, else run ``fn()``, store and return it.

    A stored run from other code (see the module docstring) is run again, unless ``accept_other_code`` (default
    ``$RETHINKING_ACCEPT_OTHER_CODE``): then it is returned with ``"other_code": True`` and a note naming the code
    that produced it is shown. ``code`` names the package modules the run executes (default: found from ``fn``).
    In no-train mode (``$RETHINKING_NO_TRAIN=1``) a run that would have to be trained raises :class:`MissingRun`.
    The record's ``"cached"`` entry says whether it was loaded (not stored in the file).
    """
    roots = tuple(sorted(set(code))) if code is not None else code_roots(fn)
    record = None if rerun else load(experiment, config, out)
    if record is not None:
        if is_current(record):
            return dict(record, cached=True, other_code=False)
        if accepting_other_code(accept_other_code):
            _announce(f"{experiment}: stored run produced by other code ({describe_code(record)}); "
                      f"this code is {describe_code({'provenance': {'code': code_version(roots)}})}")
            return dict(record, cached=True, other_code=True)
    if no_train():
        key = config_key(experiment, config)
        why = ("--rerun asks to train it again" if rerun else "the store has no run of it" if record is None else
               f"the stored run was produced by other code ({describe_code(record)}); accept it with "
               f"{ACCEPT_ENV}=1")
        raise MissingRun(f"{experiment} (config {key}) in {results_dir(out)}: {NO_TRAIN_ENV}=1 forbids training "
                         f"and {why}")
    with run_lock(experiment, config, out):
        if not rerun and (done := load(experiment, config, out)) is not None and is_current(done):
            return dict(done, cached=True, other_code=False)  # another process stored it while we waited
        t0 = time.perf_counter()
        result = fn()
        record = save(experiment, config, result, seed=seed, wall_time=time.perf_counter() - t0, out=out, roots=roots)
    return dict(record, cached=False, other_code=False)


@contextlib.contextmanager
def run_lock(experiment: str, config: Any, out: str | os.PathLike | None = None):
    """Hold an exclusive lock on one run across processes while it is computed.

    Two processes that need the same run at once (two chapters the book build executes in parallel share
    runs, e.g. Table 1's plain rows are Figure 1's; a test beside a notebook) then compute it once: the
    second waits, and ``load_or_run`` serves it what the first stored. A POSIX ``flock`` on
    ``<results>/locks/<experiment>-<key>.lock``; the OS drops it if the process dies. Where ``fcntl`` is
    missing (Windows) there is no lock: a shared run may be computed twice (writes stay atomic).
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    folder = results_dir(out) / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f"{experiment}-{config_key(experiment, config)}.lock", "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def checkpoint_path(experiment: str, config: Any, out: str | os.PathLike | None = None) -> Path:
    """Where a long run of (experiment, config) keeps its checkpoint: ``<results>/checkpoints/``."""
    return results_dir(out) / "checkpoints" / f"{experiment}-{config_key(experiment, config)}.pt"
