"""What the book's tools share: the repository root, the build's error type, and the one ``_toc.yml`` parser.

``tools/build_book.py``, ``tools/check_html.py``, ``tools/set_repo_url.py`` and the tests import it (it imports
none of them).
"""

from __future__ import annotations

from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent


# Pages the build writes from the code instead of the repository keeping a copy that could go stale:
# path -> the command that prints it (run in the build; run it yourself to preview the page).
GENERATED = {"book/setup_and_choices.md": ["-m", "rethinking_lib", "appendix"],
             "book/paper_scale_plan.md": ["-m", "rethinking_lib", "paper-scale-plan"]}  # included by paper_scale.md


class BuildError(Exception):
    """A stage failed; the message says what and where (printed as the last line, exit 1)."""


def toc_files(root: Path = REPO) -> list[Path]:
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
        matches = [root / f"{entry}{suffix}" for suffix in (".ipynb", ".md")
                   if (root / f"{entry}{suffix}").exists() or f"{entry}{suffix}" in GENERATED]
        if not matches:
            raise BuildError(f"_toc.yml lists {entry!r} but neither {entry}.ipynb nor {entry}.md exists in {root} "
                             "(or is generated: book_toc.GENERATED)")
        pages.append(matches[0].relative_to(root))
    return pages
