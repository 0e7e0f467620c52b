"""Every experiment's quick-profile summary, for checking that a refactoring changed no result.

    python tools/summaries.py write before.json [--profile quick] [--only NAME ...]
    python tools/summaries.py compare before.json after.json [--rtol 1e-9]

``write`` runs each experiment through the command line (``python -m rethinking_lib run NAME --json``, the
interface every version of the package has) into a fresh results store, so nothing is loaded from an earlier
run, and stores ``{name: summary}``. ``compare`` prints, per experiment, ``identical``, ``within rtol`` (naming
the largest relative difference) or the keys that differ, and exits 1 if any experiment differs.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time


def names() -> list[str]:
    out = subprocess.run([sys.executable, "-m", "rethinking_lib", "run", "--help"], capture_output=True, text=True,
                         check=True).stdout
    # The help text lists the choices as "one of a, b, c": the names up to the first without a comma.
    tokens = " ".join(out.split()).split("one of ", 1)[1].split(" ")
    picked = []
    for tok in tokens:
        picked.append(tok.rstrip(","))
        if not tok.endswith(","):
            return picked
    return picked


def write(path: str, profile: str, only: list[str] | None) -> None:
    todo = only or names()
    summaries = {}
    with tempfile.TemporaryDirectory(prefix="summaries-") as store:
        env = dict(os.environ, RETHINKING_RESULTS=store, RETHINKING_PROGRESS="0")
        for name in todo:
            t = time.time()
            res = subprocess.run([sys.executable, "-m", "rethinking_lib", "run", name, "--profile", profile, "--json"],
                                 capture_output=True, text=True, env=env)
            if res.returncode:
                sys.exit(f"{name}: exit {res.returncode}\n{res.stderr[-2000:]}")
            summaries[name] = json.loads(res.stdout)["result"].get("summary")
            print(f"{name}: {time.time() - t:.1f} s", flush=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(summaries, f, indent=1, sort_keys=True)
    os.replace(tmp, path)


def diff(a, b, rtol: float, where: str = "") -> tuple[list[str], float]:
    """Paths where ``a`` and ``b`` differ beyond ``rtol``, and the largest relative difference of floats."""
    if isinstance(a, dict) and isinstance(b, dict):
        bad, worst = [], 0.0
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                bad.append(f"{where}/{k} (only in {'after' if k in b else 'before'})")
                continue
            kb, kw = diff(a[k], b[k], rtol, f"{where}/{k}")
            bad += kb
            worst = max(worst, kw)
        return bad, worst
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{where} (length {len(a)} vs {len(b)})"], 0.0
        bad, worst = [], 0.0
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            kb, kw = diff(x, y, rtol, f"{where}[{i}]")
            bad += kb
            worst = max(worst, kw)
        return bad, worst
    if isinstance(a, float) and isinstance(b, (int, float)) or isinstance(b, float) and isinstance(a, (int, float)):
        if a == b or (math.isnan(a) and math.isnan(b)):
            return [], 0.0
        rel = abs(a - b) / max(abs(a), abs(b))
        return ([f"{where} ({a!r} vs {b!r})"] if rel > rtol else []), rel
    return ([] if a == b else [f"{where} ({a!r} vs {b!r})"]), 0.0


def compare(before: str, after: str, rtol: float) -> int:
    with open(before) as f:
        a = json.load(f)
    with open(after) as f:
        b = json.load(f)
    failed = 0
    for name in sorted(set(a) | set(b)):
        if name not in a or name not in b:
            print(f"{name}: only in {'after' if name in b else 'before'}")
            failed += name in a
            continue
        bad, worst = diff(a[name], b[name], rtol)
        if bad:
            failed += 1
            print(f"{name}: DIFFERS at {len(bad)} place(s): " + "; ".join(bad[:5]))
        elif worst:
            print(f"{name}: within rtol {rtol:g} (largest relative difference {worst:.2e})")
        else:
            print(f"{name}: identical")
    return 1 if failed else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("write")
    w.add_argument("path")
    w.add_argument("--profile", default="quick")
    w.add_argument("--only", nargs="*")
    c = sub.add_parser("compare")
    c.add_argument("before")
    c.add_argument("after")
    c.add_argument("--rtol", type=float, default=1e-9)
    args = ap.parse_args()
    if args.cmd == "write":
        write(args.path, args.profile, args.only)
        return 0
    return compare(args.before, args.after, args.rtol)


if __name__ == "__main__":
    sys.exit(main())
