"""The ``ntk`` experiment: why random labels are fitted slower and generalize worse, predicted before training
(Arora, Du, Hu, Li & Wang 2019; Du, Zhai, Poczos & Singh 2019).

A binary task (two classes: MNIST digits at the quick profile, CIFAR-10 classes at the paper profile), inputs
centred on the training mean and scaled to unit norm, labels +-1, corrupted at each level p of a grid exactly as
in chapter 4 (``corrupt.apply`` with ``corrupt.condition_for(p)``; with two classes a corrupted label is a fair
coin). From the data alone: H-infinity (``theory/ntk.py``), its spectrum, the labels' energy on its top
eigenvectors, the predicted training curve ``||y - u(t)||^2 = sum_i (1 - eta mu_i)^(2t) (v_i . (y - u(0)))^2``
and the complexity ``sqrt(2 y^T H^-1 y / n)``. Then the measurement: a wide two-layer ReLU network
``f(x) = (1/sqrt(m)) sum_r a_r relu(w_r . x)``, second layer ``a_r = +-1`` fixed, first layer ``w_r ~ N(0, kappa^2 I)``
trained by full-batch gradient descent on ``0.5 ||y - u||^2`` with step ``eta = 1 / mu_max(H)``.

This network is not one of the paper's models and its training is not an SGD run of the engine
(``engine/runs.py``): it is the object of Arora et al.'s theorems, a few lines of full-batch gradient descent on
one matrix, written here in torch (on the device) so that the loop is exactly the one the theory describes.
Our choice: kappa = 1 (the kernel regime at this width; with a tiny kappa the weights travel far relative to
their initial size and the curves separate from the prediction), so the prediction starts from the network's own
initial outputs u(0). Each (p, seed) is stored on its own (``results.load_or_run("ntk_run", ...)``).
"""

from __future__ import annotations

import numpy as np

from ..config import cost
from ..config.experiment import Experiment
from ..store import results

CHAPTER = "09_ntk"  # its page: book/<CHAPTER>.ipynb, listed in _toc.yml

PAPER = {"dataset": "cifar10", "classes": [0, 1], "n_train": 10_000, "n_test": 2000, "width": 10_000, "kappa": 1.0,
         "steps": 2000, "fit_threshold": 0.05, "ps": [0.0, 0.25, 0.5, 0.75, 1.0], "seeds": [0, 1, 2],
         "top_fraction": 0.1, "delta": 0.05, "device": "auto"}
QUICK = {"dataset": "mnist5k", "classes": [3, 5], "n_train": 300, "n_test": 1000, "width": 2000, "steps": 200}
GPU = {"n_train": 5000, "width": 5000, "steps": 1000}


def binary_data(cfg: dict, p: float, seed: int, cache: dict | None = None):
    """Unit-norm inputs (float64) and +-1 labels of the two classes, the training labels corrupted at ``p``
    by chapter 4's code (``seed`` draws the corruption). The two-class data is loaded once per ``cache`` (only
    the labels depend on p and seed)."""
    from ..engine import corrupt, data
    from ..theory import ntk

    cache = {} if cache is None else cache
    if "two" not in cache:
        import torch

        ds = data.load(cfg["dataset"], crop=None, seed=0)
        a, b = cfg["classes"]

        def pick(x, y, n):
            keep = np.flatnonzero((y.numpy() == a) | (y.numpy() == b))[:n]
            return x[keep].reshape(len(keep), -1).double().numpy(), (y[keep] == b).long()

        x, y = pick(ds.x_train, ds.y_train, cfg["n_train"])
        xt, yt = pick(ds.x_test, ds.y_test, cfg["n_test"])
        mean = x.mean(0)
        cache["two"] = data.Dataset(ds.name, torch.from_numpy(x), y, torch.from_numpy(xt), yt, num_classes=2)
        cache["unit"] = ntk.unit_rows(x - mean), ntk.unit_rows(xt - mean)
    yc = corrupt.apply(cache["two"], **corrupt.condition_for(p), seed=seed).y_train.numpy()
    sign = lambda v: np.where(np.asarray(v) == 1, 1.0, -1.0)  # noqa: E731
    (x, xt), yt = cache["unit"], cache["two"].y_test
    return x, sign(yc), xt, sign(yt.numpy())


def gradient_descent(x, y, xt, *, width: int, kappa: float, eta: float, steps: int, seed: int, device="cpu") -> dict:
    """Full-batch GD on the first layer of the two-layer ReLU net (second layer fixed): the residual
    ||y - u(t)||^2 / n at every step t, u(0), the test outputs and the distance ||w - w(0)|| of the first layer."""
    import torch

    g = torch.Generator().manual_seed(seed)
    X = torch.tensor(x, dtype=torch.float32)
    w = kappa * torch.randn(width, X.shape[1], generator=g)
    a = torch.where(torch.rand(width, generator=g) < 0.5, -1.0, 1.0)
    X, Y, w, a = (t.to(device) for t in (X, torch.tensor(y, dtype=torch.float32), w, a))
    w0, scale, curve = w.clone(), width ** -0.5, []
    for k in range(steps + 1):
        pre = X @ w.T
        r = (pre.clamp(min=0) @ a) * scale - Y
        if k == 0:
            u0 = (r + Y).double().cpu().numpy()
        curve.append(float((r * r).mean()))
        if k == steps:  # the curve's last point: the network is measured here, not one step later
            break
        w -= eta * (((r[:, None] * (pre >= 0)) * (a * scale)[None, :]).T @ X)
    ut = ((torch.tensor(xt, dtype=torch.float32, device=device) @ w.T).clamp(min=0) @ a) * scale
    return {"curve": curve, "u0": u0, "test_out": ut.cpu().numpy(), "distance": float((w - w0).norm())}


def kernel(x: np.ndarray, cache: dict, device) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """H-infinity of the inputs and its spectrum (float64, the eigendecomposition on ``device`` unless it is the CPU),
    computed once per experiment: the inputs are the same for every p and seed (only the labels change), and at the
    paper profile the eigendecomposition is the expensive part."""
    from ..theory import ntk

    if "h" not in cache:
        on = None if str(device) == "cpu" else device  # numpy on the CPU, torch on a GPU: float64 either way
        cache["h"] = ntk.h_infinity(x, device=on)
        cache["lam"], cache["v"] = ntk.spectrum(cache["h"], device=on)
        cache["low"] = ntk.cholesky(cache["h"], x, device=on)  # one factor for every labeling's complexity
    return cache["h"], cache["lam"], cache["v"], cache["low"]


def measure(cfg: dict, p: float, seed: int, cache: dict | None = None) -> dict:
    """One (p, seed): the kernel's predictions and the network's measurements (see the module docstring)."""
    from ..engine import devices
    from ..theory import ntk

    dev = devices.resolve(cfg["device"])
    cache = {} if cache is None else cache
    x, y, xt, yt = binary_data(cfg, p, seed, cache)
    h, lam, v, low = kernel(x, cache, dev)
    eta = 1.0 / lam[0]
    net = gradient_descent(x, y, xt, width=cfg["width"], kappa=cfg["kappa"], eta=eta, steps=cfg["steps"], seed=seed,
                           device=dev)
    steps = np.arange(cfg["steps"] + 1)
    predicted = ntk.predicted_residual(lam, v, y, eta, steps, u0=net["u0"]) / len(y)
    comp = ntk.complexity(h, y, x, low=low)
    quantiles = np.linspace(0, 1, 41)
    return {"p": p, "seed": seed, "n": len(y), "eta": eta, "lambda_max": float(lam[0]), "lambda_min": float(lam[-1]),
            "top_eigvec_label_energy": ntk.top_energy(v, y, cfg["top_fraction"]),
            "cumulative_energy": np.cumsum(ntk.projections(v, y))[np.round(quantiles * (len(y) - 1)).astype(int)].tolist(),
            "complexity": comp, "bound": ntk.bound(comp, len(y), cfg["delta"]),
            "predicted_curve": predicted.tolist(), "measured_curve": net["curve"],
            "predicted_steps_to_fit": ntk.first_below(predicted, cfg["fit_threshold"]),
            "measured_steps_to_fit": ntk.first_below(net["curve"], cfg["fit_threshold"]),
            "max_curve_gap": float(np.max(np.abs(np.asarray(net["curve"]) - predicted))),
            "test_error": float(np.mean(np.where(net["test_out"] >= 0, 1.0, -1.0) != yt)),
            "distance": net["distance"]}


def all_runs(cfg: dict, *, seed: int = 0, out=None) -> list[dict]:
    """Every (p, seed) of ``cfg``, each loaded from the store when it is there (seeds offset by ``seed``)."""
    keys = [k for k in cfg if k not in ("ps", "seeds", "profile")]
    rows, cache = [], {}
    for s in cfg["seeds"]:
        for p in cfg["ps"]:
            spec = {**{k: cfg[k] for k in keys}, "p": p, "seed": s + seed}
            rec = results.load_or_run("ntk_run", spec, lambda p=p, s=s: measure(cfg, p, s + seed, cache), seed=s + seed,
                                      out=out)
            rows.append(rec["result"])
    return rows


SUMMARY_KEYS = ("complexity", "bound", "test_error", "predicted_steps_to_fit", "measured_steps_to_fit",
                "top_eigvec_label_energy", "distance", "max_curve_gap")


def by_p(rows: list[dict]) -> list[dict]:
    """Mean and standard deviation over seeds of each summary key, one row per p (a None, e.g. steps to fit not
    reached, is left out; NaN when no seed has a value)."""
    out = []
    for p in sorted({r["p"] for r in rows}):
        row = {"p": p, "seeds": sum(r["p"] == p for r in rows)}
        for k in SUMMARY_KEYS:
            vals = [r[k] for r in rows if r["p"] == p and r[k] is not None and not np.isnan(r[k])]
            row[k], row[f"{k}_std"] = (float(np.mean(vals)), float(np.std(vals))) if vals else (np.nan, np.nan)
        out.append(row)
    return out


def ntk_experiment(cfg: dict, *, seed: int = 0, progress=None, out=None) -> dict:
    from ..theory import measures

    rows = all_runs(cfg, seed=seed, out=out)
    means = by_p(rows)
    col = {k: [r[k] for r in means] for k in SUMMARY_KEYS}
    summary = {"ps": [r["p"] for r in means], **{k: col[k] for k in SUMMARY_KEYS if k != "max_curve_gap"},
               "max_curve_gap": max(r["max_curve_gap"] for r in rows),
               "kendall_tau": {"complexity_vs_test_error": measures.kendall(col["complexity"], col["test_error"]),
                               "complexity_vs_measured_steps": measures.kendall(col["complexity"], col["measured_steps_to_fit"]),
                               "predicted_vs_measured_steps": measures.kendall(col["predicted_steps_to_fit"],
                                                                                col["measured_steps_to_fit"])}}
    return {"runs": rows, "by_p": means, "summary": summary}


def validate(cfg: dict) -> None:
    """One-line errors for settings the experiment cannot use."""
    if len(cfg["classes"]) != 2 or cfg["classes"][0] == cfg["classes"][1]:
        raise ValueError(f"classes={cfg['classes']!r}: pass two different class indices, such as classes=[3, 5]")
    if not cfg["ps"] or any(not 0 <= p <= 1 for p in cfg["ps"]):
        raise ValueError(f"ps={cfg['ps']!r}: pass corruption levels in [0, 1], such as ps=[0, 0.5, 1]")
    if len(cfg["ps"]) < 2 or not cfg["seeds"]:
        raise ValueError("ntk ranks the corruption levels: pass at least two ps and one seed")


def cost_model(cfg: dict, memory: float) -> list[dict]:
    """Per (p, seed): H-infinity and its eigendecomposition (float64, host), and the network's GD steps."""
    n, _ = cost.sizes(cfg["dataset"], cfg["n_train"], cfg["n_test"])
    d, k = cost.pixels(cfg["dataset"], None), len(cfg["ps"]) * len(cfg["seeds"])  # binary_data: no crop
    kern = 2.0 * n * n * d + cost.svd_flops(n, n) + k * 2.0 * n * n  # once; then one solve per labeling
    gd = k * cfg["steps"] * 6.0 * n * d * cfg["width"]
    return [cost.dense("H-infinity and its spectrum (once), a Cholesky solve per labeling", kern, op="svd", on="host"),
            cost.dense(f"full-batch gradient descent, {k} networks x {cfg['steps']} steps", gd, dtype="float32")]


EXPERIMENTS = {
    "ntk": Experiment(
        "ntk", ntk_experiment, paper=PAPER, deltas={"gpu": GPU, "quick": QUICK}, cost=cost_model, validate=validate,
        reasons={"gpu": "5,000 images and 5,000 hidden units, 1,000 steps: the eigendecomposition of H-infinity (float64) "
                        "and the gradient descent of 15 networks fit one sitting",
                 "quick": "300 of the offline MNIST digits 3 and 5, 2,000 hidden units and 200 steps (the residual is below "
                          "the threshold after about 90 steps even for random labels): well under two minutes on 2 cores"},
        doc="H-infinity of a binary task, its spectrum and label projections, the predicted and measured training curves "
            "of a wide two-layer ReLU network, the complexity sqrt(2 y^T H^-1 y / n) and the test error, per corruption p.",
        expect={"quick": "label energy on the top eigenvectors falls with p; complexity, test error, steps to fit and the "
                         "distance from initialization rise with p"}),
}


# --- what the chapter displays -----------------------------------------------------------------------------

def table(res: dict) -> list[dict]:
    """Per p (seed means, +- their standard deviation): what the kernel predicts and what the network measured."""
    def pm(r, k, fmt):
        return f"{fmt.format(r[k])} ± {fmt.format(r[k + '_std'])}"

    return [{"p": r["p"], "label energy, top 10%": pm(r, "top_eigvec_label_energy", "{:.2f}"),
             "complexity √(2yᵀH⁻¹y/n)": pm(r, "complexity", "{:.2f}"), "test error": pm(r, "test_error", "{:.3f}"),
             "steps to fit, predicted": pm(r, "predicted_steps_to_fit", "{:.0f}"),
             "steps to fit, measured": pm(r, "measured_steps_to_fit", "{:.0f}"),
             "distance ‖W−W(0)‖": pm(r, "distance", "{:.1f}"), "seeds": r["seeds"]} for r in res["by_p"]]


def prose_numbers(res: dict) -> dict:
    """The numbers the chapter's prose quotes (glued into the text), by name."""
    s, first, last = res["summary"], res["by_p"][0], res["by_p"][-1]
    r0 = res["runs"][0]
    return {"n": r0["n"], "n_seeds": first["seeds"], "n_ps": len(s["ps"]), "eta": r0["eta"],
            "lambda_max": r0["lambda_max"], "lambda_min": r0["lambda_min"],
            "energy_p0": first["top_eigvec_label_energy"], "energy_p1": last["top_eigvec_label_energy"],
            "complexity_p0": first["complexity"], "complexity_p1": last["complexity"],
            "bound_p0": first["bound"], "bound_p1": last["bound"],
            "test_error_p0": first["test_error"], "test_error_p1": last["test_error"],
            "pred_steps_p0": first["predicted_steps_to_fit"], "pred_steps_p1": last["predicted_steps_to_fit"],
            "meas_steps_p0": first["measured_steps_to_fit"], "meas_steps_p1": last["measured_steps_to_fit"],
            "distance_p0": first["distance"], "distance_p1": last["distance"], "max_curve_gap": s["max_curve_gap"],
            "tau_error": s["kendall_tau"]["complexity_vs_test_error"],
            "tau_steps": s["kendall_tau"]["complexity_vs_measured_steps"],
            "tau_pred": s["kendall_tau"]["predicted_vs_measured_steps"]}


# --- back to the paper's networks: chapter 4's Figure 1b/1c runs, only where the store has them --------------

def paper_networks(profile: str, *, seed: int = 0, n_sub: int = 1000, out=None) -> dict:
    """The complexity of each labeling of chapter 4's Figure 1b/1c runs (one-hot columns, quadratic forms summed;
    H-infinity on the first ``n_sub`` training images, centred and scaled to unit norm), beside those runs'
    measured test error and epochs to fit, read from the store. Nothing is trained here: a run the store cannot
    serve is listed as missing."""
    from ..engine import runs
    from ..theory import measures, ntk
    from . import ch04_randomization as rnd

    cfg = runs.seeded(rnd.fig1bc_config(profile), seed)
    specs = [s for s in rnd.fig1bc_specs(cfg) if s["seed"] == seed]  # the first seed's runs (chapter 4's table)
    stored = [s for s in specs if runs.stored(s, out)]
    rows = []
    for s in stored:
        rec = runs.run_one(s, out=out)["result"]
        ds = runs.dataset(s)
        x = ds.x_train[:n_sub].reshape(min(n_sub, len(ds.y_train)), -1).double().cpu().numpy()
        x = ntk.unit_rows(x - x.mean(0))
        y = np.eye(ds.num_classes)[ds.y_train[:n_sub].cpu().numpy()]
        rows.append({"model": s["model"], "p": s["p"] or (0.0 if s["condition"] == "true_labels" else 1.0),
                     "complexity": ntk.complexity(ntk.h_infinity(x), y, x), "test_error": 1 - rec["test_acc"],
                     "epochs_to_100": rec["epochs_to_100"]})
    taus = {}
    for m in sorted({r["model"] for r in rows}):
        mine = [r for r in rows if r["model"] == m]
        if len(mine) >= 2:
            taus[m] = {"vs_test_error": measures.kendall([r["complexity"] for r in mine], [r["test_error"] for r in mine])}
            fitted = [r for r in mine if r["epochs_to_100"] is not None]
            if len(fitted) >= 2:
                taus[m]["vs_epochs_to_fit"] = measures.kendall([r["complexity"] for r in fitted],
                                                               [r["epochs_to_100"] for r in fitted])
    return {"rows": rows, "kendall_tau": taus, "stored": len(stored), "declared": len(specs), "n_sub": n_sub}


def paper_networks_text(res: dict) -> str:
    """What the page says about chapter 4's runs: their ranking, or that the store does not have them."""
    if not res["rows"]:
        return (f"**Not measured here:** the results store has none of the {res['declared']} Figure 1b/1c runs of "
                "chapter 4 at this profile, and this chapter never trains them. Run chapter 4 first (or unpack a store "
                "that has them) and this section fills in.")
    parts = [f"{m}: τ = {t['vs_test_error']:.2f} with the test error"
             + (f", {t['vs_epochs_to_fit']:.2f} with the epochs to fit" if "vs_epochs_to_fit" in t else "")
             for m, t in res["kendall_tau"].items()]
    return (f"**Measured** on the {res['stored']} of {res['declared']} stored Figure 1b/1c runs (H-infinity of the first "
            f"{res['n_sub']:,} training images): Kendall's τ of the complexity " + "; ".join(parts) + ".")
