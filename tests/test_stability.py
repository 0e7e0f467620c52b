"""Stability chapter: a deterministic algorithm on identical data has gap exactly zero; SGD on logistic
regression stays under the Hardt-Recht-Singer bound; the quick-profile phenomena."""

from dataclasses import replace

import pytest
import torch

from rethinking_lib import data, experiments, stability


def _toy(n=100, d=20, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n + 1, d, generator=g, dtype=torch.float64)
    x = x / x.norm(dim=1, keepdim=True).max()  # R = 1
    y = (torch.randint(0, 2, (1, n + 1), generator=g) * 2 - 1).double()
    return x, y, g


def test_logistic_constants():
    x = torch.tensor([[3.0, 4.0], [0.0, 1.0]])
    c = stability.logistic_constants(x)
    assert c["L"] == pytest.approx(5.0) and c["beta"] == pytest.approx(6.25) and c["max_step"] == pytest.approx(8 / 25)


def test_identical_data_gives_exactly_zero_gap():
    x, y, g = _toy()
    rows = torch.randint(0, 100, (3, 500), generator=g)
    w1 = stability.logistic_sgd(x, y.expand(3, -1), rows, 0.5, 50)
    w2 = stability.logistic_sgd(x, y.expand(3, -1), rows.clone(), 0.5, 50)
    assert torch.equal(w1, w2)
    assert float(stability.logistic_loss_gap(w1, w2, x).max()) == 0.0
    ds = data.load("digits", seed=0).subset(64, 32)
    h = stability.lockstep("mlp_1x512", ds, replace(ds), {"lr": 0.01, "net_epochs": 2}, seed=0)
    assert h["divergence"] == [0.0, 0.0] and h["sup_gap"] == [0.0, 0.0]


def test_logistic_sgd_stays_under_the_hrs_bound():
    n, runs, epochs, alpha = 100, 20, 5, 0.5
    x, y, g = _toy(n)
    order = torch.randint(0, n, (runs, epochs * n), generator=g)
    swapped = torch.where(order == 0, n, order)  # example 0 replaced by example n
    w = stability.logistic_sgd(x, y.expand(runs, -1), order, alpha, n)
    w2 = stability.logistic_sgd(x, y.expand(runs, -1), swapped, alpha, n)
    measured = stability.logistic_loss_gap(w, w2, x).amax(2).mean(1)  # E over runs of sup over z
    bound = stability.hrs_bound(1.0, [n * (e + 1) for e in range(epochs)], alpha, n)
    assert (measured <= bound).all() and measured[-1] > 0
    # the per-path version holds deterministically: 2 alpha L per pick of the replaced example
    picks = (order == 0).sum(1)
    assert ((w[-1] - w2[-1]).norm(dim=1) <= 2 * alpha * picks + 1e-12).all()


def test_step_size_beyond_two_over_beta_is_rejected():
    ds = data.load("digits", seed=0)
    with pytest.raises(ValueError, match="alpha"):
        stability.convex_experiment(ds, {"n": 50, "runs": 2, "epochs": 1, "alpha": 9.0, "records_per_epoch": 1}, 0)


@pytest.mark.slow
def test_quick_profile_stability_is_blind_to_labels(results_dir):
    res = experiments.run("stability", "quick", progress=False)["result"]
    cv = res["convex"]
    for key in ("true_labels", "random_labels"):
        assert all(m <= b for m, b in zip(cv[key]["sup_gap"], cv["bound"], strict=True))
        assert cv[key]["path_bound_ok"]
        # the generalization gap in the same (logistic) loss, averaged over runs, is within the HRS bound
        assert cv[key]["loss_gap"] == pytest.approx(cv[key]["test_loss"] - cv[key]["train_loss"])
        assert cv[key]["loss_gap"] <= cv["bound"][-1]
    # the same algorithm, the same bound, gaps of the same size, while what it learned differs
    t, r = cv["true_labels"]["sup_gap"][-1], cv["random_labels"]["sup_gap"][-1]
    assert 0.5 < t / r < 2
    assert cv["random_labels"]["test_error"] - cv["true_labels"]["test_error"] > 0.2
    net = res["network"]
    assert net["random_labels"]["test_acc"][-1] < 0.2 < 0.8 < net["true_labels"]["test_acc"][-1]


def test_bad_settings_fail_before_training(tmp_path):
    with pytest.raises(ValueError, match="n=99999"):
        experiments.run("stability", "quick", out=tmp_path, n=99_999)


def test_logistic_sgd_steps_are_the_gradient_formula():
    x = torch.tensor([[1.0, 0.0], [0.0, 2.0]], dtype=torch.float64)
    y = torch.tensor([[1.0, -1.0]], dtype=torch.float64)
    rows = torch.tensor([[0, 1, 1]])
    w = stability.logistic_sgd(x, y, rows, 0.5, 1)
    assert w.shape == (3, 1, 2)
    expected, ws = torch.zeros(2, dtype=torch.float64), []
    for i in (0, 1, 1):  # w <- w + alpha y sigmoid(-y <w, x>) x
        expected = expected + 0.5 * y[0, i] * torch.sigmoid(-y[0, i] * (expected @ x[i])) * x[i]
        ws.append(expected.clone())
    torch.testing.assert_close(w[:, 0], torch.stack(ws))
    torch.testing.assert_close(stability.logistic_sgd(x, y, rows, 0.5, 3), w[2:])  # every third step only
    for alpha, every in ((0.0, 1), (0.5, 0)):
        with pytest.raises(ValueError, match="alpha="):
            stability.logistic_sgd(x, y, rows, alpha, every)


def test_loss_gap_is_the_sup_over_both_labels():
    x = torch.tensor([[1.0, 0.0], [0.0, 1.0]], dtype=torch.float64)
    w, w2 = torch.tensor([[2.0, -1.0]], dtype=torch.float64), torch.tensor([[0.0, 1.0]], dtype=torch.float64)
    sp = torch.nn.functional.softplus
    gap = stability.logistic_loss_gap(w, w2, x)
    s, s2 = w @ x.T, w2 @ x.T
    torch.testing.assert_close(gap, torch.maximum((sp(-s) - sp(-s2)).abs(), (sp(s) - sp(s2)).abs()))
    assert float(gap[0, 0]) == pytest.approx(abs(float(sp(torch.tensor(2.0)) - sp(torch.tensor(0.0)))))
    assert stability.hrs_bound(2.0, [10, 20], 0.1, 50).tolist() == pytest.approx([2 * 4 * 0.1 * 10 / 50,
                                                                                   2 * 4 * 0.1 * 20 / 50])


def test_replace_one_changes_exactly_one_training_example():
    ds = data.load("digits", seed=0).subset(10, 4)
    d2 = stability.replace_one(ds, 3, ds.x_test[0], ds.y_test[0] + 1)
    assert torch.equal(d2.x_train[3], ds.x_test[0]) and d2.y_train[3] == ds.y_test[0] + 1
    keep = torch.arange(10) != 3
    assert torch.equal(d2.x_train[keep], ds.x_train[keep]) and torch.equal(d2.y_train[keep], ds.y_train[keep])
    assert not torch.equal(d2.x_train, ds.x_train) and not torch.equal(ds.x_train[3], ds.x_test[0])


def test_lockstep_records_per_epoch_and_drifts_when_one_example_differs():
    ds = data.load("digits", seed=0).subset(64, 32)
    d2 = stability.replace_one(ds, 0, ds.x_test[0], (ds.y_train[0] + 1) % 10)
    h = stability.lockstep("mlp_1x512", ds, d2, {"lr": 0.05, "net_epochs": 2}, seed=1)
    assert h["step"] == [1, 2]  # 64 examples: one batch of 128 per epoch
    assert 0 < h["divergence"][0] < h["divergence"][1] and all(g > 0 for g in h["sup_gap"])
    assert all(0 < m <= s for m, s in zip(h["mean_gap"], h["sup_gap"], strict=True))
    assert all(0 <= a <= 1 for a in h["train_acc"] + h["test_acc"]) and h["train_acc"][1] > 0.2
