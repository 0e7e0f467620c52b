"""Section 2's randomization tests at the quick profile (Figures 1a, 1b, 1c): the phenomena, not just that it runs.

The runs go through the results store (``results_dir`` fixture): after the book build they are loaded, on
their own they train (a few minutes on 2 cores).
"""

import json

import pytest

from rethinking_lib import experiments
from rethinking_lib.chapters import ch04_randomization as randomization


@pytest.fixture(scope="module")
def fig1bc(results_dir):
    return experiments.run("fig1bc", "quick", seed=0)["result"]


@pytest.fixture(scope="module")
def fig1a(results_dir):
    return experiments.run("fig1a", "quick", seed=0)["result"]


def test_specs_are_pure_json_and_cover_the_grid():
    cfg = experiments.get("fig1bc").config("quick")
    specs = randomization.fig1bc_specs(cfg)
    assert specs == randomization.fig1bc_specs(cfg)  # no hidden state
    assert json.loads(json.dumps(specs)) == specs
    assert len(specs) == sum(len(randomization.seeds_of(cfg, m)) for m in cfg["models"]) * len(cfg["ps"])
    first = specs[:len(cfg["models"]) * len(cfg["ps"])]  # the first seed's runs of every model come first
    assert {s["seed"] for s in first} == {0} and [s["model"] for s in first[::len(cfg["ps"])]] == cfg["models"]
    conds = [s["condition"] for s in specs[:len(cfg["ps"])]]
    assert conds[0] == "true_labels" and conds[-1] == "random_labels" and set(conds[1:-1]) == {"partial_labels"}


def test_seeds_beyond_the_first_run_the_seed_models_only_with_their_own_label_draws():
    cfg = experiments.get("fig1bc").config("quick", seed_models=["mlp_1x512"])
    specs = randomization.fig1bc_specs(cfg)
    later = [s for s in specs if s["seed"] != 0]
    assert {s["model"] for s in later} == {"mlp_1x512"} and {s["seed"] for s in later} == {1, 2}
    assert all(s["corruption_seed"] == s["seed"] for s in specs)
    one = randomization.fig1bc_specs(experiments.get("fig1bc").config("quick", seeds=[0]))
    assert one == specs[:len(one)]  # one seed: exactly the first seed's runs


def test_seed_spread_is_the_mean_and_sd_over_seeds_and_times_only_fitted_seeds():
    row = lambda e, t: {"p": 1.0, "test_error": e, "relative_time": t, "train_acc": 1.0, "n_test": 256}  # noqa: E731
    (s,) = randomization.seed_spread([[row(0.9, 2.0)], [row(0.92, None)], [row(0.94, 4.0)]])
    assert s["seeds"] == 3 and s["test_error"] == pytest.approx(0.92) and s["test_error_sd"] == pytest.approx(0.02)
    assert s["timed_seeds"] == 2 and s["relative_time"] == pytest.approx(3.0)


def test_figure_1a_and_1bc_share_runs():
    a = randomization.fig1a_specs(experiments.get("fig1a").config("quick"))
    bc = randomization.fig1bc_specs(experiments.get("fig1bc").config("quick"))
    assert sum(s in bc for s in a) == 2  # true labels and random labels: Figure 1b/1c's p = 0 and p = 1 runs


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_corruption_level_outside_unit_interval_is_a_clear_error(p):
    with pytest.raises(ValueError, match="outside"):
        randomization.condition_for(p)


def test_unknown_model_is_a_clear_error():
    with pytest.raises(ValueError, match="has no settings"):
        randomization.fig1bc_specs(experiments.get("fig1bc").config("quick", models=["resnet"]))


@pytest.mark.slow
def test_mlp_memorizes_every_corruption_level_and_test_accuracy_falls_to_chance(fig1bc):
    rows = fig1bc["models"]["mlp_1x512"]
    assert [r["p"] for r in rows] == experiments.get("fig1bc").config("quick")["ps"]
    assert all(r["memorized"] and r["train_acc"] >= 0.99 for r in rows)
    test = [r["test_acc"] for r in rows]
    assert test[0] >= 0.85 and test[-1] <= 0.20
    assert all(a > b for a, b in zip(test, test[1:], strict=False)), test
    assert rows[-1]["epochs_to_fit"] > rows[0]["epochs_to_fit"]


@pytest.mark.slow
@pytest.mark.parametrize("model", ["alexnet_small", "inception_small"])
def test_cnns_memorize_every_corruption_level(fig1bc, model):
    rows = fig1bc["models"][model]
    assert all(r["memorized"] for r in rows)  # >= 99% training accuracy reached within the budget
    assert rows[0]["test_error"] < 0.3          # real digits generalize
    assert abs(rows[-1]["test_error"] - randomization.CHANCE) < 0.1  # random labels: chance
    assert rows[-1]["test_error"] > rows[len(rows) // 2]["test_error"] > rows[0]["test_error"]
    assert rows[-1]["relative_time"] > 1.0      # random labels take longer to fit


@pytest.mark.slow
def test_figure_1a_all_conditions_memorized_random_labels_slowest(fig1a):
    curves = fig1a["curves"]
    assert set(curves) == set(randomization.FIG1A_CONDITIONS)
    assert all(c["steps_to_100"] and c["steps_to_threshold"] for c in curves.values())
    steps = {k: c["steps_to_threshold"] for k, c in curves.items()}  # the paper's quantity: loss about zero
    assert steps["random_labels"] == max(steps.values())
    assert steps["random_labels"] > steps["true_labels"]
    for c in curves.values():  # curves run the whole budget and end far below the start (ln 10)
        assert c["steps"] == curves["true_labels"]["steps"]
        assert c["loss"][-1] < fig1a["loss_threshold"] < 0.5 * c["loss"][0]


def test_steps_below_threshold_reads_the_epoch_mean_loss():
    epochs = [{"step": 10, "loss": 2.3}, {"step": 20, "loss": 0.06}, {"step": 30, "loss": 0.04}, {"step": 40, "loss": 0.01}]
    assert randomization.steps_below(epochs, 0.05) == 30
    assert randomization.steps_below(epochs, 0.001) is None


def test_bad_corruption_level_fails_before_any_training(tmp_path):
    with pytest.raises(ValueError, match=r"ps=\[0.0, 2.0\] must be a number in \[0, 1\]"):
        experiments.run("fig1bc", "quick", out=tmp_path, models=["mlp_1x512"], ps=[0.0, 2.0])
    assert not list(tmp_path.glob("train-*.json"))  # the valid p = 0 run was not trained first


def test_prose_gaps_read_the_run_and_table1():
    """Chapter 4's gap sentence: the run's train - test gap at its lowest and highest p over its models, and Table 1's
    CIFAR-10 gaps without regularizers (0.14 for small Inception to 0.49 for MLP 1x512 with true labels)."""
    res = {"ps": [0.0, 1.0], "models": {
        "a": [{"p": 0.0, "train_acc": 1.0, "test_acc": 0.9}, {"p": 1.0, "train_acc": 1.0, "test_acc": 0.1}],
        "b": [{"p": 0.0, "train_acc": 0.99, "test_acc": 0.95}, {"p": 1.0, "train_acc": 0.98, "test_acc": 0.12}]}}
    n = randomization.prose_numbers(res)
    assert n["ch4_gap_lo_min"] == pytest.approx(0.04) and n["ch4_gap_lo_max"] == pytest.approx(0.1)
    assert n["ch4_gap_hi_min"] == pytest.approx(0.86) and n["ch4_gap_hi_max"] == pytest.approx(0.9)
    assert n["ch4_paper_gap_true_min"] == pytest.approx(1 - 0.8575) and n["ch4_paper_gap_true_max"] == pytest.approx(1 - 0.5051)
    assert 0.85 < n["ch4_paper_gap_rand_min"] <= n["ch4_paper_gap_rand_max"] < 0.95


def test_time_to_overfit_is_defined_where_exactly_100_percent_never_comes():
    """The criterion (>= 99% training accuracy) gives a time for a run that stalls just below 100%, as a true-label
    small Inception did on a GPU (99.98%); the exact-100% reading has none, and the fig1bc table shows both."""
    stalled = [{"epoch": 1, "train_acc": 0.5}, {"epoch": 2, "train_acc": 0.9899}, {"epoch": 3, "train_acc": 0.9998},
               {"epoch": 4, "train_acc": 0.9998}]
    assert randomization.epochs_to_fit(stalled) == 3
    assert randomization.epochs_to_fit(stalled, 1.0) is None
    assert randomization.OVERFIT_ACC == 0.99
    res = {"overfit_acc": 0.99, "paper": {"relative_time_at_p1": {}, "test_error_at_p0": {}}, "models": {"mlp_1x512": [
        {"p": 0.0, "fraction_changed": 0.0, "train_acc": 1.0, "test_error": 0.1, "epochs_to_fit": 2, "relative_time": 1.0,
         "epochs_to_100": 4, "relative_time_100": 1.0},
        {"p": 1.0, "fraction_changed": 0.9, "train_acc": 0.9998, "test_error": 0.9, "epochs_to_fit": 6,
         "relative_time": 3.0, "epochs_to_100": None, "relative_time_100": None}]}}
    row = randomization.fig1bc_table(res)[1]
    assert row["first epoch >= 99% train"] == 6 and row["first epoch at 100% train"] is None
    line = randomization.overfit_criterion_line(res)
    assert "3.00x with >= 99%" in line and "undefined (never reached) with 100%" in line
