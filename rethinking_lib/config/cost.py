"""How an experiment's cost is declared when it is not (only) a list of declared training runs.

The plan (``planning.plan``) estimates a declared training run from a few measured steps. An experiment that
does its own computation (the theory chapters, kernels, Theorem 1, ...) declares a *cost model* beside it in
its chapter module (``Experiment(cost=...)``): a function ``cost(cfg, memory)`` of the experiment's config and
the training device's memory in bytes that lists its work as *items* of three kinds, built with this module:

``train``  images through one model's training step, and images through its evaluation pass (a run-like spec
           names the model, width, input shape, batch size and precision): timed like a declared run, from 3
           measured steps (``planning.estimate.measured_rates``), or from ``planning.estimate.CALIBRATION`` for
           a GPU that is not here;
``dense``  floating-point operations of dense linear algebra (matmul, Cholesky, SVD) in a dtype, on the
           training device or on the host CPU: the rate is measured here by timing one operation of that kind
           at size 512 (``dense_rate``), or taken from the calibration for a GPU that is not here;
``slice``  a small slice of the experiment's own code (e.g. 2,000 steps of the logistic-regression SGD loop),
           timed here once per process, scaled by how many such slices the config needs. Slices run host code
           (numpy / torch on the CPU), which runs on the host CPU in every profile.

Training items count every epoch of a run that may stop early at 100% training accuracy, so their estimate is
an upper bound. The numbers an item counts are the experiment's own loops, written out in its cost model.
This module knows no experiment (it imports no chapter).

    >>> from rethinking_lib import experiments
    >>> experiments.get("kernel").cost(experiments.get("kernel").config("quick"), 15e9)
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


# --- helpers for the cost models ---------------------------------------------------------------------------

def sizes(dataset: str, n_train, n_test) -> tuple[int, int]:
    """(training, test) images a config with these settings uses (None: the whole split)."""
    full_n, full_m = runs.DATA_SIZES.get(dataset, (50_000, 10_000))
    return min(n_train or full_n, full_n), min(n_test or full_m, full_m)


def pixels(dataset: str, crop: str | None = "paper") -> int:
    """Input values per image of ``dataset`` after ``crop`` (channels x side x side)."""
    c, side = runs.input_shape({"dataset": dataset, "crop": crop})
    return c * side * side
