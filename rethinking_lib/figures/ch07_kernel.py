"""Chapter 7's kernel figures: test error against the ridge, RKHS norm against error."""

from __future__ import annotations

from .style import PAPER_STYLE, color, figure, finish


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
