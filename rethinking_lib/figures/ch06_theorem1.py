"""Figures of the expressivity chapter (Theorem 1's construction and its numerics)."""

from __future__ import annotations

from .style import color, figure, finish


def theorem1_1d(x, y, net, profile: str | None = None):
    """1-D data, the constructed c(x) between and beyond the points, and the interleaved thresholds b_j."""
    import numpy as np
    import torch

    fig, ax = figure(width=7.0, height=3.4)
    xs = np.asarray(x, dtype=float).ravel()
    a = float(net.a.detach()[0])
    b = net.b.detach().cpu().numpy() / a  # thresholds in x units (z = a x)
    grid = np.linspace(min(xs.min(), b.min()) - 0.3, xs.max() + 0.3, 2000)
    with torch.no_grad():
        c = net(torch.as_tensor(grid, dtype=net.a.dtype)[:, None]).cpu().numpy()
    ax.plot(grid, c, color="#333333", lw=1.4, label="c(x), 2n + d weights")
    for j, bj in enumerate(b):
        ax.axvline(bj, color=color("random_labels"), lw=0.8, ls=":", label="thresholds $b_j$" if j == 0 else None)
    ax.scatter(xs, np.asarray(y, dtype=float), color=color("true_labels"), zorder=3, label="data $(x_i, y_i)$")
    ax.set(xlabel="x", ylabel="y")
    ax.legend(loc="best")
    return finish(fig, profile)


def theorem1_2d(X, y, net, profile: str | None = None):
    """2-D points coloured by label, the direction a, and their projections z_i = <a, x_i> on a line with the b_j."""
    import numpy as np

    X = np.asarray(X, dtype=float)
    y = np.asarray(y)
    a = net.a.detach().cpu().numpy()
    b = net.b.detach().cpu().numpy()
    z = X @ a
    fig, (ax1, ax2) = figure(2, width=9.5, height=3.8)
    ax1.scatter(X[:, 0], X[:, 1], c=y, cmap="tab10", vmin=0, vmax=9, s=28, zorder=3)
    u = a / np.linalg.norm(a)
    c0 = X.mean(0)
    L = 0.45 * float(np.ptp(X, axis=0).min())
    ax1.annotate("", xy=tuple(c0 + L * u), xytext=tuple(c0), arrowprops={"arrowstyle": "->", "lw": 1.8, "color": "#333333"})
    ax1.text(*(c0 + 1.12 * L * u), "a", fontsize=12)
    ax1.set(xlabel="$x_1$", ylabel="$x_2$", title="points (colour = label) and direction a", aspect="equal")
    ax2.scatter(z, np.zeros_like(z), c=y, cmap="tab10", vmin=0, vmax=9, s=28, zorder=3)
    ax2.vlines(b, -0.5, 0.5, color=color("random_labels"), lw=0.8, label="$b_j$")
    ax2.set(ylim=(-1, 1), yticks=[], xlabel=r"$z = \langle a, x \rangle$", title=r"$b_1 < z_{(1)} < b_2 < \dots < b_n < z_{(n)}$")
    ax2.legend(loc="upper left", title=r"points: $z_i=\langle a,x_i\rangle$")
    return finish(fig, profile)


def triangular_matrix(A, profile: str | None = None):
    """A_ij = max(z_(i) - b_j, 0): lower triangular with a positive diagonal (log colour scale; white = 0)."""
    import numpy as np
    from matplotlib.colors import LogNorm

    A = np.asarray(A, dtype=float)
    fig, ax = figure(width=4.8, height=4.2)
    masked = np.ma.masked_where(A <= 0, A)
    im = ax.imshow(masked, cmap="viridis", norm=LogNorm(vmin=max(masked.min(), 1e-6), vmax=masked.max()))
    fig.colorbar(im, ax=ax, shrink=0.8, label="$A_{ij}$ (white: 0)")
    ax.set(xlabel="j (threshold $b_j$)", ylabel="i (sorted point $z_{(i)}$)", title="$A_{ij} = \\max(z_{(i)} - b_j, 0)$")
    ax.grid(False)
    return finish(fig, profile)


def theorem1_conditioning(rows, profile: str | None = None):
    """Max fit error, max |w| and the smallest relative gap vs n, per dtype and threshold placement."""
    import numpy as np

    fig, axes = figure(3, width=12.5, height=3.6)
    styles = {"float64": "-", "float32": "--"}
    for (dt, frac), grp in _groupby(rows, ("dtype", "frac")).items():
        grp = [r for r in grp if r.get("max_fit_error") is not None]
        if not grp:
            continue
        n = [r["n"] for r in grp]
        col = color("true_labels") if frac < 0.5 else color("random_labels")
        lab = f"{dt}, b {'near $z_{(j-1)}$' if frac < 0.5 else 'at midpoints'}"
        axes[0].plot(n, [max(r["max_fit_error"], 1e-17) for r in grp], styles.get(dt, "-"), marker="o", color=col, label=lab)
        axes[1].plot(n, [r["max_abs_w"] for r in grp], styles.get(dt, "-"), marker="o", color=col, label=lab)
        if dt == "float64" and frac < 0.5:
            axes[2].plot(n, [r["min_gap_rel"] for r in grp], "-o", color="#333333", label="smallest gap / range")
            axes[2].plot(n, [r["mean_gap_rel"] for r in grp], "-s", color="#999999", label="mean gap / range")
            nn = np.array(n, dtype=float)
            axes[2].plot(nn, 1 / nn, ":", color="#999999", label="1/n")
            axes[2].plot(nn, 1 / nn ** 2, ":", color="#333333", label="1/n²")
    axes[0].axhline(0.5, color="#777777", lw=0.8, ls=":")
    axes[0].text(axes[0].get_xlim()[0], 0.6, "0.5: rounding breaks", fontsize=7, color="#777777")
    for ax, t in zip(axes, ("max |c(x_i) - y_i|", "max |w_j|", "gaps between sorted projections"), strict=True):
        ax.set(xscale="log", yscale="log", xlabel="n", title=t)
    axes[0].legend(fontsize=7)
    axes[2].legend(fontsize=7)
    return finish(fig, profile)


def theorem1_sgd(sgd: dict, profile: str | None = None):
    """The same architecture trained by Adam: random labels recovered (%) against the step, beside the
    constructed network's exact 100% and chance (10%)."""
    fig, ax = figure(width=6.4, height=3.4)
    ax.plot(sgd["history"]["step"], [100 * v for v in sgd["history"]["recovered"]], "-o", color=color("random_labels"),
            label=f"Adam, same {sgd['params']:,}-weight architecture")
    ax.axhline(100, color="#333333", ls=":", label="the constructed network (exact)")
    ax.axhline(10, color="#999999", ls="--", label="chance")
    ax.set(xlabel="step", ylabel="random labels recovered (%)", title=f"n = {sgd['n']} digits, random labels")
    ax.legend()
    return finish(fig, profile)


def _groupby(rows, keys):
    out: dict = {}
    for r in rows:
        out.setdefault(tuple(r.get(k) for k in keys), []).append(r)
    return out
