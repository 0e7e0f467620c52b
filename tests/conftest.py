"""Shared test setup: offline, CPU, quiet; a results store per test session unless CI shares one."""

import os

import pytest

os.environ.setdefault("RETHINKING_PROGRESS", "0")


@pytest.fixture(scope="session")
def results_dir(tmp_path_factory):
    """The results store the phenomenon tests use.

    ``$RETHINKING_RESULTS`` if set (CI points it at the book build's store, so runs the chapters already
    trained are loaded, not repeated: the assertions still check real stored runs); else a fresh folder.
    """
    path = os.environ.get("RETHINKING_RESULTS") or str(tmp_path_factory.mktemp("results"))
    os.environ["RETHINKING_RESULTS"] = path
    return path
