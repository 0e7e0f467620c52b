"""The chapters' first cell on Colab, simulated offline.

Colab's Python already has torch (built for its GPU) and must keep it. Here: a fresh virtual environment that
sees this environment's packages (torch, numpy, pip, IPython, ...) as Colab's preinstalled ones, but not
``rethinking_lib``; a stub ``google.colab`` module; the install URL pointed at a local git repository of this
working tree (``git+file://localhost/...``). Running each chapter's install cell in IPython there installs ``rethinking_lib``
into the fresh environment, leaves torch exactly as it was, and running it again is harmless. No network: pip
runs with ``--no-index`` and without build isolation (both through pip's environment variables; the cell itself
is the chapters' own, only its URL changes). Then one whole chapter (the cheapest, ``AUTO_CHAPTER``) runs there
cell by cell as the notebook stands, with its ``PROFILE = "auto"``: on this machine (no GPU) it resolves to quick.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import textwrap
import venv
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))

import set_repo_url  # noqa: E402

# Runs one cell in IPython, as a Colab kernel would, with google.colab imported.
RUN_CELL = textwrap.dedent("""
    import sys, types
    google = sys.modules.setdefault("google", types.ModuleType("google"))
    google.colab = sys.modules["google.colab"] = types.ModuleType("google.colab")  # the stub
    from IPython.core.interactiveshell import InteractiveShell
    shell = InteractiveShell.instance()
    result = shell.run_cell(open(sys.argv[1]).read())
    result.raise_error()
    sys.exit(shell.user_ns.get("_exit_code", 0))  # %pip's exit status
""")
# Runs a chapter's code cells in order (a JSON list of sources), then prints the profile its setup resolved.
RUN_CHAPTER = textwrap.dedent("""
    import json, sys, types
    google = sys.modules.setdefault("google", types.ModuleType("google"))
    google.colab = sys.modules["google.colab"] = types.ModuleType("google.colab")  # the stub
    from IPython.core.interactiveshell import InteractiveShell
    shell = InteractiveShell.instance()
    for i, source in enumerate(json.load(open(sys.argv[1]))):
        result = shell.run_cell(source)
        if not result.success:
            sys.exit(f"code cell {i} failed: {result.error_in_exec or result.error_before_exec!r}")
    print("RESOLVED=" + json.dumps(shell.user_ns["PROFILE"]))
""")
AUTO_CHAPTER = "06_expressivity"  # the cheapest chapter at the quick profile (~14 s in the book's build)
# What the fresh environment sees afterwards.
INSPECT = textwrap.dedent("""
    import json, torch, rethinking_lib
    print(json.dumps({"torch": torch.__version__, "torch_file": torch.__file__, "lib": rethinking_lib.__file__}))
""")


def install_cells() -> dict[str, list[str]]:
    """Each distinct install cell (the first code cell) of the chapters -> the chapters that have it."""
    cells: dict[str, list[str]] = {}
    for path in set_repo_url.chapters(REPO):
        first = next(c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
        cells.setdefault(first.source, []).append(path.stem)
    return cells


def local_repository(dest: Path) -> Path:
    """A git repository holding this working tree's package (what pip clones, as it would clone GitHub)."""
    dest.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, dest / name)
    shutil.copytree(REPO / "rethinking_lib", dest / "rethinking_lib", ignore=shutil.ignore_patterns("__pycache__"))
    git = ["git", "-C", str(dest), "-c", "user.name=test", "-c", "user.email=test@example.invalid"]
    for args in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "package"]):
        subprocess.run([*git, *args], check=True, capture_output=True)
    return dest


def colab_like_env(tmp_path: Path) -> tuple[Path, Path]:
    """A fresh venv whose interpreter also sees this environment's site-packages, minus rethinking_lib.
    Returns (its python, its own site-packages)."""
    import torch

    shared_site = Path(torch.__file__).resolve().parents[1]
    preinstalled = tmp_path / "preinstalled"  # the packages a Colab runtime comes with
    preinstalled.mkdir()
    for entry in shared_site.iterdir():
        name = entry.name.lower()
        if "rethinking" in name or name.endswith(".pth"):  # an editable install of this repo stays out of sight
            continue
        (preinstalled / entry.name).symlink_to(entry)
    root = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False, symlinks=True).create(root)
    python = root / "bin" / "python"
    own_site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                   capture_output=True, text=True, check=True).stdout.strip())
    (own_site / "preinstalled.pth").write_text(f"{preinstalled}\n")
    return python, own_site


def torch_fingerprint() -> str:
    """A hash of torch's installed files list (RECORD): changes if pip reinstalls or upgrades torch."""
    from importlib.metadata import distribution

    return hashlib.sha256(distribution("torch").read_text("RECORD").encode()).hexdigest()


@pytest.mark.slow
def test_install_cell_installs_the_package_and_keeps_torch(tmp_path):
    if shutil.which("git") is None:
        pytest.skip("git is not installed (pip needs it for git+ URLs, as on Colab)")
    clone = local_repository(tmp_path / "repo")
    python, own_site = colab_like_env(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PIP_", "VIRTUAL_ENV"))}
    env.update(PIP_NO_INDEX="1", PIP_NO_BUILD_ISOLATION="0",  # (sic: "0" turns build isolation off)
               PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_CONFIG_FILE=os.devnull, HOME=str(tmp_path))

    def inspect() -> dict:
        proc = subprocess.run([str(python), "-c", INSPECT], capture_output=True, text=True, env=env, cwd=tmp_path)
        return json.loads(proc.stdout) if proc.returncode == 0 else {"error": proc.stderr.strip().splitlines()[-1]}

    before = inspect()
    assert "No module named 'rethinking_lib'" in before["error"], "the fresh environment must not see the package"
    torch_before = torch_fingerprint()
    cells = install_cells()
    assert cells, "no chapter has an install cell"
    runs = [*cells.items(), next(iter(cells.items()))]  # every distinct cell, then the first one again
    for source, chapters in runs:
        # file://localhost/...: older pips reject a PEP 508 URL with an empty host (git+file:///...)
        local = set_repo_url.INSTALL_RE.sub(f'rethinking_lib @ git+file://localhost{clone}"', source)
        assert local != source, f"{chapters}: no install URL to point at the local repository"
        cell = tmp_path / "cell.py"
        cell.write_text(local)
        proc = subprocess.run([str(python), "-c", RUN_CELL, str(cell)], capture_output=True, text=True, env=env,
                              cwd=tmp_path, timeout=600)
        assert proc.returncode == 0, f"{chapters}: install cell failed\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
        after = inspect()
        assert "error" not in after, after
        assert Path(after["lib"]).resolve().is_relative_to(own_site.resolve())  # installed into the fresh venv
        assert after["torch"] == torch_version() and Path(after["torch_file"]).resolve() == torch_file()
        assert torch_fingerprint() == torch_before
        assert not any("torch" in p.name.lower() for p in own_site.iterdir()), "pip installed a torch of its own"
    run_chapter_with_auto(python, clone, env, tmp_path)


def run_chapter_with_auto(python: Path, clone: Path, env: dict, tmp_path: Path) -> None:
    """Chapter ``AUTO_CHAPTER`` as a Colab reader runs it: every code cell in order, PROFILE left at "auto"."""
    nb = nbformat.read(REPO / "book" / f"{AUTO_CHAPTER}.ipynb", as_version=4)
    sources = [c.source for c in nb.cells if c.cell_type == "code"]
    params = next(c.source for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    assert 'PROFILE = "auto"' in params, f"{AUTO_CHAPTER}: the parameters cell should default to PROFILE = \"auto\""
    sources[0] = set_repo_url.INSTALL_RE.sub(f'rethinking_lib @ git+file://localhost{clone}"', sources[0])
    cells = tmp_path / "chapter.json"
    cells.write_text(json.dumps(sources))
    chapter_env = dict(env, RETHINKING_RESULTS=str(tmp_path / "results"), RETHINKING_PROGRESS="0", MPLBACKEND="Agg")
    chapter_env.pop("RETHINKING_SMOKE", None)
    proc = subprocess.run([str(python), "-c", RUN_CHAPTER, str(cells)], capture_output=True, text=True,
                          env=chapter_env, cwd=tmp_path, timeout=900)
    assert proc.returncode == 0, f"{AUTO_CHAPTER} failed with PROFILE='auto'\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    assert 'RESOLVED="quick"' in proc.stdout, proc.stdout[-2000:]  # no GPU here: auto is quick
    stored = [json.loads(p.read_text()) for p in (tmp_path / "results").glob("*.json")]
    assert stored and all(r["config"].get("profile") == "quick" for r in stored if "config" in r)


def torch_version() -> str:
    import torch

    return torch.__version__


def torch_file() -> Path:
    import torch

    return Path(torch.__file__).resolve()
