"""Chapter cells are a call and a display: every code cell of every notebook in ``_toc.yml`` has at most
``MAX_LINES`` lines and defines no function, class or lambda-bound name (computation lives in the chapter
modules); no page imports myst_nb (``notebook.glue`` guards it); and measured numbers reach the prose one way,
``notebook.glue_all(<chapter module>.prose_numbers(...))``, once per page that cites any."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import nbformat
import pytest
from IPython.core.inputtransformer2 import TransformerManager

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))

import book_toc  # noqa: E402

MAX_LINES = 8
GLUE_ROLE = re.compile(r"\{glue:text\}`([\w-]+)")


def notebooks() -> list[Path]:
    return [REPO / p for p in book_toc.toc_files(REPO) if p.suffix == ".ipynb"]


def python(source: str) -> ast.Module:
    """The cell as Python: IPython's own transformer turns ``%pip`` and other magics into calls first."""
    return ast.parse(TransformerManager().transform_cell(source))


def cell_problems(source: str) -> list[str]:
    """What makes one code cell more than a call and a display (empty when nothing does)."""
    problems = []
    lines = len(source.strip("\n").splitlines())
    if lines > MAX_LINES:
        problems.append(f"{lines} lines (at most {MAX_LINES})")
    for node in ast.walk(python(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            problems.append(f"defines {node.name!r}")
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.NamedExpr)) and isinstance(node.value, ast.Lambda):
            problems.append("binds a lambda to a name")
        elif isinstance(node, ast.Import) and any(a.name.split(".")[0] == "myst_nb" for a in node.names):
            problems.append("imports myst_nb (use notebook.glue_all)")
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "myst_nb":
            problems.append("imports from myst_nb (use notebook.glue_all)")
        elif isinstance(node, ast.Call) and _called(node) == "glue":
            problems.append("glues a number by hand (return it from the chapter's prose_numbers)")
        elif isinstance(node, ast.Call) and _called(node) == "glue_all" and not (
                len(node.args) == 1 and isinstance(node.args[0], ast.Call) and _called(node.args[0]) == "prose_numbers"):
            problems.append("glue_all of something other than a chapter module's prose_numbers(...)")
    return problems


def _called(call: ast.Call) -> str | None:
    f = call.func
    return f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else None


def page_problems(cells) -> list[str]:
    """Every cell's problems, and the page's: its {glue:text} roles need exactly one glue_all, and none without."""
    code = [c for c in cells if c.cell_type == "code"]
    out = [f"cell {c.get('id')}: {p}" for c in code for p in cell_problems(c.source)]
    roles = {m.group(1) for c in cells if c.cell_type == "markdown" for m in GLUE_ROLE.finditer(c.source)}
    glue_alls = sum(_called(n) == "glue_all" for c in code for n in ast.walk(python(c.source)) if isinstance(n, ast.Call))
    if glue_alls != (1 if roles else 0):
        out.append(f"{glue_alls} glue_all calls for {len(roles)} glued names in the prose (want one call, or none)")
    return out


def test_the_toc_lists_every_chapter_notebook():
    names = {p.name for p in notebooks()}
    assert {p.name for p in (REPO / "book").glob("0*.ipynb")} | {"conclusion.ipynb"} <= names


@pytest.mark.parametrize("path", notebooks(), ids=lambda p: p.stem)
def test_every_cell_is_a_call_and_a_display(path):
    assert page_problems(nbformat.read(path, as_version=4).cells) == []


def test_the_install_cell_is_within_the_limit_too():
    """The Colab install cell (the same in every chapter) needs no exception: it is checked like any other."""
    for path in notebooks():
        cells = nbformat.read(path, as_version=4).cells
        install = [c for c in cells if c.cell_type == "code" and "%pip install" in c.source]
        assert len(install) <= 1 and all(cell_problems(c.source) == [] for c in install), path.name


@pytest.mark.parametrize("source, problem", [
    ("\n".join(f"x{i} = {i}" for i in range(MAX_LINES + 1)), f"{MAX_LINES + 1} lines"),
    ("def helper(rows):\n    return rows", "defines 'helper'"),
    ("class Row:\n    pass", "defines 'Row'"),
    ("fmt = lambda v: f'{v:.3f}'", "binds a lambda"),
    ("from myst_nb import glue", "imports from myst_nb"),
    ("import myst_nb", "imports myst_nb"),
    ("notebook.glue('ch1_gap', gap)", "glues a number by hand"),
    ("notebook.glue_all({'ch1_gap': gap})", "something other than"),
])
def test_each_kind_of_computing_cell_is_caught(source, problem):
    assert any(problem in p for p in cell_problems(source)), cell_problems(source)


def test_a_call_and_a_display_pass_and_magics_parse():
    ok = ('import sys\nif "google.colab" in sys.modules:\n    %pip install -q "rethinking_lib @ git+https://x/y"\n'
          'rec = experiments.run("pac", PROFILE, seed=SEED, **knobs)\nnotebook.glue_all(pac.prose_numbers(rec["result"]))')
    assert cell_problems(ok) == []
    assert cell_problems("rows = sorted(rows, key=lambda r: r['n'])") == []  # a lambda passed, not kept as a helper


def test_a_page_that_cites_numbers_glues_them_once():
    md = nbformat.v4.new_markdown_cell("the gap is {glue:text}`ch1_gap:.3f`")
    glue = nbformat.v4.new_code_cell("notebook.glue_all(pac.prose_numbers(res))")
    assert page_problems([md, glue]) == []
    assert page_problems([md]) and page_problems([md, glue, glue]) and page_problems([glue])
