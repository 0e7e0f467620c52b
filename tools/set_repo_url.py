"""Move the book to another repository: ``python tools/set_repo_url.py https://github.com/OWNER/REPO``.

The repository URL lives in ``_config.yml`` (``repository.url``: launch buttons, repository and issue links).
Each chapter's first code cell installs ``rethinking_lib`` on Colab from the same URL
(``%pip install -q "rethinking_lib @ git+URL"``). This command rewrites both, so they cannot drift apart;
tests/test_book.py checks that they agree.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat
import yaml
from book_toc import REPO, toc_files

INSTALL_RE = re.compile(r'rethinking_lib @ git\+(?P<url>[^"\s]+)"')
URL_RE = re.compile(r"^https://[\w.-]+/[\w.-]+/[\w.-]+$")


def config_url(root: Path = REPO) -> str:
    """``repository.url`` from ``_config.yml``."""
    return yaml.safe_load((root / "_config.yml").read_text())["repository"]["url"]


def install_urls(nb) -> list[str]:
    """The URLs the notebook's code cells install ``rethinking_lib`` from (one, in the install cell)."""
    return [m["url"] for cell in nb.cells if cell.cell_type == "code" for m in INSTALL_RE.finditer(cell.source)]


def chapters(root: Path = REPO) -> list[Path]:
    return [root / p for p in toc_files(root) if p.suffix == ".ipynb"]


def set_url(url: str, root: Path = REPO) -> list[Path]:
    """Rewrite ``_config.yml`` and every chapter's install cell to ``url``; returns the files changed."""
    url = url.rstrip("/")
    if not URL_RE.match(url):
        raise ValueError(f"url {url!r} is not a repository URL: give https://HOST/OWNER/REPO")
    changed = []
    config = root / "_config.yml"
    text = config.read_text()
    new, n = re.subn(r"(?m)^(repository:\n(?:[ \t]+.*\n|\s*\n)*?[ \t]+url:[ \t]*)\S+", rf"\g<1>{url}", text)
    if n != 1:
        raise ValueError(f"{config}: found no 'repository:' block with a 'url:' line to rewrite")
    if new != text:
        config.write_text(new)
        changed.append(config)
    for path in chapters(root):
        nb = nbformat.read(path, as_version=4)
        if not install_urls(nb):
            raise ValueError(f"{path}: no install cell ('rethinking_lib @ git+URL'); see the chapter template")
        before = [cell.source for cell in nb.cells]
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.source = INSTALL_RE.sub(f'rethinking_lib @ git+{url}"', cell.source)
        if [cell.source for cell in nb.cells] != before:
            nbformat.write(nb, path)
            changed.append(path)
    return changed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("url", help="the book's repository, e.g. https://github.com/OWNER/REPO")
    ap.add_argument("--root", type=Path, default=REPO)
    args = ap.parse_args(argv)
    try:
        changed = set_url(args.url, args.root)
    except ValueError as e:
        print(f"set_repo_url: {e}", file=sys.stderr)
        return 1
    print("\n".join(f"rewrote {p}" for p in changed) or "already set")
    return 0


if __name__ == "__main__":
    sys.exit(main())
