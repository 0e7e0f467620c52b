"""The book pipeline: table of contents, chapter template, one repository URL, the build's prerequisites, the
build failing loudly, and the headless-browser check of the rendered HTML (on a tiny book built here, not the
real chapters). The browser tests skip, saying why, where no Chromium is installed, except in CI (``CI=true``),
where they are required."""

from __future__ import annotations

import html
import io
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import nbformat
import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))

import book_toc  # noqa: E402
import build_book  # noqa: E402
import check_html  # noqa: E402
import set_repo_url  # noqa: E402

CHAPTERS = ["01_pac_learning", "02_rademacher", "03_stability", "04_randomization_tests", "05_regularization",
            "06_expressivity", "07_implicit_regularization", "08_beyond", "09_ntk"]
TOC_ORDER = ["intro", "notation", *CHAPTERS, "paper_scale", "conclusion", "setup_and_choices", "engine", "bibliography"]
NOTEBOOKS = [*CHAPTERS, "conclusion"]
CONFIG = yaml.safe_load((REPO / "_config.yml").read_text())


BROWSER, NO_BROWSER = check_html.find_browser()


@pytest.fixture
def browser_needed():
    """Skip, saying why, where no browser can run; in CI a missing browser fails the test instead."""
    if BROWSER is None:
        if check_html.ci():
            pytest.fail(f"the browser check is required in CI: {NO_BROWSER}")
        pytest.skip(f"browser check skipped: {NO_BROWSER}")


# --- table of contents and configuration -------------------------------------------------------------------

def test_toc_lists_every_page_in_reading_order():
    # The one _toc.yml parser (the build and the browser check use it too); it raises naming a missing file.
    pages = book_toc.toc_files(REPO)
    assert [p.with_suffix("").as_posix() for p in pages] == [f"book/{name}" for name in TOC_ORDER]
    assert [p.stem for p in pages if p.suffix == ".ipynb"] == NOTEBOOKS
    assert build_book.toc_files is check_html.toc_files is set_repo_url.toc_files is book_toc.toc_files


def test_toc_names_a_missing_page(tmp_path):
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: intro\nchapters:\n  - file: gone\n")
    (tmp_path / "intro.md").write_text("# Intro\n")
    with pytest.raises(book_toc.BuildError, match="'gone'"):
        book_toc.toc_files(tmp_path)


def test_config_renders_executed_copies_offline_with_colab_buttons():
    assert CONFIG["execute"]["execute_notebooks"] == "off"  # papermill executes; Jupyter Book only renders
    assert CONFIG["launch_buttons"]["colab_url"] == "https://colab.research.google.com"
    assert re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", CONFIG["repository"]["url"])
    sphinx = CONFIG["sphinx"]["config"]
    # No CDN: MathJax and the widget manager are served from _static (tools/build_book.py copies them there).
    assert "://" not in sphinx["mathjax_path"]
    assert sphinx["nb_ipywidgets_js"] and not any("://" in js for js in sphinx["nb_ipywidgets_js"])
    assert "book/references.bib" in CONFIG["bibtex_bibfiles"]


def test_bibliography_has_the_core_entries_once():
    keys = re.findall(r"^@\w+\{([^,]+),", (REPO / "book" / "references.bib").read_text(), flags=re.M)
    assert len(keys) == len(set(keys)), "duplicate keys in book/references.bib"
    for key in ["zhang2017understanding", "hardt2016train", "bartlett2002rademacher", "krizhevsky2009learning"]:
        assert key in keys


# --- the chapter template ----------------------------------------------------------------------------------

@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_follows_the_template(chapter):
    path = REPO / "book" / f"{chapter}.ipynb"
    assert path.exists(), f"{path} is listed in _toc.yml but missing"
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# "), "first cell: '# Title'"
    # First code cell: the Colab install, from exactly the repository in _config.yml, without touching torch.
    assert set_repo_url.install_urls(nbformat.v4.new_notebook(cells=code[:1])) == [CONFIG["repository"]["url"]]
    assert '"google.colab" in sys.modules' in code[0].source and "torch" not in code[0].source.split("%pip")[1]
    params = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1, "exactly one code cell tagged 'parameters'"
    assert re.search(r'^PROFILE = "auto"', params[0].source, flags=re.M)
    # Committed without outputs: the HTML shows what the build executed, not a stale local run.
    assert all(not c.outputs and c.execution_count is None for c in code), "clear the outputs before committing"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_is_a_textbook_chapter(chapter):
    """Learning goals after the title; key takeaways, 3-5 exercises each with a hidden solution, further reading
    at the end; numbered prf: statements in the theory chapters."""
    nb = nbformat.read(REPO / "book" / f"{chapter}.ipynb", as_version=4)
    md = [c.source for c in nb.cells if c.cell_type == "markdown"]
    assert "Learning goals" in md[1], "second cell: the learning goals"
    text = "\n".join(md)
    tail = text[text.index("## Key takeaways"):]
    assert "## Further reading" in tail
    exercises = re.findall(r"(?:`{3,4}|:{3,4})\{exercise\}\n:label: ([\w-]+)", tail)  # backtick or colon fences
    solutions = re.findall(r"(?:`{3,4}|:{3,4})\{solution\} ([\w-]+)\n:class: dropdown", tail)
    assert 3 <= len(exercises) <= 5 and sorted(solutions) == sorted(exercises)
    if chapter[:2] in {"01", "02", "03", "06", "07"}:
        assert re.search(r"\{prf:(theorem|definition)\}", text)


def test_no_page_mentions_a_tracker():
    pages = [p for p in (REPO / "book").iterdir() if p.suffix in {".md", ".ipynb"}]
    for page in pages:
        words = page.read_text().lower()
        assert not re.search(r"\bissues?\b", words), f"{page.name} mentions an issue"


def test_every_notebook_installs_from_the_config_url():
    urls = {p.name: set_repo_url.install_urls(nbformat.read(p, as_version=4)) for p in set_repo_url.chapters(REPO)}
    assert urls and all(u == [CONFIG["repository"]["url"]] for u in urls.values()), urls


def test_set_repo_url_rewrites_config_and_install_cells(tmp_path):
    shutil.copy(REPO / "_config.yml", tmp_path)
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: book/intro\nchapters:\n  - file: book/ch\n")
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "intro.md").write_text("# Intro\n")
    nbformat.write(notebook(["x = 1"]), tmp_path / "book" / "ch.ipynb")  # with the template's install cell
    changed = set_repo_url.set_url("https://github.com/someone/fork", tmp_path)
    assert {p.name for p in changed} == {"_config.yml", "ch.ipynb"}
    assert set_repo_url.config_url(tmp_path) == "https://github.com/someone/fork"
    nb = nbformat.read(tmp_path / "book" / "ch.ipynb", as_version=4)
    assert set_repo_url.install_urls(nb) == ["https://github.com/someone/fork"]
    assert nb.cells[-1].source == "x = 1"
    assert (tmp_path / "_config.yml").read_text().count("someone/fork") == 1  # the comments stay as they were
    with pytest.raises(ValueError, match="url"):
        set_repo_url.set_url("not a url", tmp_path)


# --- a tiny book, built with the real pipeline ----------------------------------------------------------------

GOOD = ["import matplotlib.pyplot as plt",
        "fig, ax = plt.subplots(figsize=(3, 2))\nax.plot([0, 1, 2], [0, 1, 4])\nplt.show()",
        "import ipywidgets\nipywidgets.IntSlider(value=3, min=0, max=9, description='p')"]


INSTALL = ('import sys\nif "google.colab" in sys.modules:\n'
           f'    %pip install -q "rethinking_lib @ git+{CONFIG["repository"]["url"]}"')


def notebook(cells: list[str], title: str = "# Tiny chapter\n\nMath $R(h) = P[h(x) \\neq c(x)]$ and\n\n$$\\sum_i x_i$$"):
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('PROFILE = "auto"')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell(title), nbformat.v4.new_code_cell(INSTALL), params,
                *map(nbformat.v4.new_code_cell, cells)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def mini_book(root: Path, chapters: dict[str, list[str]]) -> Path:
    """The real _config.yml and bibliography, a toc of ``chapters`` (name -> code cells)."""
    (root / "book").mkdir(parents=True)
    shutil.copy(REPO / "_config.yml", root)
    shutil.copy(REPO / "book" / "references.bib", root / "book")
    (root / "book" / "intro.md").write_text("# Tiny book\n\nAn introduction with $x^2$.\n")
    (root / "_toc.yml").write_text("format: jb-book\nroot: book/intro\nchapters:\n"
                                   + "".join(f"  - file: book/{name}\n" for name in chapters))
    for name, cells in chapters.items():
        nbformat.write(notebook(cells), root / "book" / f"{name}.ipynb")
    return root


def build(root: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k != "RETHINKING_RESULTS"}
    return subprocess.run([sys.executable, str(REPO / "tools" / "build_book.py"), "--root", str(root), *args],
                          capture_output=True, text=True, env=dict(environ, **env), timeout=600)


def only_python(tmp_path: Path) -> dict[str, str]:
    """The environment of a machine with only Python: no npm, node or chromium on the PATH, not CI."""
    bare = tmp_path / "bare-bin"
    bare.mkdir(exist_ok=True)
    return {"PATH": str(bare), "CI": "", "CHROMIUM": "", "PLAYWRIGHT_BROWSERS_PATH": str(tmp_path / "no-browsers")}


# --- prerequisites, checked before any chapter executes -------------------------------------------------------

def test_prerequisites_on_a_machine_with_only_python(tmp_path):
    """No npm, no chromium on the PATH: the build can still run; it says in one line that the check is skipped,
    and in CI the same machine is refused before any chapter executes."""
    env = only_python(tmp_path)
    assert shutil.which("npm", path=env["PATH"]) is None and shutil.which("chromium", path=env["PATH"]) is None
    proc = build(REPO, "--prerequisites", **env)
    assert proc.returncode == 0, proc.stderr
    skipped = [line for line in proc.stdout.splitlines() if "browser check skipped" in line]
    assert len(skipped) == 1 and "no Chromium found" in skipped[0] and "apt-get install -y chromium" in skipped[0]
    t0 = time.perf_counter()
    proc = build(REPO, **dict(env, CI="true"))
    assert proc.returncode == 1 and time.perf_counter() - t0 < 60
    assert "BUILD FAILED: the browser check is required in CI (CI=true) but cannot run: no Chromium found" in proc.stderr
    assert "[execute]" not in proc.stdout


def test_prerequisites_name_a_missing_python_package(monkeypatch):
    monkeypatch.setitem(build_book.PYTHON_NEEDS, "no_such_module_xyz", "no-such-package")
    with pytest.raises(build_book.BuildError, match="missing Python packages .*no-such-package"):
        build_book.prerequisites(browser=False)


def tgz(members: dict[str, bytes | str]) -> bytes:
    """A tarball: name -> file content (bytes) or symlink target (str)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, what in members.items():
            info = tarfile.TarInfo(name)
            if isinstance(what, str):
                info.type, info.linkname = tarfile.SYMTYPE, what
                tar.addfile(info)
            else:
                info.size = len(what)
                tar.addfile(info, io.BytesIO(what))
    return buf.getvalue()


@pytest.mark.parametrize("use_filter", [False, True] if hasattr(tarfile, "data_filter") else [False])
def test_tarballs_unpack_safely_with_or_without_tarfile_filters(tmp_path, use_filter):
    """Python 3.11.2 (Debian 12) has no ``extractall(filter=...)``: the fallback refuses the same members."""
    good = tmp_path / "good.tgz"
    good.write_bytes(tgz({"package/a.js": b"var a;", "package/sub/b.js": b"var b;"}))
    build_book.extract_tgz(good, tmp_path / "out", use_filter=use_filter)
    assert (tmp_path / "out" / "package" / "sub" / "b.js").read_bytes() == b"var b;"
    for i, bad in enumerate([{"package/../../evil.js": b"x"}, {"package/link": "/etc/passwd"}]):
        path = tmp_path / f"bad{i}.tgz"
        path.write_bytes(tgz(bad))
        with pytest.raises((build_book.BuildError, tarfile.TarError)):
            build_book.extract_tgz(path, tmp_path / f"out{i}", use_filter=use_filter)
    assert not (tmp_path / "evil.js").exists()


def test_asset_fetch_checks_the_pinned_hash_and_names_the_url(tmp_path, monkeypatch):
    import urllib.error
    import urllib.request

    class Reply(io.BytesIO):
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(urllib.request, "urlopen", lambda url, timeout: Reply(b"not mathjax"))
    version, integrity = build_book.NPM_ASSETS["mathjax"]
    with pytest.raises(build_book.BuildError, match="differs from the pinned"):
        build_book.fetch_tarball("mathjax", version, integrity, tmp_path / "m.tgz")

    def offline(url, timeout):
        raise urllib.error.URLError("Name or service not known")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(build_book.BuildError, match=r"could not fetch https://registry\.npmjs\.org/mathjax/-/mathjax-3"):
        build_book.fetch_tarball("mathjax", version, integrity, tmp_path / "m.tgz")
    assert build_book.tarball_url("@jupyter-widgets/html-manager", "1.0.15") == \
        "https://registry.npmjs.org/@jupyter-widgets/html-manager/-/html-manager-1.0.15.tgz"


def test_two_builds_fetch_the_assets_one_at_a_time(tmp_path, monkeypatch):
    """.ci/run starts two builds at once: the second waits for the first's asset fetch instead of clearing the cache
    under it (a race that once left an empty tarball)."""
    import threading

    inside, overlaps = [], []

    def slow_fetch(cache):
        overlaps.extend(inside)
        inside.append(1)
        time.sleep(0.3)
        inside.pop()
        return cache

    monkeypatch.setattr(build_book, "_npm_assets", slow_fetch)
    threads = [threading.Thread(target=build_book.npm_assets, args=(tmp_path / "assets",)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not overlaps


# --- rendering an edition from stored runs (--no-train) --------------------------------------------------------

def fake_plan(missing: dict[str, list[str]]):
    """A stand-in for ``python -m rethinking_lib plan --json``: chapter -> the experiments the store lacks."""
    def plan(profile, results, *, accept_other_code=False):
        return [{"chapter": ch, "experiments": ["e1", *names], "missing": len(names), "est_s_total": None,
                 "runs": [{"experiment": "e1", "desc": "stored", "stored": True, "est_s": None}]
                 + [{"experiment": n, "desc": f"{n} at {profile}", "stored": False, "est_s": None} for n in names]}
                for ch, names in missing.items()]
    return plan


@pytest.fixture
def build_env(monkeypatch):
    """build_book.main runs in this process: restore what it sets in os.environ."""
    for key in ("RETHINKING_PROGRESS", "RETHINKING_RESULTS", "JUPYTER_PATH", "PYDEVD_DISABLE_FILE_VALIDATION",
                "RETHINKING_NO_TRAIN", "RETHINKING_ACCEPT_OTHER_CODE", "OMP_NUM_THREADS"):
        monkeypatch.setenv(key, os.environ.get(key, ""))
        if not os.environ[key]:
            monkeypatch.delenv(key)


def test_no_train_stops_at_the_first_chapter_with_missing_runs(tmp_path, monkeypatch, capsys, build_env):
    root = mini_book(tmp_path / "book", {"first": ["x = 1"], "second": ["x = 2"], "third": ["x = 3"]})
    monkeypatch.setattr(build_book, "chapter_plan", fake_plan({"first": [], "second": ["fig1bc", "table1"],
                                                               "third": ["kernel"]}))
    t0 = time.perf_counter()
    code = build_book.main(["--root", str(root), "--profile", "paper", "--results", str(tmp_path / "empty"),
                            "--no-train", "--no-check"])
    assert code == 1 and time.perf_counter() - t0 < 60
    err = capsys.readouterr().err
    assert "--no-train: chapter second needs 2 run(s) at profile paper" in err
    assert "fig1bc: fig1bc at paper" in err and "table1: table1 at paper" in err and "kernel" not in err
    assert not (root / "_build" / "executed" / "book" / "first.ipynb").exists(), "no chapter executed"


@pytest.mark.book
def test_no_train_safety_net_stops_a_chapter_that_would_train(tmp_path, monkeypatch, capsys, build_env):
    """The plan says all is stored, but a cell asks the store for a run it lacks: the chapter fails, naming it."""
    root = mini_book(tmp_path / "book", {"ch": ['from rethinking_lib.store import results\n'
                                               'results.load_or_run("demo", {"k": 1}, lambda: 1)']})
    monkeypatch.setattr(build_book, "chapter_plan", fake_plan({"ch": []}))
    code = build_book.main(["--root", str(root), "--results", str(tmp_path / "empty"), "--no-train", "--no-check"])
    err = capsys.readouterr().err
    assert code == 1 and "chapter book/ch.ipynb failed in cell" in err
    assert "MissingRun" in err and "RETHINKING_NO_TRAIN=1 forbids training" in err


@pytest.mark.book
def test_build_fails_naming_the_chapter_and_cell(tmp_path):
    root = mini_book(tmp_path, {"fine": ["x = 1"], "broken": ["y = 2", "1 / 0"]})
    proc = build(root, "--no-check")
    assert proc.returncode == 1
    last = proc.stderr.strip().splitlines()
    message = "\n".join(last[-4:])
    assert "BUILD FAILED: chapter book/broken.ipynb failed in cell" in message
    assert "ZeroDivisionError" in message and "1 / 0" in message
    assert not (root / "_build" / "html").exists(), "nothing rendered after a failed chapter"


@pytest.fixture(scope="module")
def built_book(tmp_path_factory):
    """Execute and render a tiny book on a machine with only Python on the PATH (no npm, no chromium): one good
    chapter (figure, math, widget), one without a figure, one whose cell shows a bare string repr."""
    tmp = tmp_path_factory.mktemp("book")
    root = mini_book(tmp / "root", {"good": GOOD, "nofig": ["print('no figure here')"],
                                    "repr": [*GOOD[:2], "'| a | b |\\n|---|---|'"]})
    proc = build(root, **only_python(tmp))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "[execute] book/good.ipynb:" in proc.stdout and "stage timings" in proc.stdout
    assert proc.stdout.strip().splitlines()[-1].startswith("browser check skipped: no Chromium found")
    return root


@pytest.mark.book
def test_injected_parameters_removed_and_install_cell_collapsed(built_book):
    nb = json.loads((built_book / "_build" / "executed" / "book" / "good.ipynb").read_text())
    tags = {"".join(c["source"]).splitlines()[0]: c["metadata"].get("tags", []) for c in nb["cells"] if c["source"]}
    injected = [t for t in tags.values() if "injected-parameters" in t]
    assert injected and all("remove-cell" in t for t in injected)
    assert "hide-input" in tags["import sys"]
    page = (built_book / "_build" / "html" / "book" / "good.html").read_text()
    text = html.unescape(re.sub(r"<[^>]+>", "", page))
    assert 'PROFILE = "quick"' not in text, "the injected-parameters cell is on the page"
    assert 'PROFILE = "auto"' in text  # the chapter's own parameters cell stays
    assert "git+" in text and "tag_hide-input" in page  # the install cell is there, collapsed


@pytest.mark.book
def test_executed_copy_keeps_widget_state_and_the_quick_profile(built_book):
    nb = json.loads((built_book / "_build" / "executed" / "book" / "good.ipynb").read_text())
    assert nb["metadata"]["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    injected = [c for c in nb["cells"] if "injected-parameters" in c["metadata"].get("tags", [])]
    assert injected and 'PROFILE = "quick"' in "".join(injected[0]["source"])


@pytest.mark.book
def test_browser_check_passes_a_good_page_offline(built_book, browser_needed):
    """Figure, MathJax and the widget render from file:// with every non-local request blocked."""
    html = built_book / "_build" / "html"
    assert check_html.check_site(html, [Path("book/intro.md"), Path("book/good.ipynb")]) == []
    text = (html / "book" / "good.html").read_text()
    assert "cdn.jsdelivr" not in text and "cdnjs" not in text and "colab.research.google.com/github/" in text


@pytest.mark.book
def test_browser_check_fails_a_chapter_without_figure(built_book, browser_needed):
    failures = check_html.check_site(built_book / "_build" / "html", [Path("book/nofig.ipynb")])
    assert failures == ["book/nofig.ipynb: no figure: a chapter page needs at least one image from a cell output"]


def tampered(built_book: Path, tmp_path: Path, edit) -> Path:
    html = tmp_path / "html"
    shutil.copytree(built_book / "_build" / "html", html)
    page = html / "book" / "good.html"
    page.write_text(edit(page.read_text()))
    return html


@pytest.mark.book
def test_browser_check_of_a_smoke_build_requires_every_page_to_say_so(built_book, tmp_path, browser_needed):
    page = [Path("book/good.ipynb")]
    assert check_html.check_site(built_book / "_build" / "html", page, smoke=True) == [
        "book/good.ipynb: a smoke build, but the page does not say 'Smoke run'",
        "book/good.ipynb: a smoke build, but the chapter shows no smoke warning (notebook.setup)"]
    said = tampered(built_book, tmp_path, lambda t: t.replace("<article", '<div class="smoke-run">Smoke run</div><article', 1))
    assert check_html.check_site(said, page, smoke=True) == []


@pytest.mark.book
def test_browser_check_fails_when_the_figure_is_missing(built_book, tmp_path, browser_needed):
    html = tampered(built_book, tmp_path, lambda t: re.sub(r'<img [^>]*src="[^"]*_images/[^>]*>', "", t))
    failures = check_html.check_site(html, [Path("book/good.ipynb")])
    assert any("book/good.ipynb: no figure" in f for f in failures), failures


@pytest.mark.book
def test_browser_check_fails_on_a_traceback_and_on_unrendered_math(built_book, tmp_path, browser_needed):
    def edit(text):
        text = text.replace("_static/mathjax/tex-mml-chtml.js", "_static/mathjax/missing.js")
        return text.replace('id="tiny-chapter">', 'id="tiny-chapter"><div class="output traceback">'
                            "<pre>Traceback (most recent call last):\nValueError</pre></div>", 1)

    failures = check_html.check_site(tampered(built_book, tmp_path, edit), [Path("book/good.ipynb")])
    assert any("error output / traceback" in f for f in failures), failures
    assert any("MathJax did not load" in f for f in failures), failures


@pytest.mark.book
def test_browser_check_fails_on_a_bare_repr_output(built_book, browser_needed):
    failures = check_html.check_site(built_book / "_build" / "html", [Path("book/repr.ipynb")])
    assert len(failures) == 1 and "1 cell output(s) that are a bare Python repr, e.g. \"'| a | b |" in failures[0]


# A text/plain output as myst-nb renders it: what chapters 4 and 5 showed for notebook.markdown("") (an empty
# precision note) before markdown learned to show nothing, and what a cell ending in a figure shows.
def text_output(text: str) -> str:
    return ('<div class="cell_output docutils container"><div class="output text_plain highlight-myst-ansi notranslate">'
            f'<div class="highlight"><pre><span></span>{html.escape(text)}\n</pre></div></div></div>')


def planted(built_book: Path, tmp_path: Path, block: str) -> Path:
    """The good page with ``block`` planted at the top of its chapter."""
    return tampered(built_book, tmp_path, lambda t: t.replace('id="tiny-chapter">', 'id="tiny-chapter">' + block, 1))


@pytest.mark.book
def test_browser_check_fails_on_an_object_repr_output(built_book, tmp_path, browser_needed):
    outputs = text_output("<IPython.core.display.Markdown object>") + text_output("<Figure size 640x480 with 1 Axes>")
    failures = check_html.check_site(planted(built_book, tmp_path, outputs), [Path("book/good.ipynb")])
    assert failures == ["book/good.ipynb: 2 cell output(s) that are a bare Python repr, e.g. "
                        "'<IPython.core.display.Markdown object>' (display it, or end the cell with ';')"]


def long_equation(terms: int) -> str:
    """Display math as Sphinx writes it, ``terms`` terms long."""
    terms = " + ".join(f"\\frac{{a_{{{k}}}}}{{b_{{{k}}}}}" for k in range(terms))
    return f'<div class="math notranslate nohighlight">\\[{terms}\\]</div>'


LONG_LINE = "x = " + " + ".join(f"value_{k}" for k in range(60))


@pytest.mark.book
def test_long_code_wraps_and_a_long_equation_shrinks_to_the_page(built_book, tmp_path, browser_needed):
    """tools/static: a long code line wraps, an equation up to ~1/0.7 of the column shrinks to fit it."""
    block = long_equation(22) + f'<div class="highlight"><pre>{LONG_LINE}</pre></div>' + text_output(LONG_LINE)
    assert check_html.check_site(planted(built_book, tmp_path, block), [Path("book/good.ipynb")]) == []


@pytest.mark.book
def test_browser_check_fails_on_math_and_code_cut_off_at_the_page_width(built_book, tmp_path, browser_needed):
    block = long_equation(60) + f'<div class="highlight"><pre style="white-space: pre">{LONG_LINE}</pre></div>'
    failures = check_html.check_site(planted(built_book, tmp_path, block), [Path("book/good.ipynb")])
    assert len(failures) == 2, failures
    assert failures[0].startswith("book/good.ipynb: 1 display equation(s) cut off at the page's width, e.g. 'a0b0+a1b1")
    assert failures[1].startswith("book/good.ipynb: 1 code block(s) or text output(s) cut off at the page's width, "
                                  "e.g. 'x = value_0 + value_1")


def png_size(path: Path) -> tuple[int, int]:
    return struct.unpack(">II", path.read_bytes()[16:24])


@pytest.mark.book
def test_screenshots_capture_the_whole_page(built_book, browser_needed, tmp_path):
    shots = tmp_path / "shots"
    assert check_html.check_site(built_book / "_build" / "html", [Path("book/good.ipynb")], screenshots=shots) == []
    width, height = png_size(shots / "good.png")
    browser = check_html.Browser()
    try:
        assert browser.load((built_book / "_build" / "html" / "book" / "good.html").as_uri()) is None
        page_w, page_h = browser.evaluate("[document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
    finally:
        browser.close()
    assert (width, height) == (page_w, page_h) and width >= check_html.VIEWPORT["width"]


def test_chapters_execute_longest_first_and_the_conclusion_after_them():
    nbs = [Path(f"book/{stem}.ipynb") for stem in
           ("01_pac_learning", "04_randomization_tests", "05_regularization", "08_beyond", "conclusion")]
    chapters, readers = build_book.execution_order(nbs, {})
    assert [p.stem for p in readers] == ["conclusion"]  # it reads every chapter's runs: after them, never beside
    # no history: by declared training runs (Table 1's chapter has the most), ties in toc order
    assert [p.stem for p in chapters] == ["05_regularization", "04_randomization_tests", "01_pac_learning", "08_beyond"]
    history = {"01_pac_learning": 20.0, "04_randomization_tests": 300.0, "05_regularization": 250.0, "08_beyond": 90.0}
    chapters, _ = build_book.execution_order(nbs, history)
    assert [p.stem for p in chapters] == ["04_randomization_tests", "05_regularization", "08_beyond", "01_pac_learning"]


def test_build_jobs_setting_is_checked(monkeypatch):
    monkeypatch.setenv("RETHINKING_BUILD_JOBS", "1")
    assert build_book.default_jobs() == 1
    monkeypatch.setenv("RETHINKING_BUILD_JOBS", "two")
    with pytest.raises(SystemExit, match="RETHINKING_BUILD_JOBS='two'"):
        build_book.default_jobs()
