"""Moving a results store between machines: ``results pack`` / ``results unpack`` keep every record byte for byte."""

import hashlib
import json
import zipfile
from pathlib import Path

import pytest

from rethinking_lib.__main__ import main
from rethinking_lib.store import pack as store_cli
from rethinking_lib.store import results


def store_with_runs(path, n=3):
    for k in range(n):
        results.load_or_run("demo", {"k": k}, lambda k=k: {"value": k}, seed=k, out=path)
    (path / "checkpoints").mkdir()
    (path / "checkpoints" / "demo-x.pt").write_bytes(b"partial")
    results.atomic_write_json(path / "bench-cpu.json", {"rows": []})  # not a run record
    return path


def test_pack_then_unpack_moves_every_record_with_its_provenance(tmp_path, capsys):
    src = store_with_runs(tmp_path / "gpu")
    assert main(["results", "pack", str(tmp_path / "runs.zip"), "--out", str(src)]) == 0
    names = set(zipfile.ZipFile(tmp_path / "runs.zip").namelist())
    assert names == {"manifest.json", *(results.run_path("demo", {"k": k}).name for k in range(3))}
    dst = tmp_path / "cpu"
    assert main(["results", "unpack", str(tmp_path / "runs.zip"), "--out", str(dst)]) == 0
    assert "3 added" in capsys.readouterr().out
    for k in range(3):
        assert results.run_path("demo", {"k": k}, dst).read_bytes() == results.run_path("demo", {"k": k}, src).read_bytes()
        rec = results.load_or_run("demo", {"k": k}, lambda: pytest.fail("trained again"), out=dst)
        assert rec["cached"] and rec["provenance"]["code"]["source_hash"]
    # Unpacking again is harmless: everything is already there.
    assert store_cli.unpack(tmp_path / "runs.zip", dst) == {"added": [], "same": sorted(names - {"manifest.json"}),
                                                            "replaced": []}


def test_unpack_refuses_to_overwrite_a_differing_record(tmp_path, capsys):
    src = store_with_runs(tmp_path / "a", n=2)
    store_cli.pack(tmp_path / "runs.zip", src)
    dst = tmp_path / "b"
    path = results.run_path("demo", {"k": 1}, dst)
    results.atomic_write_json(path, dict(json.loads(results.run_path("demo", {"k": 1}, src).read_text()), seed=99))
    before = path.read_bytes()
    assert main(["results", "unpack", str(tmp_path / "runs.zip"), "--out", str(dst)]) == 2
    err = capsys.readouterr().err
    assert "differ" in err and path.name in err and "--overwrite" in err and len(err.strip().splitlines()) == 1
    assert path.read_bytes() == before and not results.run_path("demo", {"k": 0}, dst).exists()  # nothing written
    assert main(["results", "unpack", str(tmp_path / "runs.zip"), "--out", str(dst), "--overwrite"]) == 0
    assert path.read_bytes() == results.run_path("demo", {"k": 1}, src).read_bytes()


def test_unpack_rejects_a_corrupt_bundle_and_pack_an_empty_store(tmp_path):
    src = store_with_runs(tmp_path / "a", n=1)
    store_cli.pack(tmp_path / "runs.zip", src)
    with zipfile.ZipFile(tmp_path / "runs.zip") as z:
        files = {n: z.read(n) for n in z.namelist()}
    name = next(n for n in files if n != "manifest.json")
    with zipfile.ZipFile(tmp_path / "bad.zip", "w") as z:
        for n, b in files.items():
            z.writestr(n, b.replace(b'"value": 0', b'"value": 1') if n == name else b)
    with pytest.raises(ValueError, match="corrupt"):
        store_cli.unpack(tmp_path / "bad.zip", tmp_path / "b")
    assert not (tmp_path / "b").exists()
    with pytest.raises(ValueError, match="no run records"):
        store_cli.pack(tmp_path / "empty.zip", tmp_path / "nothing")
    assert not (tmp_path / "empty.zip").exists()


def test_a_runs_kept_weights_travel_with_its_record_and_are_written_first(tmp_path, capsys, monkeypatch):
    src = store_with_runs(tmp_path / "gpu", n=2)
    weights = results.run_path("demo", {"k": 1}, src).with_suffix(".pt")  # store/weights.py's file beside the record
    weights.write_bytes(b"\x80state dict")
    assert main(["results", "pack", str(tmp_path / "runs.zip"), "--out", str(src)]) == 0
    assert "2 run record(s) and 1 weights file(s)" in capsys.readouterr().out
    assert weights.name in zipfile.ZipFile(tmp_path / "runs.zip").namelist()  # the checkpoint stays behind
    written = []
    real_replace = store_cli.os.replace
    monkeypatch.setattr(store_cli.os, "replace", lambda a, b: written.append(Path(b).name) or real_replace(a, b))
    dst = tmp_path / "cpu"
    assert sorted(store_cli.unpack(tmp_path / "runs.zip", dst)["added"]) == sorted(written)
    assert (dst / weights.name).read_bytes() == weights.read_bytes()
    assert written.index(weights.name) < written.index(weights.with_suffix(".json").name)  # weights before the record
    assert not (dst / "checkpoints").exists()


def test_unpack_rejects_weights_without_their_record(tmp_path):
    src = store_with_runs(tmp_path / "a", n=1)
    store_cli.pack(tmp_path / "runs.zip", src)
    with zipfile.ZipFile(tmp_path / "runs.zip") as z:
        files = {n: z.read(n) for n in z.namelist()}
    manifest = json.loads(files.pop("manifest.json"))
    orphan = "demo-0123456789ab.pt"
    files[orphan] = b"weights"
    manifest["files"][orphan] = hashlib.sha256(b"weights").hexdigest()
    with zipfile.ZipFile(tmp_path / "bad.zip", "w") as z:
        z.writestr("manifest.json", json.dumps(manifest))
        for n, b in files.items():
            z.writestr(n, b)
    with pytest.raises(ValueError, match="weights demo-0123456789ab.pt without their run record"):
        store_cli.unpack(tmp_path / "bad.zip", tmp_path / "b")
    assert not (tmp_path / "b").exists()


def test_pack_finds_kept_weights_where_the_store_writes_them(tmp_path):
    from rethinking_lib.store import weights

    config = {"model": "mlp_1x512", "keep_weights": True}
    record = results.run_path("train", config, tmp_path)
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text("{}")
    assert store_cli.kept_weights(record) is None  # no weights kept: nothing to pack
    weights.path("train", config, tmp_path).write_bytes(b"weights")
    assert store_cli.kept_weights(record) == weights.path("train", config, tmp_path)
