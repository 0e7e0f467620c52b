"""The numbers in a chapter's prose come from the run that produced the page: executing the stability chapter with
two seeds gives two different texts, and every number the prose cites is one the run glued."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
CHAPTER = REPO / "book" / "03_stability.ipynb"
GLUE = re.compile(r"\{glue:text\}`([\w-]+)(?::([^`]*))?`")


def glued(nb) -> dict:
    """name -> value of every number the executed notebook glued (myst-nb's scrapbook outputs)."""
    values = {}
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            name = out.get("metadata", {}).get("scrapbook", {}).get("name")
            if name is not None:
                plain = next(v for k, v in out["data"].items() if k.endswith("text/plain"))  # display=False: prefixed
                values[name] = ast.literal_eval(plain)
    return values


def prose(nb, values: dict) -> str:
    """The markdown of the notebook with each {glue:text} role replaced by its formatted value, as the book shows it."""
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    return GLUE.sub(lambda m: format(values[m.group(1)], m.group(2) or ""), text)


def glued_by(nb) -> list:
    """The functions whose numbers the page glues: ``f`` of each ``notebook.glue_all(module.f(...))``, the module
    found through the page's own imports."""
    import importlib

    from IPython.core.inputtransformer2 import TransformerManager

    tree = ast.parse("\n".join(TransformerManager().transform_cell(c.source) for c in nb.cells if c.cell_type == "code"))
    modules = {a.asname or a.name: f"{node.module}.{a.name}" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
               for a in node.names}
    return [getattr(importlib.import_module(modules[call.args[0].func.value.id]), call.args[0].func.attr)
            for call in ast.walk(tree) if isinstance(call, ast.Call) and getattr(call.func, "attr", None) == "glue_all"]


def name_patterns(fn) -> list[re.Pattern]:
    """Every name ``fn`` can return a number under: its string literals, and its f-strings with each {...} as a word."""
    import inspect
    import textwrap

    pats = []
    for node in ast.walk(ast.parse(textwrap.dedent(inspect.getsource(fn)))):
        if isinstance(node, ast.JoinedStr):
            pats.append("".join(re.escape(v.value) if isinstance(v, ast.Constant) else r"\w+" for v in node.values))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            pats.append(re.escape(node.value))
    return [re.compile(p) for p in pats]


def toc_notebooks() -> list[Path]:
    import yaml

    toc = yaml.safe_load((REPO / "_toc.yml").read_text())
    files = [toc["root"]] + [c["file"] for c in toc["chapters"]]
    return [REPO / f"{f}.ipynb" for f in files if (REPO / f"{f}.ipynb").exists()]


@pytest.mark.parametrize("path", toc_notebooks(), ids=lambda p: p.stem)
def test_every_glue_role_names_a_glued_number(path):
    """Each {glue:text} role of a page names a number its chapter module's ``prose_numbers`` returns."""
    nb = nbformat.read(path, as_version=4)
    roles = {m.group(1) for c in nb.cells if c.cell_type == "markdown" for m in GLUE.finditer(c.source)}
    functions = glued_by(nb)
    assert bool(roles) == bool(functions), f"{path.name}: glue roles {sorted(roles)} but glued by {functions}"
    assert all(f.__name__ == "prose_numbers" for f in functions)
    patterns = [p for f in functions for p in name_patterns(f)]
    for name in roles:
        assert any(p.fullmatch(name) for p in patterns), f"{path.name}: {name} is cited in the prose but never glued"
    if path == CHAPTER:
        assert len(roles) >= 10, "the stability chapter's prose cites its measured numbers"


@pytest.mark.slow
@pytest.mark.book
def test_another_seed_changes_the_numbers_in_the_prose(tmp_path, results_dir):
    papermill = pytest.importorskip("papermill")
    texts, values = [], []
    for seed in (0, 1):
        out = tmp_path / f"seed{seed}.ipynb"
        papermill.execute_notebook(str(CHAPTER), str(out), parameters={"PROFILE": "quick", "SEED": seed},
                                   cwd=str(CHAPTER.parent), kernel_name="python3", progress_bar=False)
        nb = nbformat.read(out, as_version=4)
        values.append(glued(nb))
        texts.append(prose(nb, values[-1]))
    assert values[0].keys() == values[1].keys()
    assert "{glue:" not in texts[0]
    # seed-dependent measurements move; the settings (n, steps, runs) and the bound do not
    for name in ("ch3_sup_true", "ch3_sup_rand", "ch3_lossgap_true", "ch3_net_rand_sup"):
        assert values[0][name] != values[1][name], name
    for name in ("ch3_steps", "ch3_runs", "ch3_bound"):
        assert values[0][name] == values[1][name], name
    assert texts[0] != texts[1]
