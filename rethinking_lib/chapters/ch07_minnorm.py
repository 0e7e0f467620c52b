"""Implicit regularization of SGD on a linear model (Section 5 of the paper, "Implicit regularization: an
appeal to linear models").

Least squares with more unknowns than equations, min_w (1/2n) ||X w - y||^2 with X (n x d), n < d, has
infinitely many zero-loss solutions. Every SGD update is a multiple of a data point,

    w_{t+1} = w_t - eta (x_i . w_t - y_i) x_i,

so from w_0 the iterate stays in w_0 + span{x_1, ..., x_n} (the row space of X). Started at w_0 = 0, any
interpolating limit is w = X^T alpha with X X^T alpha = y: the minimum l2-norm solution X^+ y. From w_0 != 0
the limit is (I - X^+ X) w_0 + X^+ y: the min-norm solution plus w_0's part in the null space, which SGD
never touches. The Hessian X^T X / n does not depend on w, so curvature cannot tell the solutions apart.
"""

from __future__ import annotations

import numpy as np
import torch

from ..config import cost
from ..config.claims import Claim
from ..config.experiment import Experiment

CHAPTER = "07_implicit_regularization"  # its page: book/<CHAPTER>.ipynb, listed in _toc.yml


def _check(X: torch.Tensor, y: torch.Tensor, w0: torch.Tensor | None = None) -> None:
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (n, d), got shape {tuple(X.shape)}; flatten images with X.flatten(1)")
    if y.ndim not in (1, 2) or y.shape[0] != X.shape[0]:
        raise ValueError(f"y has shape {tuple(y.shape)} but X has {X.shape[0]} rows: pass y as (n,) or (n, k)")
    if w0 is not None and w0.shape != (X.shape[1],) + tuple(y.shape[1:]):
        raise ValueError(f"w0 has shape {tuple(w0.shape)}; it must be {(X.shape[1],) + tuple(y.shape[1:])} (d[, k])")


def min_norm(X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The minimum l2-norm least-squares solution X^+ y (the pseudo-inverse solution)."""
    _check(X, y)
    return torch.linalg.pinv(X) @ y


def predicted_limit(X: torch.Tensor, y: torch.Tensor, w0: torch.Tensor) -> torch.Tensor:
    """Where SGD from w0 ends up: w0's null-space part (untouched by SGD) plus the min-norm solution."""
    _check(X, y, w0)
    P = torch.linalg.pinv(X) @ X  # projector onto the row space of X
    return w0 - P @ w0 + min_norm(X, y)


def sgd(X: torch.Tensor, y: torch.Tensor, *, w0: torch.Tensor | None = None, epochs: int = 200, lr: float | None = None,
        seed: int = 0, track: torch.Tensor | None = None) -> tuple[torch.Tensor, dict]:
    """Plain single-example SGD on (1/2n)||X w - y||^2, one random pass per epoch, no regularizer.

    ``lr`` defaults to 1 / max ||x_i||^2 (each step then moves x_i . w exactly to y_i: Kaczmarz's method,
    stable for any data). ``track`` (a reference solution) adds the distance to it per epoch. The history
    also records, per epoch, the loss and the size of the iterate's component outside w0 + row space
    (zero up to rounding: the point of the argument).
    """
    _check(X, y, w0)
    X, y = X.detach().cpu(), y.detach().cpu()
    n = X.shape[0]
    w = torch.zeros((X.shape[1],) + tuple(y.shape[1:]), dtype=X.dtype) if w0 is None else w0.clone()
    start = w.clone()
    if lr is None:
        lr = 1.0 / float((X * X).sum(1).max())
    if not lr > 0:
        raise ValueError(f"lr={lr} must be positive")
    P = torch.linalg.pinv(X) @ X
    g = torch.Generator().manual_seed(seed)
    hist = {"epoch": [], "loss": [], "off_rowspace": [], "dist": []}
    # the inner loop runs on numpy views of the same memory: a step is two tiny products, and numpy's
    # per-call overhead is ~10x smaller than torch's at this size
    Xn, yn, wn = X.numpy(), y.numpy(), w.numpy()
    for ep in range(epochs + 1):
        if ep > 0:
            for i in torch.randperm(n, generator=g).tolist():
                xi = Xn[i]
                r = xi @ wn - yn[i]  # the residual on example i: a scalar, or (k,) for k outputs
                wn -= lr * (xi * r if wn.ndim == 1 else np.outer(xi, r))  # always a multiple of x_i
        if ep % max(1, epochs // 50) == 0 or ep == epochs:
            hist["epoch"].append(ep)
            hist["loss"].append(float(((X @ w - y) ** 2).sum() / (2 * n)))
            dw = w - start
            hist["off_rowspace"].append(float(torch.linalg.norm(dw - P @ dw)))
            if track is not None:
                hist["dist"].append(float(torch.linalg.norm(w - track) / torch.linalg.norm(track)))
    return w, hist


def hessian(X: torch.Tensor, y: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """The Hessian of (1/2n)||X w - y||^2 at w, by autograd (it is X^T X / n wherever w is)."""
    _check(X, y)
    loss = lambda v: ((X @ v - y) ** 2).sum() / (2 * X.shape[0])  # noqa: E731
    return torch.autograd.functional.hessian(loss, w)


# ----------------------------------------------------------------------------------------------
# the experiment


def _synthetic(cfg: dict, seed: int) -> dict:
    g = torch.Generator().manual_seed(seed)
    n, d = cfg["n"], cfg["d"]
    X = torch.randn(n, d, generator=g, dtype=torch.float64)
    y = torch.randn(n, generator=g, dtype=torch.float64)
    w_star = min_norm(X, y)
    w0 = torch.randn(d, generator=g, dtype=torch.float64)
    w_zero, h_zero = sgd(X, y, epochs=cfg["epochs"], seed=seed, track=w_star)
    w_rand, h_rand = sgd(X, y, w0=w0, epochs=cfg["epochs"], seed=seed, track=w_star)
    limit = predicted_limit(X, y, w0)
    H1, H2 = hessian(X, y, w_zero), hessian(X, y, w_rand)
    ev = torch.linalg.eigvalsh(H1)
    rel = lambda a, b: float(torch.linalg.norm(a - b) / torch.linalg.norm(b))  # noqa: E731
    return {
        "n": n, "d": d,
        "from_zero": {"rel_dist_to_pinv": rel(w_zero, w_star), "norm": float(w_zero.norm()), "history": h_zero,
                      "train_loss": h_zero["loss"][-1]},
        "from_random": {"rel_dist_to_pinv": rel(w_rand, w_star), "rel_dist_to_predicted": rel(w_rand, limit),
                        "norm": float(w_rand.norm()), "history": h_rand, "train_loss": h_rand["loss"][-1]},
        "pinv_norm": float(w_star.norm()),
        "hessian": {"max_diff_between_solutions": float((H1 - H2).abs().max()),
                    "max_diff_vs_XtX_over_n": float((H1 - X.T @ X / n).abs().max()),
                    "zero_eigenvalues": int((ev < 1e-10 * ev.max()).sum()), "d_minus_n": d - n,
                    "eig_max": float(ev.max()), "eig_min_nonzero": float(ev[ev > 1e-10 * ev.max()].min())},
    }


def _mnist(cfg: dict, seed: int) -> dict:
    """A linear model on raw pixels fitted by SGD to n < d real digits (one-hot targets): from zero vs from random."""
    from ..engine import data

    ds = data.load(cfg["dataset"], crop=None, seed=seed)
    n = cfg["mnist_n"]
    if n >= ds.x_train[0].numel() or n > len(ds.y_train):
        raise ValueError(f"minnorm: setting mnist_n={n} must be below the {ds.x_train[0].numel()} pixels (n < d) and "
                         f"at most the {len(ds.y_train):,} training images (e.g. --set mnist_n=50)")
    X, Xte = ds.x_train[:n].flatten(1).double(), ds.x_test.flatten(1).double()
    Y = torch.nn.functional.one_hot(ds.y_train[:n], ds.num_classes).double()
    g = torch.Generator().manual_seed(seed + 1)
    w0 = torch.randn(X.shape[1], ds.num_classes, generator=g, dtype=torch.float64) * cfg["w0_scale"]
    w_star = min_norm(X, Y)
    out = {"n": n, "d": int(X.shape[1]), "n_test": int(len(ds.y_test)), "pinv": _eval(w_star, X, Y, Xte, ds.y_test)}
    for name, start in (("sgd_from_zero", None), ("sgd_from_random", w0)):
        w, h = sgd(X, Y, w0=start, epochs=cfg["mnist_epochs"], seed=seed, track=w_star)
        out[name] = dict(_eval(w, X, Y, Xte, ds.y_test), rel_dist_to_pinv=h["dist"][-1], history=h)
    return out


def _eval(w, X, Y, Xte, yte) -> dict:
    return {"norm": float(w.norm()), "train_mse": float(((X @ w - Y) ** 2).mean()),
            "test_error": float(((Xte @ w).argmax(1) != yte).double().mean())}


def validate(cfg: dict) -> None:
    """One-line errors for settings the run cannot use (before any data is loaded)."""
    from ..config import validate as checks

    n = checks.positive_int("minnorm", cfg, "n", "40")
    d = checks.positive_int("minnorm", cfg, "d", "200")
    if not n < d:
        raise ValueError(f"minnorm: settings n={n}, d={d}: the argument needs more unknowns than equations, n < d "
                         f"(e.g. --set d={4 * n})")
    checks.positive_int("minnorm", cfg, "epochs", "300")
    checks.positive_int("minnorm", cfg, "mnist_n", "50")
    checks.positive_int("minnorm", cfg, "mnist_epochs", "400")
    checks.positive_number("minnorm", cfg, "w0_scale", "0.05")


def _run(cfg: dict, *, seed: int, progress=None, out=None) -> dict:
    validate(cfg)
    syn = _synthetic(cfg, seed)
    mn = _mnist(cfg, seed)
    return {"synthetic": syn, "mnist": mn, "summary": {
        "sgd_from_zero_rel_dist_to_pinv": syn["from_zero"]["rel_dist_to_pinv"],
        "sgd_from_random_rel_dist_to_pinv": syn["from_random"]["rel_dist_to_pinv"],
        "sgd_from_random_rel_dist_to_predicted_limit": syn["from_random"]["rel_dist_to_predicted"],
        "hessian_max_diff_between_solutions": syn["hessian"]["max_diff_between_solutions"],
        "mnist_test_error_pinv": mn["pinv"]["test_error"],
        "mnist_test_error_sgd_zero": mn["sgd_from_zero"]["test_error"],
        "mnist_test_error_sgd_random": mn["sgd_from_random"]["test_error"]}}


# --- its cost (what the plan estimates before anything runs: ``config.cost``) ---------------------------------

def cost_model(cfg: dict, memory: float) -> list[dict]:
    """Single-example SGD from zero and from a random start, on the synthetic problem and on the digits
    (``sgd``), from a few epochs timed at the config's own sizes."""
    e0 = 3
    d_img = cost.pixels(cfg["dataset"], None)

    def run(n, d, cols):
        def fn():
            g = torch.Generator().manual_seed(0)
            X = torch.randn(n, d, generator=g, dtype=torch.float64)
            Y = torch.randn((n, cols) if cols > 1 else (n,), generator=g, dtype=torch.float64)
            sgd(X, Y, epochs=e0, track=torch.zeros((d, cols) if cols > 1 else (d,), dtype=torch.float64))
        return fn

    return [cost.timed_slice(f"synthetic SGD x2, {cfg['epochs']} epochs", f"minnorm n={cfg['n']} d={cfg['d']}",
                             run(cfg["n"], cfg["d"], 1), 2 * cfg["epochs"] / e0),
            cost.timed_slice(f"digits SGD x2, {cfg['mnist_epochs']} epochs", f"minnorm n={cfg['mnist_n']} d={d_img} c=10",
                             run(cfg["mnist_n"], d_img, 10), 2 * cfg["mnist_epochs"] / e0)]


EXPERIMENTS = {
    "minnorm": Experiment(
        "minnorm", _run, cost=cost_model,
        # the argument is exact at any size; the paper profile only uses more digits
        paper={"n": 200, "d": 1000, "epochs": 500, "dataset": "mnist", "mnist_n": 100, "mnist_epochs": 1500,
               "w0_scale": 0.05},
        deltas={"gpu": {},  # plan's cost model: under a minute (host CPU)
                "quick": {"n": 40, "d": 200, "epochs": 300, "dataset": "mnist5k", "mnist_n": 50, "mnist_epochs": 400}},
        reasons={"gpu": "none: the paper-profile sizes take under a minute (single-example SGD on the host CPU)",
                 "quick": "a smaller synthetic problem and 50 offline digits (no network): the argument is exact at any "
                          "size, and the rendered book runs on 2 CPU cores"},
        doc="SGD from zero converges to the pseudo-inverse (min-norm) solution; from a random start it does not.",
        expect={"quick": "rel. distance to pinv ~1e-6 or below from zero, O(1) from a random start; Hessians equal"},
    ),
}


# --- the paper's claims this chapter's experiments check (the conclusion's table, ``pages.claims``) -------

MIN_NORM_TOL = 1e-6


def sgd_min_norm(rec: dict) -> tuple[str, str, bool]:
    s = rec["result"]["summary"]
    d = s["sgd_from_zero_rel_dist_to_pinv"]
    return ("SGD from zero on least squares converges to the minimum-norm solution (Section 5, a proof)",
            f"relative distance to X+y: {d:.1e}", d <= MIN_NORM_TOL)


CLAIMS = [
    Claim("SGD on least squares finds the minimum-norm solution", "5", "minnorm", sgd_min_norm,
          f"SGD from zero ends within a relative distance of {MIN_NORM_TOL:g} of the pseudo-inverse solution X+y: far "
          "above float64 round-off, far below the O(1) distance SGD from a random start keeps"),
]


# ----------------------------------------------------------------------------------------------
# the chapter's tables and sentences (a chapter cell calls one and displays it)


def synthetic_rows(res: dict) -> list[dict]:
    """SGD from zero, SGD from a random start and the pseudo-inverse: distance to X+y, loss and norm."""
    syn = res["synthetic"]
    return [
        {"run": "SGD from w0 = 0", "relative distance to X+y": syn["from_zero"]["rel_dist_to_pinv"],
         "training loss": syn["from_zero"]["train_loss"], "norm of w": syn["from_zero"]["norm"]},
        {"run": "SGD from random w0", "relative distance to X+y": syn["from_random"]["rel_dist_to_pinv"],
         "training loss": syn["from_random"]["train_loss"], "norm of w": syn["from_random"]["norm"]},
        {"run": "pseudo-inverse X+y", "relative distance to X+y": 0.0, "training loss": 0.0, "norm of w": syn["pinv_norm"]},
    ]


def synthetic_text(res: dict) -> str:
    syn = res["synthetic"]
    return (f"Gaussian data, n = {syn['n']}, d = {syn['d']}, single-example SGD with step 1/max‖x_i‖². From the random "
            f"start, the distance to the *predicted* limit (I − X⁺X)w₀ + X⁺y is "
            f"{syn['from_random']['rel_dist_to_predicted']:.1e}.")


def hessian_rows(res: dict) -> list[dict]:
    """The Hessians at the two solutions: their difference, the formula X^T X / n, and the spectrum."""
    h = res["synthetic"]["hessian"]
    return [{"max abs. difference H(w_zero) vs H(w_random)": h["max_diff_between_solutions"],
             "max abs. difference H vs XᵀX/n": h["max_diff_vs_XtX_over_n"],
             "zero eigenvalues": h["zero_eigenvalues"], "d - n": h["d_minus_n"],
             "largest eigenvalue": h["eig_max"], "smallest nonzero": h["eig_min_nonzero"]}]


def mnist_rows(res: dict) -> list[dict]:
    """The linear model on digits: pseudo-inverse vs SGD from zero vs SGD from random."""
    m = res["mnist"]
    return [{"solution": name, "train MSE": m[key]["train_mse"], "norm": m[key]["norm"],
             "test error": m[key]["test_error"], "rel. distance to X+y": m[key].get("rel_dist_to_pinv", 0.0)}
            for name, key in (("pseudo-inverse X+y", "pinv"), ("SGD from 0", "sgd_from_zero"),
                              ("SGD from random w0", "sgd_from_random"))]


def mnist_text(res: dict) -> str:
    m = res["mnist"]
    tested = f" on {m['n_test']:,} held-out digits" if "n_test" in m else " on held-out digits"
    return f"n = {m['n']} training digits, d = {m['d']} pixels, tested{tested}."

