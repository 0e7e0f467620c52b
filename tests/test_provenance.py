"""Provenance: which package modules a run's code imports (read with ``ast``), their source hash, the code version
a record carries, and the one line that names it."""

import functools
import textwrap

import pytest

from rethinking_lib import experiments
from rethinking_lib.store import provenance

PKG = "rethinking_lib"


@pytest.fixture
def fake_package(tmp_path, monkeypatch):
    """Write a made-up package tree and point the resolver at it; the hash caches are emptied before and after
    (they are keyed by module names, which the made-up tree shares with the real one)."""
    def write(files: dict[str, str]):
        for name, text in files.items():
            (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / name).write_text(textwrap.dedent(text))
        return tmp_path

    monkeypatch.setattr(provenance, "PACKAGE_DIR", tmp_path)
    provenance.imported_modules.cache_clear()
    provenance.source_closure.cache_clear()
    provenance.source_hash.cache_clear()
    yield write
    provenance.imported_modules.cache_clear()
    provenance.source_closure.cache_clear()
    provenance.source_hash.cache_clear()


def test_code_roots_follow_the_experiment_a_lambda_closes_over():
    exp = experiments.get("fig1bc")
    fn = (lambda e: lambda: e.fn)(exp)  # like experiments.run: a lambda closing over the Experiment
    roots = provenance.code_roots(fn)
    assert roots == ("rethinking_lib.chapters.ch04_randomization",)
    closure = provenance.source_closure(roots)
    # randomization imports runs, which imports train: the hash covers the trainer, not only the chapter module
    assert {"rethinking_lib.engine.runs", "rethinking_lib.engine.train", "rethinking_lib.engine.models"} <= set(closure)
    assert "rethinking_lib.figures" not in closure and "rethinking_lib.chapters.ch07_kernel" not in closure


def test_imported_modules_reads_every_import_form_of_a_module():
    # provenance.py imports the package only inside functions: `from .. import __version__` (the package itself)
    # and `from ..engine import devices` (a package two levels up and a module in it); numpy, torch, ast are not
    # package modules, and a module never lists itself
    assert provenance.imported_modules(f"{PKG}.store.provenance") == {PKG, f"{PKG}.engine", f"{PKG}.engine.devices"}
    assert provenance.imported_modules(f"{PKG}.store.results") == {f"{PKG}.store", f"{PKG}.store.provenance"}
    assert provenance.imported_modules("numpy") == set() and provenance.imported_modules(f"{PKG}.no_such_module") == set()
    # the closure from a module without package imports is that module and the package's __init__
    assert provenance.source_closure((f"{PKG}.paper",)) == (PKG, f"{PKG}.paper")
    # a lazy import two folders away is followed: the store's hash covers the device helper its provenance calls
    assert f"{PKG}.engine.devices" in provenance.source_closure((f"{PKG}.store.results",))


def test_imported_modules_resolves_relative_imports_in_packages_and_subpackages(fake_package):
    # which files a run's source hash covers depends on this resolver, so a relative import resolved one level off
    # would let stale runs through
    fake_package({
        "__init__.py": "from . import a\n",
        "a.py": "", "b.py": "", "c.py": "", "d.py": "", "e.py": "", "f.py": "", "g.py": "",
        "sub/__init__.py": "from .inner import thing\n",
        "sub/inner.py": "",
        "sub/leaf.py": """
            import importlib
            from importlib import import_module

            import rethinking_lib.c
            from rethinking_lib import d
            from .. import a
            from ..b import something
            from . import inner


            def later():
                importlib.import_module("rethinking_lib.e")
                import_module("rethinking_lib.f")
                print("rethinking_lib.g")  # a string naming a module is not an import
        """,
    })
    assert provenance.imported_modules(PKG) == {f"{PKG}.a"}  # the package's own __init__: "." is the package
    assert provenance.imported_modules(f"{PKG}.sub") == {f"{PKG}.sub.inner"}  # a subpackage's "." is itself
    assert provenance.imported_modules(f"{PKG}.sub.leaf") == {PKG} | {f"{PKG}.{m}" for m in (
        "a", "b", "c", "d", "e", "f", "sub", "sub.inner")}


def test_a_module_in_a_layer_folder_hashes_the_engine_modules_it_reaches(fake_package):
    # the package's shape: chapters/ imports `from ..engine import data`, data imports a sibling, and the store
    # inside a function; the hash of a run rooted in the chapter module covers all of them, and changes with each
    root = fake_package({
        "__init__.py": "",
        "paper.py": "",
        "engine/__init__.py": "",
        "engine/data.py": "from . import devices\n",
        "engine/devices.py": "",
        "store/__init__.py": "",
        "store/results.py": "",
        "figures/__init__.py": "",
        "figures/ch01_x.py": "from ..chapters import ch01_x\n",
        "chapters/__init__.py": "",
        "chapters/ch01_x.py": """
            from .. import paper
            from ..engine import data


            def run():
                from ..store.results import load_or_run
        """,
    })
    chapter = f"{PKG}.chapters.ch01_x"
    assert provenance.imported_modules(chapter) == {f"{PKG}.{m}" for m in (
        "paper", "engine", "engine.data", "store.results")} | {PKG}
    closure = provenance.source_closure((chapter,))
    assert closure == tuple(sorted({PKG, chapter} | {f"{PKG}.{m}" for m in (
        "paper", "engine", "engine.data", "engine.devices", "store.results")}))  # not the figure module above it
    before = provenance.source_hash((chapter,))
    for changed in ("engine/devices.py", "store/results.py", "engine/__init__.py", "figures/ch01_x.py"):
        (root / changed).write_text((root / changed).read_text() + "\nCHANGED = True\n")
        provenance.source_hash.cache_clear()
        after = provenance.source_hash((chapter,))
        assert (after != before) == (changed != "figures/ch01_x.py"), changed  # a module outside the closure: same
        before = after


def test_describe_code_names_version_commit_and_source():
    code = {"rethinking_lib": "0.3.0", "commit": "0123456789abcdef0123", "dirty": True, "source_hash": "feedbeef"}
    assert provenance.describe_code({"provenance": {"code": code}}) == \
        "rethinking_lib 0.3.0, commit 0123456789ab, dirty, source feedbeef"
    clean = dict(code, dirty=False)
    del clean["source_hash"]
    assert provenance.describe_code({"provenance": {"code": clean}}) == "rethinking_lib 0.3.0, commit 0123456789ab"
    assert provenance.describe_code({"provenance": {"rethinking_lib": "0.1.0"}}) == \
        "rethinking_lib 0.1.0, code not recorded"
    assert provenance.describe_code({}) == "rethinking_lib (unknown version), code not recorded"


def test_is_current_compares_the_hash_of_the_recorded_roots():
    roots = ["rethinking_lib.engine.corrupt"]
    record = {"provenance": {"code": provenance.code_version(roots)}}
    assert provenance.is_current(record)
    assert record["provenance"]["code"]["source_hash"] != provenance.source_hash(())  # the roots matter
    assert not provenance.is_current({"provenance": {"code": dict(record["provenance"]["code"], roots=[])}})
    assert not provenance.is_current({"provenance": {"code": {"roots": roots}}})  # no hash: other code
    assert not provenance.is_current({})


def test_provenance_lists_the_environment():
    import platform

    import torch

    prov = provenance.provenance(1.5, roots=["rethinking_lib.engine.corrupt"])
    assert set(prov) == {"rethinking_lib", "torch", "numpy", "python", "platform", "device", "cuda", "date",
                         "wall_time", "code"}
    assert prov["python"] == platform.python_version() and prov["platform"] == platform.platform()
    assert prov["torch"] == torch.__version__ and prov["wall_time"] == 1.5
    assert prov["cuda"] == (torch.version.cuda if torch.cuda.is_available() else None)
    assert prov["date"].endswith("+00:00")  # UTC, so dates from Colab and from CI compare
    assert prov["code"]["roots"] == ["rethinking_lib.engine.corrupt"]


def test_code_roots_follow_partials_and_closures_and_stop_on_cycles():
    from rethinking_lib.chapters import ch01_pac as pac
    from rethinking_lib.engine import corrupt

    def recursive():  # a closure that holds itself: the walk must end
        return recursive

    assert provenance.code_roots(recursive) == ()
    assert provenance.code_roots(functools.partial(corrupt.apply)) == ("rethinking_lib.engine.corrupt",)
    both_roots = ("rethinking_lib.chapters.ch01_pac", "rethinking_lib.engine.corrupt")  # sorted, whatever the order
    a_fn, b_none, c_partial = pac.run, None, functools.partial(corrupt.apply)
    both = lambda: (a_fn, b_none, c_partial)  # noqa: E731
    assert provenance.code_roots(both) == both_roots
    z_fn, y_none, x_partial = pac.run, None, functools.partial(corrupt.apply)
    reverse = lambda: (z_fn, y_none, x_partial)  # noqa: E731
    assert provenance.code_roots(reverse) == both_roots

    class Holder:  # a class's ``fn`` attribute is not the code of a run (an instance's is: Experiment.fn)
        fn = pac.run

    assert provenance.code_roots(Holder) == ()
    assert provenance.code_roots(Holder()) == ("rethinking_lib.chapters.ch01_pac",)
