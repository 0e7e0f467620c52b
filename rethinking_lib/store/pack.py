"""Move a results store between machines: ``python -m rethinking_lib results pack|unpack``.

    python -m rethinking_lib results pack runs.zip [--out DIR]               # DIR: the store to pack
    python -m rethinking_lib results unpack runs.zip [--out DIR] [--overwrite]

``pack`` zips every run record of the store (``<experiment>-<key>.json``, byte for byte, so the provenance
travels with each run), the final weights a run kept beside its record (``<experiment>-<key>.pt``, see
``store/weights.py``: a later experiment measures that network instead of training it again, so an edition built
from the bundle without training needs them), plus ``manifest.json`` (file -> sha256, the packing machine's code
version). Checkpoints stay behind: a record is only written once its run finished. The zip is written atomically.

``unpack`` checks the whole bundle first (manifest hashes, plain file names, each record filed under its own key,
each weights file beside a record of the bundle) and writes nothing if any check fails. A file already in the
store with the same bytes is kept; a *different* file under the same name is refused unless ``--overwrite`` (each
such file is listed). Each file is written atomically (temp file + rename), weights before their record, as the
store writes them: a record in the store means its weights are there. The store is ``--out`` or
``$RETHINKING_RESULTS`` (default ``./results``), as for ``run``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import zipfile
from pathlib import Path

from . import provenance, results, weights

MANIFEST = "manifest.json"
RECORD_NAME = re.compile(r"^[A-Za-z0-9_.-]+-[0-9a-f]{12}\.json$")


def kept_weights(record: Path) -> Path | None:
    """The weights file a run kept beside its record, or None."""
    path = weights.beside(record)
    return path if path.is_file() else None


def records(out: str | os.PathLike | None = None) -> list[Path]:
    """The run records of a store (sorted): top-level JSON files holding experiment, config and provenance."""
    found = []
    for path in sorted(results.results_dir(out).glob("*.json")):
        try:
            rec = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        if isinstance(rec, dict) and {"experiment", "config", "provenance"} <= set(rec) and RECORD_NAME.match(path.name):
            found.append(path)
    return found


def pack(bundle: str | os.PathLike, out: str | os.PathLike | None = None) -> dict:
    """Zip the store's run records into ``bundle``; returns the manifest."""
    paths = records(out)
    if not paths:
        raise ValueError(f"results pack: the store {results.results_dir(out)} holds no run records "
                         "(give the store with --out DIR or $RETHINKING_RESULTS)")
    blobs = {p.name: p.read_bytes() for p in paths}
    blobs.update({w.name: w.read_bytes() for w in map(kept_weights, paths) if w is not None})
    manifest = {"files": {name: hashlib.sha256(b).hexdigest() for name, b in blobs.items()},
                "packed_by": provenance.code_version()}
    bundle = Path(bundle)
    bundle.parent.mkdir(parents=True, exist_ok=True)
    tmp = bundle.with_name(f".{bundle.name}.{os.getpid()}.tmp")
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as z:
            z.writestr(MANIFEST, json.dumps(manifest, indent=1))
            for name, blob in blobs.items():
                z.writestr(name, blob)
        os.replace(tmp, bundle)
    finally:
        tmp.unlink(missing_ok=True)
    return manifest


def _read_bundle(bundle: Path) -> dict[str, bytes]:
    """name -> bytes of every record and weights file in ``bundle``, after checking it; raises ValueError naming
    the problem."""
    try:
        z = zipfile.ZipFile(bundle)
    except (OSError, zipfile.BadZipFile) as e:
        raise ValueError(f"results unpack: {bundle} is not a results bundle ({e})") from None
    with z:
        names = z.namelist()
        if MANIFEST not in names:
            raise ValueError(f"results unpack: {bundle} has no {MANIFEST} (make bundles with 'results pack')")
        manifest = json.loads(z.read(MANIFEST))["files"]
        extra = sorted(set(names) - set(manifest) - {MANIFEST})
        if extra or set(manifest) - set(names):
            raise ValueError(f"results unpack: {bundle} does not match its manifest "
                             f"(extra: {extra}, missing: {sorted(set(manifest) - set(names))})")
        blobs = {}
        for name, digest in manifest.items():
            stem, suffix = os.path.splitext(name)
            is_weights = suffix == weights.SUFFIX and RECORD_NAME.match(stem + ".json")
            if not (RECORD_NAME.match(name) or is_weights):
                raise ValueError(f"results unpack: {bundle} holds {name!r}, not a run record name")
            if is_weights and stem + ".json" not in manifest:
                raise ValueError(f"results unpack: {bundle} holds the weights {name} without their run record")
            blob = z.read(name)
            if hashlib.sha256(blob).hexdigest() != digest:
                raise ValueError(f"results unpack: {name} in {bundle} is corrupt (sha256 differs from the manifest)")
            if is_weights:
                blobs[name] = blob
                continue
            try:
                rec = json.loads(blob)
                expected = f"{rec['experiment']}-{results.config_key(rec['experiment'], rec['config'])}.json"
            except (ValueError, KeyError, TypeError):
                raise ValueError(f"results unpack: {name} in {bundle} is not a run record") from None
            if name != expected:
                raise ValueError(f"results unpack: {name} in {bundle} holds the run {expected}")
            blobs[name] = blob
    return blobs


def unpack(bundle: str | os.PathLike, out: str | os.PathLike | None = None, *, overwrite: bool = False) -> dict:
    """Write the bundle's records (and kept weights) into the store; returns {"added", "same", "replaced"} (lists of
    file names)."""
    bundle = Path(bundle)
    if not bundle.is_file():
        raise ValueError(f"results unpack: no such bundle {bundle}")
    blobs = _read_bundle(bundle)
    store = results.results_dir(out)
    report: dict[str, list[str]] = {"added": [], "same": [], "replaced": []}
    for name, blob in sorted(blobs.items()):
        target = store / name
        kind = "added" if not target.exists() else "same" if target.read_bytes() == blob else "replaced"
        report[kind].append(name)
    if report["replaced"] and not overwrite:
        raise ValueError(f"results unpack: {len(report['replaced'])} file(s) in {store} differ from the bundle's "
                         f"({', '.join(report['replaced'][:5])}); nothing written: pass --overwrite to replace them")
    store.mkdir(parents=True, exist_ok=True)
    for name in sorted(report["added"] + report["replaced"], key=lambda n: n.endswith(".json")):  # weights first
        tmp = store / f".{name}.{os.getpid()}.tmp"
        tmp.write_bytes(blobs[name])
        os.replace(tmp, store / name)
    return report


def add_cli(sub) -> None:
    p = sub.add_parser("results", help="pack / unpack a results store to move it between machines")
    cmds = p.add_subparsers(dest="results_cmd", required=True, parser_class=type(p))
    store_help = "the results store (default $RETHINKING_RESULTS or ./results)"
    a = cmds.add_parser("pack", help="zip the store's run records (provenance kept)")
    a.add_argument("bundle", type=Path, metavar="OUT.zip")
    a.add_argument("--out", default=None, metavar="DIR", help=store_help)
    b = cmds.add_parser("unpack", help="add a bundle's run records to the store")
    b.add_argument("bundle", type=Path, metavar="OUT.zip")
    b.add_argument("--out", default=None, metavar="DIR", help=store_help)
    b.add_argument("--overwrite", action="store_true", help="replace stored records that differ from the bundle's")
    p.set_defaults(handler=_cli)


def _cli(args) -> int:
    if args.results_cmd == "pack":
        manifest = pack(args.bundle, args.out)
        files = manifest["files"]
        kept = sum(n.endswith(weights.SUFFIX) for n in files)
        print(f"packed {len(files) - kept} run record(s) and {kept} weights file(s) from "
              f"{results.results_dir(args.out)} into {args.bundle}")
        return 0
    report = unpack(args.bundle, args.out, overwrite=args.overwrite)
    print(f"unpacked {args.bundle} into {results.results_dir(args.out)}: {len(report['added'])} added, "
          f"{len(report['same'])} already there, {len(report['replaced'])} replaced")
    return 0
