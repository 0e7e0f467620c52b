"""Chapter 1's figures: training vs held-out error, the PAC / VC bounds against m (and their widget)."""

from __future__ import annotations

import matplotlib.pyplot as plt

from .style import color, figure, finish, label


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
