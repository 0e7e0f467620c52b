"""Sweeps: the book's grids (Figure 1b/1c's models x corruption levels, Table 1's rows, ...) as many
independent training runs, dispatched to this process, to several processes / GPUs, or to a cluster.

Every run is a JSON spec (``runs.py``) and lands in the one results store through ``runs.run_one``, so a
run already stored is skipped before anything is submitted, a sweep interrupted half-way resumes where it
stopped (each run also checkpoints every epoch), and the chapter notebooks later load the same records.

Executors
    serial          one run after another in this process
    local           worker processes on this machine: one per GPU when there are several (each sees
                    only its GPU), ``--per-gpu`` of them sharing one GPU (small nets leave a GPU mostly
                    idle, so two or three runs at once finish sooner), one on a CPU-only machine
    submitit-local  submitit's local executor: the same path as Slurm, on this machine (the tests use it)
    slurm           submitit on a Slurm cluster, one job per run, one GPU each; a preempted or timed-out
                    job is requeued and resumes from its checkpoint

    python -m rethinking_lib sweep fig1bc --profile paper --executor local
    python -m rethinking_lib sweep all --profile paper --executor slurm --partition gpu --timeout-min 240
"""

from __future__ import annotations

import os
import sys
import time
import warnings
from pathlib import Path

from .. import experiments
from ..config import profiles
from ..engine import runs
from ..store import results

EXECUTORS = ("serial", "local", "submitit-local", "slurm")


def experiment_specs(name: str, profile: str = "auto", *, seed: int = 0, **overrides) -> list[dict]:
    """The run specs of experiment ``name`` at ``profile``, exactly as its aggregation will look them up.

    The experiment declares them (``Experiment.specs``); one that does not is not a set of training runs.
    """
    exp = experiments.get(name)
    if exp.specs is None:
        raise ValueError(f"experiment {name!r} is not a set of training runs (it declares no run specs); "
                         f"run it with: python -m rethinking_lib run {name}")
    return exp.run_specs(profiles.resolve(profile), seed=seed, **overrides)


def all_specs(profile: str = "auto", *, seed: int = 0, names=None) -> tuple[list[dict], list[str]]:
    """``[{"experiment", "spec"}, ...]`` for every experiment with training runs, plus notes on the others."""
    found, notes = [], []
    for name in names or experiments.names():
        try:
            specs = experiment_specs(name, profile, seed=seed)
        except (ImportError, ValueError) as e:
            notes.append(f"{name}: {e}")
            continue
        found += [{"experiment": name, "spec": s} for s in specs]
    return found, notes


unique = runs.unique  # Figure 1a's runs are also Figure 1b's and Table 1's: one definition, in runs


def pending(specs: list[dict], out=None) -> list[dict]:
    """The specs the store does not have yet."""
    return [s for s in unique(specs) if not runs.stored(s, out)]


def run(specs: list[dict], *, executor: str = "serial", out=None, workers: int | None = None, per_gpu: int = 2,
        progress: bool | None = None, folder=None, slurm: dict | None = None, log=print) -> dict:
    """Run every spec not yet stored with ``executor``; returns counts, errors and the wall time.

    ``workers`` overrides the number of local processes; ``per_gpu`` is how many share one GPU. ``folder``
    holds submitit's logs (default ``<results>/submitit``); ``slurm`` passes extra parameters to submitit
    (e.g. ``{"slurm_partition": "gpu", "timeout_min": 240}``).
    """
    if executor not in EXECUTORS:
        raise ValueError(f"executor={executor!r} is unknown: choose one of {', '.join(EXECUTORS)}")
    out = str(results.results_dir(out).resolve())  # workers and cluster jobs may start elsewhere
    specs = [runs.spec(**s) for s in specs]
    todo = pending(specs, out)
    n_unique = len(unique(specs))
    log(f"{n_unique} runs, {n_unique - len(todo)} already stored, {len(todo)} to run ({executor})")
    t0 = time.perf_counter()
    errors: list[str] = []
    if todo:
        if executor == "serial":
            for s in todo:
                errors += _guarded(s, out, progress)
        elif executor == "local":
            errors = _run_processes(todo, out, workers, per_gpu, log)
        else:
            errors = _run_submitit(todo, out, "local" if executor == "submitit-local" else "slurm",
                                   folder or Path(out) / "submitit", slurm or {}, log)
    done = sum(runs.stored(s, out) for s in todo)
    return {"runs": n_unique, "skipped": n_unique - len(todo), "submitted": len(todo), "completed": done,
            "errors": errors, "seconds": time.perf_counter() - t0, "out": out}


def run_spec(s: dict, out: str, progress: bool | None = False) -> dict:
    """One run (resumable), as a worker process or cluster job executes it; returns a small summary."""
    rec = runs.run_one(s, out=out, checkpoint=True, progress=progress)
    r = rec["result"]
    return {"key": results.config_key("train", s), "train_acc": r["train_acc"], "test_acc": r["test_acc"],
            "epochs_to_100": r["epochs_to_100"], "cached": rec["cached"]}


def _guarded(s: dict, out: str, progress) -> list[str]:
    try:
        run_spec(s, out, progress)
        return []
    except Exception as e:  # one failed run must not sink the sweep; it is reported and can be rerun
        return [f"{runs.describe(s)}: {type(e).__name__}: {e}"]


# ----------------------------------------------------------------------------------------------
# local processes: one per GPU, or several sharing one


def _slots(workers: int | None, per_gpu: int) -> list[str | None]:
    """The CUDA_VISIBLE_DEVICES value of each worker (None: leave it alone, e.g. on a CPU)."""
    import torch

    n_gpus = torch.cuda.device_count()
    if n_gpus == 0:
        return [None] * (workers or 1)
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    ids = visible.split(",") if visible else [str(i) for i in range(n_gpus)]
    n = workers or (len(ids) if len(ids) > 1 else per_gpu)
    return [ids[i % len(ids)] for i in range(n)]


def _worker(tasks, done, device: str | None, out: str) -> None:
    if device is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = device  # before torch initialises CUDA in this process
    os.environ.setdefault("RETHINKING_PROGRESS", "0")
    while (s := tasks.get()) is not None:
        done.put(_guarded(s, out, False))


def _run_processes(todo: list[dict], out: str, workers: int | None, per_gpu: int, log) -> list[str]:
    import multiprocessing as mp

    slots = _slots(workers, per_gpu)
    ctx = mp.get_context("spawn")  # fork is unsafe once CUDA is initialised
    tasks, done = ctx.Queue(), ctx.Queue()
    for s in todo:
        tasks.put(s)
    for _ in slots:
        tasks.put(None)
    log(f"{len(slots)} worker processes" + (f" on GPUs {','.join(d for d in slots)}" if slots[0] is not None else ""))
    procs = [ctx.Process(target=_worker, args=(tasks, done, d, out), daemon=False) for d in slots]
    for p in procs:
        p.start()
    errors = []
    for i in range(len(todo)):
        errors += done.get()
        log(f"  {i + 1}/{len(todo)} finished")
    for p in procs:
        p.join()
    return errors


# ----------------------------------------------------------------------------------------------
# submitit: the same jobs on this machine or on a Slurm cluster


def _run_submitit(todo: list[dict], out: str, cluster: str, folder, params: dict, log) -> list[str]:
    try:
        import submitit
    except ImportError as e:
        raise RuntimeError("the submitit executors need submitit: pip install 'rethinking_lib[sweep]'") from e

    class Job(submitit.helpers.Checkpointable):
        """A run that, when Slurm preempts or times it out, is requeued and resumes from its checkpoint."""

        def __call__(self, s, out):
            return run_spec(s, out)

    ex = submitit.AutoExecutor(folder=str(folder), cluster=cluster)
    defaults = {"timeout_min": 24 * 60, "name": "rethinking"}
    if cluster == "slurm":
        defaults.update(gpus_per_node=1, cpus_per_task=4, slurm_additional_parameters={"requeue": True})
    ex.update_parameters(**{**defaults, **params})
    with ex.batch():
        jobs = [ex.submit(Job(), s, out) for s in todo]
    log(f"submitted {len(jobs)} jobs to submitit ({cluster}); logs in {folder}")
    errors = []
    for s, j in zip(todo, jobs, strict=True):
        try:
            j.result()
        except Exception as e:  # noqa: BLE001 - report every failed job, keep waiting for the others
            errors.append(f"{runs.describe(s)} (job {j.job_id}): {str(e).strip().splitlines()[-1][:300]}")
    return errors


# ----------------------------------------------------------------------------------------------
# CLI


def add_cli(sub) -> None:
    p = sub.add_parser("sweep", help="run an experiment's training runs as independent jobs (processes, GPUs, Slurm)")
    p.add_argument("experiments", nargs="+", metavar="EXPERIMENT",
                   help="experiments with training runs (fig1a, fig1bc, table1, fig2, ...) or 'all'")
    p.add_argument("--profile", default="auto", choices=list(profiles.PROFILES))
    p.add_argument("--executor", default="serial", choices=EXECUTORS)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=None, help="results folder (default $RETHINKING_RESULTS or ./results)")
    p.add_argument("--workers", type=int, default=None, help="local processes (default: one per GPU, or --per-gpu)")
    p.add_argument("--per-gpu", type=int, default=2, help="local processes sharing a single GPU (default 2)")
    p.add_argument("--partition", default=None, help="Slurm partition")
    p.add_argument("--timeout-min", type=int, default=None, help="per-job time limit for submitit (minutes)")
    p.add_argument("--dry-run", action="store_true", help="list the runs and which are stored; run nothing")
    p.set_defaults(handler=_cli)


def _cli(args) -> int:
    names = experiments.names() if args.experiments == ["all"] else args.experiments
    for n in names:
        if n not in experiments.names():
            raise ValueError(f"unknown experiment {n!r}: choose from {', '.join(experiments.names())} or 'all'")
    for flag, v in (("--workers", args.workers), ("--per-gpu", args.per_gpu)):
        if v is not None and v < 1:
            raise ValueError(f"{flag}={v} must be a positive integer")
    profile = profiles.resolve(args.profile)
    if profile in ("gpu", "paper") and not profiles.has_cuda() and args.executor != "slurm":
        warnings.warn(f"profile {profile!r} without a CUDA GPU: these runs will take many hours on the CPU "
                      "(use a GPU runtime, --executor slurm, or --profile quick)", stacklevel=1)
    found, notes = all_specs(profile, seed=args.seed, names=names)
    if args.experiments != ["all"] and notes:
        raise ValueError(notes[0])
    specs = [f["spec"] for f in found]
    if args.dry_run:
        for s in unique(specs):
            print(f"{'stored ' if runs.stored(s, args.out) else 'to run '} {runs.describe(s)} ({s['epochs']} epochs)")
        print(f"{len(pending(specs, args.out))} of {len(unique(specs))} runs to do")
        return 0
    slurm = {k: v for k, v in (("slurm_partition", args.partition), ("timeout_min", args.timeout_min)) if v is not None}
    summary = run(specs, executor=args.executor, out=args.out, workers=args.workers, per_gpu=args.per_gpu,
                  slurm=slurm)
    print(f"{summary['completed']} of {summary['submitted']} runs completed, {summary['skipped']} were already stored "
          f"({summary['seconds']:.0f} s); results in {summary['out']}")
    for e in summary["errors"]:
        print(f"  failed: {e}", file=sys.stderr)
    if summary["errors"]:
        return 1
    print("aggregate with: " + "; ".join(f"python -m rethinking_lib run {n} --profile {profile}" for n in names
                                         if any(f["experiment"] == n for f in found)))
    return 0
