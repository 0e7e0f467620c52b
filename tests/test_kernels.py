"""Exact kernel interpolation (Section 5, equation (3)): the solver, its residual check, and the experiment."""

import math

import pytest
import torch

from rethinking_lib.chapters import ch07_kernel as kernels


def _close(a, b, rtol=1.3e-6, atol=1e-7):
    """torch.allclose with equal shapes (torch.testing.assert_close costs ~1 s of imports on its first call)."""
    assert a.shape == b.shape, (a.shape, b.shape)
    assert torch.allclose(a, b, rtol=rtol, atol=atol), float((a - b).abs().max())


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
    from rethinking_lib.engine import data

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
    from rethinking_lib import paper
    from rethinking_lib.chapters import ch07_kernel as kernels

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
           "seconds": {"kernel_matrix": 1.0, "factor": 0.5, "solve_and_check": 0.25},
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
    from rethinking_lib import paper
    from rethinking_lib.chapters import ch07_kernel as kernels

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
    ({"n_train": 0}, "n_train=0 must be an integer > 0"),
    ({"ridges": []}, "ridges=\\[\\] must be a non-empty list"),
    ({"ridges": [-1.0]}, r"ridges=\[-1.0\] must be a number >= 0 for each entry"),
    ({"gamma": 0}, "gamma=0 must be a number > 0"),
    ({"gamma": {"mnist": 0.02}}, "has no value for mnist5k"),
    ({"linear_ns": [0]}, "linear_ns=\\[0\\] must be an integer > 0 for each entry"),
    ({"random_features": {"datasets": ["mnist5k"]}}, "random_features needs the keys"),
    ({"chunk": 0}, "chunk=0 must be an integer > 0"),
])
def test_kernel_settings_are_checked_with_one_line_errors(setting, match, results_dir):
    from rethinking_lib import experiments

    with pytest.raises(ValueError, match=match) as e:  # by its range (config) or the experiment's own check
        kernels.validate(experiments.get("kernel").config("quick", **setting))
    assert "\n" not in str(e.value) and str(e.value).startswith("kernel: setting")
    with pytest.raises(ValueError, match=match):  # the run itself refuses before loading anything
        experiments.run("kernel", "quick", out=None, **setting)


# ----------------------------------------------------------------------------------------------
# the solver against exact references (numpy's solve, the pseudo-inverse, the kernels' formulas)


def _np_solve(K, Y):
    import numpy as np

    return torch.from_numpy(np.linalg.solve(K.numpy(), Y.numpy()))


def test_kernel_blocks_match_their_formulas():
    g = torch.Generator().manual_seed(3)
    A, B = torch.rand(5, 3, generator=g), torch.rand(7, 3, generator=g)  # float32 in: computed in float64
    lin = kernels.kernel_block(A, B, "linear")
    assert lin.dtype == torch.float64 and torch.allclose(lin, A.double() @ B.double().T)
    gau = kernels.kernel_block(A, B)  # gaussian with the paper's gamma by default
    assert torch.allclose(gau, torch.exp(-0.02 * torch.cdist(A.double(), B.double()) ** 2), atol=1e-14)
    assert torch.allclose(kernels.kernel_block(A, A, gamma=3.0).diagonal(), torch.ones(5, dtype=torch.float64))
    with pytest.raises(ValueError, match="^unknown kernel 'rbf': choose one of gaussian, linear$"):
        kernels.kernel_block(A, B, "rbf")


def test_kernel_matrix_rectangular_out_and_dtype():
    g = torch.Generator().manual_seed(4)
    A, B = torch.rand(9, 2, 2, generator=g), torch.rand(4, 4, generator=g)  # (n, 2, 2) is flattened to (n, 4)
    K = kernels.kernel_matrix(A, B, gamma=0.7, chunk=2)
    assert K.shape == (9, 4) and K.dtype == torch.float64
    assert torch.allclose(K, torch.exp(-0.7 * torch.cdist(A.flatten(1).double(), B.double()) ** 2))
    K32 = kernels.kernel_matrix(A, B, kernel="linear", dtype=torch.float32)
    assert K32.dtype == torch.float32 and torch.allclose(K32, A.flatten(1) @ B.T)
    buf = torch.full((9, 4), 7.0, dtype=torch.float64)
    assert kernels.kernel_matrix(A, B, gamma=0.7, out=buf) is buf and torch.allclose(buf, K)
    with pytest.raises(ValueError, match="^A has 4 features but B has 3: both must have the same dimension$"):
        kernels.kernel_matrix(A, B[:, :3])
    with pytest.raises(ValueError, match=r"^A must have a batch dimension, got shape \(4,\); pass \(n, d\)"):
        kernels.kernel_matrix(B[0])
    with pytest.raises(ValueError, match=r"^B must have a batch dimension"):
        kernels.kernel_matvec(B, B[0], torch.ones(1))
    with pytest.raises(ValueError, match=r"^B must have a batch dimension"):
        kernels.kernel_matrix(B, B[0])
    with pytest.raises(ValueError, match=r"^A must have a batch dimension"):
        kernels.kernel_matvec(B[0], B, torch.ones(4))
    with pytest.raises(ValueError, match=r"^X must have a batch dimension"):
        kernels.linear_least_squares(B[0], torch.ones(4))
    alpha = torch.rand(4, 2, generator=g)
    _close(kernels.kernel_matvec(A, B, alpha, kernel="linear", chunk=4),
                               A.flatten(1).double() @ B.double().T @ alpha.double())
    _close(kernels.predict(B, alpha, A, gamma=0.7, chunk=5), K @ alpha.double())
    _close(kernels.predict(B, alpha, A), kernels.kernel_matrix(A, B) @ alpha.double())
    _close(kernels.predict(B, alpha, A, kernel="linear"), A.flatten(1).double() @ B.double().T @ alpha.double())


def test_free_bytes_and_dtype_choice(monkeypatch):
    from rethinking_lib.theory import kernel_solver

    pages = {"SC_AVPHYS_PAGES": 1000, "SC_PAGE_SIZE": 4096}
    monkeypatch.setattr(kernel_solver.os, "sysconf", lambda name: pages[name])
    assert kernels.free_bytes(torch.device("cpu")) == 4_096_000

    def broken(name):
        raise ValueError(name)

    monkeypatch.setattr(kernel_solver.os, "sysconf", broken)
    assert kernels.free_bytes(torch.device("cpu")) == 8 << 30

    class Cuda:
        type = "cuda"

    cuda = Cuda()
    monkeypatch.setattr(kernel_solver.torch.cuda, "mem_get_info", lambda dev: (123_456, 999_999) if dev is cuda else None)
    assert kernels.free_bytes(cuda) == 123_456

    # n = 1000, chunk = 10, d = 500: buffers 4 * 10 * 1500 * 8 bytes + 64 MiB = 67,588,864 bytes; float64 fits
    # when 8e6 + that < 0.92 x free (free > 82,161,809), float32 when 4e6 + that < 0.92 x free (free > 77,813,983)
    free = {}
    monkeypatch.setattr(kernel_solver, "free_bytes", lambda dev: free["b"])
    cpu = torch.device("cpu")
    for b, dt in ((82_180_000, torch.float64), (82_140_000, torch.float32), (77_830_000, torch.float32)):
        free["b"] = b
        assert kernels.choose_dtype(1000, cpu, chunk=10, d=500) == dt, b
    free["b"] = 77_800_000
    with pytest.raises(ValueError, match="^n=1000: the kernel matrix needs 0.0 GB even in float32 but only 0.1 GB"):
        kernels.choose_dtype(1000, cpu, chunk=10, d=500)
    free["b"] = 2 * 10**9
    with pytest.raises(ValueError, match=r"^n=100000: the kernel matrix needs 40.0 GB even in float32 but only 2.0 GB "
                                         r"is free on cpu; use fewer training points \(n_train=\)$"):
        kernels.choose_dtype(100_000, cpu)
    free["b"] = 10**9  # default chunk 2048: 4 * 2048 * 1000 * 8 + 64 MiB of buffers
    assert kernels.choose_dtype(1000, cpu) == torch.float64
    edge = int((8e6 + 4 * 2048 * 1000 * 8 + (64 << 20)) / 0.92)
    free["b"] = edge - 20_000
    assert kernels.choose_dtype(1000, cpu) == torch.float32
    free["b"] = edge + 20_000  # chunk = 2048 and d = 0 by default: float64 just fits
    assert kernels.choose_dtype(1000, cpu) == torch.float64
    free["b"] = 2_050_000_001
    with pytest.raises(ValueError, match="but only 2.1 GB is free"):
        kernels.choose_dtype(100_000, cpu)
    X, Y, _ = _data(40, 3)
    free["b"] = int((40 * 40 * 8 + 4 * 2048 * 43 * 8 + (64 << 20)) / 0.92) - 5_000  # auto: float32 here
    assert kernels.solve_kernel(X, Y, gamma=20.0).dtype == "float32"


def test_solve_matches_numpy_exact_solve_with_and_without_ridge():
    X, Y, _ = _data(60, 5, seed=1)
    K = torch.exp(-0.5 * torch.cdist(X, X) ** 2)
    for ridge in (0.0, 0.3):
        sol = kernels.solve_kernel(X, Y, gamma=0.5, ridge=ridge, dtype=torch.float64)
        ref = _np_solve(K + ridge * torch.eye(60, dtype=torch.float64), Y)
        _close(sol.alpha, ref, rtol=1e-7, atol=1e-7 * float(ref.abs().max()))
        _close(sol.fitted, K @ sol.alpha, rtol=1e-10, atol=1e-10)
        assert sol.ridge == ridge and sol.dtype == "float64"
        assert sol.residual == sol.residual_history[-1] < 1e-9
        assert sol.peak_bytes == 60 * 60 * 8  # on the CPU: the kernel matrix
        assert set(sol.seconds) == {"kernel_matrix", "factor", "solve_and_check"}
        assert all(0 <= t < 60 for t in sol.seconds.values())
        g = kernels.solve_gram(K, Y, ridge=ridge)
        _close(g.alpha, ref, rtol=1e-7, atol=1e-7 * float(ref.abs().max()))
        assert g.ridge == ridge and g.dtype == "float64" and g.residual == g.residual_history[-1] < 1e-9
        assert g.peak_bytes == 60 * 60 * 8 and set(g.seconds) == {"factor", "solve_and_check"}
        assert all(0 <= t < 60 for t in g.seconds.values())
    # the linear kernel with d > n is positive definite: an exact solve too
    Xw = torch.randn(8, 20, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    lin = kernels.solve_kernel(Xw, Y[:8], kernel="linear")
    _close(lin.alpha, _np_solve(Xw @ Xw.T, Y[:8]), rtol=1e-7, atol=1e-9)
    # a float32 Gram matrix: factored and reported in float32, refined in float64
    g32 = kernels.solve_gram(K.float(), Y, refine=4)
    assert g32.dtype == "float32" and g32.peak_bytes == 60 * 60 * 4 and len(g32.residual_history) <= 5
    # a vector y is one column
    one = kernels.solve_kernel(X, Y[:, 3], gamma=0.5)
    assert one.alpha.shape == (60, 1)
    _close(one.alpha[:, 0], _np_solve(K, Y[:, 3]), rtol=1e-7, atol=1e-6)


def test_refinement_steps_and_tolerance(monkeypatch):
    X, Y, _ = _data(200, 10)
    sol = kernels.solve_kernel(X, Y, gamma=0.5, dtype=torch.float32, refine=0)
    assert len(sol.residual_history) == 1 and sol.residual > 1e-8  # no refinement: the float32 solve as it is
    K = kernels.kernel_matrix(X, gamma=0.5)
    rel = float(torch.linalg.norm(Y - K @ sol.alpha) / torch.linalg.norm(Y))  # the relative residual, here
    assert sol.residual == pytest.approx(rel, rel=1e-6)
    for s in (kernels.solve_kernel(X, Y, gamma=0.5, dtype=torch.float32), kernels.solve_gram(K.float(), Y)):
        assert len(s.residual_history) > 1 and s.residual < 1e-9  # refined down to the default tol 1e-9
    from rethinking_lib.engine import devices

    monkeypatch.setattr(devices, "peak_bytes", lambda device: 12345)  # a device that measures its peak
    assert kernels.solve_kernel(X[:20], Y[:20], gamma=0.5).peak_bytes == 12345
    assert kernels.solve_gram(K[:20, :20], Y[:20]).peak_bytes == 12345
    two = kernels.solve_kernel(X, Y, gamma=0.5, dtype=torch.float32, refine=2, tol=0.0)
    assert len(two.residual_history) == 3 and two.residual_history[0] == sol.residual
    assert two.residual_history[2] < two.residual_history[1] < two.residual_history[0]
    loose = kernels.solve_kernel(X, Y, gamma=0.5, dtype=torch.float32, refine=5, tol=1.0)
    assert len(loose.residual_history) == 1  # already below tol: no refinement
    dflt = kernels.solve_kernel(X, Y, gamma=0.5, dtype=torch.float32, tol=0.0)
    assert len(dflt.residual_history) == 6  # refine=5 by default
    assert len(kernels.solve_gram(kernels.kernel_matrix(X, gamma=0.5).float(), Y, tol=0.0).residual_history) == 3


def test_rkhs_norm_of_given_products():
    a = torch.tensor([[1.0, 2.0]], dtype=torch.float64)
    assert kernels.rkhs_norm(a, torch.tensor([[0.25, 0.0]], dtype=torch.float64)) == 0.5
    assert kernels.rkhs_norm(a, torch.tensor([[0.0, 0.02]], dtype=torch.float64)) == pytest.approx(0.2)
    assert kernels.rkhs_norm(a, torch.tensor([[-1.0, 0.0]], dtype=torch.float64)) == 0.0  # rounding below 0: 0


def test_linear_least_squares_both_sides_and_ridge():
    g = torch.Generator().manual_seed(5)
    Y = torch.randn(12, 3, generator=g, dtype=torch.float64)
    tall, wide = torch.randn(12, 4, generator=g, dtype=torch.float64), torch.randn(12, 30, generator=g, dtype=torch.float64)
    for X in (tall, wide):
        _close(kernels.linear_least_squares(X, Y), torch.linalg.pinv(X) @ Y, rtol=1e-8, atol=1e-10)
        d = X.shape[1]
        ridge = X.T @ torch.linalg.solve(X @ X.T + 0.5 * torch.eye(12, dtype=torch.float64), Y)
        _close(kernels.linear_least_squares(X, Y, ridge=0.5), ridge, rtol=1e-8, atol=1e-10)
        _close(ridge, torch.linalg.solve(X.T @ X + 0.5 * torch.eye(d, dtype=torch.float64), X.T @ Y))
    small = tall * 1e-4  # eigenvalues ~1e-7: the cut is relative to the largest, nothing is clamped
    _close(kernels.linear_least_squares(small, Y), torch.linalg.pinv(small) @ Y, rtol=1e-6, atol=1e-6)
    # rank deficient (a repeated column): the min-norm solution, small eigenvalues dropped
    dup = torch.cat([tall, tall[:, :1]], 1)
    _close(kernels.linear_least_squares(dup, Y), torch.linalg.pinv(dup) @ Y, rtol=1e-7, atol=1e-9)
    # a float32 (n, 1, 2, 2) input and a vector y
    w = kernels.linear_least_squares(tall.float().reshape(12, 1, 2, 2), Y[:, 0].float())
    assert w.shape == (4, 1) and w.dtype == torch.float64
    with pytest.raises(ValueError, match=r"^ridge=-1 must be >= 0 \(0 is exact interpolation\)$"):
        kernels.linear_least_squares(tall, Y, ridge=-1)
    with pytest.raises(ValueError, match=r"^Y has shape \(12, 3, 1\) but there are 12 training points"):
        kernels.linear_least_squares(tall, Y[..., None])


def test_solver_errors_name_the_problem():
    X, Y, _ = _data(20, 3)
    with pytest.raises(ValueError, match=r"^K must be a square \(n, n\) matrix, got shape \(20, 3\)$"):
        kernels.solve_gram(X, Y)
    with pytest.raises(ValueError, match=r"^K must be a square"):
        kernels.solve_gram(torch.ones(2, 2, 2), Y)
    with pytest.raises(ValueError, match=r"^Y has shape \(19, 10\) but there are 20 training points: pass Y as \(n,\) "
                                         r"or \(n, k\)$"):
        kernels.solve_gram(kernels.kernel_matrix(X), Y[:-1])
    with pytest.raises(ValueError, match=r"^ridge=-0.5 must be >= 0"):
        kernels.solve_gram(kernels.kernel_matrix(X), Y, ridge=-0.5)
    with pytest.raises(ValueError, match=r"^X must have a batch dimension"):
        kernels.solve_kernel(X[0], Y)
    X, Y, _ = _data(50, 4)
    X[10] = X[3]
    with pytest.raises(ValueError, match=r"^the kernel matrix is not positive definite in float64 \(Cholesky failed at "
                                         r"column \d+\): the points may contain duplicates or the kernel is rank "
                                         r"deficient \(e.g. linear with d < n\); pass ridge > 0, or dtype=torch.float64$"):
        kernels.solve_gram(kernels.kernel_matrix(X, gamma=0.5), Y)
    kernels.solve_gram(kernels.kernel_matrix(X, gamma=0.5), Y, ridge=1e-3)  # a ridge makes it definite
    bad = torch.eye(3, dtype=torch.float64)
    bad[0, 0] = -1.0
    with pytest.raises(ValueError, match=r"\(Cholesky failed at column 1\)"):
        kernels.solve_gram(bad, torch.ones(3, dtype=torch.float64))


# ----------------------------------------------------------------------------------------------
# the feature maps against their definitions


def _gabor_reference(size, lam, theta, odd):
    """One Gabor filter written out: envelope exp(-r^2 / (2 (0.56 lam)^2)) x cos/sin(2 pi u / lam), the
    envelope-weighted mean removed, unit norm."""
    import numpy as np

    r = np.arange(size) - (size - 1) / 2
    yy, xx = np.meshgrid(r, r, indexing="ij")
    env = np.exp(-(xx ** 2 + yy ** 2) / (2 * (0.56 * lam) ** 2))
    u = xx * np.cos(theta) + yy * np.sin(theta)
    f = env * (np.sin if odd else np.cos)(2 * np.pi * u / lam)
    f = f - env * f.sum() / env.sum()
    return f / np.linalg.norm(f)


def test_gabor_bank_is_the_documented_filters():
    bank = kernels.gabor_bank(size=7, wavelengths=(3.0, 5.0), orientations=3)
    assert bank.shape == (12, 1, 7, 7) and bank.dtype == torch.float32
    i = 0
    for lam in (3.0, 5.0):
        for k in range(3):
            for odd in (False, True):
                ref = torch.from_numpy(_gabor_reference(7, lam, math.pi * k / 3, odd)).float()
                _close(bank[i, 0], ref, rtol=1e-5, atol=1e-6)
                i += 1
    dflt = kernels.gabor_bank()  # 9 x 9, wavelengths 3 and 6, 4 orientations
    assert dflt.shape == (16, 1, 9, 9)
    _close(dflt[15, 0], torch.from_numpy(_gabor_reference(9, 6.0, 3 * math.pi / 4, True)).float(),
                               rtol=1e-5, atol=1e-6)


def test_gabor_features_are_pooled_response_moduli():
    import torch.nn.functional as F

    g = torch.Generator().manual_seed(6)
    x = torch.rand(5, 1, 10, 10, generator=g)
    bank = kernels.gabor_bank(size=5, wavelengths=(3.0,), orientations=2)
    resp = F.conv2d(x, bank, padding=2)  # same-size responses
    mod = torch.sqrt(resp[:, [0, 2]] ** 2 + resp[:, [1, 3]] ** 2)  # (even, odd) pairs
    ref = F.avg_pool2d(mod, 2).flatten(1)
    _close(kernels.gabor_features(x, bank, pool=2, chunk=2), ref)
    assert kernels.gabor_features(x, bank, pool=5).shape == (5, 2 * 2 * 2)
    full = kernels.gabor_features(x.double())  # the default bank (16 filters, 9 x 9): 8 moduli, pooled by 2
    assert full.shape == (5, 8 * 5 * 5) and full.dtype == torch.float32
    _close(full, kernels.gabor_features(x, kernels.gabor_bank(), pool=2))
    with pytest.raises(ValueError, match=r"^gabor_features needs grey images \(N, 1, H, W\), got shape \(5, 3, 10, 10\)$"):
        kernels.gabor_features(x.expand(5, 3, 10, 10))
    with pytest.raises(ValueError, match=r"got shape \(5, 10, 10\)"):
        kernels.gabor_features(x[:, 0])


def test_random_conv_gram_is_the_gram_of_the_documented_features():
    import torch.nn.functional as F

    from rethinking_lib.engine import data

    g = torch.Generator().manual_seed(7)
    x = torch.rand(7, 3, 9, 9, generator=g)
    xtr, xte = x[:5], x[5:]
    K, Kt, dim = kernels.random_conv_gram(xtr, xte, num_filters=6, size=3, pool_cells=2, stride=2, seed=4,
                                          filter_chunk=6, image_chunk=5)
    gw = torch.Generator().manual_seed(4)
    W = torch.randn(6, 3, 3, 3, generator=gw) / math.sqrt(27)
    b = torch.randn(6, generator=gw) * 0.5
    phi = lambda z: (F.adaptive_avg_pool2d(F.relu(F.conv2d(data.whiten(z), W, b, stride=2)), 2)  # noqa: E731
                     .flatten(1).double() / math.sqrt(6))
    assert dim == 6 * 2 * 2 and K.dtype == torch.float64
    _close(K, phi(xtr) @ phi(xtr).T, rtol=1e-12, atol=1e-14)  # features in float64 before their products
    _close(Kt, phi(xte) @ phi(xtr).T, rtol=1e-12, atol=1e-14)
    K2, Kt2, _ = kernels.random_conv_gram(xtr, xte, num_filters=6, size=3, pool_cells=2, stride=2, seed=4,
                                          filter_chunk=6, image_chunk=2)  # images in chunks: the same Gram
    _close(K2, K, rtol=1e-5, atol=1e-6)
    _close(Kt2, Kt, rtol=1e-5, atol=1e-6)
    # filters drawn in chunks: the Gram matrices add up over the chunks (each chunk's draws in turn)
    Kc, Ktc, dimc = kernels.random_conv_gram(xtr, xte, num_filters=7, size=3, pool_cells=3, filter_chunk=3,
                                             dtype=torch.float32)
    assert dimc == 7 * 9 and Kc.dtype == Ktc.dtype == torch.float32 and Ktc.shape == (2, 5)
    gw = torch.Generator().manual_seed(0)
    ref, reft = torch.zeros(5, 5, dtype=torch.float64), torch.zeros(2, 5, dtype=torch.float64)
    for nf in (3, 3, 1):
        W = torch.randn(nf, 3, 3, 3, generator=gw) / math.sqrt(27)
        b = torch.randn(nf, generator=gw) * 0.5
        f, ft = (F.adaptive_avg_pool2d(F.relu(F.conv2d(data.whiten(z), W, b)), 3).flatten(1).double() / math.sqrt(7)
                 for z in (xtr, xte))
        ref += f @ f.T
        reft += ft @ f.T
    _close(Kc.double(), ref, rtol=1e-5, atol=1e-6)
    _close(Ktc.double(), reft, rtol=1e-5, atol=1e-6)
    Kd, Ktd, dimd = kernels.random_conv_gram(xtr, xte, num_filters=257)  # the defaults, spelled out below
    assert dimd == 257 * 9 and Kd.dtype == torch.float64
    Ke, Kte, _ = kernels.random_conv_gram(xtr, xte, num_filters=257, size=5, pool_cells=3, stride=1, seed=0,
                                          filter_chunk=256, image_chunk=500, dtype=torch.float64)
    assert torch.equal(Kd, Ke) and torch.equal(Ktd, Kte)


# ----------------------------------------------------------------------------------------------
# the experiment's record against a recomputation from the same data


def _median_sq(Z):
    """The lower median (torch's convention) of the squared distances between the first 500 rows."""
    import numpy as np

    D = torch.cdist(Z[:500].double(), Z[:500].double()).pow(2).numpy()
    d = np.sort(D[np.triu_indices(len(D), 1)])
    return float(d[(len(d) - 1) // 2])


def test_kernel_experiment_record_matches_a_recomputation(results_dir, monkeypatch):
    from rethinking_lib import experiments
    from rethinking_lib.engine import data

    rf = {"datasets": ["mnist5k"], "num_filters": 16, "size": 4, "pool_cells": 4, "stride": 2, "filter_chunk": 8,
          "ridges": [1e-2]}
    rec = experiments.run("kernel", "quick", seed=1, n_train=120, n_test=50, gamma={"mnist5k": 0.03}, chunk=50,
                          ridges=[0.0, 0.1], linear_ns=[40, 10_000, 100, 120], linear_ridge=1000.0, random_features=rf)
    res = rec["result"]
    r = res["datasets"]["mnist5k"]
    ds = data.load("mnist5k", crop=None, seed=1).subset(120, 50)
    X, Xte = ds.x_train.flatten(1).double(), ds.x_test.flatten(1).double()
    Y = torch.nn.functional.one_hot(ds.y_train, 10).double()
    yr = torch.randint(0, 10, (120,), generator=torch.Generator().manual_seed(1))
    err = lambda s, yy: float((s.argmax(1) != yy).double().mean())  # noqa: E731
    assert r["data"] == ds.describe()

    gau = r["gaussian"]
    K, Kte = kernels.kernel_matrix(X, gamma=0.03), kernels.kernel_matrix(Xte, X, gamma=0.03)
    A = _np_solve(K, torch.cat([Y, torch.nn.functional.one_hot(yr, 10).double()], 1))
    assert (gau["n"], gau["d"], gau["gamma"], gau["dtype"]) == (120, 784, 0.03, "float64")
    assert gau["residual"] == gau["residual_history"][-1] < 1e-9
    assert set(gau["seconds"]) == {"kernel_matrix", "factor", "solve_and_check"} and gau["peak_bytes"] == 120 * 120 * 8
    assert gau["train_error"] == 0.0 and gau["test_error"] == err(Kte @ A[:, :10], ds.y_test)
    assert gau["norm"] == pytest.approx(float(torch.trace(A[:, :10].T @ K @ A[:, :10])) ** 0.5, rel=1e-6)
    rl = gau["random_labels"]
    assert rl["train_error"] == 0.0 and rl["test_error"] == err(Kte @ A[:, 10:], ds.y_test)
    assert rl["norm"] == pytest.approx(float(torch.trace(A[:, 10:].T @ K @ A[:, 10:])) ** 0.5, rel=1e-6)
    assert [row["ridge"] for row in gau["ridge"]] == [0.0, 0.1]
    assert gau["ridge"][0] == {"ridge": 0.0, "test_error": gau["test_error"], "norm": gau["norm"],
                               "residual": gau["residual"]}
    a1 = _np_solve(K + 0.1 * torch.eye(120, dtype=torch.float64), Y)
    row = gau["ridge"][1]
    assert row["test_error"] == err(Kte @ a1, ds.y_test) and row["train_error"] == err(K @ a1, ds.y_train)
    assert row["norm"] == pytest.approx(float(torch.trace(a1.T @ K @ a1)) ** 0.5, rel=1e-6) and row["residual"] < 1e-9

    gb = r["gabor"]
    Ftr, Fte = kernels.gabor_features(ds.x_train), kernels.gabor_features(ds.x_test)
    g_gab = 0.03 * _median_sq(X) / _median_sq(Ftr)
    assert gb["gamma"] == pytest.approx(g_gab, rel=1e-6) and gb["d"] == Ftr.shape[1] == 8 * 14 * 14
    assert gb["filters"] == 16
    Kg = kernels.kernel_matrix(Ftr, gamma=g_gab)
    ag = _np_solve(Kg, Y)
    assert gb["test_error"] == err(kernels.kernel_matrix(Fte, Ftr, gamma=g_gab) @ ag, ds.y_test)
    assert gb["train_error"] == 0.0 and gb["residual"] < 1e-9
    assert gb["norm"] == pytest.approx(float(torch.trace(ag.T @ Kg @ ag)) ** 0.5, rel=1e-5)

    Kr, Ktr, dim = kernels.random_conv_gram(ds.x_train, ds.x_test, num_filters=16, size=4, pool_cells=4, stride=2,
                                            seed=1, filter_chunk=8)
    assert r["random_features"]["num_filters"] == 16 and r["random_features"]["dim"] == dim == 256
    rows = r["random_features"]["rows"]
    assert [x["ridge_rel"] for x in rows] == [0.0, 1e-2]
    for x in rows:
        a = _np_solve(Kr + x["ridge_rel"] * float(Kr.diagonal().mean()) * torch.eye(120, dtype=torch.float64), Y)
        assert x["test_error"] == err(Ktr @ a, ds.y_test) and x["train_error"] == err(Kr @ a, ds.y_train)
        assert x["norm"] == pytest.approx(float(torch.trace(a.T @ Kr @ a)) ** 0.5, rel=1e-4) and x["residual"] < 1e-8

    lin = r["linear"]
    assert lin["rank"] == int(torch.linalg.matrix_rank(X)) and lin["ridge"] == 1000.0
    assert [x["n"] for x in lin["sweep"]] == [40, 100, 120]  # 10,000 > n_train: skipped, the rest still run
    for x in lin["sweep"]:
        n = x["n"]
        w, wr = torch.linalg.pinv(X[:n]) @ Y[:n], kernels.linear_least_squares(X[:n], Y[:n], ridge=1000.0)
        assert x == {"n": n, "test_error": err(Xte @ w, ds.y_test), "train_error": err(X[:n] @ w, ds.y_train[:n]),
                     "test_error_ridge": err(Xte @ wr, ds.y_test)}
        assert err(X[:n] @ wr, ds.y_train[:n]) > x["train_error"] == 0.0  # the training error is the exact fit's

    best = min(gau["ridge"], key=lambda q: q["test_error"])
    assert res["summary"] == {
        "dataset": "mnist5k", "n": 120, "test_error_no_ridge": gau["test_error"], "best_ridge": best["ridge"],
        "test_error_best_ridge": best["test_error"], "residual": gau["residual"], "norm_true_labels": gau["norm"],
        "norm_random_labels": rl["norm"], "test_error_random_labels": rl["test_error"],
        "norm_gabor": gb["norm"], "test_error_gabor": gb["test_error"]}

    # when two kernel matrices do not fit in memory the ridge sweep rebuilds K per ridge: the same rows
    monkeypatch.setattr(kernels, "free_bytes", lambda device: 0)
    again = experiments.run("kernel", "quick", seed=1, n_train=120, n_test=50, gamma={"mnist5k": 0.03}, chunk=50,
                            ridges=[0.0, 0.1], linear_ns=[], gabor=False, random_features=None, rerun=True)
    rows = again["result"]["datasets"]["mnist5k"]["gaussian"]["ridge"]
    assert [q["ridge"] for q in rows] == [0.0, 0.1] and rows[1]["test_error"] == row["test_error"]
    assert rows[1]["norm"] == pytest.approx(row["norm"], rel=1e-6) and rows[1]["residual"] < 1e-9
    assert rows[1]["train_error"] == row["train_error"]


def test_kernel_experiment_without_the_optional_parts(results_dir):
    from rethinking_lib import experiments

    rec = experiments.run("kernel", "quick", n_train=60, n_test=30, gabor=False, random_features=None, linear_ns=[],
                          ridges=[0.0], datasets=["digits", "mnist5k"], gamma=0.05)
    res = rec["result"]
    assert list(res["datasets"]) == ["digits", "mnist5k"]
    for r in res["datasets"].values():
        assert set(r) == {"data", "gaussian"} and [q["ridge"] for q in r["gaussian"]["ridge"]] == [0.0]
        assert r["gaussian"]["n"] == 60 and r["gaussian"]["gamma"] == 0.05
    assert res["datasets"]["digits"]["gaussian"]["d"] == 64
    assert res["summary"]["dataset"] == "digits" and "norm_gabor" not in res["summary"]
    assert res["summary"]["test_error_no_ridge"] == res["datasets"]["digits"]["gaussian"]["test_error"]
    # n_train / n_test of None: the whole dataset (digits: 1,297 / 500)
    rec = experiments.run("kernel", "quick", n_train=None, n_test=None, gabor=False, random_features=None,
                          linear_ns=[], ridges=[0.0], datasets=["digits"], gamma=0.05)
    assert rec["result"]["summary"]["n"] == 1297


# ----------------------------------------------------------------------------------------------
# the chapter's tables and sentences, word for word


def test_results_table_rows_in_full():
    K = _fake_result()
    K["datasets"]["cifar10"] = {
        "gaussian": {"train_error": 0.02, "test_error": 0.5, "norm": 70.0},
        "gabor": {"train_error": 0.03, "test_error": 0.45, "norm": 80.0, "filters": 16},
        "random_features": {"num_filters": 32000, "dim": 128000, "rows": [
            {"ridge_rel": 0.0, "test_error": 0.2, "train_error": 0.0, "norm": 9.0}]}}
    rows = kernels.results_table(K)
    mnist, cifar = "MNIST, 60,000 training images", "CIFAR-10, 50,000 training images"
    assert rows == [
        {"data": "mnist5k", "method": "Gaussian kernel on pixels, exact", "train error %": 0.0, "test error %": 5.0,
         "reported test error %": 1.2, "reported on": mnist, "norm": 40.0},
        {"data": "mnist5k", "method": "Gabor bank (16 filters) + Gaussian kernel, exact", "train error %": 0.0,
         "test error %": 3.0, "reported test error %": 0.6, "reported on": mnist + " (wavelets)", "norm": 60.0},
        {"data": "mnist5k", "method": "random conv features (32 filters, dim 512), exact", "train error %": 0.0,
         "test error %": 20.0, "reported test error %": 17.0, "reported on": cifar + ", 32,000 filters", "norm": 900.0},
        {"data": "mnist5k", "method": "random conv features (32 filters, dim 512), + l2 (0.01 x mean diag)",
         "train error %": 1.0, "test error %": 10.0, "reported test error %": 15.0,
         "reported on": cifar + ", 32,000 filters", "norm": 90.0},
        {"data": "cifar10", "method": "Gaussian kernel on pixels, exact", "train error %": 2.0, "test error %": 50.0,
         "reported test error %": 46.0, "reported on": cifar, "norm": 70.0},
        {"data": "cifar10", "method": "Gabor bank (16 filters) + Gaussian kernel, exact", "train error %": 3.0,
         "test error %": 45.0, "reported test error %": None, "reported on": "-", "norm": 80.0},
        {"data": "cifar10", "method": "random conv features (32000 filters, dim 128,000), exact", "train error %": 0.0,
         "test error %": 20.0, "reported test error %": 17.0, "reported on": cifar + ", 32,000 filters", "norm": 9.0},
    ]
    only_mnist = kernels.results_table(_fake_result(gabor=False, rf=False))
    assert only_mnist[1:] == [
        {"data": "cifar10", "method": m, "train error %": None, "test error %": "not run at this profile",
         "reported test error %": rep, "reported on": cifar, "norm": None}
        for m, rep in (("Gaussian kernel on pixels, exact", 46.0), ("random conv features (32,000 filters)", 17.0),
                       ("random conv features + l2", 15.0))]


def test_chapter_sentences_in_full():
    K = _fake_result()
    assert kernels.solution_text(K) == (
        "**Measured** (mnist5k, n = 4,000): exact interpolation with the paper's kernel in float64, relative residual "
        "3.0e-13, training error 0.0%, **test error 5.0%**; solution norm 40.0. Time: kernel 1.0 s, Cholesky 0.5 s, "
        "solve and residual check 0.2 s. **Reported:** 1.2% test error on the full MNIST (60,000 training images), "
        "norm about 220.")
    assert kernels.ridge_text(K) == (
        "**Measured:** the best test error over these λ is 4.0% at λ = 0.1; exact interpolation gives 5.0%. For the "
        "random convolutional features, whose exact interpolant has a large norm, a small l2 term changes the test "
        "error from 20.0% to 10.0%; the paper reports 17% → 15% on CIFAR-10.")
    assert kernels.ridge_text(_fake_result(rf=False)) == (
        "**Measured:** the best test error over these λ is 4.0% at λ = 0.1; exact interpolation gives 5.0%. ")
    assert kernels.random_labels_rows(K) == [
        {"labels": "true", "train error": 0.0, "test error": 0.05, "norm": 40.0},
        {"labels": "random", "train error": 0.0, "test error": 0.9, "norm": 160.0}]
    assert kernels.random_labels_text(K) == (
        "The random-label interpolant is exact too (residual 3.0e-13 for both), has 0.0% training error and 90.0% test "
        "error (chance = 90% error), and 4.0x the norm of the true-label one.")
    assert "(chance = 80% error)" in kernels.random_labels_text(K, num_classes=5)
    assert kernels.gabor_text(K) == (
        "**Measured:** Gabor features take the test error from 5.0% to 3.0% while the norm goes from 40.0 to 60.0 (up, "
        "as in the paper). Norms of different kernels are not on a common scale (they depend on the features and on "
        "our choice of γ), which is exactly why a norm computed in one representation cannot rank solutions from "
        "another. **Reported:** 1.2% → 0.6% error, norm ~220 → ~390.")
    down = _fake_result()
    down["datasets"]["mnist5k"]["gabor"]["norm"] = 40.0
    assert "from 40.0 to 40.0 (about the same or down: the paper reports it going up)" in kernels.gabor_text(down)
    assert kernels.norm_points(K) == [
        {"label": "pixels, true labels", "norm": 40.0, "test_error": 0.05, "key": "true_labels"},
        {"label": "pixels, random labels", "norm": 160.0, "test_error": 0.9, "key": "random_labels"},
        {"label": "Gabor features", "norm": 60.0, "test_error": 0.03, "key": "shuffled_pixels"},
        {"label": "random features, exact", "norm": 900.0, "test_error": 0.2, "key": "gaussian"},
        {"label": "random features + l2 (0.01)", "norm": 90.0, "test_error": 0.1, "key": "gaussian"}]


@pytest.mark.parametrize("setting,match", [
    ({"datasets": "mnist5k"}, r"datasets='mnist5k' must be a non-empty list of dataset names \(e.g. --set "
                              r"datasets=\[\"mnist5k\"\]\)$"),
    ({"n_test": 0}, r"n_test=0 must be a positive integer \(e.g. --set n_test=1000\)$"),
    ({"n_train": 0}, r"n_train=0 must be a positive integer \(e.g. --set n_train=1000\)$"),
    ({"gamma": True}, r"gamma=True must be a positive number \(e.g. --set gamma=0.02\)$"),
    ({"gamma": "0.02"}, r"gamma='0.02' must be a positive number"),
    ({"gamma": {"mnist5k": -1.0}}, r"gamma=\{'mnist5k': -1.0\} must be a positive number"),
    ({"gamma": {"x": 1.0}, "datasets": ["mnist5k", "digits"]},
     r"gamma=\{'x': 1.0\} has no value for digits, mnist5k \(e.g. --set gamma=0.02\)$"),
    ({"ridges": [True]}, r"ridges=\[True\] must be a non-empty list of numbers >= 0 \(e.g. --set ridges=\[0,0.001,0.1\]\)$"),
    ({"ridges": ["0"]}, r"ridges=\['0'\] must be"),
    ({"ridges": 0.1}, r"ridges=0.1 must be"),
    ({"chunk": 0}, r"chunk=0 must be a positive integer \(e.g. --set chunk=2048\)$"),
    ({"linear_ns": [0]}, r"linear_ns=\[0\] must be a list of positive integers \(e.g. --set linear_ns=\[100,400\]\)$"),
    ({"linear_ridge": 0}, r"linear_ridge=0 must be a positive number \(e.g. --set linear_ridge=1.0\)$"),
    ({"random_features": "yes"}, r"random_features needs the keys datasets, filter_chunk, num_filters, pool_cells, "
                                 r"ridges, size \(or null to skip them\), e.g. --set random_features=null$"),
    ({"random_features": {"datasets": [], "num_filters": 0, "size": 5, "pool_cells": 2, "filter_chunk": 4,
                          "ridges": []}}, r"num_filters=0 must be a positive integer \(e.g. --set num_filters=256\)$"),
    ({"random_features": {"datasets": [], "num_filters": 8, "size": 5, "pool_cells": 2, "filter_chunk": -1,
                          "ridges": []}}, r"filter_chunk=-1 must be a positive integer"),
    ({"random_features": {"datasets": [], "num_filters": 8, "size": 0, "pool_cells": 2, "filter_chunk": 4,
                          "ridges": []}}, r"size=0 must be a positive integer"),
    ({"random_features": {"datasets": [], "num_filters": 8, "size": 5, "pool_cells": 0, "filter_chunk": 4,
                          "ridges": []}}, r"pool_cells=0 must be a positive integer"),
])
def test_kernel_settings_each_check(setting, match):
    from rethinking_lib import experiments

    cfg = dict(experiments.get("kernel").config("quick"), **setting)
    with pytest.raises(ValueError, match="^kernel: setting " + match):
        kernels.validate(cfg)


def test_kernel_settings_accepted():
    from rethinking_lib import experiments

    base = experiments.get("kernel").config("quick")
    for setting in ({}, {"n_train": None, "n_test": None}, {"gamma": 1}, {"gamma": {"mnist5k": 0.1, "other": 2}},
                    {"ridges": [0]}, {"ridges": (0.0, 1)}, {"linear_ns": []}, {"random_features": None},
                    {"random_features": {}}, {"datasets": ("mnist5k",)}):
        kernels.validate(dict(base, **setting))


def test_backend_without_in_place_cholesky_factors_a_copy(monkeypatch):
    """A backend that refuses cholesky_ex(out=...) still gets the same solution (factored into a new buffer)."""
    from rethinking_lib.theory import kernel_solver

    real = torch.linalg.cholesky_ex
    calls = []

    def no_out(M, **kw):
        calls.append(sorted(kw))
        if "out" in kw:
            raise RuntimeError("out= not supported here")
        return real(M, **kw)

    X, Y, _ = _data(30, 4, seed=2)
    ref = kernels.solve_kernel(X, Y, gamma=0.5)
    monkeypatch.setattr(kernel_solver.torch.linalg, "cholesky_ex", no_out)
    sol = kernels.solve_kernel(X, Y, gamma=0.5)
    assert calls == [["out"], []]
    _close(sol.alpha, ref.alpha, rtol=1e-10, atol=1e-10)
    assert sol.residual < 1e-9 and all(0 <= t < 60 for t in sol.seconds.values())
    X[7] = X[1]
    with pytest.raises(ValueError, match="not positive definite in float64"):
        kernels.solve_kernel(X, Y, gamma=0.5)


def test_random_features_l2_ridge_is_chosen_on_a_validation_split_not_the_test_set():
    """The "+ l2" row's ridge is the one with the lowest error on the last 10% of the training set (fitted on the
    rest), recomputed here by hand; the function never sees the test set, and a tie goes to the smaller ridge."""
    g = torch.Generator().manual_seed(0)
    X = torch.randn(60, 5, generator=g, dtype=torch.float64)
    y = torch.randint(0, 3, (60,), generator=g)
    K = kernels.kernel_matrix(X, gamma=0.2)
    Y = torch.nn.functional.one_hot(y, 3).double()
    ridges = [1e-4, 1e-1, 10.0]
    chosen, errs = kernels.ridge_on_validation(K, Y, y, ridges, 0.1)
    fit, held = slice(0, 54), slice(54, 60)
    by_hand = []
    for lam in ridges:
        a = _np_solve(K[fit, fit] + lam * float(K[fit, fit].diagonal().mean()) * torch.eye(54, dtype=torch.float64), Y[fit])
        by_hand.append(float(((K[held, fit] @ a).argmax(1) != y[held]).double().mean()))
    assert [e["val_error"] for e in errs] == pytest.approx(by_hand)
    best = min(by_hand)
    assert chosen == next(lam for lam, e in zip(ridges, by_hand, strict=True) if e == best)
    with pytest.raises(ValueError, match="fraction=1.5"):
        kernels.ridge_on_validation(K, Y, y, ridges, 1.5)
