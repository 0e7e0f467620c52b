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
from ..config.claims import CHANCE_ACC, Claim, mean_sd, percent, spread, standard_error, table1_reported
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


def validate_seeds(cfg: dict) -> None:
    """``seeds``: distinct non-negative ints, offsets of the experiment's seed; ``seed_models``: None (every model
    runs every seed) or the models that do (the others run the first seed only; one not in ``models`` is skipped)."""
    seeds = cfg["seeds"]
    if not seeds or not all(isinstance(k, int) and not isinstance(k, bool) and k >= 0 for k in seeds) \
            or len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds={seeds!r} must be distinct non-negative integers, e.g. seeds=[0, 1, 2]")
    extra = cfg["seed_models"]
    if extra is not None:
        stray = [m for m in extra if m not in cfg["model_settings"]]
        if stray:
            raise ValueError(f"seed_models names {', '.join(map(str, stray))}, not a model of this profile: pass "
                             f"some of {', '.join(cfg['model_settings'])}, or None for all")


def seeds_of(cfg: dict, model: str) -> list[int]:
    """The seeds ``model`` runs on (the experiment's seed plus each offset of ``seeds``): every one for the models
    of ``seed_models`` (None: all), the first only for the others. The first seed's runs are the shared ones."""
    base = cfg.get("run", {}).get("seed", 0)
    every = cfg["seed_models"] is None or model in cfg["seed_models"]
    return [base + k for k in (cfg["seeds"] if every else cfg["seeds"][:1])]


def validate_fig1bc(cfg: dict) -> None:
    check_models(cfg, cfg["models"])
    if not cfg["ps"]:
        raise ValueError("ps=[] is empty: pass corruption levels such as ps=[0, 0.5, 1]")
    for p in cfg["ps"]:
        condition_for(p)
    validate_seeds(cfg)


def fig1a_summary(res: dict) -> str:
    """One markdown sentence: the order of the conditions, ours and the paper's, and whether all were fitted."""
    s = res["summary"]
    return (f"Order from fastest to slowest (steps until the epoch-mean loss is below {res['loss_threshold']:g}), "
            f"**ours**: {' < '.join(runs.label(c) for c in s['order_ours'])}; **paper** (reported, loss about zero): "
            f"{' < '.join(runs.label(c) for c in s['order_paper'])}. All five conditions reached 100% training accuracy "
            f"within the budget here: **{all(v is not None for v in s['steps_to_100'].values())}**.")


def fig1bc_config(profile: str) -> dict:
    """Figure 1b/1c's resolved config at ``profile`` (for the chapters that read its runs: 6 and 9)."""
    return EXPERIMENTS["fig1bc"].config(profile)


def fig1bc_specs(cfg: dict) -> list[dict]:
    """One run per model, label-corruption level p and seed (``seeds_of``), each for the model's fixed budget:
    the first seed's runs of every model first (the runs Table 1 and chapter 1 share), then the other seeds'."""
    validate_fig1bc(cfg)
    rounds = range(len(cfg["seeds"]))
    return [model_spec(cfg, m, **condition_for(p), seed=seeds_of(cfg, m)[i], corruption_seed=seeds_of(cfg, m)[i])
            for i in rounds for m in cfg["models"] if i < len(seeds_of(cfg, m)) for p in cfg["ps"]]


def test_size(s: dict) -> int:
    """The number of test images run ``s`` is evaluated on (its ``n_test``, or the dataset's test split)."""
    full = runs.DATA_SIZES.get(s["dataset"], (None, None))[1]
    return min(s["n_test"], full) if (s["n_test"] and full) else (s["n_test"] or full)


def seed_spread(by_seed: list[list[dict]]) -> list[dict]:
    """Per p, the mean and sample sd over seeds of test error and time relative to p = 0, the lowest training
    accuracy, and how many seeds (the time only over the seeds that fitted: ``epochs_to_fit``)."""
    out = []
    for i, first in enumerate(by_seed[0]):
        rows = [rs[i] for rs in by_seed]
        err = spread([r["test_error"] for r in rows])
        times = [r["relative_time"] for r in rows if r["relative_time"] is not None]
        rel = spread(times) if times else (None, None)
        out.append({"p": first["p"], "seeds": len(rows), "test_error": err[0], "test_error_sd": err[1],
                    "relative_time": rel[0], "relative_time_sd": rel[1], "timed_seeds": len(times),
                    "min_train_acc": min(r["train_acc"] for r in rows), "n_test": first["n_test"]})
    return out


def fig1bc(cfg: dict, *, seed: int = 0, progress=None, out=None) -> dict:
    """Figures 1b/1c: per model and p, train/test accuracy, epochs to 100% train, and time relative to p = 0.

    ``models`` holds the first seed's rows (the page's table); ``by_seed`` every seed's, and ``spread`` their mean
    and sd per p (the figure and the conclusion's claims)."""
    cfg = runs.seeded(cfg, seed)
    specs = iter(fig1bc_specs(cfg))  # built first: a bad model, p or seed fails before anything trains
    by_seed = {m: [] for m in cfg["models"]}
    for i in range(len(cfg["seeds"])):
        for m in cfg["models"]:
            if i >= len(seeds_of(cfg, m)):
                continue
            rows = []
            for p in cfg["ps"]:
                s = next(specs)
                r = runs.run_one(s, out=out, progress=progress, checkpoint=cfg.get("checkpoint", False))["result"]
                fit = epochs_to_fit(r["epochs"])
                rows.append({"p": p, "train_acc": r["train_acc"], "test_acc": r["test_acc"],
                             "test_error": 1 - r["test_acc"], "n_test": test_size(s),
                             "memorized": fit is not None, "epochs": r["epochs_run"], "epochs_to_fit": fit,
                             "epochs_to_100": r["epochs_to_100"], "steps_to_100": r["steps_to_100"],
                             "wall_time": r["wall_time"], "fraction_changed": r["fraction_changed"],
                             "precision": r["precision"]})
            for key, out_key in (("epochs_to_fit", "relative_time"), ("epochs_to_100", "relative_time_100")):
                base = next((row[key] for row in rows if row["p"] == 0), None)
                for row in rows:
                    row[out_key] = row[key] / base if base and row[key] else None
            by_seed[m].append(rows)
    per_model = {m: rs[0] for m, rs in by_seed.items()}
    summary = {m: {"test_acc": [round(r["test_acc"], 3) for r in rows], "epochs_to_fit": [r["epochs_to_fit"] for r in rows],
                   "epochs_to_100": [r["epochs_to_100"] for r in rows],
                   "all_memorized": all(r["memorized"] for rs in by_seed[m] for r in rs), "seeds": len(by_seed[m])}
               for m, rows in per_model.items()}
    return {"ps": cfg["ps"], "models": per_model, "by_seed": by_seed,
            "spread": {m: seed_spread(rs) for m, rs in by_seed.items()}, "chance_error": CHANCE, "overfit_acc": OVERFIT_ACC,
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


def paper_gaps() -> dict:
    """Table 1's CIFAR-10 generalization gaps (train - test accuracy) without weight decay or random crops, over the
    paper's networks: (smallest, largest) for true and for random labels."""
    gaps = {lab: [(tr - te) / 100 for _, crop, wd, lb, tr, te in paper.TABLE1 if not crop and not wd and lb == lab]
            for lab in ("true", "random")}
    return {lab: (min(g), max(g)) for lab, g in gaps.items()}


def prose_numbers(res: dict) -> dict:
    """The numbers the page's prose quotes: the generalization gap (train - test accuracy) over this run's models at
    its lowest and highest corruption level, beside Table 1's CIFAR-10 gaps."""
    lo_p, hi_p = min(res["ps"]), max(res["ps"])
    gap = {p: [r["train_acc"] - r["test_acc"] for rows in res["models"].values() for r in rows if r["p"] == p]
           for p in (lo_p, hi_p)}
    pg = paper_gaps()
    return {"ch4_p_lo": lo_p, "ch4_p_hi": hi_p, "ch4_gap_lo_min": min(gap[lo_p]), "ch4_gap_lo_max": max(gap[lo_p]),
            "ch4_gap_hi_min": min(gap[hi_p]), "ch4_gap_hi_max": max(gap[hi_p]),
            "ch4_paper_gap_true_min": pg["true"][0], "ch4_paper_gap_true_max": pg["true"][1],
            "ch4_paper_gap_rand_min": pg["random"][0], "ch4_paper_gap_rand_max": pg["random"][1]}


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
               "run": {}, "checkpoint": True, "seeds": settings.SEEDS, "seed_models": None},
        deltas={"gpu": {**_settings_delta(settings.GPU_DELTA), "ps": settings.GPU_PS},
                "quick": {**_settings_delta(settings.QUICK_DELTA), "models": ["mlp_1x512", "alexnet_small",
                                                                              "inception_small"],
                          "ps": settings.QUICK_PS, "checkpoint": False, "seed_models": ["mlp_1x512", "alexnet_small"]}},
        reasons={"gpu": "the CIFAR-10 subset and three corruption levels of every gpu run (settings.GPU_DELTA), each "
                        "model on 3 seeds: the claims on this figure (fitted, at chance, the slowdown, the rise of the "
                        "error) are decided on the seeds' mean, and the figure draws their spread; the seeds take "
                        "chapter 4 from about 13 to about 24 minutes on a T4 (plan)",
                 "quick": "three corruption levels; the MLP and AlexNet on 3 seeds (together about 20 s of training a "
                          "seed on 2 CPU cores, measured under contention), small Inception on the first seed only "
                          "(about 40 s a seed): the claims are decided on each model's seeds"},
        doc="Figures 1b and 1c: time to overfit and test error against label corruption p, over seeds."),
}


# --- the paper's claims this chapter's experiments check (the conclusion's table, ``pages.claims``) -------

FIT_ACC = 0.99  # "fitted": the paper's Table 1 calls 99.34% (MLP 1x512, random labels) fitting
CHANCE_SES = 3  # "at chance": within 3 standard errors of a 10-class guess (99.7% of a guessing classifier's runs)
STEP_SES = 2  # "rises": a level's mean test error may fall below the previous level's by at most 2 standard errors
SLOWDOWN_SLACK = 2  # "small constant factor": at most twice the paper's largest read-off (read off a figure)


def _at(rows: list[dict], p: float) -> dict:
    return next(r for r in rows if r["p"] == p)


def _seed_rows(res: dict, m: str, p: float) -> list[dict]:
    """``model``'s row at level ``p`` on every seed the record has (older records: the one seed of ``models``)."""
    return [_at(rows, p) for rows in res.get("by_seed", {}).get(m) or [res["models"][m]]]


def random_labels_fitted(rec: dict) -> tuple[str, str, bool]:
    res = rec["result"]
    ours = {m: [r["train_acc"] for r in _seed_rows(res, m, 1.0)] for m in res["models"]}
    reported = min(table1_reported(m, False, False, "random")[0] for m in ("inception_small", "alexnet_small", "mlp_1x512"))
    return (f"train accuracy >= {percent(reported)} (Table 1)",
            ", ".join(f"{runs.label(m)}: {mean_sd(a, '{:.1%}')}" for m, a in ours.items()),
            all(min(a) >= FIT_ACC for a in ours.values()))


def chance_tolerance(n_test: int, seeds: int) -> float:
    """How far a guessing classifier's mean test accuracy over ``seeds`` runs on ``n_test`` images may fall from
    10%: ``CHANCE_SES`` binomial standard errors of the mean."""
    return CHANCE_SES * standard_error(CHANCE_ACC, n_test) / seeds ** 0.5


def random_labels_at_chance(rec: dict) -> tuple[str, str, bool]:
    res = rec["result"]
    ours = {m: _seed_rows(res, m, 1.0) for m in res["models"]}
    accs = [table1_reported(m, False, False, "random")[1] for m in ("inception_small", "alexnet_small", "mlp_1x512")]
    ok = all(abs(spread([r["test_acc"] for r in rs])[0] - CHANCE_ACC) <= chance_tolerance(rs[0]["n_test"], len(rs))
             for rs in ours.values())
    return (f"test accuracy {percent(min(accs))} to {percent(max(accs))} (Table 1)",
            ", ".join(f"{runs.label(m)}: {mean_sd([r['test_acc'] for r in rs], '{:.1%}')} "
                      f"(chance: 10% ± {percent(chance_tolerance(rs[0]['n_test'], len(rs)))})" for m, rs in ours.items()), ok)


def noise_inputs_fitted(rec: dict) -> tuple[str, str, bool]:
    s = rec["result"]["summary"]
    steps = s["steps_to_threshold"]
    thr = rec["result"]["loss_threshold"]
    return ("every condition reaches ~zero training loss (Figure 1a)",
            ", ".join(f"{runs.label(c)}: {f'{v:,}' if v is not None else 'not reached'}" for c, v in steps.items())
            + f" steps to loss < {thr:g}", all(v is not None for v in steps.values()))


def small_slowdown(rec: dict) -> tuple[str, str, bool]:
    res = rec["result"]
    rep = paper.FIG1B_RATIO_AT_1
    hi = SLOWDOWN_SLACK * max(rep.values())
    ours = {m: [r["relative_time"] for r in _seed_rows(res, m, 1.0)] for m in res["models"]}
    ok = all(None not in v and 1.0 <= spread(v)[0] <= hi for v in ours.values())
    return (", ".join(f"{runs.label(m)}: {v:g}x" for m, v in rep.items()) + " (Figure 1b, approximate)",
            ", ".join(f"{runs.label(m)}: " + (mean_sd(v, "{:.2f}x") if None not in v else "not fitted on every seed")
                      for m, v in ours.items()), ok)


def rises_to_chance(levels: list[tuple[float, int, int]]) -> bool:
    """(mean test error over seeds, test images, seeds) per corruption level, in order of p: does the mean
    error never fall by more than ``STEP_SES`` standard errors from one level to the next, and end within
    ``CHANCE_SES`` standard errors of chance?"""
    def se(e, m, k):
        return standard_error(e, m) / k ** 0.5

    steps_ok = all(b >= a - STEP_SES * (se(a, m, k) ** 2 + se(b, m2, k2) ** 2) ** 0.5
                   for (a, m, k), (b, m2, k2) in zip(levels, levels[1:], strict=False))
    last, m, k = levels[-1]
    return steps_ok and last >= paper.CHANCE_ERROR - CHANCE_SES * se(paper.CHANCE_ERROR, m, k)


def error_rises_to_chance(rec: dict) -> tuple[str, str, bool]:
    res = rec["result"]
    ok, parts = True, []
    for m in res["models"]:
        ps = sorted(r["p"] for r in res["models"][m])
        levels = []
        for p in ps:
            rs = _seed_rows(res, m, p)
            levels.append((spread([r["test_error"] for r in rs])[0], rs[0]["n_test"], len(rs)))
        ok &= rises_to_chance(levels)
        k = levels[0][2]
        parts.append(f"{runs.label(m)}: " + " -> ".join(f"{e:.2f}" for e, *_ in levels) + (f" ({k} seeds)" if k > 1 else ""))
    rep = ", ".join(f"{runs.label(m)}: {v:.2f}" for m, v in paper.FIG1C_ERROR_AT_0.items())
    return f"test error from ({rep}) at p = 0 to 0.9 at p = 1 (Figure 1c)", "; ".join(parts), ok


CLAIMS = [
    Claim("Networks fit random labels", "2, Table 1", "fig1bc", random_labels_fitted,
          f"every network reaches >= {FIT_ACC:.0%} training accuracy on random labels within its budget, on every "
          "seed: Table 1 calls 99.34% (MLP 1x512) fitted"),
    Claim("Random-label test accuracy is at chance", "2, Table 1", "fig1bc", random_labels_at_chance,
          f"each network's mean test accuracy over its seeds is within {CHANCE_SES} binomial standard errors of 10% "
          "on its test images (sqrt(0.09 / m) / sqrt(seeds)): a guessing classifier stays inside 99.7% of the time"),
    Claim("Shuffled pixels, random pixels and Gaussian noise are fitted", "2, Figure 1a", "fig1a", noise_inputs_fitted,
          "every condition's epoch-mean training loss falls below the threshold Figure 1a's 'about zero' is read as "
          "(settings.LOSS_THRESHOLD) within the budget; one seed: small Inception is the costliest quick model"),
    Claim("Random labels take only a small constant factor longer", "2, Figure 1b", "fig1bc", small_slowdown,
          f"every network fits random labels on every seed, and its mean time to overfit relative to true labels is "
          f"between 1 and {SLOWDOWN_SLACK}x the paper's largest read-off: the paper's factors (1.55-3.6x) are read off a "
          "figure, on another dataset"),
    Claim("Test error rises with label corruption, to chance", "2, Figure 1c", "fig1bc", error_rises_to_chance,
          f"per network, the mean test error over seeds never falls by more than {STEP_SES} standard errors from one "
          f"level p to the next, and at p = 1 is within {CHANCE_SES} standard errors of chance (0.9)"),
]
