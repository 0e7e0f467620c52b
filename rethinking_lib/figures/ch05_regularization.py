"""Chapter 5's figures: Figure 2b (weight decay, crops and batch norm over training)."""

from __future__ import annotations

from .style import band, color, figure, finish, label, seeds_note


def fig2b(res: dict, profile: str):
    """Figure 2b: train and test accuracy over training, cumulative-best test accuracy shaded; with several seeds,
    the seeds' means, the test accuracy with a band of one sd around it (the first seed's cumulative best shaded)."""
    fig, ax = figure(1, width=7)
    bands = res.get("bands") or {}
    seeds = 1
    for m, c in res["curves"].items():
        ax.fill_between(c["epoch"], 0, c["best_test_acc"], color=color(m), alpha=0.12)
        b = bands.get(m)
        if b and b["seeds"] > 1:
            seeds = max(seeds, b["seeds"])
            ax.plot(b["epoch"], b["train_acc"], color=color(m), ls="--", lw=1.2, label=f"{label(m)}, train")
            band(ax, b["epoch"], b["test_acc"], b["test_acc_sd"], color=color(m), label=f"{label(m)}, test")
            continue
        ax.plot(c["epoch"], c["train_acc"], color=color(m), ls="--", lw=1.2, label=f"{label(m)}, train")
        ax.plot(c["epoch"], c["test_acc"], color=color(m), label=f"{label(m)}, test")
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy")
    ax.set_ylim(0, 1.02)
    ax.set_title("no explicit regularizer; shaded: best test accuracy so far")
    ax.legend(loc="lower right")
    return finish(fig, profile, seeds_note(seeds) + (" (band: test accuracy)" if seeds > 1 else ""))
