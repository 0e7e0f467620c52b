"""Implicit regularization (Section 5): SGD from zero finds the minimum-norm (pseudo-inverse) solution."""

import pytest
import torch

from rethinking_lib.chapters import ch07_minnorm as implicit


def _close(a, b, rtol=1.3e-6, atol=1e-7):
    """torch.allclose with equal shapes (torch.testing.assert_close costs ~1 s of imports on its first call)."""
    assert a.shape == b.shape, (a.shape, b.shape)
    assert torch.allclose(a, b, rtol=rtol, atol=atol), float((a - b).abs().max())


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
    ({"n": 0}, r"minnorm: setting n=0 must be an integer > 0 \(e.g. --set n=1\)$"),
    ({"n": 300}, "n=300, d=200: the argument needs more unknowns than equations"),
    ({"n": 200}, r"n=200, d=200: the argument needs more unknowns than equations, n < d \(e.g. --set d=800\)$"),
    ({"d": 0}, r"setting d=0 must be an integer > 0 \(e.g. --set d=1\)$"),
    ({"epochs": 0}, r"epochs=0 must be an integer > 0 \(e.g. --set epochs=1\)$"),
    ({"w0_scale": -1}, r"w0_scale=-1 must be a number >= 0 \(e.g. --set w0_scale=0.1\)$"),
    ({"mnist_n": 0}, r"mnist_n=0 must be an integer > 0 \(e.g. --set mnist_n=1\)$"),
    ({"mnist_epochs": 0}, r"mnist_epochs=0 must be an integer > 0 \(e.g. --set mnist_epochs=1\)$"),
])
def test_minnorm_settings_are_checked_with_one_line_errors(setting, match, results_dir):
    from rethinking_lib import experiments

    with pytest.raises(ValueError, match=match) as e:  # by its range (config) or the experiment's own check
        implicit.validate(experiments.get("minnorm").config("quick", **setting))
    assert "\n" not in str(e.value) and str(e.value).startswith("minnorm: setting")
    with pytest.raises(ValueError, match=match):
        experiments.run("minnorm", "quick", **setting)


def test_chapter_rows_and_sentences_come_from_the_result():
    syn = _synthetic_result()
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


def test_sgd_is_single_example_kaczmarz_steps_in_a_seeded_random_order():
    """Two epochs by hand: a fresh permutation per epoch from torch's generator, step lr (x_i . w - y_i) x_i."""
    X, y, _ = _problem(n=5, d=12, seed=4)
    w, hist = implicit.sgd(X, y, epochs=2, lr=0.03, seed=7)
    ref = torch.zeros(12, dtype=torch.float64)
    g = torch.Generator().manual_seed(7)
    for _ in range(2):
        for i in torch.randperm(5, generator=g).tolist():
            ref = ref - 0.03 * (X[i] @ ref - y[i]) * X[i]
    _close(w, ref, rtol=1e-12, atol=1e-14)
    assert hist["epoch"] == [0, 1, 2] and hist["dist"] == []
    # the default seed is 0 and the default step 1 / max ||x_i||^2
    w0_default, _ = implicit.sgd(X, y, epochs=2, lr=0.03)
    w0_seeded, _ = implicit.sgd(X, y, epochs=2, lr=0.03, seed=0)
    assert torch.equal(w0_default, w0_seeded) and not torch.equal(w0_default, w)
    lr = 1.0 / float((X * X).sum(1).max())
    assert torch.equal(implicit.sgd(X, y, epochs=2, seed=7)[0], implicit.sgd(X, y, epochs=2, seed=7, lr=lr)[0])


def test_default_step_moves_the_prediction_onto_the_target():
    """One example: the default step 1/||x||^2 solves x . w = y in a single update (Kaczmarz)."""
    X, y, _ = _problem(n=1, d=6, seed=5)
    w, hist = implicit.sgd(X, y, epochs=1)
    _close(X @ w, y, rtol=1e-12, atol=1e-12)
    _close(w, implicit.min_norm(X, y), rtol=1e-12, atol=1e-12)
    assert hist["loss"][-1] < 1e-28 and hist["epoch"] == [0, 1]


def test_sgd_history_records_loss_distance_and_row_space_per_epoch():
    X, y, g = _problem(n=6, d=20, seed=6)
    w_star = implicit.min_norm(X, y)
    _, h = implicit.sgd(X, y, epochs=3, track=w_star)
    assert h["epoch"] == [0, 1, 2, 3]
    assert h["loss"][0] == pytest.approx(float((y ** 2).sum()) / (2 * 6), rel=1e-12)  # (1/2n)||X 0 - y||^2
    assert h["dist"][0] == pytest.approx(1.0, rel=1e-12)  # ||0 - w*|| / ||w*||
    assert h["loss"][-1] < h["loss"][0] and h["dist"][-1] < h["dist"][0]
    _, h100 = implicit.sgd(X, y, epochs=100)
    assert h100["epoch"] == list(range(0, 101, 2))  # every epochs // 50 epochs, the last one included
    _, h_def = implicit.sgd(X, y)
    assert h_def["epoch"][-1] == 200 and h_def["epoch"][:3] == [0, 4, 8]  # 200 epochs by default
    _, h7 = implicit.sgd(X, y, epochs=103)
    assert h7["epoch"][-2:] == [102, 103]
    # from a random start the iterate still only moves along the rows of X
    w0 = torch.randn(20, generator=g, dtype=torch.float64)
    w, h0 = implicit.sgd(X, y, w0=w0, epochs=20)
    assert max(h0["off_rowspace"]) < 1e-10
    assert not torch.equal(w, w0)


def test_sgd_leaves_the_start_untouched_and_checks_lr():
    X, y, g = _problem(n=4, d=9, seed=8)
    w0 = torch.randn(9, generator=g, dtype=torch.float64)
    before = w0.clone()
    implicit.sgd(X, y, w0=w0, epochs=3)
    assert torch.equal(w0, before)
    with pytest.raises(ValueError, match="lr=0 must be positive"):
        implicit.sgd(X, y, lr=0)
    with pytest.raises(ValueError, match="lr=-0.1 must be positive"):
        implicit.sgd(X, y, lr=-0.1)
    w, _ = implicit.sgd(X, y, lr=1e-3, epochs=1)  # any positive step is accepted
    assert w.shape == (9,)


def test_bad_shapes_name_the_argument():
    X, y, _ = _problem(n=4, d=9)
    with pytest.raises(ValueError, match=r"X must be 2-D \(n, d\), got shape \(36,\); flatten"):
        implicit.min_norm(X.flatten(), y)
    with pytest.raises(ValueError, match=r"y has shape \(4, 1, 1\) but X has 4 rows"):
        implicit.min_norm(X, y[:, None, None])
    with pytest.raises(ValueError, match=r"y has shape \(3,\) but X has 4 rows"):
        implicit.hessian(X, y[:3], torch.zeros(9, dtype=torch.float64))
    with pytest.raises(ValueError, match=r"w0 has shape \(9,\); it must be \(9, 2\)"):
        implicit.predicted_limit(X, torch.zeros(4, 2, dtype=torch.float64), torch.zeros(9, dtype=torch.float64))
    implicit.predicted_limit(X, torch.zeros(4, 2, dtype=torch.float64), torch.zeros(9, 2, dtype=torch.float64))


TINY = {"n": 5, "d": 16, "epochs": 190, "mnist_n": 6, "mnist_epochs": 3}  # 6 digits: not every class


def test_minnorm_experiment_result_matches_a_recomputation(results_dir):
    """The stored result against the same quantities computed here from the seeded data."""
    from rethinking_lib import experiments
    from rethinking_lib.engine import data

    rec = experiments.run("minnorm", "quick", seed=1, **TINY)
    res = rec["result"]
    syn, mn, summ = res["synthetic"], res["mnist"], res["summary"]
    g = torch.Generator().manual_seed(1)
    X = torch.randn(5, 16, generator=g, dtype=torch.float64)
    y = torch.randn(5, generator=g, dtype=torch.float64)
    w0 = torch.randn(16, generator=g, dtype=torch.float64)
    w_star = torch.linalg.pinv(X) @ y
    limit = implicit.predicted_limit(X, y, w0)
    assert (syn["n"], syn["d"]) == (5, 16)
    assert syn["pinv_norm"] == pytest.approx(float(w_star.norm()), rel=1e-10)
    z, r = syn["from_zero"], syn["from_random"]
    assert z["rel_dist_to_pinv"] < 1e-6 and z["norm"] == pytest.approx(syn["pinv_norm"], rel=1e-6)
    assert z["history"]["epoch"][-1] == 190 and z["train_loss"] == z["history"]["loss"][-1] < 1e-12
    assert z["history"]["dist"][0] == pytest.approx(1.0)
    assert z["history"] == implicit.sgd(X, y, epochs=190, seed=1, track=w_star)[1]  # the run's seed, its epochs
    assert r["history"] == implicit.sgd(X, y, w0=w0, epochs=190, seed=1, track=w_star)[1]
    assert r["rel_dist_to_predicted"] < 1e-6 and r["norm"] == pytest.approx(float(limit.norm()), rel=1e-6)
    assert r["rel_dist_to_pinv"] == pytest.approx(float((limit - w_star).norm() / w_star.norm()), rel=1e-5)
    assert r["history"]["dist"][0] == pytest.approx(float((w0 - w_star).norm() / w_star.norm()), rel=1e-10)
    assert r["train_loss"] == r["history"]["loss"][-1] < 1e-12
    h = syn["hessian"]
    ev = torch.linalg.eigvalsh(X.T @ X / 5)
    assert h["max_diff_between_solutions"] < 1e-12 and h["max_diff_vs_XtX_over_n"] < 1e-12
    assert h["zero_eigenvalues"] == h["d_minus_n"] == 11
    assert h["eig_max"] == pytest.approx(float(ev.max()), rel=1e-9)
    assert h["eig_min_nonzero"] == pytest.approx(float(torch.linalg.eigvalsh(X @ X.T / 5).min()), rel=1e-6)

    ds = data.load("mnist5k", crop=None, seed=1)
    Xm, Xte = ds.x_train[:6].flatten(1).double(), ds.x_test.flatten(1).double()
    assert max(ds.y_train[:6].tolist()) < 9  # so one_hot must be told there are 10 classes
    Y = torch.nn.functional.one_hot(ds.y_train[:6], 10).double()
    W = torch.linalg.pinv(Xm) @ Y
    assert (mn["n"], mn["d"], mn["n_test"]) == (6, 784, len(ds.y_test))
    assert mn["pinv"]["norm"] == pytest.approx(float(W.norm()), rel=1e-8)
    assert mn["pinv"]["train_mse"] < 1e-20
    assert mn["pinv"]["test_error"] == pytest.approx(float(((Xte @ W).argmax(1) != ds.y_test).double().mean()))
    W0 = torch.randn(784, 10, generator=torch.Generator().manual_seed(2), dtype=torch.float64) * 0.05
    for key, start in (("sgd_from_zero", torch.zeros(784, 10, dtype=torch.float64)), ("sgd_from_random", W0)):
        m = mn[key]
        assert m["history"]["epoch"] == [0, 1, 2, 3] and m["rel_dist_to_pinv"] == m["history"]["dist"][-1]
        assert m["history"]["dist"][0] == pytest.approx(float((start - W).norm() / W.norm()), rel=1e-10)
        assert m["history"]["loss"][0] == pytest.approx(float(((Xm @ start - Y) ** 2).sum()) / 12, rel=1e-10)
        assert 0 < m["train_mse"] < float(((Xm @ start - Y) ** 2).mean())
        w0 = None if key == "sgd_from_zero" else W0
        assert m["history"] == implicit.sgd(Xm, Y, w0=w0, epochs=3, seed=1, track=W)[1]  # the run's seed
        assert 0 <= m["test_error"] <= 1 and m["norm"] > 0
    assert mn["sgd_from_random"]["norm"] > mn["sgd_from_zero"]["norm"]
    assert summ == {
        "sgd_from_zero_rel_dist_to_pinv": z["rel_dist_to_pinv"], "sgd_from_random_rel_dist_to_pinv": r["rel_dist_to_pinv"],
        "sgd_from_random_rel_dist_to_predicted_limit": r["rel_dist_to_predicted"],
        "hessian_max_diff_between_solutions": h["max_diff_between_solutions"],
        "mnist_test_error_pinv": mn["pinv"]["test_error"], "mnist_test_error_sgd_zero": mn["sgd_from_zero"]["test_error"],
        "mnist_test_error_sgd_random": mn["sgd_from_random"]["test_error"]}


def test_minnorm_mnist_n_must_stay_below_the_pixels(results_dir):
    from rethinking_lib import experiments

    with pytest.raises(ValueError, match=r"^minnorm: setting mnist_n=784 must be below the 784 pixels \(n < d\) and "
                                         r"at most the 4,000 training images \(e\.g\. --set mnist_n=50\)$"):
        experiments.run("minnorm", "quick", **dict(TINY, epochs=1, mnist_n=784))


def test_chapter_tables_in_full():
    syn = _synthetic_result()
    mn = {"n": 50, "d": 784, "pinv": {"norm": 1.0, "train_mse": 1e-30, "test_error": 0.3},
          "sgd_from_zero": {"norm": 1.5, "train_mse": 0.1, "test_error": 0.4, "rel_dist_to_pinv": 0.2},
          "sgd_from_random": {"norm": 3.0, "train_mse": 0.2, "test_error": 0.5, "rel_dist_to_pinv": 2.0}}
    res = {"synthetic": syn, "mnist": mn}
    assert implicit.synthetic_rows(res) == [
        {"run": "SGD from w0 = 0", "relative distance to X+y": 1e-12, "training loss": 1e-20, "norm of w": 2.0},
        {"run": "SGD from random w0", "relative distance to X+y": 0.8, "training loss": 1e-19, "norm of w": 5.0},
        {"run": "pseudo-inverse X+y", "relative distance to X+y": 0.0, "training loss": 0.0, "norm of w": 2.0}]
    assert implicit.synthetic_text(res) == (
        "Gaussian data, n = 40, d = 200, single-example SGD with step 1/max‖x_i‖². From the random start, the "
        "distance to the *predicted* limit (I − X⁺X)w₀ + X⁺y is 3.0e-09.")
    assert implicit.hessian_rows(res) == [
        {"max abs. difference H(w_zero) vs H(w_random)": 0.0, "max abs. difference H vs XᵀX/n": 1e-16,
         "zero eigenvalues": 160, "d - n": 160, "largest eigenvalue": 9.0, "smallest nonzero": 0.5}]
    assert implicit.mnist_rows(res) == [
        {"solution": "pseudo-inverse X+y", "train MSE": 1e-30, "norm": 1.0, "test error": 0.3, "rel. distance to X+y": 0.0},
        {"solution": "SGD from 0", "train MSE": 0.1, "norm": 1.5, "test error": 0.4, "rel. distance to X+y": 0.2},
        {"solution": "SGD from random w0", "train MSE": 0.2, "norm": 3.0, "test error": 0.5, "rel. distance to X+y": 2.0}]
    assert implicit.mnist_text(res) == "n = 50 training digits, d = 784 pixels, tested on held-out digits."


def _synthetic_result() -> dict:
    """A hand-written synthetic record (the chapter's rows and sentences are read from it)."""
    return {"n": 40, "d": 200, "pinv_norm": 2.0,
            "from_zero": {"rel_dist_to_pinv": 1e-12, "train_loss": 1e-20, "norm": 2.0},
            "from_random": {"rel_dist_to_pinv": 0.8, "rel_dist_to_predicted": 3e-9, "train_loss": 1e-19, "norm": 5.0},
            "hessian": {"max_diff_between_solutions": 0.0, "max_diff_vs_XtX_over_n": 1e-16, "zero_eigenvalues": 160,
                        "d_minus_n": 160, "eig_max": 9.0, "eig_min_nonzero": 0.5}}
