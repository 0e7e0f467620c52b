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
    offsets = [(6, 6), (6, 6), (-10, -14), (8, 10), (6, -12), (24, 34)]  # staggered so nearby labels do not collide
    for i, p in enumerate(points):
        ax.scatter(p["norm"], 100 * p["test_error"], s=40, color=p.get("color", "#333333"), zorder=3)
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


# --- chapter: PAC learning, Rademacher complexity, uniform stability ---


def pac_errors(rows: list[dict], profile: str, reported: dict | None = None):
    """Training error and held-out error (Hoeffding interval) per labeling; reported values as hollow markers."""
    fig, ax = figure(width=5.6, height=3.4)
    for j, r in enumerate(rows):
        key = r["condition"]
        lo, hi = r["test_error_ci"]
        ax.bar(j - 0.18, r["train_error"], 0.34, color=color(key), alpha=0.45)
        ax.bar(j + 0.18, r["test_error"], 0.34, color=color(key), yerr=[[r["test_error"] - lo], [hi - r["test_error"]]],
               capsize=4)
        if reported and key in reported:
            ax.plot([j - 0.18, j + 0.18], reported[key], color=color(key), linestyle="none", marker="o",
                    markerfacecolor="none", markersize=8)
    ax.set_xticks(range(len(rows)), [f"{label(r['model'])}\n{label(r['condition'])}" for r in rows])
    ax.set_ylabel("error")
    ax.set_ylim(0, 1)
    ax.set_title(r"left: training error $\hat R$, right: test error (Hoeffding 95%)")
    if reported:
        ax.plot([], [], "o", color="#555555", markerfacecolor="none", label="reported (CIFAR-10)")
        ax.legend(loc="upper left")
    return finish(fig, profile)


def _bound_axes(ax, grid: dict, j: int, marks: list[dict]):
    ns = grid["n"]
    ax.loglog(ns, grid["finite_class"][j], color="#8c564b", label=r"finite class $(\ln|H| + \ln\frac{1}{\delta})/n$")
    ax.loglog(ns, grid["vc"][j], color="#1f77b4", label="VC, $d = W L \\log_2 W$")
    ax.axhline(1, color="#333333", linewidth=1, linestyle=":")
    ax.text(ns[0], 1.15, "vacuous above 1", fontsize=8, color="#333333")
    for m in marks:
        ax.axvline(m["n"], color=color(m.get("key", "")), linewidth=1, linestyle="--")
        ax.text(m["n"], ax.get_ylim()[0] * 3 if ax.get_ylim()[0] > 0 else 1e-3, m["text"], fontsize=8, rotation=90,
                va="bottom", ha="right", color=color(m.get("key", "")))
    ax.set_xlabel("sample size n")
    ax.set_ylabel("bound on R(h)")
    ax.set_ylim(1e-3, 1e6)
    ax.legend(loc="upper right")


def pac_bounds(grid: dict, marks: list[dict], profile: str, index: int | None = None, title: str | None = None):
    """The finite-class and VC bounds against n for the parameter count ``grid['n_params'][index]``."""
    j = len(grid["n_params"]) // 2 if index is None else index
    fig, ax = figure(width=6.4, height=3.8)
    _bound_axes(ax, grid, j, marks)
    ax.set_title(title or f"W = {grid['n_params'][j]:,} parameters")
    return finish(fig, profile)


def bound_widget(grid: dict, marks: list[dict], profile: str, selected: int | None = None):
    """A slider over the parameter count W that flips between precomputed bound-vs-n figures.

    The slider and the picture are linked in the browser (``jslink``), so the widget also works in the static
    HTML book, without a kernel. Without ipywidgets it returns the static figure for ``selected``.
    """
    import io

    j0 = len(grid["n_params"]) // 2 if selected is None else selected
    try:
        import ipywidgets as w
    except ImportError:  # pragma: no cover - ipywidgets is in requirements.txt
        return pac_bounds(grid, marks, profile, j0)
    images = []
    for j, cap in enumerate(grid["n_params"]):
        fig = pac_bounds(grid, marks, profile, j, title=f"W = {cap:,} parameters")
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=72)
        plt.close(fig)
        images.append(w.Image(value=buf.getvalue(), format="png", layout=w.Layout(width="560px")))
    slider = w.SelectionSlider(options=[f"{c:,.0f}" for c in grid["n_params"]], index=j0,
                               description="W (params)", continuous_update=True, layout=w.Layout(width="560px"),
                               style={"description_width": "initial"})
    stack = w.Stack(images, selected_index=j0)
    w.jslink((slider, "index"), (stack, "selected_index"))
    return w.VBox([slider, stack])


def rademacher_sweeps(result: dict, profile: str):
    """Estimated R_hat_n against n (left) and against the hidden width (right), with standard errors."""
    fig, (a1, a2) = figure(2, width=10, height=3.6)
    sw = result["sweep_n"]
    names = [k for k in sw if k != "n"]
    for name in names:
        key = "linear" if name.startswith("linear") else name
        est = [e["estimate"] for e in sw[name]]
        err = [0 if e["stderr"] != e["stderr"] else e["stderr"] for e in sw[name]]
        lab = {"linear": "linear classifier (trained)", "linear_norm": r"linear, $\|w\| \leq 1/\max\|x_i\|$ (exact)"}.get(
            name, label(name) + " (trained)")
        a1.errorbar(sw["n"], est, yerr=err, marker="o", capsize=3, color=color(key),
                    linestyle="--" if name == "linear_norm" else "-", label=lab)
    a1.set_xscale("log")
    a1.set_xticks(sw["n"], [str(m) for m in sw["n"]])
    a1.minorticks_off()
    a1.set_xlabel("sample size n")
    a1.set_ylabel(r"$\hat{\mathfrak{R}}_n(H)$ (Monte Carlo)")
    a1.set_ylim(-0.02, 1.05)
    a1.legend(loc="center left")
    ws = result["sweep_width"]
    hidden = [round(512 * x) for x in ws["widths"]]
    a2.errorbar(hidden, [e["estimate"] for e in ws["estimates"]],
                yerr=[0 if e["stderr"] != e["stderr"] else e["stderr"] for e in ws["estimates"]],
                marker="o", capsize=3, color=color(ws["model"]))
    a2.set_xscale("log", base=2)
    a2.set_xlabel(f"hidden units ({label(ws['model'])} family), n = {ws['n']}")
    a2.set_ylim(-0.02, 1.05)
    a2.set_title("width")
    a1.set_title("sample size")
    return finish(fig, profile, "networks: lower bounds found by training")


def stability_convex(convex: dict, profile: str):
    """Logistic regression: the measured stability gap and parameter divergence against steps, with the HRS bound."""
    fig, ax = figure(width=6.4, height=3.8)
    steps = convex["steps"]
    ax.plot(steps, convex["bound"], color="#333333", linestyle="--", label=r"HRS bound $2L^2\sum_t\alpha_t/n$")
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


# --- chapter: randomization tests / regularization (Figures 1a, 1b, 1c, 2b) ---


def fig1a(res: dict, profile: str):
    """Figure 1a: training loss per step per condition (ours), and steps to fit relative to true labels vs the paper."""
    fig, (a1, a2) = figure(2, width=10)
    curves = res["curves"]
    for cond, c in curves.items():
        steps = [(i + 1) * c["every"] for i in range(len(c["loss"]))]
        a1.plot(steps, c["loss"], color=color(cond), label=label(cond), lw=1.2)
    a1.axhline(2.302585, color="#999999", ls=":", lw=1)
    a1.set_xlabel("step")
    a1.set_ylabel("average training loss")
    a1.set_title(f"{label(res['model'])}: loss until 100% train accuracy")
    a1.legend()
    conds = list(curves)
    base = curves["true_labels"]["steps_to_100"] if "true_labels" in curves else None
    paper = res["paper_steps_to_zero_loss"]
    xs = range(len(conds))
    if base:
        a2.bar(xs, [(curves[c]["steps_to_100"] or 0) / base for c in conds], color=[color(c) for c in conds],
               alpha=0.8, label="ours (steps to 100% train)")
        a2.plot(xs, [paper[c] / paper["true_labels"] for c in conds], ls="none", marker="o", markerfacecolor="none",
                color="k", ms=8, label="paper, reported (read off Fig. 1a)")
    a2.set_xticks(list(xs), [label(c) for c in conds], rotation=25, ha="right")
    a2.set_ylabel("steps to fit / steps for true labels")
    a2.set_title("time to fit, relative to true labels")
    a2.legend()
    return finish(fig, profile)


def fig1bc(res: dict, profile: str):
    """Figures 1b and 1c: relative time to overfit and test error against label corruption, paper's values hollow."""
    fig, (a1, a2) = figure(2, width=10)
    paper = res["paper"]
    for m, rows in res["models"].items():
        ps = [r["p"] for r in rows]
        a1.plot(ps, [r["relative_time"] for r in rows], color=color(m), marker="s", label=label(m))
        a2.plot(ps, [r["test_error"] for r in rows], color=color(m), marker="s", label=label(m))
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
    return finish(fig, profile)


def fig2b(res: dict, profile: str):
    """Figure 2b: train and test accuracy over training, cumulative-best test accuracy shaded."""
    fig, ax = figure(1, width=7)
    for m, c in res["curves"].items():
        ax.fill_between(c["epoch"], 0, c["best_test_acc"], color=color(m), alpha=0.12)
        ax.plot(c["epoch"], c["train_acc"], color=color(m), ls="--", lw=1.2, label=f"{label(m)}, train")
        ax.plot(c["epoch"], c["test_acc"], color=color(m), label=f"{label(m)}, test")
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy")
    ax.set_ylim(0, 1.02)
    ax.set_title("no explicit regularizer; shaded: best test accuracy so far")
    ax.legend(loc="lower right")
    return finish(fig, profile)


def corruption_widget(images, clean, labels_by_p: dict, selected: int = 0):
    """A slider over the label-corruption level p flipping between precomputed image grids (titles: labels).

    Linked in the browser (``jslink``) so it also works in the static HTML book without a kernel.
    """
    import io

    import ipywidgets as w

    pages = []
    for p, labels in labels_by_p.items():
        titles = [f"{y}" if y == c else f"{y} (was {c})" for y, c in zip(labels, clean, strict=True)]
        changed = sum(y != c for y, c in zip(labels, clean, strict=True))
        fig = image_grid(images, titles, ncols=8, suptitle=f"p = {p:.1f}: {changed} of {len(clean)} labels changed")
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=72)
        plt.close(fig)
        pages.append(w.Image(value=buf.getvalue(), format="png", layout=w.Layout(width="620px")))
    slider = w.SelectionSlider(options=[f"{p:.1f}" for p in labels_by_p], index=selected, description="p",
                               continuous_update=True, layout=w.Layout(width="620px"))
    stack = w.Stack(pages, selected_index=selected)
    w.jslink((slider, "index"), (stack, "selected_index"))
    return w.VBox([slider, stack])
