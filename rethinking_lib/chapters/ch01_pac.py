"""PAC learning, measured: empirical error, a held-out estimate of the true error, and classical bounds.

Zhang et al. (2017), Sections 1 and 2.2: a learning guarantee says that, with probability at least
1 - delta over the i.i.d. sample S of size n, every hypothesis h of the class H satisfies

    R(h) <= R_hat_S(h) + (a complexity term of H, n and delta),

where R(h) = P[h(x) != y] is the generalization error and R_hat_S(h) = (1/n) sum_i 1[h(x_i) != y_i] the
empirical error. The same network, trained by the same algorithm, reaches R_hat = 0 on true and on random
labels, so any bound that only looks at H and n must allow R near 0.9 for both: it is vacuous.

This module trains those two networks (through the shared run store, so the randomization-tests chapter and
this one train each run once), estimates R from a held-out set with a Hoeffding interval, and evaluates
the classical capacity bounds for the network's parameter count W:

- finite class: a float32 network is one of |H| = 2^(32 W) functions, ln|H| = 32 W ln 2; realizable bound
  (ln|H| + ln(1/delta)) / n and agnostic bound R_hat + sqrt((ln|H| + ln(2/delta)) / (2n))
  (Mohri et al. 2018, ch. 2, the finite-class bounds);
- VC: R_hat + sqrt(2 ln Pi(n) / n) + sqrt(ln(1/delta) / (2n)) (Mohri et al. 2018, ch. 3, the VC bound) with
  the growth function Pi(n) <= (e n / d)^d for n >= d, and Pi(n) <= 2^n always, for the VC dimension
  proxy d = W L log2(W): ReLU networks with W weights and L layers have VC dimension O(W L log W) and
  Omega(W L log(W / L)) (Bartlett, Harvey, Liaw, Mehrabian 2019); we drop the unknown constants.
"""

from __future__ import annotations

import math

import numpy as np

from .. import paper
from ..config import profiles
from ..config.claims import Claim
from ..config.experiment import Experiment, Whole
from ..config.settings import GPU_DELTA, learning_rates
from ..engine import data, models, runs

CHAPTER = "01_pac_learning"  # its page: book/<CHAPTER>.ipynb, listed in _toc.yml

GPU_SUBSET = GPU_DELTA["inception_small"]  # n_train / n_test of the gpu profile's CIFAR-10 runs

# Layers with weights on the longest input-output path: the L of the VC proxy W L log2 W.
DEPTH = {"mlp_1x512": 2, "mlp_3x512": 4, "alexnet_small": 5, "inception_small": 12, "inception_small_nobn": 12}


def _check_delta(delta: float) -> None:
    if not 0 < delta < 1:
        raise ValueError(f"delta={delta!r} must be in (0, 1): the failure probability, e.g. 0.05")


def _check_n(n) -> None:
    if not n >= 1:
        raise ValueError(f"n={n!r} must be a positive sample size")


def hoeffding_interval(error: float, n: int, delta: float = 0.05) -> tuple[float, float]:
    """Two-sided Hoeffding interval for R from the error on n held-out i.i.d. points.

    P[|R_hat_test - R| > eps] <= 2 exp(-2 n eps^2), so eps = sqrt(ln(2/delta) / (2n)) at confidence 1-delta.
    """
    _check_delta(delta)
    _check_n(n)
    eps = math.sqrt(math.log(2 / delta) / (2 * n))
    return max(0.0, error - eps), min(1.0, error + eps)


def clopper_pearson_interval(error: float, n: int, delta: float = 0.05) -> tuple[float, float]:
    """Exact two-sided binomial (Clopper-Pearson) interval for R from the error on n held-out i.i.d. points.

    With k = round(error * n) mistakes: the delta/2 and 1 - delta/2 quantiles of Beta(k, n - k + 1) and
    Beta(k + 1, n - k) (0 and 1 at the ends). Never wider than Hoeffding's, much narrower near 0 or 1.
    """
    from scipy.special import betaincinv  # the Beta quantile (scipy.stats.beta.ppf), without scipy.stats' ~1 s import

    _check_delta(delta)
    _check_n(n)
    if not 0 <= error <= 1:
        raise ValueError(f"error={error!r} must be an error rate in [0, 1]")
    k = round(error * n)
    lo = 0.0 if k == 0 else float(betaincinv(k, n - k + 1, delta / 2))
    hi = 1.0 if k == n else float(betaincinv(k + 1, n - k, 1 - delta / 2))
    return lo, hi


def log_class_size(n_params: int, bits: int = 32) -> float:
    """ln|H| for networks whose ``n_params`` parameters are ``bits``-bit numbers: bits * W * ln 2."""
    if n_params < 1:
        raise ValueError(f"n_params={n_params!r} must be a positive parameter count")
    return bits * n_params * math.log(2)


def finite_class_bound(log_h: float, n: float, delta: float = 0.05, train_error: float | None = None) -> float:
    """Finite-class bound on R (Mohri et al. 2018). ``train_error=None``: the realizable bound for a hypothesis
    consistent with the sample, (ln|H| + ln(1/delta)) / n (ch. 2, consistent case). Otherwise the agnostic bound
    R_hat + sqrt((ln|H| + ln(2/delta)) / (2n)) (ch. 2, inconsistent case), valid for any R_hat."""
    _check_delta(delta)
    _check_n(n)
    if train_error is None:
        return (log_h + math.log(1 / delta)) / n
    return train_error + math.sqrt((log_h + math.log(2 / delta)) / (2 * n))


def vc_dimension_proxy(n_params: int, depth: int) -> float:
    """d = W L log2(W): the order of the VC dimension of ReLU networks (Bartlett et al. 2019), constants dropped."""
    if n_params < 2 or depth < 1:
        raise ValueError(f"n_params={n_params!r} and depth={depth!r} must be at least 2 and 1")
    return n_params * depth * math.log2(n_params)


def log_growth(n: float, d: float, classes: int = 2) -> float:
    """ln of the growth function bound of the 0-1 loss class on n points: at most n ln 2 always.

    ``classes=2``: Sauer's lemma, d ln(e n / d) for n >= d, d the VC dimension. ``classes=k > 2``: Natarajan's
    lemma (Shalev-Shwartz & Ben-David 2014, ch. 29), at most n^d k^(2d) labelings, d the Natarajan dimension.
    """
    if classes < 2:
        raise ValueError(f"classes={classes!r} must be at least 2")
    full = n * math.log(2)
    if classes > 2:
        return min(full, d * (math.log(n) + 2 * math.log(classes)))
    return full if n < d else min(full, d * math.log(math.e * n / d))


def vc_bound(d: float, n: float, delta: float = 0.05, train_error: float = 0.0, classes: int = 2) -> float:
    """R_hat + sqrt(2 ln Pi(n) / n) + sqrt(ln(1/delta) / (2n)) (Mohri et al. 2018, ch. 3, the VC bound; the same proof
    gives it for k classes with the growth function of the 0-1 loss class, see ``log_growth``)."""
    _check_delta(delta)
    _check_n(n)
    return (train_error + math.sqrt(2 * log_growth(n, d, classes) / n)
            + math.sqrt(math.log(1 / delta) / (2 * n)))


def samples_needed(bound, target: float = 0.1, hi: float = 1e30) -> float:
    """Smallest n (to 1%) with ``bound(n) <= target``, by bisection on log n; ``bound`` must decrease in n."""
    lo = 1.0
    if bound(hi) > target:
        return math.inf
    while hi / lo > 1.01:
        mid = math.sqrt(lo * hi)
        lo, hi = (lo, mid) if bound(mid) <= target else (mid, hi)
    return hi


def bounds_for(n_params: int, depth: int, n: int, delta: float = 0.05, train_error: float = 0.0,
               target: float = 0.1, classes: int = 2, bits: int = 32) -> dict:
    """Every classical bound for a network with ``n_params`` ``bits``-bit weights and ``depth`` layers trained on
    n points; ``classes > 2`` reads the dimension proxy as a Natarajan dimension (see ``log_growth``)."""
    log_h = log_class_size(n_params, bits)
    d = vc_dimension_proxy(n_params, depth)
    return {
        "n_params": n_params, "depth": depth, "log_class_size": log_h, "vc_dimension_proxy": d,
        # the realizable bound applies when the network fits its sample exactly, else the agnostic one
        "finite_class": finite_class_bound(log_h, n, delta, train_error=train_error or None),
        "finite_class_agnostic": finite_class_bound(log_h, n, delta, train_error=train_error),
        "vc": vc_bound(d, n, delta, train_error, classes),
        "n_needed_finite_class": samples_needed(lambda m: finite_class_bound(log_h, m, delta), target),
        "n_needed_vc": samples_needed(lambda m: vc_bound(d, m, delta, classes=classes), target),
        "target": target, "classes": classes, "bits": bits,
    }


def bound_grid(ns, capacities, depth: int = 2, delta: float = 0.05) -> dict:
    """Bounds over a grid of sample sizes and parameter counts (for the chapter's widget)."""
    return {"n": list(ns), "n_params": list(capacities),
            "finite_class": [[finite_class_bound(log_class_size(w), n, delta) for n in ns] for w in capacities],
            "vc": [[vc_bound(vc_dimension_proxy(w, depth), n, delta) for n in ns] for w in capacities]}


def reported_errors(model: str, condition: str) -> tuple[float, float]:
    """(train error, test error) of ``model`` in the paper's Table 1 (CIFAR-10, no random crop, no weight decay),
    for ``condition`` "true_labels" or "random_labels"."""
    labels = {"true_labels": "true", "random_labels": "random"}
    if condition not in labels:
        raise ValueError(f"condition={condition!r}: Table 1 has true_labels and random_labels only")
    for m, crop, wd, lab, train, test in paper.TABLE1:
        if (m, crop, wd, lab) == (model, False, False, labels[condition]):
            return 1 - train / 100, 1 - test / 100
    raise ValueError(f"model={model!r} is not in Table 1: choose from {sorted({r[0] for r in paper.TABLE1})}")


# ------------------------------------------------------------------------------------------------
# what the page shows: tables, a sentence, the widget's grid and the numbers the prose quotes

PAPER_NETS = ("mlp_1x512", "mlp_3x512", "alexnet_small", "inception_small")  # the paper's networks, n = 50,000


def error_table(res: dict) -> list[dict]:
    """Per network and labeling: errors, the Hoeffding and Clopper-Pearson intervals, Table 1's reported errors."""
    delta = res["delta"]
    return [{"model": runs.label(r["model"]), "labels": runs.label(r["condition"]), "n train": r["n_train"],
             "epochs": r["epochs"], "train error": r["train_error"], "test error": r["test_error"],
             f"Hoeffding {1 - delta:.0%} interval": "[{:.3f}, {:.3f}]".format(*r["test_error_ci"]),
             f"Clopper-Pearson {1 - delta:.0%} interval": "[{:.3f}, {:.3f}]".format(
                 *clopper_pearson_interval(r["test_error"], r["n_test"], delta)),
             "reported train / test error (CIFAR-10)": "{:.4f} / {:.4f}".format(*reported_errors(r["model"], r["condition"]))}
            for r in res["rows"]]


def run_line(rec: dict) -> str:
    """Which data, how many held-out points, delta, and whether the runs were loaded or trained."""
    res = rec["result"]
    return (f"Dataset: **{rec['config']['dataset']}**, {res['rows'][0]['n_test']} held-out test points, "
            f"delta = {res['delta']}; {'loaded from the results store' if rec['cached'] else 'trained now'}.")


def reported_by_condition(res: dict) -> dict:
    """condition -> Table 1's (train error, test error) of the page's network, for the figure's hollow markers."""
    return {r["condition"]: reported_errors(r["model"], r["condition"]) for r in res["rows"]}


def our_bounds(res: dict) -> list[dict]:
    """Every classical bound for the page's trained networks (10 classes), at their n and training error."""
    return [{"name": f"{runs.label(r['model'])}, {runs.label(r['condition'])}", "n": r["n_train"],
             "b": bounds_for(r["bounds"]["n_params"], DEPTH[r["model"]], r["n_train"], res["delta"], r["train_error"],
                             classes=10)}
            for r in res["rows"]]


def paper_bounds(delta: float) -> list[dict]:
    """The same bounds for the paper's networks at their full parameter counts on CIFAR-10's n = 50,000."""
    return [{"name": models.LABELS[m], "n": 50_000,
             "b": bounds_for(models.PAPER_PARAM_COUNTS[m], DEPTH[m], 50_000, delta, classes=10)} for m in PAPER_NETS]


def bound_table(entries: list[dict]) -> list[dict]:
    """``our_bounds`` / ``paper_bounds`` entries as table rows."""
    return [{"network": e["name"], "n": e["n"], "W (params)": e["b"]["n_params"], "ln #H": e["b"]["log_class_size"],
             "finite-class bound": e["b"]["finite_class"], "agnostic finite-class": e["b"]["finite_class_agnostic"],
             "d_N (proxy)": e["b"]["vc_dimension_proxy"], "Natarajan bound": e["b"]["vc"],
             "n for finite-class <= 0.1": e["b"]["n_needed_finite_class"], "n for Natarajan <= 0.1": e["b"]["n_needed_vc"]}
            for e in entries]


def bound_widget_inputs(res: dict) -> dict:
    """The widget's bound grid over n and W (with our network's and the paper's MLP's W), its marks and start."""
    rows = res["rows"]
    caps = sorted({10**3, 10**4, 10**5, 10**6, 10**7, rows[0]["bounds"]["n_params"], models.PAPER_PARAM_COUNTS["mlp_1x512"]})
    marks = [{"n": rows[0]["n_train"], "text": f"ours, n = {rows[0]['n_train']:,}", "key": "true_labels"},
             {"n": 50_000, "text": "CIFAR-10, n = 50,000", "key": "random_labels"}]
    return {"grid": bound_grid(np.logspace(2, 12, 61), caps, depth=2, delta=res["delta"]), "marks": marks,
            "selected": caps.index(rows[0]["bounds"]["n_params"])}


def prose_numbers(res: dict) -> dict:
    """The numbers the chapter's prose quotes (glued into the text), by name."""
    rows, delta = res["rows"], res["delta"]
    out = {"ch1_n_train": rows[0]["n_train"], "ch1_n_test": rows[0]["n_test"]}
    for r in rows:
        tag = "true" if r["condition"] == "true_labels" else "rand"
        cp = clopper_pearson_interval(r["test_error"], r["n_test"], delta)
        out |= {f"ch1_{tag}_test": r["test_error"], f"ch1_{tag}_train": r["train_error"],
                f"ch1_{tag}_cp_lo": cp[0], f"ch1_{tag}_cp_hi": cp[1],
                f"ch1_{tag}_hoef_lo": r["test_error_ci"][0], f"ch1_{tag}_hoef_hi": r["test_error_ci"][1]}
    ours, theirs = our_bounds(res), paper_bounds(delta)
    out |= {"ch1_min_bound": min(min(e["b"]["finite_class"], e["b"]["vc"]) for e in ours),
            "ch1_params": ours[0]["b"]["n_params"],
            "ch1_paper_min_bound": min(min(e["b"]["finite_class"], e["b"]["vc"]) for e in theirs),
            "ch1_paper_min_n_needed": min(e["b"]["n_needed_finite_class"] for e in theirs)}
    return out
def pac_specs(cfg: dict) -> list[dict]:
    """One run per model and label condition (``cfg["run"]["seed"]``: the experiment's seed, ``runs.seeded``):
    the paper's SGD and learning rate with its decay per step, stopped at 100% training accuracy."""
    seed = cfg.get("run", {}).get("seed", 0)
    return [runs.spec(model=name, dataset=cfg["dataset"], n_train=cfg["n_train"], n_test=cfg["n_test"], condition=cond,
                      lr=cfg["lr"][name], lr_decay="paper", epochs=cfg["epochs"], stop_at_100=True, seed=seed)
            for name in cfg["models"] for cond in cfg["conditions"]]


def run(cfg: dict, *, seed: int, progress: bool | None, out) -> dict:
    """Train each model on true and random labels; held-out error with Hoeffding interval; classical bounds."""
    _check_delta(cfg["delta"])  # fail before training, not after
    unknown = set(cfg["models"]) - set(DEPTH)
    if unknown:
        raise ValueError(f"models={sorted(unknown)} are unknown: choose from {', '.join(DEPTH)}")
    profiles.device(cfg["profile"])  # warns when a GPU profile runs on the CPU
    sizes = data.load(cfg["dataset"], n_train=cfg["n_train"], n_test=cfg["n_test"])
    n_train, n_test = len(sizes.y_train), len(sizes.y_test)
    del sizes
    delta = cfg["delta"]
    rows = []
    for s in pac_specs(runs.seeded(cfg, seed)):
        name, cond = s["model"], s["condition"]
        h = runs.run_one(s, out=out, progress=progress, checkpoint=cfg["profile"] in ("gpu", "paper"))["result"]
        train_err, test_err = 1 - h["train_acc"], 1 - h["test_acc"]
        lo, hi = hoeffding_interval(test_err, n_test, delta)
        rows.append({"model": name, "condition": cond, "n_train": n_train, "n_test": n_test,
                     "train_error": train_err, "test_error": test_err, "test_error_ci": [lo, hi],
                     "epochs": h["epochs_run"], "wall_time": h["wall_time"],
                     "bounds": bounds_for(h["n_params"], DEPTH[name], n_train, delta, train_err)})
    summary = {f"{r['model']} {r['condition']}": {
        "train_error": round(r["train_error"], 4), "test_error": round(r["test_error"], 4),
        "test_error_ci": [round(v, 4) for v in r["test_error_ci"]],
        "finite_class_bound": round(r["bounds"]["finite_class"], 1),
        "finite_class_agnostic_bound": round(r["bounds"]["finite_class_agnostic"], 2), "vc_bound": round(r["bounds"]["vc"], 3),
        "vc_dimension_proxy": round(r["bounds"]["vc_dimension_proxy"])}
        for r in rows}
    return {"rows": rows, "delta": delta, "summary": summary}


EXPERIMENTS = {
    "pac": Experiment(
        "pac", run, specs=pac_specs,
        paper={"dataset": "cifar10", "n_train": None, "n_test": None, "models": ["mlp_1x512", "inception_small"],
               "conditions": ["true_labels", "random_labels"], "lr": learning_rates("mlp_1x512", "inception_small"),
               "epochs": 100, "delta": 0.05},
        # gpu: the CIFAR-10 subset of the randomization tests' gpu runs. Sizing (plan's cost model, T4
        # calibration): the full paper config is ~62 min there, this ~5 min.
        deltas={"gpu": {"n_train": GPU_SUBSET["n_train"], "n_test": GPU_SUBSET["n_test"]},
                "quick": {"dataset": "mnist5k", "models": ["mlp_1x512"], "lr": Whole(learning_rates("mlp_1x512")),
                          "epochs": 150}},
        reasons={"gpu": "both networks at full width and the paper's lr on the CIFAR-10 subset the gpu profile's "
                        "randomization tests use: the paper's 50,000 images take about an hour on a T4 (most of it "
                        "small Inception); every bound stays vacuous at any n",
                 "quick": "the MLP alone, on the offline digits (small Inception at full width is too slow for 2 CPU "
                          "cores); the runs stop at 100% training accuracy, 150 epochs is only their cap"},
        doc="Section 2.2: R_hat = 0 on true and random labels, held-out R with a Hoeffding interval, and the "
            "finite-class and VC bounds for the same networks",
        expect={"quick": "train error 0 for both; test error ~0.07 (true) vs ~0.89 (random); every bound > 1"}),
}


# --- the paper's claims this chapter's experiments check (the conclusion's table, ``pages.claims``) -------

def capacity_bounds_vacuous(rec: dict) -> tuple[str, str, bool]:
    rows = rec["result"]["rows"]
    low = min(min(r["bounds"]["finite_class"], r["bounds"]["vc"]) for r in rows)
    return ("uniform-convergence bounds cannot explain generalization here (Section 2.2, argued)",
            f"smallest finite-class / VC bound: {low:.3g}", low >= 1)


CLAIMS = [
    Claim("Capacity bounds are vacuous for these networks", "2.2", "pac", capacity_bounds_vacuous,
          "the smallest finite-class or VC bound of every trained network is at least 1 (a bound on an error rate "
          "that is >= 1 says nothing); no tolerance: the bounds are computed from n, the parameter count and the "
          "training error, not sampled"),
]
