"""Section 3, the role of explicit regularization: Table 1, the weight-decay claim, Figure 2b and Table 2.

As in ``randomization.py``, each experiment is a pure ``<exp>_specs(cfg)`` listing training runs plus an
aggregation that runs (or loads) them through ``runs.run_one``. Table 1's no-regularizer rows, true and
random labels, are exactly Figure 1b/1c's p = 0 and p = 1 runs, so the store trains them once.

Choices the paper leaves open (PAPER.md, [U]): weight decay 5e-4 in the "yes" rows; every Table 1 run
trains to the first epoch with 100% training accuracy (or the epoch cap) and reports that epoch, the
same stopping rule as Figure 1b; test labels are clean.
"""

from __future__ import annotations

from . import paper, runs
from . import randomization as rnd
from .experiments import Experiment

WEIGHT_DECAY = 5e-4  # [U] the paper does not state it; reproductions use 5e-4 or 5e-5

PAPER_TABLE1 = paper.TABLE1  # (model, random crop, weight decay, labels, train %, test %)
# Section 3's text (no numbers reported): with weight decay, Inception and the MLPs still fit random labels,
# AlexNet fails to converge.
SECTION3_ROWS = list(paper.SECTION3_WEIGHT_DECAY_RANDOM.items())

PAPER_TABLE2 = paper.TABLE2  # ImageNet, Inception V3
PAPER_ALEXNET_IMAGENET_TOP5_TEST = paper.ALEXNET_IMAGENET_TOP5_TEST


def row_spec(cfg: dict, model: str, random_crop: bool, wd: bool, labels: str, **kw) -> dict:
    """The run behind one Table 1 row: random crop on/off, weight decay on/off, true or random labels."""
    if labels not in ("true", "random"):
        raise ValueError(f"labels={labels!r}: pass 'true' or 'random'")
    return rnd.model_spec(cfg, model, augment=random_crop, weight_decay=cfg["weight_decay"] if wd else 0.0,
                          **rnd.condition_for(1.0 if labels == "random" else 0.0), **kw)


# --- Table 1 and the section-3 weight-decay claim ----------------------------------------------


def table1_rows(cfg: dict) -> list[tuple]:
    """The (model, crop, wd, labels, paper train, paper test) rows to run: Table 1's, restricted to ``models``."""
    rows = [r for r in PAPER_TABLE1 if r[0] in cfg["models"]]
    if cfg.get("section3", True):
        rows += [(m, False, True, "random", None, None) for m, _ in SECTION3_ROWS if m in cfg["models"]]
    return rows


def table1_specs(cfg: dict) -> list[dict]:
    out = []
    for model, crop, wd, labels, *_ in table1_rows(cfg):
        extra = {"epochs": cfg["wd_random_epochs"]} if (wd and labels == "random" and cfg.get("wd_random_epochs")) else {}
        out.append(row_spec(cfg, model, crop, wd, labels, **extra))
    return out


def table1(cfg: dict, *, seed: int = 0, progress=None, out=None) -> dict:
    """Table 1 (train / test accuracy per model x random crop x weight decay x labels) and section 3's claim."""
    cfg = rnd._seeded(cfg, seed)
    rows = []
    for (model, crop, wd, labels, paper_train, paper_test), s in zip(table1_rows(cfg), table1_specs(cfg), strict=True):
        r = runs.run_one(s, out=out, progress=progress, checkpoint=cfg.get("checkpoint", False))["result"]
        rows.append({"model": model, "random_crop": crop, "weight_decay": wd, "labels": labels,
                     "train_acc": r["train_acc"], "test_acc": r["test_acc"], "epochs": r["epochs_run"],
                     "epochs_to_100": r["epochs_to_100"], "paper_train": paper_train, "paper_test": paper_test,
                     "section3": paper_train is None,
                     "paper_claim": dict(SECTION3_ROWS).get(model) if paper_train is None else None})
    table = [r for r in rows if not r["section3"]]
    summary = {
        "min_true_test_acc": min((r["test_acc"] for r in table if r["labels"] == "true"), default=None),
        "min_random_train_acc": min((r["train_acc"] for r in table if r["labels"] == "random"), default=None),
        "max_random_test_gap_to_chance": max((abs(r["test_acc"] - 0.1) for r in table if r["labels"] == "random"),
                                             default=None),
        "weight_decay_random_labels": {r["model"]: round(r["train_acc"], 4) for r in rows if r["section3"]}}
    return {"rows": table, "section3": [r for r in rows if r["section3"]], "weight_decay": cfg["weight_decay"],
            "summary": summary}


# --- Figure 2b ---------------------------------------------------------------------------------


def fig2_specs(cfg: dict) -> list[dict]:
    """Small Inception with and without BN, true labels, no explicit regularizer, a fixed number of epochs."""
    return [row_spec(cfg, m, False, False, "true", stop_at_100=False, epochs=cfg["epochs"]) for m in cfg["models"]]


def fig2(cfg: dict, *, seed: int = 0, progress=None, out=None) -> dict:
    """Figure 2b: train and test accuracy per epoch, with the cumulative-best test accuracy (early stopping)."""
    cfg = rnd._seeded(cfg, seed)
    curves = {}
    for m, s in zip(cfg["models"], fig2_specs(cfg), strict=True):
        r = runs.run_one(s, out=out, progress=progress, checkpoint=cfg.get("checkpoint", False))["result"]
        test = [e["test_acc"] for e in r["epochs"]]
        best = [max(test[:i + 1]) for i in range(len(test))]
        curves[m] = {"epoch": [e["epoch"] for e in r["epochs"]], "step": [e["step"] for e in r["epochs"]],
                     "train_acc": [e["train_acc"] for e in r["epochs"]], "test_acc": test, "best_test_acc": best,
                     "final_train_acc": r["train_acc"], "final_test_acc": r["test_acc"]}
    summary = {m: {"final_train_acc": round(c["final_train_acc"], 4), "final_test_acc": round(c["final_test_acc"], 4),
                   "best_test_acc": round(c["best_test_acc"][-1], 4)} for m, c in curves.items()}
    return {"curves": curves, "summary": summary}


# --- Table 2 -----------------------------------------------------------------------------------

TABLE2_ROWS = [  # (random crop, weight decay, labels): Table 2's rows that a model without dropout can run
    (True, True, "true"), (False, False, "true"), (False, False, "random")]


def table2_specs(cfg: dict) -> list[dict]:
    """Table 2's experiment on an ImageFolder tree ``cfg["root"]``: none without a root (the reported table only)."""
    if not cfg.get("root"):
        return []
    return [row_spec(cfg, cfg["model"], crop, wd, labels, dataset="folder", root=str(cfg["root"]), crop="paper",
                     n_train=None, n_test=None, stop_at_100=False, epochs=cfg["epochs"]) for crop, wd, labels in TABLE2_ROWS]


def table2(cfg: dict, *, seed: int = 0, progress=None, out=None) -> dict:
    """Table 2 as reported; with ``root`` (an ImageFolder tree with train/ and val/), the same runs on it."""
    cfg = rnd._seeded(cfg, seed)
    rows = []
    for (crop, wd, labels), s in zip(TABLE2_ROWS, table2_specs(cfg), strict=False):  # no specs without a root
        r = runs.run_one(s, out=out, progress=progress)["result"]
        test = [e["test_acc"] for e in r["epochs"]]
        rows.append({"random_crop": crop, "weight_decay": wd, "labels": labels, "train_acc": r["train_acc"],
                     "test_acc": r["test_acc"], "best_test_acc": max(test)})
    return {"reported": PAPER_TABLE2, "alexnet_top5_test": PAPER_ALEXNET_IMAGENET_TOP5_TEST, "root": cfg.get("root"),
            "measured": rows, "summary": {"measured_rows": len(rows), "root": cfg.get("root")}}


def _settings(base: dict) -> dict:
    return {"model_settings": base, "run": {}, "weight_decay": WEIGHT_DECAY}


_ALL = ["inception_small", "inception_small_nobn", "alexnet_small", "mlp_3x512", "mlp_1x512"]
EXPERIMENTS = {
    "table1": Experiment(
        "table1", table1,
        configs={"quick": {**_settings(rnd.QUICK_MODELS), "models": _ALL, "section3": True, "wd_random_epochs": 150},
                 "paper": {**_settings(rnd.PAPER_MODELS), "models": _ALL, "section3": True, "wd_random_epochs": 200,
                           "checkpoint": True}},
        doc="Table 1: train/test accuracy with and without random crop and weight decay, true and random labels."),
    "fig2": Experiment(
        "fig2", fig2,
        configs={"quick": {**_settings(rnd.QUICK_MODELS), "models": ["inception_small", "inception_small_nobn"],
                           "epochs": 40},
                 "paper": {**_settings(rnd.PAPER_MODELS), "models": ["inception_small", "inception_small_nobn"],
                           "epochs": 100, "checkpoint": True}},
        doc="Figure 2b: small Inception with and without BN, no explicit regularizer, accuracy over training."),
    "table2": Experiment(
        "table2", table2,
        configs={"quick": {**_settings(rnd.QUICK_MODELS), "model": "inception_small", "root": None, "epochs": 30},
                 "paper": {**_settings(rnd.PAPER_MODELS), "model": "inception_small", "root": None, "epochs": 100}},
        doc="Table 2 (ImageNet, Inception V3) as reported; with root=PATH the same runs on any ImageFolder tree."),
}
