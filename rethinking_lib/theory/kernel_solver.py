"""The exact kernel solver of Section 5 (equation (3): solve K alpha = y), written for n = 60,000 on one GPU as
much as for n = 4,000 on a laptop.

- the kernel matrix is built in row chunks from the data, so memory is K plus ``chunk x n`` (never n x n x d);
- K is factored in place (Cholesky), in float64 when n^2 * 8 bytes fit in free memory (28.8 GB at n = 60,000),
  else in float32 (half that), followed by iterative refinement: residuals r = Y - K alpha are computed in
  float64 from a *recomputed* kernel (chunked, not from the factor), and alpha += K32^{-1} r until the relative
  residual is below ``tol``. The reported residual is this independent check.
- ``ridge`` adds lambda I (the l2-regularized variant the paper found not to help).
- ``rkhs_norm``: sqrt(trace(alpha^T K alpha)), the norm of the interpolant (the paper's "~220 on MNIST").
- ``linear_least_squares``: the linear kernel's primal solution (its K has rank <= d).
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field

import torch

from .. import paper
from ..engine import devices
from .finite import finite

KERNELS = ("gaussian", "linear")
GAMMA = paper.KERNEL_GAMMA_DEMO  # the default gamma of exp(-gamma ||x - x'||^2) on pixels / 255


# ----------------------------------------------------------------------------------------------
# kernels, chunked


def _flat(X: torch.Tensor, name: str) -> torch.Tensor:
    if X.ndim < 2:
        raise ValueError(f"{name} must have a batch dimension, got shape {tuple(X.shape)}; pass (n, d) or (n, C, H, W)")
    return finite(name, X.flatten(1))


def kernel_block(A: torch.Tensor, B: torch.Tensor, kernel: str = "gaussian", gamma: float = GAMMA) -> torch.Tensor:
    """k(A, B) for row blocks A (m, d), B (n, d), computed in float64 (distances by expansion, clamped at 0)."""
    A, B = A.double(), B.double()
    if kernel == "linear":
        return A @ B.T
    if kernel == "gaussian":
        sq = (A * A).sum(1)[:, None] + (B * B).sum(1)[None, :] - 2.0 * (A @ B.T)
        return torch.exp(-gamma * sq.clamp_min_(0.0))
    raise ValueError(f"unknown kernel {kernel!r}: choose one of {', '.join(KERNELS)}")


def kernel_matrix(A: torch.Tensor, B: torch.Tensor | None = None, *, kernel: str = "gaussian", gamma: float = GAMMA,
                  dtype: torch.dtype = torch.float64, chunk: int = 2048, out: torch.Tensor | None = None) -> torch.Tensor:
    """The (m, n) kernel matrix, filled ``chunk`` rows at a time (peak extra memory ~ chunk x (n + d))."""
    A = _flat(A, "A")
    B = A if B is None else _flat(B, "B")
    if A.shape[1] != B.shape[1]:
        raise ValueError(f"A has {A.shape[1]} features but B has {B.shape[1]}: both must have the same dimension")
    K = out if out is not None else torch.empty(A.shape[0], B.shape[0], dtype=dtype, device=A.device)
    for i in range(0, A.shape[0], chunk):
        K[i:i + chunk] = kernel_block(A[i:i + chunk], B, kernel, gamma)
    return K


def kernel_matvec(A: torch.Tensor, B: torch.Tensor, alpha: torch.Tensor, *, kernel: str = "gaussian",
                  gamma: float = GAMMA, chunk: int = 2048) -> torch.Tensor:
    """k(A, B) @ alpha in float64 without storing k(A, B): predictions, and the solver's residual check."""
    A, B = _flat(A, "A"), _flat(B, "B")
    alpha = alpha.double()
    return torch.cat([kernel_block(A[i:i + chunk], B, kernel, gamma) @ alpha for i in range(0, A.shape[0], chunk)])


# ----------------------------------------------------------------------------------------------
# the solver


def free_bytes(device: torch.device) -> int:
    """Memory a new tensor could use now: free GPU memory, or available RAM on the CPU."""
    if device.type == "cuda":
        return int(torch.cuda.mem_get_info(device)[0])
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 8 << 30


def choose_dtype(n: int, device: torch.device, chunk: int = 2048, d: int = 0) -> torch.dtype:
    """float64 if an n x n float64 matrix (plus chunk buffers) fits in free memory, else float32; else a clear error."""
    extra = 4 * chunk * (n + d) * 8 + (64 << 20)
    free = free_bytes(device)
    for dt, size in ((torch.float64, 8), (torch.float32, 4)):
        if n * n * size + extra < 0.92 * free:
            return dt
    raise ValueError(f"n={n}: the kernel matrix needs {n * n * 4 / 1e9:.1f} GB even in float32 but only "
                     f"{free / 1e9:.1f} GB is free on {device}; use fewer training points (n_train=)")


@dataclass
class Solution:
    """What a solve returns: coefficients plus everything needed to trust them."""

    alpha: torch.Tensor              # (n, k) float64
    dtype: str                       # the dtype K was stored and factored in
    ridge: float
    residual: float                  # ||Y - (K + ridge I) alpha|| / ||Y||, from an independent float64 K alpha
    residual_history: list[float]    # per refinement step
    rkhs_norm: float                 # sqrt(trace(alpha^T K alpha))
    fitted: torch.Tensor             # K alpha (float64): the interpolant's values on the training points
    seconds: dict = field(default_factory=dict)
    peak_bytes: int | None = None    # CUDA: torch.cuda.max_memory_allocated; CPU: bytes of K (the dominant term)


def _factor_and_solve(M: torch.Tensor, Y: torch.Tensor, Kmv, ridge: float, refine: int, tol: float,
                      seconds: dict) -> tuple[torch.Tensor, list[float], torch.Tensor]:
    """Cholesky of M = K + ridge I *in place*, solve, then refine against the float64 product Kmv(alpha)."""
    t = time.perf_counter()
    info = torch.empty((), dtype=torch.int32, device=M.device)
    try:
        L, info = torch.linalg.cholesky_ex(M, out=(M, info))  # overwrites M: no second n x n buffer
    except RuntimeError:  # a backend that refuses aliased out= : factor into a new buffer (2x memory)
        L, info = torch.linalg.cholesky_ex(M)
    if int(info) > 0:
        raise ValueError(f"the kernel matrix is not positive definite in {str(M.dtype)[6:]} (Cholesky failed at "
                         f"column {int(info)}): the points may contain duplicates or the kernel is rank deficient "
                         "(e.g. linear with d < n); pass ridge > 0, or dtype=torch.float64")
    devices.sync(M.device)
    seconds["factor"] = time.perf_counter() - t
    t = time.perf_counter()
    Y64 = Y.double()
    alpha = torch.cholesky_solve(Y64.to(M.dtype), L).double()
    history = []
    for step in range(refine + 1):
        KA = Kmv(alpha)
        r = Y64 - KA - ridge * alpha
        history.append(float(torch.linalg.norm(r) / torch.linalg.norm(Y64)))
        if history[-1] < tol or step == refine:
            break
        alpha += torch.cholesky_solve(r.to(M.dtype), L).double()  # iterative refinement (float32 factor)
    devices.sync(M.device)
    seconds["solve_and_check"] = time.perf_counter() - t
    return alpha, history, KA


def rkhs_norm(alpha: torch.Tensor, KA: torch.Tensor) -> float:
    """sqrt(trace(alpha^T K alpha)) given alpha and K alpha (any subset of the columns): the interpolant's norm."""
    return math.sqrt(max(0.0, float((alpha * KA).sum())))


def _check_targets(n: int, Y: torch.Tensor) -> torch.Tensor:
    if Y.ndim not in (1, 2) or Y.shape[0] != n:
        raise ValueError(f"Y has shape {tuple(Y.shape)} but there are {n} training points: pass Y as (n,) or (n, k)")
    finite("Y", Y)
    return Y[:, None] if Y.ndim == 1 else Y


def _check_ridge(ridge: float) -> None:
    if not ridge >= 0:
        raise ValueError(f"ridge={ridge} must be >= 0 (0 is exact interpolation)")


def _peak(device, M):
    """Peak GPU memory; on the CPU the size of the kernel matrix, the one allocation that matters."""
    peak = devices.peak_bytes(device)
    return M.numel() * M.element_size() if peak is None else peak


def solve_kernel(X: torch.Tensor, Y: torch.Tensor, *, kernel: str = "gaussian", gamma: float = GAMMA, ridge: float = 0.0,
                 dtype: torch.dtype | None = None, chunk: int = 2048, refine: int = 5, tol: float = 1e-9) -> Solution:
    """Solve (K + ridge I) alpha = Y with K = k(X, X), memory-bounded (module docstring). ``dtype=None``: auto."""
    X = _flat(X, "X")
    Y = _check_targets(X.shape[0], Y.to(X.device))
    _check_ridge(ridge)
    n = X.shape[0]
    dtype = dtype or choose_dtype(n, X.device, chunk, X.shape[1])
    devices.reset_peak(X.device)
    seconds = {}
    t = time.perf_counter()
    M = kernel_matrix(X, kernel=kernel, gamma=gamma, dtype=dtype, chunk=chunk)
    M.diagonal().add_(ridge)
    devices.sync(X.device)
    seconds["kernel_matrix"] = time.perf_counter() - t
    Kmv = lambda a: kernel_matvec(X, X, a, kernel=kernel, gamma=gamma, chunk=chunk)  # noqa: E731
    alpha, hist, KA = _factor_and_solve(M, Y, Kmv, ridge, refine, tol, seconds)
    peak = _peak(X.device, M)
    del M
    return Solution(alpha, str(dtype)[6:], ridge, hist[-1], hist, rkhs_norm(alpha, KA), KA, seconds, peak)


def solve_gram(K: torch.Tensor, Y: torch.Tensor, *, ridge: float = 0.0, refine: int = 2, tol: float = 1e-9) -> Solution:
    """Solve (K + ridge I) alpha = Y for a precomputed Gram matrix (kept intact: a copy is factored)."""
    if K.ndim != 2 or K.shape[0] != K.shape[1]:
        raise ValueError(f"K must be a square (n, n) matrix, got shape {tuple(K.shape)}")
    finite("K", K)
    Y = _check_targets(K.shape[0], Y.to(K.device))
    _check_ridge(ridge)
    devices.reset_peak(K.device)
    seconds = {}
    M = K.clone()
    M.diagonal().add_(ridge)
    alpha, hist, KA = _factor_and_solve(M, Y, lambda a: K.double() @ a, ridge, refine, tol, seconds)
    return Solution(alpha, str(K.dtype)[6:], ridge, hist[-1], hist, rkhs_norm(alpha, KA), KA, seconds,
                    _peak(K.device, M))


def predict(X_train: torch.Tensor, alpha: torch.Tensor, X_new: torch.Tensor, *, kernel: str = "gaussian",
            gamma: float = GAMMA, chunk: int = 2048) -> torch.Tensor:
    """f(x) = sum_i alpha_i k(x, x_i) for each row of X_new (chunked)."""
    return kernel_matvec(X_new, X_train, alpha, kernel=kernel, gamma=gamma, chunk=chunk)


def linear_least_squares(X: torch.Tensor, Y: torch.Tensor, *, ridge: float = 0.0, rcond: float = 1e-10) -> torch.Tensor:
    """The primal solution for the linear kernel: min-norm least squares (ridge = 0) or ridge regression.

    With d < n the linear kernel matrix X X^T has rank <= d, so K alpha = Y has no exact solution: this is
    the least-squares fit (which interpolates only while n <= rank X). Computed from the eigendecomposition of
    the smaller Gram matrix (X^T X if n >= d, else X X^T), eigenvalues below ``rcond`` x the largest dropped.
    """
    X = _flat(X, "X").double()
    Y = _check_targets(X.shape[0], Y.to(X.device)).double()
    _check_ridge(ridge)
    primal = X.shape[0] >= X.shape[1]
    ev, V = torch.linalg.eigh(X.T @ X if primal else X @ X.T)
    keep = ev > rcond * ev.max()
    inv = torch.where(keep, 1.0 / (ev.clamp_min(0) + ridge), torch.zeros_like(ev))
    if primal:  # w = (X^T X + ridge)^+ X^T Y
        return V @ (inv[:, None] * (V.T @ (X.T @ Y)))
    return X.T @ (V @ (inv[:, None] * (V.T @ Y)))  # w = X^T (X X^T + ridge)^+ Y
