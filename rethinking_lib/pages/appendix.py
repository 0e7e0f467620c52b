"""The book's pages about settings: the appendix "The paper's setup and our choices" (generated from the
experiments' configs), a chapter's per-model settings table, the mixed-precision note, and what
``gpu_checks/fidelity.py`` measured on a GPU (``gpu_measurements.json`` beside this file)."""

from __future__ import annotations

from .. import experiments
from ..config.settings import CHOICES, GPU_DELTA, MODELS, PAPER_MODELS, QUICK_DELTA, model_settings
from ..engine.runs import label


def precisions(res) -> set[str]:
    """Every training precision recorded anywhere in an experiment's result."""
    found = set()
    if isinstance(res, dict):
        for k, v in res.items():
            if k == "precision" and isinstance(v, str):
                found.add(v)
            else:
                found |= precisions(v)
    elif isinstance(res, list):
        for v in res:
            found |= precisions(v)
    return found


def precision_note(res) -> str:
    """A line for the page when mixed precision produced a figure ('' when every run was fp32)."""
    mixed = sorted(precisions(res) - {"fp32"})
    if not mixed:
        return ""
    return (f"*These runs trained in mixed precision ({', '.join(mixed)}), a speed option; the paper trained in "
            f"fp32 (see the appendix on the setup for what it can change).*")


def table(name: str, profile: str, **overrides) -> list[dict]:
    """One row per model an experiment trains: the settings that differ between models or profiles."""
    rows, seen = [], set()
    for r in experiments.resolved(name, profile, **overrides)["runs"]:
        if r["model"] in seen:
            continue
        seen.add(r["model"])
        rows.append({"model": label(r["model"]), "data": f"{r['dataset']} ({r['n_train']:,} train)",
                     "input": "x".join(map(str, r["input"])), "width": r["width"], "lr": r["lr"],
                     "decay per epoch": r["lr_decay"], "epochs (fixed)": r["epochs"], "steps": r["steps"],
                     "precision": r["precision"], "init": r["init"]})
    return rows


# --- measured on a GPU (gpu_checks/fidelity.py) -------------------------------------------------------------


def gpu_measurements() -> dict | None:
    """What ``gpu_checks/fidelity.py`` measured on a GPU (``gpu_measurements.json`` in the package), or None."""
    import json
    from pathlib import Path

    rec = json.loads((Path(__file__).with_name("gpu_measurements.json")).read_text())
    return None if rec.get("measured") is None and "precision_pairs" not in rec else rec


def fidelity_markdown() -> str:
    """The fp32 / mixed-precision run pair and the no-BN Inception at lr 0.1, as measured on a GPU."""
    rec = gpu_measurements()
    if rec is None:
        return ("*Not measured on a GPU yet: `python gpu_checks/fidelity.py --out rethinking_lib/pages/gpu_measurements.json` "
                "on a CUDA machine measures what mixed precision changes and whether the no-BN Inception trains at "
                "lr 0.1 at full width.*")

    def acc(r):
        if r.get("diverged"):
            return "diverged"
        fit = (f"100% train at step {r['steps_to_100']:,}" if r["steps_to_100"] else
               f"final train {100 * r['final_train_acc']:.2f}% (never 100% in the budget)")
        return f"{fit}, final test {100 * r['final_test_acc']:.1f}%"

    lines = [f"Measured on {rec['device']} on {rec['date']} (`gpu_checks/fidelity.py`, small Inception at full width, "
             f"paper hyper-parameters, 4,000 MNIST digits, {rec['epochs']} epochs):", ""]
    for pair in rec["precision_pairs"]:
        mixed = rec["mixed"]
        lines.append(f"* {pair['condition'].replace('_', ' ')}: fp32 {acc(pair['fp32'])}; {mixed} {acc(pair[mixed])}")
    for r in rec["nobn_at_paper_lr"]:
        what = ("diverged" if r.get("diverged") else
                f"final train {100 * r['final_train_acc']:.1f}%, test {100 * r['final_test_acc']:.1f}%")
        lines.append(f"* no-BN Inception, lr {r.get('lr', 0.1)}, Glorot init, {r['run'].split(' ', 1)[1]}: {what}")
    return "\n".join(lines)


# --- the appendix page -------------------------------------------------------------------------------------

RUN_KEYS = ("dataset", "n_train", "n_test", "crop", "width", "lr", "lr_decay", "epochs", "batch_size", "momentum",
            "precision", "init", "bn_decay", "stop_at_100")
PROFILE_ORDER = ("paper", "gpu", "quick")


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.6g}"
    if isinstance(v, (list, tuple)):
        return ", ".join(_fmt(x) for x in v) if v else "(none)"
    if v is None:
        return "-"
    return str(v).replace("|", "/")


def _row(cells) -> str:
    return "| " + " | ".join(cells) + " |"


def appendix_markdown() -> str:
    """The appendix page "The paper's setup and our choices", generated from the experiments' configs."""
    out = ["# The paper's setup and our choices", "",
           "This page is generated from the code's configuration (`python -m rethinking_lib appendix`), so it "
           "cannot drift from what runs: the book's build writes it. For every experiment: each setting "
           "in the `paper` profile (the paper's value where it states one), and what the `gpu` profile (one "
           "small GPU such as a Colab T4) and the `quick` profile (2 CPU cores, offline, the rendered book) "
           "change. `python -m rethinking_lib config EXPERIMENT --profile P --json` prints the same per run.", "",
           "## The training runs of Sections 2 and 3", "",
           "Every run of Figures 1a-1c, Table 1 and Figure 2b trains one of the five models with that model's "
           "settings (so a run two figures need is trained once). The paper's value, our choice where it is "
           "silent, and why:", "",
           _row(["setting", "the paper", "our choice", "why"]), _row(["---"] * 4)]
    out += [_row([k, *map(_fmt, v)]) for k, v in CHOICES.items()]
    out += ["", "Per model and profile (a `-` in gpu / quick: the paper's value):", ""]
    out += [_row(["model", "setting", "paper", "gpu", "quick"]), _row(["---"] * 5)]
    gpu, quick = model_settings(GPU_DELTA), model_settings(QUICK_DELTA)
    for m in MODELS:
        for k in RUN_KEYS:
            p, g, q = PAPER_MODELS[m][k], gpu[m][k], quick[m][k]
            out.append(_row([m, k, _fmt(p), "-" if g == p else _fmt(g), "-" if q == p else _fmt(q)]))
    out += ["", "`lr_decay` is per epoch; `paper` stands for $0.95^{s/391}$ per epoch of $s$ steps, the paper's "
            "decay per step. Initialization and batch norm are TensorFlow's defaults of the paper's time: "
            "Glorot-uniform weights, zero biases, batch-norm epsilon $10^{-3}$ and moving-average decay 0.999 "
            "(`bn_decay`; PyTorch's `momentum` is $1-$decay).", ""]
    out += ["## Every experiment's settings", ""]
    for name in experiments.names():
        exp = experiments.get(name)
        cfgs = {p: exp.base(p) for p in PROFILE_ORDER}
        out += [f"### `{name}`", "", exp.doc or "", "",
                _row(["setting", "paper", "gpu", "quick"]), _row(["---"] * 4)]
        keys = list(dict.fromkeys(k for c in cfgs.values() for k in c))
        for k in keys:
            if k in ("model_settings", "run"):
                continue
            vals = [cfgs[p].get(k) for p in PROFILE_ORDER]
            paper_v = vals[0]
            mark = " (ours: see below)" if k in exp.why else ""
            out.append(_row([f"`{k}`", _fmt(paper_v) + mark] + ["-" if v == paper_v else _fmt(v) for v in vals[1:]]))
        if exp.why:
            out += ["", "*Settings of the paper profile that the paper does not state (our choices):*", ""]
            out += [f"* `{k}`: {v}." for k, v in exp.why.items()]
        if exp.reasons.get("gpu"):
            out += ["", f"*gpu profile (one T4, about 15 minutes a chapter; times are estimates of the `plan` command):* "
                    f"{exp.reasons['gpu']}."]
        if exp.reasons.get("quick"):
            out += ["", f"*quick profile (2 CPU cores, offline, the rendered book):* {exp.reasons['quick']}."]
        out.append("")
    return "\n".join(out).rstrip() + "\n"
