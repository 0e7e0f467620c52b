"""The README's chapter table ("Where each chapter's code lives") against the declarations it describes."""

import re
from pathlib import Path

from rethinking_lib import chapters, experiments

README = Path(__file__).resolve().parents[1] / "README.md"


def chapter_table(text: str) -> list[list[str]]:
    """The rows of the first table under "## Where each chapter's code lives", as lists of cells."""
    section = text.split("## Where each chapter's code lives", 1)[1].split("\n## ", 1)[0]
    rows = [ln for ln in section.splitlines() if ln.startswith("|")]
    return [[c.strip() for c in ln.strip("|").split("|")] for ln in rows[2:]]  # after the header and its rule


def names(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def expected_cells(page: str) -> list[str]:
    """The page, chapter module, figure module and experiment cells of ``page``'s row, from the declarations."""
    mods = [m.__name__.rsplit(".", 1)[1] for m in chapters.MODULES if m.CHAPTER == page]
    figure_dir = Path(chapters.__file__).parents[1] / "figures"
    figs = [m for m in mods if (figure_dir / f"{m}.py").is_file()]
    return [", ".join(f"`{x}`" for x in xs) for xs in ([page], mods, figs, experiments.chapters()[page])]


def test_the_readme_table_lists_every_chapter_its_modules_figures_and_experiments():
    declared = experiments.chapters()
    rows = chapter_table(README.read_text())
    pages = [names(page)[0] for _, page, *_ in rows]
    assert [p for p in pages if p in declared] == list(declared)  # every chapter, once, in the book's order
    for title, *cells in rows:
        (page,) = names(cells[0])
        if page not in declared:  # a page without experiments (the conclusion)
            assert not names(cells[3]), page
            continue
        assert title.split()[0] == str(int(page[:2])), page
        want = expected_cells(page)
        assert [names(c) for c in cells] == [names(c) for c in want], \
            f"README.md: the row of {page} should read | {title} | {' | '.join(want)} |"


def test_the_parser_reads_a_table_cell_by_cell():
    text = ("## Where each chapter's code lives\n\nintro\n\n| a | b |\n|---|---|\n| 1 X | `p`, `q` |\n\n## Next\n"
            "| 2 Y | `r` |\n")
    assert chapter_table(text) == [["1 X", "`p`, `q`"]]
    assert names("`p`, `q`") == ["p", "q"]
