"""Training-run figures whose quantities changed with the fixed-budget runs (Figure 1a), in the book's style.

Uses ``plots``' shared style, colours and labels; only what differs from ``plots.fig1a`` lives here: the
right panel compares the same quantity on both sides, steps until the (epoch-mean) training loss falls below
the stated threshold against the paper's "loss about zero" read off its Figure 1a.
"""

from __future__ import annotations

from .plots import color, figure, finish, label


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
    a2.set_xticks(list(xs), [label(c) for c in conds], rotation=25, ha="right")
    a2.set_ylabel("steps / steps for true labels")
    a2.set_title("time to a near-zero loss, relative to true labels")
    a2.legend()
    return finish(fig, profile)
