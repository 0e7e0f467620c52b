"""Theorem 1 (Section 4 of the paper): a two-layer ReLU network with 2n + d weights fits any n points.

The proof is constructive, and this module is that construction, step by step::

    c(x) = sum_j w_j * max(<a, x> - b_j, 0)          a in R^d, b in R^n, w in R^n: 2n + d weights

1. ``project``: pick a (random Gaussian) so the projections z_i = <a, x_i> are pairwise distinct.
2. ``thresholds``: sort the z and interleave b_1 < z_(1) < b_2 < z_(2) < ... < b_n < z_(n) (b_j is the
   midpoint of the gap below z_(j); b_1 sits one mean gap below the smallest projection).
3. ``relu_matrix``: A_ij = max(z_(i) - b_j, 0) is lower triangular with a positive diagonal (b_j < z_(i) iff j <= i).
4. ``construct``: solve A w = y by forward substitution (``torch.linalg.solve_triangular``).

Targets: a real vector y (n,) gives the theorem's scalar net with exactly 2n + d weights. Class labels are
represented as the real number "class index"; the prediction is ``round(c(x))`` (the count stays 2n + d).
A target matrix y (n, k), e.g. one-hot, is also accepted: w becomes n x k (d + n + nk weights), the same
a and b serve every output.

Numerical honesty (``conditioning``): the gaps between sorted projections shrink like 1/n (the smallest
one like 1/n^2), the slopes w_j ~ (y_j - y_j-1) / gap grow accordingly, and c(x_i) is a sum of large
terms that cancel, so the fit error grows with n, much faster in float32 than in float64.

``DeepNet`` is the depth-k, width n/k + 3 variant the paper mentions, built exactly from the same a, b, w:
each layer adds one block of n/k threshold units to a running sum, and passes z and the sum on with
ReLUs (z - z_min >= 0 passes through unchanged; a sum s passes as relu(s) and relu(-s)).
"""

from __future__ import annotations

import math
import time

import torch
from torch import nn

from .experiments import Experiment

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


def project(X: torch.Tensor, *, seed: int = 0, a: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Step 1: a direction ``a`` (standard Gaussian, seeded, unless given) and z = X a, checked distinct.

    Distinct points give distinct projections with probability 1 for a Gaussian a; duplicate points can
    never be separated, and a clear ValueError says so.
    """
    _check(X)
    if a is None:
        g = torch.Generator().manual_seed(seed)
        a = torch.randn(X.shape[1], generator=g, dtype=torch.float64).to(X.device, X.dtype)
    elif a.shape != (X.shape[1],):
        raise ValueError(f"a has shape {tuple(a.shape)}; it must be ({X.shape[1]},), one weight per input dimension")
    z = X @ a
    zs = torch.sort(z).values
    if len(zs) > 1 and not bool((zs[1:] > zs[:-1]).all()):
        dup = _duplicates(X)
        if dup:
            raise ValueError(f"X has duplicate points (rows {dup[0]} and {dup[1]}): Theorem 1 needs n distinct "
                             "points; remove duplicates (a function cannot map one point to two labels)")
        raise ValueError("two projections <a, x_i> coincide: pass another seed (or a) so that they are distinct")
    return a, z


def _duplicates(X: torch.Tensor) -> tuple[int, int] | None:
    _, inverse, counts = torch.unique(X, dim=0, return_inverse=True, return_counts=True)
    if bool((counts > 1).any()):
        group = int(torch.nonzero(counts > 1)[0])
        rows = torch.nonzero(inverse == group).flatten()[:2].tolist()
        return rows[0], rows[1]
    return None


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


def construct(X: torch.Tensor, y: torch.Tensor, *, seed: int = 0, dtype: torch.dtype = torch.float64,
              a: torch.Tensor | None = None, frac: float = FRAC) -> TwoLayerNet:
    """Steps 1-4: the network of Theorem 1 with ``c(X[i]) == y[i]`` (up to rounding in ``dtype``).

    ``y`` is (n,) real targets or class indices (2n + d weights) or (n, k) (w becomes n x k).
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
    return TwoLayerNet(a, b, w[:, 0] if y.ndim == 1 else w)


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
    """Build the net in ``dtype`` and measure what it does on its own data (error None if it cannot be built)."""
    t0 = time.perf_counter()
    base = {"n": int(X.shape[0]), "d": int(X.flatten(1).shape[1]), "dtype": str(dtype).replace("torch.", ""), "frac": frac}
    try:
        net = construct(X, y, seed=seed, dtype=dtype, frac=frac)
    except ValueError as e:  # e.g. float32 projections of n = 3,000 points collide: record it, do not hide it
        return dict(base, params=None, max_fit_error=None, failure=str(e))
    build_s = time.perf_counter() - t0
    with torch.no_grad():
        out = net(X.flatten(1))
        err = (out - y.to(out.dtype)).abs()
        zs = torch.sort(X.flatten(1).to(dtype) @ net.a).values
        gaps = zs[1:] - zs[:-1]
        rng = float(zs[-1] - zs[0])
    rep = {
        **base, "params": num_params(net), "max_fit_error": float(err.max()), "mean_fit_error": float(err.mean()),
        "max_abs_w": float(net.w.detach().abs().max()),
        "min_gap_rel": float(gaps.min()) / rng if len(gaps) else None,
        "mean_gap_rel": float(gaps.mean()) / rng if len(gaps) else None,
        "build_s": build_s,
    }
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


# ----------------------------------------------------------------------------------------------
# the experiment


def _images(cfg: dict, seed: int) -> tuple[torch.Tensor, torch.Tensor, str]:
    from . import data

    ds = data.load(cfg["dataset"], crop=None, seed=seed)
    n = min(cfg["n"], len(ds.y_train))
    X = ds.x_train[:n].flatten(1).double()
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, ds.num_classes, (n,), generator=g).double()  # random labels, as in the paper's tests
    return X, y, ds.describe()


def _run(cfg: dict, *, seed: int, progress=None, out=None) -> dict:
    X, y, desc = _images(cfg, seed)
    real = [fit_report(X[:n], y[:n], dtype=getattr(torch, dt), seed=seed)
            for n in cfg["image_ns"] if n <= len(y) for dt in cfg["dtypes"]]
    main = next(r for r in reversed(real) if r["dtype"] == "float64")
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


EXPERIMENTS = {
    "theorem1": Experiment(
        "theorem1", _run,
        configs={
            # quick: real MNIST digits (784 pixels / 255) with random labels, n up to 4,000
            "quick": {"dataset": "mnist5k", "n": 4000, "image_ns": [500, 1000, 2000, 4000],
                      "dtypes": ["float32", "float64"], "sweep_ns": [100, 300, 1000, 3000], "sweep_d": 50,
                      "deep_n": 1000, "deep_ks": [1, 4, 16],
                      "sgd_n": 300, "sgd_steps": 1000, "sgd_lr": 0.01},
            # paper: CIFAR-10 pixels (d = 3,072) with random labels. The dense triangular solve needs n^2 * 8
            # bytes (20 GB at n = 50,000); float64 stays usable to n ~ 10,000 (PAPER.md section 5), so the
            # sweep stops at 20,000 and says how the error grows.
            "paper": {"dataset": "cifar10", "n": 20000, "image_ns": [1000, 2000, 5000, 10000, 20000],
                      "dtypes": ["float32", "float64"], "sweep_ns": [100, 300, 1000, 3000, 10000], "sweep_d": 50,
                      "deep_n": 2000, "deep_ks": [1, 4, 16, 64],
                      "sgd_n": 2000, "sgd_steps": 5000, "sgd_lr": 0.01},
        },
        doc="Theorem 1's two-layer ReLU net built from data: 2n + d weights, fit error on random labels vs n and dtype.",
        expect={"quick": "params == 2n + d; float64 fits 4,000 MNIST digits with random labels, all labels recovered"},
    ),
}

