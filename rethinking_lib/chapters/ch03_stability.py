"""Uniform stability of SGD, measured: train on S and on S with one example replaced, compare (Section 2.2).

An algorithm A is beta-uniformly stable if for all samples S, S' of size n that differ in one example,

    sup_z  E_A[ l(A(S); z) - l(A(S'); z) ]  <=  beta,

and then its expected generalization gap E[R(A(S)) - R_hat_S(A(S))] is at most beta (Bousquet and Elisseeff
2002): replacing example i by a fresh one changes the loss on it by at most beta, and the loss of A(S) on a
fresh point is, in distribution, the loss of A(S^(i)) on the replaced training point. Hardt, Recht and Singer
(2016, their stability bound for convex losses): for a convex, L-Lipschitz, nu-smooth loss, SGD with steps eta_t <= 2/nu is
beta-stable with beta <= (2 L^2 / n) sum_t eta_t. Gradient steps on a convex smooth loss are non-expansive, so
the two runs only drift apart on the steps that pick the replaced example, each by at most 2 eta_t L.

The bound mentions L, nu, the steps and n: not the labels. Zhang et al.'s point is that uniform stability is
a property of the algorithm, blind to the data: a guarantee that holds for every S must also hold for random
labels, where the same algorithm memorizes and the generalization gap is as large as it gets.

Measured here:
- logistic regression (loss ln(1 + exp(-y <w, x>)), ||x|| <= R gives L = R, nu = R^2 / 4) by plain
  single-example SGD from w = 0, with true and random labels, several seeds; the two runs share the order of
  example indices, so the only difference is the replaced example. Checked against the bound.
- the MLP of the randomization tests, SGD with momentum as in ``train.fit`` (same seed, same permutation
  generator), trained in lockstep on S and S'.
"""

from __future__ import annotations

import copy
from dataclasses import replace

import numpy as np
import torch
from torch import nn

from .. import paper
from ..config import cost, profiles
from ..config.claims import Claim
from ..config.experiment import Experiment
from ..engine import data, models, runs
from .ch02_rademacher import pixels

CHAPTER = "03_stability"  # its page: book/<CHAPTER>.ipynb, listed in _toc.yml

# ------------------------------------------------------------------------------------------------
# the convex case: logistic regression by single-example SGD


def logistic_constants(x: torch.Tensor) -> dict:
    """L = R and the smoothness nu = R^2 / 4 (key ``beta``) for the logistic loss on inputs with ||x|| <= R: gradient
    -y sigmoid(-y<w,x>) x (norm <= ||x||) and the Hessian sigmoid'(.) x x^T has sigmoid' <= 1/4."""
    r = float(x.double().norm(dim=1).max())
    return {"R": r, "L": r, "beta": r * r / 4, "max_step": 8 / (r * r)}


def logistic_sgd(x: torch.Tensor, y: torch.Tensor, rows: torch.Tensor, alpha: float, every: int) -> torch.Tensor:
    """Single-example SGD on the logistic loss for R runs at once, from w = 0, constant step ``alpha`` (the book's eta).

    ``x`` (N, d) the examples, ``y`` (R, N) each run's +-1 labels, ``rows`` (R, T) the example each run uses
    at each step. Returns the weights after every ``every`` steps, shape (T // every, R, d). Deterministic.
    The loop is numpy in float64: for these tiny per-step ops it is several times faster than torch.
    """
    if alpha <= 0 or every < 1:
        raise ValueError(f"alpha={alpha} and every={every} must be positive")
    x, y, rows = (t.detach().cpu().double().numpy() for t in (x, y, rows.double()))
    rows = rows.astype(np.int64)
    r, steps = rows.shape
    w = np.zeros((r, x.shape[1]))
    run = np.arange(r)
    out = []
    for t in range(steps):
        i = rows[:, t]
        xi, yi = x[i], y[run, i]
        margin = yi * np.einsum("rd,rd->r", w, xi)
        w += alpha * (yi / (1 + np.exp(margin)))[:, None] * xi  # minus the gradient: y sigmoid(-margin) x
        if (t + 1) % every == 0:
            out.append(w.copy())
    return torch.from_numpy(np.stack(out))


def logistic_loss_gap(w: torch.Tensor, w2: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """sup over the label y of |l(w; (x, y)) - l(w2; (x, y))| for each run and point: (..., R, N)."""
    s, s2 = w @ x.double().T, w2 @ x.double().T
    f = nn.functional.softplus
    return torch.maximum((f(-s) - f(-s2)).abs(), (f(s) - f(s2)).abs())


def hrs_bound(lipschitz: float, steps, alpha: float, n: int) -> torch.Tensor:
    """Hardt, Recht, Singer (2016), the convex bound: beta <= 2 L^2 sum_{t <= T} eta_t / n (constant eta)."""
    return 2 * lipschitz ** 2 * alpha * torch.as_tensor(steps, dtype=torch.float64) / n


def convex_experiment(ds: data.Dataset, cfg: dict, seed: int) -> dict:
    """Logistic regression on S vs S' (example k replaced by test example k in run k), true and random labels."""
    n, k, epochs = cfg["n"], cfg["runs"], cfg["epochs"]
    xs = pixels(ds)
    xs = xs / xs.norm(dim=1, keepdim=True).max()  # scale so that R = 1 (whitened images all have one norm)
    xt = pixels(ds, "test")
    xt = xt / pixels(ds).norm(dim=1).max()
    x_all = torch.cat([xs[:n], xt[:k]]).cpu()  # rows n..n+k-1: the replacement examples
    x_eval = torch.cat([xs[:n], xt[k:]]).cpu()
    const = logistic_constants(x_all)
    alpha = cfg["alpha"]
    if not 0 < alpha <= const["max_step"]:
        raise ValueError(f"alpha={alpha} must be in (0, 2/nu = {const['max_step']:.3g}] for the HRS bound to apply")
    g = torch.Generator().manual_seed(seed)
    true_y = torch.cat([ds.y_train[:n], ds.y_test[:k]]).cpu()
    true_pm = (true_y >= 5).double() * 2 - 1  # the binary task: digit >= 5
    conds = {"true_labels": true_pm.expand(k, -1),
             "random_labels": torch.randint(0, 2, (k, n + k), generator=g).double() * 2 - 1}
    steps = epochs * n
    order = torch.randint(0, n, (k, steps), generator=g)  # uniform sampling with replacement, as in HRS
    swapped = torch.where(order == torch.arange(k)[:, None], n + torch.arange(k)[:, None], order)
    every = max(1, n // cfg["records_per_epoch"])
    test_y = (ds.y_test[k:].cpu() >= 5).double() * 2 - 1
    out = {"alpha": alpha, **const, "n": n, "runs": k, "steps": [every * (j + 1) for j in range(steps // every)]}
    out["bound"] = hrs_bound(const["L"], out["steps"], alpha, n).tolist()
    for name, y in conds.items():
        w = logistic_sgd(x_all, y, order, alpha, every)
        w2 = logistic_sgd(x_all, y, swapped, alpha, every)
        gap = logistic_loss_gap(w, w2, x_eval)  # (checkpoints, runs, points)
        picks = torch.stack([(order[:, :s] == torch.arange(k)[:, None]).sum(1) for s in out["steps"]])
        s_train = w[-1] @ xs[:n].double().cpu().T
        s_test = w[-1] @ xt[k:].double().cpu().T
        out[name] = {
            "sup_gap": gap.amax(2).mean(1).tolist(),            # E over runs of sup over z
            "sup_gap_sd": float(gap[-1].amax(1).std(correction=1)) if k > 1 else 0.0,  # its spread over runs, at T
            "mean_gap": gap.mean((1, 2)).tolist(),
            "divergence": (w - w2).norm(dim=2).mean(1).tolist(),
            # per run, the deterministic bound 2 alpha L * (times the replaced example was picked so far)
            "path_bound_ok": bool(((w - w2).norm(dim=2) <= 2 * alpha * const["L"] * picks + 1e-9).all()),
            "train_error": float((s_train * y[:, :n] <= 0).double().mean()),
            "test_error": float((s_test * test_y <= 0).double().mean()),
            # the generalization gap in the loss the theorem bounds (logistic), averaged over the runs (the
            # expectation over SGD's sampling order); a random test label is +-1 with probability 1/2 each
            "train_loss": float(nn.functional.softplus(-s_train * y[:, :n]).mean()),
            "test_loss": float((nn.functional.softplus(-s_test * test_y) if name == "true_labels" else
                                (nn.functional.softplus(s_test) + nn.functional.softplus(-s_test)) / 2).mean()),
        }
        out[name]["loss_gap"] = out[name]["test_loss"] - out[name]["train_loss"]
    return out


# ------------------------------------------------------------------------------------------------
# a network: the MLP of the randomization tests, S and S' in lockstep


@torch.no_grad()
def _log_probs(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    model.eval()
    out = torch.cat([model(x[i:i + 2048]).log_softmax(1) for i in range(0, len(x), 2048)])
    model.train()
    return out


def lockstep(name: str, ds: data.Dataset, ds2: data.Dataset, cfg: dict, *, seed: int) -> dict:
    """Train ``name`` on ``ds`` and ``ds2`` (same size) from the same init with the same batch order.

    SGD with momentum, batch 128, the paper's lr decay per step, cross-entropy: ``train.fit``'s algorithm,
    written out so both runs can be compared after every epoch. Records the parameter distance and the loss
    gap sup over labels |l(theta; (x, y)) - l(theta'; (x, y))| on the training and test images.
    """
    n = len(ds.y_train)
    torch.manual_seed(seed)
    m1 = models.build(name, in_channels=ds.in_channels, image_size=ds.image_size, num_classes=ds.num_classes)
    m2 = copy.deepcopy(m1)
    m1, m2 = m1.to(ds.device), m2.to(ds.device)
    opts = [torch.optim.SGD(m.parameters(), lr=cfg["lr"], momentum=0.9) for m in (m1, m2)]
    gen = torch.Generator(device=ds.device).manual_seed(seed)
    xs = [data.whiten(data.center_crop(d.x_train, d.crop)) for d in (ds, ds2)]
    x_eval = torch.cat([xs[0], data.whiten(data.center_crop(ds.x_test, ds.crop))])
    decay = runs.paper_lr_decay(n)
    hist = {"step": [], "divergence": [], "sup_gap": [], "mean_gap": [], "train_acc": [], "test_acc": []}
    step = 0
    for epoch in range(cfg["net_epochs"]):
        perm = torch.randperm(n, device=ds.device, generator=gen)
        for opt in opts:
            for group in opt.param_groups:
                group["lr"] = cfg["lr"] * decay ** epoch
        for i in range(0, n, 128):
            idx = perm[i:i + 128]
            for m, opt, x, d in zip((m1, m2), opts, xs, (ds, ds2), strict=True):
                loss = nn.functional.cross_entropy(m(x[idx]), d.y_train[idx])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
            step += 1
        p1, p2 = _log_probs(m1, x_eval), _log_probs(m2, x_eval)
        gap = (p1 - p2).abs().amax(1)  # sup over the 10 labels
        hist["step"].append(step)
        diff = [(a - b).detach().flatten() for a, b in zip(m1.parameters(), m2.parameters(), strict=True)]
        hist["divergence"].append(float(torch.cat(diff).norm()))
        hist["sup_gap"].append(float(gap.max()))
        hist["mean_gap"].append(float(gap.mean()))
        hist["train_acc"].append(float((p1[:n].argmax(1) == ds.y_train).double().mean()))
        hist["test_acc"].append(float((p1[n:].argmax(1) == ds.y_test).double().mean()))
    return hist


def replace_one(ds: data.Dataset, i: int, x_new: torch.Tensor, y_new: torch.Tensor) -> data.Dataset:
    """S^(i): ``ds`` with training example i replaced by (x_new, y_new)."""
    x, y = ds.x_train.clone(), ds.y_train.clone()
    x[i], y[i] = x_new, y_new
    return replace(ds, x_train=x, y_train=y)


def network_experiment(ds: data.Dataset, cfg: dict, seed: int) -> dict:
    """The MLP on S vs S' (example 0 replaced by test example 0), true and random labels."""
    from ..engine import corrupt

    n = cfg["n"]
    out = {}
    base = ds.subset(n_train=n)
    base = replace(base, x_test=ds.x_test[1:], y_test=ds.y_test[1:])  # test example 0 joins S'
    for cond in ("true_labels", "random_labels"):
        d = corrupt.apply(base, cond, seed=seed)
        y_new = ds.y_test[0] if cond == "true_labels" else (d.y_train[0] + 1 + seed) % 10  # a random-looking label
        d2 = replace_one(d, 0, ds.x_test[0], y_new)
        out[cond] = lockstep(cfg["net_model"], d, d2, cfg, seed=seed)
    return out


# ------------------------------------------------------------------------------------------------
# what the page shows: tables, a sentence and the numbers the prose quotes

def convex_table(res: dict) -> list[dict]:
    """The logistic-regression setting: n, the constants R, L and K, the step, T steps, runs and the bound at T."""
    cv = res["convex"]
    return [{"n": cv["n"], "R_x = max ‖x‖": cv["R"], "L": cv["L"], "ν (smoothness)": cv["beta"], "2 / ν": cv["max_step"],
             "step alpha": cv["alpha"], "steps T": cv["steps"][-1], "runs": cv["runs"], "HRS bound at T": cv["bound"][-1]}]


def run_line(rec: dict) -> str:
    """Which data, and whether the run was loaded or computed (how long it took, where)."""
    prov = rec["provenance"]
    return (f"{rec['config']['dataset']}; {'loaded from the results store' if rec['cached'] else 'computed now'} "
            f"({prov['wall_time']:.0f} s when it ran, on {prov['device']}).")


def gap_table(res: dict) -> list[dict]:
    """Per labeling, at the last step: the measured sup gap and divergence beside the HRS bound, and the losses."""
    cv = res["convex"]
    rows = []
    for key in ("true_labels", "random_labels"):
        r = cv[key]
        rows.append({"labels": runs.label(key), "E sup_z loss gap at T": r["sup_gap"][-1],
                     "E ‖w_T - w'_T‖": r["divergence"][-1], "HRS bound": cv["bound"][-1],
                     "per-path bound holds": r["path_bound_ok"], "train loss": r["train_loss"], "test loss": r["test_loss"],
                     "generalization gap (logistic)": r["loss_gap"], "train error": r["train_error"],
                     "test error": r["test_error"]})
    return rows


def network_table(res: dict) -> list[dict]:
    """The network on S vs S', per labeling, at the last step."""
    return [{"labels": runs.label(k), "steps": h["step"][-1], "‖θ - θ'‖": h["divergence"][-1],
             "sup_z loss gap": h["sup_gap"][-1], "mean_z loss gap": h["mean_gap"][-1],
             "train accuracy": h["train_acc"][-1], "test accuracy": h["test_acc"][-1]} for k, h in res["network"].items()]


def prose_numbers(rec: dict) -> dict:
    """The numbers the chapter's prose quotes (glued into the text), by name."""
    cv, net = rec["result"]["convex"], rec["result"]["network"]
    out = {"ch3_bound": cv["bound"][-1], "ch3_steps": cv["steps"][-1], "ch3_runs": cv["runs"], "ch3_n": cv["n"],
           "ch3_epochs": rec["config"]["epochs"]}
    for key, tag in (("true_labels", "true"), ("random_labels", "rand")):
        r = cv[key]
        out |= {f"ch3_sup_{tag}": r["sup_gap"][-1], f"ch3_lossgap_{tag}": r["loss_gap"],
                f"ch3_zo_gap_{tag}": r["test_error"] - r["train_error"]}
    t, r = cv["true_labels"]["sup_gap"][-1], cv["random_labels"]["sup_gap"][-1]
    out |= {"ch3_share": max(t, r) / cv["bound"][-1], "ch3_label_factor": max(t, r) / min(t, r)}
    tr, rn = net["true_labels"], net["random_labels"]
    out["ch3_net_steps"] = rn["step"][-1]
    for tag, h in (("true", tr), ("rand", rn)):
        out |= {f"ch3_net_{tag}_train": h["train_acc"][-1], f"ch3_net_{tag}_test": h["test_acc"][-1],
                f"ch3_net_{tag}_sup": h["sup_gap"][-1]}
    out["ch3_net_ratio"] = rn["sup_gap"][-1] / tr["sup_gap"][-1]
    return out


def run(cfg: dict, *, seed: int, progress: bool | None, out) -> dict:
    for key in ("n", "runs", "epochs", "records_per_epoch", "net_epochs"):
        if not (isinstance(cfg[key], int) and cfg[key] >= 1):
            raise ValueError(f"{key}={cfg[key]!r} must be a positive integer")
    device = profiles.device(cfg["profile"])
    ds = data.load(cfg["dataset"], device=device, seed=0)
    if cfg["n"] > len(ds.y_train) or cfg["runs"] > min(cfg["n"], len(ds.y_test) - 1):
        raise ValueError(f"n={cfg['n']} / runs={cfg['runs']} do not fit {cfg['dataset']} ({len(ds.y_train)} train, "
                         f"{len(ds.y_test)} test images): pass n <= {len(ds.y_train)} and runs <= n")
    convex = convex_experiment(ds, cfg, seed)
    net = network_experiment(ds, cfg, seed)
    last = {c: {"sup_gap": convex[c]["sup_gap"][-1], "bound": convex["bound"][-1], "loss_gap": convex[c]["loss_gap"],
                "train_error": convex[c]["train_error"], "test_error": convex[c]["test_error"]}
            for c in ("true_labels", "random_labels")}
    summary = {"logistic " + c: {k: round(v, 4) for k, v in last[c].items()} for c in last}
    for c in net:
        h = net[c]
        summary[f"{cfg['net_model']} {c}"] = {"sup_gap": round(h["sup_gap"][-1], 4), "mean_gap": round(h["mean_gap"][-1], 4),
                                              "train_acc": round(h["train_acc"][-1], 4), "test_acc": round(h["test_acc"][-1], 4)}
    return {"convex": convex, "network": net, "summary": summary}


# --- its cost (what the plan estimates before anything runs: ``config.cost``) ---------------------------------

def cost_model(cfg: dict, memory: float) -> list[dict]:
    """Logistic SGD (4 runs of R parallel chains: true/random labels on S and S'), its loss gaps at every
    record, and the MLP trained in lockstep on S and S' for both labelings."""
    ds, n, k, ep = cfg["dataset"], cfg["n"], cfg["runs"], cfg["epochs"]
    d, m = cost.pixels(ds), runs.DATA_SIZES.get(ds, (0, 10_000))[1]

    def loop():
        g = torch.Generator().manual_seed(0)
        x = torch.randn(k + 64, d, generator=g, dtype=torch.float64) / d ** 0.5
        y = torch.randint(0, 2, (k, k + 64), generator=g).double() * 2 - 1
        rows = torch.randint(0, k + 64, (k, cost.SLICE_STEPS), generator=g)
        logistic_sgd(x, y, rows, 0.01, cost.SLICE_STEPS)

    records = ep * cfg["records_per_epoch"]
    return [cost.timed_slice(f"logistic SGD: 4 x {ep * n:,} steps of {k} chains", f"logistic_sgd k={k} d={d}", loop,
                             4 * ep * n / cost.SLICE_STEPS),
            cost.dense(f"logistic loss gaps at {records} records", 4 * 2.0 * records * k * d * (n + m - k), on="host"),
            cost.train(f"{cfg['net_model']} on S and S', true and random labels", cfg["net_model"], ds, n, cfg["net_epochs"],
                       n_eval=n + m, times=4)]


EXPERIMENTS = {
    "stability": Experiment(
        "stability", run, cost=cost_model,
        paper={"dataset": "cifar10", "n": 50000, "runs": 10, "epochs": 10, "alpha": 0.05, "records_per_epoch": 4,
               "net_model": "mlp_1x512", "lr": paper.LR["mlp_1x512"], "net_epochs": 100},
        deltas={"gpu": {},  # plan's cost model: ~5 min on a T4 (the logistic SGD loop runs on the host CPU)
                "quick": {"dataset": "mnist5k", "n": 1000, "net_epochs": 60}},
        reasons={"gpu": "none: the paper's setting fits one sitting on a T4 (about 5 minutes; the logistic SGD "
                        "loop runs on the host CPU, the MLP on the GPU)",
                 "quick": "n = 1,000 offline digits and 60 epochs for the MLP pair: 10 logistic SGD chains over 50,000 "
                          "CIFAR-10 images, and the MLP trained twice in lockstep, are too slow for 2 CPU cores"},
        doc="Section 2.2: uniform stability of SGD measured on S vs S' (one example replaced), logistic regression "
            "against the Hardt-Recht-Singer bound, and the MLP, each with true and random labels",
        expect={"quick": "logistic: measured gap below the HRS bound, the same bound for both labelings"}),
}


# --- the paper's claims this chapter's experiments check (the conclusion's table, ``pages.claims``) -------

SAME_SES = 2  # "the same": the two labelings' mean measured gaps differ by at most 2 standard errors of the difference


def same_within(a: float, sd_a: float, b: float, sd_b: float, runs_: int) -> tuple[bool, float]:
    """Are two means over ``runs_`` runs each (sds ``sd_a``, ``sd_b``) the same within ``SAME_SES`` standard errors
    of their difference? Returns (same, the tolerance)."""
    tol = SAME_SES * ((sd_a ** 2 + sd_b ** 2) / runs_) ** 0.5
    return abs(a - b) <= tol, tol


def stability_blind_to_labels(rec: dict) -> tuple[str, str, bool]:
    cv = rec["result"]["convex"]
    t, r, bound = cv["true_labels"], cv["random_labels"], cv["bound"][-1]
    same, tol = same_within(t["sup_gap"][-1], t["sup_gap_sd"], r["sup_gap"][-1], r["sup_gap_sd"], cv["runs"])
    net = rec["result"].get("network", {})
    mlp = (f"; the MLP, which no uniform-stability bound covers, measures {net['true_labels']['sup_gap'][-1]:.3f} (true) "
           f"vs {net['random_labels']['sup_gap'][-1]:.3f} (random)") if {"true_labels", "random_labels"} <= set(net) else ""
    return ("uniform stability is a property of the algorithm alone (Section 2.2, argued)",
            f"logistic regression: one HRS bound {bound:.3f} for both labelings; measured sup gap {t['sup_gap'][-1]:.4f} "
            f"± {t['sup_gap_sd']:.4f} (true) vs {r['sup_gap'][-1]:.4f} ± {r['sup_gap_sd']:.4f} (random), sd over "
            f"{cv['runs']} runs; tolerance {tol:.4f}{mlp}", same and max(t["sup_gap"][-1], r["sup_gap"][-1]) <= bound)


CLAIMS = [
    Claim("Uniform stability is blind to the labels", "2.2", "stability", stability_blind_to_labels,
          f"logistic regression (where the HRS bound applies): the measured stability (mean over runs of the sup over "
          "z of the loss gap at T) of true and random labels "
          f"differs by at most {SAME_SES} standard errors of the difference (from the spread over the runs), and both "
          "stay under the one HRS bound: the bound is a function of L, the step, T and n only, so only the "
          "measurement can tell the labelings apart"),
]
