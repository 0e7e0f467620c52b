"""Complexity measures of a trained fully connected ReLU network that "see the labels".

Each is a number computed from the trained weights and the training set; a measure explains generalization
only if it is large when the gap between test and train error is large. Definitions used here:

* **margins**: gamma_i = f(x_i)[y_i] - max_{j != y_i} f(x_i)[j] on the training set (y_i the labels trained on).
* **spectral complexity** (Bartlett, Foster & Telgarsky 2017, their R_A with reference matrices M_i = 0 and
  1-Lipschitz ReLUs): R = prod_i ||A_i||_sigma * (sum_i ||A_i^T||_{2,1}^{2/3} / ||A_i||_sigma^{2/3})^{3/2},
  where ||.||_sigma is the spectral norm and ||A^T||_{2,1} the sum of the l2 norms of A's rows (A maps a
  layer's input to its output). Their **normalized margin** of example i is
  gamma_i / (R ||X||_F / n), with X the n x d matrix of (preprocessed) training inputs; their bound scales
  with the inverse of a margin, and ``spectral_margin_complexity`` = R ||X||_F / (gamma n), taking gamma at
  the 10th percentile of the training margins (the convention of Jiang et al. 2020).
* **Frobenius norm** (Neyshabur, Tomioka & Srebro 2015): prod_i ||A_i||_F over the weight matrices.
* **path norm** (Neyshabur et al. 2015): the l2 path norm sqrt(sum over input-output paths of the product of
  the squared weights on the path), biases included as paths from a constant unit: the sum of the outputs of
  the network with every parameter squared on an all-ones input, then the square root.
* **sharpness** (Jiang et al. 2020's "PAC-Bayes flatness", after Keskar et al. 2017 and Neyshabur et al.
  2017's expected sharpness): 1 / sigma^2 for the largest sigma such that adding N(0, sigma^2) noise to every
  parameter raises the training error by at most 0.1 on average (bisection on log sigma, a few draws each).
  Large = sharp.

Jiang et al. (2020) rank measures by Kendall's tau between the measure and the generalization gap over many
trained networks; ``kendall`` computes it here (tau-b, which corrects for ties) over the runs of the ``bounds``
experiment (p and seeds).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from .finite import finite

SHARPNESS_DELTA = 0.1   # allowed rise in training error (Jiang et al. 2020 use 0.1)
MARGIN_QUANTILE = 0.1   # margin at the 10th percentile


def linears(model: nn.Module) -> list[nn.Linear]:
    """The linear layers of a fully connected network, input to output."""
    layers = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not layers:
        raise ValueError("these measures need a fully connected network (nn.Linear layers), e.g. models.MLP")
    return layers


@torch.no_grad()
def margins(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """gamma_i = f(x_i)[y_i] - max_{j != y_i} f(x_i)[j] for every example (negative = misclassified)."""
    finite("x", x)
    out = model(x).float()
    true = out.gather(1, y[:, None]).squeeze(1)
    other = out.scatter(1, y[:, None], -math.inf).amax(1)
    return true - other


@torch.no_grad()
def spectral_complexity(model: nn.Module) -> float:
    """Bartlett et al.'s R_A with M_i = 0: prod ||A||_sigma * (sum (||A^T||_{2,1} / ||A||_sigma)^{2/3})^{3/2}."""
    specs, ratios = [], []
    for layer in linears(model):
        a = layer.weight.double()
        s = torch.linalg.matrix_norm(a, ord=2).item()
        l21 = a.norm(dim=1).sum().item()  # ||A^T||_{2,1}: l2 norms of A's rows, summed
        specs.append(s)
        ratios.append((l21 / s) ** (2 / 3))
    return float(np.prod(specs) * sum(ratios) ** 1.5)


@torch.no_grad()
def normalized_margins(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> np.ndarray:
    """Bartlett et al.'s normalized margins gamma_i / (R_A ||X||_F / n) on (x, y)."""
    scale = spectral_complexity(model) * x.reshape(len(x), -1).double().norm().item() / len(x)
    return (margins(model, x, y).double() / scale).cpu().numpy()


def spectral_margin_complexity(model: nn.Module, x: torch.Tensor, y: torch.Tensor, q: float = MARGIN_QUANTILE) -> float:
    """R_A ||X||_F / (gamma n), gamma the ``q`` quantile of the training margins (inf if it is not positive)."""
    gamma = float(torch.quantile(margins(model, x, y), q))
    if gamma <= 0:
        return math.inf
    return spectral_complexity(model) * x.reshape(len(x), -1).double().norm().item() / (gamma * len(x))


@torch.no_grad()
def frobenius_norm(model: nn.Module) -> float:
    """prod_i ||A_i||_F over the weight matrices."""
    return float(np.prod([layer.weight.double().norm().item() for layer in linears(model)]))


@torch.no_grad()
def path_norm(model: nn.Module, input_shape: tuple) -> float:
    """l2 path norm: sqrt of the summed outputs of the network with squared parameters on an all-ones input."""
    import copy

    sq = copy.deepcopy(model).double()
    for p in sq.parameters():
        p.pow_(2)
    return float(sq(torch.ones((1, *input_shape), dtype=torch.float64, device=next(sq.parameters()).device)).sum().sqrt())


@torch.no_grad()
def sharpness(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, delta: float = SHARPNESS_DELTA,
              draws: int = 3, iters: int = 8, seed: int = 0) -> float:
    """1 / sigma^2 for the largest isotropic Gaussian perturbation raising training error by <= ``delta``."""
    from . import pac_bayes

    finite("x", x)
    w = pac_bayes.flat(model)
    base = pac_bayes.error(model, w, x, y)
    g = torch.Generator(device=w.device).manual_seed(seed)

    def rise(sigma):
        errs = [pac_bayes.error(model, w + sigma * torch.randn(w.shape, device=w.device, generator=g), x, y)
                for _ in range(draws)]
        return float(np.mean(errs)) - base

    lo, hi = math.log(1e-5), math.log(1.0)
    for _ in range(iters):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if rise(math.exp(mid)) <= delta else (lo, mid)
    return float(math.exp(-2 * lo))


def kendall(measure: list[float], gap: list[float]) -> float:
    """Kendall's tau-b between a measure and the generalization gap over a set of runs (scipy's default variant).

    tau-b = (C - D) / sqrt((N0 - T_x)(N0 - T_y)), with C / D the concordant / discordant pairs, N0 = N(N-1)/2 and
    T_x / T_y the pairs tied in the measure / the gap. Without ties it equals tau-a = (C - D) / N0; with ties (e.g.
    bounds that all clip at 1) tau-b is larger in magnitude and can still reach +-1. NaN when either list is
    constant (no untied pair) or holds a NaN, as scipy's ``kendalltau``; infinities are ordered values (two equal
    ones tie). Every pair is compared: a few dozen networks at most.
    """
    if len(measure) != len(gap) or len(measure) < 2:
        raise ValueError("kendall needs two lists of the same length >= 2 (one value per trained network)")
    x, y = np.asarray(measure, dtype=float), np.asarray(gap, dtype=float)
    if np.isnan(x).any() or np.isnan(y).any():
        return float("nan")
    i, j = np.triu_indices(len(x), k=1)  # every pair once
    order = lambda v: (v[i] > v[j]).astype(int) - (v[i] < v[j])  # noqa: E731  +1, -1, or 0 for a tie
    sx, sy = order(x), order(y)
    untied_x, untied_y = np.count_nonzero(sx), np.count_nonzero(sy)  # N0 - T_x, N0 - T_y
    if untied_x == 0 or untied_y == 0:
        return float("nan")
    return float(np.sum(sx * sy) / math.sqrt(untied_x * untied_y))


def all_measures(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, seed: int = 0) -> dict:
    """Every measure above for one trained network on its training set (x already preprocessed)."""
    gam = margins(model, x, y)
    return {"spectral_complexity": spectral_complexity(model),
            "spectral_margin_complexity": spectral_margin_complexity(model, x, y),
            "margin_q10": float(torch.quantile(gam, MARGIN_QUANTILE)),
            "frobenius_norm": frobenius_norm(model),
            "path_norm": path_norm(model, tuple(x.shape[1:])),
            "sharpness": sharpness(model, x, y, seed=seed)}
