"""Numerical safeguards no other test pinned: each test fails when its safeguard is removed (checked by deleting
it), and first asserts that its input reaches the safeguard."""

import numpy as np
import torch

from rethinking_lib.theory import kernel_solver, ntk


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
