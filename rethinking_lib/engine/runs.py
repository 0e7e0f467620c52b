"""One training run as data: a spec (a plain dict) in, a stored record out.

Every figure and table of Sections 2-3 is a set of independent training runs (a model, a dataset, a
randomization condition, hyper-parameters, a seed). Writing each as a JSON-able spec lets the same run be
stored once in the results store (``load_or_run("train", spec)``), shared between a figure, a table and a
test, dispatched by a sweep to other processes, GPUs or a cluster, and resumed from its checkpoint.

    >>> rec = run_one(spec(model="mlp_1x512", dataset="mnist5k", condition="random_labels", epochs=150))
    >>> rec["result"]["epochs_to_100"], rec["result"]["test_acc"]
"""

from __future__ import annotations

import copy
import math
import os
from dataclasses import asdict

from .. import paper
from ..store import results

# Training defaults live in ``train.TrainConfig`` (one place); a spec adds what the run is trained on.
_TRAIN_KEYS = ("lr", "momentum", "lr_decay", "weight_decay", "batch_size", "epochs", "stop_at_100", "augment",
               "precision", "channels_last", "compile", "cuda_graph")


def _train_defaults() -> dict:
    from .train import TrainConfig

    d = asdict(TrainConfig())
    return {k: d[k] for k in _TRAIN_KEYS}


DEFAULTS = {
    "model": "mlp_1x512", "width": 1.0, "init": "glorot_uniform", "bn_decay": 0.999,
    "dataset": "mnist5k", "root": None, "n_train": None, "n_test": None, "crop": "paper", "data_seed": 0,
    "condition": "true_labels", "p": None, "corruption_seed": 0, "corrupt_test": False,
    **_train_defaults(), "seed": 0, "device": "auto", "keep_step_loss": True,
}
# (train, test) sizes of each dataset without a subset: what a spec's epochs mean in steps.
DATA_SIZES = {"cifar10": (50_000, 10_000), "mnist": (60_000, 10_000), "gaussian": (50_000, 10_000),
              "mnist5k": (4_000, 1_000), "digits": (1_297, 500)}
IMAGE_SIDES = {"cifar10": (3, 32), "mnist": (1, 28), "gaussian": (3, 32), "mnist5k": (1, 28), "digits": (1, 8)}


def spec(**kw) -> dict:
    """A full run spec: ``DEFAULTS`` updated with ``kw`` (unknown keys are an error).

    ``lr_decay="paper"`` is resolved here to the per-epoch factor that gives the paper's decay per step
    (0.95 per 391 steps) at this run's training-set size and batch size (``paper_lr_decay``).
    """
    unknown = set(kw) - set(DEFAULTS)
    if unknown:
        raise ValueError(f"unknown run setting(s) {', '.join(sorted(unknown))}; known: {', '.join(DEFAULTS)}")
    s = {**DEFAULTS, **kw}
    if s["lr_decay"] == "paper":
        n = train_size(s)
        s["lr_decay"] = paper_lr_decay(n, s["batch_size"]) if n else paper.LR_DECAY_PER_EPOCH
    return s


def train_size(s: dict) -> int | None:
    """The number of training examples of spec ``s`` (None when only loading the data could tell)."""
    full = DATA_SIZES.get(s["dataset"], (None, None))[0]
    if s["dataset"] == "gaussian":
        return s["n_train"] or full
    return min(s["n_train"], full) if (s["n_train"] and full) else (s["n_train"] or full)


def steps_per_epoch(s: dict) -> int | None:
    n = train_size(s)
    return math.ceil(n / s["batch_size"]) if n else None


def paper_lr_decay(n_train: int, batch_size: int = paper.BATCH_SIZE,
                   paper_steps_per_epoch: int = paper.STEPS_PER_EPOCH) -> float:
    """The per-epoch decay that matches the paper's 0.95 per CIFAR-10 epoch (391 steps) step for step.

    An epoch on a subset is shorter than CIFAR-10's, so 0.95 per epoch would shrink the learning rate faster
    per step than in the paper; ``0.95 ** (steps / 391)`` keeps the same decay per step.
    """
    steps = -(-n_train // batch_size)
    return paper.LR_DECAY_PER_EPOCH ** (steps / paper_steps_per_epoch)


def describe(s: dict) -> str:
    """One short line naming a run (progress bars, sweep logs, plans): model, data, condition, regularizers."""
    return (f"{s['model']} {s['dataset']} {s['condition']}" + (f" p={s['p']}" if s.get("p") is not None else "")
            + (" +crop" if s.get("augment") else "") + (" +wd" if s.get("weight_decay") else ""))


def key(s: dict) -> str:
    """The results-store key of run ``s``."""
    return results.config_key("train", spec(**s))


def unique(specs: list[dict]) -> list[dict]:
    """Specs without repeats (Figure 1a's runs are also Figure 1b's and Table 1's), first occurrence kept."""
    seen, out = set(), []
    for s in specs:
        k = key(s)
        if k not in seen:
            seen.add(k)
            out.append(s)
    return out


def stored(s: dict, out=None) -> bool:
    """Whether the store would serve run ``s`` without training it (see ``results.servable``)."""
    return results.servable("train", spec(**s), out)


def seeded(cfg: dict, seed: int) -> dict:
    """``cfg`` with the experiment seed applied to every run (model init, batch order, corruption draw)."""
    cfg = copy.deepcopy(cfg)
    cfg["run"] = {**cfg.get("run", {}), "seed": seed, "corruption_seed": seed}
    return cfg


def train_spec(s: dict, *, progress: bool | None = None, checkpoint: str | os.PathLike | None = None) -> dict:
    """Load the data, corrupt it, build the model and train it, as ``s`` says; returns the history."""
    import torch

    from . import corrupt, data, devices, models, train

    device = devices.resolve(s["device"])
    ds = data.load(s["dataset"], device=device, crop=s["crop"], n_train=s["n_train"], n_test=s["n_test"],
                   seed=s["data_seed"], root=s["root"])
    ds = corrupt.apply(ds, s["condition"], p=s["p"], seed=s["corruption_seed"], corrupt_test=s["corrupt_test"])
    torch.manual_seed(s["seed"])
    model = models.build(s["model"], in_channels=ds.in_channels, image_size=ds.image_size,
                         num_classes=ds.num_classes, width=s["width"], bn_decay=s["bn_decay"], init=s["init"])
    cfg = train.TrainConfig(**{k: s[k] for k in _TRAIN_KEYS}, seed=s["seed"])
    hist = train.fit(model, ds, cfg, checkpoint=checkpoint, progress=progress, desc=describe(s))
    hist["n_params"] = models.count_params(model)
    hist["fraction_changed"] = ds.meta.get("fraction_changed")
    if not s["keep_step_loss"]:
        hist.pop("step_loss")
    return hist


def run_one(s: dict, *, out: str | os.PathLike | None = None, progress: bool | None = None,
            checkpoint: bool = False, rerun: bool = False) -> dict:
    """The stored record of run ``s``, training it first if the store does not have it.

    With ``checkpoint=True`` the run checkpoints every epoch under ``<results>/checkpoints/`` and an
    interrupted run picks up where it stopped; the checkpoint is removed once the result is stored.
    """
    s = spec(**s)
    ckpt = results.checkpoint_path("train", s, out) if checkpoint else None
    rec = results.load_or_run("train", s, lambda: train_spec(s, progress=progress, checkpoint=ckpt),
                              seed=s["seed"], out=out, rerun=rerun)
    if ckpt is not None and ckpt.exists():
        ckpt.unlink()
    return rec


def input_shape(s: dict) -> tuple[int, int]:
    """(channels, side) of what the model of run ``s`` sees (after the crop)."""
    c, side = IMAGE_SIDES.get(s["dataset"], (3, 32))
    crop = s["crop"]
    if crop == "paper":
        crop = {32: 28, 28: 24}.get(side, side) if s["dataset"] != "folder" else round(side * 7 / 8)
    return c, crop or side


def label(key: str) -> str:
    """Display name of a model (``models.LABELS``) or of a randomization condition (``corrupt.LABELS``)."""
    from .corrupt import LABELS as CONDITION_LABELS
    from .models import LABELS as MODEL_LABELS

    return MODEL_LABELS.get(key) or CONDITION_LABELS.get(key, key)
