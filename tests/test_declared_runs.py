"""Declared runs are the runs used: what ``plan`` (and a ``--no-train`` build) expects an experiment to need is
exactly the set of training runs the experiment requests when it executes.

Two checks: Table 1 and Figure 2b, whose no-BN fallback runs depend on earlier results, against a stand-in
``run_one`` in both outcomes (no training); and every experiment record in the results store (filled by the book
build in CI, where the tests use its store) against its declaration resolved on that store."""

import pytest

from rethinking_lib import experiments
from rethinking_lib.chapters import ch05_regularization as regularization
from rethinking_lib.engine import runs
from rethinking_lib.store import results

FALLBACK_INIT = regularization.settings.NOBN_FALLBACK["init"]


def fake_result(s: dict, nobn_paper_trains: bool) -> dict:
    """A run's result without training: the no-BN model at the paper's lr stays at chance unless told otherwise."""
    fails = s["model"] == regularization.NOBN and s["init"] != FALLBACK_INIT and not nobn_paper_trains
    acc = 0.1 if fails else 1.0
    epochs = [{"epoch": e, "step": 10 * e, "train_acc": acc, "test_acc": 0.1, "loss": 1.0} for e in (1, 2)]
    return {"train_acc": acc, "test_acc": 0.1, "epochs": epochs, "epochs_run": 2, "epochs_to_100": 2 if acc == 1 else None,
            "steps_to_100": 20 if acc == 1 else None, "precision": "fp32", "wall_time": 0.0, "fraction_changed": 0.0}


@pytest.mark.parametrize("nobn_paper_trains", [False, True])
@pytest.mark.parametrize("name", ["table1", "fig2"])
def test_fallback_runs_are_declared_exactly(name, nobn_paper_trains, monkeypatch, tmp_path):
    exp = experiments.get(name)
    cfg = exp.config("quick")
    assert cfg["nobn_fallback"]["init"] == FALLBACK_INIT != cfg["model_settings"][regularization.NOBN].get("init")
    used = []

    def run_one(s, **kw):
        s = runs.spec(**s)
        used.append(runs.key(s))
        return {"result": fake_result(s, nobn_paper_trains)}

    monkeypatch.setattr(runs, "run_one", run_one)
    exp.fn(dict(cfg, profile="quick"), out=tmp_path)
    lookup = lambda s: fake_result(runs.spec(**s), nobn_paper_trains)  # noqa: E731
    declared = [runs.key(s) for s in exp.run_specs("quick", lookup=lookup)]
    assert sorted(set(used)) == sorted(set(declared))
    nobn = [s for s in exp.run_specs("quick", lookup=lookup) if s["model"] == regularization.NOBN]
    assert any(s["init"] == FALLBACK_INIT for s in nobn) != nobn_paper_trains  # the fallback is declared iff it runs
    unknown = {runs.key(s) for s in exp.run_specs("quick")}  # nothing known yet: both outcomes (an upper bound)
    assert set(declared) <= unknown


def test_every_stored_experiment_used_exactly_the_runs_it_declares():
    """In the store the book build filled (CI points the tests at it): each experiment's record lists the training
    runs it requested; its declaration, resolved on the same store, must name the same set. (An experiment declared
    as one computation with a cost model, ``specs=None``, is planned by its own record.)"""
    checked = []
    for name in experiments.names():
        exp = experiments.get(name)
        if exp.specs is None:  # declared as one computation with a cost model (rademacher, memorization, bounds):
            continue           # plan and a --no-train build need its own record, not its runs
        cfg = dict(exp.config("quick"), profile="quick", seed=0)
        if not results.servable(name, cfg):
            continue
        rec = results.load(name, cfg)["result"]
        if not isinstance(rec, dict) or "run_keys" not in rec:
            continue
        declared = {runs.key(s) for s in exp.run_specs("quick", lookup=runs.stored_result)}
        assert set(rec["run_keys"]) == declared, (name, sorted(set(rec["run_keys"]) ^ declared))
        checked.append(name)
    if not checked:
        pytest.skip("no experiment of the quick profile is stored in this results store (the book build fills it)")
