"""Chapter 7's double-descent figures: test error through the interpolation threshold."""

from __future__ import annotations

from . import style
from .style import color, figure, finish


def double_descent(sweep, rank: int, ridge: float, profile: str | None = None):
    """Linear least squares on raw pixels vs n: the min-norm fit peaks at n ~ rank(X); a small ridge removes the peak."""
    fig, ax = figure(width=6.4, height=3.8)
    n = [r["n"] for r in sweep]
    ax.plot(n, [100 * r["test_error"] for r in sweep], "-o", color=color("linear"), label="min-norm least squares (ridge 0)")
    ax.plot(n, [100 * r["test_error_ridge"] for r in sweep], "-s", color=color("true_labels"), label=f"ridge {ridge:g}")
    ax.axvline(rank, color="#999999", ls=":", label=f"rank of the pixel matrix ≈ {rank}")
    ax.set(xscale="log", xlabel="training points n", ylabel="test error (%)", title="linear kernel on pixels")
    ax.legend()
    return finish(fig, profile)


def double_descent_features(rows: list[dict], n_train: int, ridge: float, profile: str):
    """Test error against the number of random features, min-norm and ridge, clean and noisy labels."""
    fig, ax = style.figure()
    D = [r["features"] for r in rows]
    for labels, key in (("clean", "true_labels"), ("noisy", "random_labels")):
        ax.plot(D, [r[f"{labels}_minnorm"] for r in rows], marker="o", color=style.color(key),
                label=f"min-norm, {labels} labels")
        ax.plot(D, [r[f"{labels}_ridge"] for r in rows], ls="--", color=style.color(key),
                label=f"ridge {ridge:g}, {labels} labels")
    ax.axvline(n_train, color="#999999", lw=0.8, ls=":", label=f"D = n = {n_train:,}")
    ax.set(xscale="log", xlabel="number of random features D", ylabel="test error", title="Double descent in D")
    ax.legend(fontsize=8)
    return style.finish(fig, profile)
