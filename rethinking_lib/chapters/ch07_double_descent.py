"""The ``double_descent`` experiment: test error of minimum-norm least squares on random features against the
number of features (Belkin, Hsu, Ma & Mandal 2019; Nakkiran et al. 2020).

Model: phi(x) = ReLU(W x) with W a D x d matrix of N(0, 1/d) entries drawn once (random ReLU features;
x the whitened 24 x 24 digit, d = 576), then a linear map fitted to one-hot labels by least squares:
``w = argmin ||Phi w - Y||^2 + ridge * n * ||w||^2``. With ridge = 0 this is the minimum-norm least-squares
solution ``Phi^+ Y`` (an exact interpolant once D >= n, the *interpolation threshold*). One SVD of Phi per D
gives the min-norm and the ridge solutions for every label set. Prediction: the argmax over the 10 outputs;
test error on clean test labels. Training labels: clean, and with label noise (``partial_labels`` at
``noise_p``). The number of training examples n is kept small (1,000 of the offline digits) so that the
threshold D = n is cheap to cross on a CPU. Each D is averaged over ``feature_seeds`` draws of W.
"""

from __future__ import annotations

import numpy as np

from ..config import cost
from ..config.experiment import Experiment

CHAPTER = "07_implicit_regularization"  # its page: book/<CHAPTER>.ipynb, listed in _toc.yml

PAPER = {"dataset": "mnist", "n_train": 4000, "n_test": 10_000,
         "features": [100, 500, 1000, 2000, 3000, 3500, 3800, 4000, 4200, 4500, 5000, 6000, 8000, 12_000, 20_000, 40_000],
         "noise_p": 0.2, "ridge": 1e-3, "feature_seeds": [0, 1], "rcond": 1e-10}
# quick: 1,000 of the offline digits, the grid around the threshold D = 1,000
QUICK = {"dataset": "mnist5k", "n_train": 1000, "n_test": 1000,
         "features": [50, 100, 200, 400, 600, 800, 900, 1000, 1100, 1250, 1500, 2000, 3000, 5000, 8000]}
# gpu: numpy on the host CPU (Colab: 2 vCPUs, like the machine this was sized on); plan's cost model there: the
# paper profile ~35 min (the SVDs up to 4,000 x 40,000), half the training set with the grid halved ~5.5 min.
GPU = {"n_train": PAPER["n_train"] // 2, "features": [max(D // 2, 50) for D in PAPER["features"]]}


def features(x: np.ndarray, D: int, seed: int) -> np.ndarray:
    """Random ReLU features ReLU(x W^T), W with N(0, 1/d) entries, for the rows of ``x`` (n x d)."""
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((D, x.shape[1])) / np.sqrt(x.shape[1])
    return np.maximum(x @ w.T, 0.0)


def fit_predict(phi: np.ndarray, phi_test: np.ndarray, targets: dict, ridge: float, rcond: float) -> dict:
    """Min-norm and ridge predictions on the test features for each training target matrix (one SVD)."""
    u, s, vt = np.linalg.svd(phi, full_matrices=False)
    keep = s > rcond * s.max()
    inv = np.where(keep, 1.0 / np.where(keep, s, 1.0), 0.0)
    shrink = s / (s ** 2 + ridge * len(phi))
    proj = phi_test @ vt.T
    out = {}
    for name, y in targets.items():
        uty = u.T @ y
        out[name] = {"minnorm": proj @ (inv[:, None] * uty), "ridge": proj @ (shrink[:, None] * uty),
                     "train_minnorm": (u * (s * inv)) @ uty}
    return out


def sweep(cfg: dict, *, seed: int = 0) -> list[dict]:
    """Test error (and train error of the min-norm fit) per number of features, clean and noisy labels."""
    from ..engine import corrupt, data

    ds = data.load(cfg["dataset"], n_train=cfg["n_train"], n_test=cfg["n_test"], seed=0)
    noisy = corrupt.apply(ds, "partial_labels", p=cfg["noise_p"], seed=seed)
    x = data.whiten(data.center_crop(ds.x_train, ds.crop)).reshape(len(ds.y_train), -1).double().numpy()
    xt = data.whiten(data.center_crop(ds.x_test, ds.crop)).reshape(len(ds.y_test), -1).double().numpy()
    yt = ds.y_test.numpy()
    labels = {"clean": ds.y_train.numpy(), "noisy": noisy.y_train.numpy()}
    targets = {k: np.eye(ds.num_classes)[v] for k, v in labels.items()}
    rows = []
    for D in cfg["features"]:
        errs: dict[str, list[float]] = {}
        for fs in cfg["feature_seeds"]:
            fseed = 1000 * seed + fs
            pred = fit_predict(features(x, D, fseed), features(xt, D, fseed), targets, cfg["ridge"], cfg["rcond"])
            for name, pr in pred.items():
                errs.setdefault(f"{name}_minnorm", []).append(float((pr["minnorm"].argmax(1) != yt).mean()))
                errs.setdefault(f"{name}_ridge", []).append(float((pr["ridge"].argmax(1) != yt).mean()))
                errs.setdefault(f"{name}_train_minnorm", []).append(
                    float((pr["train_minnorm"].argmax(1) != labels[name]).mean()))
        rows.append({"features": D, **{k: float(np.mean(v)) for k, v in errs.items()}})
    return rows


def double_descent(cfg: dict, *, seed: int = 0, progress=None, out=None) -> dict:
    rows = sweep(cfg, seed=seed)
    summary = {"n_train": cfg["n_train"]}
    for labels in ("noisy", "clean"):
        key = f"{labels}_minnorm"
        peak = max(rows, key=lambda r: r[key])
        summary[labels] = {"peak_features": peak["features"], "peak_error": peak[key],
                           "error_fewest_features": rows[0][key], "error_most_features": rows[-1][key],
                           "ridge_error_at_peak": peak[f"{labels}_ridge"]}
    # headline: label noise, where the peak is the paper-famous one
    summary.update({k: summary["noisy"][k] for k in ("peak_features", "peak_error", "error_fewest_features",
                                                     "error_most_features", "ridge_error_at_peak")})
    return {"sweep": rows, "summary": summary}


# --- its cost (what the plan estimates before anything runs: ``config.cost``) ---------------------------------

def cost_model(cfg: dict, memory: float) -> list[dict]:
    """Per feature count and feature seed (numpy, float64, host): the random features, one SVD, the predictions."""
    n, m = cost.sizes(cfg["dataset"], cfg["n_train"], cfg["n_test"])
    d, k = cost.pixels(cfg["dataset"]), len(cfg["feature_seeds"])
    feats = sum(2.0 * (n + m) * D * d for D in cfg["features"]) * k
    svd = sum(cost.svd_flops(n, D) for D in cfg["features"]) * k
    pred = sum(2.0 * m * D * min(n, D) for D in cfg["features"]) * k
    return [cost.dense(f"random ReLU features, {len(cfg['features'])} sizes x {k} seeds", feats, on="host"),
            cost.dense("min-norm and ridge fits (SVD)", svd, op="svd", on="host"),
            cost.dense("test predictions", pred, on="host")]


EXPERIMENTS = {
    "double_descent": Experiment(
        "double_descent", double_descent, paper=PAPER, deltas={"gpu": GPU, "quick": QUICK}, cost=cost_model,
        reasons={"gpu": "2,000 training digits and every feature count halved (the peak sits at features = n, so the "
                        "grid keeps its shape around it): the fits are numpy on the host CPU, about 35 minutes at the "
                        "paper-profile size",
                 "quick": "1,000 of the offline digits (no network) and a grid of feature counts around the threshold "
                          "D = 1,000: the SVDs up to 4,000 x 40,000 of the paper profile are too slow for 2 CPU cores"},
        doc="Min-norm least squares on random ReLU features: test error against the number of features, "
            "through the interpolation threshold, with and without label noise and with a small ridge.",
        expect={"quick": "test error peaks near features = n_train, above both ends; the ridge removes the peak"}),
}


def describe(res: dict) -> str:
    """The measured sentence the chapter shows under the figure."""
    s = res["summary"]
    c = s["clean"]
    return (f"**Measured** (n = {s['n_train']:,} training digits): with label noise the min-norm test error peaks at "
            f"{s['peak_error']:.1%} with D = {s['peak_features']:,} features, against {s['error_fewest_features']:.1%} "
            f"with the fewest and {s['error_most_features']:.1%} with the most; the ridge brings the peak down to "
            f"{s['ridge_error_at_peak']:.1%}. With clean labels: {c['peak_error']:.1%} at D = {c['peak_features']:,}, "
            f"{c['error_fewest_features']:.1%} and {c['error_most_features']:.1%} at the ends, {c['ridge_error_at_peak']:.1%} "
            f"with the ridge.")
