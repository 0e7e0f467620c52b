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


def test_every_glue_role_names_a_glued_number():
    nb = nbformat.read(CHAPTER, as_version=4)
    roles = {m.group(1) for c in nb.cells if c.cell_type == "markdown" for m in GLUE.finditer(c.source)}
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert roles, "the chapter's prose cites no measured number"
    for name in roles:  # glued literally, or through an f-string with a {tag}
        pattern = re.escape(name).replace("true", "(true|{tag})").replace("rand", "(rand|{tag})")
        assert re.search(rf'glue\(f?"{pattern}"', code), f"{name} is cited in the prose but never glued"


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
