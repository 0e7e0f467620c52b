"""Numerical safeguards no other test pinned: each test fails when its safeguard is removed (checked by deleting
it), and first asserts that its input reaches the safeguard."""

import math

import numpy as np
import pytest
import torch

from rethinking_lib.chapters import ch07_double_descent as double_descent
from rethinking_lib.theory import kernel_solver, ntk, pac_bayes, theorem1


def test_h_infinity_clips_rounded_cosines_into_arccos_domain():
    """Unit rows whose rounded self inner product exceeds 1 (here several): without the clip to [-1, 1],
    arccos gives NaN on H's diagonal, on both the numpy and the torch path."""
    x = ntk.unit_rows(np.random.default_rng(0).standard_normal((200, 7)))
    assert (x @ x.T).max() > 1.0  # the safeguard is exercised
    for h in (ntk.h_infinity(x), ntk.h_infinity(x, device="cpu")):
        assert np.isfinite(h).all()
        np.testing.assert_allclose(np.diag(h), 0.5, rtol=1e-7)  # arccos(1 - 1e-16) ~ 1.5e-8


def test_gaussian_kernel_clamps_negative_squared_distances():
    """Squared distances by expansion, |a|^2 + |b|^2 - 2 a.b, round below 0 for equal rows of large norm: without
    the clamp, k(x, x) = exp(+tiny) > 1 and the Gram matrix is no longer a kernel's (entries above 1)."""
    X = 1e3 + torch.randn(64, 30, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    sq = (X * X).sum(1)[:, None] + (X * X).sum(1)[None, :] - 2 * X @ X.T
    assert float(sq.diagonal().min()) < 0  # the safeguard is exercised
    K = kernel_solver.kernel_matrix(X, gamma=1e-3, dtype=torch.float64)
    assert float(K.max()) <= 1.0 and torch.allclose(K.diagonal(), torch.ones(64, dtype=torch.float64))


def test_linear_least_squares_drops_round_off_eigenvalues():
    """A rank-4 design with 7 columns: X^T X's three zero eigenvalues round to +-1e-14. Without the ``rcond``
    cutoff the positive ones are inverted (1e14) and the weights blow up; with it the result is the pseudo-inverse's."""
    g = torch.Generator().manual_seed(0)
    B = torch.randn(30, 4, generator=g, dtype=torch.float64)
    X = torch.cat([B, B @ torch.randn(4, 3, generator=g, dtype=torch.float64)], 1)
    Y = torch.randn(30, generator=g, dtype=torch.float64)
    assert float(torch.linalg.eigvalsh(X.T @ X)[2]) > 0  # a round-off eigenvalue is positive: the cutoff is exercised
    w = kernel_solver.linear_least_squares(X, Y)
    torch.testing.assert_close(w[:, 0], torch.linalg.pinv(X) @ Y, rtol=1e-8, atol=1e-8)


def test_tie_tolerance_refuses_projections_one_rounding_unit_apart_in_float64():
    """Two distinct float64 points whose projections differ by one unit of rounding (a gap > 0, so an exact-tie
    check alone would pass them): without ``TIE_ULPS`` their order along a is noise and the construction goes on."""
    X = torch.tensor([[1.0, 0.0], [2.0, 1.0], [math.nextafter(1.0, 2.0), 5.0]], dtype=torch.float64)
    a = torch.tensor([1.0, 0.0], dtype=torch.float64)
    gap = float((X @ a)[2] - (X @ a)[0])
    assert 0 < gap <= theorem1.TIE_ULPS * torch.finfo(torch.float64).eps * 2.0  # not an exact tie: the tolerance decides
    with pytest.raises(ValueError, match=r"rows 0 and 2 nearly coincide"):
        theorem1.project(X, a=a)


def test_kl_inverse_bisection_stops_at_its_tolerance(monkeypatch):
    """kl_inv bisects until hi - lo <= tol. Without the tolerance (down to adjacent floats, mid rounds to lo or hi)
    the loop never ends; with it, about log2(1 / tol) evaluations give a p within tol of the exact inverse."""
    q, c, tol = 0.1, 0.05, 1e-12
    real = pac_bayes.kl_bernoulli
    assert real(q, 1.0) > c  # not vacuous: the bisection runs
    calls = []

    def counted(a, b):
        calls.append(b)
        if len(calls) > 200:
            raise RuntimeError("kl_inv's bisection does not stop")
        return real(a, b)

    monkeypatch.setattr(pac_bayes, "kl_bernoulli", counted)
    p = pac_bayes.kl_inv(q, c, tol=tol)
    assert len(calls) <= 2 + math.ceil(math.log2((1 - q) / tol))
    assert real(q, p) <= c < real(q, p + 2 * tol)


def test_union_penalty_grid_index_is_floored_at_one():
    """A prior variance above the grid's first point lambda_1 = c exp(-1/b) has b log(c / lambda) < 1 (0 at
    lambda = c, negative beyond). Both penalties floor the grid index at j = 1: without the floor the discrete one
    takes log(0) (a crash) and the smooth one rewards such a lambda with 2 log j < 0 (-inf at lambda = c)."""
    b, c = pac_bayes.GRID_B, pac_bayes.GRID_C
    first = math.log(math.pi ** 2 / 6)  # the cost of grid point j = 1
    for lam in (c * math.exp(-0.5 / b), c, 2 * c):
        assert b * math.log(c / lam) < 1  # above the first grid point: the floors are exercised
        j, pen = pac_bayes.union_penalty(lam)
        assert j == 1 and pen == pytest.approx(first)
        assert float(pac_bayes.union_penalty_smooth(torch.tensor(lam, dtype=torch.float64))) == pytest.approx(first)


def test_posterior_optimization_keeps_the_prior_variance_on_the_grid():
    """The optimized prior variance is clamped to lambda <= lambda_1 = c exp(-1/b) after every step, so the grid
    point the bound is evaluated at (lambda rounded down to the grid) is the lambda optimized, not a smaller one.
    Started at lambda = 1, far above lambda_1, one RMSprop step (at most ~10 lr in log lambda) cannot get there."""
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 2)
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(32, 4, generator=g), torch.randint(0, 2, (32,), generator=g)
    w = pac_bayes.flat(model)
    lr, cap = 1e-3, pac_bayes.GRID_C * math.exp(-1 / pac_bayes.GRID_B)
    assert math.log(1.0) - 10 * lr > math.log(cap)  # the start is beyond one step's reach: the clamp is exercised
    post = pac_bayes.optimize_posterior(model, w, w.clone(), x, y, steps=1, lr=lr, batch_size=8, init_prior_var=1.0)
    assert post["prior_var"] == pytest.approx(cap, rel=1e-6)  # lambda_1 itself (float32 log lambda)


def test_double_descent_min_norm_drops_round_off_singular_values():
    """Features of rank 4 in 7 columns: the three zero singular values round to ~1e-16, not 0. Without the ``rcond``
    cut they are inverted (~1e16) and the min-norm prediction blows up; with it, it is the pseudo-inverse's."""
    rng = np.random.default_rng(0)
    B = rng.standard_normal((30, 4))
    phi = np.hstack([B, B @ rng.standard_normal((4, 3))])
    phi_t, y = rng.standard_normal((5, 7)), rng.standard_normal((30, 2))
    s = np.linalg.svd(phi, compute_uv=False)
    assert 0 < s.min() < 1e-10 * s.max()  # round-off singular values: the cut is exercised
    out = double_descent.fit_predict(phi, phi_t, {"y": y}, ridge=0.0, rcond=1e-10)["y"]
    np.testing.assert_allclose(out["minnorm"], phi_t @ np.linalg.pinv(phi, rcond=1e-10) @ y, rtol=1e-8, atol=1e-8)
