"""Two processes that need the same run at once compute it once (the book build executes chapters in parallel)."""

import multiprocessing
import time

from rethinking_lib.store import results


def _compute(log: str) -> dict:
    with open(log, "a") as f:
        f.write("computed\n")
    time.sleep(0.5)  # long enough that the second process asks while the first computes
    return {"value": 42}


def _worker(out: str, log: str, q) -> None:
    rec = results.load_or_run("shared_run", {"n": 1}, lambda: _compute(log), out=out, code=["results"])
    q.put((rec["result"]["value"], rec["cached"]))


def test_concurrent_processes_compute_a_shared_run_once(tmp_path):
    ctx = multiprocessing.get_context("fork")
    q = ctx.Queue()
    log = str(tmp_path / "log.txt")
    procs = [ctx.Process(target=_worker, args=(str(tmp_path / "store"), log, q)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
    got = sorted(q.get(timeout=5) for _ in procs)
    assert open(log).read().splitlines() == ["computed"]  # once, not twice
    assert got == [(42, False), (42, True)]  # the second process loaded what the first stored


def test_lock_is_released_after_a_failed_run(tmp_path):
    def boom():
        raise RuntimeError("training failed")

    try:
        results.load_or_run("failing_run", {"n": 1}, boom, out=tmp_path, code=["results"])
    except RuntimeError:
        pass
    rec = results.load_or_run("failing_run", {"n": 1}, lambda: {"value": 1}, out=tmp_path, code=["results"])
    assert rec["result"] == {"value": 1} and not rec["cached"]
