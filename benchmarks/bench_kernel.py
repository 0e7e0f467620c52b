"""Benchmark: time and peak memory of the exact kernel solver (rethinking_lib.chapters.ch07_kernel.solve_kernel).

    python benchmarks/bench_kernel.py                 # n = 5,000 on this machine's CPU (real mnist5k digits
                                                      # + noisy copies to reach 5,000: mnist5k has 4,000 train)
    python benchmarks/bench_kernel.py --n 60000       # on CUDA: the paper's MNIST size

Data: real MNIST when it is cached (data.load("mnist")), else the offline mnist5k digits tiled with small
Gaussian pixel noise (sigma 0.05, clipped to [0, 1]) up to n: MNIST-like inputs with the same kernel scale,
and no duplicates. The line printed says which. CPU peak memory is the process's max RSS growth
(resource.getrusage); CUDA peak is torch.cuda.max_memory_allocated.
"""

from __future__ import annotations

import argparse
import resource
import time

import torch

from rethinking_lib.chapters import ch07_kernel as kernels
from rethinking_lib.engine import data, devices


def mnist_like(n: int, device: str, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, str]:
    try:
        ds = data.load("mnist", crop=None)
        if n <= len(ds.y_train):
            return ds.x_train[:n].flatten(1).to(device), ds.y_train[:n].to(device), f"real MNIST, first {n:,}"
    except data.DataUnavailableError:
        pass
    ds = data.load("mnist5k", crop=None, seed=seed)
    x, y = ds.x_train.flatten(1), ds.y_train
    g = torch.Generator().manual_seed(seed)
    reps = -(-n // len(y))
    X = x.repeat(reps, 1)[:n]
    X[len(y):] = (X[len(y):] + 0.05 * torch.randn(X[len(y):].shape, generator=g)).clamp_(0, 1)
    return X.to(device), y.repeat(reps)[:n].to(device), f"mnist5k's {len(y):,} real digits tiled with N(0, 0.05^2) noise to {n:,}"


def bench(n: int, device: str, dtype: str | None, gamma: float = 0.02) -> dict:
    X, y, what = mnist_like(n, device)
    Y = torch.nn.functional.one_hot(y, 10).double()
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t = time.perf_counter()
    sol = kernels.solve_kernel(X, Y, gamma=gamma, dtype=getattr(torch, dtype) if dtype else None,
                               chunk=4096 if device == "cuda" else 1024)
    wall = time.perf_counter() - t
    rss = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) * 1024
    peak = sol.peak_bytes if device == "cuda" else rss
    return {"n": n, "device": devices.name(device), "data": what,
            "dtype": sol.dtype, "seconds": wall, "phases": sol.seconds, "peak_GB": peak / 1e9,
            "K_GB": n * n * (8 if sol.dtype == "float64" else 4) / 1e9, "residual": sol.residual,
            "refinements": len(sol.residual_history) - 1, "train_error": float((sol.fitted.argmax(1) != y).double().mean())}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, nargs="*", default=None, help="sizes (default: 5000 on CPU; plus 60000 on CUDA)")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--dtype", choices=["float32", "float64"], default=None, help="default: auto (float64 if it fits)")
    args = ap.parse_args()
    sizes = args.n or ([5000, 60000] if args.device == "cuda" else [5000])
    for n in sizes:
        r = bench(n, args.device, args.dtype)
        ph = ", ".join(f"{k} {v:.2f}s" for k, v in r["phases"].items())
        print(f"n={r['n']:,} on {r['device']} ({r['data']}): {r['dtype']}, {r['seconds']:.2f} s ({ph}), "
              f"peak memory {r['peak_GB']:.2f} GB (K alone {r['K_GB']:.2f} GB), relative residual {r['residual']:.2e} "
              f"after {r['refinements']} refinement(s), train error {r['train_error']:.4f}", flush=True)


if __name__ == "__main__":
    main()
