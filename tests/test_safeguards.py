"""Numerical safeguards: each test here fails when its safeguard is removed (checked by deleting it) and first
asserts that its input reaches the safeguard.

Every safeguard in the package (grep for eps, clamp, clip, 1e-, rcond, tol, floor, nan_to_num, tiny), where it
is, what it guards, and the test that fails without it ("caught": verified by removing it; t_ = this file):

theory/theorem1.py
- DUP_RTOL, near-duplicate rows refused: test_theorem1::test_duplicate_tolerance_is_relative_and_scale_free (caught).
- TIE_ULPS, near-tied projections refused: t_::test_tie_tolerance_refuses_projections_one_rounding_unit_apart_in_float64,
  test_theorem1::test_tie_message_names_the_dtype_and_suggests_float64_only_when_it_helps (float32) (both caught).
- check_distinct's clamp_min(finfo.tiny) of the larger row norm: unreachable, no test can fail without it (a pair
  with distance > 0 has a larger norm > 0, unless its square underflows; then the distance is >= sqrt(5e-324) ~ 2e-162,
  far above DUP_RTOL * tiny, so the comparison is False either way). Removed: all of test_theorem1 still passes.
- thresholds' first gap for n = 1 (the mean of no gaps is NaN): test_theorem1::test_first_threshold_sits_one_mean_gap_below
  _and_tolerance_defaults (caught).
- FIT_RTOL and fit_tolerance's floor max(1, max|y|): test_theorem1::test_the_fit_is_verified_after_solving (caught).
theory/pac_bayes.py
- kl_inv's bisection tol (without it the loop never ends): t_::test_kl_inverse_bisection_stops_at_its_tolerance (caught).
- kl_bernoulli's 0 log 0 = 0 and inf for p in {0, 1}: test_pac_bayes::test_kl_inverse_matches_closed_form_at_zero_error,
  ::test_kl_inverse_is_the_inverse (both caught).
- union_penalty's max(1, j) and union_penalty_smooth's clamp(min=1): t_::test_union_penalty_grid_index_is_floored_at_one
  (caught; test_pac_bayes alone does not catch either).
- optimize_posterior's clamp of log lambda to the grid (lambda <= c exp(-1/b)):
  t_::test_posterior_optimization_keeps_the_prior_variance_on_the_grid (caught).
theory/kernel_solver.py
- kernel_block's clamp at 0 of squared distances: t_::test_gaussian_kernel_clamps_negative_squared_distances (caught).
- the Cholesky failure check (info > 0, a singular kernel matrix): test_kernels::test_clear_errors (caught).
- the refinement's tol (stop once the residual is below it): test_kernels::test_refinement_steps_and_tolerance (caught).
- rkhs_norm's max(0, alpha^T K alpha) before the square root: test_kernels::test_rkhs_norm_of_given_products (caught).
- linear_least_squares' rcond cut: t_::test_linear_least_squares_drops_round_off_eigenvalues (caught).
- linear_least_squares' ev.clamp_min(0): unreachable (kept eigenvalues are > rcond * max >= 0); removed, nothing fails.
- choose_dtype's 0.92 of free memory: a memory margin, not a numerical safeguard; no test.
theory/ntk.py
- h_infinity's clip of cosines to [-1, 1] (numpy and torch paths): t_::test_h_infinity_clips_rounded_cosines_into_arccos
  _domain (caught, each path).
- cholesky's pivot floor 1e-10 (H singular to working accuracy): test_ntk::test_complexity_solve_and_the_singular_error
  _naming_rows (caught).
- duplicate_rows' tol 1e-10 (naming the repeated rows): test_ntk::test_complexity_solve_and_the_singular_error_naming_rows
  (caught).
theory/finite.py: NaN / inf refused up front (tests/test_finite.py); not mutation-checked here.
theory/measures.py: sharpness's search bracket sigma in [1e-5, 1]: a search range, not a safeguard; no test.
engine/data.py: whiten's std floor 1/sqrt(N) (constant images): test_data::test_whitening_matches_numpy_per_image
  _standardization (caught).
engine/models.py: BN_EPSILON 1e-3, TF-slim's batch-norm epsilon: an architecture setting of the reproduction; no test.
engine/train.py: the non-finite training-loss check: test_train::test_nan_loss_raises_a_clear_error (not mutation-checked).
chapters/ch07_double_descent.py
- fit_predict's rcond cut of singular values: t_::test_double_descent_min_norm_drops_round_off_singular_values (caught;
  test_double_descent::test_minnorm_equals_pseudo_inverse, full rank, does not catch it).
- fit_predict's inner where(keep, s, 1) before 1 / s: avoids a divide-by-zero warning only (the value is discarded); no test.
chapters/ch01_pac.py: hoeffding_interval's clip to [0, 1]: test_pac::test_intervals_at_their_edges_and_default_confidence
  (caught).
config/claims.py: standard_error's max(acc (1 - acc), 0): unreachable for acc in [0, 1]; removed, nothing fails.
Not safeguards, listed so the grep is accounted for: ch02_rademacher's clamp_min(bound) (the projection onto the ball
itself), ch07_minnorm's 1e-10 eigenvalue count and MIN_NORM_TOL and ch03_stability's 1e-9 slack (reported numbers and
claim criteria), planning/estimate's max(width, 1e-3) (a time estimate), the figures' log-axis floors (1e-17, 1e-6,
display only); none is tested for its removal.
"""

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
