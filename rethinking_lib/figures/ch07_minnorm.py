"""Chapter 7's minimum-norm figure: SGD from zero converging to the pseudo-inverse solution."""

from __future__ import annotations

from .style import color, figure, finish


def minnorm_convergence(syn: dict, profile: str | None = None):
    """SGD from 0 vs from a random start: distance to the pseudo-inverse solution, and the off-row-space part."""
    fig, (ax1, ax2) = figure(2, width=10, height=3.6)
    runs = (("from_zero", "SGD from $w_0 = 0$", "true_labels"), ("from_random", "SGD from random $w_0$", "random_labels"))
    for key, lab, col in runs:
        h = syn[key]["history"]
        ax1.plot(h["epoch"], [max(d, 1e-17) for d in h["dist"]], color=color(col), label=lab)
        ax2.plot(h["epoch"], [max(v, 1e-17) for v in h["loss"]], color=color(col), label=lab)
    ax1.set(yscale="log", xlabel="epoch", ylabel=r"$\|w_t - X^+y\| / \|X^+y\|$", title="distance to the min-norm solution")
    ax2.set(yscale="log", xlabel="epoch", ylabel="training loss", title="both reach zero training loss")
    ax1.legend()
    return finish(fig, profile)
