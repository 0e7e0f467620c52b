"""The randomization tests of Section 2: Figures 1a, 1b and 1c as sets of training runs.

Each experiment is written in two halves (see ``runs.py``):

* ``fig1a_specs(cfg)`` / ``fig1bc_specs(cfg)`` list the training runs as plain JSON specs (pure: the
  ``Experiment`` declares them, so sweeps, plans and ``python -m rethinking_lib config`` see them);
* ``fig1a(cfg, ...)`` / ``fig1bc(cfg, ...)`` call ``runs.run_one`` on each spec (loading what the store
  already has) and aggregate the records into the figure's numbers.

Runs are shared: every run trains its model's fixed budget (``settings.py``), so Figure 1a's true- and
random-label runs are Figure 1b/1c's p = 0 and p = 1 runs, and Table 1's no-regularizer rows are the same.

Choices the paper leaves open (the book's appendix "The paper's setup and our choices"): "time to overfit"
is the first epoch at which at least ``settings.OVERFIT_ACC`` (99%) of the training set is classified as labelled,
read off a fixed-budget run (the first epoch at exactly 100% is kept beside it: at paper scale it can be undefined);
Figure 1a's "loss about zero" is the epoch-mean training loss falling below ``LOSS_THRESHOLD``; test labels
stay clean; p = 0 is the unmodified data (``true_labels``) and p = 1 is ``random_labels``.
"""

from __future__ import annotations

from .. import paper
from ..config import settings
from ..config.claims import CHANCE_ACC, Claim, percent, table1_reported
from ..config.experiment import Experiment
from ..engine import runs
from ..engine.corrupt import condition_for  # also what chapter 5 builds its rows with (rnd.condition_for)

CHAPTER = "04_randomization_tests"  # its page: book/<CHAPTER>.ipynb, listed in _toc.yml

CHANCE = paper.CHANCE_ERROR  # test error of a 10-class guess
FIG1A_CONDITIONS = ("true_labels", "random_labels", "shuffled_pixels", "random_pixels", "gaussian")
PS = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]

# The paper's Figure 1 values, read off the figure (approximate): ``paper.py``.
PAPER_FIG1A_STEPS_TO_ZERO = paper.FIG1A_STEPS_TO_ZERO_LOSS
PAPER_FIG1B_RATIO_AT_1 = paper.FIG1B_RATIO_AT_1
PAPER_FIG1C_ERROR_AT_0 = paper.FIG1C_ERROR_AT_0

# Per-model run settings of each profile (settings.py); kept here under their old names.
PAPER_MODELS = settings.PAPER_MODELS
QUICK_MODELS = settings.model_settings(settings.QUICK_DELTA)


OVERFIT_ACC = settings.OVERFIT_ACC


def epochs_to_fit(epochs: list[dict], threshold: float = OVERFIT_ACC) -> int | None:
    """Time to overfit: the first epoch whose training accuracy is at least ``threshold`` (None: never)."""
    return next((e["epoch"] for e in epochs if e["train_acc"] >= threshold), None)


def model_spec(cfg: dict, model: str, **kw) -> dict:
    """The run spec of ``model`` under ``cfg`` (its ``model_settings``, then ``run`` overrides, then ``kw``)."""
    settings = cfg["model_settings"]
    if model not in settings:
        raise ValueError(f"model {model!r} has no settings in this profile; choose one of {', '.join(settings)}")
    return runs.spec(model=model, **{**settings[model], **cfg.get("run", {}), **kw})


# --- Figure 1a ---------------------------------------------------------------------------------


def validate_fig1a(cfg: dict) -> None:
    if not cfg["conditions"]:
        raise ValueError("conditions=[] is empty: pass Figure 1a conditions such as ['true_labels', 'random_labels']")
    for c in cfg["conditions"]:
        if c not in FIG1A_CONDITIONS:
            raise ValueError(f"condition {c!r} is not in Figure 1a; choose from {', '.join(FIG1A_CONDITIONS)}")
    if not cfg["loss_threshold"] > 0:
        raise ValueError(f"loss_threshold={cfg['loss_threshold']!r} must be positive, e.g. 0.05")
    check_models(cfg, [cfg["model"]])


def fig1a_specs(cfg: dict) -> list[dict]:
    """One run of ``cfg["model"]`` per condition, each for the model's fixed budget (curves run to the end)."""
    validate_fig1a(cfg)
    return [model_spec(cfg, cfg["model"], condition=c) for c in cfg["conditions"]]


def steps_below(epochs: list[dict], threshold: float) -> int | None:
    """The step at the end of the first epoch whose mean training loss is below ``threshold`` (None: never)."""
    return next((e["step"] for e in epochs if e["loss"] < threshold), None)


def fig1a(cfg: dict, *, seed: int = 0, progress=None, out=None) -> dict:
    """Figure 1a: training loss against steps per condition; steps until the loss falls below the threshold."""
    curves = {}
    thr = cfg["loss_threshold"]
    for s in fig1a_specs(runs.seeded(cfg, seed)):
        r = runs.run_one(s, out=out, progress=progress, checkpoint=cfg.get("checkpoint", False))["result"]
        loss = r["step_loss"]
        every = max(1, len(loss) // cfg.get("max_points", 400))
        curves[s["condition"]] = {
            "every": every, "loss": [sum(loss[i:i + every]) / len(loss[i:i + every]) for i in range(0, len(loss), every)],
            "steps_to_threshold": steps_below(r["epochs"], thr),
            "steps_to_100": r["steps_to_100"], "epochs_to_100": r["epochs_to_100"], "steps": r["steps"],
            "train_acc": r["train_acc"], "test_acc": r["test_acc"], "wall_time": r["wall_time"],
            "precision": r["precision"]}
    order = sorted(curves, key=lambda c: curves[c]["steps_to_threshold"] or float("inf"))
    return {"model": cfg["model"], "curves": curves, "loss_threshold": thr,
            "paper_steps_to_zero_loss": PAPER_FIG1A_STEPS_TO_ZERO,
            "summary": {"steps_to_threshold": {c: v["steps_to_threshold"] for c, v in curves.items()},
                        "steps_to_100": {c: v["steps_to_100"] for c, v in curves.items()},
                        "order_ours": order,
                        "order_paper": sorted(PAPER_FIG1A_STEPS_TO_ZERO, key=PAPER_FIG1A_STEPS_TO_ZERO.get),
                        "all_memorized": all(v["train_acc"] >= 1.0 for v in curves.values())}}


def fig1a_table(res: dict) -> list[dict]:
    """Figure 1a's comparison rows: the same quantity on both sides (steps until the loss is about zero)."""
    thr = res["loss_threshold"]
    return [{"condition": runs.label(c), f"steps to loss < {thr:g} (ours)": v["steps_to_threshold"],
             "steps to 100% train (ours)": v["steps_to_100"], "final train acc": v["train_acc"],
             "final test acc": v["test_acc"],
             "steps to loss ~0 (paper, read off Fig. 1a)": f"~{res['paper_steps_to_zero_loss'][c]:,}"}
            for c, v in res["curves"].items()]


# --- Figures 1b and 1c -------------------------------------------------------------------------


def check_models(cfg: dict, names) -> None:
    if not names:
        raise ValueError("models=[] is empty: pass models such as ['mlp_1x512']")
    for m in names:
        if m not in cfg["model_settings"]:
            raise ValueError(f"model {m!r} has no settings in this profile; choose one of "
                             f"{', '.join(cfg['model_settings'])}")


def validate_fig1bc(cfg: dict) -> None:
    check_models(cfg, cfg["models"])
    if not cfg["ps"]:
        raise ValueError("ps=[] is empty: pass corruption levels such as ps=[0, 0.5, 1]")
    for p in cfg["ps"]:
        condition_for(p)


def fig1a_summary(res: dict) -> str:
    """One markdown sentence: the order of the conditions, ours and the paper's, and whether all were fitted."""
    s = res["summary"]
    return (f"Order from fastest to slowest (steps until the epoch-mean loss is below {res['loss_threshold']:g}), "
            f"**ours**: {' < '.join(runs.label(c) for c in s['order_ours'])}; **paper** (reported, loss about zero): "
            f"{' < '.join(runs.label(c) for c in s['order_paper'])}. All five conditions reached 100% training accuracy "
            f"within the budget here: **{all(v is not None for v in s['steps_to_100'].values())}**.")


def fig1bc_specs(cfg: dict) -> list[dict]:
    """One run per model and label-corruption level p, each for the model's fixed budget."""
    validate_fig1bc(cfg)
    return [model_spec(cfg, m, **condition_for(p)) for m in cfg["models"] for p in cfg["ps"]]


def fig1bc(cfg: dict, *, seed: int = 0, progress=None, out=None) -> dict:
    """Figures 1b/1c: per model and p, train/test accuracy, epochs to 100% train, and time relative to p = 0."""
    cfg = runs.seeded(cfg, seed)
    specs = iter(fig1bc_specs(cfg))  # built first: a bad model or p fails before anything trains
    per_model = {}
    for m in cfg["models"]:
        rows = []
        for p in cfg["ps"]:
            s = next(specs)
            r = runs.run_one(s, out=out, progress=progress, checkpoint=cfg.get("checkpoint", False))["result"]
            fit = epochs_to_fit(r["epochs"])
            rows.append({"p": p, "train_acc": r["train_acc"], "test_acc": r["test_acc"], "test_error": 1 - r["test_acc"],
                         "memorized": fit is not None, "epochs": r["epochs_run"], "epochs_to_fit": fit,
                         "epochs_to_100": r["epochs_to_100"], "steps_to_100": r["steps_to_100"],
                         "wall_time": r["wall_time"], "fraction_changed": r["fraction_changed"],
                         "precision": r["precision"]})
        for key, out_key in (("epochs_to_fit", "relative_time"), ("epochs_to_100", "relative_time_100")):
            base = next((row[key] for row in rows if row["p"] == 0), None)
            for row in rows:
                row[out_key] = row[key] / base if base and row[key] else None
        per_model[m] = rows
    summary = {m: {"test_acc": [round(r["test_acc"], 3) for r in rows], "epochs_to_fit": [r["epochs_to_fit"] for r in rows],
                   "epochs_to_100": [r["epochs_to_100"] for r in rows],
                   "all_memorized": all(r["memorized"] for r in rows)} for m, rows in per_model.items()}
    return {"ps": cfg["ps"], "models": per_model, "chance_error": CHANCE, "overfit_acc": OVERFIT_ACC,
            "paper": {"relative_time_at_p1": PAPER_FIG1B_RATIO_AT_1, "test_error_at_p0": PAPER_FIG1C_ERROR_AT_0},
            "summary": summary}


# --- what the conditions look like ------------------------------------------------------------


def examples(dataset: str = "mnist5k", n: int = 16, *, seed: int = 0, ps=PS) -> dict:
    """The first ``n`` training images under each condition, and their labels at each corruption level ``ps``.

    Returns ``{"images": {condition: (n, C, H, W) tensor}, "labels": {condition: [...]}, "clean": [...],
    "labels_by_p": {p: [...]}}`` for the chapter's image grids and its corruption-level widget.
    """
    from ..engine import corrupt, data

    ds = data.load(dataset, crop=None, seed=seed)
    out = {"images": {}, "labels": {}, "clean": ds.y_train[:n].tolist(), "labels_by_p": {}}
    for c in corrupt.CONDITIONS:
        d = corrupt.apply(ds, c, p=0.5 if c == "partial_labels" else None, seed=seed)
        out["images"][c], out["labels"][c] = d.x_train[:n], d.y_train[:n].tolist()
    for p in ps:
        kw = condition_for(p)
        out["labels_by_p"][p] = corrupt.apply(ds, kw["condition"], p=kw["p"], seed=seed).y_train[:n].tolist()
    return out


def reported(paper_figs: dict, model: str, p: float) -> str:
    """What the paper reports (approximately, read off Figure 1) for ``model`` at level ``p``; '' if nothing."""
    if p == 0 and model in paper_figs["test_error_at_p0"]:
        return f"test error {paper_figs['test_error_at_p0'][model]} (Table 1)"
    if p == 1 and model in paper_figs["relative_time_at_p1"]:
        return f"relative time ~{paper_figs['relative_time_at_p1'][model]}"
    return ""


def fig1bc_table(res: dict) -> list[dict]:
    """Figure 1b/1c's numbers as table rows, with the paper's read-offs beside ours."""
    fit = f"{100 * res.get('overfit_acc', OVERFIT_ACC):.0f}%"
    return [{"model": runs.label(m), "p": r["p"], "labels changed": r["fraction_changed"], "final train acc": r["train_acc"],
             "final test error": r["test_error"], f"first epoch >= {fit} train": r.get("epochs_to_fit"),
             f"relative time (>= {fit})": r["relative_time"], "first epoch at 100% train": r["epochs_to_100"],
             "relative time (100%)": r.get("relative_time_100"),
             "paper (reported, approx.)": reported(res["paper"], m, r["p"])}
            for m, rows in res["models"].items() for r in rows]


def overfit_criterion_line(res: dict) -> str:
    """One sentence: what the time-to-overfit criterion (>= 99% vs exactly 100%) changes in Figure 1b's ratio."""
    fit = f"{100 * res.get('overfit_acc', OVERFIT_ACC):.0f}%"
    parts = []
    for m, rows in res["models"].items():
        last = rows[-1]

        def ratio(v):
            return f"{v:.2f}x" if v else "undefined (never reached)"

        parts.append(f"{runs.label(m)} {ratio(last['relative_time'])} with >= {fit}, {ratio(last.get('relative_time_100'))} "
                     "with 100%")
    return (f"*Time to overfit here is the first epoch at >= {fit} training accuracy. The ratio at "
            f"p = {res['models'][next(iter(res['models']))][-1]['p']:g} with that criterion and with exactly 100% "
            "instead: " + "; ".join(parts) + ".*")


def fig1bc_lines(res: dict) -> str:
    """A markdown list: per model, whether every level was fitted, the test-error trend, the time ratio."""
    paper_ratio = res["paper"]["relative_time_at_p1"]
    lines = []
    for m, rows in res["models"].items():
        err = [r["test_error"] for r in rows]
        mono = all(a < b for a, b in zip(err, err[1:], strict=False))
        rel = rows[-1]["relative_time"]
        lines.append(f"* **{runs.label(m)}**: all levels fitted: {all(r['memorized'] for r in rows)}; test error "
                     f"{err[0]:.2f} at p = {rows[0]['p']:g} to {err[-1]:.2f} at p = {rows[-1]['p']:g} "
                     f"({'monotone' if mono else 'not monotone'})"
                     + (f"; time to overfit (>= {100 * res.get('overfit_acc', OVERFIT_ACC):.0f}% train) at p = 1: "
                        f"{rel:.2f}x that at p = 0" if rel else "")
                     + (f" (paper: ~{paper_ratio[m]}x)" if m in paper_ratio else "") + ".")
    return "\n".join(lines)


def _settings_delta(delta: dict) -> dict:
    return {"model_settings": delta}


EXPERIMENTS = {
    "fig1a": Experiment(
        "fig1a", fig1a, specs=fig1a_specs, validate=validate_fig1a,
        paper={"model": "inception_small", "conditions": list(FIG1A_CONDITIONS), "model_settings": PAPER_MODELS,
               "run": {}, "loss_threshold": settings.LOSS_THRESHOLD, "max_points": 400, "checkpoint": True},
        deltas={"gpu": _settings_delta(settings.GPU_DELTA),
                "quick": {**_settings_delta(settings.QUICK_DELTA), "checkpoint": False}},
        doc="Figure 1a: training loss per step of small Inception under the five randomization conditions."),
    "fig1bc": Experiment(
        "fig1bc", fig1bc, specs=fig1bc_specs, validate=validate_fig1bc,
        paper={"models": ["inception_small", "alexnet_small", "mlp_1x512"], "ps": PS, "model_settings": PAPER_MODELS,
               "run": {}, "checkpoint": True},
        deltas={"gpu": {**_settings_delta(settings.GPU_DELTA), "ps": settings.GPU_PS},
                "quick": {**_settings_delta(settings.QUICK_DELTA), "models": ["mlp_1x512", "alexnet_small",
                                                                              "inception_small"],
                          "ps": settings.QUICK_PS, "checkpoint": False}},
        doc="Figures 1b and 1c: time to overfit and test error against label corruption p."),
}


# --- the paper's claims this chapter's experiments check (the conclusion's table, ``pages.claims``) -------

def random_labels_fitted(rec: dict) -> tuple[str, str, bool]:
    models = rec["result"]["models"]
    ours = {m: next(r for r in rows if r["p"] == 1.0)["train_acc"] for m, rows in models.items()}
    reported = min(table1_reported(m, False, False, "random")[0] for m in ("inception_small", "alexnet_small", "mlp_1x512"))
    return (f"train accuracy >= {percent(reported)} (Table 1)",
            ", ".join(f"{runs.label(m)}: {percent(a)}" for m, a in ours.items()), all(a >= 0.99 for a in ours.values()))


def random_labels_at_chance(rec: dict) -> tuple[str, str, bool]:
    models = rec["result"]["models"]
    ours = {m: next(r for r in rows if r["p"] == 1.0)["test_acc"] for m, rows in models.items()}
    accs = [table1_reported(m, False, False, "random")[1] for m in ("inception_small", "alexnet_small", "mlp_1x512")]
    return (f"test accuracy {percent(min(accs))} to {percent(max(accs))} (Table 1)",
            ", ".join(f"{runs.label(m)}: {percent(a)}" for m, a in ours.items()),
            all(abs(a - CHANCE_ACC) <= 0.05 for a in ours.values()))


def noise_inputs_fitted(rec: dict) -> tuple[str, str, bool]:
    s = rec["result"]["summary"]
    steps = s["steps_to_100"]
    return ("every condition reaches ~zero training loss (Figure 1a)",
            ", ".join(f"{c}: {v if v is not None else 'not fitted'} steps" for c, v in steps.items()),
            bool(s["all_memorized"]))


def small_slowdown(rec: dict) -> tuple[str, str, bool]:
    models = rec["result"]["models"]
    ours = {m: next(r for r in rows if r["p"] == 1.0)["relative_time"] for m, rows in models.items()}
    rep = paper.FIG1B_RATIO_AT_1
    return (", ".join(f"{runs.label(m)}: {v:g}x" for m, v in rep.items()) + " (Figure 1b, approximate)",
            ", ".join(f"{runs.label(m)}: {v:.2f}x" if v else f"{runs.label(m)}: -" for m, v in ours.items()),
            all(v is not None and 1.0 <= v <= 10 for v in ours.values()))


def error_rises_to_chance(rec: dict) -> tuple[str, str, bool]:
    models = rec["result"]["models"]
    ok, parts = True, []
    for m, rows in models.items():
        errs = [r["test_error"] for r in sorted(rows, key=lambda r: r["p"])]
        ok &= all(b >= a - 0.03 for a, b in zip(errs, errs[1:], strict=False)) and errs[-1] >= paper.CHANCE_ERROR - 0.05
        parts.append(f"{runs.label(m)}: {errs[0]:.2f} -> {errs[-1]:.2f}")
    rep = ", ".join(f"{runs.label(m)}: {v:.2f}" for m, v in paper.FIG1C_ERROR_AT_0.items())
    return f"test error from ({rep}) at p = 0 to 0.9 at p = 1 (Figure 1c)", "; ".join(parts), ok


CLAIMS = [
    Claim("Networks fit random labels", "2, Table 1", "fig1bc", random_labels_fitted),
    Claim("Random-label test accuracy is at chance", "2, Table 1", "fig1bc", random_labels_at_chance),
    Claim("Shuffled pixels, random pixels and Gaussian noise are fitted", "2, Figure 1a", "fig1a", noise_inputs_fitted),
    Claim("Random labels take only a small constant factor longer", "2, Figure 1b", "fig1bc", small_slowdown),
    Claim("Test error rises with label corruption, to chance", "2, Figure 1c", "fig1bc", error_rises_to_chance),
]
