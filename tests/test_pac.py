"""PAC chapter: the Hoeffding interval and the classical bounds against their formulas, and the phenomenon
of Section 2.2 at the quick profile (R_hat = 0 on true and random labels, R far apart, every bound > 1)."""

import math

import pytest
import torch

from rethinking_lib import experiments, pac


def test_hoeffding_interval_has_its_width_and_covers_at_its_level():
    lo, hi = pac.hoeffding_interval(0.3, 1000, 0.05)
    eps = math.sqrt(math.log(2 / 0.05) / 2000)
    assert hi - lo == pytest.approx(2 * eps)
    # coverage: the true error lies in the interval for at least 95% of 4,000 simulated test sets
    g = torch.Generator().manual_seed(0)
    p, n = 0.3, 200
    errs = (torch.rand(4000, n, generator=g) < p).double().mean(1)
    covered = [lo <= p <= hi for lo, hi in (pac.hoeffding_interval(float(e), n, 0.05) for e in errs)]
    assert sum(covered) / len(covered) >= 0.95


def test_clopper_pearson_is_exact_and_never_wider_than_hoeffding():
    from scipy.stats import binom

    lo, hi = pac.clopper_pearson_interval(0.0, 1000, 0.05)
    assert lo == 0 and hi == pytest.approx(1 - 0.025 ** (1 / 1000))  # k = 0: closed form
    for err, m in [(0.062, 1000), (0.3, 200), (0.9, 1000)]:
        lo, hi = pac.clopper_pearson_interval(err, m, 0.05)
        k = round(err * m)
        assert binom.cdf(k, m, hi) == pytest.approx(0.025) and binom.sf(k - 1, m, lo) == pytest.approx(0.025)
        h_lo, h_hi = pac.hoeffding_interval(err, m, 0.05)
        assert hi - lo <= h_hi - h_lo
    with pytest.raises(ValueError, match="error="):
        pac.clopper_pearson_interval(1.5, 100)


def test_natarajan_growth_and_reported_errors():
    # k classes: ln Pi(n) <= d (ln n + 2 ln k), capped at n ln 2
    assert pac.log_growth(1e6, 10, classes=10) == pytest.approx(10 * (math.log(1e6) + 2 * math.log(10)))
    assert pac.log_growth(100, 1e6, classes=10) == pytest.approx(100 * math.log(2))
    assert pac.bounds_for(10_000, 2, 1000, classes=10)["vc"] > math.sqrt(2 * math.log(2))
    assert pac.log_class_size(10, bits=8) == pytest.approx(80 * math.log(2))
    assert pac.reported_errors("mlp_1x512", "random_labels") == pytest.approx((1 - 0.9934, 1 - 0.1061))
    with pytest.raises(ValueError, match="model="):
        pac.reported_errors("resnet", "true_labels")


def test_finite_class_bound_counts_float32_parameters():
    assert pac.log_class_size(10) == pytest.approx(320 * math.log(2))
    log_h = pac.log_class_size(1000)
    assert pac.finite_class_bound(log_h, 500, 0.05) == pytest.approx((log_h + math.log(20)) / 500)
    agnostic = pac.finite_class_bound(log_h, 500, 0.05, train_error=0.1)
    assert agnostic == pytest.approx(0.1 + math.sqrt((log_h + math.log(40)) / 1000))


def test_vc_bound_saturates_when_d_exceeds_n_and_vanishes_for_large_n():
    # d >= n: the growth function is 2^n, the bound is at least sqrt(2 ln 2) > 1 whatever d is
    assert pac.vc_bound(1e9, 1000) == pytest.approx(pac.vc_bound(1e7, 1000))
    assert pac.vc_bound(1e7, 1000) > math.sqrt(2 * math.log(2))
    assert pac.vc_bound(10, 1e7) < 0.01
    need = pac.samples_needed(lambda m: pac.vc_bound(100, m), 0.1)
    assert pac.vc_bound(100, need) <= 0.1 < pac.vc_bound(100, need / 1.05)


def test_bad_delta_and_n_are_rejected():
    with pytest.raises(ValueError, match="delta"):
        pac.hoeffding_interval(0.1, 100, 0.0)
    with pytest.raises(ValueError, match="n="):
        pac.vc_bound(10, 0)
    with pytest.raises(ValueError, match="n_params"):
        pac.log_class_size(0)


@pytest.mark.slow
def test_quick_profile_fits_both_labelings_and_every_bound_is_vacuous(results_dir):
    rows = {r["condition"]: r for r in experiments.run("pac", "quick", progress=False)["result"]["rows"]}
    true, rand = rows["true_labels"], rows["random_labels"]
    assert true["train_error"] == 0 and rand["train_error"] == 0
    assert true["test_error_ci"][1] < rand["test_error_ci"][0]  # R differs, beyond the Hoeffding intervals
    assert true["test_error"] < 0.15 and rand["test_error"] > 0.8
    for r in (true, rand):
        lo, hi = r["test_error_ci"]
        assert lo <= r["test_error"] <= hi
        assert r["bounds"]["finite_class"] > 1 and r["bounds"]["vc"] > 1
        assert r["bounds"]["n_needed_vc"] > 1000 * r["n_train"]


def test_bad_settings_fail_before_training(tmp_path):
    with pytest.raises(ValueError, match="delta"):
        experiments.run("pac", "quick", out=tmp_path, delta=2.0)
    with pytest.raises(ValueError, match="models"):
        experiments.run("pac", "quick", out=tmp_path, models=["resnet"])
