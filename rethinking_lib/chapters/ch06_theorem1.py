"""Chapter 6's experiment: Theorem 1's network built from real images with random labels, checked, and its numerics.

The construction itself (and what floating point does to it) is pure math and lives in ``theory.theorem1``;
this module declares the ``theorem1`` experiment that runs it at the profile's sizes (fit reports on images, the
conditioning sweep, the depth-k variant, the same architecture trained by Adam), and the tables and sentences
the chapter's page shows.
"""

from __future__ import annotations

import torch

from ..config import cost
from ..config.claims import Claim
from ..config.experiment import Experiment
from ..theory.theorem1 import FRAC, DeepNet, FitError, conditioning, construct, fit_report, num_params, train_same_architecture

CHAPTER = "06_expressivity"  # its page: book/<CHAPTER>.ipynb, listed in _toc.yml

# ----------------------------------------------------------------------------------------------
# the experiment


def validate(cfg: dict) -> None:
    """One-line errors for settings the run cannot use (before any data is loaded)."""
    from ..config import validate as checks

    n = checks.positive_int("theorem1", cfg, "n", "4000")
    checks.int_list("theorem1", cfg, "image_ns", "[500,1000]", at_most=n, at_most_name="n")
    checks.choices("theorem1", cfg, "dtypes", ("float32", "float64"), many=True, required="float64")
    checks.int_list("theorem1", cfg, "sweep_ns", "[100,300]")
    checks.positive_int("theorem1", cfg, "sweep_d", "50")
    deep_n = checks.positive_int("theorem1", cfg, "deep_n", "1000")
    if deep_n > n:
        raise ValueError(f"theorem1: setting deep_n={deep_n} is above n = {n} (e.g. --set deep_n={n})")
    checks.int_list("theorem1", cfg, "deep_ks", "[1,4]", at_most=deep_n, at_most_name="deep_n")
    sgd_n = checks.positive_int("theorem1", cfg, "sgd_n", "300")
    if sgd_n > n:
        raise ValueError(f"theorem1: setting sgd_n={sgd_n} is above n = {n} (e.g. --set sgd_n={n})")
    checks.positive_int("theorem1", cfg, "sgd_steps", "1000", allow_zero=True)
    checks.positive_number("theorem1", cfg, "sgd_lr", "0.01")


def _images(cfg: dict, seed: int) -> tuple[torch.Tensor, torch.Tensor, str]:
    from ..engine import data

    ds = data.load(cfg["dataset"], crop=None, seed=seed)
    if cfg["n"] > len(ds.y_train):
        raise ValueError(f"theorem1: setting n={cfg['n']} is above the {len(ds.y_train):,} training images of "
                         f"{cfg['dataset']} (e.g. --set n={len(ds.y_train)})")
    n = cfg["n"]
    X = ds.x_train[:n].flatten(1).double()
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, ds.num_classes, (n,), generator=g).double()  # random labels, as in the paper's tests
    return X, y, ds.describe()


def _run(cfg: dict, *, seed: int, progress=None, out=None) -> dict:
    validate(cfg)
    X, y, desc = _images(cfg, seed)
    real = [fit_report(X[:n], y[:n], dtype=getattr(torch, dt), seed=seed)
            for n in cfg["image_ns"] for dt in cfg["dtypes"]]
    main = [r for r in real if r["dtype"] == "float64"][-1]  # the largest n, float64 (validate: both exist)
    if not main["fits"]:  # the chapter's claim is an exact fit: a miss is an error, not a number on the page
        raise FitError(f"theorem1: float64 construction on n = {main['n']} images: "
                       f"{main.get('failure', 'no fit')}", main["max_fit_error"] or float("nan"), main.get("tol", 0.0))
    sweep = conditioning(cfg["sweep_ns"], d=cfg["sweep_d"], dtypes=cfg["dtypes"], seed=seed, fracs=(FRAC, 0.5))
    deep = []
    net = construct(X[:cfg["deep_n"]], y[:cfg["deep_n"]], seed=seed)
    with torch.no_grad():
        ref = net(X[:cfg["deep_n"]])
        for k in cfg["deep_ks"]:
            dn = DeepNet(net, k)
            deep.append({"k": k, "depth": dn.depth, "width": dn.width, "params": num_params(dn),
                         "max_diff_vs_two_layer": float((dn(X[:cfg["deep_n"]]) - ref).abs().max())})
    n_sgd = cfg["sgd_n"]
    sgd = train_same_architecture(X[:n_sgd], y[:n_sgd], steps=cfg["sgd_steps"], lr=cfg["sgd_lr"], seed=seed)
    return {
        "data": desc, "images": real, "sweep": sweep, "deep": deep, "sgd_same_architecture": sgd,
        "summary": {"dataset": cfg["dataset"], "n": main["n"], "d": main["d"], "params": main["params"],
                    "params_expected_2n_plus_d": 2 * main["n"] + main["d"],
                    "max_fit_error_float64": main["max_fit_error"],
                    "random_labels_recovered_by_rounding": main.get("labels_recovered"),
                    "max_abs_w": main["max_abs_w"],
                    "same_architecture_trained_by_adam_recovered": sgd["final_recovered"]},
    }


# ----------------------------------------------------------------------------------------------
# what the page shows: the small examples, tables and sentences

IMAGE_HEADERS = {"params": "weights (= 2n + d)", "max_fit_error": "max error over the n points",
                 "fits": "exact fit (within tolerance)", "labels_recovered": "random labels recovered by rounding",
                 "max_abs_w": "largest weight (abs.)"}
SWEEP_HEADERS = {"frac": "b placement (fraction of gap)", "max_fit_error": "max error", "labels_recovered": "labels recovered",
                 "min_gap_rel": "smallest gap / range", "max_abs_w": "largest weight (abs.)"}


def toy_examples(seed: int = 0) -> dict:
    """The page's two small examples, from one seeded generator: 8 points on a line with arbitrary real targets
    ("line": x (8, 1), y (8,)) and 12 points in the plane with labels 0..2 ("plane": X (12, 2), y (12,))."""
    g = torch.Generator().manual_seed(seed)
    x1 = torch.rand(8, 1, generator=g, dtype=torch.float64) * 4
    y1 = torch.randn(8, generator=g, dtype=torch.float64)
    x2 = torch.randn(12, 2, generator=g, dtype=torch.float64)
    y2 = torch.randint(0, 3, (12,), generator=g)
    return {"line": (x1, y1), "plane": (x2, y2)}


def interleaving(z_sorted: torch.Tensor, b: torch.Tensor) -> str:
    """"b1=.. < z(1)=.. < b2=.. < ...": step 2's interleaving written out, after checking that it holds."""
    if not (bool((b < z_sorted).all()) and bool((z_sorted[:-1] < b[1:]).all())):
        raise ValueError("the thresholds do not interleave the sorted projections: b_j < z_(j) < b_j+1 fails")
    return " < ".join(f"b{j + 1}={float(bj):.3f} < z({j + 1})={float(z):.3f}"
                      for j, (bj, z) in enumerate(zip(b, z_sorted, strict=True)))


def fit_table(net, x: torch.Tensor, y: torch.Tensor) -> list[dict]:
    """Per point of a 1-D example: x, its target, the constructed c(x) and the absolute error."""
    with torch.no_grad():
        fit = net(x)
    return [{"x": float(xi), "target y": float(yi), "c(x)": float(c), "abs. error": float(abs(c - yi))}
            for xi, yi, c in zip(x[:, 0], y, fit, strict=True)]


def class_fit_text(net, x: torch.Tensor, y: torch.Tensor) -> str:
    """The labels, the constructed net's rounded outputs and its weight count, one per line."""
    with torch.no_grad():
        predicted = net.predict_class(x).tolist()
    n, d = x.shape
    return f"labels: {y.tolist()} \npredicted round(c(x)): {predicted} \nweights: {num_params(net)} = 2*{n} + {d}"


def image_table(res: dict) -> list[dict]:
    """The fit reports on images, one row per (n, dtype)."""
    keys = ("n", "d", "dtype", "params", "max_fit_error", "fits", "labels_recovered", "max_abs_w")
    return [{IMAGE_HEADERS.get(k, k): r.get(k) for k in keys} for r in res["images"]]


def sweep_table(res: dict) -> list[dict]:
    """The conditioning sweep, one row per (n, dtype, threshold placement)."""
    keys = ("n", "dtype", "frac", "max_fit_error", "labels_recovered", "max_abs_w", "min_gap_rel")
    return [{SWEEP_HEADERS.get(k, k): r.get(k) for k in keys} for r in res["sweep"]]


def failures(rows: list[dict], *, placement: bool = False) -> list[str]:
    """One line per fit report that failed (why), naming n and the dtype, and with ``placement`` the threshold's."""
    return [f"n={r['n']} {r['dtype']}" + (f", b at {r['frac']:g} of the gap" if placement else "") + f": {r['failure']}"
            for r in rows if r.get("failure")]


def fit_text(res: dict) -> str:
    """Measured against reported: the weight count, n, the float64 fit error and the labels recovered."""
    s = res["summary"]
    return (f"**Measured:** the constructed network has {s['params']:,} weights (2n + d = {s['params_expected_2n_plus_d']:,}) "
            f"and reproduces {s['n']:,} random labels on real {s['dataset']} images with maximum error "
            f"{s['max_fit_error_float64']:.1e} in float64 "
            f"(all labels recovered: {s['random_labels_recovered_by_rounding']:.0%}). "
            "**Reported:** the theorem guarantees an exact fit for any n; it says nothing about floating point.")


def mlp_weights(profile: str) -> int:
    """Weights of the MLP 1x512 that fits random labels in chapter 4's Figure 1b/1c at ``profile`` (built, not assumed:
    its input is the crop that profile's runs see)."""
    from ..engine import models, runs
    from . import ch04_randomization

    cfg = ch04_randomization.fig1bc_config(profile)
    spec = next(s for s in ch04_randomization.fig1bc_specs(cfg) if s["model"] == "mlp_1x512")
    channels, side = runs.input_shape(runs.spec(**spec))
    return models.count_params(models.build("mlp_1x512", in_channels=channels, image_size=side))


def paper_counts() -> dict:
    """2n + d for all of CIFAR-10 as the paper's networks see it (n = 50,000, the 28 x 28 x 3 crop) against Table 1's
    networks: how many times more weights they have (ratio), and what fraction of theirs 2n + d is."""
    from .. import paper

    need = 2 * paper.CIFAR10_TRAIN + 3 * paper.CROP ** 2
    counts = [c for name, c in paper.PARAM_COUNTS.items() if name != "inception_small_nobn"]
    return {"d": 3 * paper.CROP ** 2, "need": need, "ratio_lo": min(counts) / need, "ratio_hi": max(counts) / need,
            "frac_lo": need / max(counts), "frac_hi": need / min(counts)}


def float32_limit(sweep: list[dict]) -> str:
    """Where float32 with the chapter's threshold placement (``FRAC``) stopped recovering every random label in the
    conditioning sweep, as a phrase for the prose."""
    rows = sorted((r for r in sweep if r["dtype"] == "float32" and r["frac"] == FRAC), key=lambda r: r["n"])
    ok = [r["n"] for r in rows if r.get("labels_recovered") == 1.0]
    bad = [r["n"] for r in rows if r.get("labels_recovered") != 1.0]
    if not bad:
        return f"at none of the sweep's sizes (up to {rows[-1]['n']:,} points)" if rows else "(no float32 rows in the sweep)"
    below = [n for n in ok if n < bad[0]]
    return (f"between {below[-1]:,} and {bad[0]:,} points" if below else f"already at {bad[0]:,} points")


def numerics_text(res: dict) -> str:
    """What the conditioning sweep measured: where float32 stopped recovering every label, and the largest weight."""
    w = [r["max_abs_w"] for r in res["sweep"] if r["dtype"] == "float64" and r.get("max_abs_w")]
    return (f"**Measured:** float32 with the thresholds at {FRAC:g} of the gap stopped recovering every random label "
            f"{float32_limit(res['sweep'])}; the exact (float64) network's largest weight in the sweep is "
            + (f"{max(w):.2g}." if w else "not available (no float64 row fitted)."))


def prose_numbers(res: dict, profile: str) -> dict:
    """The numbers the page's prose cites: this run's n, d and 2n + d, the MLP of chapter 4 at the same profile, and
    the CIFAR-10 counts of the paper's networks."""
    s, c = res["summary"], paper_counts()
    mlp = mlp_weights(profile)
    return {"ch6_n": s["n"], "ch6_d": s["d"], "ch6_params": s["params"], "ch6_mlp_weights": mlp,
            "ch6_mlp_ratio": mlp / s["params"], "ch6_cifar_d": c["d"], "ch6_cifar_need": c["need"],
            "ch6_ratio_lo": c["ratio_lo"], "ch6_ratio_hi": c["ratio_hi"], "ch6_frac_lo": c["frac_lo"],
            "ch6_frac_hi": c["frac_hi"]}


def sgd_text(res: dict) -> str:
    """What Adam finds with the same architecture, beside the construction's 100%."""
    sgd = res["sgd_same_architecture"]
    return (f"**Measured:** after {sgd['steps']:,} Adam steps the trained network recovers "
            f"{sgd['final_recovered']:.1%} of the {sgd['n']} random labels (loss {sgd['final_loss']:.3f}); "
            "the construction recovers 100%. The curve is the honest record of one run (seeded): progress is fast at "
            "first, then noisy and below 100% within this budget; more steps or a smaller learning rate change the "
            "number, not the point: that a network *can* represent a labelling does not tell us what training finds.")
# --- its cost (what the plan estimates before anything runs: ``config.cost``) ---------------------------------

def cost_model(cfg: dict, memory: float) -> list[dict]:
    """Each construction (``fit_report``) and the SGD comparison, from constructions / steps timed at a small n
    and scaled by n^2 + n d (the n x n triangular system and the n x d projection dominate)."""
    d = cost.pixels(cfg["dataset"], None)
    n0 = 500
    out = []

    def fit_slice(dim, dtype):
        def fn():
            g = torch.Generator().manual_seed(0)
            fit_report(torch.randn(n0, dim, generator=g, dtype=torch.float64),
                       torch.randint(0, 10, (n0,), generator=g).double(), dtype=getattr(torch, dtype))
        return fn

    def fits(what, ns, dim, dtypes, per):
        for dt in dtypes:
            scale = sum((n * n + n * dim) / (n0 * n0 + n0 * dim) for n in ns) * per
            out.append(cost.timed_slice(f"{what} ({dt})", f"theorem1 fit n0={n0} d={dim} {dt}", fit_slice(dim, dt), scale))

    fits(f"construction on {len(cfg['image_ns'])} image sets", cfg["image_ns"], d, cfg["dtypes"], 1)
    fits(f"conditioning sweep (d={cfg['sweep_d']})", cfg["sweep_ns"], cfg["sweep_d"], cfg["dtypes"], 2)
    fits(f"deep versions k={cfg['deep_ks']}", [cfg["deep_n"]], d, ["float64"], 1 + len(cfg["deep_ks"]))
    sn, s0 = cfg["sgd_n"], 20

    def sgd():
        g = torch.Generator().manual_seed(0)
        train_same_architecture(torch.randn(sn, d, generator=g, dtype=torch.float64),
                                torch.randint(0, 10, (sn,), generator=g).double(), steps=s0)
    out.append(cost.timed_slice(f"Adam on the same architecture, {cfg['sgd_steps']} steps", f"theorem1 sgd n={sn} d={d}",
                                sgd, cfg["sgd_steps"] / s0))
    return out


EXPERIMENTS = {
    "theorem1": Experiment(
        "theorem1", _run, cost=cost_model,
        # paper: CIFAR-10 pixels (d = 3,072) with random labels. The dense triangular solve needs n^2 * 8
        # bytes (20 GB at n = 50,000); float64 stays usable to n ~ 10,000 (our measurement, not the paper's: the
        # paper says nothing about precision; residual ~3e-2 at n = 10,000, d = 3,072), so the sweep stops at
        # 20,000 and says how the error grows.
        paper={"dataset": "cifar10", "n": 20000, "image_ns": [1000, 2000, 5000, 10000, 20000],
               "dtypes": ["float32", "float64"], "sweep_ns": [100, 300, 1000, 3000, 10000], "sweep_d": 50,
               "deep_n": 2000, "deep_ks": [1, 4, 16, 64], "sgd_n": 2000, "sgd_steps": 5000, "sgd_lr": 0.01},
        # gpu: everything runs on the host CPU (2 vCPUs on Colab, like the machine this was sized on); plan's
        # cost model there: ~4 min at the paper-profile sizes (n = 20,000 peaks at ~7.3 GB of host memory here).
        deltas={"gpu": {},
                # quick: real MNIST digits (784 pixels / 255) with random labels, n up to 4,000
                "quick": {"dataset": "mnist5k", "n": 4000, "image_ns": [500, 1000, 2000, 4000],
                          "sweep_ns": [100, 300, 1000, 3000], "deep_n": 1000, "deep_ks": [1, 4, 16], "sgd_n": 300,
                          "sgd_steps": 1000}},
        reasons={"gpu": "none: the whole experiment runs on the host CPU, about 4 minutes at the paper-profile sizes "
                        "(the largest construction, n = 20,000 in float64, needs about 7 GB of host memory)",
                 "quick": "the offline digits (no network) with random labels, n up to 4,000 (the offline set's "
                          "size), and smaller sweeps and SGD comparison: the rendered book runs on 2 CPU cores"},
        doc="Theorem 1's two-layer ReLU net built from data: 2n + d weights, fit error on random labels vs n and dtype.",
        expect={"quick": "params == 2n + d; float64 fits 4,000 MNIST digits with random labels, all labels recovered"},
    ),
}


# --- the paper's claims this chapter's experiments check (the conclusion's table, ``pages.claims``) -------

def theorem1_fits_any_labels(rec: dict) -> tuple[str, str, bool]:
    s = rec["result"]["summary"]
    ok = s["params"] == s["params_expected_2n_plus_d"] and bool(s["random_labels_recovered_by_rounding"])
    return ("a 2-layer ReLU net with 2n + d weights represents any labeling (Theorem 1, a proof)",
            f"n = {s['n']:,}, d = {s['d']}: {s['params']:,} weights, random labels "
            f"{'recovered' if s['random_labels_recovered_by_rounding'] else 'not recovered'}", ok)


CLAIMS = [
    Claim("2n + d weights represent any labeling", "4, Theorem 1", "theorem1", theorem1_fits_any_labels,
          "the constructed network has exactly 2n + d weights and, in float64, reproduces every random label after "
          "rounding its output to the nearest class; no tolerance beyond the rounding: it is a construction"),
]

