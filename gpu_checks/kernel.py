"""GPU check of the exact kernel solver at the paper's MNIST size: n = 60,000, d = 784.

Run on a CUDA machine from the repo root: ``python gpu_checks/kernel.py`` (< 60 s on an H100; no network needed).
Data: real MNIST if cached, else the offline mnist5k digits tiled with N(0, 0.05^2) pixel noise to 60,000
(MNIST-like, no duplicates). Solves K alpha = Y (Gaussian kernel exp(-0.02 ||x - x'||^2), one-hot Y) twice:
float64 Cholesky (K = 28.8 GB) and float32 Cholesky + iterative refinement (K = 14.4 GB). Prints time, peak
memory and the independent float64 residual; exits non-zero if a residual exceeds 1e-6 or the fit is not exact.
"""

import sys
import time

import torch

from rethinking_lib.chapters import ch07_kernel as kernels
from rethinking_lib.engine import data

assert torch.cuda.is_available(), "needs a CUDA GPU"
dev = "cuda"
print("device:", torch.cuda.get_device_name(0), "torch", torch.__version__, flush=True)
n = 60_000
try:
    ds = data.load("mnist", crop=None)
    X, y, what = ds.x_train[:n].flatten(1), ds.y_train[:n], "real MNIST"
except data.DataUnavailableError:
    ds = data.load("mnist5k", crop=None)
    g = torch.Generator().manual_seed(0)
    reps = -(-n // len(ds.y_train))
    X = ds.x_train.flatten(1).repeat(reps, 1)[:n]
    X[4000:] = (X[4000:] + 0.05 * torch.randn(X[4000:].shape, generator=g)).clamp_(0, 1)
    y, what = ds.y_train.repeat(reps)[:n], "mnist5k tiled with noise"
X, y = X.to(dev), y.to(dev)
Y = torch.nn.functional.one_hot(y, 10).double()
ok = True
for dtype in (torch.float64, torch.float32):
    torch.cuda.empty_cache()
    t = time.perf_counter()
    try:
        sol = kernels.solve_kernel(X, Y, gamma=0.02, dtype=dtype, chunk=4096, refine=8, tol=1e-9)
    except (ValueError, torch.OutOfMemoryError) as e:
        print(f"n={n} {dtype}: FAILED {type(e).__name__}: {str(e)[:200]}", flush=True)
        ok = False
        continue
    wall = time.perf_counter() - t
    train_err = float((sol.fitted.argmax(1) != y).double().mean())
    ph = ", ".join(f"{k} {v:.2f}s" for k, v in sol.seconds.items())
    print(f"n={n} ({what}) {sol.dtype}: {wall:.2f} s ({ph}); peak {sol.peak_bytes / 1e9:.1f} GB; residual history "
          f"{[f'{r:.1e}' for r in sol.residual_history]}; train error {train_err}; RKHS norm {sol.rkhs_norm:.1f}", flush=True)
    ok &= sol.residual < 1e-6 and train_err == 0.0
    del sol
print("OK" if ok else "FAILED")
sys.exit(0 if ok else 1)
