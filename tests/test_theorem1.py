"""Theorem 1 (Section 4): the constructed two-layer ReLU net has 2n + d weights and fits any targets."""

import pytest
import torch

from rethinking_lib.chapters import ch06_theorem1
from rethinking_lib.theory import theorem1


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
    rows = theorem1.conditioning([300], d=50, dtypes=("float32", "float64"))
    err = {r["dtype"]: r["max_fit_error"] for r in rows}
    assert err["float64"] < 1e-9 < 1e-3 < err["float32"]
    # at n = 1,000 float32 projections tie (a gap within rounding): the net is not built, and the row says why
    f32 = theorem1.conditioning([1000], d=50, dtypes=("float32",))[0]
    assert f32["max_fit_error"] is None and "nearly coincide" in f32["failure"]


def test_duplicate_points_and_bad_shapes_raise_clear_errors():
    X, _ = _data(10, 3)
    X[7] = X[2]
    with pytest.raises(ValueError, match="duplicate points: rows 2 and 7 are identical"):
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


def test_duplicated_rows_are_refused_with_their_row_numbers():
    X, g = _data(50, 4, seed=5)
    y = torch.randint(0, 10, (50,), generator=g).double()
    X[31] = X[12]  # an exact duplicate, with a different label
    y[31] = (y[12] + 3) % 10
    with pytest.raises(ValueError, match=r"rows 12 and 31 are identical"):
        theorem1.construct(X, y)
    X[31] = X[12] * (1 + 1e-12)  # equal up to rounding: its projection differs from row 12's by rounding only
    with pytest.raises(ValueError, match=r"rows 12 and 31 are equal up to rounding"):
        theorem1.construct(X, y)
    X[31] = X[12] * (1 + 1e-3)  # a genuinely different point is accepted and fitted
    net = theorem1.construct(X, y)
    with torch.no_grad():
        assert torch.equal(net.predict_class(X), y.long())


def test_every_duplicate_pair_is_named():
    X, _ = _data(20, 3, seed=6)
    X[9], X[17], X[4] = X[1], X[2], X[1]
    with pytest.raises(ValueError, match=r"rows 1 and 4, 1 and 9, 2 and 17 \(and 1 more pair\)"):
        theorem1.project(X)


def test_near_tied_projections_are_refused_with_their_row_numbers():
    X, _ = _data(6, 3, seed=7)
    a = torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64)
    X[4, 0] = X[1, 0] * (1 + 1e-16)  # distinct points whose projections on a coincide up to rounding
    with pytest.raises(ValueError, match=r"projections <a, x_i> of rows 1 and 4 nearly coincide"):
        theorem1.construct(X, torch.arange(6.0), a=a)
    X[4, 0] = X[1, 0] + 1e-6  # a tiny but real gap is not a tie
    theorem1.construct(X, torch.arange(6.0), a=a)


def test_the_fit_is_verified_after_solving():
    X, g = _data(100, 50, seed=100)
    y = torch.randint(0, 10, (100,), generator=g).double()
    # float32 with thresholds at the midpoints misses its own data: an error naming the worst row, not a net
    with pytest.raises(theorem1.FitError, match=r"misses row \d+ by .* \(tolerance 0.09, n = 100, float32\)") as e:
        theorem1.construct(X, y, dtype=torch.float32, frac=0.5)
    assert e.value.max_error > e.value.tol == pytest.approx(0.09)
    net = theorem1.construct(X, y, dtype=torch.float32, frac=0.5, verify=False)  # measured on purpose only
    with torch.no_grad():
        assert float((net(X) - y).abs().max()) == pytest.approx(e.value.max_error)
    with pytest.raises(theorem1.FitError):  # the check uses the given tolerance
        theorem1.construct(X, y, tol=0.0)
    assert theorem1.fit_tolerance(y, torch.float64) == pytest.approx(9e-5)
    assert theorem1.fit_tolerance(torch.tensor([0.5]), torch.float64) == pytest.approx(1e-5)


def test_fit_report_records_misfits_and_ties_as_failures():
    X, g = _data(100, 50, seed=100)
    y = torch.randint(0, 10, (100,), generator=g).double()
    bad = theorem1.fit_report(X, y, dtype=torch.float32, frac=0.5)
    assert not bad["fits"] and bad["max_fit_error"] > bad["tol"] and "above the tolerance" in bad["failure"]
    good = theorem1.fit_report(X, y)
    assert good["fits"] and "failure" not in good and good["max_fit_error"] <= good["tol"]
    X[7] = X[3]
    dup = theorem1.fit_report(X, y)
    assert dup["max_fit_error"] is None and not dup["fits"] and "rows 3 and 7" in dup["failure"]


@pytest.mark.parametrize("setting,match", [
    ({"n": 0}, "n=0 must be an integer > 0"),
    ({"image_ns": []}, "image_ns=\\[\\] must not be empty"),
    ({"image_ns": [500, 9000]}, "above n = 4000"),
    ({"dtypes": ["float32"]}, "must include 'float64'"),
    ({"dtypes": ["float16", "float64"]}, "dtypes=.* must be a non-empty list of float32, float64"),
    ({"deep_ks": []}, "deep_ks=\\[\\] must not be empty"),
    ({"sgd_lr": 0}, "sgd_lr=0 must be a number > 0"),
    ({"sgd_n": 5000}, "sgd_n=5000 is above n = 4000"),
])
def test_experiment_settings_are_checked_with_one_line_errors(setting, match):
    from rethinking_lib import experiments

    with pytest.raises(ValueError, match=match) as e:  # by its range (config) or the experiment's own check
        ch06_theorem1.validate(experiments.get("theorem1").config("quick", **setting))
    assert "\n" not in str(e.value) and str(e.value).startswith("theorem1: setting ")


def test_cli_n_zero_is_a_one_line_error(capsys, results_dir):
    from rethinking_lib.__main__ import main

    assert main(["run", "theorem1", "--profile", "quick", "--set", "n=0"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "n=0 must be an integer > 0" in err


def test_check_messages_and_boundaries_are_exact():
    X, _ = _data(12, 3, seed=8)
    X[1], X[11] = X[0], X[10]
    with pytest.raises(ValueError, match=r"rows 0 and 1, 10 and 11 are identical\. Theorem 1 needs n distinct points: "
                                         r"remove the duplicates \(a function"):
        theorem1.project(X)
    Y, _ = _data(12, 3, seed=8)
    for k in range(1, 6):
        Y[k] = Y[0]
    with pytest.raises(ValueError, match=r"rows 0 and 1, 0 and 2, 0 and 3 \(and 12 more pairs\) are identical"):
        theorem1.project(Y)
    two = torch.ones(2, 3, dtype=torch.float64)
    with pytest.raises(ValueError, match="rows 0 and 1 are identical"):
        theorem1.project(two)
    with pytest.raises(ValueError, match=r"a has shape \(2,\); it must be \(3,\), one weight per input dimension"):
        theorem1.project(X, a=torch.ones(2, dtype=torch.float64))


def test_duplicate_tolerance_is_relative_and_scale_free():
    X, _ = _data(30, 5, seed=9)
    X = X * 1000.0  # large rows: the candidate window must scale with |a| |x|
    X[20] = X[4] * (1 + 0.4e-6)  # inside DUP_RTOL = 1e-6
    with pytest.raises(ValueError, match="rows 4 and 20 are equal up to rounding"):
        theorem1.project(X)
    X[20] = X[4] * (1 + 3e-6)  # outside: a distinct point
    theorem1.project(X, seed=1)


def test_tie_message_names_the_dtype_and_suggests_float64_only_when_it_helps():
    a = torch.tensor([1.0, 0.0], dtype=torch.float64)
    X = torch.tensor([[1.0, 0.0], [2.0, 1.0], [1.0 + 1e-16, 5.0]], dtype=torch.float64)
    with pytest.raises(ValueError, match=r"rows 0 and 2 nearly coincide .* in float64\): pass another seed \(or a\)$"):
        theorem1.project(X, a=a)
    X32, a32 = X.float(), a.float()
    X32[2, 0] = 1.0 + 1e-7
    with pytest.raises(ValueError, match=r"in float32\): pass another seed \(or a\), or use dtype=torch.float64$"):
        theorem1.project(X32, a=a32)


def test_first_threshold_sits_one_mean_gap_below_and_tolerance_defaults():
    zs = torch.tensor([0.0, 1.0, 3.0], dtype=torch.float64)
    b = theorem1.thresholds(zs, frac=0.25)
    assert torch.allclose(b, torch.tensor([-1.5 + 0.25 * 1.5, 0.25, 1.5], dtype=torch.float64))
    assert torch.allclose(theorem1.thresholds(torch.tensor([2.0], dtype=torch.float64), frac=0.5),
                          torch.tensor([1.5], dtype=torch.float64))
    with pytest.raises(ValueError, match="frac=0 must be strictly between 0 and 1"):
        theorem1.thresholds(zs, frac=0)
    assert theorem1.fit_tolerance(torch.tensor([3.0]), torch.float16) == pytest.approx(3e-5)
    assert theorem1.fit_tolerance(torch.zeros(0), torch.float32) == pytest.approx(1e-2)


def test_pair_counts_and_both_kinds_of_duplicates_in_one_message():
    X, _ = _data(12, 3, seed=10)
    X[1], X[3], X[5] = X[0], X[2], X[4]
    with pytest.raises(ValueError, match=r"rows 0 and 1, 2 and 3, 4 and 5 are identical\. "):  # exactly 3: no "(and ...)"
        theorem1.project(X)
    X[7], X[9] = X[6], X[8]
    with pytest.raises(ValueError, match=r"4 and 5 \(and 2 more pairs\) are identical"):
        theorem1.project(X)
    Z, _ = _data(12, 3, seed=11)
    Z[1], Z[3] = Z[0], Z[2] * (1 + 1e-12)
    with pytest.raises(ValueError, match=r"rows 0 and 1 are identical; rows 2 and 3 are equal up to rounding"):
        theorem1.project(Z)


def test_the_direction_is_a_seeded_float64_gaussian():
    X, _ = _data(5, 4, seed=12)
    a, z = theorem1.project(X, seed=3)
    expected = torch.randn(4, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    assert torch.equal(a, expected) and torch.allclose(z, X @ expected)


def test_the_pages_small_examples_and_their_text():
    ex = ch06_theorem1.toy_examples(seed=0)
    again = ch06_theorem1.toy_examples(seed=0)
    (x1, y1), (x2, y2) = ex["line"], ex["plane"]
    assert x1.shape == (8, 1) and y1.shape == (8,) and x2.shape == (12, 2) and set(y2.tolist()) <= {0, 1, 2}
    assert all(torch.equal(a, b) for a, b in zip(ex["line"] + ex["plane"], again["line"] + again["plane"], strict=True))
    zs = theorem1.project(x1, seed=0)[1].sort().values
    b = theorem1.thresholds(zs)
    text = ch06_theorem1.interleaving(zs, b)
    assert text.count("<") == 2 * len(zs) - 1 and text.startswith("b1=")
    with pytest.raises(ValueError, match="do not interleave"):
        ch06_theorem1.interleaving(zs, b + 1.0)
    net = theorem1.construct(x2, y2, seed=0)
    assert ch06_theorem1.class_fit_text(net, x2, y2).endswith("weights: 26 = 2*12 + 2")
    rows = [{"n": 10, "dtype": "float32", "frac": 0.5, "failure": "ties"}, {"n": 20, "dtype": "float64", "frac": 0.01}]
    assert ch06_theorem1.failures(rows) == ["n=10 float32: ties"]
    assert ch06_theorem1.failures(rows, placement=True) == ["n=10 float32, b at 0.5 of the gap: ties"]


def test_page_counts_come_from_the_code_and_table1():
    """Chapter 6's prose numbers: the MLP of chapter 4 built at each profile (the paper profile's is Table 1's count;
    the quick one sees 24x24 digits), and 2n + d for CIFAR-10 with the paper's 28x28x3 crop."""
    from rethinking_lib import paper

    assert ch06_theorem1.mlp_weights("paper") == paper.PARAM_COUNTS["mlp_1x512"]
    assert ch06_theorem1.mlp_weights("quick") == 24 * 24 * 512 + 512 + 512 * 10 + 10
    c = ch06_theorem1.paper_counts()
    assert c["d"] == 2352 and c["need"] == 102_352
    assert 11.5 < c["ratio_lo"] < 12.5 and 16.5 < c["ratio_hi"] < 17.5 and c["frac_hi"] == pytest.approx(1 / c["ratio_lo"])


def test_float32_limit_names_the_first_failing_size():
    f = theorem1.FRAC
    rows = [{"dtype": "float32", "frac": f, "n": n, "labels_recovered": rec} for n, rec in ((100, 1.0), (300, 1.0), (1000, 0.97))]
    rows += [{"dtype": "float32", "frac": 0.5, "n": 100, "labels_recovered": 0.5}, {"dtype": "float64", "frac": f, "n": 1000,
                                                                                    "labels_recovered": 1.0}]
    assert ch06_theorem1.float32_limit(rows) == "between 300 and 1,000 points"
    assert ch06_theorem1.float32_limit(rows[:2]) == "at none of the sweep's sizes (up to 300 points)"
    assert ch06_theorem1.float32_limit(rows[2:3]) == "already at 1,000 points"
