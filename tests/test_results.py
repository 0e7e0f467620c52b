"""The results store: atomic JSON with provenance, load_or_run, stale runs, no-train mode, the registry.
(What the provenance says about the code, and how its source hash is read: test_provenance.py.)"""

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from rethinking_lib import experiments
from rethinking_lib.engine import runs
from rethinking_lib.pages import notebook
from rethinking_lib.store import provenance, results


def test_load_or_run_runs_once_and_records_provenance(tmp_path):
    calls = []

    def fn():
        calls.append(1)
        return {"value": 3.0}

    a = results.load_or_run("demo", {"k": 1}, fn, seed=0, out=tmp_path)
    b = results.load_or_run("demo", {"k": 1}, fn, seed=0, out=tmp_path)
    c = results.load_or_run("demo", {"k": 2}, fn, seed=0, out=tmp_path)
    assert len(calls) == 2 and not a["cached"] and b["cached"] and not c["cached"]
    assert b["result"] == {"value": 3.0}
    for key in ("torch", "device", "wall_time", "date", "rethinking_lib", "code"):
        assert key in a["provenance"]
    assert a["provenance"]["code"]["source_hash"] == provenance.source_hash(())
    stored = json.loads(results.run_path("demo", {"k": 1}, tmp_path).read_text())
    assert stored["config"] == {"k": 1} and "cached" not in stored


def test_writes_are_atomic(tmp_path, monkeypatch):
    path = results.atomic_write_json(tmp_path / "r.json", {"a": 1})

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(json, "dump", boom)
    with pytest.raises(OSError):
        results.atomic_write_json(path, {"a": 2})
    assert json.loads(path.read_text()) == {"a": 1}


def test_registry_names_and_errors():
    for name in ("fig1a", "fig1bc", "table1", "fig2", "pac", "rademacher", "stability", "theorem1", "kernel"):
        assert name in experiments.names()
    with pytest.raises(ValueError, match="unknown experiment"):
        experiments.get("fig9")


def test_run_spec_rejects_unknown_settings():
    with pytest.raises(ValueError, match="lrr"):
        runs.spec(lrr=0.1)


def test_paper_lr_decay_matches_per_step():
    assert runs.paper_lr_decay(50_000) == pytest.approx(0.95)
    assert runs.paper_lr_decay(4000) ** (391 / 32) == pytest.approx(0.95)


# --- the code that produced a run -----------------------------------------------------------------------------

def test_provenance_names_the_code_version(tmp_path):
    rec = results.load_or_run("demo", {"k": 1}, lambda: 1, code=["rethinking_lib.engine.corrupt"], out=tmp_path)
    code = rec["provenance"]["code"]
    assert code["roots"] == ["rethinking_lib.engine.corrupt"] and len(code["source_hash"]) == 16
    assert code["rethinking_lib"] == rethinking_version()
    git = provenance.git_state()
    assert code["commit"] == git["commit"] and code["dirty"] == git["dirty"]
    line = notebook.provenance_note(rec)
    assert line.startswith(f"produced by rethinking_lib {rethinking_version()}") and code["source_hash"] in line
    if git["commit"]:
        assert f"commit {git['commit'][:12]}" in line


def rethinking_version():
    import rethinking_lib

    return rethinking_lib.__version__


def test_records_without_code_provenance_count_as_other_code(tmp_path):
    results.atomic_write_json(results.run_path("demo", {"k": 1}, tmp_path),
                              {"experiment": "demo", "config": {"k": 1}, "result": 1, "provenance": {"torch": "2"}})
    assert results.status("demo", {"k": 1}, tmp_path) == "other_code"
    assert results.status("demo", {"k": 2}, tmp_path) == "missing"
    calls = []
    rec = results.load_or_run("demo", {"k": 1}, lambda: calls.append(1) or 2, out=tmp_path)
    assert calls == [1] and rec["result"] == 2 and not rec["cached"]
    assert results.status("demo", {"k": 1}, tmp_path) == "current"


def test_no_train_mode_raises_naming_the_run(tmp_path, monkeypatch):
    monkeypatch.setenv("RETHINKING_NO_TRAIN", "1")
    with pytest.raises(results.MissingRun, match=r"demo \(config [0-9a-f]{12}\).*RETHINKING_NO_TRAIN=1"):
        results.load_or_run("demo", {"k": 1}, lambda: pytest.fail("trained in no-train mode"), out=tmp_path)
    assert issubclass(results.MissingRun, RuntimeError)
    monkeypatch.delenv("RETHINKING_NO_TRAIN")
    results.load_or_run("demo", {"k": 1}, lambda: 1, out=tmp_path)
    monkeypatch.setenv("RETHINKING_NO_TRAIN", "1")
    assert results.load_or_run("demo", {"k": 1}, lambda: pytest.fail("trained"), out=tmp_path)["cached"]


# One process of the stale-run test: runs in a copy of the package, prints what load_or_run did.
STALE_SCRIPT = textwrap.dedent("""
    import json, sys, warnings
    from rethinking_lib.store import results
    calls = []
    def fn():
        calls.append(1)
        return {"value": len(sys.argv)}
    try:
        rec = results.load_or_run("demo", {"k": 1}, fn, code=["rethinking_lib.engine.corrupt"], out=sys.argv[1])
        out = {"status_after": results.status("demo", {"k": 1}, sys.argv[1]), "trained": bool(calls),
               "cached": rec["cached"], "other_code": rec["other_code"], "hash": rec["provenance"]["code"]["source_hash"]}
    except results.MissingRun as e:
        out = {"missing": str(e)}
    print(results.__file__)
    print(json.dumps(out))
""")


def test_a_run_from_changed_code_is_not_served_silently(tmp_path):
    """Store a run, change a package source file the run imports (in a copy of the package), load again."""
    pkg = tmp_path / "copy"
    shutil.copytree(Path(results.__file__).parents[1], pkg / "rethinking_lib", ignore=shutil.ignore_patterns("__pycache__"))
    store = tmp_path / "store"

    def load(**env):
        environ = {k: v for k, v in os.environ.items() if not k.startswith("RETHINKING_")}
        proc = subprocess.run([sys.executable, "-c", STALE_SCRIPT, str(store)], capture_output=True, text=True,
                              env=dict(environ, PYTHONPATH=str(pkg), **env), timeout=300, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert str(pkg) in proc.stdout, "the copy of the package ran"  # not the checkout's
        return json.loads(proc.stdout.strip().splitlines()[-1]), proc.stderr

    first, _ = load()
    assert first["trained"] and first["status_after"] == "current"
    again, _ = load()
    assert not again["trained"] and again["cached"] and again["hash"] == first["hash"]

    # A module outside the run's import closure changes: the run stays current.
    style = pkg / "rethinking_lib" / "figures" / "style.py"
    style.write_text(style.read_text() + "\n# edit\n")
    assert load()[0]["trained"] is False
    # engine/data.py is imported by engine/corrupt.py (the run's code): the stored run is now from other code.
    data = pkg / "rethinking_lib" / "engine" / "data.py"
    data.write_text(data.read_text() + "\nCHANGED = True\n")
    stale_hash = first["hash"]

    refused, _ = load(RETHINKING_NO_TRAIN="1")
    assert "other code" in refused["missing"] and "RETHINKING_ACCEPT_OTHER_CODE=1" in refused["missing"]
    accepted, note = load(RETHINKING_ACCEPT_OTHER_CODE="1")
    assert not accepted["trained"] and accepted["other_code"] and accepted["status_after"] == "other_code"
    assert f"source {stale_hash}" in note and "stored run produced by other code" in note  # said, not silent
    rerun, _ = load()  # the default: the stale run is trained again with this code
    assert rerun["trained"] and not rerun["cached"] and rerun["hash"] != stale_hash
    assert rerun["status_after"] == "current"


def test_load_or_run_without_code_takes_the_roots_from_the_function(tmp_path):
    import functools

    rec = results.load_or_run("demo", {"k": 8}, functools.partial(provenance.describe_code, {}), out=tmp_path)
    assert rec["result"] == "rethinking_lib (unknown version), code not recorded"
    assert rec["experiment"] == "demo" and rec["config"] == {"k": 8}
    assert rec["provenance"]["code"]["roots"] == ["rethinking_lib.store.provenance"]
    assert rec["cached"] is False and results.load("demo", {"k": 8}, out=tmp_path).items() <= rec.items()


def test_servable_is_what_load_or_run_would_serve(tmp_path, monkeypatch):
    monkeypatch.delenv("RETHINKING_ACCEPT_OTHER_CODE", raising=False)
    assert not results.servable("demo", {"k": 9}, tmp_path)  # nothing stored
    results.load_or_run("demo", {"k": 9}, lambda: 1, out=tmp_path, code=["rethinking_lib.engine.corrupt"])
    assert results.servable("demo", {"k": 9}, tmp_path) and not results.servable("demo", {"k": 10}, tmp_path)
    _make_stale(tmp_path, "demo", {"k": 9})
    assert not results.servable("demo", {"k": 9}, tmp_path)  # other code: load_or_run would train again ...
    monkeypatch.setenv("RETHINKING_ACCEPT_OTHER_CODE", "1")
    assert results.servable("demo", {"k": 9}, tmp_path)  # ... unless other code is accepted


def test_checkpoint_path_sits_in_the_store_beside_the_run(tmp_path):
    path = results.checkpoint_path("train", {"a": 1}, tmp_path)
    assert path == tmp_path / "checkpoints" / f"train-{results.config_key('train', {'a': 1})}.pt"
    assert results.checkpoint_path("train", {"a": 2}, tmp_path) != path


def test_to_jsonable_turns_every_value_kind_into_plain_json():
    import dataclasses

    import numpy as np
    import torch

    @dataclasses.dataclass
    class Point:
        x: int
        y: tuple

    obj = {1: Point(2, (3, 4)), "p": Path("/a/b"), "n": np.float32(0.5), "t": torch.tensor(7),
           "arr": np.arange(3), "nested": [(1, np.int64(2))], "s": "text", "none": None}
    out = results.to_jsonable(obj)
    assert out == {"1": {"x": 2, "y": [3, 4]}, "p": "/a/b", "n": 0.5, "t": 7, "arr": [0, 1, 2], "nested": [[1, 2]],
                   "s": "text", "none": None}
    assert json.loads(json.dumps(out)) == out
    assert type(out["t"]) is int and type(out["n"]) is float
    # the run key depends on the config's values, not on how they are spelled in Python
    key = results.config_key("e", {"a": (1, 2)})
    assert key == results.config_key("e", {"a": [1, 2]}) != results.config_key("f", {"a": [1, 2]})
    assert len(results.config_key("e", {})) == 12
    assert results.run_path("e", {}, "/store") == Path("/store") / f"e-{results.config_key('e', {})}.json"


def _make_stale(tmp_path, experiment, config):
    """Rewrite a stored record as if other code had produced it (another source hash)."""
    path = results.run_path(experiment, config, tmp_path)
    rec = json.loads(path.read_text())
    rec["provenance"]["code"]["source_hash"] = "0" * 16
    rec["result"] = {"value": "old"}
    path.write_text(json.dumps(rec))


def test_stale_run_in_process_rerun_accepted_or_refused(tmp_path, monkeypatch):
    monkeypatch.delenv("RETHINKING_ACCEPT_OTHER_CODE", raising=False)
    monkeypatch.delenv("RETHINKING_NO_TRAIN", raising=False)
    first = results.load_or_run("demo", {"k": 2}, lambda: {"value": "new"}, seed=5, out=tmp_path, code=["results"])
    assert (first["cached"], first["other_code"], first["seed"]) == (False, False, 5)
    assert first["provenance"]["wall_time"] >= 0 and provenance.is_current(first)
    _make_stale(tmp_path, "demo", {"k": 2})
    # accepted explicitly: the stored run, marked as other code, nothing trained
    with pytest.warns(UserWarning, match=r"demo: stored run produced by other code \(rethinking_lib .*source 0{16}\); "
                                         r"this code is rethinking_lib .*source [0-9a-f]{16}"):
        acc = results.load_or_run("demo", {"k": 2}, lambda: pytest.fail("trained"), out=tmp_path, code=["results"],
                                  accept_other_code=True)
    assert (acc["cached"], acc["other_code"], acc["result"]) == (True, True, {"value": "old"})
    # no-train mode names the stale run and how to accept it
    monkeypatch.setenv("RETHINKING_NO_TRAIN", "1")
    with pytest.raises(results.MissingRun, match=r"demo \(config [0-9a-f]{12}\) in .*produced by other code "
                                                 r"\(rethinking_lib .*\); accept it with RETHINKING_ACCEPT_OTHER_CODE=1"):
        results.load_or_run("demo", {"k": 2}, lambda: 1, out=tmp_path, code=["results"])
    with pytest.raises(results.MissingRun, match="--rerun asks to train it again"):
        results.load_or_run("demo", {"k": 2}, lambda: 1, out=tmp_path, code=["results"], rerun=True)
    monkeypatch.delenv("RETHINKING_NO_TRAIN")
    # by default: trained again, and the new record is current
    again = results.load_or_run("demo", {"k": 2}, lambda: {"value": "new"}, out=tmp_path, code=["results"])
    assert (again["cached"], again["other_code"], again["result"]) == (False, False, {"value": "new"})
    assert provenance.is_current(results.load("demo", {"k": 2}, tmp_path))
    cached = results.load_or_run("demo", {"k": 2}, lambda: pytest.fail("trained"), out=tmp_path, code=["results"])
    assert (cached["cached"], cached["other_code"]) == (True, False)


@pytest.mark.parametrize("value, on", [("1", True), ("true", True), (" Yes ", True), ("ON", True), ("0", False),
                                       ("", False), ("no", False), ("off", False), ("2", False)])
def test_env_flags_accept_the_usual_spellings(monkeypatch, value, on):
    monkeypatch.setenv("RETHINKING_ACCEPT_OTHER_CODE", value)
    monkeypatch.setenv("RETHINKING_NO_TRAIN", value)
    assert results.accepting_other_code() is on and results.no_train() is on
    assert results.accepting_other_code(False) is False and results.accepting_other_code(True) is True


def test_results_dir_is_the_argument_else_the_environment_else_results(monkeypatch, tmp_path):
    monkeypatch.setenv("RETHINKING_RESULTS", str(tmp_path))
    assert results.results_dir() == tmp_path and results.results_dir("elsewhere") == Path("elsewhere")
    monkeypatch.delenv("RETHINKING_RESULTS")
    assert results.results_dir() == Path("results")


# --- smaller contracts of the store ----------------------------------------------------------------------------

def test_run_keys_are_stable_across_versions():
    # Stored runs (GPU results copied from Colab, say) are found by this key: a change to how it is computed
    # would orphan every stored run. The key of a config does not depend on the order its keys were written in.
    assert results.config_key("fig1a", {"lr": 0.1, "epochs": 3}) == "6ecd1e289252"
    assert results.config_key("fig1a", {"epochs": 3, "lr": 0.1}) == "6ecd1e289252"


def test_atomic_write_creates_folders_and_writes_readable_json(tmp_path):
    path = results.atomic_write_json(tmp_path / "a" / "b" / "r.json", {"x": [1, 2], "y": 1})
    text = path.read_text()
    assert json.loads(text) == {"x": [1, 2], "y": 1}
    assert len(text.splitlines()) > 3  # indented: a stored record reads (and diffs) line by line
    assert not list(path.parent.glob(".*.tmp"))  # the temporary file was renamed, not left behind


def test_a_record_with_roots_is_current_and_served(tmp_path):
    calls = []
    first = results.load_or_run("demo", {"k": 3}, lambda: calls.append(1) or 1, out=tmp_path,
                                code=["rethinking_lib.engine.corrupt", "rethinking_lib.engine.corrupt"])
    assert first["provenance"]["code"]["roots"] == ["rethinking_lib.engine.corrupt"]
    assert 0 <= first["provenance"]["wall_time"] < 60
    assert provenance.is_current(first)
    again = results.load_or_run("demo", {"k": 3}, lambda: calls.append(1) or 1, out=tmp_path,
                                code=["rethinking_lib.engine.corrupt"])
    assert calls == [1] and again["cached"]
    # rerun=True trains again even though the stored run is current
    rerun = results.load_or_run("demo", {"k": 3}, lambda: calls.append(1) or 2, out=tmp_path,
                                code=["rethinking_lib.engine.corrupt"], rerun=True)
    assert calls == [1, 1] and not rerun["cached"] and rerun["result"] == 2


def test_a_run_stored_by_another_process_while_waiting_is_served(tmp_path, monkeypatch):
    import contextlib

    @contextlib.contextmanager
    def lock_while_another_process_stores(experiment, config, out=None):
        results.save(experiment, config, {"by": "the other process"}, seed=1, out=out, roots=["rethinking_lib.engine.corrupt"])
        yield

    monkeypatch.setattr(results, "run_lock", lock_while_another_process_stores)
    rec = results.load_or_run("demo", {"k": 4}, lambda: pytest.fail("trained twice"), out=tmp_path,
                              code=["rethinking_lib.engine.corrupt"])
    assert rec["result"] == {"by": "the other process"} and rec["seed"] == 1
    assert (rec["cached"], rec["other_code"]) == (True, False)


def test_no_train_error_names_the_key_the_folder_and_the_reason(tmp_path, monkeypatch):
    monkeypatch.setenv("RETHINKING_NO_TRAIN", "1")
    key = results.config_key("demo", {"k": 5})
    with pytest.raises(results.MissingRun) as err:
        results.load_or_run("demo", {"k": 5}, lambda: 1, out=tmp_path)
    assert str(err.value) == (f"demo (config {key}) in {tmp_path}: RETHINKING_NO_TRAIN=1 forbids training and "
                              f"the store has no run of it")


def _fake_ipython(monkeypatch, kernel: bool):
    import IPython
    import IPython.display

    shown = []
    shell = type("Shell", (), {"kernel": object()} if kernel else {})()
    monkeypatch.setattr(IPython, "get_ipython", lambda: shell)
    monkeypatch.setattr(IPython.display, "display", shown.append)
    return shown


def _accept_stale(tmp_path):
    results.load_or_run("demo", {"k": 6}, lambda: 1, out=tmp_path, code=["rethinking_lib.engine.corrupt"])
    _make_stale(tmp_path, "demo", {"k": 6})
    return results.load_or_run("demo", {"k": 6}, lambda: pytest.fail("trained"), out=tmp_path,
                               code=["rethinking_lib.engine.corrupt"], accept_other_code=True)


def test_other_code_note_is_shown_under_the_cell_in_a_kernel(tmp_path, monkeypatch):
    import warnings

    shown = _fake_ipython(monkeypatch, kernel=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # in a kernel the note is displayed, not warned
        rec = _accept_stale(tmp_path)
    assert rec["other_code"] and len(shown) == 1
    assert shown[0].data.startswith("*demo: stored run produced by other code (") and shown[0].data.endswith("*")


def test_other_code_note_outside_a_kernel_is_a_warning_at_the_callers_line(tmp_path, monkeypatch):
    shown = _fake_ipython(monkeypatch, kernel=False)  # IPython in a terminal: no kernel, no page to show it on
    with pytest.warns(UserWarning, match="stored run produced by other code") as caught:
        _accept_stale(tmp_path)
    # it points at the call of load_or_run; under mutation testing a trampoline wraps load_or_run and makes that
    # call itself, so the caller is then the trampoline's file (the line a reader would see is one frame up)
    wrapper = results.load_or_run.__code__.co_filename
    caller = __file__ if Path(wrapper) == Path(results.__file__) else wrapper
    assert shown == [] and caught[0].filename == caller
