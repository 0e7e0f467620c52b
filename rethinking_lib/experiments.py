"""The registry of the book's experiments: one name per figure / table / measurement.

An experiment is defined in its topic module as an :class:`Experiment`. Its settings are written once,
for the ``paper`` profile (``paper=``); the ``gpu`` and ``quick`` profiles are small explicit deltas of it
(``deltas=``, deep-merged: big_vision's ``runlocal`` style), and ``reasons=`` says why each delta is what it
is (the appendix prints it). Experiments written before this scheme give ``configs=`` (one full dict per
profile: ``quick`` and ``paper``) instead; their ``gpu`` config is still a delta of the paper's
(``deltas={"gpu": ...}``). An experiment made of training runs declares them:
``specs(cfg)`` lists its run specs (``runs.spec``), so sweeps, plans and the ``config`` command see exactly
the runs the experiment will train. ``fn(cfg, *, seed, progress, out)`` runs it and returns a JSON-able result.
``run`` resolves the profile, checks and applies overrides (a notebook's knobs, ``--set KEY=VALUE``), and
goes through the results store, so a run with the same config is loaded instead of repeated::

    python -m rethinking_lib run fig1bc --profile quick --json
    python -m rethinking_lib config fig1bc --profile paper --json
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

# The modules that define experiments (each has an ``EXPERIMENTS`` dict: the one list of names).
MODULES = ("randomization", "regularization", "pac", "rademacher", "stability", "theorem1", "kernels", "implicit",
           "memorization", "double_descent", "bounds")


def merge(base: dict, delta: dict) -> dict:
    """``base`` with ``delta`` applied: nested dicts are merged key by key, everything else replaced."""
    out = copy.deepcopy(base)
    for k, v in delta.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def _check_type(exp: str, key: str, value, default) -> None:
    """An override must have its setting's type (ints pass for floats; a None default takes anything)."""
    if default is None or value is None:
        return
    ok = {bool: lambda v: isinstance(v, bool),
          int: lambda v: isinstance(v, int) and not isinstance(v, bool),
          float: lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
          str: lambda v: isinstance(v, str), list: lambda v: isinstance(v, (list, tuple)),
          dict: lambda v: isinstance(v, dict)}.get(type(default))
    if ok is not None and not ok(value):
        raise ValueError(f"{exp}: setting {key}={value!r} has the wrong type: pass a {type(default).__name__} "
                         f"like {default!r}")


@dataclass
class Experiment:
    name: str
    fn: Callable[..., Any]
    configs: dict[str, dict] = field(default_factory=dict)  # profile -> full config (older experiments)
    doc: str = ""
    expect: dict[str, str] = field(default_factory=dict)  # profile -> what a run should show
    paper: dict | None = None                               # the paper config, written once
    deltas: dict[str, dict] = field(default_factory=dict)   # profile -> changes to the paper config
    specs: Callable[[dict], list[dict]] | None = None       # cfg -> run specs (None: not a set of training runs)
    validate: Callable[[dict], None] | None = None          # cfg -> raises ValueError naming the setting
    why: dict[str, str] = field(default_factory=dict)       # setting -> the paper's value / our choice and why
    reasons: dict[str, str] = field(default_factory=dict)   # profile -> why its delta (and how it was sized)

    def base(self, profile: str) -> dict:
        """The config of ``profile`` before overrides."""
        p = profiles.resolve(profile)
        if self.paper is not None:
            return merge(self.paper, self.deltas.get(p, {}))
        if p in self.configs:
            return copy.deepcopy(self.configs[p])
        if p == "gpu" and "paper" in self.configs:  # the gpu delta of the paper's config (none: the paper's)
            return merge(self.configs["paper"], self.deltas.get("gpu", {}))
        raise ValueError(f"experiment {self.name!r} has no config for profile {p!r}; "
                         f"it has {', '.join(self.configs)}")

    def config(self, profile: str, **overrides) -> dict:
        cfg = self.base(profile)
        for k, v in overrides.items():
            if k not in cfg:
                raise ValueError(f"{self.name} has no setting {k!r}; its settings are {', '.join(cfg)}")
            self._check_type(k, v, cfg[k])
            cfg[k] = v
        if self.validate is not None:
            self.validate(cfg)
        return cfg

    def _check_type(self, key: str, value, default) -> None:
        """The type of ``default``, or of the same setting in another profile (e.g. one number, or one per dataset)."""
        others = [c[key] for c in self._all_bases() if key in c and c[key] is not None]
        for d in [default, *others]:
            try:
                _check_type(self.name, key, value, d)
                return
            except ValueError:
                continue
        _check_type(self.name, key, value, default)

    def _all_bases(self) -> list[dict]:
        out = []
        for p in ("quick", "gpu", "paper"):
            try:
                out.append(self.base(p))
            except ValueError:
                continue
        return out

    def run_specs(self, profile: str, *, seed: int = 0, **overrides) -> list[dict]:
        """The training runs of this experiment at ``profile`` (full specs), exactly as ``fn`` looks them up."""
        from . import runs

        if self.specs is None:
            return []
        cfg = dict(self.config(profile, **overrides), profile=profiles.resolve(profile))
        return [runs.spec(**s) for s in self.specs(runs.seeded(cfg, seed))]


_REGISTRY: dict[str, Experiment] = {}


def registry() -> dict[str, Experiment]:
    """name -> Experiment, collected from every module's ``EXPERIMENTS`` (imported on first use)."""
    if not _REGISTRY:
        for mod in MODULES:
            _REGISTRY.update(importlib.import_module(f"rethinking_lib.{mod}").EXPERIMENTS)
    return _REGISTRY


def names() -> list[str]:
    return list(registry())


def get(name: str) -> Experiment:
    reg = registry()
    if name not in reg:
        raise ValueError(f"unknown experiment {name!r}: choose one of {', '.join(reg)}")
    return reg[name]


def run(name: str, profile: str = "auto", *, seed: int = 0, out: str | os.PathLike | None = None,
        progress: bool | None = None, rerun: bool = False, **overrides) -> dict:
    """Run (or load) experiment ``name`` at ``profile``; returns the stored record (see ``results``)."""
    exp = get(name)
    p = profiles.resolve(profile)
    cfg = dict(exp.config(p, **overrides), profile=p)
    return results.load_or_run(name, dict(cfg, seed=seed),
                               lambda: exp.fn(cfg, seed=seed, progress=progress, out=out),
                               seed=seed, out=out, rerun=rerun)


def _precision_on_target(precision: str, profile: str) -> str:
    """fp32 / bf16 / fp16: ``precision`` as it resolves on this device, or on the profile's target GPU
    (gpu: a T4, which has no bf16; paper: a GPU with bf16) when this machine has none."""
    import torch

    from . import train

    if precision != "auto":
        return precision
    if torch.cuda.is_available() or profile == "quick":
        from . import devices

        return train.resolve_precision("auto", devices.resolve("auto"))
    return "fp16" if profile == "gpu" else "bf16"


def resolved(name: str, profile: str = "auto", *, seed: int = 0, **overrides) -> dict:
    """The fully resolved settings of every training run ``name`` would train at ``profile``.

    ``{"experiment", "profile", "settings", "runs": [{"model", "dataset", "n_train", "crop", "lr", "lr_decay",
    "lr_decay_per_step", "epochs", "steps", "stop_at_100", "batch_size", "weight_decay", "augment", "precision",
    "init", ...}]}``: what ``python -m rethinking_lib config`` prints.
    """
    from . import models, runs

    exp = get(name)
    p = profiles.resolve(profile)
    cfg = exp.config(p, **overrides)
    rows = []
    for s in exp.run_specs(p, seed=seed, **overrides):
        spe = runs.steps_per_epoch(s)
        c, side = runs.input_shape(s)
        rows.append({
            "model": s["model"], "width": s["width"], "dataset": s["dataset"], "n_train": runs.train_size(s),
            "n_test": s["n_test"] or runs.DATA_SIZES.get(s["dataset"], (None, None))[1], "crop": side,
            "input": [c, side, side], "condition": s["condition"], "p": s["p"], "lr": s["lr"],
            "momentum": s["momentum"], "lr_decay": s["lr_decay"],
            "lr_decay_per_step": s["lr_decay"] ** (1 / spe) if spe else None, "epochs": s["epochs"],
            "steps": s["epochs"] * spe if spe else None, "stop_at_100": s["stop_at_100"],
            "batch_size": s["batch_size"], "weight_decay": s["weight_decay"], "augment": s["augment"],
            "precision": _precision_on_target(s["precision"], p), "precision_setting": s["precision"],
            "init": s["init"], "bias_init": "zeros",
            "batch_norm": ({"epsilon": models.BN_EPSILON, "decay": s["bn_decay"]}
                           if s["model"] == "inception_small" else None),
            "seed": s["seed"], "key": runs.key(s)})
    settings = {k: v for k, v in cfg.items() if k != "model_settings"}
    return {"experiment": name, "profile": p, "settings": settings, "runs": rows}
