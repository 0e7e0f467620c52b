"""PAC-Bayes bounds for a trained network: the KL inverse, the bounds, and the posterior optimization.

The theorem (Langford & Seeger 2001; Maurer 2004; the form used by Dziugaite & Roy 2017, their Theorem 2.1):
for any prior P fixed before seeing the m training examples, with probability at least 1 - delta over the
sample, simultaneously for every posterior Q,

    kl(e_hat(Q) || e(Q)) <= (KL(Q || P) + log(m / delta)) / (m - 1),

where e_hat(Q) / e(Q) are the empirical / true 0-1 errors of the stochastic classifier "draw w ~ Q, predict
with w" and kl(q || p) is the KL divergence of Bernoulli(q) from Bernoulli(p). Inverting kl numerically
(``kl_inv``) gives the tightest bound on e(Q); Pinsker's inequality kl >= 2 (q - p)^2 gives McAllester's
weaker closed form e(Q) <= e_hat(Q) + sqrt((KL + log(m/delta)) / (2(m - 1))), which can exceed 1.

Dziugaite & Roy (2017) make this non-vacuous for an SGD-trained network: Q = N(w, diag(s)) around the
trained weights, P = N(w0, lambda I) around the random initialization (data-independent), and they
*optimize* w, s and lambda against the bound (a differentiable surrogate of e_hat plus McAllester's square
root term). lambda is chosen from the grid lambda_j = c exp(-j / b), j = 1, 2, ..., with a union bound
spending delta_j = 6 delta / (pi^2 j^2) on grid point j: this adds 2 log j + log(pi^2 / 6) to the numerator.
e_hat(Q) itself is estimated with n Monte-Carlo draws of w, and bounded with a second kl inverse
(Langford & Caruana 2002): e_hat(Q) <= kl_inv(mean error of the draws, log(2 / delta') / n).
The final bound holds with probability 1 - delta - delta' (their delta = 0.025, delta' = 0.01).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

# Dziugaite & Roy (2017), Section 5: prior-variance grid lambda_j = c exp(-j/b), confidence parameters.
GRID_B, GRID_C = 100, 0.1
DELTA, DELTA_SAMPLES = 0.025, 0.01


# --- the KL inverse ------------------------------------------------------------------------------------------


def kl_bernoulli(q: float, p: float) -> float:
    """kl(q || p) = q log(q/p) + (1-q) log((1-q)/(1-p)), with 0 log 0 = 0 (infinite when p hits 0 or 1 wrongly)."""
    if not (0.0 <= q <= 1.0 and 0.0 <= p <= 1.0):
        raise ValueError(f"kl_bernoulli needs q and p in [0, 1], got q={q!r}, p={p!r}")
    out = 0.0
    for a, b in ((q, p), (1.0 - q, 1.0 - p)):
        if a > 0:
            out += math.inf if b <= 0 else a * math.log(a / b)
    return out


def kl_inv(q: float, c: float, *, tol: float = 1e-12) -> float:
    """The largest p in [q, 1] with kl(q || p) <= c (bisection; kl(q || .) increases on [q, 1])."""
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"kl_inv needs an empirical error q in [0, 1], got {q!r}")
    if c < 0:
        raise ValueError(f"kl_inv needs a non-negative budget c, got {c!r}")
    lo, hi = q, 1.0
    if kl_bernoulli(q, hi) <= c:
        return 1.0
    while hi - lo > tol:
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if kl_bernoulli(q, mid) <= c else (lo, mid)
    return lo


def union_penalty(lam: float, b: int = GRID_B, c: float = GRID_C) -> tuple[int, float]:
    """The grid index j >= 1 of prior variance ``lam`` (rounded up) and its union-bound cost 2 log j + log(pi^2/6)."""
    j = max(1, math.ceil(b * math.log(c / lam)))
    return j, 2 * math.log(j) + math.log(math.pi ** 2 / 6)


def union_penalty_smooth(lam: torch.Tensor, b: int = GRID_B, c: float = GRID_C) -> torch.Tensor:
    """``union_penalty``'s cost at a continuous grid index: 2 log j + log(pi^2/6) with j = max(1, b log(c / lam)).

    Differentiable in ``lam``, the term the posterior optimization minimizes (Dziugaite & Roy's objective); it
    equals ``union_penalty(lam)[1]`` on the grid points lam = c exp(-j / b).
    """
    j = (b * torch.log(c / lam)).clamp(min=1.0)
    return 2 * torch.log(j) + math.log(math.pi ** 2 / 6)


def budget(kl: float, m: int, delta: float = DELTA, extra: float = 0.0) -> float:
    """The right-hand side (KL + extra + log(m / delta)) / (m - 1) of the Langford-Seeger bound."""
    if m < 2:
        raise ValueError(f"a PAC-Bayes bound needs m >= 2 examples, got m={m}")
    return (kl + extra + math.log(m / delta)) / (m - 1)


def kl_budget(bound: float, m: int, emp_error: float = 0.0, delta: float = DELTA, extra: float = 0.0) -> float:
    """The largest KL(Q || P) for which the Langford-Seeger bound on m examples is at most ``bound`` (the kl bound
    inverted): (m - 1) kl(emp_error || bound) - log(m / delta) - extra; negative when no posterior can reach it."""
    if not 0.0 <= emp_error < bound <= 1.0:
        raise ValueError(f"kl_budget needs 0 <= emp_error < bound <= 1, got emp_error={emp_error!r}, bound={bound!r}")
    if m < 2:
        raise ValueError(f"a PAC-Bayes bound needs m >= 2 examples, got m={m}")
    return (m - 1) * kl_bernoulli(emp_error, bound) - math.log(m / delta) - extra


def langford_seeger(emp_error: float, kl: float, m: int, delta: float = DELTA, extra: float = 0.0) -> float:
    """Upper bound on the true error: kl_inv(emp_error, budget)."""
    return kl_inv(emp_error, budget(kl, m, delta, extra))


def mcallester(emp_error: float, kl: float, m: int, delta: float = DELTA, extra: float = 0.0) -> float:
    """The Pinsker-relaxed bound emp_error + sqrt(budget / 2) (may exceed 1: then vacuous)."""
    return emp_error + math.sqrt(budget(kl, m, delta, extra) / 2)


def gaussian_kl(mu_q: torch.Tensor, var_q: torch.Tensor, mu_p: torch.Tensor, var_p) -> torch.Tensor:
    """KL(N(mu_q, diag var_q) || N(mu_p, var_p I)) for a scalar prior variance var_p (a tensor or float)."""
    var_p = torch.as_tensor(var_p, dtype=mu_q.dtype, device=mu_q.device)
    d = mu_q.numel()
    return 0.5 * ((var_q.sum() + ((mu_q - mu_p) ** 2).sum()) / var_p - d + d * torch.log(var_p) - torch.log(var_q).sum())


# --- networks as flat parameter vectors ----------------------------------------------------------------------


def flat(model: nn.Module) -> torch.Tensor:
    """All parameters of ``model`` as one detached vector."""
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()])


def forward_flat(model: nn.Module, w: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``model(x)`` with its parameters replaced by the flat vector ``w`` (differentiable in ``w``)."""
    params, i = {}, 0
    for name, p in model.named_parameters():
        params[name] = w[i:i + p.numel()].view_as(p)
        i += p.numel()
    return torch.func.functional_call(model, params, (x,))


@torch.no_grad()
def error(model: nn.Module, w: torch.Tensor, x: torch.Tensor, y: torch.Tensor, batch: int = 8192) -> float:
    """0-1 error of the network with weights ``w`` on (x, y)."""
    wrong = sum(int((forward_flat(model, w, x[i:i + batch]).argmax(1) != y[i:i + batch]).sum())
                for i in range(0, len(y), batch))
    return wrong / len(y)


# --- Dziugaite & Roy (2017): optimize the posterior against the bound ----------------------------------------


def optimize_posterior(model: nn.Module, w: torch.Tensor, prior_mean: torch.Tensor, x: torch.Tensor, y: torch.Tensor,
                       *, steps: int, m: int | None = None, lr: float = 1e-3, batch_size: int = 128,
                       init_log_std: float | None = None, init_prior_var: float = math.exp(-8), seed: int = 0,
                       delta: float = DELTA, train_mean: bool = True) -> dict:
    """Minimize surrogate(Q) + sqrt(B_RE(Q, lambda) / 2) over Q = N(mu, diag sigma^2) and lambda.

    The surrogate of e_hat is the cross entropy divided by log 2 (>= the 0-1 loss), on one draw of
    w ~ Q per mini-batch (the reparameterization trick); mu starts at ``w``, sigma at exp(init_log_std), and
    lambda at ``init_prior_var`` (our choice e^-8; sigma starts at sqrt(lambda), so the variance part of the
    KL starts at zero). The KL is to N(prior_mean, lambda I); ``m`` (default len(y))
    is the number of examples the bound will use. Optimizer: RMSprop (as D&R), learning rate ``lr``.
    With ``train_mean=False`` only sigma and lambda are optimized and the mean stays at ``w``.
    """
    m = m or len(y)
    g = torch.Generator(device=x.device).manual_seed(seed)
    mu = w.clone().requires_grad_(train_mean)
    log_std = torch.full_like(w, 0.5 * math.log(init_prior_var) if init_log_std is None else init_log_std).requires_grad_(True)
    log_lam = torch.tensor(math.log(init_prior_var), device=w.device).requires_grad_(True)
    opt = torch.optim.RMSprop([mu, log_std, log_lam] if train_mean else [log_std, log_lam], lr=lr)
    n = len(y)
    log_m = math.log(m / delta)
    for _ in range(steps):
        idx = torch.randint(0, n, (batch_size,), device=x.device, generator=g)
        std = log_std.exp()
        wq = mu + std * torch.randn(w.shape, device=w.device, generator=g)
        surrogate = nn.functional.cross_entropy(forward_flat(model, wq, x[idx]), y[idx]) / math.log(2)
        lam = log_lam.exp()
        kl = gaussian_kl(mu, std ** 2, prior_mean, lam)
        b_re = (kl + union_penalty_smooth(lam) + log_m) / (m - 1)  # the bound's numerator at a continuous j
        loss = surrogate + torch.sqrt(b_re / 2)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        with torch.no_grad():  # keep lambda on the grid's range (j >= 1)
            log_lam.clamp_(max=math.log(GRID_C) - 1.0 / GRID_B)
    return {"mu": mu.detach(), "var": (2 * log_std.detach()).exp(), "prior_var": float(log_lam.detach().exp())}


@torch.no_grad()
def evaluate(model: nn.Module, post: dict, prior_mean: torch.Tensor, x: torch.Tensor, y: torch.Tensor,
             x_test: torch.Tensor | None = None, y_test: torch.Tensor | None = None, *, samples: int = 100,
             test_samples: int = 20, seed: int = 0, delta: float = DELTA, delta_samples: float = DELTA_SAMPLES) -> dict:
    """The final bound for posterior ``post`` on the m = len(y) bound examples (x, y).

    Rounds lambda up to its grid point, recomputes the KL there, estimates e_hat(Q) with ``samples`` draws
    (bounded by the sample-convergence kl inverse), and returns both bounds plus the stochastic
    classifier's test error (estimated on the first ``test_samples`` draws) when a test set is given.
    """
    m = len(y)
    j, pen = union_penalty(post["prior_var"])
    lam = GRID_C * math.exp(-j / GRID_B)
    kl = float(gaussian_kl(post["mu"], post["var"], prior_mean, lam))
    g = torch.Generator(device=x.device).manual_seed(seed + 1)
    std = post["var"].sqrt()
    errs, test_errs = [], []
    for _ in range(samples):
        wq = post["mu"] + std * torch.randn(post["mu"].shape, device=x.device, generator=g)
        errs.append(error(model, wq, x, y))
        if x_test is not None and len(test_errs) < test_samples:
            test_errs.append(error(model, wq, x_test, y_test))
    e_mc = float(np.mean(errs))
    e_hat = kl_inv(e_mc, math.log(2 / delta_samples) / samples)
    return {"m": m, "params": int(post["mu"].numel()), "kl": kl, "prior_var": lam, "grid_j": j,
            "snn_train_error_mc": e_mc, "snn_train_error_bound": e_hat,
            "snn_test_error": float(np.mean(test_errs)) if test_errs else None,
            "bound": langford_seeger(e_hat, kl, m, delta, pen),
            "bound_mcallester": mcallester(e_hat, kl, m, delta, pen),
            "mean_posterior_std": float(std.mean()), "distance_to_prior_mean": float((post["mu"] - prior_mean).norm())}


def bound(model: nn.Module, w: torch.Tensor, prior_mean: torch.Tensor, x, y, x_test=None, y_test=None, *,
          steps: int, samples: int, lr: float = 1e-3, seed: int = 0, **kw) -> dict:
    """Optimize the posterior around ``w`` against the bound with prior N(prior_mean, lambda I); evaluate it.

    ``kw`` goes to ``optimize_posterior`` (e.g. ``train_mean=False``).
    """
    post = optimize_posterior(model, w, prior_mean, x, y, steps=steps, lr=lr, seed=seed, **kw)
    return evaluate(model, post, prior_mean, x, y, x_test, y_test, samples=samples, seed=seed)
