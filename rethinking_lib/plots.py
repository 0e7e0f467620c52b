"""One plotting style for every figure of the book.

Every chapter draws through these helpers so that figures look alike: the same size, fonts, palette per
condition / model, the paper's reported values drawn as hollow markers or dashed lines beside ours, and a
small caption line saying which profile produced the figure.
"""

from __future__ import annotations

import matplotlib.pyplot as plt

# A colour per randomization condition and per model, fixed across the whole book.
COLORS = {
    "true_labels": "#1f77b4", "random_labels": "#d62728", "shuffled_pixels": "#2ca02c",
    "random_pixels": "#ff7f0e", "gaussian": "#9467bd", "partial_labels": "#8c564b",
    "inception_small": "#1f77b4", "inception_small_nobn": "#17becf", "alexnet_small": "#ff7f0e",
    "mlp_1x512": "#2ca02c", "mlp_3x512": "#9467bd", "linear": "#7f7f7f",
}
LABELS = {
    "true_labels": "true labels", "random_labels": "random labels", "shuffled_pixels": "shuffled pixels",
    "random_pixels": "random pixels", "gaussian": "Gaussian", "partial_labels": "partially corrupted labels",
    "inception_small": "Inception", "inception_small_nobn": "Inception w/o BN", "alexnet_small": "AlexNet",
    "mlp_1x512": "MLP 1x512", "mlp_3x512": "MLP 3x512", "linear": "linear",
}
PAPER_STYLE = {"linestyle": "--", "marker": "o", "markerfacecolor": "none", "alpha": 0.8}

_RC = {
    "figure.figsize": (6.4, 4.0), "figure.dpi": 110, "savefig.dpi": 110, "font.size": 10,
    "axes.titlesize": 11, "axes.labelsize": 10, "axes.spines.top": False, "axes.spines.right": False,
    "axes.grid": True, "grid.alpha": 0.25, "legend.frameon": False, "legend.fontsize": 9,
    "lines.linewidth": 1.8, "lines.markersize": 5,
}


def style() -> None:
    """Apply the book's matplotlib style (called by every helper; cheap to call again)."""
    plt.rcParams.update(_RC)


def color(key: str) -> str:
    return COLORS.get(key, "#333333")


def label(key: str) -> str:
    return LABELS.get(key, key)


def figure(ncols: int = 1, nrows: int = 1, *, width: float | None = None, height: float | None = None, **kw):
    """A new figure in the book's style: ``fig, axes = figure(2)``."""
    style()
    w = width or (6.4 if ncols == 1 else 4.2 * ncols)
    h = height or 3.6 * nrows
    return plt.subplots(nrows, ncols, figsize=(w, h), **kw)


def caption(fig, profile: str, extra: str = "") -> None:
    """Small grey line under the figure: which profile produced it (and anything else worth saying)."""
    text = f"measured here, profile: {profile}" + (f"; {extra}" if extra else "")
    fig.text(0.99, 0.005, text, ha="right", va="bottom", fontsize=7, color="#777777")


def finish(fig, profile: str | None = None, extra: str = ""):
    """Tight layout plus the profile caption; returns the figure so a notebook cell displays it."""
    if profile:
        caption(fig, profile, extra)
    fig.tight_layout(rect=(0, 0.03 if profile else 0, 1, 1))
    return fig


def paper_points(ax, x, y, key: str, **kw) -> None:
    """The paper's reported (or read-off-the-figure) values: hollow markers, dashed, same colour as ours."""
    ax.plot(x, y, color=color(key), **{**PAPER_STYLE, **kw})


def image_grid(images, titles=None, *, ncols: int = 8, cmap: str = "gray", scale: float = 1.1, suptitle: str | None = None):
    """A grid of images given as (N, C, H, W) or (N, H, W) arrays / tensors, each normalized to [0, 1]."""
    import numpy as np

    style()
    imgs = np.asarray(images.detach().cpu() if hasattr(images, "detach") else images, dtype=np.float32)
    if imgs.ndim == 4:
        imgs = imgs.transpose(0, 2, 3, 1)
        if imgs.shape[-1] == 1:
            imgs = imgs[..., 0]
    n = len(imgs)
    nrows = max(1, -(-n // ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(scale * ncols, scale * nrows + (0.4 if suptitle else 0)))
    for i, ax in enumerate(np.atleast_1d(axes).ravel()):
        ax.axis("off")
        if i < n:
            im = imgs[i]
            im = (im - im.min()) / max(1e-8, float(im.max() - im.min()))
            ax.imshow(im, cmap=cmap if im.ndim == 2 else None, interpolation="nearest")
            if titles is not None:
                ax.set_title(str(titles[i]), fontsize=8)
    if suptitle:
        fig.suptitle(suptitle, fontsize=10)
    fig.tight_layout()
    return fig


# --- chapter: expressivity (Theorem 1) and implicit regularization ---


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
    ax1.annotate("", xy=tuple(1.5 * u), xytext=(0, 0), arrowprops={"arrowstyle": "->", "lw": 1.5})
    ax1.text(*(1.6 * u), "a", fontsize=11)
    ax1.set(xlabel="$x_1$", ylabel="$x_2$", title="points (colour = label) and direction a", aspect="equal")
    ax2.scatter(z, np.zeros_like(z), c=y, cmap="tab10", vmin=0, vmax=9, s=28, zorder=3, label=r"$z_i=\langle a,x_i\rangle$")
    ax2.vlines(b, -0.5, 0.5, color=color("random_labels"), lw=0.8, label="$b_j$")
    ax2.set(ylim=(-1, 1), yticks=[], xlabel=r"$z = \langle a, x \rangle$", title=r"$b_1 < z_{(1)} < b_2 < \dots < b_n < z_{(n)}$")
    ax2.legend(loc="upper left")
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


def _groupby(rows, keys):
    out: dict = {}
    for r in rows:
        out.setdefault(tuple(r.get(k) for k in keys), []).append(r)
    return out


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
    """Each solution as (norm, test error): a smaller norm does not mean a smaller error."""
    fig, ax = figure(width=6.4, height=4.0)
    for p in points:
        ax.scatter(p["norm"], 100 * p["test_error"], s=40, color=p.get("color", "#333333"), zorder=3)
        ax.annotate(p["label"], (p["norm"], 100 * p["test_error"]), textcoords="offset points", xytext=(6, 4), fontsize=8)
    ax.set(xscale="log", xlabel=r"norm of the solution $\sqrt{\mathrm{tr}(\alpha^T K \alpha)}$", ylabel="test error (%)")
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
