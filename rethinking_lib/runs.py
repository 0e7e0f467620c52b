"""One training run as data: a spec (a plain dict) in, a stored record out.

Every figure and table of Sections 2-3 is a set of independent training runs (a model, a dataset, a
randomization condition, hyper-parameters, a seed). Writing each as a JSON-able spec lets the same run be
stored once in the results store (``load_or_run("train", spec)``), shared between a figure, a table and a
test, dispatched by a sweep to other processes, GPUs or a cluster, and resumed from its checkpoint.

    >>> rec = run_one(spec(model="mlp_1x512", dataset="mnist5k", condition="random_labels", epochs=150))
    >>> rec["result"]["epochs_to_100"], rec["result"]["test_acc"]
"""

from __future__ import annotations

import os

from . import results

DEFAULTS = {
    "model": "mlp_1x512", "width": 1.0,
    "dataset": "mnist5k", "root": None, "n_train": None, "n_test": None, "crop": "paper", "data_seed": 0,
    "condition": "true_labels", "p": None, "corruption_seed": 0, "corrupt_test": False,
    "lr": 0.01, "momentum": 0.9, "lr_decay": 0.95, "weight_decay": 0.0, "batch_size": 128,
    "epochs": 100, "stop_at_100": True, "augment": False, "precision": "auto", "channels_last": "auto",
    "compile": "auto", "cuda_graph": "auto", "seed": 0, "device": "auto", "keep_step_loss": True,
}


def spec(**kw) -> dict:
    """A full run spec: ``DEFAULTS`` updated with ``kw`` (unknown keys are an error)."""
    unknown = set(kw) - set(DEFAULTS)
    if unknown:
        raise ValueError(f"unknown run setting(s) {', '.join(sorted(unknown))}; known: {', '.join(DEFAULTS)}")
    return {**DEFAULTS, **kw}


def paper_lr_decay(n_train: int, batch_size: int = 128, paper_steps_per_epoch: int = 391) -> float:
    """The per-epoch decay that matches the paper's 0.95 per CIFAR-10 epoch (391 steps) step for step.

    Quick-profile epochs are far shorter than CIFAR-10's, so 0.95 per epoch would shrink the learning rate
    ~10x faster per step than in the paper; ``0.95 ** (steps / 391)`` keeps the same decay per step.
    """
    steps = -(-n_train // batch_size)
    return 0.95 ** (steps / paper_steps_per_epoch)


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
                         num_classes=ds.num_classes, width=s["width"])
    cfg = train.TrainConfig(lr=s["lr"], momentum=s["momentum"], lr_decay=s["lr_decay"],
                            weight_decay=s["weight_decay"], batch_size=s["batch_size"], epochs=s["epochs"],
                            stop_at_100=s["stop_at_100"], augment=s["augment"], precision=s["precision"],
                            channels_last=s["channels_last"], compile=s["compile"], cuda_graph=s["cuda_graph"],
                            seed=s["seed"])
    desc = f"{s['model']} {s['condition']}" + (f" p={s['p']}" if s["p"] is not None else "")
    hist = train.fit(model, ds, cfg, checkpoint=checkpoint, progress=progress, desc=desc)
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
