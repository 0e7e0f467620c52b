"""The settings of the training experiments: the paper's written once, gpu / quick as deltas, resolved per run."""

import json
import subprocess
import sys

import pytest

from rethinking_lib import experiments, paper
from rethinking_lib.config import settings
from rethinking_lib.config.experiment import merge
from rethinking_lib.engine import runs
from rethinking_lib.pages import appendix

TRAINING = ("fig1a", "fig1bc", "table1", "fig2")

# Every run's result "trained": the runs at the paper's settings, without the no-BN fallbacks that an unknown or
# failed result adds (Experiment.run_specs).
TRAINED = lambda s: {"train_acc": 1.0}  # noqa: E731


def config_json(name, profile, *extra):
    r = subprocess.run([sys.executable, "-m", "rethinking_lib", "config", name, "--profile", profile, "--json", *extra],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_config_cli_paper_profile_is_the_papers_setup():
    out = config_json("fig1bc", "paper")
    assert out["experiment"] == "fig1bc" and out["profile"] == "paper" and len(out["runs"]) == 18 * 3  # 3 seeds
    for r in out["runs"]:
        assert r["precision"] == "fp32" and r["dataset"] == "cifar10" and r["n_train"] == 50_000
        assert r["lr"] == paper.LR[r["model"]] and r["crop"] == 28 and r["batch_size"] == 128
        assert r["lr_decay"] == pytest.approx(0.95) and r["stop_at_100"] is False and r["init"] == "glorot_uniform"
        for key in ("model", "dataset", "n_train", "crop", "lr", "lr_decay", "lr_decay_per_step", "epochs",
                    "stop_at_100", "batch_size", "weight_decay", "augment", "precision", "init"):
            assert key in r


def test_config_cli_gpu_profile_is_cifar10_at_full_width():
    out = config_json("fig1bc", "gpu")
    assert out["runs"] and all(r["dataset"] == "cifar10" and r["width"] == 1.0 for r in out["runs"])
    assert all(r["lr"] == paper.LR[r["model"]] for r in out["runs"])


@pytest.mark.parametrize("name", TRAINING)
def test_paper_runs_fp32_papers_lr_and_no_stop(name):
    for s in experiments.get(name).run_specs("paper", lookup=TRAINED):
        assert s["precision"] == "fp32" and s["lr"] == paper.LR[s["model"]] and not s["stop_at_100"]


def test_both_inception_variants_get_lr_01_and_the_same_init():
    specs = {s["model"]: s for s in experiments.get("fig2").run_specs("paper", lookup=TRAINED)}
    assert specs["inception_small"]["lr"] == specs["inception_small_nobn"]["lr"] == 0.1
    assert specs["inception_small"]["init"] == specs["inception_small_nobn"]["init"] == "glorot_uniform"


@pytest.mark.parametrize("profile", ["quick", "gpu", "paper"])
def test_table1_same_budget_for_every_row_of_a_model(profile):
    """Every Table 1 and Section 3 row of a model trains the same budget; Table 4's augmentation rows take the
    experiment's stated ``table4_run`` (at the quick profile: fewer digits, a smaller batch, more epochs), and a
    random-label row the stated ``random_label_epochs`` of its model (quick: the no-BN Inception)."""
    from rethinking_lib.chapters import ch05_regularization as regularization

    exp = experiments.get("table1")
    cfg = exp.config(profile)
    parts = [row[-1] for row in regularization.table1_rows(cfg)]
    seeds = regularization.section3_seed_specs(cfg)
    specs = [runs.spec(**s) for s in regularization.table1_row_specs(cfg)] + [s for _, s in seeds]
    # when every run trains, the declared runs are the rows' runs and Section 3's other seeds, nothing else
    assert {runs.key(s) for s in exp.run_specs(profile, lookup=TRAINED)} == {runs.key(s) for s in specs}
    budgets = {}
    for s, part in zip(specs, parts + ["section3"] * len(seeds), strict=True):
        assert not s["stop_at_100"]
        if part == "table4":
            assert all(s[k] == v for k, v in exp.config(profile)["table4_run"].items())
            continue
        if s["condition"] == "random_labels" and s["model"] in cfg["random_label_epochs"]:
            assert s["epochs"] == cfg["random_label_epochs"][s["model"]]  # the stated longer budget
            continue
        budgets.setdefault(s["model"], set()).add(s["epochs"])
    assert all(len(b) == 1 for b in budgets.values()), budgets


def test_decay_per_step_is_the_papers_in_every_profile():
    per_step = paper.LR_DECAY_PER_EPOCH ** (1 / paper.STEPS_PER_EPOCH)
    seen = set()
    for profile in ("quick", "gpu", "paper"):
        for name in TRAINING:
            for s in experiments.get(name).run_specs(profile):
                seen.add((profile, s["dataset"], runs.train_size(s)))
                assert s["lr_decay"] ** (1 / runs.steps_per_epoch(s)) == pytest.approx(per_step, rel=1e-12)
    assert len({n for _, _, n in seen}) >= 3  # different training-set sizes, the same decay per step
    # a paper run with its size overridden keeps the paper's decay per step too
    s = runs.spec(**{**settings.PAPER_MODELS["mlp_1x512"], "n_train": 10_000})
    assert s["lr_decay"] ** (1 / runs.steps_per_epoch(s)) == pytest.approx(per_step)


def test_quick_cnns_train_on_real_mnist_digits():
    for name in TRAINING:
        for s in experiments.get(name).run_specs("quick"):
            assert s["dataset"] == "mnist5k", (name, s["model"])


def test_profiles_are_deltas_of_the_paper_config():
    exp = experiments.get("fig1bc")
    assert exp.paper is not None and set(exp.deltas) == {"gpu", "quick"}
    assert exp.config("paper")["model_settings"] == settings.PAPER_MODELS


def test_claims_one_seed_could_flip_run_on_3_seeds_and_the_first_seed_is_shared():
    """gpu and paper: every model of Figures 1b/1c and 2b on 3 seeds; quick: the cheap models (MLP, AlexNet) of
    1b/1c and both networks of 2b. The first seed's runs are Table 1's (trained once)."""
    for profile in ("gpu", "paper"):
        for name in ("fig1bc", "fig2"):
            specs = experiments.get(name).run_specs(profile, seed=5)
            for m in {s["model"] for s in specs}:
                assert {s["seed"] for s in specs if s["model"] == m} == {5, 6, 7}, (profile, name, m)
    quick = experiments.get("fig1bc").run_specs("quick")
    seeds = {m: {s["seed"] for s in quick if s["model"] == m} for m in ("mlp_1x512", "alexnet_small", "inception_small")}
    assert seeds == {"mlp_1x512": {0, 1, 2}, "alexnet_small": {0, 1, 2}, "inception_small": {0}}
    assert all(s["corruption_seed"] == s["seed"] for s in quick)  # each seed its own label draw
    assert {s["seed"] for s in experiments.get("fig2").run_specs("quick")} == {0, 1, 2}
    table1 = experiments.get("table1").run_specs("quick")
    assert all(s in table1 for s in quick if s["seed"] == 0 and s["p"] is None)  # p = 0 and p = 1: Table 1's rows
    later = [s for s in table1 if s["seed"] != 0]  # Section 3's weight-decay rows only, of the cheap models
    assert {(s["model"], s["condition"], s["weight_decay"] > 0) for s in later} == {
        (m, "random_labels", True) for m in ("alexnet_small", "mlp_1x512", "mlp_3x512")}
    assert len(later) == 6 and {s["seed"] for s in later} == {1, 2}
    paper_later = [s for s in experiments.get("table1").run_specs("paper") if s["seed"] != 0]
    assert len(paper_later) == 8  # every Section 3 model on 2 more seeds


@pytest.mark.parametrize("kw,word", [({"ps": []}, "ps"), ({"models": []}, "models"), ({"ps": "0.5"}, "ps"),
                                     ({"models": ["resnet"]}, "resnet"), ({"nonsense": 1}, "nonsense"),
                                     ({"ps": [0, 2]}, r"ps=\[0, 2\] must be a number in \[0, 1\]"),
                                     ({"seeds": []}, "seeds"), ({"seeds": [0, 0]}, "seeds"),
                                     ({"seeds": [-1]}, "seeds"), ({"seed_models": ["resnet"]}, "seed_models")])
def test_bad_settings_are_one_line_errors(kw, word):
    with pytest.raises(ValueError, match=word):
        experiments.get("fig1bc").run_specs("quick", **kw)


def test_set_on_the_command_line_is_checked():
    r = subprocess.run([sys.executable, "-m", "rethinking_lib", "config", "fig1a", "--profile", "quick",
                        "--set", "loss_threshold=abc"], capture_output=True, text=True)
    assert r.returncode == 2 and "loss_threshold" in r.stderr.strip().splitlines()[-1] and "Traceback" not in r.stderr
    r = subprocess.run([sys.executable, "-m", "rethinking_lib", "config", "fig1a", "--profile", "quick",
                        "--set", "conditions=[]"], capture_output=True, text=True)
    assert r.returncode == 2 and "conditions" in r.stderr


def test_auto_profile_is_gpu_with_cuda_and_quick_without(monkeypatch):
    from rethinking_lib.config import profiles

    monkeypatch.setattr(profiles, "has_cuda", lambda: True)
    assert profiles.resolve("auto") == "gpu"
    monkeypatch.setattr(profiles, "has_cuda", lambda: False)
    assert profiles.resolve("auto") == "quick"
    assert profiles.resolve("paper") == "paper"


def test_appendix_page_is_written_by_the_build_from_the_configs(tmp_path):
    """The page is not kept in the repository (it could go stale): the build writes it into its copy of the book."""
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parents[1]
    sys.path.insert(0, str(repo / "tools"))
    import book_toc
    import build_book

    assert "book/setup_and_choices.md" in book_toc.GENERATED
    ignored = subprocess.run(["git", "-C", str(repo), "check-ignore", "-q", "book/setup_and_choices.md"])
    assert ignored.returncode == 0, "book/setup_and_choices.md must not be committed (.gitignore)"
    build_book.copy_sources(repo, tmp_path, set())
    page = (tmp_path / "book" / "setup_and_choices.md").read_text()
    assert page == appendix.appendix_markdown()
    for name in experiments.names():
        assert f"### `{name}`" in page


def test_training_defaults_live_in_one_place():
    from dataclasses import asdict

    from rethinking_lib.engine import train

    defaults = asdict(train.TrainConfig())
    for key in ("lr", "momentum", "lr_decay", "weight_decay", "batch_size", "epochs", "stop_at_100", "augment",
                "precision"):
        assert runs.DEFAULTS[key] == defaults[key], key


def test_every_experiment_has_an_explicit_gpu_delta_with_its_reason():
    """No experiment silently falls back to the paper's config on a T4: each states its gpu delta and why."""
    for name in experiments.names():
        exp = experiments.get(name)
        assert "gpu" in exp.deltas, name
        assert exp.config("gpu") == merge(exp.base("paper"), exp.deltas["gpu"]), name
        if not exp.run_specs("gpu"):  # the settings-based runs are explained by CHOICES
            assert len(exp.reasons.get("gpu", "")) > 20, name
    assert "gpu profile (one T4" in appendix.appendix_markdown()


def test_every_delta_of_an_experiment_with_its_own_settings_says_why():
    """One scheme: a paper config and deltas; each delta says why, in the appendix (experiments built on the
    shared per-model training settings are explained by CHOICES instead)."""
    page = appendix.appendix_markdown()
    for name in experiments.names():
        exp = experiments.get(name)
        assert set(exp.deltas) <= {"gpu", "quick"}, name
        if "model_settings" in exp.paper:
            continue
        for p, delta in exp.deltas.items():
            if delta:
                assert len(exp.reasons.get(p, "")) > 20, (name, p)
                assert exp.reasons[p] in page, (name, p)


def test_every_per_model_learning_rate_is_the_papers():
    """One place per learning rate (``paper.LR``): every experiment's per-model lr, in every profile, is read from it."""
    from rethinking_lib import paper

    checked = 0
    for name in experiments.names():
        for p in ("quick", "gpu", "paper"):
            cfg = experiments.get(name).config(p)
            per_model = {m: v["lr"] for m, v in cfg.get("model_settings", {}).items()}
            if isinstance(cfg.get("lr"), dict):
                per_model |= {m: v for m, v in cfg["lr"].items() if m in paper.LR}
            elif "lr" in cfg and ("model" in cfg or "net_model" in cfg):  # one network (bounds: D&R's, no model key)
                per_model[cfg.get("model", cfg.get("net_model"))] = cfg["lr"]
            assert per_model == {m: paper.LR[m] for m in per_model}, (name, p)
            checked += len(per_model)
    assert checked > 30


def bad_values(path, default):
    """Zero, negative, out of range and wrong type for one numeric setting (those its range forbids)."""
    from rethinking_lib.config import validate

    rng = validate.range_of(path)
    integer = rng.integer or isinstance(default, int) or (isinstance(default, list) and all(isinstance(x, int) for x in default))
    bad = [v for v in (0, -1, -0.5) if not rng.holds(v)]
    if rng.high is not None:
        bad.append(rng.high + 1)
    bad += ["abc", float("nan")] + ([2.5] if integer else [])
    return [[v] if isinstance(default, list) else v for v in bad]


def with_setting(cfg: dict, path: tuple, value) -> dict:
    """The top-level override that sets the (possibly nested) setting at ``path`` to ``value``."""
    import copy

    if len(path) == 1:
        return {path[0]: value}
    top = copy.deepcopy(cfg[path[0]])
    node = top
    for k in path[1:-1]:
        node = node[k]
    node[path[-1]] = value
    return {path[0]: top}


@pytest.mark.parametrize("name", experiments.names())
def test_every_numeric_setting_is_validated_before_anything_runs(name, monkeypatch):
    """Generated from the registry (a new experiment is walked too): each numeric setting, nested ones included,
    set to zero, negative, out of range or the wrong type is refused by config(), which experiments.run calls
    before anything trains, in one line naming the setting and what it must be."""
    from rethinking_lib.config import validate

    exp = experiments.get(name)
    base = exp.config("quick")
    found = validate.numeric_settings(base)
    assert found, f"{name} has no numeric setting"
    for path, default in found:
        setting = ".".join(map(str, path))
        for value in bad_values(path, default):
            with pytest.raises(ValueError) as e:
                exp.config("quick", **with_setting(base, path, value))
            msg = str(e.value)
            assert "\n" not in msg and f"{name}: setting {setting}=" in msg, (setting, value, msg)
            assert "must be" in msg or "wrong type" in msg, (setting, value, msg)
    # the walk runs in config(), before the experiment's function: nothing trains for a bad value
    path, default = found[0]
    monkeypatch.setattr(exp, "fn", lambda *a, **k: pytest.fail("the experiment ran with a bad setting"))
    with pytest.raises(ValueError):
        experiments.run(name, "quick", **with_setting(base, path, bad_values(path, default)[0]))


@pytest.mark.parametrize("profile", ["quick", "gpu", "paper"])
def test_every_declared_config_passes_its_own_validation(profile):
    """The declared settings of every experiment are inside their ranges (a new setting whose name the ranges do
    not know is checked as > 0: e.g. a log-variance needs its own range in config/validate.RANGES)."""
    for name in experiments.names():
        experiments.get(name).config(profile)
