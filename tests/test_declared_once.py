"""An experiment is declared once: its name is written (as a string literal) in at most two files of the package
and the tools; every list of experiments (the command line, the plan, the claims, the README) is derived."""

import ast
from pathlib import Path

from rethinking_lib import experiments

REPO = Path(__file__).resolve().parents[1]


def files_with_literal(names, roots=("rethinking_lib", "tools")) -> dict[str, list[str]]:
    """name -> the .py files under ``roots`` with a str constant equal to it (docstrings and f-string parts count)."""
    out = {n: [] for n in names}
    for root in roots:
        for f in sorted((REPO / root).rglob("*.py")):
            consts = {n.value for n in ast.walk(ast.parse(f.read_text())) if isinstance(n, ast.Constant)
                      and isinstance(n.value, str)}
            for n in out:
                if n in consts:
                    out[n].append(f.relative_to(REPO).as_posix())
    return out


def test_each_experiment_name_is_written_in_at_most_two_files():
    found = files_with_literal(experiments.names())
    too_many = {n: fs for n, fs in found.items() if len(fs) > 2}
    assert not too_many, too_many
    # its declaration is one of them: the chapter module that declares it
    for name, fs in found.items():
        assert any(f.startswith("rethinking_lib/chapters/") for f in fs), name


def test_the_count_sees_literals_not_names(tmp_path, monkeypatch):
    (tmp_path / "rethinking_lib").mkdir()
    (tmp_path / "rethinking_lib" / "a.py").write_text('x = {"fig1a": 1}\ny = f"{x}fig1a"\n')
    (tmp_path / "rethinking_lib" / "b.py").write_text('fig1a = 1\n"""fig1a"""\n')
    (tmp_path / "tools").mkdir()
    monkeypatch.setitem(globals(), "REPO", tmp_path)
    assert files_with_literal(["fig1a"]) == {"fig1a": ["rethinking_lib/a.py", "rethinking_lib/b.py"]}
