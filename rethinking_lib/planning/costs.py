"""What an experiment costs when it is not a list of declared training runs: one cost model per experiment.

The plan (``plan.chapter_plan``) estimates a declared training run from a few measured steps. The experiments
that do their own computation (the theory chapters, kernels, Theorem 1, ...) instead have a cost model here:
a function of the experiment's config that lists its work as *items* of three kinds, each timed on this
device by ``plan``:

``train``  images through one model's training step, and images through its evaluation pass (a run-like spec
           names the model, width, input shape, batch size and precision): timed like a declared run, from 3
           measured steps (``plan.measured_rates``), or from ``plan.CALIBRATION`` for a GPU that is not here;
``dense``  floating-point operations of dense linear algebra (matmul, Cholesky, SVD) in a dtype, on the
           training device or on the host CPU: the rate is measured here by timing one operation of that kind
           at size 512 (``dense_rate``), or taken from ``plan.CALIBRATION`` for a GPU that is not here;
``slice``  a small slice of the experiment's own code (e.g. 2,000 steps of the logistic-regression SGD loop),
           timed here once per process, scaled by how many such slices the config needs. Slices run host code
           (numpy / torch on the CPU), which runs on the host CPU in every profile.

Training items count every epoch of a run that may stop early at 100% training accuracy, so their estimate is
an upper bound. The numbers an item counts are the experiment's own loops, written out in its cost model below.

    >>> from rethinking_lib import costs, experiments
    >>> costs.items("kernel", experiments.get("kernel").config("quick"))
"""

from __future__ import annotations

import time

from ..engine import runs

_TIMED: dict[str, float] = {}  # slice key -> seconds (per process)
_DENSE: dict[tuple, float] = {}  # (op, dtype, device) -> flop/s (per process)
SLICE_STEPS = 2000  # steps of a timed loop slice


# --- the three kinds of item -------------------------------------------------------------------------------

def train(what: str, model: str, dataset: str, n: int, epochs: int, *, n_eval: int | None = None,
          width: float = 1.0, batch_size: int = 128, precision: str = "fp32", extra_train: int = 0,
          extra_eval: int = 0, times: int = 1, stops_early: bool = False) -> dict:
    """``times`` runs of ``epochs`` passes of ``n`` training images, and one evaluation pass of ``n_eval``
    images per epoch (default: ``n`` plus the dataset's test set), plus ``extra_*`` images per run.
    ``stops_early``: the runs stop at 100% training accuracy, so the estimate is an upper bound."""
    n_eval = n + runs.DATA_SIZES.get(dataset, (0, 10_000))[1] if n_eval is None else n_eval
    spec = runs.spec(model=model, dataset=dataset, n_train=n, width=width, batch_size=batch_size,
                     precision=precision, epochs=epochs)
    return {"kind": "train", "what": what, "spec": spec, "train_images": times * (epochs * n + extra_train),
            "eval_images": times * (epochs * n_eval + extra_eval), "upper_bound": stops_early}


def dense(what: str, flops: float, *, op: str = "matmul", dtype: str = "float64", on: str = "device") -> dict:
    """``flops`` floating-point operations of ``op`` (matmul, cholesky, svd) in ``dtype`` on ``on`` (device, host)."""
    if op not in ("matmul", "cholesky", "svd") or on not in ("device", "host"):
        raise ValueError(f"dense item {what!r}: op={op!r} / on={on!r}; use op matmul|cholesky|svd, on device|host")
    return {"kind": "dense", "what": what, "flops": float(flops), "op": op, "dtype": dtype, "on": on}


def timed_slice(what: str, key: str, fn, times: float) -> dict:
    """``times`` x the seconds of ``fn()`` (timed here once per process under ``key``: the faster of two calls,
    so first-call costs such as lazy initialization are not multiplied by ``times``)."""
    if key not in _TIMED:
        best = float("inf")
        for _ in range(2):
            t0 = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - t0)
        _TIMED[key] = best
    return {"kind": "slice", "what": what, "seconds": _TIMED[key] * times, "slice_seconds": _TIMED[key],
            "times": times}


def svd_flops(m: int, n: int) -> float:
    """The thin SVD's operation count used for timing and scaling: 4 m n k + 8 k^3 with k = min(m, n)."""
    k = min(m, n)
    return 4.0 * max(m, n) * k * k + 8.0 * k ** 3


def dense_rate(op: str, dtype: str, on: str) -> float:
    """flop/s of ``op`` in ``dtype`` here: one 512 x 512 operation timed after a warm-up (cached per process).
    ``on="host"``: numpy for svd (the code that uses it is numpy), torch on the CPU otherwise."""
    import numpy as np
    import torch

    from ..engine import devices

    dev = devices.resolve("cpu" if on == "host" else "auto")
    key = (op, dtype, str(dev))
    if key not in _DENSE:
        n = 512
        g = torch.Generator().manual_seed(0)
        a = torch.randn(n, n, generator=g, dtype=getattr(torch, dtype))
        if op == "svd":
            x = a.numpy()
            fn, flops = (lambda: np.linalg.svd(x, full_matrices=False)), svd_flops(n, n)
        else:
            a = a.to(dev)
            if op == "cholesky":
                a = a @ a.T + n * torch.eye(n, dtype=a.dtype, device=dev)
                fn, flops = (lambda: torch.linalg.cholesky(a)), n ** 3 / 3
            else:
                fn, flops = (lambda: a @ a), 2.0 * n ** 3
        fn()
        devices.sync(dev)
        t0 = time.perf_counter()
        for _ in range(3):
            fn()
        devices.sync(dev)
        _DENSE[key] = 3 * flops / (time.perf_counter() - t0)
    return _DENSE[key]


# --- helpers ----------------------------------------------------------------------------------------------

def _sizes(dataset: str, n_train, n_test) -> tuple[int, int]:
    full_n, full_m = runs.DATA_SIZES.get(dataset, (50_000, 10_000))
    return min(n_train or full_n, full_n), min(n_test or full_m, full_m)


def _pixels(dataset: str, crop: str | None = "paper") -> int:
    c, side = runs.input_shape({"dataset": dataset, "crop": crop})
    return c * side * side


# --- the cost models ----------------------------------------------------------------------------------------

def pac(cfg: dict, memory: float) -> list[dict]:
    n, m = _sizes(cfg["dataset"], cfg["n_train"], cfg["n_test"])
    return [train(f"{model}, {len(cfg['conditions'])} label conditions", model, cfg["dataset"], n, cfg["epochs"],
                  n_eval=n + m, times=len(cfg["conditions"]), stops_early=True) for model in cfg["models"]]


def rademacher(cfg: dict, memory: float) -> list[dict]:
    """Every fit of random signs (``network_sups``) and of the true binary task; the linear classifier is timed
    as the MLP at a 1-unit width (its training step is no more than that)."""
    ds, ep, n, w = cfg["dataset"], cfg["epochs"], cfg["n"], cfg["width_n"]
    m = runs.DATA_SIZES.get(ds, (0, 10_000))[1]
    model = lambda name: ("mlp_1x512", 1 / 512) if name == "linear" else (name, 1.0)  # noqa: E731
    out = []

    def fits(what, name, k, size, width=1.0, n_eval=None):
        mod, w0 = model(name)
        return [train(what, mod, ds, size, ep, n_eval=size + 1 if n_eval is None else n_eval, width=w0 * width,
                      times=k, stops_early=True)]

    for name in cfg["models"] + ["linear"]:
        out += fits(f"{name}: {cfg['draws']} sign fits at n={n}", name, cfg["draws"], n)
        out += fits(f"{name}: true binary task at n={n}", name, 1, n, n_eval=n + m)
    for name in [cfg["models"][0], "linear"]:
        for k in cfg["n_sweep"]:
            if k != n:
                out += fits(f"{name}: {cfg['sweep_draws']} sign fits at n={k}", name, cfg["sweep_draws"], k)
    for width in cfg["widths"]:
        if not (width == 1.0 and w == n):
            out += fits(f"{cfg['models'][0]} width {width:g}: sign fits", cfg["models"][0], cfg["sweep_draws"], w, width)
    return out


def stability(cfg: dict, memory: float) -> list[dict]:
    """Logistic SGD (4 runs of R parallel chains: true/random labels on S and S'), its loss gaps at every
    record, and the MLP trained in lockstep on S and S' for both labelings."""
    import torch

    from ..chapters import ch03_stability as st

    ds, n, k, ep = cfg["dataset"], cfg["n"], cfg["runs"], cfg["epochs"]
    d, m = _pixels(ds), runs.DATA_SIZES.get(ds, (0, 10_000))[1]

    def loop():
        g = torch.Generator().manual_seed(0)
        x = torch.randn(k + 64, d, generator=g, dtype=torch.float64) / d ** 0.5
        y = torch.randint(0, 2, (k, k + 64), generator=g).double() * 2 - 1
        rows = torch.randint(0, k + 64, (k, SLICE_STEPS), generator=g)
        st.logistic_sgd(x, y, rows, 0.01, SLICE_STEPS)

    records = ep * cfg["records_per_epoch"]
    return [timed_slice(f"logistic SGD: 4 x {ep * n:,} steps of {k} chains", f"logistic_sgd k={k} d={d}", loop,
                        4 * ep * n / SLICE_STEPS),
            dense(f"logistic loss gaps at {records} records", 4 * 2.0 * records * k * d * (n + m - k), on="host"),
            train(f"{cfg['net_model']} on S and S', true and random labels", cfg["net_model"], ds, n, cfg["net_epochs"],
                  n_eval=n + m, times=4)]


def theorem1(cfg: dict, memory: float) -> list[dict]:
    """Each construction (``fit_report``) and the SGD comparison, from constructions / steps timed at a small n
    and scaled by n^2 + n d (the n x n triangular system and the n x d projection dominate)."""
    import torch

    from ..theory import theorem1 as t1

    d = _pixels(cfg["dataset"], None)
    n0 = 500
    out = []

    def fit_slice(dim, dtype):
        def fn():
            g = torch.Generator().manual_seed(0)
            t1.fit_report(torch.randn(n0, dim, generator=g, dtype=torch.float64),
                          torch.randint(0, 10, (n0,), generator=g).double(), dtype=getattr(torch, dtype))
        return fn

    def fits(what, ns, dim, dtypes, per):
        for dt in dtypes:
            scale = sum((n * n + n * dim) / (n0 * n0 + n0 * dim) for n in ns) * per
            out.append(timed_slice(f"{what} ({dt})", f"theorem1 fit n0={n0} d={dim} {dt}", fit_slice(dim, dt), scale))

    fits(f"construction on {len(cfg['image_ns'])} image sets", cfg["image_ns"], d, cfg["dtypes"], 1)
    fits(f"conditioning sweep (d={cfg['sweep_d']})", cfg["sweep_ns"], cfg["sweep_d"], cfg["dtypes"], 2)
    fits(f"deep versions k={cfg['deep_ks']}", [cfg["deep_n"]], d, ["float64"], 1 + len(cfg["deep_ks"]))
    sn, s0 = cfg["sgd_n"], 20

    def sgd():
        g = torch.Generator().manual_seed(0)
        t1.train_same_architecture(torch.randn(sn, d, generator=g, dtype=torch.float64),
                                   torch.randint(0, 10, (sn,), generator=g).double(), steps=s0)
    out.append(timed_slice(f"Adam on the same architecture, {cfg['sgd_steps']} steps", f"theorem1 sgd n={sn} d={d}",
                           sgd, cfg["sgd_steps"] / s0))
    return out


def _kernel_solve(what: str, n: int, m: int, d: float, dtype: str, k_builds: int = 1) -> list[dict]:
    """solve_kernel + predict: K (2 n^2 d, ``k_builds`` times: the build and the float64 checks), Cholesky, test."""
    return [dense(f"{what}: kernel matrix and checks", k_builds * 2.0 * n * n * d, dtype=dtype),
            dense(f"{what}: Cholesky", n ** 3 / 3, op="cholesky", dtype=dtype),
            dense(f"{what}: test predictions", 2.0 * m * n * d)]


def kernel(cfg: dict, memory: float) -> list[dict]:
    """Per dataset: the exact Gaussian-kernel solve (true and random labels in one), the ridge sweep, the Gabor
    features, the random convolutional features and the linear least-squares sweep (``kernels._run``)."""
    from ..theory import kernel_features

    out = []
    for name in cfg["datasets"]:
        n, m = _sizes(name, cfg["n_train"], cfg["n_test"])
        c, side = runs.IMAGE_SIDES.get(name, (3, 32))
        d = c * side * side
        dtype = "float64" if 8 * n * n < 0.8 * memory else "float32"
        checks = 3 if dtype == "float64" else 6  # refinement: each check recomputes K alpha in float64
        out += _kernel_solve(f"{name} Gaussian kernel, n={n:,}", n, m, d, dtype, checks)
        reuse = 2 * n * n * 8 < 0.5 * memory
        for lam in cfg["ridges"]:
            if lam:
                out += (_kernel_solve(f"{name} ridge {lam:g}", n, m, d, dtype, 2) if not reuse else
                        [dense(f"{name} ridge {lam:g}: Cholesky", n ** 3 / 3, op="cholesky", dtype=dtype),
                         dense(f"{name} ridge {lam:g}: test predictions", 2.0 * m * n * d)])
        if cfg["gabor"] and c == 1:
            import torch

            dg = kernel_features.gabor_features(torch.zeros(1, 1, side, side)).shape[1]
            out += _kernel_solve(f"{name} Gabor features (d={dg:,})", n, m, dg, dtype, checks)
        rf = cfg["random_features"]
        if rf and name in rf["datasets"]:
            F, s, pc = rf["num_filters"], rf["size"], rf["pool_cells"]
            o = (side - s) // rf.get("stride", 1) + 1
            out += [dense(f"{name} {F:,} random conv filters", 2.0 * (n + m) * F * c * s * s * o * o, dtype="float32"),
                    dense(f"{name} random-feature Gram matrices", 2.0 * (n + m) * n * F * pc * pc),
                    dense(f"{name} random features: {1 + len(rf['ridges'])} solves", (1 + len(rf["ridges"])) * n ** 3 / 3,
                          op="cholesky")]
        ns = [k for k in cfg["linear_ns"] if k <= n]
        if ns:
            out += [dense(f"{name} linear least squares, {len(ns)} sizes",
                          svd_flops(max(ns), d) + sum(2 * svd_flops(k, d) for k in ns), op="svd")]
    return out


def minnorm(cfg: dict, memory: float) -> list[dict]:
    """Single-example SGD from zero and from a random start, on the synthetic problem and on the digits
    (``implicit.sgd``), from a few epochs timed at the config's own sizes."""
    import torch

    from ..chapters import ch07_minnorm as implicit

    e0 = 3
    d_img = _pixels(cfg["dataset"], None)

    def run(n, d, cols):
        def fn():
            g = torch.Generator().manual_seed(0)
            X = torch.randn(n, d, generator=g, dtype=torch.float64)
            Y = torch.randn((n, cols) if cols > 1 else (n,), generator=g, dtype=torch.float64)
            implicit.sgd(X, Y, epochs=e0, track=torch.zeros((d, cols) if cols > 1 else (d,), dtype=torch.float64))
        return fn

    return [timed_slice(f"synthetic SGD x2, {cfg['epochs']} epochs", f"minnorm n={cfg['n']} d={cfg['d']}",
                        run(cfg["n"], cfg["d"], 1), 2 * cfg["epochs"] / e0),
            timed_slice(f"digits SGD x2, {cfg['mnist_epochs']} epochs", f"minnorm n={cfg['mnist_n']} d={d_img} c=10",
                        run(cfg["mnist_n"], d_img, 10), 2 * cfg["mnist_epochs"] / e0)]


def memorization(cfg: dict, memory: float) -> list[dict]:
    """One run per p; each epoch also scores every training example (clean vs corrupted)."""
    n, m = _sizes(cfg["dataset"], cfg["n_train"], None)
    return [train(f"{cfg['model']} at p = {', '.join(map(str, cfg['ps']))}", cfg["model"], cfg["dataset"], n,
                  cfg["epochs"], n_eval=2 * n + m, batch_size=cfg["batch_size"], times=len(cfg["ps"]),
                  stops_early=True)]


def double_descent(cfg: dict, memory: float) -> list[dict]:
    """Per feature count and feature seed (numpy, float64, host): the random features, one SVD, the predictions."""
    n, m = _sizes(cfg["dataset"], cfg["n_train"], cfg["n_test"])
    d, k = _pixels(cfg["dataset"]), len(cfg["feature_seeds"])
    feats = sum(2.0 * (n + m) * D * d for D in cfg["features"]) * k
    svd = sum(svd_flops(n, D) for D in cfg["features"]) * k
    pred = sum(2.0 * m * D * min(n, D) for D in cfg["features"]) * k
    return [dense(f"random ReLU features, {len(cfg['features'])} sizes x {k} seeds", feats, on="host"),
            dense("min-norm and ridge fits (SVD)", svd, op="svd", on="host"),
            dense("test predictions", pred, on="host")]


def bounds(cfg: dict, memory: float) -> list[dict]:
    """Per (p, seed): the network, the data-dependent prior's network on half the data, and two PAC-Bayes
    posterior optimizations with their Monte-Carlo error estimates (timed as training / evaluation images)."""
    n, m = _sizes(cfg["dataset"], cfg["n_train"], cfg["n_test"])
    w, ep, bs = cfg["hidden"] / 512, cfg["epochs"], cfg["batch_size"]
    post = 2 * cfg["posterior_steps"] * bs
    mc = cfg["mc_samples"] * ((n + m) + (n - n // 2 + m))
    runs_ = len(cfg["ps"]) * len(cfg["seeds"])
    return [train(f"{runs_} networks (p x seed) and their PAC-Bayes posteriors", "mlp_1x512", cfg["dataset"], n, ep,
                  n_eval=n + m, width=w, batch_size=bs, extra_train=post, extra_eval=mc, times=runs_, stops_early=True),
            train(f"{runs_} data-dependent prior networks", "mlp_1x512", cfg["dataset"], n // 2, ep, n_eval=n // 2 + m,
                  width=w, batch_size=bs, times=runs_, stops_early=True)]


def table2(cfg: dict, memory: float) -> list[dict]:
    """Without ``root`` the chapter shows the reported table only: nothing to compute (with a root the runs are
    declared training runs)."""
    return []


MODELS = {"pac": pac, "rademacher": rademacher, "stability": stability, "theorem1": theorem1, "kernel": kernel,
          "minnorm": minnorm, "memorization": memorization, "double_descent": double_descent, "bounds": bounds,
          "table2": table2}


def items(name: str, cfg: dict, memory: float | None = None) -> list[dict]:
    """The work items of experiment ``name`` at config ``cfg``; ``memory``: bytes of the training device (for
    the kernel experiment's float64 / float32 choice; default: what is free here)."""
    if name not in MODELS:
        raise ValueError(f"no cost model for experiment {name!r}: one of {', '.join(MODELS)} (an experiment made of "
                         "declared training runs is estimated from its runs)")
    if memory is None:
        from ..engine import devices
        from ..theory import kernel_solver

        memory = kernel_solver.free_bytes(devices.resolve("auto"))
    return MODELS[name](cfg, memory)
