"""Theorem 1 (Section 4): the constructed two-layer ReLU net has 2n + d weights and fits any targets."""

import pytest
import torch

from rethinking_lib import theorem1


def _data(n, d, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=g, dtype=torch.float64), g


@pytest.mark.parametrize("n,d", [(1, 3), (10, 2), (200, 30), (1000, 50)])
def test_real_targets_fitted_with_2n_plus_d_weights(n, d):
    X, g = _data(n, d)
    y = torch.randn(n, generator=g, dtype=torch.float64) * 3
    net = theorem1.construct(X, y)
    assert theorem1.num_params(net) == 2 * n + d
    with torch.no_grad():
        assert (net(X) - y).abs().max() < 1e-6


def test_random_class_labels_recovered_exactly():
    X, g = _data(1000, 20, seed=1)
    y = torch.randint(0, 10, (1000,), generator=g)
    net = theorem1.construct(X, y)
    with torch.no_grad():
        assert (net(X) - y.double()).abs().max() < 1e-6
        assert torch.equal(net.predict_class(X), y)


def test_thresholds_interleave_and_matrix_is_lower_triangular():
    X, g = _data(300, 5, seed=2)
    _, z = theorem1.project(X)
    zs = torch.sort(z).values
    b = theorem1.thresholds(zs)
    assert bool((b < zs).all()) and bool((zs[:-1] < b[1:]).all())  # b_1 < z_1 < b_2 < ... < b_n < z_n
    A = theorem1.relu_matrix(zs, b)
    assert torch.equal(A, A.tril()) and bool((A.diagonal() > 0).all())


def test_vector_targets_widen_only_w():
    X, g = _data(100, 7, seed=3)
    Y = torch.nn.functional.one_hot(torch.randint(0, 10, (100,), generator=g), 10).double()
    net = theorem1.construct(X, Y)
    assert theorem1.num_params(net) == 7 + 100 + 100 * 10
    with torch.no_grad():
        assert (net(X) - Y).abs().max() < 1e-6


def test_deep_variant_computes_the_same_function_on_the_data():
    X, g = _data(300, 10, seed=4)
    y = torch.randint(0, 10, (300,), generator=g).double()
    net = theorem1.construct(X, y)
    for k in (1, 3, 10):
        deep = theorem1.DeepNet(net, k)
        assert deep.depth == k + 1 and deep.width <= -(-300 // k) + 3
        with torch.no_grad():
            assert (deep(X) - y).abs().max() < 1e-6


def test_float32_is_much_worse_than_float64():
    rows = theorem1.conditioning([1000], d=50, dtypes=("float32", "float64"))
    err = {r["dtype"]: r["max_fit_error"] for r in rows}
    assert err["float64"] < 1e-6 < 1e-2 < err["float32"]


def test_duplicate_points_and_bad_shapes_raise_clear_errors():
    X, _ = _data(10, 3)
    X[7] = X[2]
    with pytest.raises(ValueError, match="duplicate points"):
        theorem1.construct(X, torch.zeros(10))
    with pytest.raises(ValueError, match="y has shape"):
        theorem1.construct(X[:5], torch.zeros(6))
    with pytest.raises(ValueError, match="2-D"):
        theorem1.project(torch.zeros(3))
    with pytest.raises(ValueError, match="frac"):
        theorem1.thresholds(torch.arange(3.0), frac=1.0)


def test_quick_experiment_reports_params_and_fit(results_dir):
    from rethinking_lib import experiments

    rec = experiments.run("theorem1", "quick", image_ns=[500], sweep_ns=[100], deep_n=200, deep_ks=[2], sgd_n=50, sgd_steps=20)
    s = rec["result"]["summary"]
    assert s["params"] == s["params_expected_2n_plus_d"] == 2 * s["n"] + s["d"]
    assert s["max_fit_error_float64"] < 1e-6 and s["random_labels_recovered_by_rounding"] == 1.0
