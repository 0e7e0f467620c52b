"""The randomization tests of Section 2: Figures 1a, 1b and 1c as sets of training runs.

Each experiment is written in two halves (see ``runs.py``):

* ``fig1a_specs(cfg)`` / ``fig1bc_specs(cfg)`` list the training runs as plain JSON specs (pure: a sweep
  engine may call them to dispatch the runs elsewhere);
* ``fig1a(cfg, ...)`` / ``fig1bc(cfg, ...)`` call ``runs.run_one`` on each spec (loading what the store
  already has) and aggregate the records into the figure's numbers.

Runs are shared: Figure 1a's true-label and random-label runs are Figure 1b/1c's p = 0 and p = 1 runs of
the same model, and Table 1's (``regularization.py``) no-regularizer rows are the same runs again.

Choices the paper leaves open (PAPER.md, [U]): "time to overfit" is the first epoch at which the whole
training set is classified correctly (``stop_at_100``); test labels stay clean; p = 0 is the unmodified
data (``true_labels``) and p = 1 is ``random_labels``, the same draw as ``partial_labels`` at p = 1.
"""

from __future__ import annotations

import copy

from . import paper, runs
from .experiments import Experiment

CHANCE = paper.CHANCE_ERROR  # test error of a 10-class guess
FIG1A_CONDITIONS = ("true_labels", "random_labels", "shuffled_pixels", "random_pixels", "gaussian")
PS = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]

# The paper's Figure 1 values, read off the figure (approximate): ``paper.py``.
PAPER_FIG1A_STEPS_TO_ZERO = paper.FIG1A_STEPS_TO_ZERO_LOSS
PAPER_FIG1B_RATIO_AT_1 = paper.FIG1B_RATIO_AT_1
PAPER_FIG1C_ERROR_AT_0 = paper.FIG1C_ERROR_AT_0

# --- profiles ----------------------------------------------------------------------------------
# quick: the MLP on 4,000 real MNIST digits (mnist5k, 24x24 centre crop); the CNNs at reduced width on
# 500 of scikit-learn's 8x8 digits cropped to 7x7 (a 2x2 set of positions, so that "random crop" in
# Table 1 means something), because small Inception runs at ~150 img/s at full size on this CPU.
# Learning-rate decay: the paper's 0.95 per 391-step epoch, converted to our shorter epochs (same decay
# per step, ``runs.paper_lr_decay``).
_QUICK_CNN = {"dataset": "digits", "n_train": 500, "n_test": 500, "crop": 7}
QUICK_MODELS = {
    "mlp_1x512": {"dataset": "mnist5k", "lr": 0.01, "lr_decay": runs.paper_lr_decay(4000), "epochs": 200},
    "mlp_3x512": {"dataset": "mnist5k", "lr": 0.01, "lr_decay": runs.paper_lr_decay(4000), "epochs": 200},
    "alexnet_small": {**_QUICK_CNN, "width": 0.5, "lr": 0.03, "lr_decay": runs.paper_lr_decay(500), "epochs": 300},
    "inception_small": {**_QUICK_CNN, "width": 0.25, "lr": 0.1, "lr_decay": runs.paper_lr_decay(500), "epochs": 300},
    # lr 0.01: our choice (the paper's 0.1 is for the BN model). The model is He-normal initialized with zero
    # biases (models.py): with PyTorch's default init this deep plain net does not leave chance.
    "inception_small_nobn": {**_QUICK_CNN, "width": 0.25, "lr": 0.01, "lr_decay": runs.paper_lr_decay(500),
                             "epochs": 100},
}
# paper: CIFAR-10, width 1, lr 0.1 (Inception) / 0.01 (others), x0.95 per epoch, batch 128, 28x28 crop.
_PAPER = {"dataset": "cifar10", "crop": "paper", "width": 1.0, "lr_decay": 0.95, "batch_size": 128, "epochs": 200}
PAPER_MODELS = {
    "mlp_1x512": {**_PAPER, "lr": 0.01},
    "mlp_3x512": {**_PAPER, "lr": 0.01},
    "alexnet_small": {**_PAPER, "lr": 0.01},
    "inception_small": {**_PAPER, "lr": 0.1},
    "inception_small_nobn": {**_PAPER, "lr": 0.01},
}


def condition_for(p: float) -> dict:
    """Spec fields for label corruption level ``p`` (p = 0 and p = 1 are the plain true/random-label runs)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p={p!r} is outside [0, 1]: pass corruption levels such as ps=[0, 0.5, 1]")
    if p == 0:
        return {"condition": "true_labels", "p": None}
    if p == 1:
        return {"condition": "random_labels", "p": None}
    return {"condition": "partial_labels", "p": float(p)}


def model_spec(cfg: dict, model: str, **kw) -> dict:
    """The run spec of ``model`` under ``cfg`` (its ``model_settings``, then ``run`` overrides, then ``kw``)."""
    settings = cfg["model_settings"]
    if model not in settings:
        raise ValueError(f"model {model!r} has no settings in this profile; choose one of {', '.join(settings)}")
    return runs.spec(model=model, **{**settings[model], **cfg.get("run", {}), **kw})


# --- Figure 1a ---------------------------------------------------------------------------------


def fig1a_specs(cfg: dict) -> list[dict]:
    """One run of ``cfg["model"]`` per condition, each to 100% training accuracy (or the epoch cap)."""
    for c in cfg["conditions"]:
        if c not in FIG1A_CONDITIONS:
            raise ValueError(f"condition {c!r} is not in Figure 1a; choose from {', '.join(FIG1A_CONDITIONS)}")
    return [model_spec(cfg, cfg["model"], condition=c) for c in cfg["conditions"]]


def fig1a(cfg: dict, *, seed: int = 0, progress=None, out=None) -> dict:
    """Figure 1a: training loss against steps per condition, and the step at which each hit 100% train."""
    curves = {}
    for s in fig1a_specs(_seeded(cfg, seed)):
        r = runs.run_one(s, out=out, progress=progress, checkpoint=cfg.get("checkpoint", False))["result"]
        loss = r["step_loss"]
        every = max(1, len(loss) // cfg.get("max_points", 400))
        curves[s["condition"]] = {
            "every": every, "loss": [sum(loss[i:i + every]) / len(loss[i:i + every]) for i in range(0, len(loss), every)],
            "steps_to_100": r["steps_to_100"], "epochs_to_100": r["epochs_to_100"], "steps": r["steps"],
            "train_acc": r["train_acc"], "test_acc": r["test_acc"], "wall_time": r["wall_time"]}
    order = sorted(curves, key=lambda c: curves[c]["steps_to_100"] or float("inf"))
    return {"model": cfg["model"], "curves": curves,
            "paper_steps_to_zero_loss": PAPER_FIG1A_STEPS_TO_ZERO,
            "summary": {"steps_to_100": {c: v["steps_to_100"] for c, v in curves.items()},
                        "order_ours": order,
                        "order_paper": sorted(PAPER_FIG1A_STEPS_TO_ZERO, key=PAPER_FIG1A_STEPS_TO_ZERO.get),
                        "all_memorized": all(v["train_acc"] >= 1.0 for v in curves.values())}}


# --- Figures 1b and 1c -------------------------------------------------------------------------


def fig1bc_specs(cfg: dict) -> list[dict]:
    """One run per model and label-corruption level p, each to 100% training accuracy (or the cap)."""
    return [model_spec(cfg, m, **condition_for(p)) for m in cfg["models"] for p in cfg["ps"]]


def fig1bc(cfg: dict, *, seed: int = 0, progress=None, out=None) -> dict:
    """Figures 1b/1c: per model and p, train/test accuracy, epochs to 100% train, and time relative to p = 0."""
    cfg = _seeded(cfg, seed)
    specs = iter(fig1bc_specs(cfg))  # built first: a bad model or p fails before anything trains
    per_model = {}
    for m in cfg["models"]:
        rows = []
        for p in cfg["ps"]:
            s = next(specs)
            r = runs.run_one(s, out=out, progress=progress, checkpoint=cfg.get("checkpoint", False))["result"]
            rows.append({"p": p, "train_acc": r["train_acc"], "test_acc": r["test_acc"], "test_error": 1 - r["test_acc"],
                         "epochs_to_100": r["epochs_to_100"], "steps_to_100": r["steps_to_100"],
                         "wall_time": r["wall_time"], "fraction_changed": r["fraction_changed"]})
        base = next((row["epochs_to_100"] for row in rows if row["p"] == 0), None)
        for row in rows:
            row["relative_time"] = row["epochs_to_100"] / base if base and row["epochs_to_100"] else None
        per_model[m] = rows
    summary = {m: {"test_acc": [round(r["test_acc"], 3) for r in rows], "epochs_to_100": [r["epochs_to_100"] for r in rows],
                   "all_memorized": all(r["train_acc"] >= 1.0 for r in rows)} for m, rows in per_model.items()}
    return {"ps": cfg["ps"], "models": per_model, "chance_error": CHANCE,
            "paper": {"relative_time_at_p1": PAPER_FIG1B_RATIO_AT_1, "test_error_at_p0": PAPER_FIG1C_ERROR_AT_0},
            "summary": summary}


# --- what the conditions look like ------------------------------------------------------------


def examples(dataset: str = "mnist5k", n: int = 16, *, seed: int = 0, ps=PS) -> dict:
    """The first ``n`` training images under each condition, and their labels at each corruption level ``ps``.

    Returns ``{"images": {condition: (n, C, H, W) tensor}, "labels": {condition: [...]}, "clean": [...],
    "labels_by_p": {p: [...]}}`` for the chapter's image grids and its corruption-level widget.
    """
    from . import corrupt, data

    ds = data.load(dataset, crop=None, seed=seed)
    out = {"images": {}, "labels": {}, "clean": ds.y_train[:n].tolist(), "labels_by_p": {}}
    for c in corrupt.CONDITIONS:
        d = corrupt.apply(ds, c, p=0.5 if c == "partial_labels" else None, seed=seed)
        out["images"][c], out["labels"][c] = d.x_train[:n], d.y_train[:n].tolist()
    for p in ps:
        kw = condition_for(p)
        out["labels_by_p"][p] = corrupt.apply(ds, kw["condition"], p=kw["p"], seed=seed).y_train[:n].tolist()
    return out


def _seeded(cfg: dict, seed: int) -> dict:
    """``cfg`` with the experiment seed applied to every run (model init, batch order, corruption draw)."""
    cfg = copy.deepcopy(cfg)
    cfg["run"] = {**cfg.get("run", {}), "seed": seed, "corruption_seed": seed}
    return cfg


EXPERIMENTS = {
    "fig1a": Experiment(
        "fig1a", fig1a,
        configs={"quick": {"model": "inception_small", "conditions": list(FIG1A_CONDITIONS),
                           "model_settings": QUICK_MODELS, "run": {}, "max_points": 400},
                 "paper": {"model": "inception_small", "conditions": list(FIG1A_CONDITIONS),
                           "model_settings": PAPER_MODELS, "run": {}, "max_points": 400, "checkpoint": True}},
        doc="Figure 1a: training loss per step of small Inception under the five randomization conditions."),
    "fig1bc": Experiment(
        "fig1bc", fig1bc,
        configs={"quick": {"models": ["mlp_1x512", "alexnet_small", "inception_small"], "ps": PS,
                           "model_settings": QUICK_MODELS, "run": {}},
                 "paper": {"models": ["inception_small", "alexnet_small", "mlp_1x512"], "ps": PS,
                           "model_settings": PAPER_MODELS, "run": {}, "checkpoint": True}},
        doc="Figures 1b and 1c: time to overfit and test error against label corruption p."),
}
