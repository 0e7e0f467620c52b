"""PAC chapter: the Hoeffding interval and the classical bounds against their formulas, and the phenomenon
of Section 2.2 at the quick profile (R_hat = 0 on true and random labels, R far apart, every bound > 1)."""

import math

import pytest
import torch

from rethinking_lib import experiments
from rethinking_lib.chapters import ch01_pac as pac


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


def test_intervals_at_their_edges_and_default_confidence():
    assert pac.hoeffding_interval(0.3, 1000) == pac.hoeffding_interval(0.3, 1000, 0.05)
    assert pac.hoeffding_interval(0.99, 10) == (pytest.approx(0.99 - math.sqrt(math.log(40) / 20)), 1.0)
    assert pac.hoeffding_interval(0.5, 1, 0.5) == (0.0, 1.0)  # n = 1 is a sample size
    lo, hi = pac.clopper_pearson_interval(1.0, 1000, 0.05)  # k = n: closed form
    assert hi == 1.0 and lo == pytest.approx(0.025 ** (1 / 1000))
    for bad in (1.0, 1.5):
        with pytest.raises(ValueError, match="delta"):
            pac.hoeffding_interval(0.1, 100, bad)


def test_bounds_against_their_formulas():
    log_h = pac.log_class_size(1)
    assert log_h == pytest.approx(32 * math.log(2))
    assert pac.finite_class_bound(log_h, 500) == pytest.approx((log_h + math.log(20)) / 500)
    assert pac.vc_dimension_proxy(2, 1) == 2.0 and pac.vc_dimension_proxy(1024, 3) == 1024 * 3 * 10
    for w, depth in ((1, 5), (10, 0)):
        with pytest.raises(ValueError, match="n_params"):
            pac.vc_dimension_proxy(w, depth)
    # Sauer for two classes (the default), Natarajan for three
    assert pac.log_growth(1e6, 100) == pytest.approx(100 * math.log(math.e * 1e4))
    assert pac.log_growth(1e6, 100, classes=3) == pytest.approx(100 * (math.log(1e6) + 2 * math.log(3)))
    with pytest.raises(ValueError, match="classes"):
        pac.log_growth(10, 2, classes=1)
    n, d = 1e5, 100
    sauer, natarajan = d * math.log(math.e * n / d), d * (math.log(n) + 2 * math.log(10))
    assert pac.vc_bound(d, n, 0.05, 0.1) == pytest.approx(
        0.1 + math.sqrt(2 * sauer / n) + math.sqrt(math.log(20) / (2 * n)))
    assert pac.vc_bound(d, n, classes=10) == pytest.approx(
        math.sqrt(2 * natarajan / n) + math.sqrt(math.log(20) / (2 * n)))


def test_samples_needed_bisects_to_one_percent():
    assert 10 <= pac.samples_needed(lambda m: 1 / m) <= 10.1  # default target 0.1
    assert 1.25 <= pac.samples_needed(lambda m: 1 / m, 0.8) <= 1.25 * 1.01
    assert pac.samples_needed(lambda m: 0.5, 0.5) <= 1.01  # already at the target with one sample
    assert pac.samples_needed(lambda m: 0.5, 0.1) == math.inf


def test_bounds_for_and_bound_grid_collect_the_formulas():
    w, depth, n = 5000, 2, 2000
    log_h, d = pac.log_class_size(w), pac.vc_dimension_proxy(w, depth)
    log_h16 = pac.log_class_size(w, 16)
    for err in (0.0, 0.2):
        b = pac.bounds_for(w, depth, n, 0.1, err, target=0.2, classes=10, bits=16)
        assert b["n_params"] == w and b["depth"] == depth and b["vc_dimension_proxy"] == d
        assert b["log_class_size"] == pytest.approx(log_h16)
        assert b["finite_class"] == pytest.approx(pac.finite_class_bound(log_h16, n, 0.1, train_error=err or None))
        assert b["finite_class_agnostic"] == pytest.approx(pac.finite_class_bound(log_h16, n, 0.1, train_error=err))
        assert b["vc"] == pytest.approx(pac.vc_bound(d, n, 0.1, err, 10))
        assert b["n_needed_finite_class"] == pytest.approx(
            pac.samples_needed(lambda m: pac.finite_class_bound(log_h16, m, 0.1), 0.2))
        assert b["n_needed_vc"] == pytest.approx(pac.samples_needed(lambda m: pac.vc_bound(d, m, 0.1, classes=10), 0.2))
        assert (b["target"], b["classes"], b["bits"]) == (0.2, 10, 16)
    default = pac.bounds_for(w, depth, n)
    assert default["log_class_size"] == pytest.approx(log_h) and default["vc"] == pytest.approx(pac.vc_bound(d, n))
    assert default["n_needed_vc"] == pytest.approx(pac.samples_needed(lambda m: pac.vc_bound(d, m), 0.1))
    grid = pac.bound_grid([100, 1000], [10, 50], depth=3, delta=0.1)
    assert grid["n"] == [100, 1000] and grid["n_params"] == [10, 50]
    assert grid["finite_class"][1][0] == pytest.approx(pac.finite_class_bound(pac.log_class_size(50), 100, 0.1))
    assert grid["vc"][0][1] == pytest.approx(pac.vc_bound(pac.vc_dimension_proxy(10, 3), 1000, 0.1))


def test_reported_errors_for_both_labelings_and_bad_names():
    assert pac.reported_errors("mlp_1x512", "true_labels") == pytest.approx((1 - 1.0, 1 - 0.5051))
    with pytest.raises(ValueError, match="condition='gaussian'"):
        pac.reported_errors("mlp_1x512", "gaussian")
    with pytest.raises(ValueError, match="choose from .*mlp_1x512"):
        pac.reported_errors("resnet", "true_labels")


def test_run_rows_follow_the_stored_runs_and_the_formulas(tmp_path):
    cfg = {"dataset": "digits", "n_train": 64, "n_test": 40, "models": ["mlp_1x512"],
           "conditions": ["true_labels", "random_labels"], "lr": {"mlp_1x512": 0.01}, "epochs": 1, "delta": 0.1,
           "profile": "quick"}
    res = pac.run(cfg, seed=3, progress=False, out=tmp_path)
    assert res["delta"] == 0.1 and [(r["model"], r["condition"]) for r in res["rows"]] == [
        ("mlp_1x512", "true_labels"), ("mlp_1x512", "random_labels")]
    from rethinking_lib.engine import runs

    for r in res["rows"]:
        s = runs.spec(model="mlp_1x512", dataset="digits", n_train=64, n_test=40, condition=r["condition"], lr=0.01,
                      lr_decay=runs.paper_lr_decay(64), epochs=1, stop_at_100=True, seed=3)
        assert s in pac.pac_specs(runs.seeded(cfg, 3))  # the declared runs (``Experiment.specs``) are the trained ones
        assert runs.stored(s, tmp_path)
        h = runs.run_one(s, out=tmp_path)["result"]  # the stored run, not a new one
        assert (r["n_train"], r["n_test"], r["epochs"], r["wall_time"]) == (64, 40, h["epochs_run"], h["wall_time"])
        assert r["train_error"] == 1 - h["train_acc"] and r["test_error"] == 1 - h["test_acc"]
        assert r["test_error_ci"] == list(pac.hoeffding_interval(r["test_error"], 40, 0.1))
        assert r["bounds"] == pac.bounds_for(h["n_params"], 2, 64, 0.1, r["train_error"])
        sm = res["summary"][f"mlp_1x512 {r['condition']}"]
        assert sm == {"train_error": round(r["train_error"], 4), "test_error": round(r["test_error"], 4),
                      "test_error_ci": [round(v, 4) for v in r["test_error_ci"]],
                      "finite_class_bound": round(r["bounds"]["finite_class"], 1),
                      "finite_class_agnostic_bound": round(r["bounds"]["finite_class_agnostic"], 2),
                      "vc_bound": round(r["bounds"]["vc"], 3),
                      "vc_dimension_proxy": round(r["bounds"]["vc_dimension_proxy"])}
