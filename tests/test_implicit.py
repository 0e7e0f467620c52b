"""Implicit regularization (Section 5): SGD from zero finds the minimum-norm (pseudo-inverse) solution."""

import pytest
import torch

from rethinking_lib import implicit


def _problem(n=30, d=120, k=None, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=g, dtype=torch.float64)
    y = torch.randn((n,) if k is None else (n, k), generator=g, dtype=torch.float64)
    return X, y, g


def test_sgd_from_zero_converges_to_pinv_solution():
    X, y, _ = _problem()
    w_star = implicit.min_norm(X, y)
    assert torch.allclose(w_star, torch.linalg.pinv(X) @ y)
    w, hist = implicit.sgd(X, y, epochs=200)
    assert torch.linalg.norm(w - w_star) / torch.linalg.norm(w_star) < 1e-4
    assert max(hist["off_rowspace"]) < 1e-10  # the iterates never leave the row space of X


def test_sgd_multi_output_from_zero_matches_pinv():
    X, Y, _ = _problem(k=3, seed=1)
    w, _ = implicit.sgd(X, Y, epochs=200)
    w_star = implicit.min_norm(X, Y)
    assert torch.linalg.norm(w - w_star) / torch.linalg.norm(w_star) < 1e-4


def test_sgd_from_nonzero_start_keeps_its_null_space_part():
    X, y, g = _problem(seed=2)
    w0 = torch.randn(X.shape[1], generator=g, dtype=torch.float64)
    w, _ = implicit.sgd(X, y, w0=w0, epochs=200)
    w_star = implicit.min_norm(X, y)
    assert float(((X @ w - y) ** 2).mean()) < 1e-12  # it interpolates too ...
    assert torch.linalg.norm(w - w_star) / torch.linalg.norm(w_star) > 0.5  # ... but not at the min-norm solution
    limit = implicit.predicted_limit(X, y, w0)
    assert torch.linalg.norm(w - limit) / torch.linalg.norm(limit) < 1e-4
    assert w.norm() > w_star.norm()


def test_hessian_is_the_same_at_every_solution():
    X, y, g = _problem(seed=3)
    w1 = implicit.min_norm(X, y)
    null = torch.randn(X.shape[1], generator=g, dtype=torch.float64)
    w2 = w1 + null - torch.linalg.pinv(X) @ (X @ null)  # another exact solution
    assert float((X @ w2 - y).abs().max()) < 1e-10
    H1, H2 = implicit.hessian(X, y, w1), implicit.hessian(X, y, w2)
    assert torch.allclose(H1, H2) and torch.allclose(H1, X.T @ X / X.shape[0])


def test_bad_shapes_raise():
    X, y, _ = _problem()
    with pytest.raises(ValueError, match="y has shape"):
        implicit.sgd(X, y[:-1])
    with pytest.raises(ValueError, match="w0 has shape"):
        implicit.sgd(X, y, w0=torch.zeros(3, dtype=torch.float64))
