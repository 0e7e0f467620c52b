"""Rademacher chapter: the Monte Carlo estimator against exact values (finite classes by enumeration, the
norm-bounded linear class in closed form), and the networks' estimate at the quick profile."""

import math

import pytest
import torch

from rethinking_lib import data, experiments, rademacher


def _x(n=40, d=8, seed=0):
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def test_signs_are_plus_minus_one_and_seeded():
    s = rademacher.signs(1000, 3, seed=1)
    assert set(s.unique().tolist()) == {-1.0, 1.0}
    assert abs(float(s.mean())) < 0.05
    assert torch.equal(s, rademacher.signs(1000, 3, seed=1))


def test_finite_class_exact_values():
    h = torch.tensor([[1.0, 1.0]])
    assert rademacher.finite_class_exact(h) == 0.0  # one function: E[sigma . h] = 0
    # {h, -h}: E|sigma_1 + sigma_2| / 2 = (2 + 0 + 0 + 2) / 4 / 2
    assert rademacher.finite_class_exact(torch.tensor([[1.0, 1.0], [-1.0, -1.0]])) == pytest.approx(0.5)
    # all 2^n sign vectors: the sup is always 1
    all_h = torch.tensor([[float(b) for b in f"{i:04b}".replace("0", "2")] for i in range(16)]) * 2 - 3
    assert rademacher.finite_class_exact(all_h) == pytest.approx(1.0)


def test_monte_carlo_matches_finite_class_by_enumeration():
    g = torch.Generator().manual_seed(0)
    h = (torch.randint(0, 2, (6, 12), generator=g) * 2 - 1).double()
    exact = rademacher.finite_class_exact(h)
    mc = rademacher.monte_carlo(rademacher.finite_class_sup(h, rademacher.signs(12, 4000, seed=3)))
    assert abs(mc["estimate"] - exact) < 4 * mc["stderr"]
    assert exact <= rademacher.massart_bound(h)


def test_search_finds_the_linear_closed_form():
    x, sig = _x(), rademacher.signs(40, 5, seed=2)
    torch.testing.assert_close(rademacher.linear_sup_search(x, sig, 2.0), rademacher.linear_sup(x, sig, 2.0))


def test_monte_carlo_matches_the_linear_class_within_sampling_error():
    x, b = _x(), 0.5
    mc = rademacher.monte_carlo(rademacher.linear_sup(x, rademacher.signs(40, 200, seed=4), b))
    precise = float(rademacher.linear_sup(x, rademacher.signs(40, 50_000, seed=5), b).mean())
    assert abs(mc["estimate"] - precise) < 4 * mc["stderr"]
    jensen = rademacher.linear_jensen_bound(x, b)
    assert jensen / math.sqrt(2) <= precise <= jensen  # Khintchine-Kahane below, Jensen above


def test_a_network_fits_random_signs_on_a_small_sample():
    ds = data.load("digits", seed=0)
    sig = rademacher.signs(60, 2, seed=0)
    cfg = {"lr": {"mlp_1x512": 0.01}, "epochs": 150}
    sups = rademacher.network_sups("mlp_1x512", ds, sig, cfg, seed=0)
    assert all(s <= 1.0 for s in sups) and min(sups) >= 0.9


def test_separability_by_linear_program_follows_cover():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(30, 40, generator=g, dtype=torch.float64)  # 30 points in R^40
    # n <= d + 1 points in general position: every labeling is separable
    assert all(rademacher.linearly_separable(x, s) for s in rademacher.signs(30, 5, seed=1))
    xor = torch.tensor([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0], [1.0, 0.0]])
    assert not rademacher.linearly_separable(xor, torch.tensor([1.0, 1.0, -1.0, -1.0]))
    assert rademacher.linearly_separable(xor, torch.tensor([1.0, -1.0, 1.0, -1.0]))  # x_1 < 1/2 separates them
    with pytest.raises(ValueError, match="shape"):
        rademacher.linearly_separable(xor, torch.ones(3))


def test_bad_inputs():
    with pytest.raises(ValueError, match="n="):
        rademacher.signs(0, 3)
    with pytest.raises(ValueError, match="n=30"):
        rademacher.finite_class_exact(torch.ones(2, 30))
    with pytest.raises(ValueError, match="delta"):
        rademacher.rademacher_bound(0.0, 1.0, 100, delta=1.5)


@pytest.mark.slow
def test_quick_profile_network_near_one_linear_far_below_and_bound_vacuous(results_dir):
    res = experiments.run("rademacher", "quick", progress=False)["result"]
    mlp, lin = res["main"]["mlp_1x512"], res["main"]["linear_norm"]
    assert mlp["estimate"] >= 0.9
    assert lin["estimate"] <= mlp["estimate"] - 0.3 and lin["stderr"] < 0.01
    assert res["main"]["linear"]["estimate"] < mlp["estimate"]
    row = next(r for r in res["bound"] if r["model"] == "mlp_1x512")
    assert row["bound"] > 1 and row["test_error"] < 0.2  # vacuous where the network generalizes


def test_bad_settings_fail_before_training(tmp_path):
    with pytest.raises(ValueError, match="draws"):
        experiments.run("rademacher", "quick", out=tmp_path, draws=1)
    with pytest.raises(ValueError, match="n_train"):
        experiments.run("rademacher", "quick", out=tmp_path, n=99_999)


def test_monte_carlo_mean_and_standard_error():
    mc = rademacher.monte_carlo([1.0, 2.0, 3.0, 4.0])
    assert mc["estimate"] == 2.5 and mc["draws"] == 4 and mc["values"] == [1.0, 2.0, 3.0, 4.0]
    assert mc["stderr"] == pytest.approx(math.sqrt(5 / 3) / 2)  # sample std (n - 1) over sqrt(draws)
    assert math.isnan(rademacher.monte_carlo([0.7])["stderr"])


def test_signs_shape_and_seeds():
    s = rademacher.signs(7, 4, seed=2)
    assert s.shape == (4, 7) and s.dtype == torch.float64
    assert not torch.equal(rademacher.signs(200, 1, seed=1), rademacher.signs(200, 1, seed=2))
    assert rademacher.signs(1, 1).shape == (1, 1)
    with pytest.raises(ValueError, match="draws=0"):
        rademacher.signs(5, 0)


def test_closed_forms_against_their_formulas():
    x, sig = _x(n=6, d=3), rademacher.signs(6, 3, seed=1)
    for s in sig:
        expected = 2.0 * float((s[:, None] * x).sum(0).norm()) / 6
        assert float(rademacher.linear_sup(x, s, 2.0)) == pytest.approx(expected)
        assert float(rademacher.linear_sup_search(x, s, 2.0)[0]) == pytest.approx(expected)
    assert rademacher.linear_jensen_bound(x, 2.0) == pytest.approx(2.0 * float(x.pow(2).sum().sqrt()) / 6)
    h = torch.tensor([[1.0, -1.0, 1.0], [0.5, 0.5, -1.0]])
    s = torch.tensor([[1.0, 1.0, -1.0], [-1.0, 1.0, 1.0]])
    assert rademacher.finite_class_sup(h, s).tolist() == pytest.approx([2 / 3, -1 / 3])  # max(-1, 2) / 3, max(-1, -1) / 3
    assert rademacher.massart_bound(h) == pytest.approx(math.sqrt(3) * math.sqrt(2 * math.log(2)) / 3)
    assert rademacher.finite_class_exact(torch.ones(1, 20)) == pytest.approx(0.0)  # n = 20 still enumerates
    assert rademacher.rademacher_bound(0.1, 0.3, 200) == pytest.approx(0.4 + 3 * math.sqrt(math.log(40) / 400))


def test_pixels_are_whitened_centre_crops_and_build_gives_two_outputs():
    ds = data.load("digits", seed=0).subset(8, 4)
    x = rademacher.pixels(ds, "test")
    side = ds.image_size
    assert x.shape == (4, ds.in_channels * side * side)
    torch.testing.assert_close(x.norm(dim=1), torch.full((4,), math.sqrt(x.shape[1])), rtol=1e-4, atol=1e-4)
    lin = rademacher.build("linear", ds)
    assert lin(torch.zeros(2, ds.in_channels, side, side)).shape == (2, 2)
    assert rademacher.build("mlp_1x512", ds, width=0.5)(torch.zeros(2, ds.in_channels, side, side)).shape == (2, 2)
