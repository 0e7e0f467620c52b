"""Chapter 9's figures: where the labels sit in H-infinity's spectrum, predicted against measured training curves,
and the complexity beside the test error and the distance from initialization; each a seed mean with its spread."""

from __future__ import annotations

import numpy as np

from . import style


def _p_color(p: float) -> str:
    import matplotlib

    return matplotlib.colormaps["viridis"](0.1 + 0.8 * p)


def _by_p(runs: list[dict], key: str) -> dict[float, np.ndarray]:
    """Per p, the seeds' curves of ``key`` stacked (seeds x points)."""
    return {p: np.array([r[key] for r in runs if r["p"] == p], dtype=float) for p in sorted({r["p"] for r in runs})}


def _band(ax, x, curves: np.ndarray, **kw) -> None:
    """The seed mean as a line and mean +- one standard deviation as a band."""
    mean, sd = curves.mean(0), curves.std(0)
    ax.plot(x, mean, **kw)
    ax.fill_between(x, mean - sd, mean + sd, color=kw.get("color"), alpha=0.2, lw=0)


def label_projections(runs: list[dict], profile: str):
    """Arora et al.'s projections: the cumulative fraction of ||y||^2 on H-infinity's top eigenvectors, per p."""
    fig, ax = style.figure()
    for p, curves in _by_p(runs, "cumulative_energy").items():
        _band(ax, np.linspace(0, 1, curves.shape[1]), curves, color=_p_color(p), label=f"p = {p:g}")
    ax.plot([0, 1], [0, 1], color="#999999", lw=0.8, ls=":", label="labels spread evenly")
    ax.set(xlabel="top fraction of H∞'s eigenvectors (largest eigenvalue first)", ylabel="fraction of ‖y‖² on them",
           title="True labels sit on the top eigenvectors")
    ax.legend(fontsize=8)
    return style.finish(fig, profile, "mean ± sd over seeds")


def training_curves(runs: list[dict], profile: str):
    """The residual ||y - u(t)||^2 / n predicted from the spectrum (dashed) beside the network's (solid), per p."""
    fig, ax = style.figure()
    pred, meas = _by_p(runs, "predicted_curve"), _by_p(runs, "measured_curve")
    for p in pred:
        steps = np.arange(pred[p].shape[1])
        _band(ax, steps, meas[p], color=_p_color(p), label=f"p = {p:g}, network")
        ax.plot(steps, pred[p].mean(0), color=_p_color(p), ls="--", lw=1.2)
    ax.plot([], [], color="#555555", ls="--", label="predicted from H∞ (dashed)")
    ax.set(yscale="log", xlabel="gradient-descent step t", ylabel="‖y − u(t)‖² / n", title="Predicted and measured training")
    ax.legend(fontsize=8)
    return style.finish(fig, profile, "mean ± sd over seeds")


def complexity_vs_p(by_p: list[dict], profile: str):
    """Complexity and bound, test error, and distance from initialization against p (error bars: sd over seeds)."""
    fig, axes = style.figure(3, width=12.6)
    ps = [r["p"] for r in by_p]

    def bar(ax, key, **kw):
        ax.errorbar(ps, [r[key] for r in by_p], yerr=[r[f"{key}_std"] for r in by_p], marker="o", capsize=3, **kw)

    bar(axes[0], "complexity", color=style.color("random_labels"), label="√(2 yᵀH∞⁻¹y / n)")
    bar(axes[0], "bound", color="#555555", ls="--", label="with the confidence term")
    axes[0].set(xlabel="label corruption p", title="Complexity, before training")
    axes[0].legend(fontsize=8)
    bar(axes[1], "test_error", color=style.color("true_labels"))
    axes[1].set(xlabel="label corruption p", ylabel="test error (clean test labels)", title="Measured test error")
    bar(axes[2], "distance", color="#555555")
    axes[2].set(xlabel="label corruption p", ylabel="‖W − W(0)‖_F", title="Distance from initialization")
    return style.finish(fig, profile, f"mean ± sd over {by_p[0]['seeds']} seeds")
