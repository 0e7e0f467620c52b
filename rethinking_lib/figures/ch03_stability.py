"""Chapter 3's figures: measured stability of SGD, convex and network."""

from __future__ import annotations

from .style import color, figure, finish, label


def stability_convex(convex: dict, profile: str):
    """Logistic regression: the measured stability gap and parameter divergence against steps, with the HRS bound."""
    fig, ax = figure(width=6.4, height=3.8)
    steps = convex["steps"]
    ax.plot(steps, convex["bound"], color="#333333", linestyle="--", label=r"HRS bound $2L^2\sum_t\eta_t/n$")
    for key in ("true_labels", "random_labels"):
        ax.plot(steps, convex[key]["sup_gap"], color=color(key), label=f"{label(key)}: " + r"$E\,\sup_z|\Delta\ell|$")
        ax.plot(steps, convex[key]["divergence"], color=color(key), linestyle=":",
                label=f"{label(key)}: " + r"$E\,\|w_T - w'_T\|$")
    ax.set_yscale("log")
    ax.set_xlabel("SGD steps T (single examples)")
    ax.set_ylabel("gap between runs on S and S'")
    ax.legend(loc="lower right", fontsize=8)
    return finish(fig, profile, f"n = {convex['n']}, alpha = {convex['alpha']}, {convex['runs']} runs")


def stability_network(net: dict, profile: str, model: str = "mlp_1x512"):
    """The network on S and S': loss gap and accuracy against steps, true and random labels."""
    fig, (a1, a2) = figure(2, width=10, height=3.6)
    for key, h in net.items():
        a1.plot(h["step"], h["sup_gap"], color=color(key), label=f"{label(key)}: " + r"$\sup_z|\Delta\ell|$")
        a1.plot(h["step"], h["mean_gap"], color=color(key), linestyle=":", label=f"{label(key)}: mean over z")
        a2.plot(h["step"], h["train_acc"], color=color(key), label=f"{label(key)}: train")
        a2.plot(h["step"], h["test_acc"], color=color(key), linestyle="--", label=f"{label(key)}: test")
    a1.set_yscale("log")
    a1.set_xlabel("SGD steps")
    a1.set_ylabel("loss gap between runs on S and S'")
    a1.set_title(f"{label(model)}: stability gap")
    a1.legend(fontsize=8)
    a2.set_xlabel("SGD steps")
    a2.set_ylabel("accuracy")
    a2.set_ylim(0, 1.02)
    a2.set_title("what it learned")
    a2.legend(fontsize=8)
    return finish(fig, profile)
