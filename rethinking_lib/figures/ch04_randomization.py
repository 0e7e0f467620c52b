"""Chapter 4's figures: Figures 1a, 1b, 1c and the corruption widget."""

from __future__ import annotations

from .style import PAPER_STYLE, color, figure, figure_slider, finish, image_grid, label, paper_points, seeds_note


def fig1a(res: dict, profile: str):
    """Figure 1a: training loss per step per condition over the whole budget, and steps to a near-zero loss
    relative to true labels, ours beside the paper's read-offs."""
    fig, (a1, a2) = figure(2, width=10)
    curves = res["curves"]
    thr = res["loss_threshold"]
    for cond, c in curves.items():
        steps = [(i + 1) * c["every"] for i in range(len(c["loss"]))]
        a1.plot(steps, c["loss"], color=color(cond), label=label(cond), lw=1.2)
    a1.axhline(2.302585, color="#999999", ls=":", lw=1)
    a1.axhline(thr, color="#999999", ls="--", lw=0.8)
    a1.set_xlabel("step")
    a1.set_ylabel("average training loss")
    a1.set_title(f"{label(res['model'])}: loss over a fixed budget")
    a1.legend()
    conds = list(curves)
    base = curves["true_labels"]["steps_to_threshold"] if "true_labels" in curves else None
    paper = res["paper_steps_to_zero_loss"]
    xs = range(len(conds))
    if base:
        a2.bar(xs, [(curves[c]["steps_to_threshold"] or 0) / base for c in conds], color=[color(c) for c in conds],
               alpha=0.8, label=f"ours (steps to loss < {thr:g})")
        a2.plot(xs, [paper[c] / paper["true_labels"] for c in conds], ls="none", marker="o", markerfacecolor="none",
                color="k", ms=8, label="paper, reported (loss ~0, read off Fig. 1a)")
    else:  # true labels never reached the threshold within the budget: there is no ratio to draw
        a2.text(0.5, 0.5, f"true labels did not reach a loss < {thr:g}\nwithin the budget: no ratio",
                transform=a2.transAxes, ha="center", va="center")
    a2.set_xticks(list(xs), [label(c) for c in conds], rotation=25, ha="right")
    a2.set_ylabel("steps / steps for true labels")
    a2.set_title("time to a near-zero loss, relative to true labels")
    if base:
        a2.legend()
    return finish(fig, profile)


def fig1bc(res: dict, profile: str):
    """Figures 1b and 1c: relative time to overfit and test error against label corruption, paper's values hollow;
    with several seeds, each model's mean with error bars of one sd over its seeds (the legend says how many)."""
    fig, (a1, a2) = figure(2, width=10)
    paper = res["paper"]
    spread = res.get("spread") or {m: [{**r, "seeds": 1, "test_error_sd": 0.0, "relative_time_sd": 0.0} for r in rows]
                                   for m, rows in res["models"].items()}
    for m, rows in spread.items():
        ps = [r["p"] for r in rows]
        k = rows[0]["seeds"]
        name = label(m) + (f" ({k} seeds)" if k > 1 else "")
        t, t_sd = ([r[key] if r[key] is not None else float("nan") for r in rows]
                   for key in ("relative_time", "relative_time_sd"))
        a1.errorbar(ps, t, yerr=t_sd if k > 1 else None, color=color(m), marker="s", capsize=3, label=name)
        a2.errorbar(ps, [r["test_error"] for r in rows], yerr=[r["test_error_sd"] for r in rows] if k > 1 else None,
                    color=color(m), marker="s", capsize=3, label=name)
        if m in paper["relative_time_at_p1"]:
            paper_points(a1, [0, 1], [1, paper["relative_time_at_p1"][m]], m, linestyle="none")
        if m in paper["test_error_at_p0"]:
            paper_points(a2, [0], [paper["test_error_at_p0"][m]], m, linestyle="none")
    a1.plot([], [], **{**PAPER_STYLE, "linestyle": "none"}, color="k", label="paper, reported (approx.)")
    a1.set_xlabel("label corruption p")
    a1.set_ylabel("time to overfit / time at p = 0")
    a1.set_title("(b) convergence slowdown")
    a1.legend()
    a2.axhline(res["chance_error"], color="#999999", ls=":", lw=1, label="chance")
    a2.set_xlabel("label corruption p")
    a2.set_ylabel("test error")
    a2.set_ylim(0, 1)
    a2.set_title("(c) generalization error growth")
    a2.legend()
    counts = {rows[0]["seeds"] for rows in spread.values()}
    note = seeds_note(max(counts)) if len(counts) == 1 else "mean ± sd over each model's seeds (in the legend)"
    return finish(fig, profile, note)


def corruption_widget(images, clean, labels_by_p: dict, selected: int = 0):
    """A slider over the label-corruption level p flipping between precomputed image grids (titles: labels)."""

    def grid(p, labels):
        titles = [f"{y}" if y == c else f"{y} (was {c})" for y, c in zip(labels, clean, strict=True)]
        changed = sum(y != c for y, c in zip(labels, clean, strict=True))
        return image_grid(images, titles, ncols=8, suptitle=f"p = {p:.1f}: {changed} of {len(clean)} labels changed")

    return figure_slider((grid(p, labels) for p, labels in labels_by_p.items()), [f"{p:.1f}" for p in labels_by_p],
                         selected=selected)


def example_grids(ex: dict) -> list:
    """One image grid per randomization condition of ``randomization.examples``: the images the network sees, each
    titled with its (possibly corrupted) label."""
    return [image_grid(images, titles=ex["labels"][cond], ncols=8, scale=0.9,
                       suptitle=label(cond) + (" (p = 0.5)" if cond == "partial_labels" else ""))
            for cond, images in ex["images"].items()]
