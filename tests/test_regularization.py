"""Section 3 at the quick profile: Table 1, the weight-decay claim, Figure 2b and Table 2's code path.

Phenomena asserted: true labels beat chance by a wide margin, random labels are memorized with test
accuracy at chance, and removing the regularizers (random crop, weight decay) costs little test accuracy.
"""

import json

import numpy as np
import pytest

from rethinking_lib import experiments
from rethinking_lib.chapters import ch05_regularization as regularization


@pytest.fixture(scope="module")
def table1(results_dir):
    return experiments.run("table1", "quick", seed=0)["result"]


@pytest.fixture(scope="module")
def fig2(results_dir):
    return experiments.run("fig2", "quick", seed=0)["result"]


def test_table1_specs_cover_every_paper_row_and_share_figure1_runs():
    from rethinking_lib.chapters import ch04_randomization as randomization

    cfg = experiments.get("table1").config("quick")
    specs = regularization.table1_row_specs(cfg)  # one run per row (table1_specs adds fallbacks, seeds)
    assert json.loads(json.dumps(specs)) == specs
    rows = regularization.table1_rows(cfg)
    # Table 1, Section 3 (and small AlexNet with 5e-4 on every weight beside its tutorial's), Table 4's two augmentations
    assert len(rows) == len(regularization.PAPER_TABLE1) + len(regularization.SECTION3_ROWS) + 1 + 2
    assert all(not s["stop_at_100"] for s in specs)
    for row, s in zip(rows, specs, strict=True):
        if not row[2]:
            assert s["weight_decay"] == 0.0
        elif row[0] == "alexnet_small" and row[2] is True:  # the TF CIFAR-10 tutorial's: 0.004 on its hidden FC layers
            assert (s["weight_decay"], s["weight_decay_on"]) == (0.004, "hidden_fc")
        else:
            assert s["weight_decay"] == regularization.WEIGHT_DECAY == 5e-4 and "weight_decay_on" not in s
    t4 = [s for row, s in zip(rows, specs, strict=True) if row[-1] == "table4"]
    assert [s["augment"] for s in t4] == [True, "flip_rotate"] and all(s["condition"] == "random_labels" for s in t4)
    assert [row[4] for row in rows if row[-1] == "table4"] == [99.93, 99.28]  # the paper's Table 4, beside ours
    fig1 = randomization.fig1bc_specs(experiments.get("fig1bc").config("quick"))
    assert sum(s in fig1 for s in specs) >= 6  # the no-regularizer rows are Figure 1's p = 0 / p = 1 runs


def test_table2_without_a_root_shows_the_reported_table_only(results_dir):
    res = experiments.run("table2", "quick")["result"]
    assert res["measured"] == [] and len(res["reported"]) == 7
    assert res["reported"][0]["top1_test"] == 77.84


def test_table2_runs_on_an_imagefolder_tree(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(0)
    for split, n in (("train", 6), ("val", 3)):
        for c in ("cat", "dog"):
            (tmp_path / split / c).mkdir(parents=True)
            for i in range(n):
                Image.fromarray(rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)).save(tmp_path / split / c / f"{i}.png")
    res = experiments.run("table2", "quick", out=tmp_path / "res", root=str(tmp_path), epochs=2)["result"]
    assert [r["labels"] for r in res["measured"]] == ["true", "true", "random"]
    assert all(0.0 <= r["test_acc"] <= 1.0 for r in res["measured"])


NOBN = "inception_small_nobn"


def trained(rows):
    """The rows that trained (not the no-BN runs at lr 0.1 that diverged or stayed at chance: see below)."""
    return [r for r in rows if not (r["model"] == NOBN and not r["fallback"] and not regularization.trains_row(r))]


@pytest.mark.slow
def test_table1_true_labels_beat_chance_random_labels_memorized_at_chance(table1):
    for r in trained(table1["rows"]):
        if r["labels"] == "true":
            assert r["test_acc"] > 0.5, r   # chance is 0.1
        else:
            assert abs(r["test_acc"] - 0.1) <= 0.1, r
            # every model fits random labels (>= 99% within its budget), the no-BN one with its fallback; at the
            # quick profile's nearly constant lr the accuracy may wobble a few points after the fit
            assert r["epochs_to_fit"] is not None and r["epochs_to_fit"] < r["epochs"] and r["train_acc"] >= 0.9, r
    s = table1["summary"]
    assert s["random_rows"] == 5 and s["random_rows_fitted"] == 5


@pytest.mark.slow
def test_quick_inception_without_bn_shows_the_papers_rows_with_its_stated_fallback(table1):
    """At the quick profile the no-BN rows show what the paper's show: true labels trained and generalizing, random
    labels fitted at chance, with the fallback and the budgets the settings state (lr 0.01, He init; 70 epochs, the
    random-label row 100)."""
    cfg = experiments.get("table1").config("quick")
    budget = {"true": cfg["model_settings"][NOBN]["epochs"], "random": cfg["random_label_epochs"][NOBN]}
    assert budget == {"true": 70, "random": 100}
    rows = [r for r in table1["rows"] if r["model"] == NOBN and r["fallback"]]
    assert {(r["labels"], r["weight_decay"]) for r in rows} == {("true", True), ("true", False), ("random", False)}
    for r in rows:
        assert r["fallback"] == {"lr": 0.01, "init": "he_normal"} and r["epochs"] == budget[r["labels"]]
        # fitted as Figure 1b defines it (>= 99% within the budget); the final epoch may wobble a little below
        assert r["epochs_to_fit"] is not None and r["train_acc"] >= (0.95 if r["labels"] == "true" else 0.9), r
        assert (r["test_acc"] > 0.5) if r["labels"] == "true" else (abs(r["test_acc"] - 0.1) <= 0.1), r


@pytest.mark.slow
def test_table4_random_labels_are_fitted_with_data_augmentation(table1):
    """Appendix E: random crop, and flip + rotation up to 25 degrees, do not stop small Inception fitting random
    labels (>= 99% training accuracy on the stored quick runs), with test accuracy at chance."""
    rows = {r["random_crop"]: r for r in table1["table4"]}
    assert set(rows) == {True, "flip_rotate"}
    for r in rows.values():
        assert r["model"] == "inception_small" and r["labels"] == "random" and not r["weight_decay"]
        # fitted as Figure 1b defines it: >= 99% training accuracy within the budget (it wobbles a little after,
        # at the quick profile's nearly constant learning rate)
        assert r["epochs_to_fit"] is not None and r["epochs_to_fit"] < r["epochs"], r
        assert r["train_acc"] >= 0.9, r
        assert abs(r["test_acc"] - 0.1) <= 0.1, r
    assert table1["summary"]["table4_random_labels"]["flip_rotate"]["epochs_to_fit"] == rows["flip_rotate"]["epochs_to_fit"]
    assert "99.28%" in regularization.table4_sentence(table1)  # the paper's Table 4 value beside ours


@pytest.mark.slow
def test_removing_regularizers_costs_little_test_accuracy(table1):
    true = [r for r in trained(table1["rows"]) if r["labels"] == "true" and not r["fallback"]]
    for model in {r["model"] for r in true}:
        rows = [r for r in true if r["model"] == model]
        bare = next((r for r in rows if not r["random_crop"] and not r["weight_decay"]), None)
        if bare is None:
            continue
        best = max(r["test_acc"] for r in rows)
        assert best - bare["test_acc"] <= 0.1, (model, rows)   # the paper: a few points at most


@pytest.mark.slow
def test_table1_rows_of_a_model_share_one_budget_and_report_best_and_first_100(table1):
    for model in {r["model"] for r in table1["rows"]}:
        rows = [r for r in table1["rows"] if r["model"] == model and r["diverged"] is None]
        longer = experiments.get("table1").config("quick")["random_label_epochs"].get(model)  # stated, random rows only
        assert len({r["epochs"] for r in rows if not (longer and r["labels"] == "random")}) == 1, (model, rows)
        assert all(r["epochs"] == longer for r in rows if longer and r["labels"] == "random")
        for r in rows:
            assert r["best_test_acc"] >= r["test_acc"]


@pytest.mark.slow
def test_weight_decay_does_not_stop_the_mlps_fitting_random_labels(table1):
    wd = {r["model"]: r for r in table1["section3"] if r["weight_decay"] is True}
    alex = [r for r in table1["section3"] if r["model"] == "alexnet_small"]
    assert [regularization.wd_text(r) for r in alex] == ["0.004 on hidden FC layers", "0.0005 on every weight"]
    for model in ("mlp_1x512", "mlp_3x512"):
        assert wd[model]["weight_decay"] and wd[model]["labels"] == "random"
        assert wd[model]["train_acc"] >= 0.99


@pytest.mark.slow
def test_fig2_curves_and_cumulative_best(fig2):
    for c in fig2["curves"].values():
        assert len(c["train_acc"]) == len(c["test_acc"]) == len(c["best_test_acc"])
        assert all(b >= t for b, t in zip(c["best_test_acc"], c["test_acc"], strict=True))
        assert all(a <= b for a, b in zip(c["best_test_acc"], c["best_test_acc"][1:], strict=False))
    bn = fig2["curves"]["inception_small"]
    assert bn["final_train_acc"] >= 0.99  # no explicit regularizer: the training set is fitted
    assert bn["final_test_acc"] > 0.5


@pytest.mark.slow
def test_inception_without_bn_trains_at_lr_01_or_is_shown_with_its_fallback(table1, fig2):
    rows = [r for r in table1["rows"] if r["model"] == NOBN]
    first = [r for r in rows if not r["fallback"]]
    assert first and all(r["lr"] == 0.1 for r in first)  # the paper's lr is always tried first
    for r in first:
        if not regularization.trains_row(r):  # then the fallback row follows it, and trains
            fb = rows[rows.index(r) + 1]
            assert fb["fallback"] and fb["labels"] == r["labels"] and regularization.trains_row(fb)
    used = [r for r in rows if r["fallback"]] or first
    assert all(r["test_acc"] > 0.5 for r in used if r["labels"] == "true")
    curve = fig2["curves"][NOBN]
    assert curve["final_test_acc"] > 0.5
    assert ("fallback" in curve) == (NOBN in fig2["not_trained"])


def test_fig2_runs_every_seed_and_its_band_is_the_mean_and_sd_per_epoch():
    cfg = experiments.get("fig2").config("quick")
    specs = regularization.fig2_specs(cfg)
    assert [s["seed"] for s in specs] == [k for k in cfg["seeds"] for _ in cfg["models"]]
    table1 = regularization.table1_specs(experiments.get("table1").config("quick"))
    assert all(s in table1 for s in specs[:len(cfg["models"])])  # the first seed's runs are Table 1's rows
    c = lambda a: {"epoch": [1, 2], "train_acc": [a, 1.0], "test_acc": [a, a]}  # noqa: E731
    band = regularization.seed_band([c(0.4), c(0.6), c(0.8)])
    assert band["seeds"] == 3 and band["test_acc"] == pytest.approx([0.6, 0.6])
    assert band["test_acc_sd"] == pytest.approx([0.2, 0.2]) and band["train_acc_sd"][1] == 0
    assert regularization.seed_band([c(0.4), {"diverged": "nan"}]) is None


def test_paper_numbers_the_prose_cites_are_computed_from_the_tables():
    from rethinking_lib import paper

    assert regularization.paper_gain("inception_small") == 3.56  # 89.31 - 85.75 (Table 1), not "3.5"
    assert paper.FIG1C_ERROR_AT_0 == {"inception_small": 0.1425, "alexnet_small": 0.2393, "mlp_1x512": 0.4949}
    assert regularization.table4_reported("mlp_1x512", "weight_decay") == 99.21
