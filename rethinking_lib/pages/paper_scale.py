"""The numbers of the page "Reproducing at paper scale", generated from the declarations and ``plan``'s estimates.

``book/paper_scale.md`` keeps the prose and includes ``book/paper_scale_plan.md``, which the book's build writes
from ``plan_markdown()`` (``python -m rethinking_lib paper-scale-plan``; ``tools/book_toc.py``'s ``GENERATED``):
how many training runs each experiment declares at the paper profile, how many of them no experiment above it
already needs, their epochs, and the time ``planning.estimate`` gives them on an H100 (its ``CALIBRATION``:
measured images/s of each model on an H100). Nothing here is typed by hand, so the page cannot drift from the
configs again.
"""

from __future__ import annotations

from .. import experiments
from ..config import settings
from ..engine import runs
from ..planning import estimate

PROFILE = "paper"


def _estimate(s: dict) -> float:
    return estimate.estimate_seconds(s, estimate.calibrated_rates(s, PROFILE))


def plan_rows(profile: str = PROFILE) -> list[dict]:
    """One row per experiment with declared training runs at ``profile``, in the book's order: its chapter, its
    runs, the new ones (not declared by an experiment above it; the store trains each run once), their epochs and
    the estimated seconds of the new runs on an H100 (``estimate.CALIBRATION``)."""
    chapter_of = {n: c for c, names in experiments.chapters().items() for n in names}
    seen, rows = set(), []
    for name in experiments.names():
        specs = runs.unique(experiments.get(name).run_specs(profile))
        if not specs:
            continue
        new = [s for s in specs if runs.key(s) not in seen]
        seen |= {runs.key(s) for s in specs}
        rows.append({"experiment": name, "chapter": chapter_of[name], "runs": len(specs), "new": len(new),
                     "epochs": sorted({s["epochs"] for s in specs}), "est_new_s": sum(_estimate(s) for s in new),
                     "stop_at_100": any(s["stop_at_100"] for s in specs)})
    return rows


def per_model_seconds(profile: str = PROFILE) -> dict[str, float]:
    """The estimated seconds of one run of each model (no augmentation) at ``profile`` on an H100."""
    cfg = experiments.get("table1").config(profile)
    from ..chapters import ch05_regularization as reg

    return {m: _estimate(runs.spec(**reg.row_spec(cfg, m, False, False, "true"))) for m in settings.MODELS}


def _duration(s: float) -> str:
    return f"{s / 3600:.1f} hours" if s >= 5400 else f"{s / 60:.0f} min" if s >= 90 else f"{s:.0f} s"


def plan_markdown(profile: str = PROFILE) -> str:
    """The page's generated part: the totals, a table per experiment, and the cost of one run per model."""
    rows = plan_rows(profile)
    total_new = sum(r["new"] for r in rows)
    total_s = sum(r["est_new_s"] for r in rows)
    stops = any(r["stop_at_100"] for r in rows)
    dev = estimate.CALIBRATION[profile]["device"]
    out = [f"*Generated from the configs and `plan`'s estimates (`python -m rethinking_lib paper-scale-plan`): "
           f"estimates for {dev}, each run at its full epoch budget "
           + ("(runs that stop at 100% training accuracy count at their cap).*" if stops else
              "(no run stops early: every run trains its model's fixed budget).*"), "",
           "| experiment | chapter | training runs (new) | epochs | estimated time of the new runs | command |",
           "|---|---|---:|---:|---:|---|"]
    for r in rows:
        stem = r["chapter"]
        out.append(f"| `{r['experiment']}` | [chapter {int(stem[:2])}]({stem}.ipynb) | {r['runs']} ({r['new']}) | "
                   f"{' / '.join(map(str, r['epochs']))} | {_duration(r['est_new_s'])} | "
                   f"`python -m rethinking_lib sweep {r['experiment']} --profile {profile}` |")
    out.append(f"| all of them | | {total_new} distinct runs | | **{_duration(total_s)}** | "
               f"`python -m rethinking_lib sweep all --profile {profile}` |")
    per = per_model_seconds(profile)
    out += ["", f"In all, **{total_new} distinct training runs, about {_duration(total_s)}** on one H100 with the "
            "default settings. One run of each model: " + ", ".join(f"{runs.label(m)} {_duration(s)}" for m, s in
                                                                  per.items()) + ".", ""]
    return "\n".join(out)


def add_cli(sub) -> None:
    p = sub.add_parser("paper-scale-plan", help="print the generated part of the page 'Reproducing at paper scale'")
    p.set_defaults(handler=lambda args: (print(plan_markdown()), 0)[1])
