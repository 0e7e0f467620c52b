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


@pytest.mark.parametrize("setting,match", [
    ({"n": 0}, "n=0 must be a positive integer"),
    ({"n": 300}, "n=300, d=200: the argument needs more unknowns than equations"),
    ({"epochs": 0}, "epochs=0 must be a positive integer"),
    ({"w0_scale": -1}, "w0_scale=-1 must be a positive number"),
    ({"mnist_n": 0}, "mnist_n=0 must be a positive integer"),
])
def test_minnorm_settings_are_checked_with_one_line_errors(setting, match, results_dir):
    from rethinking_lib import experiments

    cfg = experiments.get("minnorm").config("quick", **setting)
    with pytest.raises(ValueError, match=match) as e:
        implicit.validate(cfg)
    assert "\n" not in str(e.value) and str(e.value).startswith("minnorm: setting")
    with pytest.raises(ValueError, match=match):
        experiments.run("minnorm", "quick", **setting)


def test_chapter_rows_and_sentences_come_from_the_result():
    syn = {"n": 40, "d": 200, "pinv_norm": 2.0,
           "from_zero": {"rel_dist_to_pinv": 1e-12, "train_loss": 1e-20, "norm": 2.0},
           "from_random": {"rel_dist_to_pinv": 0.8, "rel_dist_to_predicted": 3e-9, "train_loss": 1e-19, "norm": 5.0},
           "hessian": {"max_diff_between_solutions": 0.0, "max_diff_vs_XtX_over_n": 1e-16, "zero_eigenvalues": 160,
                       "d_minus_n": 160, "eig_max": 9.0, "eig_min_nonzero": 0.5}}
    mn = {"n": 50, "d": 784, "n_test": 1000,
          **{k: {"norm": v, "train_mse": 0.0, "test_error": 0.3, "rel_dist_to_pinv": v - 1} for k, v in
             (("sgd_from_zero", 1.0), ("sgd_from_random", 3.0))},
          "pinv": {"norm": 1.0, "train_mse": 0.0, "test_error": 0.3}}
    res = {"synthetic": syn, "mnist": mn}
    rows = implicit.synthetic_rows(res)
    assert [r["relative distance to X+y"] for r in rows] == [1e-12, 0.8, 0.0]
    assert [r["norm of w"] for r in rows] == [2.0, 5.0, 2.0]
    assert "n = 40, d = 200" in implicit.synthetic_text(res) and "3.0e-09" in implicit.synthetic_text(res)
    (h,) = implicit.hessian_rows(res)
    assert h["zero eigenvalues"] == h["d - n"] == 160
    m = implicit.mnist_rows(res)
    assert [r["norm"] for r in m] == [1.0, 1.0, 3.0] and [r["rel. distance to X+y"] for r in m] == [0.0, 0.0, 2.0]
    assert implicit.mnist_text(res) == "n = 50 training digits, d = 784 pixels, tested on 1,000 held-out digits."
