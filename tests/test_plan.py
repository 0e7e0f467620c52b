"""The plan: every chapter's runs, which are stored, and an estimate (measured here, or from the calibration)."""

import json

import pytest

from rethinking_lib import experiments
from rethinking_lib.config import cost
from rethinking_lib.engine import runs
from rethinking_lib.planning import estimate, plan


def test_chapters_map_every_experiment_once_in_the_registrys_order():
    listed = [e for exps in experiments.chapters().values() for e in exps]
    assert listed == experiments.names()  # every experiment, once, chapter by chapter
    assert experiments.chapters()["04_randomization_tests"] == ["fig1a", "fig1bc", "memorization"]


def test_chapters_are_the_chapter_notebooks_of_the_toc_that_run_experiments():
    """The derived chapter map names exactly the numbered chapter pages of _toc.yml, in the book's order, and each
    page runs its chapter's experiments (names them, or calls the chapter module that declares them)."""
    import json
    import re
    import sys
    from pathlib import Path

    from rethinking_lib import chapters as chapter_modules

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
    import book_toc

    pages = [p.stem for p in book_toc.toc_files() if p.suffix == ".ipynb"]
    assert list(experiments.chapters()) == [p for p in pages if re.match(r"\d\d_", p)]
    for mod in chapter_modules.MODULES:
        nb = json.loads((book_toc.REPO / "book" / f"{mod.CHAPTER}.ipynb").read_text())
        code = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
        for name in mod.EXPERIMENTS:  # the page runs each of its experiments by name
            assert re.search(rf"[\"']{name}[\"']", code), (mod.CHAPTER, name)


def test_gpu_plan_on_the_cpu_lists_every_chapter_with_a_calibrated_estimate(tmp_path, monkeypatch):
    monkeypatch.setattr("rethinking_lib.config.profiles.has_cuda", lambda: False)
    plans = plan.chapter_plan("gpu", out=tmp_path)
    assert [p["chapter"] for p in plans] == list(experiments.chapters())
    for p in plans:
        assert p["runs"] and p["missing"] == len(p["runs"])  # an empty store: nothing stored
        assert not p["estimated_on"]["measured"] and "target device" in p["estimated_on"]["note"]
        # every chapter has an estimate, also those whose experiments do their own computation (cost models)
        assert p["est_s_total"] is not None and p["est_s_total"] > 0, p["chapter"]
        assert all(r["est_s"] is not None for r in p["runs"]), p["chapter"]
        assert "What the gpu profile changes" in plan.summary_markdown(p)
    ch4 = next(p for p in plans if p["chapter"] == "04_randomization_tests")
    assert ch4["est_s_total"] > 0
    s = experiments.get("fig1a").run_specs("gpu")[0]
    train_rate, eval_rate = estimate.calibrated_rates(s, "gpu")
    n = runs.train_size(s)
    expect = s["epochs"] * (n / train_rate + (n + s["n_test"]) / eval_rate)
    assert ch4["runs"][0]["est_s"] == pytest.approx(expect)


def test_quick_plan_measures_steps_here_and_counts_stored_runs(tmp_path):
    s = runs.spec(model="mlp_1x512", dataset="digits", n_train=64, n_test=32, epochs=1, width=0.125)
    runs.run_one(s, out=tmp_path)
    assert runs.stored(s, tmp_path)
    rates = estimate.measured_rates(s)
    assert rates[0] > 0 and rates[1] > 0 and estimate.measured_rates(s) == rates  # cached per process
    (cp,) = plan.chapter_plan("quick", out=tmp_path, chapters=["04_randomization_tests"])
    assert cp["estimated_on"]["measured"] and cp["est_s_total"] > 0
    # every run still to do has an estimate, including memorization's own computation (its cost model)
    assert all(r["est_s"] is not None and r["est_s"] > 0 for r in cp["runs"] if not r["stored"])
    mem = next(r for r in cp["runs"] if r["experiment"] == "memorization")
    assert not mem["training_run"] and mem["parts"] and mem["est_s"] == pytest.approx(sum(x["est_s"] for x in mem["parts"]))
    # memorization stops each run at 100% training accuracy: its full-budget estimate is an upper bound
    assert mem["upper_bound"] and cp["upper_bound"] and "at most" in plan.summary_markdown(cp)
    assert "to compute" in plan.summary_markdown(cp)


def test_plan_cli_json_lists_every_chapter(tmp_path, capsys, monkeypatch):
    from rethinking_lib.__main__ import main

    # In this process (the command line's parsing is the same code; a fresh interpreter would only add its
    # start-up and re-time the cost models' slices)
    monkeypatch.setattr("rethinking_lib.config.profiles.has_cuda", lambda: False)
    assert main(["plan", "--profile", "gpu", "--json", "--out", str(tmp_path)]) == 0
    plans = json.loads(capsys.readouterr().out)
    assert [p["chapter"] for p in plans] == list(experiments.chapters())
    for p in plans:
        assert {"chapter", "experiments", "runs", "est_s_total", "missing"} <= set(p)
        assert all({"experiment", "desc", "stored", "est_s"} <= set(x) for x in p["runs"])


def test_unknown_chapter_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown chapter"):
        plan.chapter_plan("quick", chapters=["99_nothing"])


def test_cost_models_cover_every_experiment_without_declared_runs_and_count_its_work():
    for name in experiments.names():
        exp = experiments.get(name)
        # table2 without a root shows the reported table only: no runs and nothing to compute
        if not exp.run_specs("paper") and name != "table2":
            assert exp.cost is not None, name
    # pac's runs are declared (estimated as training runs, stopped at 100%: an upper bound), not a cost model
    assert experiments.get("pac").cost is None
    assert len(experiments.get("pac").run_specs("paper")) == 4
    assert all(s["stop_at_100"] for s in experiments.get("pac").run_specs("paper"))
    # stability's MLP pair: S and S', true and random labels, each epoch also scoring train and test sets
    cfg = experiments.get("stability").config("quick")
    its = estimate.cost_items("stability", cfg, memory=80e9)
    (net,) = [it for it in its if it["kind"] == "train"]
    n, m = cfg["n"], runs.DATA_SIZES[cfg["dataset"]][1]
    assert net["spec"]["model"] == cfg["net_model"]
    assert net["train_images"] == 4 * cfg["net_epochs"] * n and net["eval_images"] == 4 * cfg["net_epochs"] * (n + m)
    assert not any(it.get("upper_bound") for it in its)
    # the kernel experiment's work grows with n (cubically for the solves) and falls back to float32 when K
    # does not fit: MNIST's 60,000 x 60,000 float64 K is 28.8 GB
    kcfg = experiments.get("kernel").config("paper")
    big = estimate.cost_items("kernel", kcfg, memory=80e9)
    small = estimate.cost_items("kernel", dict(kcfg, n_train=10_000, n_test=5_000), memory=80e9)
    chol = lambda its: [it for it in its if it["op"] == "cholesky"][0]  # noqa: E731
    assert chol(big)["flops"] == pytest.approx(60_000 ** 3 / 3) and chol(small)["flops"] == pytest.approx(10_000 ** 3 / 3)
    assert chol(big)["dtype"] == "float64" and chol(estimate.cost_items("kernel", kcfg, memory=15e9))["dtype"] == "float32"


def test_calibrated_dense_work_is_flops_over_the_documented_rate():
    it = cost.dense("x", 4.05e12, dtype="float32")
    rate = estimate.CALIBRATION["gpu"]["dense"]["float32"]
    assert estimate.item_seconds(it, "gpu", measured=False) == pytest.approx(4.05e12 / rate)
    host = cost.dense("y", 1e9, on="host")  # host work is measured here even for a GPU profile
    assert estimate.item_seconds(host, "gpu", measured=False) == pytest.approx(1e9 / cost.dense_rate("matmul", "float64", "host"))
    with pytest.raises(ValueError, match="op="):
        cost.dense("z", 1.0, op="fft")
    with pytest.raises(ValueError, match="declares no cost model"):
        estimate.cost_items("fig1a", {})


def test_changes_name_what_a_profile_reduces():
    assert plan.changes("pac", "paper") == ""
    assert "n_train all -> 4,000" in plan.changes("pac", "gpu")
    assert "ps [0, 0.2, 0.4, 0.6, 0.8, 1] -> [0, 0.5, 1]" in plan.changes("fig1bc", "gpu")
    assert plan.changes("stability", "gpu") == ""  # the paper's setting as it is


def test_paper_scale_page_counts_and_times_are_plans(tmp_path, monkeypatch):
    """The page "Reproducing at paper scale" types no run count or time by hand: it includes the generated
    ``paper_scale_plan.md``, whose numbers are the paper profile's declared runs and ``plan``'s H100 estimates."""
    import re
    import sys
    from pathlib import Path

    from rethinking_lib.pages import paper_scale

    monkeypatch.setattr("rethinking_lib.config.profiles.has_cuda", lambda: False)
    rows = paper_scale.plan_rows("paper")
    chapters = list(dict.fromkeys(r["chapter"] for r in rows))
    plans = {p["chapter"]: p for p in plan.chapter_plan("paper", out=tmp_path, chapters=chapters)}
    distinct = {r["key"]: r["est_s"] for ch in chapters for r in plans[ch]["runs"] if r["training_run"]}  # across chapters
    assert sum(r["new"] for r in rows) == len(distinct)
    assert sum(r["est_new_s"] for r in rows) == pytest.approx(sum(distinct.values()))
    for r in rows:
        assert r["runs"] == len(runs.unique(experiments.get(r["experiment"]).run_specs("paper")))
    every = runs.unique([s for n in experiments.names() for s in experiments.get(n).run_specs("paper")])
    assert sum(r["new"] for r in rows) == len(every)
    page = paper_scale.plan_markdown()
    assert f"| all of them | | {len(every)} distinct runs |" in page
    for r in rows:
        assert f"| `{r['experiment']}` |" in page and f"| {r['runs']} ({r['new']}) |" in page
    repo = Path(__file__).resolve().parents[1]
    sys.path.insert(0, str(repo / "tools"))
    import book_toc

    assert book_toc.GENERATED["book/paper_scale_plan.md"] == ["-m", "rethinking_lib", "paper-scale-plan"]
    prose = (repo / "book" / "paper_scale.md").read_text()
    assert "```{include} paper_scale_plan.md" in prose
    assert not re.search(r"(^|\s)\d+ (distinct )?(training )?runs\b|\b\d+(\.\d+)? hours", prose), "a hand-typed count or time"
