"""Shared test setup: offline, CPU, quiet; a results store per test session unless CI shares one."""

import os

import pytest

os.environ.setdefault("RETHINKING_PROGRESS", "0")
if "PYTEST_XDIST_WORKER_COUNT" in os.environ:  # `pytest -n N`: split the cores between the workers (no oversubscription)
    os.environ.setdefault("OMP_NUM_THREADS",
                          str(max(1, (os.cpu_count() or 1) // int(os.environ["PYTEST_XDIST_WORKER_COUNT"]))))


@pytest.fixture(scope="session")
def results_dir(tmp_path_factory):
    """The results store the phenomenon tests use.

    ``$RETHINKING_RESULTS`` if set (CI points it at the book build's store, so runs the chapters already
    trained are loaded, not repeated: the assertions still check real stored runs); else a fresh folder, one
    for the whole session: with ``pytest -n N`` the workers share it, and a run two workers need at once is
    trained once (``results.run_lock``).
    """
    path = os.environ.get("RETHINKING_RESULTS")
    if not path:
        shared = tmp_path_factory.getbasetemp()
        if "PYTEST_XDIST_WORKER" in os.environ:
            shared = shared.parent  # the session's folder, above each worker's own
        path = str(shared / "results")
        os.makedirs(path, exist_ok=True)
    os.environ["RETHINKING_RESULTS"] = path
    return path
