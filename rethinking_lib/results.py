"""The results store: one JSON file per run, with the provenance needed to trust it later.

A record is ``{"experiment", "config", "seed", "result", "provenance"}``; provenance holds package
versions, device, wall time, date and host. Files are written atomically (temp file + rename) so an
interrupted write never leaves half a result. ``load_or_run`` returns the stored record of a run with the
same experiment and config instead of training again, so a notebook can load what the CLI (or a GPU
session on Colab) computed earlier.

The store's folder is ``$RETHINKING_RESULTS`` if set, else ``./results``.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import platform
import time
from collections.abc import Callable
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
    if hasattr(obj, "item") and getattr(obj, "ndim", 1) == 0:  # numpy / torch scalars
        return obj.item()
    if hasattr(obj, "tolist"):
        return obj.tolist()
    return obj


def config_key(experiment: str, config: Any) -> str:
    """A short stable hash of the experiment name and its config: the file name of the run."""
    blob = json.dumps({"experiment": experiment, "config": to_jsonable(config)}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def run_path(experiment: str, config: Any, out: str | os.PathLike | None = None) -> Path:
    return results_dir(out) / f"{experiment}-{config_key(experiment, config)}.json"


def provenance(wall_time: float | None = None) -> dict:
    import numpy
    import torch

    from . import __version__, devices

    return {"rethinking_lib": __version__, "torch": torch.__version__, "numpy": numpy.__version__,
            "python": platform.python_version(), "platform": platform.platform(), "device": devices.name(),
            "cuda": torch.version.cuda if torch.cuda.is_available() else None,
            "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "wall_time": wall_time}


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
         out: str | os.PathLike | None = None) -> dict:
    record = {"experiment": experiment, "config": to_jsonable(config), "seed": seed,
              "result": to_jsonable(result), "provenance": provenance(wall_time)}
    atomic_write_json(run_path(experiment, config, out), record)
    return record


def load(experiment: str, config: Any, out: str | os.PathLike | None = None) -> dict | None:
    path = run_path(experiment, config, out)
    if not path.exists():
        return None
    with open(path) as f:
        return json.load(f)


def load_or_run(experiment: str, config: Any, fn: Callable[[], Any], *, seed: int | None = None,
                out: str | os.PathLike | None = None, rerun: bool = False) -> dict:
    """The stored record for (experiment, config) if there is one, else run ``fn()``, store and return it.

    The record's ``"cached"`` entry says which happened (not stored in the file).
    """
    if not rerun:
        record = load(experiment, config, out)
        if record is not None:
            return dict(record, cached=True)
    t0 = time.perf_counter()
    result = fn()
    record = save(experiment, config, result, seed=seed, wall_time=time.perf_counter() - t0, out=out)
    return dict(record, cached=False)


def checkpoint_path(experiment: str, config: Any, out: str | os.PathLike | None = None) -> Path:
    """Where a long run of (experiment, config) keeps its checkpoint: ``<results>/checkpoints/``."""
    return results_dir(out) / "checkpoints" / f"{experiment}-{config_key(experiment, config)}.pt"
