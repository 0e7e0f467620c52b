"""The registry of the book's experiments: one name per figure / table / measurement, from the chapters.

Each chapter module (``chapters/``) declares its book page (``CHAPTER``) and its experiments (``EXPERIMENTS``,
a dict of ``config.experiment.Experiment``); ``chapters.MODULES`` lists the chapter modules in the book's
order, and everything that lists experiments (the command line, the plan's chapter map ``chapters()``, the
appendix, the README's table) is derived from here. ``run`` resolves the profile, checks and applies overrides
(a notebook's knobs, ``--set KEY=VALUE``), and goes through the results store, so a run with the same config is
loaded instead of repeated::

    python -m rethinking_lib run fig1bc --profile quick --json
    python -m rethinking_lib config fig1bc --profile paper --json
    >>> from rethinking_lib import experiments
    >>> rec = experiments.run("fig1bc", "quick", models=["mlp_1x512"])
    >>> rec["result"], rec["provenance"]
"""

from __future__ import annotations

import functools
import os

from . import chapters as chapters_pkg
from .config import profiles
from .config.experiment import Experiment
from .engine import runs
from .store import results


@functools.cache
def registry() -> dict[str, Experiment]:
    """name -> Experiment, in the book's order (chapter by chapter, as each chapter module declares them); built
    once per process (the chapter modules are a fixed list)."""
    out: dict[str, Experiment] = {}
    for mod in chapters_pkg.MODULES:
        for name, exp in mod.EXPERIMENTS.items():
            if name in out:
                raise ValueError(f"experiment {name!r} is declared twice ({mod.__name__})")
            out[name] = exp
    return out


def names() -> list[str]:
    return list(registry())


def chapters() -> dict[str, list[str]]:
    """book page -> the names of the experiments it runs, in the book's order: each chapter module's
    ``CHAPTER`` (a notebook stem in ``book/`` and ``_toc.yml``) and its ``EXPERIMENTS``."""
    out: dict[str, list[str]] = {}
    for mod in chapters_pkg.MODULES:
        out.setdefault(mod.CHAPTER, []).extend(mod.EXPERIMENTS)
    return out


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

    def compute() -> dict:
        # The keys of the training runs the experiment used, kept in its record: a test compares them with the
        # runs it declares (``Experiment.run_specs``, what ``plan`` and a --no-train build rely on).
        with runs.recording() as keys:
            res = exp.fn(cfg, seed=seed, progress=progress, out=out)
        return {**res, "run_keys": sorted(set(keys))} if isinstance(res, dict) else res

    return results.load_or_run(name, dict(cfg, seed=seed), compute, seed=seed, out=out, rerun=rerun)


def _precision_on_target(precision: str, profile: str) -> str:
    """fp32 / bf16 / fp16: ``precision`` as it resolves on this device, or on the profile's target GPU
    (gpu: a T4, which has no bf16; paper: a GPU with bf16) when this machine has none."""
    import torch

    from .engine import train

    if precision != "auto":
        return precision
    if torch.cuda.is_available() or profile == "quick":
        from .engine import devices

        return train.resolve_precision("auto", devices.resolve("auto"))
    return "fp16" if profile == "gpu" else "bf16"


def resolved(name: str, profile: str = "auto", *, seed: int = 0, **overrides) -> dict:
    """The fully resolved settings of every training run ``name`` would train at ``profile``.

    ``{"experiment", "profile", "settings", "runs": [{"model", "dataset", "n_train", "crop", "lr", "lr_decay",
    "lr_decay_per_step", "epochs", "steps", "stop_at_100", "batch_size", "weight_decay", "augment", "precision",
    "init", ...}]}``: what ``python -m rethinking_lib config`` prints.
    """
    from .engine import models, runs

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
