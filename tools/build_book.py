"""Build the book: execute every chapter with papermill, render with Jupyter Book, check in a real browser.

    python tools/build_book.py                        # everything: execute, render, browser check
    python tools/build_book.py --only 04_randomization_tests   # re-execute one chapter, reuse the others
    python tools/build_book.py --skip-execute         # re-render the executed copies (prose edits)
    python tools/build_book.py --prerequisites        # only check what the build needs, then stop
    python tools/build_book.py --profile gpu --results runs/ --no-train   # an edition from stored GPU runs
    RETHINKING_DATA=D python tools/build_book.py --profile gpu --smoke --path-output X   # the gpu code path, tiny

Stages (each prints its wall time):
0. prerequisites, before any chapter executes: Python >= 3.10, the Python packages of requirements.txt, the
   package itself; whether a browser is there for stage 4 (required in CI, ``CI=true``; elsewhere a missing
   browser skips the check with one line saying so); with ``--no-train``, the results store holds every run
   of every chapter to execute (``python -m rethinking_lib plan --profile P --json``), else the build stops
   at once naming the first chapter and its missing runs.
1. assets: MathJax 3 and the ipywidgets HTML manager (+ RequireJS) are fetched once from the npm registry over
   HTTPS (pinned versions, checked against their sha512; no npm needed), cached in ``_build/assets/``
   (``$RETHINKING_ASSETS``), and served from the build, so the book reads offline.
2. execute: papermill runs every notebook in ``_toc.yml`` with ``-p PROFILE <--profile>`` (default quick; cwd =
   the notebook's folder in the build copy, kernel ``python3`` of THIS interpreter) into ``_build/executed/``,
   ``--jobs`` chapters at a time (default 2 on >= 2 cores, one thread each; longest first; the conclusion,
   which reads every chapter's runs, after them; a run two chapters share is trained once),
   next to copies of the other pages, ``_config.yml`` and ``_toc.yml``. Results go to ``--results`` or
   ``$RETHINKING_RESULTS`` if set, else to a fresh ``_build/results`` (so the HTML shows results produced by
   this run); ``RETHINKING_PROGRESS=0`` keeps progress bars out of the pages; ``--no-train`` sets
   ``RETHINKING_NO_TRAIN=1`` (a run missing from the store raises instead of training) and
   ``--accept-other-code`` ``RETHINKING_ACCEPT_OTHER_CODE=1`` (stored runs of another code version are shown,
   each page naming that version). In the executed copy papermill's injected-parameters cell is tagged
   ``remove-cell`` and the Colab install cell ``hide-input``. Any error stops the build with a non-zero exit
   naming the chapter and the failing cell.
3. render: ``jupyter-book build`` on the executed copy, execution off, ``-W --keep-going`` (warnings fail),
   output in ``_build/html/`` (``--path-output DIR``: in ``DIR/_build/``).
4. check: ``tools/check_html.py`` loads every page in headless Chromium with the network blocked.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import book_sphinx
import check_html
from book_toc import GENERATED, REPO, BuildError, toc_files
from set_repo_url import INSTALL_RE

TOOLS = Path(__file__).resolve().parent
PROFILES = ("quick", "gpu", "paper")
# What the build imports in this interpreter (the kernel is this interpreter too): module -> requirement.
PYTHON_NEEDS = {"papermill": "papermill", "nbformat": "nbformat", "ipykernel": "ipykernel",
                "jupyter_book": "jupyter-book<2", "yaml": "pyyaml", "playwright": "playwright",
                "rethinking_lib": "rethinking_lib (pip install -e .)"}

# npm packages served from the build (pinned: the HTML must not change under us), with the sha512 the registry
# publishes for each tarball. ipywidgets 8 needs the 1.x HTML manager; Sphinx's default MathJax is 3.x.
NPM_ASSETS = {
    "mathjax": ("3.2.2", "sha512-Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/O9NliPc+x77k1/FEsPsjKPZGJvtRZM1vO+geW0OhGw=="),
    "@jupyter-widgets/html-manager": (
        "1.0.15", "sha512-5thBIV6ymNgmPVOHvzx+gGy8ZSKmSazhtGw4/c4xJDVzRhG9PTeQsRjF3FUTopvFi//SABeNz1yp47bCrJ3CQA=="),
    "requirejs": ("2.3.8", "sha512-7/cTSLOdYkNBNJcDMWf+luFvMriVm7eYxp4BcFCsAX0wF421Vyce5SXP17c+Jd5otXKGNehIonFlyQXSowL6Mw=="),
}
# From the mathjax package only what tex-mml-chtml.js loads (the other combined builds are 20 MB we never use).
MATHJAX_PARTS = ["tex-mml-chtml.js", "input", "output", "ui", "a11y", "adaptors", "sre"]


def start_generated(src: Path) -> dict[str, tuple[subprocess.Popen, Path]]:
    """Start writing the GENERATED pages (``python -m rethinking_lib ...``, each into a temporary file in the build
    copy): they run while the chapters execute, and ``finish_generated`` puts them in place before the render."""
    src.mkdir(parents=True, exist_ok=True)
    started = {}
    for rel, args in GENERATED.items():  # written from the code: a page of settings cannot go stale
        tmp = src / f".{Path(rel).name}.{os.getpid()}.tmp"
        with open(tmp, "w") as out:
            started[rel] = (subprocess.Popen([sys.executable, *args], stdout=out, stderr=subprocess.PIPE, text=True), tmp)
    return started


def finish_generated(src: Path, started: dict[str, tuple[subprocess.Popen, Path]]) -> None:
    """Wait for the pages ``start_generated`` started and move each into place; raises BuildError naming a command
    that failed."""
    for rel, (proc, tmp) in started.items():
        _, err = proc.communicate()
        if proc.returncode:
            tmp.unlink(missing_ok=True)
            raise BuildError(f"{rel}: 'python {' '.join(proc.args[1:])}' failed (exit {proc.returncode}):\n{err[-2000:]}")
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, src / rel)


def copy_sources(root: Path, src: Path, notebooks: set[Path], *, smoke: bool = False, generate: bool = True) -> None:
    """Mirror the book's non-notebook files (pages, bibliography, images) and the config into the build copy, and
    (``generate``) write the GENERATED pages. ``smoke``: the copy's ``_config.yml`` gets a banner on every page
    saying this is a smoke run."""
    src.mkdir(parents=True, exist_ok=True)
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy2(root / name, src / name)
    if smoke:
        import yaml

        from rethinking_lib.config import smoke as smoke_scale

        config = yaml.safe_load((root / "_config.yml").read_text())
        config.setdefault("html", {})["announcement"] = smoke_scale.WARNING
        config["title"] = f"{config.get('title', '')} (smoke run)"
        (src / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    (src / "tools").mkdir(exist_ok=True)
    shutil.copy2(TOOLS / "book_sphinx.py", src / "tools" / "book_sphinx.py")  # _config.yml's local extension
    content_dirs = {p.parts[0] for p in notebooks | set(toc_files(root)) if len(p.parts) > 1}
    for top in sorted(content_dirs):
        for path in (root / top).rglob("*"):
            rel = path.relative_to(root)
            if path.is_dir() or path.suffix == ".ipynb" or any(part.startswith((".", "__")) for part in rel.parts):
                continue
            (src / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, src / rel)
    if generate:
        finish_generated(src, start_generated(src))


def kernel_dir(build: Path) -> Path:
    """A ``python3`` kernelspec for THIS interpreter, put first on JUPYTER_PATH: papermill then runs the chapters
    with the same python (and installed packages) as the build, whatever other kernels the machine has."""
    spec = build / "jupyter" / "kernels" / "python3"
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (ipykernel)", "language": "python"}, indent=1))
    return build / "jupyter"


# A kernel can die at start when two kernels started at once draw the same free TCP port (jupyter_client picks
# the ports before the kernel binds them; seen in CI as "Address already in use" then "Kernel died before replying
# to kernel_info"). Nothing has executed then, so the chapter is simply started again.
KERNEL_START_TRIES = 3


def execute(root: Path, src: Path, notebook: Path, *, cell_timeout: int, profile: str = "quick") -> float:
    """papermill one chapter into the build copy; returns its wall time. Raises BuildError naming the cell."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    out = src / notebook
    out.parent.mkdir(parents=True, exist_ok=True)
    print(f"[execute] {notebook} ...", flush=True)
    t0 = time.perf_counter()
    try:
        for attempt in range(KERNEL_START_TRIES):
            try:
                # store_widget_state (nbclient's default, passed explicitly): ipywidgets' saved state goes into the
                # notebook metadata, so the widgets render in the static HTML.
                papermill.execute_notebook(str(root / notebook), str(out), parameters={"PROFILE": profile},
                                           kernel_name="python3", cwd=str(out.parent), progress_bar=False,
                                           execution_timeout=cell_timeout, store_widget_state=True)
                break
            except RuntimeError as e:  # nothing ran yet: start the kernel again
                if "before replying to kernel_info" not in str(e) or attempt == KERNEL_START_TRIES - 1:
                    raise
                print(f"[execute] {notebook}: the kernel did not start ({e}); starting it again", flush=True)
    except PapermillExecutionError as e:
        first = e.source.strip().splitlines()[:3]
        raise BuildError(f"chapter {notebook} failed in cell {e.cell_index} (execution count {e.exec_count}): "
                         f"{e.ename}: {e.evalue}\n  cell source: " + "\n               ".join(first)
                         + f"\n  executed copy with the traceback: {out}") from None
    except Exception as e:  # kernel died, timeout, bad notebook JSON: still name the chapter
        raise BuildError(f"chapter {notebook} failed: {type(e).__name__}: {e}") from None
    polish(out)
    return time.perf_counter() - t0


def default_jobs() -> int:
    env = os.environ.get("RETHINKING_BUILD_JOBS")
    if env:
        if not env.isdigit() or int(env) < 1:
            raise SystemExit(f"RETHINKING_BUILD_JOBS={env!r}: expected a positive integer, e.g. RETHINKING_BUILD_JOBS=1")
        return int(env)
    return 2 if (os.cpu_count() or 1) >= 2 else 1


def execution_order(notebooks: list[Path], history: dict[str, float], profile: str = "quick"
                    ) -> tuple[list[Path], list[Path]]:
    """(chapters, readers): the chapters (pages that train, named in ``experiments.chapters()``), longest first,
    and the pages that only read the chapters' stored runs (the conclusion), which run after every chapter has
    finished: run before, they would train the chapters' runs themselves.

    Longest first by the last build's wall times (``history``); without them, by the number of training runs
    the chapter declares (an experiment with its own computation counts as one), ties in toc order."""
    from rethinking_lib import experiments

    book = experiments.chapters()

    def runs(stem: str) -> int:
        return sum(max(1, len(experiments.get(name).run_specs(profile))) for name in book[stem])

    chapters = [nb for nb in notebooks if nb.stem in book]
    readers = [nb for nb in notebooks if nb.stem not in book]
    if all(nb.stem in history for nb in chapters):
        chapters.sort(key=lambda nb: -history[nb.stem])
    else:
        chapters.sort(key=lambda nb: -runs(nb.stem))
    return chapters, readers


def execute_all(root: Path, src: Path, notebooks: list[Path], *, jobs: int, cell_timeout: int,
                profile: str) -> dict[str, float]:
    """Execute the chapters, ``jobs`` at a time (each in its own process and kernel), then the readers.

    Why in parallel: these small CNNs use two CPU cores poorly (measured on the 2-core CI machine, small
    Inception at width 0.25, batch 128: 554 img/s with 2 threads in one process, 521 + 463 img/s in two
    1-thread processes at once); executing the quick book took 700 s one chapter at a time and 527 s two at a
    time. Each kernel gets cores/jobs threads (OMP_NUM_THREADS, unless already set), so the machine is never
    oversubscribed. Chapters share one results store safely (atomic writes; a run two chapters need is trained
    once, under ``results.run_lock``). The first failure stops the build: running chapters finish, queued ones
    are cancelled."""
    import concurrent.futures as cf
    import multiprocessing

    history_file = src / ".execute_times.json"
    try:
        history = json.loads(history_file.read_text())
    except (OSError, ValueError):
        history = {}
    chapters, readers = execution_order(notebooks, history, profile)
    jobs = max(1, min(jobs, len(chapters) or 1))
    if "OMP_NUM_THREADS" not in os.environ:
        os.environ["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // jobs))
    print(f"[execute] {len(chapters)} chapters, {jobs} at a time, {os.environ['OMP_NUM_THREADS']} thread(s) each"
          + (f"; then {', '.join(nb.stem for nb in readers)}" if readers else ""), flush=True)
    timings: dict[str, float] = {}

    def done(nb: Path, dt: float) -> None:
        timings[f"execute {nb.stem}"] = history[nb.stem] = dt
        print(f"[execute] {nb}: {dt:.1f} s", flush=True)

    if jobs == 1:
        for nb in chapters:
            done(nb, execute(root, src, nb, cell_timeout=cell_timeout, profile=profile))
    else:
        # spawn: a fresh interpreter per worker (the build process may hold threads, e.g. from a previous stage)
        with cf.ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = {}
            for nb in chapters:
                futures[pool.submit(execute, root, src, nb, cell_timeout=cell_timeout, profile=profile)] = nb
            for fut in cf.as_completed(futures):
                try:
                    done(futures[fut], fut.result())
                except BaseException:
                    for f in futures:
                        f.cancel()
                    raise
    for nb in readers:
        done(nb, execute(root, src, nb, cell_timeout=cell_timeout, profile=profile))
    from rethinking_lib.store import results

    results.atomic_write_json(history_file, history)  # the next build's order
    return timings


def polish(path: Path) -> None:
    """Tag the executed copy for the HTML: papermill's injected-parameters cell is removed from the page, the
    Colab install cell shows collapsed (``hide-input``: a "show code" toggle)."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        tags = cell.metadata.setdefault("tags", [])
        if "injected-parameters" in tags and "remove-cell" not in tags:
            tags.append("remove-cell")
        if cell.cell_type == "code" and INSTALL_RE.search(cell.source) and "hide-input" not in tags:
            tags.append("hide-input")
    nbformat.write(nb, path)


def npm_registry() -> str:
    return (os.environ.get("npm_config_registry") or "https://registry.npmjs.org").rstrip("/")


def tarball_url(name: str, version: str) -> str:
    return f"{npm_registry()}/{name}/-/{name.split('/')[-1]}-{version}.tgz"


def fetch_tarball(name: str, version: str, integrity: str, dest: Path) -> None:
    """Download one npm tarball over HTTPS into ``dest`` and check its sha512; BuildError naming the URL if not."""
    url = tarball_url(name, version)
    try:
        with urllib.request.urlopen(url, timeout=120) as r:
            blob = r.read()
    except (urllib.error.URLError, OSError) as e:
        raise BuildError(f"could not fetch {url}: {getattr(e, 'reason', e)} (the build needs HTTPS access to the npm "
                         "registry once; the assets are then cached in _build/assets, or $RETHINKING_ASSETS)") from None
    algo, _, want = integrity.partition("-")
    got = base64.b64encode(hashlib.new(algo, blob).digest()).decode()
    if got != want:
        raise BuildError(f"{url}: {algo} {got} differs from the pinned {want}: not the published tarball")
    dest.write_bytes(blob)


def extract_tgz(tgz: Path, dest: Path, *, use_filter: bool | None = None) -> None:
    """Unpack ``tgz`` into ``dest`` refusing links and paths that leave ``dest``.

    ``tarfile``'s ``filter="data"`` does exactly that where it exists (3.10.12+, 3.11.4+); older Pythons (e.g.
    Debian 12's 3.11.2) get the same checks here.
    """
    if use_filter is None:
        use_filter = hasattr(tarfile, "data_filter")
    with tarfile.open(tgz) as tar:
        if use_filter:
            tar.extractall(dest, filter="data")
            return
        members = tar.getmembers()
        for m in members:
            target = (dest / m.name).resolve()
            if not (m.isfile() or m.isdir()) or m.name.startswith("/") or not target.is_relative_to(dest.resolve()):
                raise BuildError(f"{tgz.name}: refusing to unpack {m.name!r} (a link, a device, or outside the folder)")
        tar.extractall(dest, members=members)  # noqa: S202 (checked above)


def npm_assets(cache: Path) -> Path:
    """Fetch the pinned npm packages once into ``cache``; returns the folder with them unpacked. Two builds that
    start at once (.ci/run's smoke builds) take turns: the second finds what the first fetched."""
    from rethinking_lib.store import results

    with results.file_lock(cache.parent / f".{cache.name}.lock"):
        return _npm_assets(cache)


def _npm_assets(cache: Path) -> Path:
    unpacked = cache / "unpacked"
    stamp = unpacked / "versions.json"
    wanted = {name: version for name, (version, _) in NPM_ASSETS.items()}
    if stamp.exists() and json.loads(stamp.read_text()) == wanted:
        return unpacked
    shutil.rmtree(cache, ignore_errors=True)
    cache.mkdir(parents=True)
    for name, (version, integrity) in NPM_ASSETS.items():
        folder = f"{name.lstrip('@').replace('/', '-')}-{version}"
        tgz = cache / f"{folder}.tgz"
        fetch_tarball(name, version, integrity, tgz)
        extract_tgz(tgz, unpacked / folder)
    stamp.write_text(json.dumps(wanted))
    return unpacked


def install_assets(cache: Path, src: Path) -> None:
    """Copy MathJax, RequireJS and the widget manager into ``src/_offline`` (served as ``_static/``; not ``_static``
    itself: Jupyter Book would add every .js file under a root ``_static`` to every page)."""
    unpacked = npm_assets(cache)
    offline = src / "_offline"
    shutil.rmtree(offline, ignore_errors=True)
    (offline / "mathjax").mkdir(parents=True)
    mathjax = unpacked / f"mathjax-{NPM_ASSETS['mathjax'][0]}" / "package" / "es5"
    for part in MATHJAX_PARTS:
        (shutil.copytree if (mathjax / part).is_dir() else shutil.copy2)(mathjax / part, offline / "mathjax" / part)
    manager = unpacked / f"jupyter-widgets-html-manager-{NPM_ASSETS['@jupyter-widgets/html-manager'][0]}" / "package" / "dist"
    # embed-amd.js loads its icon fonts relative to itself: keep dist/ together, minus the source maps.
    shutil.copytree(manager, offline / "html-manager", ignore=shutil.ignore_patterns("*.map", "embed.js", "libembed*"))
    shutil.copy2(unpacked / f"requirejs-{NPM_ASSETS['requirejs'][0]}" / "package" / "require.js", offline / "require.js")
    for name in ("widgets_offline.js", *book_sphinx.STATIC):  # see their comments
        shutil.copy2(TOOLS / "static" / name, offline / name)


def render(src: Path, root: Path) -> None:
    """jupyter-book build of the executed copy into ``root/_build/html`` (warnings are errors)."""
    # Sphinx 7.4 silently keeps a static file already in the output, so a changed asset would never ship:
    # always write the HTML afresh (the parsed pages stay cached in _build/.doctrees).
    shutil.rmtree(root / "_build" / "html", ignore_errors=True)
    cmd = [sys.executable, "-c", "import sys; from jupyter_book.cli.main import main; sys.exit(main())",
           "build", str(src), "--path-output", str(root), "--builder", "html", "-W", "--keep-going"]
    proc = subprocess.run(cmd)
    if proc.returncode != 0:
        raise BuildError(f"jupyter-book build failed (exit {proc.returncode}); the warnings above say where")


def chapter_plan(profile: str, results: Path, *, accept_other_code: bool = False) -> list[dict]:
    """``python -m rethinking_lib plan``'s plan, in this process (which loads the package to order the chapters
    anyway): one dict per chapter, with "chapter", "missing" and "runs" ([{"experiment", "desc", "stored"}, ...]).
    With ``accept_other_code`` (``$RETHINKING_ACCEPT_OTHER_CODE=1``, which the chapters' kernels get too) runs
    stored by other code count as stored."""
    from rethinking_lib.planning import plan
    from rethinking_lib.store import results as store

    if accept_other_code:
        os.environ[store.ACCEPT_ENV] = "1"
    try:
        return plan.chapter_plan(profile, out=results)
    except Exception as e:  # a broken store or config: say where, as the build's one-line failure
        raise BuildError(f"--no-train: the plan of the stored runs at profile {profile} in {results} failed: "
                         f"{type(e).__name__}: {e}") from None


def check_stored(profile: str, results: Path, chapters: list[str], *, accept_other_code: bool = False) -> None:
    """With --no-train: stop at the first chapter (in build order) whose runs the store lacks, listing them."""
    plan = {entry["chapter"]: entry for entry in chapter_plan(profile, results, accept_other_code=accept_other_code)}
    for chapter in chapters:
        entry = plan.get(chapter)
        if entry and entry.get("missing"):
            missing = [f"{r['experiment']}: {r.get('desc') or ''}".rstrip(": ") for r in entry["runs"] if not r["stored"]]
            raise BuildError(f"--no-train: chapter {chapter} needs {entry['missing']} run(s) at profile {profile} that "
                             f"{results} lacks (train them on a GPU, then 'python -m rethinking_lib results pack' / "
                             "'unpack' them here):\n    " + "\n    ".join(missing))


def prerequisites(*, browser: bool) -> str | None:
    """Everything the build needs, checked before any chapter executes: raises BuildError naming what is missing.

    Returns None when the browser check will run, else the one line saying why it is skipped (``browser=False``:
    not asked for; no browser outside CI). In CI (``CI=true``) a missing browser is an error.
    """
    if sys.version_info < (3, 10):  # noqa: UP036 (the README promises 3.10+: say so on an older one)
        raise BuildError(f"Python {sys.version.split()[0]} is too old: the book needs Python 3.10 or newer")
    missing = [req for module, req in PYTHON_NEEDS.items() if importlib.util.find_spec(module) is None]
    if missing:
        raise BuildError(f"missing Python packages in {sys.executable}: {', '.join(missing)} "
                         "(pip install -r requirements.txt)")
    if not browser:
        return "browser check skipped: --no-check"
    exe, why = check_html.find_browser()
    if exe is None:
        if check_html.ci():
            raise BuildError(f"the browser check is required in CI (CI=true) but cannot run: {why}")
        return f"browser check skipped: {why}"
    print(f"[prerequisites] browser: {exe}", flush=True)
    return None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", type=Path, default=REPO, help="the book's root (with _config.yml, _toc.yml)")
    ap.add_argument("--only", nargs="+", default=None, metavar="NAME",
                    help="execute only these chapters (file stems); the others keep their last executed copy")
    ap.add_argument("--skip-execute", action="store_true", help="render the existing executed copies")
    ap.add_argument("--no-check", action="store_true", help="skip the headless-browser check of the HTML")
    ap.add_argument("--prerequisites", action="store_true", help="check what the build needs, then stop")
    ap.add_argument("--profile", default="quick", choices=PROFILES, help="the profile the chapters run (default quick)")
    ap.add_argument("--results", type=Path, default=None, metavar="DIR",
                    help="the results store the chapters load from / write to (default $RETHINKING_RESULTS, else a "
                         "fresh _build/results)")
    ap.add_argument("--no-train", action="store_true",
                    help="render from stored runs only: a run missing from the store stops the build")
    ap.add_argument("--accept-other-code", action="store_true",
                    help="show stored runs produced by another code version (each page names it)")
    ap.add_argument("--path-output", type=Path, default=None, metavar="DIR",
                    help="build into DIR/_build (default: the book's root), e.g. a second edition next to the first")
    ap.add_argument("--smoke", action="store_true",
                    help="the smoke scale (rethinking_lib/config/smoke.py): every chapter's code path at the profile, "
                         "tiny sizes, on stand-in data ($RETHINKING_DATA, python -m rethinking_lib data standin); every "
                         "page says it is a smoke run")
    ap.add_argument("--cell-timeout", type=int, default=1800, help="seconds one cell may run (default 1800)")
    ap.add_argument("--jobs", type=int, default=default_jobs(), metavar="N",
                    help="chapters executed at once, each kernel with cores/N threads (default: 2 with >= 2 cores, "
                         "else 1; $RETHINKING_BUILD_JOBS overrides)")
    args = ap.parse_args(argv)
    if args.smoke:
        os.environ["RETHINKING_SMOKE"] = "1"  # the plan, the chapters' kernels and the appendix see it
    root = args.root.resolve()
    out_root = (args.path_output or root).resolve()
    build = out_root / "_build"
    src = build / "executed"
    timings: dict[str, float] = {}
    skipped = None
    generated = {}
    try:
        t0 = time.perf_counter()
        pages = toc_files(root)
        notebooks = [p for p in pages if p.suffix == ".ipynb"]
        stems = {p.stem for p in notebooks}
        if args.only and not set(args.only) <= stems:
            raise BuildError(f"--only: unknown chapter(s) {sorted(set(args.only) - stems)}; _toc.yml has {sorted(stems)}")
        run = [] if args.skip_execute else [p for p in notebooks if not args.only or p.stem in args.only]
        # The results store the chapters read and write: --results, else $RETHINKING_RESULTS (e.g. .ci/run shares
        # it with the tests), else _build/results, emptied before a full execution so the pages show results
        # produced by this build (never with --no-train: there the store is the point).
        given = args.results or os.environ.get("RETHINKING_RESULTS")
        results = Path(given or build / "results").resolve()
        skipped = prerequisites(browser=not args.no_check)
        if not args.prerequisites:
            generated = start_generated(src)  # beside the store check and the chapters: ~2 s of imports each
        if args.no_train and run:
            check_stored(args.profile, results, [nb.stem for nb in run], accept_other_code=args.accept_other_code)
        timings["prerequisites"] = time.perf_counter() - t0
        if args.prerequisites:
            print(f"[prerequisites] ok: Python {sys.version.split()[0]}, packages, results store {results}")
            if skipped and not args.no_check:
                print(skipped)
            return 0

        copy_sources(root, src, set(notebooks), smoke=args.smoke, generate=False)
        t0 = time.perf_counter()
        install_assets(Path(os.environ.get("RETHINKING_ASSETS", REPO / "_build" / "assets")), src)
        timings["assets"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        if not given and run and not args.only and not args.no_train:
            shutil.rmtree(results, ignore_errors=True)
        print(f"[execute] profile {args.profile}, results store: {results}"
              + (" (no training: stored runs only)" if args.no_train else ""), flush=True)
        os.environ.update(RETHINKING_PROGRESS="0", RETHINKING_RESULTS=str(results),
                          JUPYTER_PATH=os.pathsep.join(filter(None, [str(kernel_dir(build)), os.environ.get("JUPYTER_PATH")])),
                          PYDEVD_DISABLE_FILE_VALIDATION="1")
        if args.no_train:
            os.environ["RETHINKING_NO_TRAIN"] = "1"
        if args.accept_other_code:
            os.environ["RETHINKING_ACCEPT_OTHER_CODE"] = "1"
        timings.update(execute_all(root, src, run, jobs=args.jobs, cell_timeout=args.cell_timeout,
                                   profile=args.profile))
        for nb in notebooks:
            if nb not in run and not (src / nb).exists():
                print(f"[execute] WARNING {nb} has never been executed: rendering it without outputs", flush=True)
                shutil.copy2(root / nb, src / nb)
        timings["execute (all)"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        finish_generated(src, generated)
        generated = {}
        render(src, out_root)
        timings["render"] = time.perf_counter() - t0

        if skipped is None:
            t0 = time.perf_counter()
            try:
                failures = check_html.check_site(build / "html", pages, smoke=args.smoke)
            except (RuntimeError, TimeoutError) as e:
                raise BuildError(f"browser check could not run: {e}") from None
            timings["browser check"] = time.perf_counter() - t0
            if failures:
                raise BuildError("browser check failed:\n  " + "\n  ".join(failures))
    except BuildError as e:
        print(f"\nBUILD FAILED: {e}", file=sys.stderr, flush=True)
        return 1
    finally:
        for proc, tmp in generated.values():  # a build that stopped early: its pages are not needed
            proc.kill()
            proc.communicate()
            tmp.unlink(missing_ok=True)
        if timings:
            print("\nstage timings (wall s):\n" + "\n".join(f"  {k:<40} {v:7.1f}" for k, v in timings.items()))
    print(f"\nbook built: {build / 'html' / 'index.html'}")
    if skipped and not args.no_check:
        print(skipped)
    return 0


if __name__ == "__main__":
    sys.exit(main())
