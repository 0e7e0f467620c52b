"""The neural tangent kernel of a wide two-layer ReLU network, and what it predicts before training.

Arora, Du, Hu, Li & Wang (ICML 2019) and Du, Zhai, Poczos & Singh (ICLR 2019) study
``f(x) = (1/sqrt(N)) sum_r a_r relu(w_r . x)`` with the second layer ``a_r = +-1`` fixed, the first layer
``w_r ~ N(0, kappa^2 I)`` trained by full-batch gradient descent on ``0.5 ||y - u||^2``. For unit-norm inputs the
Gram matrix of the gradients at infinite width has the closed form

    H_ij = x_i . x_j (pi - arccos(x_i . x_j)) / (2 pi)                                   (``h_infinity``)

and, while the width is large, the residual after t steps of step size eta follows the linear recursion
``y - u(t) = (I - eta H)^t (y - u(0))``, so ``||y - u(t)||^2 = sum_i (1 - eta mu_i)^(2t) (v_i . y)^2`` for
``u(0) ~ 0`` (``predicted_residual``). Their generalization bound is of order ``sqrt(2 y^T H^-1 y / n)``
(``complexity``). Everything here is float64 (numpy, or torch on a ``device`` when one is given): the eigenvalues
that matter for random labels are small, and float32 would lose them. ``solve`` is a Cholesky solve that names the
duplicate rows when H is numerically singular.
"""

from __future__ import annotations

import numpy as np

from .finite import finite


def unit_rows(x: np.ndarray) -> np.ndarray:
    """The rows of ``x`` (n x d) scaled to unit Euclidean norm, as the closed form assumes."""
    x = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    if np.any(norms == 0):
        raise ValueError(f"rows {np.flatnonzero(norms[:, 0] == 0).tolist()} are zero: they have no direction")
    return x / norms


def h_infinity(x: np.ndarray, z: np.ndarray | None = None, device=None) -> np.ndarray:
    """H-infinity between the unit-norm rows of ``x`` and of ``z`` (default ``x``): x.z (pi - arccos(x.z)) / (2 pi).
    In float64, through torch on ``device`` when one is given (at the paper profile the n x n x d product is the
    cost), else numpy."""
    finite("x", x)
    if z is not None:
        finite("z", z)
    if device is not None:
        import torch

        xt = torch.as_tensor(np.asarray(x), dtype=torch.float64, device=device)
        zt = xt if z is None else torch.as_tensor(np.asarray(z), dtype=torch.float64, device=device)
        g = (xt @ zt.T).clamp(-1.0, 1.0)
        return (g * (torch.pi - torch.arccos(g)) / (2 * torch.pi)).cpu().numpy()
    x = np.asarray(x, dtype=np.float64)
    z = x if z is None else np.asarray(z, dtype=np.float64)
    g = np.clip(x @ z.T, -1.0, 1.0)
    return g * (np.pi - np.arccos(g)) / (2 * np.pi)


def h_monte_carlo(x: np.ndarray, m: int, seed: int = 0) -> np.ndarray:
    """The finite-width Gram matrix (x_i.x_j / m) sum_r 1[w_r.x_i >= 0] 1[w_r.x_j >= 0] for m Gaussian w_r."""
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((m, x.shape[1]))
    act = (x @ w.T >= 0).astype(np.float64)
    return (x @ x.T) * (act @ act.T) / m


class SingularKernel(ValueError):
    """H-infinity is numerically singular: two inputs (nearly) coincide, or a row is repeated."""


def duplicate_rows(x: np.ndarray, tol: float = 1e-10) -> list[tuple[int, int]]:
    """Pairs (i, j), i < j, of unit rows of ``x`` within ``tol`` of each other (they make H singular)."""
    g = x @ x.T
    i, j = np.nonzero(np.triu(g >= 1.0 - tol, k=1))
    return list(zip(i.tolist(), j.tolist(), strict=True))


def cholesky(h: np.ndarray, x: np.ndarray | None = None, device=None) -> np.ndarray:
    """The lower Cholesky factor of H (float64; on ``device`` through torch when one is given); a
    :class:`SingularKernel` naming the duplicate rows when there is none."""
    finite("h", h)
    if device is not None:
        import torch

        low, info = torch.linalg.cholesky_ex(torch.as_tensor(np.asarray(h), dtype=torch.float64, device=device))
        low = low.cpu().numpy() if int(info) == 0 else None
    else:
        try:
            low = np.linalg.cholesky(np.asarray(h, dtype=np.float64))
        except np.linalg.LinAlgError:
            low = None
    # a pivot below 1e-10 of H's largest diagonal entry is round-off: H is singular to float64 working accuracy
    if low is not None and np.min(np.diag(low)) ** 2 > 1e-10 * np.max(np.diag(h)):
        return low
    dups = duplicate_rows(x) if x is not None else []
    named = f"; duplicate input rows (i, j): {dups[:10]}" if dups else ""
    raise SingularKernel(f"H-infinity ({len(h)} x {len(h)}) is numerically singular{named}. "
                         "Remove repeated inputs (H is positive definite when no two inputs are parallel).")


def solve(h: np.ndarray, y: np.ndarray, x: np.ndarray | None = None, device=None, low: np.ndarray | None = None
          ) -> np.ndarray:
    """H^-1 y by Cholesky in float64 (``y`` a vector or an n x k matrix of label columns); ``low``: H's factor
    (``cholesky``) when it is already at hand, e.g. for many labelings of the same inputs."""
    from scipy.linalg import solve_triangular

    finite("y", y)
    low = cholesky(h, x, device) if low is None else low
    return solve_triangular(low.T, solve_triangular(low, np.asarray(y, dtype=np.float64), lower=True), lower=False)


def complexity(h: np.ndarray, y: np.ndarray, x: np.ndarray | None = None, device=None,
               low: np.ndarray | None = None) -> float:
    """sqrt(2 y^T H^-1 y / n); for a label matrix (one column per class) the quadratic forms are summed."""
    y = np.asarray(y, dtype=np.float64)
    return float(np.sqrt(2.0 * np.sum(y * solve(h, y, x, device, low)) / len(y)))


def bound(complexity_value: float, n: int, delta: float = 0.05) -> float:
    """The data-dependent part of Arora et al.'s (2019) generalization bound for a 1-Lipschitz loss bounded by 1:
    complexity + sqrt(log(n / (lambda_0 delta)) / (2n)) is theirs; we keep the complexity and the confidence term
    sqrt(log(2 / delta) / (2n)) (the log(n / lambda_0) inside it is of the same order here): a population loss
    bound, not a 0-1 error bound below 1."""
    return float(complexity_value + np.sqrt(np.log(2.0 / delta) / (2.0 * n)))


def spectrum(h: np.ndarray, device=None) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (descending) and their eigenvectors (columns) of the symmetric H, in float64 (on ``device``
    through torch when one is given: at the paper profile's n the eigendecomposition is the expensive step)."""
    finite("h", h)
    if device is not None:
        import torch

        lam, v = (t.cpu().numpy() for t in torch.linalg.eigh(torch.as_tensor(np.asarray(h), dtype=torch.float64,
                                                                                  device=device)))
    else:
        lam, v = np.linalg.eigh(np.asarray(h, dtype=np.float64))
    return lam[::-1].copy(), v[:, ::-1].copy()


def projections(v: np.ndarray, y: np.ndarray) -> np.ndarray:
    """(v_i . y)^2 / ||y||^2 for each eigenvector v_i: where the labels' energy sits in the spectrum."""
    y = np.asarray(y, dtype=np.float64)
    return (v.T @ y) ** 2 / float(y @ y)


def top_energy(v: np.ndarray, y: np.ndarray, fraction: float = 0.1) -> float:
    """The fraction of ||y||^2 on the top ``fraction`` of the eigenvectors."""
    k = max(1, int(round(fraction * v.shape[1])))
    return float(projections(v, y)[:k].sum())


def predicted_residual(lam: np.ndarray, v: np.ndarray, y: np.ndarray, eta: float, steps: np.ndarray,
                       u0: np.ndarray | None = None) -> np.ndarray:
    """||y - u(t)||^2 = sum_i (1 - eta mu_i)^(2t) (v_i . (y - u0))^2 for each step t in ``steps`` (mu_i: H's eigenvalues)."""
    r0 = np.asarray(y, dtype=np.float64) - (0.0 if u0 is None else np.asarray(u0, dtype=np.float64))
    proj = (v.T @ r0) ** 2
    decay = np.abs(1.0 - eta * lam)[None, :] ** (2.0 * np.asarray(steps, dtype=np.float64)[:, None])
    return decay @ proj


def first_below(curve, threshold: float) -> int | None:
    """The first step at which ``curve`` is at most ``threshold`` (None: never, within the budget)."""
    hit = np.flatnonzero(np.asarray(curve) <= threshold)
    return int(hit[0]) if len(hit) else None
