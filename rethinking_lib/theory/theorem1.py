"""Theorem 1 (Section 4 of the paper): a two-layer ReLU network with 2n + d weights fits any n points.

The proof is constructive, and this module is that construction, step by step::

    c(x) = sum_j w_j * max(<a, x> - b_j, 0)          a in R^d, b in R^n, w in R^n: 2n + d weights

1. ``project``: pick a (random Gaussian) so the projections z_i = <a, x_i> are pairwise distinct.
2. ``thresholds``: sort the z and interleave b_1 < z_(1) < b_2 < z_(2) < ... < b_n < z_(n) (b_j sits a
   fraction ``FRAC`` = 0.01 of the way into the gap below z_(j), just above z_(j-1); the gap below z_(1) is one
   mean gap wide). Any fraction in (0, 1) proves the theorem; ``conditioning`` compares 0.01 with the midpoint.
3. ``relu_matrix``: A_ij = max(z_(i) - b_j, 0) is lower triangular with a positive diagonal (b_j < z_(i) iff j <= i).
4. ``construct``: solve A w = y by forward substitution (``torch.linalg.solve_triangular``).

Targets: a real vector y (n,) gives the theorem's scalar net with exactly 2n + d weights. Class labels are
represented as the real number "class index"; the prediction is ``round(c(x))`` (the count stays 2n + d).
A target matrix y (n, k), e.g. one-hot, is also accepted: w becomes n x k (d + n + nk weights), the same
a and b serve every output.

Numerical honesty (``conditioning``): the gaps between sorted projections shrink like 1/n (the smallest
one like 1/n^2), the slopes w_j ~ (y_j - y_j-1) / gap grow accordingly, and c(x_i) is a sum of large
terms that cancel, so the fit error grows with n, much faster in float32 than in float64.

``train_same_architecture`` trains the same 2n + d-weight architecture by Adam from a random start: what
gradient descent finds, beside what the construction shows the architecture can represent.

``DeepNet`` is the depth-k, width n/k + 3 variant the paper mentions, built exactly from the same a, b, w:
each layer adds one block of n/k threshold units to a running sum, and passes z and the sum on with
ReLUs (z - z_min >= 0 passes through unchanged; a sum s passes as relu(s) and relu(-s)).
"""

from __future__ import annotations

import math
import time

import torch
from torch import nn

from .finite import finite

FRAC = 0.01  # where b_j sits inside the gap below z_(j) (see ``thresholds``)


# ----------------------------------------------------------------------------------------------
# the construction


def _check(X: torch.Tensor, y: torch.Tensor | None = None) -> None:
    if X.ndim != 2:
        raise ValueError(f"X must be a 2-D (n, d) tensor, got shape {tuple(X.shape)}; flatten images with X.flatten(1)")
    if X.shape[0] < 1:
        raise ValueError("X has no rows: pass at least one point")
    if y is not None and (y.ndim not in (1, 2) or y.shape[0] != X.shape[0]):
        raise ValueError(f"y has shape {tuple(y.shape)} but X has {X.shape[0]} rows: pass y as (n,) or (n, k) "
                         f"with n = {X.shape[0]}")
    finite("X", X)
    if y is not None:
        finite("y", y)


def project(X: torch.Tensor, *, seed: int = 0, a: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Step 1: a direction ``a`` (standard Gaussian, seeded, unless given) and z = X a, checked distinct.

    Distinct points give distinct projections with probability 1 for a Gaussian a, but in floating point
    "distinct" needs a margin. Before anything is solved, :func:`check_distinct` refuses, naming the rows,
    (1) duplicate points, exact or equal up to rounding (no function maps one point to two labels, and
    their projections may differ only by rounding, which would let the construction "fit" both with huge
    weights), and (2) distinct points whose projections nearly coincide (within a few units of rounding
    of |z|): their order along a is then noise; another seed (or a) separates them.
    """
    _check(X)
    if a is None:
        g = torch.Generator().manual_seed(seed)
        a = torch.randn(X.shape[1], generator=g, dtype=torch.float64).to(X.device, X.dtype)
    elif a.shape != (X.shape[1],):
        raise ValueError(f"a has shape {tuple(a.shape)}; it must be ({X.shape[1]},), one weight per input dimension")
    z = X @ a
    check_distinct(X, a, z)
    return a, z


DUP_RTOL = 1e-6  # rows closer than this (relative to the larger row norm) are "equal up to rounding"
TIE_ULPS = 4     # projections closer than TIE_ULPS * eps(dtype) * max|z| are "tied"


def _pairs(rows: list[tuple[int, int]]) -> str:
    shown = ", ".join(f"{i} and {j}" for i, j in rows[:3])
    more = len(rows) - 3
    return shown + (f" (and {more} more pair{'s' if more > 1 else ''})" if more > 0 else "")


def check_distinct(X: torch.Tensor, a: torch.Tensor, z: torch.Tensor) -> None:
    """Refuse duplicate rows (exact or up to ``DUP_RTOL``) and near-tied projections, naming the rows.

    Only pairs whose projections are close can be near-duplicates (|<a, x_i - x_j>| <= |a| |x_i - x_j|),
    so the rows are compared only within those windows of the sorted projections: O(n log n) for data
    without duplicates.
    """
    if len(z) < 2:
        return
    order = torch.argsort(z)
    zs = z[order]
    scale = float(zs.abs().max())
    tie = TIE_ULPS * torch.finfo(z.dtype).eps * scale
    row_norm = float(X.norm(dim=1).max())
    window = DUP_RTOL * float(a.norm()) * row_norm + tie
    ends = torch.searchsorted(zs, zs + window, right=True)
    dups, near_dups = [], []
    for i in torch.nonzero(ends - torch.arange(1, len(zs) + 1, device=zs.device) > 0).flatten().tolist():
        i0 = int(order[i])
        js = order[i + 1:int(ends[i])]
        dist = (X[js] - X[i0]).norm(dim=1)
        big = torch.maximum(X[js].norm(dim=1), X[i0].norm()).clamp_min(torch.finfo(X.dtype).tiny)
        for j, dj, bj in zip(js.tolist(), dist.tolist(), big.tolist(), strict=True):
            if dj == 0:
                dups.append(tuple(sorted((i0, j))))
            elif dj <= DUP_RTOL * bj:
                near_dups.append(tuple(sorted((i0, j))))
    if dups or near_dups:
        what = []
        if dups:
            what.append(f"rows {_pairs(sorted(dups))} are identical")
        if near_dups:
            what.append(f"rows {_pairs(sorted(near_dups))} are equal up to rounding "
                        f"(relative distance <= {DUP_RTOL:g})")
        raise ValueError(f"X has duplicate points: {'; '.join(what)}. Theorem 1 needs n distinct points: remove the "
                         "duplicates (a function cannot map one point to two labels)")
    gaps = zs[1:] - zs[:-1]
    tied = torch.nonzero(gaps <= tie).flatten().tolist()
    if tied:
        rows = [tuple(sorted((int(order[k]), int(order[k + 1])))) for k in tied]
        raise ValueError(f"the projections <a, x_i> of rows {_pairs(rows)} nearly coincide (gap <= {tie:.2g}, "
                         f"{TIE_ULPS} units of rounding of max|z| in {str(z.dtype)[6:]}): pass another seed (or a)"
                         + (", or use dtype=torch.float64" if z.dtype != torch.float64 else ""))


def thresholds(z_sorted: torch.Tensor, frac: float = FRAC) -> torch.Tensor:
    """Step 2: b_1 < z_(1) < b_2 < ... < b_n < z_(n), with b_j = z_(j-1) + frac * (z_(j) - z_(j-1)).

    Any 0 < frac < 1 satisfies the theorem. Numerically a small frac is much better than the midpoint
    (frac = 0.5): c is then almost the piecewise-linear interpolant of the data, each slope is about
    (y_j - y_j-1) / gap_j, whereas with midpoints consecutive slopes must alternate, s_j = 2 dy_j / gap_j - s_j-1,
    and their errors pile up (measured in ``conditioning``). b_1 sits one mean gap below z_(1).
    """
    if not 0 < frac < 1:
        raise ValueError(f"frac={frac} must be strictly between 0 and 1 so that b_j < z_(j) < b_j+1")
    gaps = z_sorted[1:] - z_sorted[:-1]
    first_gap = gaps.mean() if len(gaps) else torch.ones((), dtype=z_sorted.dtype, device=z_sorted.device)
    below = torch.cat([(z_sorted[:1] - first_gap), z_sorted[:-1]])
    return below + frac * (z_sorted - below)


def relu_matrix(z: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Step 3: A_ij = max(z_i - b_j, 0); lower triangular with positive diagonal when z is sorted."""
    return torch.relu(z[:, None] - b[None, :])


class TwoLayerNet(nn.Module):
    """c(x) = relu(x a - b) w: exactly d + n + n*k weights (2n + d for scalar targets), no biases elsewhere."""

    def __init__(self, a: torch.Tensor, b: torch.Tensor, w: torch.Tensor):
        super().__init__()
        self.a, self.b, self.w = nn.Parameter(a), nn.Parameter(b), nn.Parameter(w)

    def forward(self, x: torch.Tensor, chunk: int = 4096) -> torch.Tensor:
        x = x.flatten(1).to(self.a.dtype)
        z = x @ self.a
        # chunked so an (m, n) hidden layer never needs m*n memory at once
        return torch.cat([torch.relu(zc[:, None] - self.b) @ self.w for zc in z.split(chunk)])

    def predict_class(self, x: torch.Tensor) -> torch.Tensor:
        """Class labels were fitted as real numbers: the prediction is the nearest integer."""
        return self.forward(x).round().long()


# c(X[i]) must match y[i] to within FIT_RTOL[dtype] * max(1, max|y|) (far below the 0.5 that rounding to a class
# label needs); a larger error is a FitError, never a silently wrong network
FIT_RTOL = {torch.float64: 1e-5, torch.float32: 1e-2}


class FitError(ValueError):
    """The constructed net misses its own data by more than the tolerance (a one-line error, like ValueError)."""

    def __init__(self, message: str, max_error: float, tol: float):
        super().__init__(message)
        self.max_error, self.tol = max_error, tol


def fit_tolerance(y: torch.Tensor, dtype: torch.dtype) -> float:
    """The largest accepted max |c(x_i) - y_i|: ``FIT_RTOL[dtype]`` times the targets' scale (at least 1)."""
    return FIT_RTOL.get(dtype, 1e-5) * max(1.0, float(y.abs().max()) if y.numel() else 1.0)


def construct(X: torch.Tensor, y: torch.Tensor, *, seed: int = 0, dtype: torch.dtype = torch.float64,
              a: torch.Tensor | None = None, frac: float = FRAC, verify: bool = True,
              tol: float | None = None) -> TwoLayerNet:
    """Steps 1-4: the network of Theorem 1 with ``c(X[i]) == y[i]`` (up to rounding in ``dtype``).

    ``y`` is (n,) real targets or class indices (2n + d weights) or (n, k) (w becomes n x k).
    Duplicate or near-tied points are refused before solving (:func:`check_distinct`). After solving, the
    net is evaluated on X and a max error above ``tol`` (default :func:`fit_tolerance`) raises
    :class:`FitError` naming the worst row; ``verify=False`` skips that check, for measuring how far
    floating point drifts (``fit_report``), never for using the net.
    """
    X = torch.as_tensor(X)
    y = torch.as_tensor(y)
    _check(X.flatten(1) if X.ndim > 2 else X, y)
    X = X.flatten(1).to(dtype)
    a, z = project(X, seed=seed, a=None if a is None else a.to(X.device, dtype))
    order = torch.argsort(z)
    zs = z[order]
    b = thresholds(zs, frac)
    A = relu_matrix(zs, b)
    rhs = y.to(X.device, dtype)[order]
    w = torch.linalg.solve_triangular(A, rhs[:, None] if rhs.ndim == 1 else rhs, upper=False)
    net = TwoLayerNet(a, b, w[:, 0] if y.ndim == 1 else w)
    if verify:
        tol = fit_tolerance(y, dtype) if tol is None else tol
        with torch.no_grad():
            err = (net(X) - y.to(X.device, dtype)).abs()
            err = err if err.ndim == 1 else err.max(1).values
        worst = int(err.argmax())
        if not float(err[worst]) <= tol:  # also catches NaN
            raise FitError(f"the constructed net misses row {worst} by {float(err[worst]):.3g} (tolerance {tol:.3g}, "
                           f"n = {len(err)}, {str(dtype)[6:]}): rounding broke the exact fit; use dtype=torch.float64, "
                           "fewer points, or a larger tol", float(err[worst]), tol)
    return net


def num_params(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


# ----------------------------------------------------------------------------------------------
# the depth-k variant


class DeepNet(nn.Module):
    """Depth k+1, width n/k + 3: the same function as a :class:`TwoLayerNet` on its data, built exactly.

    Layer 1 maps x to [relu(z - b_j) for block 1, relu(z - m), 0, 0] with z = <a, x> and m a floor below
    every threshold; layer l (2..k) reads (z - m) back from its carry unit, computes its block's threshold
    units, and carries relu(+-running sum). The last linear layer adds the final block to the sum.
    """

    def __init__(self, net: TwoLayerNet, k: int):
        super().__init__()
        n = net.b.numel()
        if not 1 <= k <= n:
            raise ValueError(f"k={k} must be between 1 and n={n} (the number of threshold units)")
        a, b, w = net.a.detach(), net.b.detach(), net.w.detach()
        w = w[:, None] if w.ndim == 1 else w
        self.scalar = net.w.ndim == 1
        dt, m = a.dtype, b.min() - 1.0
        blocks = [idx.tolist() for idx in torch.arange(n).chunk(k)]
        outs = w.shape[1]
        layers = []
        prev_width, prev_nb, prev_w = a.numel(), 0, w[:0]
        for li, blk in enumerate(blocks):
            nb = len(blk)
            width = nb + 1 + 2 * outs
            W = torch.zeros(width, prev_width, dtype=dt)
            B = torch.zeros(width, dtype=dt)
            if li == 0:  # from x: z = <a, x>
                W[:nb + 1] = a
                B[:nb], B[nb] = -b[blk], -m
            else:  # from the previous hidden layer: z - m is its carry unit, +-sum its last 2*outs units
                c = prev_nb
                W[:nb + 1, c] = 1.0
                B[:nb], B[nb] = m - b[blk], 0.0
                # running sum = previous sum (pos - neg) + previous block's threshold units @ w
                s_prev = _sum_rows(prev_nb, outs, prev_w)
                W[nb + 1:nb + 1 + outs] = s_prev
                W[nb + 1 + outs:] = -s_prev
            lin = nn.Linear(prev_width, width, dtype=dt)
            lin.weight.data.copy_(W)
            lin.bias.data.copy_(B)
            layers += [lin, nn.ReLU()]
            prev_width, prev_nb, prev_w = width, nb, w[blk]
        head = nn.Linear(prev_width, outs, dtype=dt)
        head.weight.data.copy_(_sum_rows(prev_nb, outs, prev_w))
        head.bias.data.zero_()
        layers.append(head)
        self.layers = nn.Sequential(*layers)
        self.depth, self.width = k + 1, max(len(blk) for blk in blocks) + 1 + 2 * outs

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.layers(x.flatten(1).to(self.layers[0].weight.dtype))
        return out[:, 0] if self.scalar else out


def _sum_rows(nb: int, outs: int, w_blk: torch.Tensor) -> torch.Tensor:
    """Rows (outs, nb + 1 + 2*outs) reading a hidden layer [block units, carry z, +sum, -sum] into sum + block @ w."""
    R = torch.zeros(outs, nb + 1 + 2 * outs, dtype=w_blk.dtype)
    R[:, :nb] = w_blk.T
    R[:, nb + 1:nb + 1 + outs] = torch.eye(outs, dtype=w_blk.dtype)
    R[:, nb + 1 + outs:] = -torch.eye(outs, dtype=w_blk.dtype)
    return R


# ----------------------------------------------------------------------------------------------
# numerical honesty


def fit_report(X: torch.Tensor, y: torch.Tensor, *, dtype=torch.float64, seed: int = 0, frac: float = FRAC) -> dict:
    """Build the net in ``dtype`` and measure what it does on its own data.

    This is the one place that builds without the fit check, because measuring the drift is its job: the
    row says ``fits`` (max error within :func:`fit_tolerance`) and, when it does not, ``failure`` says why.
    A net that cannot be built at all (duplicates, tied projections) has ``max_fit_error`` None.
    """
    t0 = time.perf_counter()
    base = {"n": int(X.shape[0]), "d": int(X.flatten(1).shape[1]), "dtype": str(dtype).replace("torch.", ""), "frac": frac}
    try:
        net = construct(X, y, seed=seed, dtype=dtype, frac=frac, verify=False)
    except ValueError as e:  # e.g. float32 projections of n = 3,000 points tie: record it, do not hide it
        return dict(base, params=None, max_fit_error=None, fits=False, failure=str(e))
    build_s = time.perf_counter() - t0
    with torch.no_grad():
        out = net(X.flatten(1))
        err = (out - y.to(out.dtype)).abs()
        zs = torch.sort(X.flatten(1).to(dtype) @ net.a).values
        gaps = zs[1:] - zs[:-1]
        rng = float(zs[-1] - zs[0])
    tol = fit_tolerance(y, dtype)
    max_err = float(err.max())
    rep = {
        **base, "params": num_params(net), "max_fit_error": max_err, "mean_fit_error": float(err.mean()),
        "tol": tol, "fits": max_err <= tol,
        "max_abs_w": float(net.w.detach().abs().max()),
        "min_gap_rel": float(gaps.min()) / rng if len(gaps) else None,
        "mean_gap_rel": float(gaps.mean()) / rng if len(gaps) else None,
        "build_s": build_s,
    }
    if not rep["fits"]:
        rep["failure"] = f"max fit error {max_err:.3g} above the tolerance {tol:.3g}: not an exact fit"
    if not torch.is_floating_point(y) or bool((y == y.round()).all()):
        rep["labels_recovered"] = float((out.round() == y.to(out.dtype)).double().mean())
    return rep


def conditioning(ns, *, d: int = 50, dtypes=("float32", "float64"), seed: int = 0, num_classes: int = 10,
                 fracs=(FRAC,)) -> list[dict]:
    """Fit error, |w| and gaps vs n on Gaussian data with random class labels, per dtype (and threshold placement)."""
    rows = []
    for n in ns:
        g = torch.Generator().manual_seed(seed + n)
        X = torch.randn(n, d, generator=g, dtype=torch.float64)
        y = torch.randint(0, num_classes, (n,), generator=g).double()
        for dt in dtypes:
            for frac in fracs:
                rows.append(fit_report(X, y, dtype=getattr(torch, dt), seed=seed, frac=frac))
    return rows


def train_same_architecture(X: torch.Tensor, y: torch.Tensor, *, steps: int = 2000, lr: float = 1e-2,
                            seed: int = 0) -> dict:
    """"Can represent" vs "finds": the same 2n + d-weight architecture, randomly initialized and trained by
    gradient descent (Adam, full batch, squared loss on the label-as-number targets). Returns the fraction of
    labels recovered by rounding (and the loss) along the way, for comparison with the constructed net's 100%.
    """
    X = X.flatten(1).double()
    n, d = X.shape
    g = torch.Generator().manual_seed(seed)
    z = X @ torch.randn(d, generator=g, dtype=torch.float64)
    scale = float(z.std())
    # init: a random direction, thresholds spread over the projections' range, small output weights
    net = TwoLayerNet(torch.randn(d, generator=g, dtype=torch.float64) / scale,
                      torch.randn(n, generator=g, dtype=torch.float64),
                      torch.randn(n, generator=g, dtype=torch.float64) / math.sqrt(n))
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    y = y.double()
    hist = {"step": [], "loss": [], "recovered": []}
    for step in range(steps + 1):
        out = net(X)
        loss = ((out - y) ** 2).mean()
        if step % max(1, steps // 40) == 0 or step == steps:
            hist["step"].append(step)
            hist["loss"].append(float(loss.detach()))
            hist["recovered"].append(float((out.detach().round() == y).double().mean()))
        if step < steps:
            opt.zero_grad()
            loss.backward()
            opt.step()
    return {"n": n, "d": d, "params": num_params(net), "steps": steps, "lr": lr, "history": hist,
            "final_recovered": hist["recovered"][-1], "final_loss": hist["loss"][-1]}
