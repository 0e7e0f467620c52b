"""Stability chapter: a deterministic algorithm on identical data has gap exactly zero; SGD on logistic
regression stays under the Hardt-Recht-Singer bound; the quick-profile phenomena."""

from dataclasses import replace

import pytest
import torch

from rethinking_lib import experiments
from rethinking_lib.chapters import ch03_stability as stability
from rethinking_lib.engine import data


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
    b = stability.hrs_bound(1.0, [3], 0.1, 7)  # float64, not the default float32 of integer steps
    assert b.dtype == torch.float64 and float(b[0]) == pytest.approx(2 * 0.1 * 3 / 7, rel=1e-12)


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


# ------------------------------------------------------------------------------------------------
# the experiment driver at a tiny digits config, against references written out here: the logistic SGD
# one step at a time, the MLP trained on S and on S' separately (same init, same batch order)


def _crop(x, c):
    """The central c x c pixels (all of them for c = None)."""
    if c is None:
        return x
    top = (x.shape[-1] - c) // 2
    return x[..., top:top + c, top:top + c]


def _ref_logistic(x, y, rows, alpha, every):
    """(checkpoints, runs, d): w <- w + alpha y_i sigmoid(-y_i <w, x_i>) x_i per step from w = 0, every ``every`` steps."""
    paths = []
    for r in range(rows.shape[0]):
        w, ws = torch.zeros(x.shape[1], dtype=torch.float64), []
        for t, i in enumerate(rows[r].tolist()):
            w = w + alpha * y[r, i] * torch.sigmoid(-y[r, i] * (w @ x[i])) * x[i]
            if (t + 1) % every == 0:
                ws.append(w)
        paths.append(torch.stack(ws))
    return torch.stack(paths, 1)


def _ref_convex(ds, n, k, epochs, alpha, per_epoch, seed):
    sp = torch.nn.functional.softplus
    px, pt = (data.whiten(_crop(x, ds.crop)).flatten(1).double() for x in (ds.x_train, ds.x_test))
    r_train = px.norm(dim=1).max()
    xs, xt = px / r_train, pt / r_train  # R = 1 on the training images
    x_all, x_eval = torch.cat([xs[:n], xt[:k]]), torch.cat([xs[:n], xt[k:]])
    lip = float(x_all.norm(dim=1).max())
    g = torch.Generator().manual_seed(seed)
    y_true = (torch.cat([ds.y_train[:n], ds.y_test[:k]]) >= 5).double() * 2 - 1
    conds = {"true_labels": y_true.repeat(k, 1),
             "random_labels": torch.randint(0, 2, (k, n + k), generator=g).double() * 2 - 1}
    order = torch.randint(0, n, (k, epochs * n), generator=g)
    swapped = order.clone()
    for r in range(k):  # run r: example r replaced by the extra example n + r
        swapped[r][order[r] == r] = n + r
    every = max(1, n // per_epoch)  # at most one record per step
    steps = list(range(every, epochs * n + 1, every))
    out = {"alpha": alpha, "R": lip, "L": lip, "beta": lip ** 2 / 4, "max_step": 8 / lip ** 2, "n": n, "runs": k,
           "steps": steps, "bound": [2 * lip ** 2 * alpha * s / n for s in steps]}
    y_test = (ds.y_test[k:] >= 5).double() * 2 - 1
    for name, y in conds.items():
        w, w2 = _ref_logistic(x_all, y, order, alpha, every), _ref_logistic(x_all, y, swapped, alpha, every)
        s, s2 = w @ x_eval.T, w2 @ x_eval.T
        gap = torch.maximum((sp(-s) - sp(-s2)).abs(), (sp(s) - sp(s2)).abs())
        dist = (w - w2).norm(dim=2)
        picks = torch.tensor([[int((order[r, :t] == r).sum()) for r in range(k)] for t in steps])
        m_train, m_test = (w[-1] @ xs[:n].T) * y[:, :n], w[-1] @ xt[k:].T
        test_loss = sp(-m_test * y_test) if name == "true_labels" else (sp(m_test) + sp(-m_test)) / 2
        out[name] = {"sup_gap": [float(g.max(1).values.mean()) for g in gap],
                     "sup_gap_sd": float(gap[-1].max(1).values.std()) if k > 1 else 0.0,  # over the runs, at T
                     "mean_gap": [float(g.mean()) for g in gap],
                     "divergence": [float(d.mean()) for d in dist],
                     "path_bound_ok": bool((dist <= 2 * alpha * lip * picks + 1e-9).all()),
                     "train_error": float((m_train <= 0).double().mean()),
                     "test_error": float((m_test * y_test <= 0).double().mean()),
                     "train_loss": float(sp(-m_train).mean()), "test_loss": float(test_loss.mean())}
        out[name]["loss_gap"] = out[name]["test_loss"] - out[name]["train_loss"]
    return out


def _ref_net(name, d, d2, lr, epochs, seed):
    """The model trained on ``d`` and, separately, on ``d2``; per epoch the distance and the log-prob gaps."""
    from rethinking_lib.engine import models, runs

    n, x_test = len(d.y_train), data.whiten(_crop(d.x_test, d.crop))
    res = []
    for dd in (d, d2):
        torch.manual_seed(seed)
        m = models.build(name, in_channels=dd.in_channels, image_size=dd.image_size, num_classes=dd.num_classes)
        opt = torch.optim.SGD(m.parameters(), lr=lr, momentum=0.9)
        gen, x = torch.Generator().manual_seed(seed), data.whiten(_crop(dd.x_train, dd.crop))
        x_eval = torch.cat([data.whiten(_crop(d.x_train, d.crop)), x_test])  # both evaluated on S and the test images
        params, logp = [], []
        for epoch in range(epochs):
            perm = torch.randperm(n, generator=gen)
            for group in opt.param_groups:
                group["lr"] = lr * runs.paper_lr_decay(n) ** epoch
            for i in range(0, n, 128):
                opt.zero_grad()
                torch.nn.functional.cross_entropy(m(x[perm[i:i + 128]]), dd.y_train[perm[i:i + 128]]).backward()
                opt.step()
            with torch.no_grad():
                params.append(torch.cat([p.flatten() for p in m.parameters()]))
                logp.append(m(x_eval).log_softmax(1))
        res.append((params, logp))
    (p1, l1), (p2, l2) = res
    gaps = [(a - b).abs().amax(1) for a, b in zip(l1, l2, strict=True)]
    return {"step": [(e + 1) * -(-n // 128) for e in range(epochs)],
            "divergence": [float((a - b).norm()) for a, b in zip(p1, p2, strict=True)],
            "sup_gap": [float(g.max()) for g in gaps], "mean_gap": [float(g.mean()) for g in gaps],
            "train_acc": [float((lp[:n].argmax(1) == d.y_train).double().mean()) for lp in l1],
            "test_acc": [float((lp[n:].argmax(1) == d.y_test).double().mean()) for lp in l1]}


def _assert_close(got, want, path="result", rel=1e-6):
    if isinstance(want, dict):
        assert isinstance(got, dict) and sorted(got) == sorted(want), path
        for k in want:
            _assert_close(got[k], want[k], f"{path}[{k!r}]", rel)
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), path
        for i, (a, b) in enumerate(zip(got, want, strict=True)):
            _assert_close(a, b, f"{path}[{i}]", rel)
    elif isinstance(want, float):
        assert type(got) in (int, float) and got == pytest.approx(want, rel=rel, abs=1e-9), path
    else:
        assert type(got) is type(want) and got == want, path


def test_run_records_follow_the_references(tmp_path, monkeypatch):
    from rethinking_lib.config import profiles
    from rethinking_lib.engine import corrupt

    seed, n, k = 1, 130, 3  # 130 examples: two batches of (128, 2) per epoch
    cfg = {"profile": "quick", "dataset": "digits", "n": n, "runs": k, "epochs": 2, "alpha": 0.5,
           "records_per_epoch": 2, "net_model": "mlp_1x512", "lr": 0.05, "net_epochs": 3}
    full = data.load("digits", seed=0)
    # 40 test images, the first two of different digits (the replacement example and the one after it)
    ds = replace(full.subset(n_train=n), x_test=full.x_test[2:42], y_test=full.y_test[2:42])
    assert ds.y_test[0] != ds.y_test[1]
    loads = []
    monkeypatch.setattr(data, "load", lambda name, **kw: loads.append((name, kw.get("device"))) or ds)
    res = stability.run(cfg, seed=seed, progress=False, out=tmp_path)
    monkeypatch.undo()
    assert loads == [("digits", profiles.device("quick"))]  # the data lives on the profile's device
    convex = _ref_convex(ds, n, k, 2, 0.5, 2, seed)
    _assert_close(res["convex"], convex)
    net = {}
    base = replace(ds, x_test=ds.x_test[1:], y_test=ds.y_test[1:])
    for cond in ("true_labels", "random_labels"):
        d = corrupt.apply(base, cond, seed=seed)
        y_new = ds.y_test[0] if cond == "true_labels" else (d.y_train[0] + 1 + seed) % 10
        assert y_new != d.y_train[0]  # S' differs from S in the label too
        x2, y2 = d.x_train.clone(), d.y_train.clone()
        x2[0], y2[0] = ds.x_test[0], y_new
        net[cond] = _ref_net("mlp_1x512", d, replace(d, x_train=x2, y_train=y2), 0.05, 3, seed)
    _assert_close(res["network"], net, rel=1e-4)
    summary = {f"logistic {c}": {"sup_gap": round(convex[c]["sup_gap"][-1], 4), "bound": round(convex["bound"][-1], 4),
                                 "loss_gap": round(convex[c]["loss_gap"], 4),
                                 "train_error": round(convex[c]["train_error"], 4),
                                 "test_error": round(convex[c]["test_error"], 4)} for c in ("true_labels", "random_labels")}
    for c, h in net.items():
        summary[f"mlp_1x512 {c}"] = {key: round(h[key][-1], 4) for key in ("sup_gap", "mean_gap", "train_acc", "test_acc")}
    _assert_close(res["summary"], summary, rel=1e-12)
    # the records are not degenerate: the runs drift apart
    assert max(convex["true_labels"]["divergence"]) > 0 and convex["true_labels"]["divergence"][-1] > 0
    assert net["random_labels"]["divergence"][0] > 0 and convex["random_labels"]["path_bound_ok"]


def test_convex_experiment_on_blank_images_large_steps_and_dense_records():
    g = torch.Generator().manual_seed(0)
    x_train, x_test = torch.rand(3, 1, 4, 4, generator=g), torch.rand(4, 1, 4, 4, generator=g)
    x_train[2], x_test[3] = 0.5, 0.5  # blank images whiten to 0: their score is exactly 0, counted as an error
    ds = data.Dataset("toy", x_train, torch.tensor([1, 7, 5]), x_test, torch.tensor([8, 2, 6, 0]))
    cfg = {"n": 3, "runs": 2, "epochs": 2, "alpha": 1.0, "records_per_epoch": 4}  # 4 records > 3 steps an epoch
    out = stability.convex_experiment(ds, cfg, seed=0)
    _assert_close(out, _ref_convex(ds, 3, 2, 2, 1.0, 4, 0))
    assert out["steps"] == [1, 2, 3, 4, 5, 6] and out["true_labels"]["train_error"] >= 1 / 3
    # the largest step the HRS bound allows, 2 / beta, is accepted and the path bound still holds
    top = stability.convex_experiment(ds, {**cfg, "alpha": out["max_step"]}, seed=0)
    _assert_close(top, _ref_convex(ds, 3, 2, 2, out["max_step"], 4, 0))
    assert top["true_labels"]["path_bound_ok"] and top["random_labels"]["path_bound_ok"]
    with pytest.raises(ValueError, match="2/nu"):
        stability.convex_experiment(ds, {**cfg, "alpha": 0.0}, seed=0)


def test_lockstep_matches_separate_runs_on_cropped_two_class_data():
    ds = data.load("digits", seed=0).subset(20, 10)
    ds = replace(ds, y_train=ds.y_train % 2, y_test=ds.y_test % 2, num_classes=2, crop=6)
    d2 = stability.replace_one(ds, 0, ds.x_test[0], 1 - ds.y_train[0])
    h = stability.lockstep("mlp_1x512", ds, d2, {"lr": 0.05, "net_epochs": 2}, seed=0)
    _assert_close(h, _ref_net("mlp_1x512", ds, d2, 0.05, 2, 0), rel=1e-4)


def test_run_accepts_the_largest_sizes_that_fit_and_rejects_bad_settings(tmp_path, monkeypatch):
    small = data.load("digits", seed=0).subset(12, 6)
    monkeypatch.setattr(data, "load", lambda name, **kw: small)
    cfg = {"profile": "quick", "dataset": "digits", "n": 12, "runs": 5, "epochs": 1, "alpha": 0.5,
           "records_per_epoch": 1, "net_model": "mlp_1x512", "lr": 0.01, "net_epochs": 1}
    res = stability.run(cfg, seed=0, progress=False, out=tmp_path)  # all 12 training images; 5 = 6 test images - 1
    assert (res["convex"]["n"], res["convex"]["runs"], res["convex"]["steps"]) == (12, 5, [12])
    for bad in ({"n": 13}, {"runs": 6}):
        with pytest.raises(ValueError, match=r"pass n <= 12 and runs <= n"):
            stability.run({**cfg, **bad}, seed=0, progress=False, out=tmp_path)
    for bad, msg in (({"n": 2.5}, "n=2.5 must be a positive integer"), ({"net_epochs": 0}, "net_epochs=0 must")):
        with pytest.raises(ValueError, match=msg):
            stability.run({**cfg, **bad}, seed=0, progress=False, out=tmp_path)
