"""Sweeps: independent runs through serial, local-process and submitit executors, into one results store;
a stored run is never trained (or submitted) again."""

import json

import pytest

from rethinking_lib import experiments
from rethinking_lib.__main__ import main
from rethinking_lib.chapters import ch04_randomization as randomization
from rethinking_lib.engine import runs
from rethinking_lib.planning import sweep
from rethinking_lib.store import results

TINY = dict(model="mlp_1x512", width=0.125, dataset="digits", n_train=128, n_test=64, epochs=2, batch_size=64,
            stop_at_100=False)


def tiny_specs(k):
    return [runs.spec(**TINY, condition="partial_labels", p=p) for p in [0.1 * i for i in range(k)]]


@pytest.mark.slow
def test_submitit_local_sweep_lands_every_result_and_reruns_nothing(tmp_path):
    """2 runs through submitit's local executor (2 jobs, one process each); the second sweep trains nothing."""
    pytest.importorskip("submitit")
    specs = tiny_specs(2)
    first = sweep.run(specs, executor="submitit-local", out=tmp_path, folder=tmp_path / "logs", log=lambda *a: None)
    assert first["errors"] == [] and first["submitted"] == 2 and first["completed"] == 2
    stored = sorted(tmp_path.glob("train-*.json"))
    assert len(stored) == 2
    for s in specs:
        rec = runs.run_one(s, out=tmp_path)  # loads, never trains
        assert rec["cached"] and rec["result"]["epochs_run"] == 2
    jobs_before = len(list((tmp_path / "logs").glob("*")))
    again = sweep.run(specs, executor="submitit-local", out=tmp_path, folder=tmp_path / "logs", log=lambda *a: None)
    assert again["submitted"] == 0 and again["skipped"] == 2
    assert len(list((tmp_path / "logs").glob("*"))) == jobs_before  # nothing was even submitted


@pytest.mark.slow
def test_local_processes_and_serial_give_the_same_records(tmp_path):
    specs = tiny_specs(2)
    par = sweep.run(specs, executor="local", workers=2, out=tmp_path / "par", log=lambda *a: None)
    ser = sweep.run(specs, executor="serial", out=tmp_path / "ser", log=lambda *a: None)
    assert par["completed"] == ser["completed"] == 2 and not par["errors"]
    for s in specs:
        a = results.load("train", s, tmp_path / "par")["result"]
        b = results.load("train", s, tmp_path / "ser")["result"]
        assert a["step_loss"] == b["step_loss"] and a["test_acc"] == b["test_acc"]


def test_duplicates_and_stored_runs_are_skipped(tmp_path):
    specs = tiny_specs(2)
    runs.run_one(specs[0], out=tmp_path)
    assert sweep.pending(specs + specs, tmp_path) == [specs[1]]
    summary = sweep.run(specs + [specs[0]], executor="serial", out=tmp_path, log=lambda *a: None)
    assert summary["runs"] == 2 and summary["skipped"] == 1 and summary["submitted"] == 1 and summary["completed"] == 1


def test_a_failing_run_is_reported_not_fatal(tmp_path):
    bad = runs.spec(**dict(TINY, lr=1e12), condition="true_labels")  # the loss turns NaN
    good = tiny_specs(1)[0]
    summary = sweep.run([bad, good], executor="serial", out=tmp_path, log=lambda *a: None)
    assert summary["completed"] == 1 and len(summary["errors"]) == 1 and "FloatingPointError" in summary["errors"][0]


def test_experiment_specs_match_what_the_experiment_loads():
    """The sweep's specs are the aggregation's: seeding included (seed 3 changes every run's seed)."""
    specs = sweep.experiment_specs("fig1bc", "quick", seed=3)
    cfg = experiments.get("fig1bc").config("quick")
    per_model = {m: len(randomization.seeds_of(cfg, m)) for m in cfg["models"]}  # seed_models: every seed
    assert len(specs) == sum(per_model.values()) * len(cfg["ps"])
    assert {s["seed"] for s in specs} == {3, 4, 5} and all(s["corruption_seed"] == s["seed"] for s in specs)
    assert {s["seed"] for s in specs if s["model"] == "inception_small"} == {3}  # at quick, the first seed only
    with pytest.raises(ValueError, match="not a set of training runs"):
        sweep.experiment_specs("rademacher", "quick")


def test_bad_executor_is_a_clear_error():
    with pytest.raises(ValueError, match="executor='mpi'"):
        sweep.run([], executor="mpi")


def test_cli_dry_run_lists_runs(tmp_path, capsys):
    assert main(["sweep", "fig1bc", "--profile", "quick", "--dry-run", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    n = len(sweep.experiment_specs("fig1bc", "quick"))
    assert f"{n} of {n} runs to do" in out and "mlp_1x512 mnist5k true_labels" in out
    assert main(["sweep", "fig9", "--profile", "quick", "--dry-run"]) == 2


def test_cli_paper_profile_without_gpu_warns_not_crashes(tmp_path, monkeypatch):
    monkeypatch.setattr("rethinking_lib.config.profiles.has_cuda", lambda: False)
    with pytest.warns(UserWarning, match="without a CUDA GPU"):
        assert main(["sweep", "fig2", "--profile", "paper", "--dry-run", "--out", str(tmp_path)]) == 0


def test_results_are_json(tmp_path):
    sweep.run(tiny_specs(1), executor="serial", out=tmp_path, log=lambda *a: None)
    (path,) = tmp_path.glob("train-*.json")
    assert json.loads(path.read_text())["result"]["epochs_run"] == 2
