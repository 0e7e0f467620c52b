"""A run's final weights, kept beside its record when the run asks for it.

Records are JSON (``results.py``); a network's weights are not. A run that keeps them (a run spec with
``keep_weights=True``) writes ``<results>/<experiment>-<key>.pt`` next to ``<experiment>-<key>.json``: the
``state_dict`` on the CPU and the arguments that build the network again (``build``), so a later experiment
measures the network another one trained instead of training it again. The file is written atomically (temp
file + rename) before the record, and read with ``torch.load(..., weights_only=True)``: only tensors and plain
values, never code.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from . import results

SUFFIX = ".pt"  # a run's kept weights: its record's file name with this suffix for ``.json``


def beside(record: Path) -> Path:
    """The weights file that belongs to the record file ``record`` (kept or not)."""
    return Path(record).with_suffix(SUFFIX)


def path(experiment: str, config: Any, out: str | os.PathLike | None = None) -> Path:
    """Where the weights of (experiment, config) are kept: beside its record."""
    return beside(results.run_path(experiment, config, out))


def save(file: str | os.PathLike, state_dict: dict, build: dict) -> Path:
    """Write ``state_dict`` (moved to the CPU) and ``build`` (plain values) to ``file`` atomically."""
    import torch

    file = Path(file)
    file.parent.mkdir(parents=True, exist_ok=True)
    tmp = file.with_name(f".{file.name}.{os.getpid()}.tmp")
    torch.save({"state_dict": {k: v.detach().cpu() for k, v in state_dict.items()}, "build": dict(build)}, tmp)
    os.replace(tmp, file)  # a crash mid-write leaves no half file under the real name
    return file


def load(file: str | os.PathLike) -> dict:
    """``{"state_dict", "build"}`` from ``file`` (on the CPU; tensors and plain values only)."""
    import torch

    return torch.load(Path(file), map_location="cpu", weights_only=True)
