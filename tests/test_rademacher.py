"""Rademacher chapter: the Monte Carlo estimator against exact values (finite classes by enumeration, the
norm-bounded linear class in closed form), and the networks' estimate at the quick profile."""

import math
import statistics
from dataclasses import replace

import pytest
import torch

from rethinking_lib import experiments
from rethinking_lib.chapters import ch02_rademacher as rademacher
from rethinking_lib.config import profiles
from rethinking_lib.engine import data, runs
from rethinking_lib.store import results


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


def test_a_network_fits_random_signs_on_a_small_sample(tmp_path):
    cfg = {"dataset": "digits", "lr": {"mlp_1x512": 0.01}, "epochs": 150}
    sups = rademacher.network_sups(rademacher.sign_specs("mlp_1x512", cfg, 60, 2, seed=0), out=tmp_path)
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


def test_pixels_are_whitened_centre_crops():
    ds = data.load("digits", seed=0).subset(8, 4)
    x = rademacher.pixels(ds, "test")
    side = ds.image_size
    assert x.shape == (4, ds.in_channels * side * side)
    torch.testing.assert_close(x.norm(dim=1), torch.full((4,), math.sqrt(x.shape[1])), rtol=1e-4, atol=1e-4)


# ------------------------------------------------------------------------------------------------
# the fitting specs and the experiment driver, at tiny sizes, against references written out here: the
# hand-built path the chapter used before its fits became run specs (train.fit called directly on the
# relabelled data; sign vectors, sups and Monte Carlo statistics computed independently)


def _ref_signs(m, k, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 2, (k, m), generator=g).double() * 2 - 1


def _ref_fit(name, ds, labels, lr, epochs, seed, width=1.0):
    """Binary labels (+-1) on the first len(labels) images; the model seeded by ``seed``, SGD as train.fit does."""
    from torch import nn

    from rethinking_lib.engine import models, runs, train

    m = len(labels)
    binary = replace(ds, x_train=ds.x_train[:m], y_train=((labels + 1) / 2).long(), num_classes=2)
    torch.manual_seed(seed)
    if name == "linear":
        model = nn.Sequential(nn.Flatten(), nn.Linear(ds.in_channels * ds.image_size ** 2, 2))
    else:
        model = models.build(name, in_channels=ds.in_channels, image_size=ds.image_size, num_classes=2, width=width)
    cfg = train.TrainConfig(lr=lr, lr_decay=runs.paper_lr_decay(m), epochs=epochs, stop_at_100=True, seed=seed)
    return train.fit(model, binary, cfg, progress=False)


def _ref_mc(values):
    v = [float(a) for a in values]
    se = statistics.stdev(v) / math.sqrt(len(v)) if len(v) > 1 else math.nan
    return {"estimate": statistics.fmean(v), "stderr": se, "draws": len(v), "values": v}


def _assert_close(got, want, path="result"):
    """Same keys, same lists, numbers equal to 1e-6 relative (float32 pixels; NaN matches NaN)."""
    if isinstance(want, dict):
        assert isinstance(got, dict) and sorted(got) == sorted(want), path
        for k in want:
            _assert_close(got[k], want[k], f"{path}[{k!r}]")
    elif isinstance(want, (list, tuple)):
        assert isinstance(got, (list, tuple)) and len(got) == len(want), path
        for i, (a, b) in enumerate(zip(got, want, strict=True)):
            _assert_close(a, b, f"{path}[{i}]")
    elif isinstance(want, float) and math.isnan(want):
        assert isinstance(got, float) and math.isnan(got), path
    elif isinstance(want, (int, float)) and not isinstance(want, bool):
        assert type(got) in (int, float) and got == pytest.approx(want, rel=1e-6, abs=1e-12), path
    else:
        assert got == want, path


def _trainable(h):
    return {k: v for k, v in h.items() if k not in ("wall_time",)} | {
        "epochs": [{k: v for k, v in e.items() if k != "time"} for e in h["epochs"]]}


def _record_is(rec, ref):
    """A stored run's history is the reference's (without its step losses, which the fits do not keep)."""
    want = _trainable({k: v for k, v in ref.items() if k != "step_loss"})
    got = _trainable({k: v for k, v in rec.items() if k not in ("n_params", "fraction_changed")})
    assert got == results.to_jsonable(want)


def test_fit_specs_train_what_train_fit_trains_on_the_binary_labels(tmp_path):
    ds = data.load("digits", seed=0)
    small = replace(ds, x_test=ds.x_test[:1], y_test=ds.y_test[:1] % 2)
    cfg = {"dataset": "digits", "lr": {"mlp_1x512": 0.05, "linear": 0.03}, "epochs": 40}
    sig = _ref_signs(10, 3, 4 * 7919 + 10)
    for name, width in (("mlp_1x512", 0.5), ("linear", 1.0)):
        specs = rademacher.sign_specs(name, cfg, 10, 3, seed=4, width=width)
        assert [s["seed"] for s in specs] == [4, 5, 6] and all(s["n_test"] == 1 for s in specs)
        for j, s in enumerate(specs):
            rec = runs.run_one(s, out=tmp_path)["result"]
            _record_is(rec, _ref_fit(name, small, sig[j], cfg["lr"][name], 40, 4 + j, width))
        assert rec["epochs_to_100"] is not None and rec["epochs_run"] == rec["epochs_to_100"] < 40  # stops at 100%
    # the true task: digit >= 5 on the first n images, tested on the whole test set
    rec = runs.run_one(rademacher.fit_spec("mlp_1x512", cfg, 12, seed=1, task="digit_ge_5"), out=tmp_path)["result"]
    y = (ds.y_train[:12] >= 5).double() * 2 - 1
    _record_is(rec, _ref_fit("mlp_1x512", replace(ds, y_test=(ds.y_test >= 5).long()), y, 0.05, 40, 1))


def test_network_sups_are_two_train_acc_minus_one_per_draw(tmp_path):
    ds = data.load("digits", seed=0)
    small = replace(ds, x_test=ds.x_test[:1], y_test=ds.y_test[:1] % 2)
    sig = _ref_signs(12, 2, 3 * 7919 + 12)
    cfg = {"dataset": "digits", "lr": {"mlp_1x512": 0.02}, "epochs": 2}
    want = [2 * _ref_fit("mlp_1x512", small, s, 0.02, 2, 3 + k)["train_acc"] - 1 for k, s in enumerate(sig)]
    assert rademacher.network_sups(rademacher.sign_specs("mlp_1x512", cfg, 12, 2, seed=3), out=tmp_path) == want
    half = [2 * _ref_fit("mlp_1x512", small, s, 0.02, 2, 3 + k, 0.25)["train_acc"] - 1 for k, s in enumerate(sig)]
    specs = rademacher.sign_specs("mlp_1x512", cfg, 12, 2, seed=3, width=0.25)
    assert rademacher.network_sups(specs, out=tmp_path) == half


def test_run_records_follow_the_fits_and_the_formulas(tmp_path, monkeypatch):
    seed, n, epochs = 1, 32, 2
    cfg = {"profile": "quick", "dataset": "digits", "models": ["mlp_1x512"], "n": n, "draws": 2, "draws_exact": 3,
           "n_sweep": [16, n], "sweep_draws": 1, "widths": [0.25, 1.0], "width_n": n,
           "lr": {"mlp_1x512": 0.01, "linear": 0.05}, "epochs": epochs, "delta": 0.1}
    devices, load = [], data.load
    monkeypatch.setattr(data, "load", lambda name, **kw: devices.append(kw.get("device")) or load(name, **kw))
    res = rademacher.run(cfg, seed=seed, progress=False, out=tmp_path)
    monkeypatch.undo()
    # the data lives on the profile's device: the driver's own load and every fit's (one per run trained)
    assert len(devices) > 1 and {torch.device(d).type for d in devices} == {profiles.device("quick")}

    ds = data.load("digits", seed=0)  # 8x8 digits: no crop, so the networks see the whitened images
    x = data.whiten(ds.x_train).flatten(1).double()
    small = replace(ds, x_test=ds.x_test[:1], y_test=ds.y_test[:1] % 2)

    def net(name, m, k, width=1.0):  # draw j trains with seed + j on the signs seeded by (seed, m)
        return _ref_mc([2 * _ref_fit(name, small, s, cfg["lr"][name], epochs, seed + j, width)["train_acc"] - 1
                        for j, s in enumerate(_ref_signs(m, k, seed * 7919 + m))])

    def linear_norm(m, k):  # ||w|| <= 1 / max ||x_i||: sup = B ||sum_i sigma_i x_i|| / m
        b = 1 / float(x[:m].norm(dim=1).max())
        return _ref_mc([b * float((s[:, None] * x[:m]).sum(0).norm()) / m for s in _ref_signs(m, k, seed * 7919 + m)])

    main = {"mlp_1x512": net("mlp_1x512", n, 2), "linear": net("linear", n, 2), "linear_norm": linear_norm(n, 3)}
    bound = []
    for name in ("mlp_1x512", "linear"):  # the true binary task: digit >= 5, tested on the whole test set
        h = _ref_fit(name, replace(ds, y_test=(ds.y_test >= 5).long()), (ds.y_train[:n] >= 5).double() * 2 - 1,
                     cfg["lr"][name], epochs, seed)
        tr, comp = 1 - h["train_acc"], main[name]["estimate"]
        bound.append({"model": name, "train_error": tr, "test_error": 1 - h["test_acc"], "complexity": comp,
                      "bound": tr + comp + 3 * math.sqrt(math.log(2 / 0.1) / (2 * n))})
    summary = {k: {"estimate": round(v["estimate"], 4), "stderr": round(v["stderr"], 4), "draws": v["draws"]}
               for k, v in main.items()}
    summary["bound"] = {r["model"]: {"test_error": round(r["test_error"], 4), "bound": round(r["bound"], 3)}
                        for r in bound}
    want = {"n": n, "dataset": "digits", "main": main, "linear_norm_B": 1 / float(x[:n].norm(dim=1).max()),
            "sweep_n": {"n": [16, n], "mlp_1x512": [net("mlp_1x512", 16, 1), main["mlp_1x512"]],
                        "linear": [net("linear", 16, 1), main["linear"]],
                        "linear_norm": [linear_norm(16, 3), linear_norm(n, 3)]},
            "sweep_width": {"model": "mlp_1x512", "n": n, "widths": [0.25, 1.0],
                            "estimates": [net("mlp_1x512", n, 1, 0.25), main["mlp_1x512"]]},
            "bound": bound, "summary": summary}
    _assert_close(res, want)
    assert 0 < res["main"]["mlp_1x512"]["stderr"] and res["main"]["linear_norm"]["estimate"] > 0


def test_run_rejects_bad_settings_before_loading(tmp_path):
    cfg = {"profile": "quick", "dataset": "nonexistent", "n": 16, "draws": 2, "draws_exact": 1, "sweep_draws": 1,
           "width_n": 1, "n_sweep": [1], "delta": 0.05}
    for bad, msg in (({"n": 2.5}, "n=2.5 must be a positive integer"), ({"width_n": 0}, "width_n=0 must"),
                     ({"delta": 1.0}, r"delta=1.0 must be in \(0, 1\)"), ({"delta": 0.0}, "delta=0.0"),
                     ({"draws": 1}, "draws=1 gives no standard error")):
        with pytest.raises(ValueError, match=msg):
            rademacher.run({**cfg, **bad}, seed=0, progress=False, out=tmp_path)
    with pytest.raises(ValueError, match="unknown dataset"):  # the smallest valid settings pass the checks
        rademacher.run(cfg, seed=0, progress=False, out=tmp_path)


def test_helpers_defaults_and_edges():
    ds = data.load("digits", seed=0).subset(8, 4)
    cropped = replace(ds, crop=6)
    torch.testing.assert_close(rademacher.pixels(cropped), data.whiten(ds.x_train[..., 1:7, 1:7]).flatten(1))
    assert torch.equal(rademacher.pixels(ds), data.whiten(ds.x_train).flatten(1))  # "train" is the default split
    assert torch.equal(rademacher.signs(9, 2), rademacher.signs(9, 2, seed=0))
    mc = rademacher.monte_carlo([0.1, 0.7])
    assert mc["values"] == [0.1, 0.7] and mc["estimate"] == pytest.approx(0.4, abs=1e-15)  # float64 throughout
    assert mc["stderr"] == pytest.approx(0.3)  # two draws have a standard error
    with pytest.raises(ValueError, match="n=21"):
        rademacher.finite_class_exact(torch.ones(1, 21))
    for delta in (0.0, 1.0):
        with pytest.raises(ValueError, match="delta"):
            rademacher.rademacher_bound(0.0, 0.5, 10, delta)
    # a ball too large to reach in the default 50 steps of size 1: w = 50 * grad, the value 50 ||grad||^2
    x, s = _x(n=5, d=3), rademacher.signs(5, 1, seed=3)
    grad = s[0] @ x / 5
    assert float(rademacher.linear_sup_search(x, s, 1e6)[0]) == pytest.approx(50 * float(grad @ grad))


def test_separability_rejects_flat_x_and_reports_a_failed_program(monkeypatch):
    with pytest.raises(ValueError, match=r"pass x \(n, d\)"):
        rademacher.linearly_separable(torch.ones(4), torch.ones(4))
    import scipy.optimize

    class Stuck:
        status, message = 4, "numerical difficulties"

    monkeypatch.setattr(scipy.optimize, "linprog", lambda *a, **k: Stuck())
    with pytest.raises(RuntimeError, match=r"\(numerical difficulties\): try fewer points or rescale x"):
        rademacher.linearly_separable(torch.eye(3), torch.ones(3))


def test_rademacher_specs_list_every_run_the_experiment_trains(tmp_path, monkeypatch):
    cfg = {"profile": "quick", "dataset": "digits", "models": ["mlp_1x512"], "n": 24, "draws": 2, "draws_exact": 3,
           "n_sweep": [12, 24], "sweep_draws": 1, "widths": [0.25, 1.0], "width_n": 24,
           "lr": {"mlp_1x512": 0.01, "linear": 0.05}, "epochs": 1, "delta": 0.1}
    seen, real = [], runs.run_one
    monkeypatch.setattr(runs, "run_one", lambda s, **kw: seen.append(runs.key(s)) or real(s, **kw))
    rademacher.run(cfg, seed=2, progress=False, out=tmp_path)
    want = [runs.key(s) for s in rademacher.rademacher_specs(runs.seeded(cfg, 2))]
    assert seen == want and len(want) == 2 * 2 + 2 * 1 + 1 + 2  # main, n sweep, width sweep, true task


def test_cover_probability_is_the_counting_theorem():
    """Cover: C(n, r + 1) / 2^n labelings separable; exactly 1 up to n = r + 1, exactly 1/2 at n = 2(r + 1),
    falling in n, ~0.76 at r = 510, n = 1,000; and it is the count itself for small n."""
    for r in (0, 3, 10, 510):
        assert rademacher.cover_probability(r + 1, r) == 1.0
        assert rademacher.cover_probability(2 * (r + 1), r) == pytest.approx(0.5, abs=1e-12)
        ps = [rademacher.cover_probability(n, r) for n in range(r + 1, 2 * (r + 1) + 20)]
        assert all(a >= b for a, b in zip(ps, ps[1:], strict=False))  # non-increasing from n = r + 1 on
        assert r > 50 or ps[1] < 1  # it starts falling at n = r + 2 (by 2^-(r+1), below float precision for large r)
    assert rademacher.cover_probability(1000, 510) == pytest.approx(0.757, abs=0.002)
    from scipy.stats import binom

    for n, r in [(1, 0), (5, 10), (37, 12), (1000, 510)]:
        assert rademacher.cover_probability(n, r) == pytest.approx(binom.cdf(r, n - 1, 0.5), abs=1e-12)
    for n, r in ((5, 2), (9, 3), (12, 4)):
        count = 2 * sum(math.comb(n - 1, j) for j in range(r + 1))
        assert rademacher.cover_probability(n, r) == pytest.approx(count / 2 ** n, rel=1e-12)
    with pytest.raises(ValueError, match="n >= 1"):
        rademacher.cover_probability(0, 3)
