"""tools/mutation.py's module -> tests map is derived from the tests' imports, so it cannot go stale."""

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))

import mutation  # noqa: E402


def test_every_module_is_mutated_against_the_test_files_that_import_it():
    assert mutation.MODULES["ch01_pac"] == (["rethinking_lib/chapters/ch01_pac.py"],
                                            ["tests/test_chapter_pages.py", "tests/test_pac.py", "tests/test_provenance.py"])
    for name, (mutate, tests) in mutation.MODULES.items():
        assert all((REPO / f).is_file() for f in mutate + tests), name
        assert tests, name
    assert "test_mutation_map.py" not in str(mutation.MODULES)  # this file imports no package module


def test_a_module_is_found_by_its_stem_or_its_dotted_path(tmp_path):
    assert mutation.resolve("chapters.ch07_kernel") == mutation.resolve("ch07_kernel") == "ch07_kernel"
    with pytest.raises(KeyError):
        mutation.resolve("pac")  # a module name of before the layer folders
    # a stem two tested modules share is named by its dotted path
    for sub in ("a", "b"):
        (tmp_path / "rethinking_lib" / sub).mkdir(parents=True)
        (tmp_path / "rethinking_lib" / sub / "same.py").write_text("")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_x.py").write_text("from rethinking_lib.a import same\nimport rethinking_lib.b.same\n")
    (tmp_path / "tests" / "test_y.py").write_text("def f():\n    from rethinking_lib.b.same import g\n")
    assert mutation.modules(tmp_path) == {"a.same": (["rethinking_lib/a/same.py"], ["tests/test_x.py"]),
                                          "b.same": (["rethinking_lib/b/same.py"], ["tests/test_x.py", "tests/test_y.py"])}
