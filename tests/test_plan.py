"""The plan: every chapter's runs, which are stored, and an estimate (measured here, or from the calibration)."""

import json
import subprocess
import sys

import pytest

from rethinking_lib import experiments, plan, runs


def test_chapters_map_every_experiment_once():
    listed = [e for exps in plan.CHAPTERS.values() for e in exps]
    assert len(listed) == len(set(listed))
    assert set(listed) <= set(experiments.names())
    assert {"fig1a", "fig1bc", "table1", "fig2", "pac", "rademacher", "stability", "theorem1", "kernel",
            "minnorm"} <= set(listed)


def test_gpu_plan_on_the_cpu_lists_every_chapter_with_a_calibrated_estimate(tmp_path, monkeypatch):
    monkeypatch.setattr("rethinking_lib.profiles.has_cuda", lambda: False)
    plans = plan.chapter_plan("gpu", out=tmp_path)
    assert [p["chapter"] for p in plans] == list(plan.CHAPTERS)
    for p in plans:
        assert p["runs"] and p["missing"] == len(p["runs"])  # an empty store: nothing stored
        assert not p["estimated_on"]["measured"] and "target device" in p["estimated_on"]["note"]
    ch4 = next(p for p in plans if p["chapter"] == "04_randomization_tests")
    assert ch4["est_s_total"] > 0
    s = experiments.get("fig1a").run_specs("gpu")[0]
    train_rate, eval_rate = plan.calibrated_rates(s, "gpu")
    n = runs.train_size(s)
    expect = s["epochs"] * (n / train_rate + (n + s["n_test"]) / eval_rate)
    assert ch4["runs"][0]["est_s"] == pytest.approx(expect)


def test_quick_plan_measures_steps_here_and_counts_stored_runs(tmp_path):
    s = runs.spec(model="mlp_1x512", dataset="digits", n_train=64, n_test=32, epochs=1, width=0.125)
    runs.run_one(s, out=tmp_path)
    assert runs.stored(s, tmp_path)
    rates = plan.measured_rates(s)
    assert rates[0] > 0 and rates[1] > 0 and plan.measured_rates(s) == rates  # cached per process
    (cp,) = plan.chapter_plan("quick", out=tmp_path, chapters=["04_randomization_tests"])
    assert cp["estimated_on"]["measured"] and cp["est_s_total"] > 0
    # every training run still to do has an estimate (an experiment that declares no training runs has none)
    assert all(r["est_s"] is not None and r["est_s"] > 0 for r in cp["runs"] if r["training_run"] and not r["stored"])
    assert "to compute" in plan.summary_markdown(cp)


def test_plan_cli_json_lists_every_chapter(tmp_path):
    r = subprocess.run([sys.executable, "-m", "rethinking_lib", "plan", "--profile", "gpu", "--json", "--out",
                        str(tmp_path)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    plans = json.loads(r.stdout)
    assert [p["chapter"] for p in plans] == list(plan.CHAPTERS)
    for p in plans:
        assert {"chapter", "experiments", "runs", "est_s_total", "missing"} <= set(p)
        assert all({"experiment", "desc", "stored", "est_s"} <= set(x) for x in p["runs"])


def test_unknown_chapter_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown chapter"):
        plan.chapter_plan("quick", chapters=["99_nothing"])
