"""The book pipeline: table of contents, chapter template, one repository URL, the build failing loudly, and the
headless-browser check of the rendered HTML (on a tiny book built here, not the real chapters)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))

import build_book  # noqa: E402
import check_html  # noqa: E402
import set_repo_url  # noqa: E402

CHAPTERS = ["01_pac_learning", "02_rademacher", "03_stability", "04_randomization_tests", "05_regularization",
            "06_expressivity", "07_implicit_regularization", "08_beyond"]
TOC_ORDER = ["intro", "notation", *CHAPTERS, "paper_scale", "conclusion", "setup_and_choices", "engine", "bibliography"]
NOTEBOOKS = [*CHAPTERS, "conclusion"]
CONFIG = yaml.safe_load((REPO / "_config.yml").read_text())


def toc_entries() -> list[str]:
    toc = yaml.safe_load((REPO / "_toc.yml").read_text())
    return [toc["root"], *(c["file"] for c in toc["chapters"])]


# --- table of contents and configuration -------------------------------------------------------------------

def test_toc_lists_every_page_in_reading_order():
    assert toc_entries() == [f"book/{name}" for name in TOC_ORDER]


def test_every_toc_page_exists_and_chapters_are_notebooks():
    pages = build_book.toc_files(REPO)  # raises naming the entry when a file is missing
    assert [p.stem for p in pages if p.suffix == ".ipynb"] == NOTEBOOKS


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
    exercises = re.findall(r"```\{exercise\}\n:label: ([\w-]+)", tail)
    solutions = re.findall(r"`{3,4}\{solution\} ([\w-]+)\n:class: dropdown", tail)
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
    nbformat.write(notebook([f'%pip install -q "rethinking_lib @ git+{CONFIG["repository"]["url"]}"', "x = 1"]),
                   tmp_path / "book" / "ch.ipynb")
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


def notebook(cells: list[str], title: str = "# Tiny chapter\n\nMath $R(h) = P[h(x) \\neq c(x)]$ and\n\n$$\\sum_i x_i$$"):
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('PROFILE = "auto"')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell(title), params, *map(nbformat.v4.new_code_cell, cells)]
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


def build(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "RETHINKING_RESULTS"}
    return subprocess.run([sys.executable, str(REPO / "tools" / "build_book.py"), "--root", str(root), *args],
                          capture_output=True, text=True, env=env, timeout=600)


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
    """Execute and render a tiny book: one good chapter (figure, math, widget), one without a figure."""
    root = mini_book(tmp_path_factory.mktemp("book"), {"good": GOOD, "nofig": ["print('no figure here')"]})
    proc = build(root, "--no-check")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "[execute] book/good.ipynb:" in proc.stdout and "stage timings" in proc.stdout
    return root


@pytest.mark.book
def test_executed_copy_keeps_widget_state_and_the_quick_profile(built_book):
    nb = json.loads((built_book / "_build" / "executed" / "book" / "good.ipynb").read_text())
    assert nb["metadata"]["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    injected = [c for c in nb["cells"] if "injected-parameters" in c["metadata"].get("tags", [])]
    assert injected and 'PROFILE = "quick"' in "".join(injected[0]["source"])


@pytest.mark.book
def test_browser_check_passes_a_good_page_offline(built_book):
    """Figure, MathJax and the widget render from file:// with every non-local request blocked."""
    html = built_book / "_build" / "html"
    assert check_html.check_site(html, [Path("book/intro.md"), Path("book/good.ipynb")]) == []
    text = (html / "book" / "good.html").read_text()
    assert "cdn.jsdelivr" not in text and "cdnjs" not in text and "colab.research.google.com/github/" in text


@pytest.mark.book
def test_browser_check_fails_a_chapter_without_figure(built_book):
    failures = check_html.check_site(built_book / "_build" / "html", [Path("book/nofig.ipynb")])
    assert failures == ["book/nofig.ipynb: no figure: a chapter page needs at least one image from a cell output"]


def tampered(built_book: Path, tmp_path: Path, edit) -> Path:
    html = tmp_path / "html"
    shutil.copytree(built_book / "_build" / "html", html)
    page = html / "book" / "good.html"
    page.write_text(edit(page.read_text()))
    return html


@pytest.mark.book
def test_browser_check_fails_when_the_figure_is_missing(built_book, tmp_path):
    html = tampered(built_book, tmp_path, lambda t: re.sub(r'<img [^>]*src="[^"]*_images/[^>]*>', "", t))
    failures = check_html.check_site(html, [Path("book/good.ipynb")])
    assert any("book/good.ipynb: no figure" in f for f in failures), failures


@pytest.mark.book
def test_browser_check_fails_on_a_traceback_and_on_unrendered_math(built_book, tmp_path):
    def edit(text):
        text = text.replace("_static/mathjax/tex-mml-chtml.js", "_static/mathjax/missing.js")
        return text.replace('id="tiny-chapter">', 'id="tiny-chapter"><div class="output traceback">'
                            "<pre>Traceback (most recent call last):\nValueError</pre></div>", 1)

    failures = check_html.check_site(tampered(built_book, tmp_path, edit), [Path("book/good.ipynb")])
    assert any("error output / traceback" in f for f in failures), failures
    assert any("MathJax did not load" in f for f in failures), failures
