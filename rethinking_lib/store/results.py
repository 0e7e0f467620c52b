"""The results store: one JSON file per run, with the provenance needed to trust it later.

A record is ``{"experiment", "config", "seed", "result", "provenance"}``; provenance holds package
versions, device, wall time, date and the code version (see :mod:`.provenance`). Files are written atomically
(temp file + rename) so an interrupted write never leaves half a result. ``load_or_run`` returns the stored record
of a run with the same experiment and config instead of training again, so a notebook can load what the CLI (or a
GPU session on Colab) computed earlier.

The store's folder is ``$RETHINKING_RESULTS`` if set, else ``./results``.

Stale runs. ``load_or_run`` serves a stored run only when the code that produced it is the code of this process
(:func:`.provenance.is_current`: the same source hash over the modules the run imports); a run produced by
other code is run again, unless other code is accepted explicitly (``accept_other_code=True``,
``RETHINKING_ACCEPT_OTHER_CODE=1``, or ``python -m rethinking_lib run --accept-other-code``): then the run is
served with ``"other_code": True`` and a one-line note naming the code version that produced it is shown
(in a notebook: displayed under the cell, so the page says which code made the figure).

No-train mode. With ``RETHINKING_NO_TRAIN=1`` ``load_or_run`` never trains: a run the store lacks (or holds
only from other code, when that is not accepted) raises :class:`MissingRun`. The book build uses it to render
an edition from stored results on a machine that cannot train them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any

from . import provenance


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


ACCEPT_ENV = "RETHINKING_ACCEPT_OTHER_CODE"
NO_TRAIN_ENV = "RETHINKING_NO_TRAIN"


class MissingRun(RuntimeError):
    """No-train mode (``RETHINKING_NO_TRAIN=1``) and the store has no usable run of this experiment + config."""


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


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
              "result": to_jsonable(result), "provenance": provenance.provenance(wall_time, roots=roots)}
    atomic_write_json(run_path(experiment, config, out), record)
    return record


def load(experiment: str, config: Any, out: str | os.PathLike | None = None) -> dict | None:
    """The stored record of (experiment, config) whatever code produced it (see :func:`.provenance.is_current`), or None."""
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
    return "current" if provenance.is_current(record) else "other_code"


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
    roots = tuple(sorted(set(code))) if code is not None else provenance.code_roots(fn)
    record = None if rerun else load(experiment, config, out)
    if record is not None:
        if provenance.is_current(record):
            return dict(record, cached=True, other_code=False)
        if accepting_other_code(accept_other_code):
            _announce(f"{experiment}: stored run produced by other code ({provenance.describe_code(record)}); "
                      f"this code is {provenance.describe_code({'provenance': {'code': provenance.code_version(roots)}})}")
            return dict(record, cached=True, other_code=True)
    if no_train():
        key = config_key(experiment, config)
        why = ("--rerun asks to train it again" if rerun else "the store has no run of it" if record is None else
               f"the stored run was produced by other code ({provenance.describe_code(record)}); accept it with "
               f"{ACCEPT_ENV}=1")
        raise MissingRun(f"{experiment} (config {key}) in {results_dir(out)}: {NO_TRAIN_ENV}=1 forbids training "
                         f"and {why}")
    with run_lock(experiment, config, out):
        if not rerun and (done := load(experiment, config, out)) is not None and provenance.is_current(done):
            return dict(done, cached=True, other_code=False)  # another process stored it while we waited
        t0 = time.perf_counter()
        result = fn()
        record = save(experiment, config, result, seed=seed, wall_time=time.perf_counter() - t0, out=out, roots=roots)
    return dict(record, cached=False, other_code=False)


@contextlib.contextmanager
def file_lock(path: str | os.PathLike):
    """Hold an exclusive POSIX ``flock`` on ``path`` (created, with its folder) across processes; the OS drops it if
    the process dies. Where ``fcntl`` is missing (Windows) there is no lock."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def run_lock(experiment: str, config: Any, out: str | os.PathLike | None = None):
    """Hold an exclusive lock on one run across processes while it is computed.

    Two processes that need the same run at once (two chapters the book build executes in parallel share
    runs, e.g. Table 1's plain rows are Figure 1's; a test beside a notebook) then compute it once: the
    second waits, and ``load_or_run`` serves it what the first stored. A ``file_lock`` on
    ``<results>/locks/<experiment>-<key>.lock``. Where ``fcntl`` is missing (Windows) there is no lock: a shared
    run may be computed twice (writes stay atomic).
    """
    return file_lock(results_dir(out) / "locks" / f"{experiment}-{config_key(experiment, config)}.lock")


def checkpoint_path(experiment: str, config: Any, out: str | os.PathLike | None = None) -> Path:
    """Where a long run of (experiment, config) keeps its checkpoint: ``<results>/checkpoints/``."""
    return results_dir(out) / "checkpoints" / f"{experiment}-{config_key(experiment, config)}.pt"
