"""Mutation testing, one core module at a time against that module's own tests (not part of the default tests).

    python tools/mutation.py ch06_theorem1            # mutate rethinking_lib/chapters/ch06_theorem1.py with its tests
    python tools/mutation.py kernel_solver ch07_minnorm --max-children 2
    python tools/mutation.py ch06_theorem1 --keep /tmp/mut   # keep the work copy (then: mutmut browse in it)
    python tools/mutation.py corrupt --diffs          # print the changed lines of every surviving mutant
    python tools/mutation.py --list                   # every module and its tests

A module is named by its file's stem (``corrupt``, ``ch01_pac``), or by its dotted path below ``rethinking_lib``
where two tested modules share a stem; the dotted path (``chapters.ch01_pac``) is accepted for every module.
Its tests are derived, not kept by hand: the test files that import it (``import rethinking_lib.X``,
``from rethinking_lib.P import X`` or ``from rethinking_lib.X import ...``, found with ``ast``); a module no
test file imports is not offered.

Tool: mutmut (>= 3.3, ``pip install mutmut``): it copies the package to ``mutants/``, turns every function
into a trampoline to its mutated versions, collects which tests reach which function, and per mutant runs
only those tests in a forked process. Each module runs in a fresh copy of the repository (tracked and
untracked-not-ignored files) with its own ``[tool.mutmut]`` section, so the checkout is never touched.

Two details keep the score honest:
- every test gets a fresh, empty results store (``RETHINKING_RESULTS``), so a mutated experiment re-runs
  instead of loading a result the unmutated code stored;
- ``PYTHONPATH`` is dropped, so the tests import the mutated copy, not the checkout.

The kill rate printed is killed / (killed + survived + timeout + suspicious): ``no tests`` mutants (code no
test reaches) are listed separately. Surviving mutants are printed with their names; ``mutmut show NAME``
in the kept copy shows the diff (some are equivalent: e.g. a changed default nobody passes).
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

PACKAGE = "rethinking_lib"


def _imported_modules(tree: ast.AST) -> set[str]:
    """Every dotted module name a file imports, with each ``from P import X`` counted as both P and P.X
    (X may be a module or a name in P: only names that are modules are looked up)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}
    return found


def modules(repo: Path = REPO) -> dict[str, tuple[list[str], list[str]]]:
    """name -> ([the module's file], [the test files that import it]), for every module some test imports."""
    files = sorted(p for p in (repo / PACKAGE).rglob("*.py") if p.stem not in ("__init__", "__main__"))
    dotted = {f: ".".join(f.relative_to(repo).with_suffix("").parts) for f in files}
    imports = {t: _imported_modules(ast.parse(t.read_text())) for t in sorted((repo / "tests").glob("test_*.py"))}
    tested = {f: [t.relative_to(repo).as_posix() for t, names in imports.items() if dotted[f] in names] for f in files}
    tested = {f: tests for f, tests in tested.items() if tests}
    stems = [f.stem for f in tested]
    out = {}
    for f, tests in tested.items():
        name = f.stem if stems.count(f.stem) == 1 else dotted[f].removeprefix(f"{PACKAGE}.")
        out[name] = ([f.relative_to(repo).as_posix()], tests)
    return out


def resolve(name: str) -> str:
    """A module's name in ``MODULES``, from its name or its dotted path below the package."""
    if name in MODULES:
        return name
    for key, (mutate, _) in MODULES.items():
        if ".".join(Path(mutate[0]).with_suffix("").parts[1:]) == name:
            return key
    raise KeyError(name)


MODULES = modules()

# appended to the work copy's tests/conftest.py: a fresh results store for every test
FRESH_STORE = '''

def pytest_runtest_setup(item):  # added by tools/mutation.py: mutated experiments must run, not load
    import tempfile as _tempfile

    item._mutation_store = os.environ["RETHINKING_RESULTS"] = _tempfile.mkdtemp(prefix="mutation-results-")


def pytest_runtest_teardown(item):  # ... and that store goes with the test (thousands of mutants run each test);
    import shutil as _shutil        # the folder made above, not whatever a test set the variable to

    _shutil.rmtree(getattr(item, "_mutation_store", ""), ignore_errors=True)
'''


def _copy_repo(dest: Path) -> None:
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO, check=True,
                           capture_output=True, text=True).stdout.split("\0")
    for f in filter(None, files):
        src = REPO / f
        if src.is_file():
            (dest / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / f)


def _toml_list(items: list[str]) -> str:
    return "[" + ", ".join(json.dumps(x) for x in items) + "]"


def _diff(copy: Path, env: dict, mutant: str) -> list[str]:
    """The changed lines of one mutant (``mutmut show``), without the file headers."""
    out = subprocess.run([sys.executable, "-m", "mutmut", "show", mutant], cwd=copy, env=env, capture_output=True,
                         text=True).stdout
    return [ln for ln in out.splitlines() if ln[:1] in "+-" and ln[:3] not in ("+++", "---")]


def run_module(name: str, work: Path, *, timeout: int, max_children: int, only: list[str] | None = None,
               pytest_args: list[str] | None = None, diffs: bool = False) -> dict:
    mutate, tests = MODULES[name]
    copy = work / name
    if copy.exists():
        shutil.rmtree(copy)
    copy.mkdir(parents=True)
    _copy_repo(copy)
    with open(copy / "pyproject.toml", "a") as f:
        f.write("\n[tool.mutmut]\n"
                f"source_paths = {_toml_list(['rethinking_lib'])}\n"
                f"only_mutate = {_toml_list(mutate)}\n"
                f"pytest_add_cli_args_test_selection = {_toml_list(tests)}\n"
                f"pytest_add_cli_args = {_toml_list(['-q', '-p', 'no:cacheprovider'] + (pytest_args or []))}\n"
                "timeout_multiplier = 3.0\n")
    with open(copy / "tests" / "conftest.py", "a") as f:
        f.write(FRESH_STORE)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "RETHINKING_RESULTS")}
    env["RETHINKING_PROGRESS"] = "0"
    env["OMP_NUM_THREADS"] = "1"  # mutmut's time limit is CPU time: one thread keeps it close to wall time
    mutmut = [sys.executable, "-m", "mutmut"]
    try:
        names = [f"{'.'.join(Path(f).with_suffix('').parts)}.x{sep}{pat}__mutmut_*" for f in mutate
                 for pat in (only or []) for sep in ("_", "ǁ")]
        run = subprocess.run(mutmut + ["run", "--max-children", str(max_children)] + names, cwd=copy, env=env,
                             timeout=timeout, capture_output=True, text=True)
        finished = True
    except subprocess.TimeoutExpired:
        run, finished = None, False
    res = subprocess.run(mutmut + ["results", "--all", "true"], cwd=copy, env=env, capture_output=True, text=True)
    status: dict[str, str] = {}
    for line in res.stdout.splitlines():
        key, sep, st = line.strip().rpartition(": ")
        if sep and st != "not checked":
            status[key] = st
    counts: dict[str, int] = {}
    for st in status.values():
        counts[st] = counts.get(st, 0) + 1
    judged = sum(counts.get(k, 0) for k in ("killed", "survived", "timeout", "suspicious"))
    killed = counts.get("killed", 0) + counts.get("timeout", 0)
    survived = sorted(k for k, st in status.items() if st == "survived")
    return {"module": name, "finished": finished, "counts": counts, "judged": judged,
            "kill_rate": killed / judged if judged else None,
            "survived": survived,
            "diffs": {k: _diff(copy, env, k) for k in survived} if diffs else {},
            "no_tests": sorted(k for k, st in status.items() if st == "no tests"),
            "log_tail": (run.stdout + run.stderr)[-2000:] if run is not None else "timed out"}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("modules", nargs="*", metavar="MODULE", help="one or more of " + ", ".join(sorted(MODULES)))
    ap.add_argument("--list", action="store_true", help="print every module with the tests that import it, and exit")
    ap.add_argument("--timeout", type=int, default=1800, help="seconds per module (default 1800)")
    ap.add_argument("--max-children", type=int, default=1, help="parallel mutants (default 1: a shared 2-core machine)")
    ap.add_argument("--keep", type=Path, default=None, help="keep the work copies in this folder")
    ap.add_argument("--json", action="store_true", help="print one JSON object per module")
    ap.add_argument("--only", nargs="+", default=None, metavar="FUNCTION",
                    help="mutate only these functions (fnmatch patterns, e.g. construct check_distinct 'Solver*')")
    ap.add_argument("--diffs", action="store_true", help="print each surviving mutant's changed lines")
    ap.add_argument("--pytest-args", default="", help="extra pytest arguments, e.g. \"-k 'not quick_experiment'\"")
    args = ap.parse_args(argv)
    if args.list:
        for name, (mutate, tests) in sorted(MODULES.items()):
            print(f"{name}: {', '.join(mutate)} <- {', '.join(tests)}")
        return 0
    if not args.modules:
        ap.error("name one or more modules (--list shows them)")
    try:
        args.modules = [resolve(m) for m in args.modules]
    except KeyError as e:
        ap.error(f"argument MODULE: invalid choice: {e} (choose from {', '.join(sorted(MODULES))})")
    if shutil.which("mutmut") is None and subprocess.run([sys.executable, "-c", "import mutmut"]).returncode:
        ap.exit(2, "error: mutmut is not installed: pip install 'mutmut>=3.3'\n")
    work = args.keep or Path(tempfile.mkdtemp(prefix="mutation-"))
    for name in args.modules:
        r = run_module(name, work, timeout=args.timeout, max_children=args.max_children, only=args.only,
                       pytest_args=shlex.split(args.pytest_args), diffs=args.diffs)
        if args.json:
            print(json.dumps(r))
        else:
            rate = "-" if r["kill_rate"] is None else f"{r['kill_rate']:.1%}"
            print(f"{name}: kill rate {rate} ({r['counts']}){'' if r['finished'] else ' [stopped at the time limit]'}")
            for k in r["survived"]:
                print(f"    survived: {k}")
                for ln in r["diffs"].get(k, []):
                    print(f"        {ln}")
            for k in r["no_tests"]:
                print(f"    no tests: {k}")
    if args.keep is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
