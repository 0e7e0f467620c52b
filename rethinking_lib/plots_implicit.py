"""Figures of the implicit-regularization chapter (SGD's min-norm limit, exact kernel interpolation)."""

from __future__ import annotations

from .plots_style import PAPER_STYLE, color, figure, finish


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


def kernel_ridge(rows, profile: str | None = None, reported: float | None = None):
    """Test error and solution norm vs ridge (0 = exact interpolation, drawn at the left edge)."""
    fig, (ax1, ax2) = figure(2, width=10, height=3.4)
    lam = [r["ridge"] for r in rows]
    pos = [min(x for x in lam if x > 0) / 10 if x == 0 else x for x in lam]
    ax1.plot(pos, [100 * r["test_error"] for r in rows], "-o", color=color("true_labels"), label="measured")
    if reported is not None:
        ax1.axhline(reported, color=color("true_labels"), **{k: v for k, v in PAPER_STYLE.items() if k != "marker"},
                    label=f"reported, full MNIST: {reported}%")
    ax2.plot(pos, [r["norm"] for r in rows], "-o", color="#333333")
    for ax, t in ((ax1, "test error (%)"), (ax2, r"$\sqrt{\mathrm{tr}(\alpha^T K \alpha)}$")):
        ax.set(xscale="log", xlabel="ridge λ (leftmost point: λ = 0, exact interpolation)", title=t)
    ax1.legend()
    return finish(fig, profile)


def norm_vs_error(points, profile: str | None = None):
    """Each solution as (norm, test error): a smaller norm does not mean a smaller error.

    ``points``: dicts with ``label``, ``norm``, ``test_error`` and a colour as ``key`` (a condition / model
    name, see ``plots_style.COLORS``) or ``color``; ``kernels.norm_points`` builds them from a kernel result.
    """
    fig, ax = figure(width=6.4, height=4.0)
    offsets = [(6, 6), (6, 6), (-10, -14), (8, 10), (6, -12), (24, 34)]  # staggered so nearby labels do not collide
    for i, p in enumerate(points):
        ax.scatter(p["norm"], 100 * p["test_error"], s=40, color=p.get("color") or color(p.get("key", "")), zorder=3)
        ax.annotate(p["label"], (p["norm"], 100 * p["test_error"]), textcoords="offset points", fontsize=8,
                    xytext=p.get("offset", offsets[i % len(offsets)]),
                    arrowprops={"arrowstyle": "-", "lw": 0.5, "color": "#999999"})
    ax.set(xscale="log", xlabel=r"norm of the solution $\sqrt{\mathrm{tr}(\alpha^T K \alpha)}$", ylabel="test error (%)")
    from matplotlib.ticker import NullFormatter

    ax.xaxis.set_minor_formatter(NullFormatter())
    return finish(fig, profile)


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
