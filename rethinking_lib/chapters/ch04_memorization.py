"""The ``memorization`` experiment: which training examples a network fits first (Arpit et al. 2017).

With partially corrupted labels (``corrupt.apply(..., "partial_labels", p=p)``) the training set splits into
*clean* examples (label unchanged) and *noisy* ones (label replaced by a different class: a replacement that
happens to draw the true class counts as clean). After every epoch we measure the training accuracy on each
subset separately (against the labels trained on) and the test accuracy (clean test labels). Arpit et al.
observe that real patterns are fitted first and the noise later, and that test accuracy peaks before the
noise is memorized. ``clean_epoch_90`` / ``noisy_epoch_90`` are the first epochs at which 90% of the clean /
noisy training examples are fitted.

Each p is one run spec trained by the engine (``runs.run_one``: stored, so a longer sweep resumes); the
per-subset accuracies are the spec's per-epoch evaluation ``clean_noisy`` (``engine/epoch_evals.py``).

Setting: the book's MLP 1x512 on the quick profile's mnist5k digits, with Figure 1b's hyper-parameters (SGD,
momentum 0.9, lr 0.01 with the paper's decay per step), trained to 100% training accuracy (or the cap).
"""

from __future__ import annotations

from .. import paper
from ..config import cost
from ..config.experiment import Experiment
from ..engine import runs

CHAPTER = "04_randomization_tests"  # its page: book/<CHAPTER>.ipynb, listed in _toc.yml

PAPER = {"model": "mlp_1x512", "dataset": "cifar10", "n_train": None, "crop": "paper", "lr": paper.LR["mlp_1x512"],
         "lr_decay": paper.LR_DECAY_PER_EPOCH, "epochs": 200, "batch_size": 128, "ps": [0.2, 0.4, 0.6, 0.8],
         "summary_p": 0.4, "device": "auto"}
# quick: the offline digits, with the paper's decay per step (an epoch of mnist5k's 4,000 training digits has
# fewer steps than one of CIFAR-10's 50,000 images)
QUICK = {"dataset": "mnist5k", "lr_decay": runs.paper_lr_decay(4000)}
# gpu: 20,000 CIFAR-10 images with the paper's decay per step. Sizing (plan's cost model, T4 calibration): the
# paper's 50,000 take ~8 min there, on top of ~10 min of Figure 1's runs in the same chapter; this ~3 min.
GPU_N = 20_000
GPU = {"n_train": GPU_N, "lr_decay": runs.paper_lr_decay(GPU_N)}


def first_epoch_at(curve: list[float], level: float = 0.9) -> int | None:
    """The first epoch (1-based) at which ``curve`` reaches ``level``; None if it never does."""
    return next((i + 1 for i, v in enumerate(curve) if v >= level), None)


def run_spec(cfg: dict, p: float, seed: int) -> dict:
    """The training run at corruption ``p``: it also scores the clean and the corrupted training examples every
    epoch (``epoch_eval="clean_noisy"``)."""
    return runs.spec(model=cfg["model"], dataset=cfg["dataset"], n_train=cfg["n_train"], crop=cfg["crop"],
                     condition="partial_labels", p=p, corruption_seed=seed, lr=cfg["lr"], lr_decay=cfg["lr_decay"],
                     batch_size=cfg["batch_size"], epochs=cfg["epochs"], stop_at_100=True, seed=seed,
                     device=cfg["device"], keep_step_loss=False, epoch_eval="clean_noisy")


def memorization_specs(cfg: dict) -> list[dict]:
    """Every training run of ``cfg``, one per p (the experiment seed in ``cfg["run"]["seed"]``, as ``runs.seeded``
    puts it for ``Experiment.specs``)."""
    return [run_spec(cfg, p, cfg.get("run", {}).get("seed", 0)) for p in cfg["ps"]]


def curves(cfg: dict, p: float, seed: int, *, progress=None, out=None) -> dict:
    """Train at corruption ``p`` (or load the run); per-epoch accuracy on the clean and the noisy training
    examples, and test."""
    r = runs.run_one(run_spec(cfg, p, seed), out=out, progress=progress)["result"]
    clean_acc = [e["clean_train_acc"] for e in r["epochs"]]
    noisy_acc = [e["noisy_train_acc"] for e in r["epochs"]]
    test = [e["test_acc"] for e in r["epochs"]]
    best = max(range(len(test)), key=test.__getitem__)
    return {"p": p, "noisy_fraction": r["fraction_changed"], "clean_train_acc": clean_acc,
            "noisy_train_acc": noisy_acc, "train_acc": [e["train_acc"] for e in r["epochs"]], "test_acc": test,
            "clean_epoch_90": first_epoch_at(clean_acc), "noisy_epoch_90": first_epoch_at(noisy_acc),
            "best_test_epoch": best + 1, "best_test_acc": test[best], "final_test_acc": test[-1],
            "epochs": len(test)}


def memorization(cfg: dict, *, seed: int = 0, progress=None, out=None) -> dict:
    for p in cfg["ps"]:
        if not 0 < p < 1:
            raise ValueError(f"p={p!r}: memorization needs corruption levels strictly between 0 and 1, e.g. ps=[0.4]")
    per_p = [curves(cfg, p, seed, progress=progress, out=out) for p in cfg["ps"]]
    main = min(per_p, key=lambda r: abs(r["p"] - cfg["summary_p"]))
    keys = ("p", "clean_epoch_90", "noisy_epoch_90", "best_test_epoch", "best_test_acc", "final_test_acc")
    return {"per_p": per_p, "summary": {k: main[k] for k in keys}
            | {"clean_first_at_every_p": all(r["clean_epoch_90"] is not None and (r["noisy_epoch_90"] is None or
                                                                                 r["clean_epoch_90"] < r["noisy_epoch_90"])
                                             for r in per_p)}}


# --- its cost (what the plan estimates before anything runs: ``config.cost``) ---------------------------------

def cost_model(cfg: dict, memory: float) -> list[dict]:
    """One run per p; each epoch also scores every training example (clean vs corrupted)."""
    n, m = cost.sizes(cfg["dataset"], cfg["n_train"], None)
    return [cost.train(f"{cfg['model']} at p = {', '.join(map(str, cfg['ps']))}", cfg["model"], cfg["dataset"], n,
                       cfg["epochs"], n_eval=2 * n + m, batch_size=cfg["batch_size"], times=len(cfg["ps"]),
                  stops_early=True)]


EXPERIMENTS = {
    "memorization": Experiment(
        "memorization", memorization, paper=PAPER, deltas={"gpu": GPU, "quick": QUICK}, cost=cost_model,
        reasons={"gpu": f"{GPU_N:,} of CIFAR-10's 50,000 images, the paper's MLP, lr and decay per step: the full set "
                        "would push the randomization chapter past 15 minutes on a T4; the clean examples are still "
                        "fitted epochs before the corrupted ones",
                 "quick": "the offline digits instead of CIFAR-10 (the quick profile has no network), with the paper's "
                          "decay per step at their 4,000 training digits"},
        doc="Arpit et al. (2017): per-epoch training accuracy on clean and on corrupted examples, and test accuracy.",
        expect={"quick": "clean examples fitted (90%) epochs before the corrupted ones"}),
}


def table(res: dict) -> list[dict]:
    """One row per p: when the clean / corrupted examples were 90% fitted, and where test accuracy peaked."""
    return [{"p": r["p"], "labels changed": r["noisy_fraction"], "clean 90% fitted (epoch)": r["clean_epoch_90"],
             "corrupted 90% fitted (epoch)": r["noisy_epoch_90"], "best test acc.": r["best_test_acc"],
             "at epoch": r["best_test_epoch"], "final test acc.": r["final_test_acc"], "epochs": r["epochs"]}
            for r in res["per_p"]]


def describe(res: dict) -> str:
    """The measured sentence the chapter shows under the table."""
    s = res["summary"]
    return (f"**Measured** at p = {s['p']:g}: 90% of the clean training examples are fitted by epoch "
            f"{s['clean_epoch_90']}, 90% of the corrupted ones only by epoch {s['noisy_epoch_90']}. Test accuracy "
            f"peaks at {s['best_test_acc']:.1%} in epoch {s['best_test_epoch']} and ends at {s['final_test_acc']:.1%} "
            f"once the noise is memorized. Clean before corrupted at every p: {s['clean_first_at_every_p']}.")
