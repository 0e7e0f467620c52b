"""The bounds experiment: measures and PAC-Bayes bounds separate true labels from random labels."""

import math

import numpy as np
import pytest
import torch

from rethinking_lib import experiments
from rethinking_lib.engine import models
from rethinking_lib.theory import measures

QUICK = experiments.get("bounds").base("quick")  # the quick config, resolved from the paper config + delta


@pytest.fixture(scope="module")
def result(results_dir):
    return experiments.run("bounds", "quick")["result"]


def test_summary_has_every_measure(result):
    keys = {"train_error", "test_error", "pac_bayes_bound", "pac_bayes_bound_data_prior", "spectral_margin_complexity",
            "frobenius_norm", "path_norm", "sharpness"}
    for cond in ("true_labels", "random_labels"):
        assert keys <= set(result["summary"][cond])


def test_data_dependent_bound_non_vacuous_for_true_labels_vacuous_for_random(result):
    """The data-dependent bound separates the labels at the quick profile, on the stored run: prior mean trained
    on S_a, posterior trained on all of S from it (it memorized S), bound on S_b;
    on a binary task a bound >= 0.5 is no better than a coin flip."""
    t, r = (result["summary"][c]["data_prior"] for c in ("true_labels", "random_labels"))
    assert result["summary"]["true_labels"]["pac_bayes_bound_data_prior"] < 0.5
    assert result["summary"]["random_labels"]["pac_bayes_bound_data_prior"] >= 0.5
    for d in (t, r):  # which data each part saw
        assert d["prior_examples"] + d["bound_examples"] == d["posterior_examples"] == QUICK["n_train"]
        assert d["posterior_net_train_error"] == 0  # the posterior's mean fits all of S, S_b included
    assert t["kl"] < r["kl"] / 5  # memorizing S_b's random labels costs KL; fitting true ones barely does
    assert result["summary"]["true_labels"]["pac_bayes_bound_data_prior"] >= t["snn_test_error"] - 0.05


def test_random_label_bound_far_above_true_label_bound(result):
    t, r = result["summary"]["true_labels"], result["summary"]["random_labels"]
    assert t["train_error"] == 0 and r["train_error"] == 0  # both memorized
    assert r["test_error"] > 0.4 > 0.15 > t["test_error"]
    assert r["pac_bayes_bound_data_prior"] > t["pac_bayes_bound_data_prior"] + 0.25
    assert r["pac_bayes_bound_mcallester"] > 1.0  # vacuous, as Dziugaite & Roy report for random labels
    assert r["pac_bayes_bound_mcallester"] > t["pac_bayes_bound_mcallester"] + 0.5
    for bound in ("pac_bayes_bound", "pac_bayes_bound_data_prior"):  # a bound is a bound: above the test error
        assert t[bound] >= t["snn_test_error"] - 0.05


def test_norm_measures_grow_with_random_labels(result):
    t, r = result["summary"]["true_labels"], result["summary"]["random_labels"]
    for m in ("spectral_margin_complexity", "frobenius_norm", "path_norm"):
        assert r[m] > t[m], m
    taus = result["summary"]["kendall_tau"]
    assert taus["spectral_margin_complexity"] > 0.3 and taus["pac_bayes_bound_data_prior"] > 0.3


def test_kendall_is_tau_b():
    """With ties (bounds clipped at 1) tau-b and tau-a differ; ``kendall`` returns tau-b, scipy's default."""
    measure, gap = [0.4, 1.0, 1.0, 1.0], [0.05, 0.3, 0.4, 0.5]
    pairs = [(i, j) for i in range(4) for j in range(i + 1, 4)]
    s = [math.copysign(1, measure[i] - measure[j]) * math.copysign(1, gap[i] - gap[j]) if measure[i] != measure[j]
         else 0 for i, j in pairs]
    tau_a = sum(s) / len(pairs)  # (C - D) / (N (N - 1) / 2) = 3 / 6
    tied_x = sum(measure[i] == measure[j] for i, j in pairs)
    tau_b = sum(s) / math.sqrt((len(pairs) - tied_x) * len(pairs))  # no ties in the gap: 3 / sqrt(3 * 6)
    assert tau_a == pytest.approx(0.5) and tau_b == pytest.approx(1 / math.sqrt(2))
    assert measures.kendall(measure, gap) == pytest.approx(tau_b) != pytest.approx(tau_a)


def test_kendall_matches_scipy_with_ties_in_either_list():
    from scipy.stats import kendalltau

    rng = np.random.default_rng(0)
    for n in (2, 3, 7, 30):
        for _ in range(20):
            x, y = rng.integers(0, 4, n).tolist(), rng.integers(0, 4, n).tolist()  # many ties, some in both
            x = [math.inf if v == 3 else v for v in x]  # an unbounded measure: infinities tie with each other
            want = kendalltau(x, y).statistic
            got = measures.kendall(x, y)
            assert (math.isnan(got) and math.isnan(want)) or got == pytest.approx(want, abs=1e-12), (x, y)
    assert math.isnan(measures.kendall([1.0, math.nan, 2.0], [1.0, 2.0, 3.0]))  # scipy's default: NaN propagates


def test_measures_on_a_known_network():
    net = models.MLP(2, 2, depth=1, hidden=2)
    with torch.no_grad():
        net[1].weight.copy_(torch.tensor([[3.0, 0.0], [0.0, 1.0]]))
        net[1].bias.zero_()
        net[3].weight.copy_(torch.tensor([[2.0, 0.0], [0.0, 2.0]]))
        net[3].bias.zero_()
    assert measures.frobenius_norm(net) == pytest.approx(math.sqrt(10) * math.sqrt(8))
    # R_A: spectral norms 3 and 2; row-norm sums 4 and 4
    expect = 3 * 2 * ((4 / 3) ** (2 / 3) + (4 / 2) ** (2 / 3)) ** 1.5
    assert measures.spectral_complexity(net) == pytest.approx(expect)
    # l2 path norm: paths 3*2 and 1*2 -> sqrt(36 + 4)
    assert measures.path_norm(net, (2,)) == pytest.approx(math.sqrt(40))
    x, y = torch.tensor([[1.0, 0.0], [0.0, 1.0]]), torch.tensor([0, 1])
    assert measures.margins(net, x, y).tolist() == pytest.approx([6.0, 2.0])


def test_paper_profile_runs_dziugaite_roy_setting_on_mnist_files(tmp_path, monkeypatch):
    """The paper profile reads full MNIST from torchvision's cached tensor file and trains D&R's network on all
    784 pixels (one hidden layer of 600 units, two classes). Stand-in file: the 5,000 offline digits written in
    MNIST's format (no download here); sizes cut by overrides so it runs in seconds on a CPU."""
    from rethinking_lib.engine import data

    d = data.load("mnist5k", crop=None)
    blob = {"x_train": (d.x_train * 255).round().to(torch.uint8), "y_train": d.y_train.to(torch.uint8),
            "x_test": (d.x_test * 255).round().to(torch.uint8), "y_test": d.y_test.to(torch.uint8),
            "classes": [str(i) for i in range(10)]}
    monkeypatch.setenv("RETHINKING_DATA", str(tmp_path))
    torch.save(blob, data.cache_dir() / "mnist_uint8.pt")
    cfg = experiments.get("bounds").config("paper")
    assert (cfg["dataset"], cfg["crop"], cfg["hidden"], cfg["n_train"]) == ("mnist", None, 600, 55_000)
    small = {"n_train": 300, "n_test": 200, "epochs": 2, "posterior_steps": 5, "mc_samples": 4,
             "data_prior_mc_samples": 4, "prior_epochs": 2, "device": "cpu"}
    res = experiments.run("bounds", "paper", out=tmp_path / "results", **small)["result"]
    assert [(r["p"], r["m"]) for r in res["runs"]] == [(0.0, 300), (1.0, 300)]
    params = 784 * 600 + 600 + 600 * 2 + 2  # D&R's 784-600 network, two outputs (our stated choice)
    assert res["runs"][0]["pac_bayes"]["params"] == params
    for cond in ("true_labels", "random_labels"):
        assert 0 <= res["summary"][cond]["pac_bayes_bound"] and math.isfinite(res["summary"][cond]["path_norm"])


def _hand_built(cfg, p, seed):
    """The networks as the chapter built them before its runs became specs: data -> binary -> corrupt -> seeded
    PyTorch-initialized MLP -> train.fit, then the prior's network from the same init on the first half (for
    ``prior_epochs`` epochs), then the posterior's network from the prior's on all the data."""
    import copy
    from dataclasses import replace

    from rethinking_lib.engine import corrupt, data, devices, train

    dev = devices.resolve(cfg["device"])  # as the chapter did: on a GPU machine both paths train on the GPU
    ds = data.load(cfg["dataset"], device=dev, crop=cfg["crop"], n_train=cfg["n_train"], n_test=cfg["n_test"], seed=0)
    ds = replace(ds, y_train=(ds.y_train >= 5).long(), y_test=(ds.y_test >= 5).long(), num_classes=2)
    ds = corrupt.apply(ds, **corrupt.condition_for(p), seed=seed)
    torch.manual_seed(seed)
    model = models.MLP(ds.in_channels * ds.image_size ** 2, 2, depth=1, hidden=cfg["hidden"]).to(dev)
    init = copy.deepcopy(model)
    tc = train.TrainConfig(lr=cfg["lr"], momentum=cfg["momentum"], lr_decay=cfg["lr_decay"],
                           batch_size=cfg["batch_size"], epochs=cfg["epochs"], stop_at_100=True, seed=seed)
    hist = train.fit(model, ds, tc, progress=False)
    na = int(round(cfg["data_prior_fraction"] * len(ds.y_train)))
    prior = copy.deepcopy(init)
    train.fit(prior, replace(ds, x_train=ds.x_train[:na], y_train=ds.y_train[:na]),
              replace(tc, stop_at_100=False, epochs=cfg["prior_epochs"]), progress=False)
    post = copy.deepcopy(prior)
    torch.manual_seed(seed)  # the spec's run seeds and builds a network before loading the prior's weights into it
    models.MLP(ds.in_channels * ds.image_size ** 2, 2, depth=1, hidden=cfg["hidden"])
    train.fit(post, ds, tc, progress=False)
    return ds, init, model, prior, post, hist


@pytest.mark.parametrize("p", [0.5, 1.0])
def test_run_specs_train_the_networks_the_chapter_built_by_hand(tmp_path, p):
    from rethinking_lib.chapters import ch08_bounds as bounds
    from rethinking_lib.engine import runs

    cfg = {**QUICK, "dataset": "digits", "crop": None, "n_train": 60, "n_test": 20, "hidden": 24, "epochs": 4,
           "batch_size": 16, "prior_epochs": 3}
    ds, init, model, prior, post, hist = _hand_built(cfg, p, seed=3)
    spec, prior_spec, post_spec = bounds.network_specs(cfg, p, 3)
    assert prior_spec == {**spec, "train_fraction": cfg["data_prior_fraction"], "stop_at_100": False, "epochs": 3}
    assert post_spec == {**spec, "init_from": prior_spec} and spec["keep_weights"]
    rec = runs.run_one(spec, out=tmp_path)["result"]
    runs.run_one(post_spec, out=tmp_path)  # trains the prior's network first (its start)
    assert rec["epochs_run"] == hist["epochs_run"] and rec["train_acc"] == hist["train_acc"]
    assert torch.equal(runs.dataset(spec).y_train, ds.y_train) and torch.equal(runs.dataset(spec).y_test, ds.y_test)
    for got, want in ((runs.initial_model(spec), init), (runs.load_model(spec, out=tmp_path), model),
                      (runs.load_model(prior_spec, out=tmp_path), prior), (runs.load_model(post_spec, out=tmp_path), post)):
        assert all(torch.equal(a, b.cpu()) for a, b in zip(got.state_dict().values(), want.state_dict().values(),
                                                           strict=True))


def test_bounds_specs_list_every_run_the_experiment_trains(tmp_path, monkeypatch):
    from rethinking_lib.chapters import ch08_bounds as bounds
    from rethinking_lib.engine import runs

    cfg = {**QUICK, "dataset": "digits", "crop": None, "n_train": 40, "n_test": 10, "hidden": 8, "epochs": 1,
           "ps": [0.0, 1.0], "seeds": [0, 1], "posterior_steps": 1, "mc_samples": 2,
           "data_prior_mc_samples": 2, "prior_epochs": 1}
    seen, real = [], runs.run_one
    monkeypatch.setattr(runs, "run_one", lambda s, **kw: seen.append(runs.key(s)) or real(s, **kw))
    res = bounds.bounds(cfg, seed=5, out=tmp_path)
    assert seen == [runs.key(s) for s in bounds.bounds_specs(runs.seeded(cfg, 5))] and len(seen) == 2 * 2 * 3
    assert sorted((r["p"], r["seed"]) for r in res["runs"]) == [(0.0, 5), (0.0, 6), (1.0, 5), (1.0, 6)]
    assert len(list(tmp_path.glob("train-*.pt"))) == 12  # every network keeps its weights
