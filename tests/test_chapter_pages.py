"""What the chapter pages show, computed by the chapter modules (not in cells): tables, sentences, prose numbers."""

import torch

from rethinking_lib.chapters import ch01_pac as pac
from rethinking_lib.chapters import ch02_rademacher as rademacher
from rethinking_lib.chapters import ch08_bounds as bounds


def _pac_result():
    row = {"model": "mlp_1x512", "n_train": 4000, "n_test": 1000, "train_error": 0.0, "epochs": 12,
           "bounds": {"n_params": 407_050}}
    return {"delta": 0.05, "rows": [dict(row, condition="true_labels", test_error=0.07, test_error_ci=[0.027, 0.113]),
                                    dict(row, condition="random_labels", test_error=0.89, test_error_ci=[0.847, 0.933])]}


def test_pac_prose_numbers_are_the_tables_numbers():
    res = _pac_result()
    nums = pac.prose_numbers(res)
    table = pac.error_table(res)
    assert nums["ch1_true_test"] == 0.07 and nums["ch1_rand_hoef_hi"] == 0.933 and nums["ch1_n_test"] == 1000
    lo, hi = pac.clopper_pearson_interval(0.89, 1000, 0.05)
    assert (nums["ch1_rand_cp_lo"], nums["ch1_rand_cp_hi"]) == (lo, hi)
    assert table[1]["Clopper-Pearson 95% interval"] == f"[{lo:.3f}, {hi:.3f}]"
    assert table[0]["reported train / test error (CIFAR-10)"] == "{:.4f} / {:.4f}".format(
        *pac.reported_errors("mlp_1x512", "true_labels"))
    ours = pac.our_bounds(res)
    assert nums["ch1_min_bound"] == min(min(e["b"]["finite_class"], e["b"]["vc"]) for e in ours) > 1  # vacuous
    assert nums["ch1_params"] == 407_050 and nums["ch1_paper_min_n_needed"] > 50_000
    assert all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in nums.values())


def test_pac_widget_starts_at_our_network():
    w = pac.bound_widget_inputs(_pac_result())
    assert w["grid"]["n_params"][w["selected"]] == 407_050 and len(w["grid"]["n"]) == 61
    assert [m["n"] for m in w["marks"]] == [4000, 50_000]


def test_rademacher_finite_class_check_meets_the_exact_value():
    row = rademacher.finite_class_check(seed=3)
    assert row == rademacher.finite_class_check(seed=3)  # seeded
    assert row["exact (enumeration)"] <= row["Massart bound"]
    assert row["abs(MC - exact) / SE"] < 4


def test_separability_checks_the_experiments_own_sign_draws(monkeypatch):
    """n < d makes every labeling separable, so the count alone cannot tell which sign vectors were checked."""
    from rethinking_lib.engine import tasks

    x = torch.randn(40, 100, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    seen = []
    monkeypatch.setattr(rademacher, "linearly_separable", lambda x, s: seen.append(s) or True)
    rademacher.separability(x, {"main": {"linear": {"draws": 5}}}, seed=3)
    assert torch.equal(torch.stack(seen), tasks.signs(40, 5, seed=rademacher.sign_seed(3, 40))[:2])


def test_rademacher_linear_check_and_separability_on_a_small_sample():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(40, 100, generator=g, dtype=torch.float64)
    row = rademacher.linear_check(x, seed=0)
    assert row["max abs(search - closed form)"] < 1e-9
    assert row["Khintchine lower"] <= row["precise (20,000 draws)"] <= row["Jensen upper"]
    res = {"main": {"linear": {"draws": 5}}}
    sep = rademacher.separability(x, res, seed=0)
    assert sep == {"n": 40, "d": 100, "rank": 40, "checked": 2, "separable": 2}  # n < d: every labeling separates
    nums = rademacher.prose_numbers({"main": {"linear": {"estimate": 0.5}}, "n": 40, "bound": []}, sep)
    assert nums == {"ch2_linear": 0.5, "ch2_n": 40, "ch2_rank": 40, "ch2_d": 100, "ch2_separable": 2, "ch2_checked": 2,
                    "ch2_cover_prob": 1.0, "ch2_cover_half": 82}  # Cover: P = 1 up to n = rank + 1; 1/2 at 2(rank + 1)


def test_bounds_best_measure_is_a_sentence_not_a_glued_word():
    res = {"summary": {"kendall_tau": {"path_norm": 0.2, "sharpness": 0.6, "frobenius_norm": 0.4}}}
    assert bounds.best_measure_text(res).startswith("Over these runs the measure with the highest $\\tau$ is *sharpness")
    assert "(1/σ²)* ($\\tau=$ 0.60)." in bounds.best_measure_text(res)

