"""The results store: atomic JSON with provenance, load_or_run, the experiment registry."""

import json

import pytest

from rethinking_lib import experiments, results, runs


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
    for key in ("torch", "device", "wall_time", "date", "rethinking_lib"):
        assert key in a["provenance"]
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
