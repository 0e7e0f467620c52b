"""The ``bounds`` experiment: PAC-Bayes bounds and complexity measures on networks trained on true labels,
random labels and partially corrupted labels, in the setting of Dziugaite & Roy (2017).

Setting (their Section 5): binary MNIST (label 1 for digits 5-9, 0 for 0-4), a fully connected network with
one hidden layer of 600 ReLU units, trained by SGD with momentum to (near) zero training error; the labels
are then corrupted at level p with ``corrupt.apply`` (p = 1: random labels). The paper profile uses their
55,000 training examples at MNIST's full 28 x 28 (784 inputs, as theirs); the quick profile 2,000 of the offline
``mnist5k`` digits with the 24 x 24 centre crop of the book's other quick MLPs (576 inputs: cheaper on 2 CPU
cores). Both whiten each image, as every MLP of the book. Our choices where they differ: two outputs with the cross
entropy (D&R: one output with the logistic loss; the same classifier family), training stops at the first
epoch with 100% training accuracy, and the posterior optimization runs for far fewer steps (settings below).

Per run (one p, one seed): train, then compute on the training set every measure of ``measures.py``, and
two PAC-Bayes bounds (``pac_bayes.py``):

* ``pac_bayes_bound``: D&R's, prior N(w0, lambda I) centred at the random initialization w0 (no data), the
  posterior optimized against the bound on all m training examples, which the bound also uses;
* ``pac_bayes_bound_data_prior``, as Dziugaite et al. (2021) and Perez-Ortiz et al. (2021) do it: S = S_a + S_b
  (the first ``data_prior_fraction`` of S, the rest). The prior mean w_P is the network trained from w0 on S_a
  only (``prior_epochs`` epochs); the posterior mean w_S is the network trained from w_P on **all of S** until it
  fits every example (it memorizes S, S_b included); Q = N(w_S, diag sigma_Q^2) with sigma_Q and the prior
  variance optimized against the bound on S_b (the mean stays at w_S), and the bound is evaluated on S_b only
  (n_b = |S_b| examples, which the prior never saw). The theorem holds for every Q at once, so Q may depend on
  S_b; only the prior may not.

The networks of a (p, seed) are run specs trained by the engine (``runs.run_one``) that keep their final weights
(``keep_weights=True``; the posterior's run starts from the prior's, ``init_from``): the measures load them
(``runs.load_model``) instead of training them here, and the initialization w0 is the seeded draw the runs started
from (``runs.initial_model``). The measures of each (p, seed) are stored on their own too
(``results.load_or_run("bounds_run", ...)``), so a longer sweep resumes.
"""

from __future__ import annotations

import numpy as np

from .. import paper
from ..config import cost
from ..config.experiment import Experiment
from ..engine import corrupt, runs
from ..store import results

CHAPTER = "08_beyond"  # its page: book/<CHAPTER>.ipynb, listed in _toc.yml

MEASURES = ("pac_bayes_bound", "pac_bayes_bound_data_prior", "spectral_margin_complexity", "frobenius_norm",
            "path_norm", "sharpness")

# The data-dependent prior (our choices, the same at every profile unless a delta says otherwise): the prior's network
# trains ``prior_epochs`` epochs on S_a (past 100% training accuracy: larger margins, a network that tolerates the
# posterior's noise), and its posterior's variance starts at e^``data_prior_init_log_var`` (sigma_Q = 0.039: the
# data-free bound starts at e^-8, but the data-dependent KL is paid on n_b examples only, so it needs a wider Q).
_COMMON = {"hidden": 600, "lr": 0.01, "momentum": 0.9, "lr_decay": 1.0, "batch_size": 128,
           "posterior_lr": 1e-3, "data_prior_fraction": 0.5, "prior_epochs": 30, "data_prior_init_log_var": -6.5,
           "device": "auto", "margin_quantiles": 101}
PAPER = {**_COMMON, "dataset": "mnist", "crop": None, "n_train": 55_000, "n_test": None, "epochs": 300,
         "ps": [0.0, 1.0], "seeds": [0], "posterior_steps": 50_000, "mc_samples": 2_000, "data_prior_mc_samples": 2_000}
# quick: 2,000 of the offline digits (training time and the posterior optimization dominate on 2 CPU cores),
# 100 posterior steps and 150 Monte-Carlo draws (D&R: far longer runs and 150,000 draws on 55,000 examples); the
# data-dependent bound gets 80% of S for its prior and 1,000 draws on its 400 bound examples (see ``reasons``).
QUICK_DELTA = {"dataset": "mnist5k", "crop": 24, "n_train": 2000, "n_test": 1000, "ps": [0.0, 0.5, 1.0], "seeds": [0, 1],
               "posterior_steps": 100, "mc_samples": 150, "data_prior_fraction": 0.8, "data_prior_mc_samples": 1000}


def network_specs(cfg: dict, p: float, seed: int) -> tuple[dict, dict, dict]:
    """The three training runs of one (p, seed), each keeping its weights for the measures: the network on all of S
    from w0 (SGD to 100% training accuracy); the data-dependent prior's network on S_a (the first
    ``data_prior_fraction`` of S) from the same w0, for ``prior_epochs`` epochs; and the posterior's network, trained
    on all of S from the prior's network to 100% training accuracy. Binary MNIST (``task="digit_ge_5"``) corrupted
    at level p; one hidden layer of ``hidden`` units (the MLP 1x512 at width hidden / 512) with PyTorch's own
    initialization."""
    main = runs.spec(model="mlp_1x512", width=cfg["hidden"] / 512, init="pytorch", dataset=cfg["dataset"],
                     crop=cfg["crop"], n_train=cfg["n_train"], n_test=cfg["n_test"], task="digit_ge_5",
                     **corrupt.condition_for(p), corruption_seed=seed, lr=cfg["lr"], momentum=cfg["momentum"],
                     lr_decay=cfg["lr_decay"], batch_size=cfg["batch_size"], epochs=cfg["epochs"], stop_at_100=True,
                     seed=seed, device=cfg["device"], keep_step_loss=False, keep_weights=True)
    prior = runs.spec(**{**main, "stop_at_100": False, "epochs": cfg["prior_epochs"]},
                      train_fraction=cfg["data_prior_fraction"])
    return main, prior, runs.spec(**main, init_from=prior)


def bounds_specs(cfg: dict) -> list[dict]:
    """Every training run of ``cfg`` in the order ``bounds`` trains them (``Experiment.specs``' convention: the
    experiment seed in ``cfg["run"]["seed"]``, as ``runs.seeded`` puts it)."""
    seed = cfg.get("run", {}).get("seed", 0)
    return [s for k in cfg["seeds"] for p in cfg["ps"] for s in network_specs(cfg, p, k + seed)]


def measure_run(cfg: dict, p: float, seed: int, *, progress=None, out=None) -> dict:
    """Train (or load) the networks of corruption ``p`` with ``seed``; every measure and both bounds (see module doc)."""
    from ..engine import data, devices
    from ..theory import measures, pac_bayes

    spec, prior_spec, post_spec = network_specs(cfg, p, seed)
    rec = runs.run_one(spec, out=out, progress=progress)
    prior_rec = runs.run_one(prior_spec, out=out, progress=progress)
    post_rec = runs.run_one(post_spec, out=out, progress=progress)
    dev = devices.resolve(cfg["device"])
    ds = runs.dataset(spec)
    model = runs.load_model(spec, out=out, device=dev)
    w0 = pac_bayes.flat(runs.initial_model(spec, ds).to(dev))
    x = data.whiten(data.center_crop(ds.x_train, ds.crop))
    xt = data.whiten(data.center_crop(ds.x_test, ds.crop))
    y, yt = ds.y_train, ds.y_test
    w = pac_bayes.flat(model)
    row = {"p": p, "seed": seed, "m": len(y), "epochs": rec["result"]["epochs_run"],
           "train_error": pac_bayes.error(model, w, x, y), "test_error": pac_bayes.error(model, w, xt, yt)}
    row["gap"] = row["test_error"] - row["train_error"]
    row.update(measures.all_measures(model, x, y, seed=seed))
    nm = measures.normalized_margins(model, x, y)
    row["normalized_margin_quantiles"] = np.quantile(nm, np.linspace(0, 1, cfg["margin_quantiles"])).tolist()
    kw = {"steps": cfg["posterior_steps"], "samples": cfg["mc_samples"], "lr": cfg["posterior_lr"], "seed": seed}
    pb = pac_bayes.bound(model, w, w0, x, y, xt, yt, **kw)
    row["pac_bayes"] = pb
    row["pac_bayes_bound"], row["pac_bayes_bound_mcallester"] = pb["bound"], pb["bound_mcallester"]
    # Dziugaite et al. (2021), Perez-Ortiz et al. (2021): prior mean w_P trained on S_a only; posterior mean w_S
    # trained on all of S from w_P (it memorized S); sigma_Q optimized against, and the bound evaluated on, S_b.
    na = runs.first_part(len(y), cfg["data_prior_fraction"])
    prior_net, post_net = (runs.load_model(s, out=out, device=dev) for s in (prior_spec, post_spec))
    w_prior, w_post = pac_bayes.flat(prior_net), pac_bayes.flat(post_net)
    pbd = pac_bayes.bound(post_net, w_post, w_prior, x[na:], y[na:], xt, yt, train_mean=False,
                          init_prior_var=float(np.exp(cfg["data_prior_init_log_var"])),
                          **{**kw, "samples": cfg["data_prior_mc_samples"]})
    pbd.update(prior_examples=na, posterior_examples=len(y), bound_examples=len(y) - na,
               prior_epochs=prior_rec["result"]["epochs_run"], posterior_epochs=post_rec["result"]["epochs_run"],
               prior_net_error_on_bound_set=pac_bayes.error(prior_net, w_prior, x[na:], y[na:]),
               posterior_net_train_error=pac_bayes.error(post_net, w_post, x, y),
               posterior_net_test_error=pac_bayes.error(post_net, w_post, xt, yt),
               distance_posterior_to_prior_net=float((w_post - w_prior).norm()))
    row["pac_bayes_data_prior"] = pbd
    row["pac_bayes_bound_data_prior"] = pbd["bound"]
    return row


def all_runs(cfg: dict, *, seed: int = 0, progress=None, out=None) -> list[dict]:
    """Every (p, seed) run of ``cfg``, loaded from the store when it is there (seeds offset by ``seed``)."""
    keys = [k for k in cfg if k not in ("ps", "seeds", "profile")]
    rows = []
    for s in cfg["seeds"]:
        for p in cfg["ps"]:
            spec = {**{k: cfg[k] for k in keys}, "p": p, "seed": s + seed}
            rec = results.load_or_run("bounds_run", spec,
                                      lambda p=p, s=s: measure_run(cfg, p, s + seed, progress=progress, out=out),
                                      seed=s + seed, out=out)
            rows.append(rec["result"])
    return rows


def correlations(rows: list[dict], measures=MEASURES) -> list[dict]:
    """Kendall's tau of each measure with the generalization gap over all runs (Jiang et al. 2020 style)."""
    from ..theory import measures as M

    gap = [r["gap"] for r in rows]
    return [{"measure": m, "kendall_tau": M.kendall([r[m] for r in rows], gap), "runs": len(rows)} for m in measures]


def by_p(rows: list[dict], keys=("train_error", "test_error", "gap") + MEASURES) -> list[dict]:
    """Mean of each key over seeds, one row per p."""
    ps = sorted({r["p"] for r in rows})
    return [{"p": p, **{k: float(np.mean([r[k] for r in rows if r["p"] == p])) for k in keys}} for p in ps]


def bounds(cfg: dict, *, seed: int = 0, progress=None, out=None) -> dict:
    rows = all_runs(cfg, seed=seed, progress=progress, out=out)
    first = min(cfg["seeds"]) + seed
    pick = {name: next(r for r in rows if r["p"] == p and r["seed"] == first)
            for name, p in (("true_labels", 0.0), ("random_labels", 1.0)) if p in cfg["ps"]}
    keys = ("train_error", "test_error", "pac_bayes_bound", "pac_bayes_bound_mcallester", "pac_bayes_bound_data_prior",
            "spectral_margin_complexity", "frobenius_norm", "path_norm", "sharpness")
    dp = ("prior_examples", "posterior_examples", "bound_examples", "kl", "snn_test_error", "posterior_net_train_error",
          "posterior_net_test_error", "prior_net_error_on_bound_set")
    summary = {name: {k: r[k] for k in keys} | {"snn_test_error": r["pac_bayes"]["snn_test_error"]}
               | {"data_prior": {k: r["pac_bayes_data_prior"][k] for k in dp}} for name, r in pick.items()}
    summary["kendall_tau"] = {c["measure"]: c["kendall_tau"] for c in correlations(rows)}
    return {"runs": rows, "by_p": by_p(rows), "correlations": correlations(rows),
            "reported": paper.DZIUGAITE_ROY_2017, "summary": summary}


# --- its cost (what the plan estimates before anything runs: ``config.cost``) ---------------------------------

def cost_model(cfg: dict, memory: float) -> list[dict]:
    """Per (p, seed): the network, the data-dependent prior's network on S_a, the posterior's network on S from it,
    and two PAC-Bayes posterior optimizations with their Monte-Carlo error estimates (timed as training /
    evaluation images)."""
    n, m = cost.sizes(cfg["dataset"], cfg["n_train"], cfg["n_test"])
    na = runs.first_part(n, cfg["data_prior_fraction"])
    w, ep, bs = cfg["hidden"] / 512, cfg["epochs"], cfg["batch_size"]
    post = 2 * cfg["posterior_steps"] * bs
    mc = cfg["mc_samples"] * (n + m) + cfg["data_prior_mc_samples"] * (n - na) + 20 * m
    runs_ = len(cfg["ps"]) * len(cfg["seeds"])
    return [cost.train(f"{runs_} networks (p x seed) and their PAC-Bayes posteriors", "mlp_1x512", cfg["dataset"], n, ep,
                       n_eval=n + m, width=w, batch_size=bs, extra_train=post, extra_eval=mc, times=runs_, stops_early=True),
            cost.train(f"{runs_} data-dependent prior networks (on S_a)", "mlp_1x512", cfg["dataset"], na,
                       cfg["prior_epochs"], n_eval=na + m, width=w, batch_size=bs, times=runs_),
            cost.train(f"{runs_} posterior networks (on S, from the prior's)", "mlp_1x512", cfg["dataset"], n, ep,
                       n_eval=n + m, width=w, batch_size=bs, times=runs_, stops_early=True)]


EXPERIMENTS = {
    "bounds": Experiment(
        "bounds", bounds, paper=PAPER, cost=cost_model,
        deltas={"gpu": {},  # plan's cost model: ~8 min on a T4 (an upper bound: training stops at 100%)
                "quick": QUICK_DELTA},
        reasons={"gpu": "none: Dziugaite and Roy's setting (55,000 binary MNIST digits, 600 hidden units, true "
                        "and random labels) fits one sitting on a T4, about 8 minutes",
                 "quick": "2,000 of the offline digits, 100 posterior steps and 150 Monte-Carlo draws (training and the "
                          "posterior optimization dominate on 2 CPU cores); for the data-dependent bound 80% of S for "
                          "the prior (its KL is paid on n_b examples, so the prior must already be nearly the posterior: "
                          "at 50% the true-label bound stayed near 0.5) and 1,000 draws on its 400 bound examples (150 "
                          "cost about 0.1 of bound through the sample-convergence term); a middle corruption level p = 0.5 and "
                          "a second seed so the rank correlations have more than two networks"},
        doc="PAC-Bayes bounds (Dziugaite & Roy 2017; data-dependent prior) and norm / margin / sharpness measures "
            "against label corruption p, on binary MNIST with one hidden layer of 600 units.",
        expect={"quick": "data-dependent bound (prior on S_a, posterior trained on all of S, bound on S_b) below 0.5 "
                         "for true labels and at or above 0.5 for random labels; the data-free bound vacuous (>= 0.5) "
                         "for both at this size, so it separates nothing here"}),
}


# --- what the chapter displays -----------------------------------------------------------------------------

LABELS = {"pac_bayes_bound": "PAC-Bayes bound, prior at init", "pac_bayes_bound_data_prior": "PAC-Bayes bound, data prior",
          "pac_bayes_bound_mcallester": "PAC-Bayes bound, McAllester form", "spectral_margin_complexity":
          "spectral complexity / margin", "frobenius_norm": "product of Frobenius norms", "path_norm": "l2 path norm",
          "sharpness": "sharpness (1/σ²)"}


def summary_table(res: dict) -> list[dict]:
    """True vs random labels: our errors and bounds beside Dziugaite & Roy's reported bounds."""
    rep = res["reported"]
    rows = []
    for cond, reported in (("true_labels", "{:.2f}-{:.2f}".format(*rep["bound_true_labels_range"])),
                           ("random_labels", f"> {rep['bound_random_labels_above']:g}")):
        s = res["summary"].get(cond)
        if s is None:
            continue
        rows.append({"labels": cond.replace("_", " "), "train error": s["train_error"], "test error": s["test_error"],
                     "stochastic net test error": s["snn_test_error"], LABELS["pac_bayes_bound"]: s["pac_bayes_bound"],
                     LABELS["pac_bayes_bound_mcallester"]: s["pac_bayes_bound_mcallester"],
                     LABELS["pac_bayes_bound_data_prior"]: s["pac_bayes_bound_data_prior"],
                     "bound reported by D&R (55,000 examples)": reported})
    return rows


def correlation_table(res: dict) -> list[dict]:
    """Kendall's tau of each measure with the generalization gap, over every (p, seed) run."""
    return [{"measure": LABELS.get(c["measure"], c["measure"]), "Kendall τ with the gap": c["kendall_tau"],
             "networks": c["runs"]} for c in res["correlations"]]


def prose_numbers(res: dict) -> dict:
    """The numbers the chapter's prose quotes (glued into the text), by name."""
    out = {}
    for cond, tag in (("true_labels", "tl"), ("random_labels", "rl")):
        r = next(r for r in res["runs"] if r["p"] == {"tl": 0.0, "rl": 1.0}[tag]
                 and r["seed"] == min(x["seed"] for x in res["runs"]))
        s = res["summary"][cond]
        out |= {f"{tag}_{k}": s[k] for k in ("test_error", "snn_test_error", "pac_bayes_bound", "pac_bayes_bound_mcallester",
                                             "pac_bayes_bound_data_prior")}
        out |= {f"{tag}_kl": r["pac_bayes"]["kl"], f"{tag}_kl_dp": r["pac_bayes_data_prior"]["kl"],
                f"{tag}_prior_error_dp": r["pac_bayes_data_prior"]["prior_net_error_on_bound_set"],
                f"{tag}_epochs": r["epochs"]}
    r0 = res["runs"][0]
    out |= {"m": r0["m"], "m_prior": r0["pac_bayes_data_prior"]["prior_examples"],
            "m_bound": r0["pac_bayes_data_prior"]["bound_examples"], "n_runs": len(res["runs"]),
            "dr_low": res["reported"]["bound_true_labels_range"][0], "dr_high": res["reported"]["bound_true_labels_range"][1],
            "spectral_ratio": res["summary"]["random_labels"]["spectral_margin_complexity"]
            / res["summary"]["true_labels"]["spectral_margin_complexity"]}
    out |= kl_budgets(out["m"], out["m_bound"])
    tl = res["summary"]["true_labels"]["data_prior"]
    out |= {"tl_dp_snn_test": tl["snn_test_error"], "tl_dp_post_test": tl["posterior_net_test_error"],
            "tau_ties": sum(r["pac_bayes_bound"] >= 0.9995 for r in res["runs"])}
    return out


def kl_budgets(n: int, n_b: int, bound: float = 0.3) -> dict:
    """The KL(Q || P) each bound can afford for ``bound`` (zero empirical error, no union term; ``kl_budget``): on the
    data-free bound's n examples, the data-dependent one's n_b, and Dziugaite & Roy's 55,000."""
    from ..theory import pac_bayes

    return {"budget_target": bound, "budget_n": pac_bayes.kl_budget(bound, n), "budget_nb": pac_bayes.kl_budget(bound, n_b),
            "budget_paper": pac_bayes.kl_budget(bound, 55_000)}


def best_measure_text(res: dict) -> str:
    """Which measure ranks the runs most like their generalization gap (the wording depends on the result)."""
    taus = res["summary"]["kendall_tau"]
    best = max(taus, key=taus.get)
    return f"Over these runs the measure with the highest $\\tau$ is *{LABELS[best]}* ($\\tau=$ {taus[best]:.2f})."
