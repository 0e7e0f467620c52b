"""The registry of the book's experiments: one name per figure / table / measurement.

An experiment is defined in its topic module as an :class:`Experiment`: ``configs`` maps each profile
(``quick``, ``paper``) to a plain JSON-able dict, and ``fn(cfg, *, seed, progress, out)`` runs it and
returns a JSON-able result. ``run`` resolves the profile, applies overrides (a notebook's knobs), and
goes through the results store, so a run with the same config is loaded instead of repeated::

    python -m rethinking_lib run fig1bc --profile quick --json
    >>> from rethinking_lib import experiments
    >>> rec = experiments.run("fig1bc", "quick", models=["mlp_1x512"])
    >>> rec["result"], rec["provenance"]
"""

from __future__ import annotations

import copy
import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import profiles, results

# name -> module that defines it (imported only when asked, so the CLI starts fast)
MODULES = {
    "fig1a": "randomization", "fig1bc": "randomization",
    "table1": "regularization", "fig2": "regularization", "table2": "regularization",
    "pac": "pac", "rademacher": "rademacher", "stability": "stability",
    "theorem1": "theorem1", "kernel": "kernels", "minnorm": "implicit",
    "bounds": "bounds", "memorization": "memorization", "double_descent": "double_descent",
}


@dataclass
class Experiment:
    name: str
    fn: Callable[..., Any]
    configs: dict[str, dict]
    doc: str = ""
    expect: dict[str, str] = field(default_factory=dict)  # profile -> what a run should show

    def config(self, profile: str, **overrides) -> dict:
        cfg = copy.deepcopy(self.configs[profiles.resolve(profile)])
        for k, v in overrides.items():
            if k not in cfg:
                raise ValueError(f"{self.name} has no setting {k!r}; its settings are {', '.join(cfg)}")
            cfg[k] = v
        return cfg


def names() -> list[str]:
    return list(MODULES)


def get(name: str) -> Experiment:
    if name not in MODULES:
        raise ValueError(f"unknown experiment {name!r}: choose one of {', '.join(MODULES)}")
    module = importlib.import_module(f"rethinking_lib.{MODULES[name]}")
    return module.EXPERIMENTS[name]


def run(name: str, profile: str = "auto", *, seed: int = 0, out: str | os.PathLike | None = None,
        progress: bool | None = None, rerun: bool = False, **overrides) -> dict:
    """Run (or load) experiment ``name`` at ``profile``; returns the stored record (see ``results``)."""
    exp = get(name)
    p = profiles.resolve(profile)
    cfg = dict(exp.config(p, **overrides), profile=p)
    return results.load_or_run(name, dict(cfg, seed=seed),
                               lambda: exp.fn(cfg, seed=seed, progress=progress, out=out),
                               seed=seed, out=out, rerun=rerun)
