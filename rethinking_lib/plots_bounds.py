"""Figures of the theory chapters: PAC / VC bounds, Rademacher complexity, uniform stability."""

from __future__ import annotations

import matplotlib.pyplot as plt

from .plots_style import color, figure, finish, label


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
