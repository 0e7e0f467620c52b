"""What a lecturer needs of every chapter page, checked on the notebooks' source: the key proofs are written out as
``prf:proof`` blocks (not sketches) right after the statements they prove; every exercise carries a difficulty mark;
every chapter ends with a self-check whose answers are hidden; and the code of the solutions that show code runs as
printed (a missing import fails here, not in a reader's hands)."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
BOOK = REPO / "book"
CHAPTERS = ["01_pac_learning", "02_rademacher", "03_stability", "04_randomization_tests", "05_regularization",
            "06_expressivity", "07_implicit_regularization", "08_beyond", "09_ntk"]

# (page, label of the statement) -> the proof written out in full after it
PROOFS = [
    ("01_pac_learning", "lem-sauer"),                  # Sauer's lemma, where the growth function is
    ("01_pac_learning", "thm-nfl"),                    # the lower bound behind "uniform convergence is vacuous here"
    ("02_rademacher", "thm-rademacher-general"),       # symmetrization + McDiarmid
    ("07_implicit_regularization", "thm-sgd-minnorm-convergence"),  # SGD from zero -> the minimum-norm solution
    # The PAC-Bayes theorem via Donsker-Varadhan (chapter 8).
    ("08_beyond", "thm-pac-bayes"),
]
# solutions whose code must run as printed (cheap: each well under a second)
SOLUTION_CODE = [("01_pac_learning", "ex-pac-8bit"), ("01_pac_learning", "ex-pac-chain"),
                 ("03_stability", "ex-stab-bound"), ("07_implicit_regularization", "ex-impl-kaczmarz")]

FENCE = re.compile(r"^(`{3,}|:{3,})\{([\w:-]+)\}(.*)$")
DIFFICULTY = re.compile(r"\*\*Difficulty: (★{1,3}☆{0,2})\.\*\*")


def blocks(page: str) -> list[dict]:
    """The directive blocks of a page's markdown, in order: kind (e.g. ``prf:proof``, ``exercise``), argument,
    options (``:label:``, ``:class:``) and body. A block ends at a line holding exactly its opening fence."""
    nb = nbformat.read(BOOK / f"{page}.ipynb", as_version=4)
    out = []
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        lines = cell.source.split("\n")
        i = 0
        while i < len(lines):
            m = FENCE.match(lines[i])
            if not m:
                i += 1
                continue
            fence, kind, arg = m.group(1), m.group(2), m.group(3).strip()
            j = i + 1
            while j < len(lines) and lines[j].strip() != fence:
                j += 1
            body = lines[i + 1:j]
            opts = {}
            while body and body[0].startswith(":") and not body[0].startswith(fence[:1] * 3):
                key, _, value = body.pop(0)[1:].partition(":")
                opts[key.strip()] = value.strip()
            out.append({"kind": kind, "arg": arg, "opts": opts, "body": "\n".join(body).strip()})
            i = j + 1
    return out


@pytest.mark.parametrize(("page", "label"), PROOFS, ids=[f"{p}:{lab}" for p, lab in PROOFS])
def test_key_proof_is_written_out(page, label):
    bs = blocks(page)
    idx = [i for i, b in enumerate(bs) if b["opts"].get("label") == label]
    assert idx, f"{page}: no block labelled {label!r}"
    i = idx[0]
    assert bs[i]["kind"] in ("prf:theorem", "prf:lemma", "prf:corollary", "prf:proposition"), bs[i]["kind"]
    assert i + 1 < len(bs) and bs[i + 1]["kind"] == "prf:proof", f"{page}: no prf:proof right after {label!r}"
    proof = bs[i + 1]["body"]
    assert not proof.lstrip().lower().startswith("(sketch"), f"{page}: the proof of {label!r} is only a sketch"
    assert len([ln for ln in proof.split("\n") if ln.strip()]) >= 10, f"{page}: the proof of {label!r} is too short"


@pytest.mark.parametrize("page", CHAPTERS)
def test_every_exercise_has_a_difficulty_mark(page):
    exercises = [b for b in blocks(page) if b["kind"] == "exercise"]
    assert exercises, f"{page} has no exercises"
    unmarked = [b["opts"].get("label") for b in exercises if not DIFFICULTY.search(b["body"])]
    assert not unmarked, f"{page}: exercises without '**Difficulty: ★☆☆.**' (or ★★☆, ★★★): {unmarked}"


@pytest.mark.parametrize("page", CHAPTERS)
def test_chapter_ends_with_a_self_check_with_hidden_answers(page):
    nb = nbformat.read(BOOK / f"{page}.ipynb", as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "## Self-check" in text, f"{page}: no '## Self-check' section"
    after = text.split("## Self-check", 1)[1]
    questions = re.findall(r"^\d+\. ", after.split("```", 1)[0], flags=re.M)
    assert 3 <= len(questions) <= 5, f"{page}: the self-check has {len(questions)} questions (3-5 wanted)"
    answers = [b for b in blocks(page) if b["kind"] == "admonition" and b["opts"].get("class") == "dropdown"
               and b["arg"].startswith("Answers")]
    assert answers, f"{page}: the self-check's answers are not in a hidden (dropdown) admonition"


@pytest.mark.parametrize(("page", "label"), SOLUTION_CODE, ids=[f"{p}:{lab}" for p, lab in SOLUTION_CODE])
def test_solution_code_runs_as_printed(page, label):
    sols = [b for b in blocks(page) if b["kind"] == "solution" and b["arg"] == label]
    assert sols, f"{page}: no solution for {label!r}"
    code = python_blocks(sols[0]["body"])
    assert code, f"{page}: the solution of {label!r} shows no python code"
    for src in code:
        exec(compile(src, f"{page}:{label}", "exec"), {"__name__": "solution"})  # noqa: S102


def python_blocks(text: str) -> list[str]:
    """The ```python blocks of a markdown text, dedented to their fence's column (a block may sit in a list item)."""
    lines, out, i = text.split("\n"), [], 0
    while i < len(lines):
        col = lines[i].find("```python")
        if col < 0:
            i += 1
            continue
        j = i + 1
        while j < len(lines) and lines[j].strip() != "```":
            j += 1
        out.append("\n".join(line[col:] for line in lines[i + 1:j]))
        i = j + 1
    return out
