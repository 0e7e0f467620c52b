"""Exact kernel interpolation (Section 5, equation (3)): the solver, its residual check, and the experiment."""

import math

import pytest
import torch

from rethinking_lib import kernels


def _data(n=400, d=30, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.rand(n, d, generator=g, dtype=torch.float64)
    y = torch.randint(0, 10, (n,), generator=g)
    return X, torch.nn.functional.one_hot(y, 10).double(), y


def test_chunked_kernel_matches_direct_formula():
    X, _, _ = _data(150, 8)
    K = kernels.kernel_matrix(X, gamma=0.3, chunk=16)
    assert torch.allclose(K, torch.exp(-0.3 * torch.cdist(X, X) ** 2), atol=1e-12)
    Z = X[:7] + 0.1
    assert torch.allclose(kernels.kernel_matvec(Z, X, torch.ones(150, 1), gamma=0.3, chunk=3)[:, 0],
                          torch.exp(-0.3 * torch.cdist(Z, X) ** 2).sum(1))


def test_float64_solve_interpolates_with_small_residual():
    X, Y, y = _data()
    sol = kernels.solve_kernel(X, Y, gamma=0.5, dtype=torch.float64)
    K = torch.exp(-0.5 * torch.cdist(X, X) ** 2)
    assert sol.residual < 1e-9
    assert float(torch.linalg.norm(K @ sol.alpha - Y) / torch.linalg.norm(Y)) < 1e-9  # checked independently here
    assert torch.equal(sol.fitted.argmax(1), y)  # zero training error
    assert math.isclose(sol.rkhs_norm, float(torch.sqrt(torch.trace(sol.alpha.T @ K @ sol.alpha))), rel_tol=1e-8)


def test_float32_factor_with_refinement_reaches_float64_accuracy():
    X, Y, _ = _data()
    ref = kernels.solve_kernel(X, Y, gamma=0.5, dtype=torch.float64)
    sol = kernels.solve_kernel(X, Y, gamma=0.5, dtype=torch.float32, refine=8, tol=1e-10)
    assert sol.dtype == "float32"
    assert sol.residual_history[0] > 1e-8  # a float32 solve alone is not accurate ...
    assert sol.residual < 1e-10  # ... refinement against the float64 kernel makes it so
    assert torch.allclose(sol.alpha, ref.alpha, rtol=1e-6, atol=1e-6 * float(ref.alpha.abs().max()))


def test_gram_solver_and_ridge():
    X, Y, _ = _data()
    K = kernels.kernel_matrix(X, gamma=0.5)
    exact = kernels.solve_gram(K, Y)
    assert torch.allclose(exact.alpha, kernels.solve_kernel(X, Y, gamma=0.5).alpha, rtol=1e-6, atol=1e-8)
    ridged = kernels.solve_gram(K, Y, ridge=0.1)
    assert ridged.residual < 1e-9  # the residual of (K + ridge I) alpha = Y
    assert ridged.rkhs_norm < exact.rkhs_norm  # a ridge trades fit for norm
    assert torch.allclose(K, kernels.kernel_matrix(X, gamma=0.5))  # K is left intact


def test_random_labels_interpolated_with_larger_norm_on_real_digits():
    from rethinking_lib import data

    ds = data.load("digits", crop=None, n_train=600, n_test=300)
    X = ds.x_train.flatten(1).double()
    Y = torch.nn.functional.one_hot(ds.y_train, 10).double()
    yr = torch.randint(0, 10, (600,), generator=torch.Generator().manual_seed(0))
    Yr = torch.nn.functional.one_hot(yr, 10).double()
    gamma = 0.05
    true, rand = kernels.solve_kernel(X, Y, gamma=gamma), kernels.solve_kernel(X, Yr, gamma=gamma)
    assert true.residual < 1e-8 and rand.residual < 1e-8
    assert torch.equal(rand.fitted.argmax(1), yr)  # random labels fitted exactly
    err = lambda s: float((kernels.predict(X, s.alpha, ds.x_test.flatten(1), gamma=gamma).argmax(1) != ds.y_test).double().mean())  # noqa: E731
    assert err(true) < 0.1 and err(rand) > 0.7
    assert rand.rkhs_norm > 1.5 * true.rkhs_norm


def test_linear_least_squares_is_the_pseudo_inverse_solution():
    X, Y, _ = _data(300, 20)
    w = kernels.linear_least_squares(X, Y)
    assert torch.allclose(w, torch.linalg.pinv(X) @ Y, atol=1e-10)


def test_feature_maps():
    bank = kernels.gabor_bank(size=9, wavelengths=(3.0,), orientations=4)
    assert bank.shape == (8, 1, 9, 9)
    assert bank.sum((1, 2, 3)).abs().max() < 1e-5  # zero DC: flat images give no response
    x = torch.rand(6, 1, 12, 12)
    assert kernels.gabor_features(x, bank, pool=2).shape == (6, 4 * 6 * 6)
    K, Kt, dim = kernels.random_conv_gram(x[:4], x[4:], num_filters=10, size=3, pool_cells=2, filter_chunk=4)
    assert K.shape == (4, 4) and Kt.shape == (2, 4) and dim == 40
    assert torch.allclose(K, K.T) and float(torch.linalg.eigvalsh(K).min()) > -1e-10


def test_clear_errors():
    X, Y, _ = _data(50, 4)
    with pytest.raises(ValueError, match="Y has shape"):
        kernels.solve_kernel(X, Y[:-1])
    with pytest.raises(ValueError, match="ridge"):
        kernels.solve_kernel(X, Y, ridge=-1.0)
    with pytest.raises(ValueError, match="unknown kernel"):
        kernels.solve_kernel(X, Y, kernel="poly")
    X[10] = X[3]
    with pytest.raises(ValueError, match="not positive definite"):
        kernels.solve_kernel(X, Y, gamma=0.5)
    with pytest.raises(ValueError, match="not positive definite"):  # linear kernel with d < n is rank deficient
        kernels.solve_kernel(X, Y, kernel="linear")


def test_quick_experiment_shows_the_phenomena(results_dir):
    from rethinking_lib import experiments

    rec = experiments.run("kernel", "quick", n_train=500, n_test=200, ridges=[0.0, 0.1], linear_ns=[100, 300],
                          random_features={"datasets": ["mnist5k"], "num_filters": 32, "size": 5, "pool_cells": 5,
                                           "filter_chunk": 32, "ridges": [1e-2]})
    s = rec["result"]["summary"]
    assert s["residual"] < 1e-8
    assert s["test_error_no_ridge"] < 0.15 and s["test_error_random_labels"] > 0.7
    assert s["norm_random_labels"] > s["norm_true_labels"]
    assert {"test_error_best_ridge", "norm_gabor", "test_error_gabor"} <= set(s)


def test_results_table_puts_the_papers_numbers_beside_ours():
    from rethinking_lib import kernels, paper

    g = {"train_error": 0.0, "test_error": 0.033, "norm": 39.1}
    rows = kernels.results_table({"datasets": {"mnist5k": {"gaussian": g}}})
    assert rows[0]["test error %"] == pytest.approx(3.3)
    assert rows[0]["reported test error %"] == paper.KERNEL_TEST_ERROR["mnist_gaussian_pixels"] == 1.2
    assert rows[0]["reported on"] == "MNIST, 60,000 training images"
    cifar = [r for r in rows if r["data"] == "cifar10"]
    assert [r["reported test error %"] for r in cifar] == [46.0, 17.0, 15.0]
    assert all(r["test error %"] == "not run at this profile" and "CIFAR-10" in r["reported on"] for r in cifar)


def _fake_result(gabor=True, rf=True):
    gau = {"n": 4000, "dtype": "float64", "residual": 3e-13, "train_error": 0.0, "test_error": 0.05, "norm": 40.0,
           "seconds": {"kernel": 1.0, "factor": 0.5, "solve_and_check": 0.25},
           "ridge": [{"ridge": 0.0, "test_error": 0.05, "norm": 40.0}, {"ridge": 0.1, "test_error": 0.04, "norm": 30.0}],
           "random_labels": {"train_error": 0.0, "test_error": 0.9, "norm": 160.0}}
    d0 = {"gaussian": gau}
    if gabor:
        d0["gabor"] = {"norm": 60.0, "test_error": 0.03, "train_error": 0.0, "filters": 16}
    if rf:
        d0["random_features"] = {"num_filters": 32, "dim": 512, "rows": [
            {"ridge_rel": 0.0, "test_error": 0.2, "train_error": 0.0, "norm": 900.0},
            {"ridge_rel": 0.01, "test_error": 0.1, "train_error": 0.01, "norm": 90.0}]}
    return {"summary": {"dataset": "mnist5k"}, "datasets": {"mnist5k": d0}}


def test_chapter_sentences_read_the_measured_and_the_reported_numbers():
    from rethinking_lib import kernels, paper

    K = _fake_result()
    txt = kernels.solution_text(K)
    assert "test error 5.0%" in txt and "norm 40.0" in txt and "residual 3.0e-13" in txt
    assert f"{paper.KERNEL_TEST_ERROR['mnist_gaussian_pixels']:g}% test error" in txt
    assert f"norm about {paper.KERNEL_NORM['mnist_pixels']:g}" in txt and "60,000" in txt
    rt = kernels.ridge_text(K)
    assert "4.0% at λ = 0.1" in rt and "exact interpolation gives 5.0%" in rt and "20.0% to 10.0%" in rt
    assert "17% → 15%" in rt
    assert "20.0% to" not in kernels.ridge_text(_fake_result(rf=False))
    rows = kernels.random_labels_rows(K)
    assert [r["norm"] for r in rows] == [40.0, 160.0] and rows[1]["test error"] == 0.9
    assert "4.0x the norm" in kernels.random_labels_text(K) and "chance = 90% error" in kernels.random_labels_text(K)
    gt = kernels.gabor_text(K)
    assert "from 5.0% to 3.0%" in gt and "from 40.0 to 60.0 (up, as in the paper)" in gt
    assert "1.2% → 0.6%" in gt and "~220 → ~390" in gt
    assert kernels.gabor_text(_fake_result(gabor=False)) == ""
    pts = kernels.norm_points(K)
    assert [p["key"] for p in pts] == ["true_labels", "random_labels", "shuffled_pixels", "gaussian", "gaussian"]
    assert [p["norm"] for p in pts] == [40.0, 160.0, 60.0, 900.0, 90.0]
    assert len(kernels.norm_points(_fake_result(gabor=False, rf=False))) == 2


def test_rkhs_norm_is_the_one_norm_formula():
    X = torch.randn(30, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    Y = torch.randn(30, 2, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    sol = kernels.solve_kernel(X, Y, gamma=0.5)
    K = kernels.kernel_matrix(X, gamma=0.5)
    expected = float(torch.trace(sol.alpha.T @ K @ sol.alpha)) ** 0.5
    assert sol.rkhs_norm == pytest.approx(expected, rel=1e-9)
    assert kernels.solve_gram(K, Y).rkhs_norm == pytest.approx(expected, rel=1e-6)
    assert kernels.rkhs_norm(sol.alpha, sol.fitted) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("setting,match", [
    ({"datasets": []}, "datasets=\\[\\] must be a non-empty list"),
    ({"n_train": 0}, "n_train=0 must be a positive integer"),
    ({"ridges": []}, "ridges=\\[\\] must be a non-empty list"),
    ({"ridges": [-1.0]}, "must be a non-empty list of numbers >= 0"),
    ({"gamma": 0}, "gamma=0 must be a positive number"),
    ({"gamma": {"mnist": 0.02}}, "has no value for mnist5k"),
    ({"linear_ns": [0]}, "linear_ns=\\[0\\] must be a list of positive integers"),
    ({"random_features": {"datasets": ["mnist5k"]}}, "random_features needs the keys"),
    ({"chunk": 0}, "chunk=0 must be a positive integer"),
])
def test_kernel_settings_are_checked_with_one_line_errors(setting, match, results_dir):
    from rethinking_lib import experiments

    cfg = experiments.get("kernel").config("quick", **setting)
    with pytest.raises(ValueError, match=match) as e:
        kernels.validate(cfg)
    assert "\n" not in str(e.value) and str(e.value).startswith("kernel: setting")
    with pytest.raises(ValueError, match=match):  # the run itself refuses before loading anything
        experiments.run("kernel", "quick", out=None, **setting)
