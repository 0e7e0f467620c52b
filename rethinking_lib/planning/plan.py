"""Say the cost before paying it: per chapter, the runs it trains, which are stored, and the estimated time.

The chapters and their experiments come from the declarations (``experiments.chapters()``: each chapter
module's ``CHAPTER`` and ``EXPERIMENTS``). ``chapter_plan(profile)`` lists, for each chapter, every training run
its experiments declare (``Experiment.specs``) with whether the results store has it and an estimate in
seconds; an experiment that computes more than declared runs is one entry for its own record, estimated from
the cost model it declares (``Experiment.cost``: its work as training images, dense linear algebra and timed
slices of its own code). How the seconds are estimated (measured here, or a calibration for a GPU that is not
here): ``estimate``.

    python -m rethinking_lib plan --profile gpu [--json] [--out DIR]
    >>> from rethinking_lib.planning import plan
    >>> plan.show("quick", "04_randomization_tests")     # the chapter's own plan, as markdown
"""

from __future__ import annotations

from .. import experiments
from ..config import profiles
from ..engine import runs
from ..store import results
from .estimate import calibrated_rates, cost_estimate, estimate_seconds, measured_rates, where


def _stored_record(name: str, exp, p: str, out) -> bool:
    return results.servable(name, dict(exp.config(p), profile=p, seed=0), out)


def _stored_run(s: dict, out) -> bool:
    return runs.stored(s, out)


def chapter_plan(profile: str, *, out=None, chapters=None) -> list[dict]:
    """One dict per chapter: ``{"chapter", "experiments", "runs": [{"experiment", "desc", "stored", "est_s"}],
    "est_s_total", "missing"}``. Every row has an estimate (``est_s``, seconds); stored runs cost 0."""
    p = profiles.resolve(profile)
    how = where(p)
    book = experiments.chapters()
    plans = []
    for chapter in chapters or book:
        if chapter not in book:
            raise ValueError(f"unknown chapter {chapter!r}: choose one of {', '.join(book)}")
        rows, seen = [], set()
        for name in book[chapter]:
            exp = experiments.get(name)
            specs = exp.run_specs(p, lookup=lambda s: runs.stored_result(s, out)) if exp.specs is not None else []
            if not specs:
                stored = _stored_record(name, exp, p, out)
                computes = exp.cost is not None and not stored
                est, parts = cost_estimate(name, p, how["measured"]) if computes else (0.0, [])
                rows.append({"experiment": name, "desc": f"{name} (its own computation, {len(parts)} parts)"
                             if parts or stored else f"{name} (nothing to compute)",
                             "stored": stored, "est_s": est, "training_run": False, "parts": parts,
                             "upper_bound": any(x["upper_bound"] for x in parts)})
                continue
            # The experiment's own record stored: it loads without training any of its runs (some of which it
            # may never have trained, e.g. Table 1's no-BN rows at the paper's lr when the fallback replaced them).
            whole = _stored_record(name, exp, p, out)
            for s in specs:
                k = runs.key(s)
                if k in seen:
                    continue
                seen.add(k)
                stored = whole or _stored_run(s, out)
                if stored:
                    est = 0.0
                else:
                    rates = measured_rates(s) if how["measured"] else calibrated_rates(s, p)
                    est = estimate_seconds(s, rates)
                rows.append({"experiment": name, "desc": f"{runs.describe(s)}, {s['epochs']} epochs", "key": k,
                             "stored": stored, "est_s": est, "training_run": True,
                             "upper_bound": bool(s["stop_at_100"]) and not stored})
        known = [r["est_s"] for r in rows if r["est_s"] is not None]
        bound = any(r["upper_bound"] for r in rows)
        plans.append({"chapter": chapter, "experiments": list(book[chapter]), "profile": p, "runs": rows,
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
    p.add_argument("--smoke", action="store_true", help="the smoke scale's runs (config/smoke.py)")
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
