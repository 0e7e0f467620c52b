"""One training run as data: a spec (a plain dict) in, a stored record out.

Every figure and table of Sections 2-3 is a set of independent training runs (a model, a dataset, a
randomization condition, hyper-parameters, a seed). Writing each as a JSON-able spec lets the same run be
stored once in the results store (``load_or_run("train", spec)``), shared between a figure, a table and a
test, dispatched by a sweep to other processes, GPUs or a cluster, and resumed from its checkpoint.

    >>> rec = run_one(spec(model="mlp_1x512", dataset="mnist5k", condition="random_labels", epochs=150))
    >>> rec["result"]["epochs_to_100"], rec["result"]["test_acc"]

A spec may also keep the run's final weights (``keep_weights=True``, stored beside the record by
``store/weights.py``); ``load_model(spec)`` then gives the trained network back, so a later experiment measures
a network without training it again (chapter 8's bounds measure the networks their specs trained).
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import math
import os
from dataclasses import asdict, replace

from .. import paper
from ..store import results, weights
from . import standin

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
# Options added after runs were first stored: a spec holds one (and so its run key changes) only when it is set
# to something other than its default, so every run stored before an option existed keeps its key.
#   task            the labels trained on (``tasks.TASKS``): the dataset's classes, binary MNIST, random signs;
#   signs           task "signs" only: {"seed", "draws", "draw"}, the sign vector (``tasks.apply``);
#   train_fraction  train on the first round(f * n) training examples only (after task and corruption), e.g. a
#                   data-dependent prior's half of the data; the test set is unchanged;
#   epoch_eval      a named per-epoch measurement (``epoch_evals.EPOCH_EVALS``) added to each epoch's record;
#   keep_weights    keep the final weights beside the record (``load_model``);
#   weight_decay_on what weight decay applies to (``train.DECAY_SCOPES``): every weight, or the hidden fully
#                   connected layers only (the TF CIFAR-10 tutorial's AlexNet);
#   init_from       the spec of another run that keeps its weights: start from its trained network instead of the
#                   seeded draw (``run_one`` trains that run first if the store lacks it), e.g. a PAC-Bayes
#                   posterior trained on all the data from a data-dependent prior's network.
OPTIONS = {"task": "classes", "signs": None, "train_fraction": None, "epoch_eval": None, "keep_weights": False,
           "weight_decay_on": "weights", "init_from": None}
# (train, test) sizes of each dataset without a subset: what a spec's epochs mean in steps.
DATA_SIZES = {"cifar10": (50_000, 10_000), "mnist": (60_000, 10_000), "gaussian": (50_000, 10_000),
              "mnist5k": (4_000, 1_000), "digits": (1_297, 500)}
IMAGE_SIDES = {"cifar10": (3, 32), "mnist": (1, 28), "gaussian": (3, 32), "mnist5k": (1, 28), "digits": (1, 8)}


def spec(**kw) -> dict:
    """A full run spec: ``DEFAULTS`` updated with ``kw`` (unknown keys are an error).

    ``lr_decay="paper"`` is resolved here to the per-epoch factor that gives the paper's decay per step
    (0.95 per 391 steps) at this run's training-set size and batch size (``paper_lr_decay``).
    """
    unknown = set(kw) - set(DEFAULTS) - set(OPTIONS)
    if unknown:
        raise ValueError(f"unknown run setting(s) {', '.join(sorted(unknown))}; known: {', '.join([*DEFAULTS, *OPTIONS])}")
    s = {**DEFAULTS, **{k: v for k, v in kw.items() if k not in OPTIONS or v != OPTIONS[k]}}
    f = s.get("train_fraction")
    if f is not None and not 0 < f <= 1:
        raise ValueError(f"train_fraction={f!r} must be in (0, 1], e.g. 0.5 for the first half of the training set")
    if standin.smoke_on():  # the smoke scale (config/smoke.py): every run tiny, an ImageFolder tree's too
        cap = standin.SMOKE_RUN_SIZE
        s["n_train"], s["n_test"] = (min(n or cap, cap) for n in (s["n_train"], s["n_test"]))
    if s.get("init_from") is not None:
        s["init_from"] = spec(**s["init_from"])
    if s["lr_decay"] == "paper":
        n = train_size(s)
        s["lr_decay"] = paper_lr_decay(n, s["batch_size"]) if n else paper.LR_DECAY_PER_EPOCH
    return s


def option(s: dict, name: str):
    """Option ``name`` of spec ``s`` (``OPTIONS``' default when the spec does not hold it)."""
    return s.get(name, OPTIONS[name])


def first_part(n: int, fraction: float | None) -> int:
    """How many of ``n`` training examples a run with ``train_fraction=fraction`` trains on (the first ones)."""
    return n if fraction is None else int(round(fraction * n))


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
            + {True: " +crop", "flip_rotate": " +flip-rotate"}.get(s.get("augment"), "")
            + (" +wd" if s.get("weight_decay") else "")
            + (f" (wd on {s['weight_decay_on']})" if option(s, "weight_decay_on") != "weights" else "")
            + (f" task={s['task']}" if option(s, "task") != "classes" else "")
            + (f" first {s['train_fraction']:g}" if option(s, "train_fraction") is not None else "")
            + (" from a trained net" if option(s, "init_from") is not None else ""))


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


def stored_result(s: dict, out=None) -> dict | None:
    """The result of run ``s`` if the store would serve it without training, else None (nothing is trained): what
    an experiment whose runs depend on earlier runs' results (``Experiment.specs(cfg, lookup=...)``) plans with."""
    s = spec(**s)
    return results.load("train", s, out)["result"] if results.servable("train", s, out) else None


_REQUESTED: contextvars.ContextVar[list | None] = contextvars.ContextVar("requested_runs", default=None)


@contextlib.contextmanager
def recording():
    """Collect the key of every run ``run_one`` serves or trains inside the block (a list, in request order):
    the experiment's record keeps them, so the runs it declares can be checked against the runs it used."""
    keys: list[str] = []
    token = _REQUESTED.set(keys)
    try:
        yield keys
    finally:
        _REQUESTED.reset(token)


def seeded(cfg: dict, seed: int) -> dict:
    """``cfg`` with the experiment seed applied to every run (model init, batch order, corruption draw)."""
    cfg = copy.deepcopy(cfg)
    cfg["run"] = {**cfg.get("run", {}), "seed": seed, "corruption_seed": seed}
    return cfg


def dataset(s: dict):
    """The data run ``s`` trains on, as ``train_spec`` builds it: loaded, relabelled (``task``), corrupted, and
    cut to the first part (``train_fraction``); on the run's device."""
    from . import corrupt, data, devices, tasks

    device = devices.resolve(s["device"])
    ds = data.load(s["dataset"], device=device, crop=s["crop"], n_train=s["n_train"], n_test=s["n_test"],
                   seed=s["data_seed"], root=s["root"])
    ds = tasks.apply(ds, option(s, "task"), signs_of=option(s, "signs"))
    ds = corrupt.apply(ds, s["condition"], p=s["p"], seed=s["corruption_seed"], corrupt_test=s["corrupt_test"])
    if option(s, "train_fraction") is not None:
        k = first_part(len(ds.y_train), s["train_fraction"])
        ds = replace(ds, x_train=ds.x_train[:k], y_train=ds.y_train[:k])
    return ds


def build_args(s: dict, ds) -> dict:
    """``models.build``'s arguments for run ``s`` on data ``ds`` (what a kept-weights file records)."""
    return {"name": s["model"], "in_channels": ds.in_channels, "image_size": ds.image_size,
            "num_classes": ds.num_classes, "width": s["width"], "bn_decay": s["bn_decay"], "init": s["init"]}


def train_spec(s: dict, *, progress: bool | None = None, checkpoint: str | os.PathLike | None = None,
               weights_file: str | os.PathLike | None = None, init_file: str | os.PathLike | None = None) -> dict:
    """Build the data and the model and train it, as ``s`` says; returns the history. With ``weights_file`` the
    final weights are written there (``store/weights.py``) before the history is returned; with ``init_file``
    (a kept-weights file: ``init_from``'s run) training starts from those weights."""
    import torch

    from . import epoch_evals, models, train

    ds = dataset(s)
    torch.manual_seed(s["seed"])
    args = build_args(s, ds)
    model = models.build(args.pop("name"), **args)
    if init_file is not None:
        model.load_state_dict(weights.load(init_file)["state_dict"])
    cfg = train.TrainConfig(**{k: s[k] for k in _TRAIN_KEYS}, weight_decay_on=option(s, "weight_decay_on"),
                            seed=s["seed"])
    evaluate = epoch_evals.build(s["epoch_eval"], ds) if option(s, "epoch_eval") else None
    hist = train.fit(model, ds, cfg, checkpoint=checkpoint, progress=progress, desc=describe(s), evaluate=evaluate)
    hist["n_params"] = models.count_params(model)
    hist["fraction_changed"] = ds.meta.get("fraction_changed")
    if not s["keep_step_loss"]:
        hist.pop("step_loss")
    if weights_file is not None:
        weights.save(weights_file, model.state_dict(), build_args(s, ds))
    return hist


def run_one(s: dict, *, out: str | os.PathLike | None = None, progress: bool | None = None,
            checkpoint: bool = False, rerun: bool = False) -> dict:
    """The stored record of run ``s``, training it first if the store does not have it.

    With ``checkpoint=True`` the run checkpoints every epoch under ``<results>/checkpoints/`` and an
    interrupted run picks up where it stopped; the checkpoint is removed once the result is stored. A run
    with ``keep_weights=True`` whose weights file is missing is trained again (record and weights together).
    """
    s = spec(**s)
    if (requested := _REQUESTED.get()) is not None:
        requested.append(key(s))
    ckpt = results.checkpoint_path("train", s, out) if checkpoint else None
    kw = {}
    if option(s, "keep_weights"):
        kw["weights_file"] = weights.path("train", s, out)
        rerun = rerun or (not kw["weights_file"].exists() and results.load("train", s, out) is not None)
    if option(s, "init_from") is not None:
        start = s["init_from"]
        if not option(start, "keep_weights"):
            raise ValueError("init_from must be the spec of a run with keep_weights=True (its weights are the start)")
        kw["init_file"] = weights.path("train", start, out)
        trains = rerun or not results.servable("train", s, out)
        if trains and not (results.servable("train", start, out) and kw["init_file"].exists()):
            run_one(start, out=out, progress=progress)  # it will train: its start must be there
    rec = results.load_or_run("train", s, lambda: train_spec(s, progress=progress, checkpoint=ckpt, **kw),
                              seed=s["seed"], out=out, rerun=rerun)
    if ckpt is not None and ckpt.exists():
        ckpt.unlink()
    return rec


def load_model(s: dict, *, out: str | os.PathLike | None = None, device="cpu"):
    """The trained network of run ``s`` from its kept weights, in eval mode on ``device`` (nothing is trained).

    Raises ValueError if ``s`` does not keep weights, LookupError if the store has no record of it (train it
    with ``run_one`` first) and FileNotFoundError if its record is there but the weights file is not.
    """
    import torch

    from . import models, train

    s = spec(**s)
    where = f"run {key(s)} ({describe(s)})"
    if not option(s, "keep_weights"):
        raise ValueError(f"{where} keeps no weights: its spec does not set keep_weights=True, so the store holds "
                         "only its record (the history); a spec with keep_weights=True (another run key) keeps them")
    if results.load("train", s, out) is None:
        raise LookupError(f"{where} is not in the store {results.results_dir(out)}: train it with run_one(spec) first")
    file = weights.path("train", s, out)
    if not file.exists():
        raise FileNotFoundError(f"{where} has a record but no weights file {file}: run_one(spec) trains it again")
    blob = weights.load(file)
    args = dict(blob["build"])
    model = models.build(args.pop("name"), **args)
    model.load_state_dict(blob["state_dict"])
    train.numerics(device)  # measure under the numerics the network was trained under
    return model.to(torch.device(device)).eval()


def initial_model(s: dict, ds=None):
    """The network of run ``s`` before training (on the CPU): the seeded build ``train_spec`` starts from, drawn
    again (nothing stored); ``ds`` is the run's data if at hand. The caller's random state is left as it was.
    A run with ``init_from`` starts from that run's trained network instead: ``load_model(s["init_from"])``."""
    import torch

    from . import models

    s = spec(**s)
    args = build_args(s, dataset(s) if ds is None else ds)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(s["seed"])
        return models.build(args.pop("name"), **args)


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
