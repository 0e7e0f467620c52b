"""Say the cost before paying it: per chapter, the runs it trains, which are stored, and the estimated time.

``CHAPTERS`` is the one map from a chapter to the experiments it runs. ``chapter_plan(profile)`` lists, for
each chapter, every training run its experiments declare (``Experiment.specs``) with whether the results store
has it and an estimate in seconds; an experiment that declares no runs is one entry for its own record,
estimated from its cost model (``costs``: its work as training images, dense linear algebra and timed slices
of its own code).

Estimates come from a few measured steps on *this* device: each distinct (model, width, input shape,
batch size, precision) is timed for 3 training steps and one evaluation pass after an untimed warm-up, once per
process, and a run costs ``epochs x (n_train / train rate + (n_train + n_test) / eval rate)``; dense linear
algebra is timed by one 512 x 512 operation per kind and dtype (``costs.dense_rate``). A GPU profile (``gpu``,
``paper``) asked on a CPU cannot be measured here: the estimate then comes from ``CALIBRATION``, which says
where its figures come from, and the plan says so. Host work (numpy loops, SVDs on the CPU) is measured here
in every profile: a Colab runtime's host has 2 vCPUs, like the machine this was sized on.

    python -m rethinking_lib plan --profile gpu [--json] [--out DIR]
    >>> from rethinking_lib import plan
    >>> plan.show("quick", "04_randomization_tests")     # the chapter's own plan, as markdown
"""

from __future__ import annotations

import time

from .. import experiments
from ..config import profiles
from ..engine import runs
from ..store import results
from . import costs

CHAPTERS = {
    "01_pac_learning": ["pac"],
    "02_rademacher": ["rademacher"],
    "03_stability": ["stability"],
    "04_randomization_tests": ["fig1a", "fig1bc", "memorization"],
    "05_regularization": ["table1", "fig2", "table2"],
    "06_expressivity": ["theorem1"],
    "07_implicit_regularization": ["kernel", "minnorm", "double_descent"],
    "08_beyond": ["bounds"],
}

# Training images/s at batch 128 on 28x28x3 crops, full width, when the target GPU is not this machine.
# "h100": measured by the benchmark (python -m rethinking_lib bench) on an H100, bf16, CUDA graph,
# channels-last, 2026-11-27 (the book's page "Reproducing at paper scale"). "t4": NOT measured: the H100
# figures divided by 8 (a T4 has ~1/15 of an H100's fp16 tensor throughput; these small nets are launch-
# bound, and fp16 steps run eagerly there), so treat it as a rough guide. Evaluation is taken as 3x faster.
H100_RATES = {"inception_small": 31_119, "inception_small_nobn": 51_700, "alexnet_small": 117_230,
              "mlp_1x512": 1_181_874, "mlp_3x512": 730_818}
# Dense linear algebra on the target GPU (flop/s), NOT measured: half of the datasheet peak. H100 SXM: 67
# TFLOP/s fp32 and 67 fp64 (tensor cores); T4: 8.1 TFLOP/s fp32 and 1/32 of that in fp64. "memory": the GPU's
# memory in bytes (the kernel experiment stores K in float64 only while it fits).
CALIBRATION = {
    "paper": {"device": "an H100 (benchmark, 2026-11-27)", "rates": H100_RATES,
              "dense": {"float32": 33.5e12, "float64": 33.5e12}, "memory": 80e9},
    "gpu": {"device": "a T4 (assumed: H100 benchmark / 8, not measured)",
            "rates": {m: r / 8 for m, r in H100_RATES.items()},
            "dense": {"float32": 4.05e12, "float64": 8.1e12 / 32 / 2}, "memory": 15e9},
}
EVAL_SPEEDUP = 3.0
_RATES: dict[tuple, tuple[float, float]] = {}  # measured (train, eval) images/s, per process


def measured_rates(s: dict, device=None, steps: int = 3) -> tuple[float, float]:
    """(train, eval) images/s of run ``s``'s model on ``device``, from ``steps`` timed steps (cached)."""
    import torch

    from ..engine import devices, models, train

    device = devices.resolve(device or s.get("device", "auto"))
    c, side = runs.input_shape(s)
    prec = train.resolve_precision(s["precision"], device)
    key = (s["model"], s["width"], c, side, s["batch_size"], prec, str(device))
    if key not in _RATES:
        torch.manual_seed(0)
        model = models.build(s["model"], in_channels=c, image_size=side, width=s["width"])
        eng = train.setup(model, train.TrainConfig(lr=0.01, batch_size=s["batch_size"], precision=prec), device)
        x = torch.randn(s["batch_size"], c, side, side, device=device).contiguous(memory_format=eng.memory_format)
        y = torch.randint(0, 10, (s["batch_size"],), device=device)
        xe, ye = x.repeat(4, 1, 1, 1), y.repeat(4)
        # Warm-up, not timed: allocations, cuDNN autotuning and CUDA-graph capture take the first few steps and
        # the first evaluation (timing them made a GPU estimate ~60x too long).
        for _ in range(3):
            eng.step(x, y)
        train.accuracy(eng.model, xe, ye, eng.amp_dtype, memory_format=eng.memory_format)
        devices.sync(device)
        t0 = time.perf_counter()
        for _ in range(steps):
            eng.step(x, y)
        devices.sync(device)
        train_rate = steps * len(y) / (time.perf_counter() - t0)
        t0 = time.perf_counter()
        train.accuracy(eng.model, xe, ye, eng.amp_dtype, memory_format=eng.memory_format)
        devices.sync(device)
        eval_rate = len(xe) / (time.perf_counter() - t0)
        _RATES[key] = (train_rate, eval_rate)
    return _RATES[key]


def calibrated_rates(s: dict, profile: str) -> tuple[float, float]:
    """(train, eval) images/s from ``CALIBRATION[profile]``, scaled by pixels and width from 28x28x3, width 1."""
    c, side = runs.input_shape(s)
    r = CALIBRATION[profile]["rates"][s["model"]] * (3 * 28 * 28) / (c * side * side) / max(s["width"], 1e-3)
    return r, r * EVAL_SPEEDUP


def estimate_seconds(s: dict, rates: tuple[float, float]) -> float:
    """``epochs x (one training epoch + one accuracy pass over train and test)`` at ``rates``."""
    n_train = runs.train_size(s) or 50_000
    n_test = s["n_test"] or runs.DATA_SIZES.get(s["dataset"], (0, 10_000))[1]
    train_rate, eval_rate = rates
    return s["epochs"] * (n_train / train_rate + (n_train + n_test) / eval_rate)


def item_seconds(item: dict, profile: str, measured: bool) -> float:
    """Seconds of one cost-model item (``costs``): measured rates here, or the calibration of ``profile``."""
    if item["kind"] == "slice":
        return item["seconds"]
    if item["kind"] == "train":
        s = item["spec"]
        train_rate, eval_rate = measured_rates(s) if measured else calibrated_rates(s, profile)
        return item["train_images"] / train_rate + item["eval_images"] / eval_rate
    if item["on"] == "device" and not measured:
        return item["flops"] / CALIBRATION[profile]["dense"][item["dtype"]]
    return item["flops"] / costs.dense_rate(item["op"], item["dtype"], item["on"])


def cost_estimate(name: str, profile: str, measured: bool, **overrides) -> tuple[float, list[dict]]:
    """(seconds, items with their seconds) of experiment ``name``'s own computation at ``profile``."""
    p = profiles.resolve(profile)
    memory = None if measured else CALIBRATION[p]["memory"]
    its = costs.items(name, experiments.get(name).config(p, **overrides), memory)
    rows = [{"what": it["what"], "kind": it["kind"], "est_s": item_seconds(it, p, measured),
             "upper_bound": it.get("upper_bound", False)} for it in its]
    return sum(r["est_s"] for r in rows), rows


def where(profile: str) -> dict:
    """How estimates for ``profile`` are made here: measured on this device, or from the calibration."""
    from ..engine import devices

    p = profiles.resolve(profile)
    if p in CALIBRATION and not profiles.has_cuda():
        return {"measured": False, "device": CALIBRATION[p]["device"],
                "note": f"estimates need the target device (a GPU); this is a {devices.name()}: shown are "
                        f"estimates for {CALIBRATION[p]['device']} (plan.CALIBRATION; host-CPU work measured "
                        f"here)"}
    return {"measured": True, "device": devices.name(), "note": f"estimated from 3 measured steps per model and "
                                                                 f"timed slices of the other work on this device "
                                                                 f"({devices.name()})"}


def _stored_record(name: str, exp, p: str, out) -> bool:
    return results.servable(name, dict(exp.config(p), profile=p, seed=0), out)


def _stored_run(s: dict, out) -> bool:
    return runs.stored(s, out)


def chapter_plan(profile: str, *, out=None, chapters=None) -> list[dict]:
    """One dict per chapter: ``{"chapter", "experiments", "runs": [{"experiment", "desc", "stored", "est_s"}],
    "est_s_total", "missing"}``. Every row has an estimate (``est_s``, seconds); stored runs cost 0."""
    p = profiles.resolve(profile)
    how = where(p)
    plans = []
    for chapter in chapters or CHAPTERS:
        if chapter not in CHAPTERS:
            raise ValueError(f"unknown chapter {chapter!r}: choose one of {', '.join(CHAPTERS)}")
        rows, seen = [], set()
        for name in CHAPTERS[chapter]:
            exp = experiments.get(name)
            specs = exp.run_specs(p) if exp.specs is not None else []
            if not specs:
                stored = _stored_record(name, exp, p, out)
                est, parts = (0.0, []) if stored else cost_estimate(name, p, how["measured"])
                rows.append({"experiment": name, "desc": f"{name} (its own computation, {len(parts)} parts)"
                             if parts or stored else f"{name} (nothing to compute)",
                             "stored": stored, "est_s": est, "training_run": False, "parts": parts,
                             "upper_bound": any(x["upper_bound"] for x in parts)})
                continue
            for s in specs:
                k = runs.key(s)
                if k in seen:
                    continue
                seen.add(k)
                stored = _stored_run(s, out)
                if stored:
                    est = 0.0
                else:
                    rates = measured_rates(s) if how["measured"] else calibrated_rates(s, p)
                    est = estimate_seconds(s, rates)
                rows.append({"experiment": name, "desc": f"{runs.describe(s)}, {s['epochs']} epochs",
                             "stored": stored, "est_s": est, "training_run": True,
                             "upper_bound": bool(s["stop_at_100"]) and not stored})
        known = [r["est_s"] for r in rows if r["est_s"] is not None]
        bound = any(r["upper_bound"] for r in rows)
        plans.append({"chapter": chapter, "experiments": list(CHAPTERS[chapter]), "profile": p, "runs": rows,
                      "est_s_total": sum(known) if known else None, "upper_bound": bound,
                      "missing": sum(not r["stored"] for r in rows), "estimated_on": how})
    return plans


def _value(v) -> str:
    if v is None:
        return "all"
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_value(x) for x in v[:6]) + (", ..." if len(v) > 6 else "") + "]"
    if isinstance(v, dict):
        return "(" + ", ".join(f"{k} {_value(x)}" for k, x in v.items()) + ")"
    return str(v)


def changes(name: str, profile: str) -> str:
    """What ``profile`` changes in experiment ``name``'s paper config, e.g. ``n_train all -> 4,000`` ('' for
    none). Per-model training settings are collapsed: one entry per setting, the new values across models."""
    exp = experiments.get(name)
    p = profiles.resolve(profile)
    try:
        ref, cfg = exp.base("paper"), exp.base(p)
    except ValueError:
        return ""
    out = []
    for k, v in cfg.items():
        old = ref.get(k)
        if k == "model_settings" and isinstance(v, dict):
            per: dict[str, set] = {}
            for m, ms in v.items():
                for kk, vv in ms.items():
                    if old.get(m, {}).get(kk) != vv:
                        per.setdefault(kk, set()).add(_value(vv))
            out += [f"{kk} {' / '.join(sorted(vals))} (per model)" for kk, vals in per.items()]
        elif isinstance(v, dict) and isinstance(old, dict):
            out += [f"{k}.{kk} {_value(old.get(kk))} -> {_value(vv)}" for kk, vv in v.items() if old.get(kk) != vv]
        elif v != old:
            out.append(f"{k} {_value(old)} -> {_value(v)}")
    return "; ".join(out)


def minutes(s: float | None, upper_bound: bool = False) -> str:
    """``s`` seconds as text; ``upper_bound``: "at most ..." (runs that stop at 100% training accuracy are
    counted at their full epoch budget)."""
    if s is None:
        return "not estimated"
    return ("at most " if upper_bound and s > 0 else "") + (f"{s / 60:.1f} min" if s >= 60 else f"{s:.0f} s")


def summary_markdown(cp: dict) -> str:
    """A chapter's plan as a few lines of markdown (the top of a chapter, before any training)."""
    todo = [r for r in cp["runs"] if not r["stored"]]
    head = (f"**Plan ({cp['profile']} profile):** {len(cp['runs'])} runs, {len(cp['runs']) - len(todo)} already in "
            f"the results store, {len(todo)} to compute; estimated time {minutes(cp['est_s_total'], cp['upper_bound'])} "
            f"({cp['estimated_on']['note']}).")
    p = cp["profile"]
    if p != "paper":
        changed = [f"`{name}`: {c}" for name in cp["experiments"] if (c := changes(name, p))]
        head += (f"\n\n**What the {p} profile changes from the paper's settings** (why: the appendix \"The paper's "
                 f"setup and our choices\"): " + (". ".join(changed) if changed else "nothing") + ".")
    if not todo:
        return head
    lines = [f"- {r['desc']}: {minutes(r['est_s'], r['upper_bound'])}" for r in todo[:12]]
    if len(todo) > 12:
        lines.append(f"- ... and {len(todo) - 12} more")
    return head + "\n\n" + "\n".join(lines)


def show(profile: str, chapter: str, *, out=None) -> dict:
    """Display ``chapter``'s plan in a notebook (markdown); returns it."""
    from ..pages import notebook

    (cp,) = chapter_plan(profile, out=out, chapters=[chapter])
    notebook.markdown(summary_markdown(cp))
    return cp


def add_cli(sub) -> None:
    p = sub.add_parser("plan", help="per chapter: the runs, which are stored, and the estimated time here")
    p.add_argument("--profile", default="auto", choices=list(profiles.PROFILES))
    p.add_argument("--json", action="store_true", help="print one JSON list (one object per chapter)")
    p.add_argument("--out", default=None, help="results folder (default $RETHINKING_RESULTS or ./results)")
    p.set_defaults(handler=_cli)


def _cli(args) -> int:
    import json

    plans = chapter_plan(args.profile, out=args.out)
    if args.json:
        print(json.dumps(results.to_jsonable(plans)))
        return 0
    print(plans[0]["estimated_on"]["note"] if plans else "")
    for cp in plans:
        total = minutes(cp["est_s_total"], cp["upper_bound"])
        print(f"{cp['chapter']}: {len(cp['runs'])} runs, {cp['missing']} to compute, {total}")
        for r in cp["runs"]:
            what = "stored " if r["stored"] else "to run "
            print(f"  {what} {r['experiment']:10s} {r['desc']:60s} {minutes(r['est_s'], r['upper_bound'])}")
    return 0
